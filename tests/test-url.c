/* test-url.c: URL joining against RFC 3986's examples and the links status pages carry. */
#include "config.h"

#include <stdlib.h>

#include "unit.h"
#include "url.h"

static void join(const char *base, const char *ref, const char *want)
{
	char *got = url_join(base, ref);
	CHECK_STR(got, want);
	free(got);
}

static void host(const char *url, const char *want)
{
	char *got = url_host(url);
	CHECK_STR(got, want);
	free(got);
}

int main(void)
{
	const char *b = "http://a/b/c/d;p?q";
	/* RFC 3986 5.4.1 normal examples */
	join(b, "g", "http://a/b/c/g");
	join(b, "./g", "http://a/b/c/g");
	join(b, "g/", "http://a/b/c/g/");
	join(b, "/g", "http://a/g");
	join(b, "//g", "http://g");
	join(b, "?y", "http://a/b/c/d;p?y");
	join(b, "g?y", "http://a/b/c/g?y");
	join(b, "#s", "http://a/b/c/d;p?q#s");
	join(b, "g#s", "http://a/b/c/g#s");
	join(b, "", "http://a/b/c/d;p?q");
	join(b, ".", "http://a/b/c/");
	join(b, "./", "http://a/b/c/");
	join(b, "..", "http://a/b/");
	join(b, "../", "http://a/b/");
	join(b, "../g", "http://a/b/g");
	join(b, "../..", "http://a/");
	join(b, "../../g", "http://a/g");
	/* 5.4.2 abnormal examples */
	join(b, "../../../g", "http://a/g");
	join(b, "/./g", "http://a/g");
	join(b, "/../g", "http://a/g");
	join(b, "g.", "http://a/b/c/g.");
	join(b, "..g", "http://a/b/c/..g");
	/* status pages */
	join("https://www.githubstatus.com", "/incidents/2fxbmpbjz0dq", "https://www.githubstatus.com/incidents/2fxbmpbjz0dq");
	join("https://www.githubstatus.com/", "history.atom", "https://www.githubstatus.com/history.atom");
	join("https://status.example.com/history?page=2", "/incidents/x", "https://status.example.com/incidents/x");
	join("https://status.example.com", "https://other.example.org/feed", "https://other.example.org/feed");
	join("https://status.example.com", " /feed.rss\n", "https://status.example.com/feed.rss");
	join("not a url", "/x", NULL);
	host("https://Status.Example.com:8443/x", "status.example.com");
	host("http://user@127.0.0.1:8080", "127.0.0.1");
	host("http://[::1]:80/x", "[::1]");
	host("/relative", NULL);
	char *code = url_incident_code("https://www.githubstatus.com/incidents/2fxbmpbjz0dq?u=1");
	CHECK_STR(code, "2fxbmpbjz0dq");
	free(code);
	char *o = url_origin("https://status.example.com/a/b");
	CHECK_STR(o, "https://status.example.com");
	free(o);
	CHECK(url_is_http("HTTPS://x") && !url_is_http("file:///etc/passwd"), "http only");
	return unit_summary();
}
