/* test-fetch.c: the politeness arithmetic, the content checks, and the fetch module (GETs and
 * webhook POSTs) against tests/httpd.py, a real HTTP server on 127.0.0.1 that this program starts
 * and stops. The server watches its standard input, so it goes away with this process even after a
 * crash. Exits 77 (skipped) when python3 is missing. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fetch.h"
#include "normalize.h"
#include "politeness.h"
#include "util.h"
#include "unit.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

extern char **environ;

#define NOW_2025 1736942400 /* 2025-01-15T12:00:00Z, the fixed clock */
#define CONTACT "https://example.org/starchive-test"

static pid_t server_pid = -1;
static int server_in = -1;
static int port_a, port_b; /* two ports: two "hosts" */
static char log_path[] = "/tmp/starchive-fetch-log-XXXXXX";
static char hook_path[] = "/tmp/starchive-fetch-hooks-XXXXXX"; /* the webhook receiver's JSON lines */

/* ---- the server ---- */

static int server_start(void)
{
	int in[2], out[2];
	int fd = mkstemp(log_path), hfd = mkstemp(hook_path);
	if (fd < 0 || hfd < 0 || pipe(in) < 0 || pipe(out) < 0) {
		perror("test-fetch: set-up");
		return -1;
	}
	close(fd);
	close(hfd);
	char *script = xasprintf("%s/tests/httpd.py", TOP_SRCDIR);
	char *root = xasprintf("%s/fixtures", TOP_SRCDIR);
	const char *argv[] = { "python3", script, "--root", root, "--ports", "2", "--log", log_path,
			       "--hook-log", hook_path, "--lifetime", "120", "--watch-stdin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	int rc = posix_spawnp(&server_pid, "python3", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(script);
	free(root);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		fprintf(stderr, "test-fetch: cannot run python3: %s\n", strerror(rc));
		server_pid = -1;
		close(in[1]);
		close(out[0]);
		return rc == ENOENT ? 77 : -1;
	}
	server_in = in[1];
	char line[128];
	size_t len = 0;
	while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
		struct pollfd p = { out[0], POLLIN, 0 };
		if (poll(&p, 1, 15000) <= 0)
			break;
		ssize_t r = read(out[0], line + len, sizeof line - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	line[len] = '\0';
	close(out[0]);
	if (sscanf(line, "PORTS %d %d", &port_a, &port_b) != 2) {
		fprintf(stderr, "test-fetch: the server did not start (said '%s')\n", line);
		return -1;
	}
	return 0;
}

static void server_stop(void)
{
	if (server_in >= 0)
		close(server_in); /* the server exits when its input closes */
	server_in = -1;
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
	unlink(log_path);
	unlink(hook_path);
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	int port = 0;
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

/* The value of key in the last log line for path, or NULL; caller frees. */
static char *log_value(const char *path, const char *key)
{
	struct buf b = BUF_INIT;
	char *want = xasprintf("\tpath=%s\t", path), *k = xasprintf("\t%s=", key), *val = NULL;
	if (buf_read_file(&b, log_path, NULL) == 0 && b.data) {
		for (char *line = b.data; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			char *v;
			if (strstr(line, want) && (v = strstr(line, k))) {
				v += strlen(k);
				free(val);
				val = xstrndup(v, strcspn(v, "\t"));
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&b);
	free(want);
	free(k);
	return val;
}

/* How many log lines have a path starting with prefix. */
static int log_count(const char *prefix)
{
	struct buf b = BUF_INIT;
	char *want = xasprintf("\tpath=%s", prefix);
	int n = 0;
	if (buf_read_file(&b, log_path, NULL) == 0 && b.data)
		for (const char *p = b.data; (p = strstr(p, want)); p++)
			n++;
	buf_release(&b);
	free(want);
	return n;
}

static char *url_a(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port_a, path);
}

static char *url_b(const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", port_b, path);
}

/* Time bounds stretch under valgrind. */
static int64_t slack = 1;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_opts(struct fetch_opts *o)
{
	fetch_opts_init(o);
	o->jobs = 8;
	o->contact = CONTACT;
	o->has_now = 1;
	o->now = NOW_2025;
	o->limits.connect_timeout_ms = 2000;
	o->limits.timeout_ms = 4000;
	o->limits.low_speed_bytes = 100;
	o->limits.low_speed_secs = 1;
	o->limits.max_body = (size_t)1 << 20;
}

/* One request, for the flows that go step by step. */
static void fetch1(const struct fetch_request *rq, struct fetch_result *res)
{
	struct fetch_opts o;
	test_opts(&o);
	char *cause = NULL;
	CHECK(fetch_run(rq, res, 1, &o, &cause) == 0, "fetch_run: %s", cause ? cause : "?");
	free(cause);
}

static char *file_text(const char *rel, size_t *len)
{
	struct buf b = BUF_INIT;
	char *path = xasprintf("%s/fixtures/%s", TOP_SRCDIR, rel);
	if (buf_read_file(&b, path, NULL) < 0)
		CHECK(0, "cannot read %s", path);
	free(path);
	*len = b.len;
	return b.data ? buf_detach(&b) : xstrdup("");
}

/* ---- pure parts ---- */

static void test_politeness(void)
{
	struct { const char *v; int64_t want; } ra[] = {
		{ "120", 120 },
		{ "  0 ", 0 },
		{ "Wed, 15 Jan 2025 12:01:00 GMT", 60 },
		{ "Wednesday, 15-Jan-25 12:01:00 GMT", 60 },
		{ "Wed Jan 15 12:01:00 2025", 60 },
		{ "Wed Jan  1 12:00:00 2025", 0 },          /* in the past */
		{ "99999999999999999999999", (int64_t)1 << 40 }, /* saturates */
		{ "soon", -1 },
		{ "", -1 },
		{ "-5", -1 },
		{ "1.5", -1 },
		{ "Wed, 32 Jan 2025 12:01:00 GMT", -1 },
		{ "Wednesday, 31-Feb-25 12:01:00 GMT", -1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ra); i++) {
		int64_t d = -7;
		char *cause = NULL;
		int rc = retry_after_parse(ra[i].v, NOW_2025, &d, &cause);
		if (ra[i].want < 0)
			CHECK(rc < 0 && cause, "retry-after '%s' should fail, got %lld", ra[i].v, (long long)d);
		else
			CHECK(rc == 0 && d == ra[i].want, "retry-after '%s': want %lld, got %lld (%s)", ra[i].v,
			      (long long)ra[i].want, (long long)d, cause ? cause : "");
		free(cause);
	}

	struct polite_policy p;
	polite_policy_init(&p);
	CHECK(polite_backoff(&p, 0, 12345) == 0, "no failures, no backoff");
	CHECK(polite_backoff(&p, 1, 0) == 300, "first failure, low jitter: %lld", (long long)polite_backoff(&p, 1, 0));
	int64_t hi = polite_backoff(&p, 1, UINT32_MAX);
	CHECK(hi >= 599 && hi <= 600, "first failure, high jitter: %lld", (long long)hi);
	CHECK(polite_backoff(&p, 3, 0) == 1200, "third failure: %lld", (long long)polite_backoff(&p, 3, 0));
	CHECK(polite_backoff(&p, 20, 0) == 43200, "capped, low jitter");
	CHECK(polite_backoff(&p, 4000000000u, UINT32_MAX) <= 86400, "no overflow");
	int64_t prev = 0;
	for (unsigned f = 1; f < 12; f++) {
		int64_t d = polite_backoff(&p, f, 0x80000000u);
		CHECK(d >= prev, "backoff grows: %u -> %lld", f, (long long)d);
		prev = d;
	}

	struct polite_state s = { 0, 0 };
	CHECK(polite_may_fetch(&s, NOW_2025, 0), "fresh state may fetch");
	polite_record(&s, &p, NOW_2025, 1, -1, 0);
	CHECK(s.failures == 0 && s.next_allowed == NOW_2025 + 300, "success waits the interval");
	CHECK(!polite_may_fetch(&s, NOW_2025 + 299, 0), "interval holds");
	CHECK(polite_may_fetch(&s, NOW_2025 + 299, 1), "force ignores the interval");
	CHECK(polite_may_fetch(&s, NOW_2025 + 300, 0), "interval over");
	for (int i = 0; i < 3; i++)
		polite_record(&s, &p, NOW_2025, 0, -1, 0);
	CHECK(s.failures == 3 && s.next_allowed == NOW_2025 + 1200, "three failures: %u, +%lld", s.failures,
	      (long long)(s.next_allowed - NOW_2025));
	polite_record(&s, &p, NOW_2025, 0, 7200, 0);
	CHECK(s.failures == 4 && s.next_allowed == NOW_2025 + 7200, "retry-after beyond the backoff");
	polite_record(&s, &p, NOW_2025, 0, (int64_t)1 << 40, 0);
	CHECK(s.next_allowed == NOW_2025 + 86400, "retry-after capped");
	CHECK(polite_may_fetch(&s, NOW_2025, 1), "force ignores the backoff");
	polite_record(&s, &p, NOW_2025, 1, -1, 0);
	CHECK(s.failures == 0 && s.next_allowed == NOW_2025 + 300, "success clears failures");
}

static void test_check_kind(void)
{
	struct {
		const char *ctype, *body;
		size_t len; /* 0: strlen */
		enum fetch_kind want;
		const char *err; /* NULL: passes; else a fragment of the cause */
	} v[] = {
		{ "application/json; charset=utf-8", "{\"page\":{}}\n", 0, FETCH_KIND_JSON, NULL },
		{ NULL, "  [1,2]  ", 0, FETCH_KIND_JSON, NULL },
		{ "text/plain", "{\"a\":1}", 0, FETCH_KIND_JSON, NULL },
		{ "text/html", "{\"a\":1}", 0, FETCH_KIND_JSON, NULL }, /* mislabelled: the shape decides */
		{ "text/html; charset=UTF-8", "<!DOCTYPE html>\n<html><head><title>Just a moment...</title>", 0,
		  FETCH_KIND_JSON, "expected JSON but got HTML (content type 'text/html; charset=UTF-8')" },
		{ NULL, "\n<html>\r\n<head><title>502 Bad Gateway</title></head>", 0, FETCH_KIND_JSON,
		  "expected JSON but got HTML" },
		{ "application/json", "{\"incidents\":[{\"id\":\"x\"", 0, FETCH_KIND_JSON, "JSON body looks truncated" },
		{ "application/json", "", 0, FETCH_KIND_JSON, "expected JSON but got an empty body" },
		{ "application/json", " \r\n ", 0, FETCH_KIND_JSON, "got an empty body" },
		{ "image/png", "{}", 0, FETCH_KIND_JSON, "expected JSON but got content type 'image/png'" },
		{ "application/json", "\xef\xbb\xbf{\"a\":1}", 0, FETCH_KIND_JSON, NULL },
		{ "application/json", "\xff\xfe{\0}\0\n\0", 8, FETCH_KIND_JSON, NULL },     /* UTF-16LE */
		{ "application/json", "\xfe\xff\0[\0]", 6, FETCH_KIND_JSON, NULL },         /* UTF-16BE */
		{ "application/octet-stream", "\x1f\x8b\x08\0\0\0", 6, FETCH_KIND_JSON, "binary data" },
		{ "application/json", "Service Unavailable", 0, FETCH_KIND_JSON, "expected JSON but got plain text" },
		{ "application/rss+xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
		  "</channel></rss>\n", 0, FETCH_KIND_XML, NULL },
		{ "application/atom+xml", "<?xml version=\"1.0\"?>\n<!-- generated -->\n<feed xmlns=\"http://www.w3.org"
		  "/2005/Atom\"></feed>", 0, FETCH_KIND_XML, NULL },
		{ "text/xml", "<?xml version=\"1.0\"?><rss><channel><item><title>x", 0, FETCH_KIND_XML,
		  "XML body looks truncated" },
		{ "text/html", "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
		  "\"x\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\"></html>", 0, FETCH_KIND_XML,
		  "expected XML but got HTML" },
		{ "application/json", "{\"a\":1}", 0, FETCH_KIND_XML, "expected XML but got JSON" },
		{ "text/html", "<!doctype html><html><body>ok</body></html>", 0, FETCH_KIND_HTML, NULL },
		{ "text/html", "<html lang=\"en\"><head>", 0, FETCH_KIND_HTML, NULL }, /* HTML need not end tidily */
		{ NULL, "<rss version=\"2.0\"></rss>", 0, FETCH_KIND_HTML, "expected HTML but got XML" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		char *cause = NULL;
		size_t len = v[i].len ? v[i].len : strlen(v[i].body);
		int rc = fetch_check_kind(v[i].ctype, v[i].body, len, v[i].want, &cause);
		if (v[i].err)
			CHECK(rc < 0 && cause && strstr(cause, v[i].err), "kind case %zu: want '%s', got '%s'", i,
			      v[i].err, rc < 0 ? cause : "success");
		else
			CHECK(rc == 0, "kind case %zu: %s", i, cause);
		free(cause);
	}
}

/* ---- against the server ---- */

struct fault {
	char *url;
	enum fetch_outcome want;
	long status;               /* when not 0 */
	const char *cause;         /* a fragment of the cause, when not NULL */
	const struct fetch_limits *limits;
	int64_t max_ms;            /* the transfer must end within this */
};

/* The result of the first fault whose URL ends with suffix. */
static struct fetch_result *find(const struct fault *f, struct fetch_result *res, size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++)
		if (str_ends(f[i].url, suffix))
			return &res[i];
	CHECK(0, "no fault ends with %s", suffix);
	return &res[0];
}

/* All the faults in one run beside healthy vendors on the other port: each fault ends as expected
 * within its bound, and the healthy ones are neither failed nor slowed. */
static void test_storm(void)
{
	struct fetch_limits no_low_speed;
	struct fetch_opts o;
	test_opts(&o);
	no_low_speed = o.limits;
	no_low_speed.low_speed_secs = 30;
	no_low_speed.timeout_ms = 1500;
	int refused = closed_port();
	char *refused_url = xasprintf("http://127.0.0.1:%d/api/v2/summary.json", refused);
	char *cross = xasprintf("/fault/redirect?to=http://127.0.0.1:%d/files/statuspage-json/github-incidents.json",
				port_b);
	struct fault f[] = {
		/* healthy vendors on port B */
		{ url_b("/files/statuspage-json/github-incidents.json"), FETCH_OK, 200, NULL, NULL, 1000 },
		{ url_b("/files/statuspage-json/digitalocean-summary.json"), FETCH_OK, 200, NULL, NULL, 1000 },
		{ url_b("/fault/304-etag"), FETCH_OK, 200, NULL, NULL, 1000 },
		{ url_b("/fault/redirect-chain?n=5"), FETCH_OK, 200, NULL, NULL, 1000 },
		/* faults on port A */
		{ url_a("/fault/429?retry-after=120"), FETCH_HTTP_ERROR, 429, "http status 429 (retry after 120 s)", NULL, 1500 },
		{ url_a("/fault/503?retry-after=Wed,%2015%20Jan%202025%2012:01:00%20GMT"), FETCH_HTTP_ERROR, 503,
		  "retry after 60 s", NULL, 1500 },
		{ url_a("/fault/500"), FETCH_HTTP_ERROR, 500, "http status 500", NULL, 1500 },
		{ url_a("/fault/500?huge=1"), FETCH_HTTP_ERROR, 500, "http status 500", NULL, 1500 },
		{ url_a("/fault/drip?ms=250"), FETCH_TIMEOUT, 200, "too slow: under 100 bytes/s for 1 s", NULL, 3500 },
		{ url_a("/fault/stall"), FETCH_TIMEOUT, 0, "timed out after", &no_low_speed, 2500 },
		{ url_a("/fault/stall?after=headers"), FETCH_TIMEOUT, 200, "too slow", NULL, 3500 },
		{ url_a("/fault/redirect-loop"), FETCH_TOO_MANY_REDIRECTS, 302, "more than 5 redirects", NULL, 1500 },
		{ url_a("/fault/redirect-chain?n=6"), FETCH_TOO_MANY_REDIRECTS, 302, NULL, NULL, 1500 },
		{ url_a("/fault/redirect-file"), FETCH_BAD_PROTOCOL, 302, "file:///etc/passwd", NULL, 1500 },
		{ url_a("/fault/gzip-bomb"), FETCH_TOO_LARGE, 200, "body larger than 1048576 bytes", NULL, 2500 },
		{ url_a("/fault/huge"), FETCH_TOO_LARGE, 200, NULL, NULL, 2500 },
		{ url_a("/fault/huge?chunked=1"), FETCH_TOO_LARGE, 200, NULL, NULL, 2500 },
		{ url_a("/fault/truncated"), FETCH_BAD_RESPONSE, 200, NULL, NULL, 1500 },
		{ url_a("/fault/bad-gzip"), FETCH_BAD_RESPONSE, 200, NULL, NULL, 1500 },
		{ url_a("/fault/html"), FETCH_OK, 200, NULL, NULL, 1500 }, /* the kind check rejects it below */
		{ url_a(cross), FETCH_OK, 200, NULL, NULL, 1500 },
		{ refused_url, FETCH_CONNECT_FAILED, 0, "cannot connect: ", NULL, 1500 },
		{ xstrdup("ftp://127.0.0.1/pub/status.json"), FETCH_BAD_PROTOCOL, 0, "protocol 'ftp' not allowed", NULL, 100 },
		{ xstrdup("FILE:///etc/passwd"), FETCH_BAD_PROTOCOL, 0, NULL, NULL, 100 },
		{ xstrdup("status page"), FETCH_BAD_URL, 0, "bad url", NULL, 100 },
	};
	free(cross);
	size_t n = ARRAY_SIZE(f);
	struct fetch_request *rq = xcalloc(n, sizeof *rq);
	struct fetch_result *res = xcalloc(n, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		rq[i].url = f[i].url;
		rq[i].limits = f[i].limits;
	}
	char *cause = NULL;
	int64_t t0 = mono_ms();
	CHECK(fetch_run(rq, res, n, &o, &cause) == 0, "storm: %s", cause ? cause : "?");
	int64_t total = mono_ms() - t0;
	printf("fault storm: %zu transfers in %lld ms (8 jobs, 2 per host)\n", n, (long long)total);
	for (size_t i = 0; i < n; i++) {
		struct fetch_result *r = &res[i];
		const char *shown = strstr(f[i].url, "/fault/") ? strstr(f[i].url, "/fault/") :
				    strstr(f[i].url, "/files/") ? strstr(f[i].url, "/files/") : f[i].url;
		printf("  %-52.52s %-18s %3ld %5lld ms  %s\n", shown, fetch_outcome_name(r->outcome), r->status,
		       (long long)r->elapsed_ms, r->cause ? r->cause : "");
		CHECK(r->outcome == f[i].want, "%s: want %s, got %s (%s)", f[i].url, fetch_outcome_name(f[i].want),
		      fetch_outcome_name(r->outcome), r->cause ? r->cause : "");
		if (f[i].status)
			CHECK(r->status == f[i].status, "%s: status %ld", f[i].url, r->status);
		if (f[i].cause)
			CHECK(r->cause && strstr(r->cause, f[i].cause), "%s: cause '%s', want '%s'", f[i].url,
			      r->cause ? r->cause : "", f[i].cause);
		CHECK(r->elapsed_ms <= f[i].max_ms * slack, "%s: took %lld ms, bound %lld", f[i].url,
		      (long long)r->elapsed_ms, (long long)(f[i].max_ms * slack));
		CHECK((r->outcome == FETCH_OK) == (r->cause == NULL), "%s: cause only on failure", f[i].url);
		if (r->outcome != FETCH_OK && r->outcome != FETCH_HTTP_ERROR)
			CHECK(r->body.len == 0, "%s: no partial body kept", f[i].url);
		CHECK(r->body.len <= o.limits.max_body, "%s: body within the cap", f[i].url);
	}

	/* healthy vendors: the exact bytes, decoded, with validators */
	size_t flen;
	char *file = file_text("statuspage-json/github-incidents.json", &flen);
	struct fetch_result *r = find(f, res, n, "/files/statuspage-json/github-incidents.json");
	CHECK(r->body.len == flen && memcmp(r->body.data, file, flen) == 0, "body is the file, decoded");
	CHECK(r->etag && r->etag[0] == '"', "file etag: %s", r->etag ? r->etag : "(none)");
	CHECK_STR(r->content_type, "application/json");
	CHECK(fetch_check_kind(r->content_type, r->body.data, r->body.len, FETCH_KIND_JSON, NULL) == 0, "the file is JSON");
	char *ae = log_value("/files/statuspage-json/github-incidents.json", "accept-encoding");
	CHECK(ae && strstr(ae, "gzip"), "compression offered: %s", ae ? ae : "(none)");
	free(ae);
	r = find(f, res, n, "/fault/304-etag");
	CHECK_STR(r->etag, "W/\"1-1a2b3c\"");
	CHECK_STR(r->last_modified, "Wed, 15 Jan 2025 12:00:00 GMT");
	r = find(f, res, n, "/fault/redirect-chain?n=5");
	CHECK(r->redirects == 5 && r->final_url && str_ends(r->final_url, "/fault/redirect-chain?n=0"),
	      "five redirects are fine: %d, %s", r->redirects, r->final_url ? r->final_url : "");
	char *healthy = url_b("/");
	for (size_t i = 0; i < n; i++)
		if (str_starts(f[i].url, healthy))
			CHECK(res[i].outcome == FETCH_OK && res[i].elapsed_ms < 1000 * slack,
			      "healthy vendor %s not held up by the faults (%lld ms)", f[i].url,
			      (long long)res[i].elapsed_ms);
	free(healthy);

	/* the faults in detail */
	r = find(f, res, n, "/fault/429?retry-after=120");
	CHECK(r->has_retry_after && r->retry_after == 120, "429 retry-after");
	r = find(f, res, n, "12:01:00%20GMT");
	CHECK(r->has_retry_after && r->retry_after == 60, "503 retry-after date against --now");
	r = find(f, res, n, "/fault/500");
	CHECK(r->body.len > 0 && memstr(r->body.data, r->body.len, "500 Internal Server Error"),
	      "an error page is kept for the cause");
	r = find(f, res, n, "/fault/500?huge=1");
	CHECK(r->body.len > 0 && r->body.len <= FETCH_ERROR_BODY, "an endless error page is cut: %zu", r->body.len);
	CHECK(log_count("/fault/redirect-loop") == 1 + FETCH_MAX_REDIRECTS, "redirect loop: %d requests",
	      log_count("/fault/redirect-loop"));
	char *cause_html = NULL;
	r = find(f, res, n, "/fault/html");
	CHECK(fetch_check_kind(r->content_type, r->body.data, r->body.len, FETCH_KIND_JSON, &cause_html) < 0 &&
	      cause_html && strstr(cause_html, "expected JSON but got HTML"),
	      "html where json was expected: %s", cause_html ? cause_html : "accepted");
	free(cause_html);
	for (size_t i = 0; i < n; i++)
		if (strstr(f[i].url, "/fault/redirect?to="))
			CHECK(res[i].redirects == 1 && res[i].body.len == flen, "a redirect to another host");
	free(file);

	for (size_t i = 0; i < n; i++) {
		fetch_result_release(&res[i]);
		free(f[i].url);
	}
	free(rq);
	free(res);
	free(cause);
}

/* ETag and Last-Modified travel back verbatim; 304 is "not modified"; a changed ETag over the same
 * bytes is a 200 the caller can recognise by its hash. */
static void test_conditional(void)
{
	char *u = url_b("/fault/304-etag");
	struct fetch_request rq = { .url = u };
	struct fetch_result first, r;

	fetch1(&rq, &first);
	CHECK(first.outcome == FETCH_OK && first.etag && first.last_modified, "first fetch");
	CHECK(first.content_type && strcmp(first.content_type, "application/json") == 0, "content type");

	rq.etag = first.etag;
	rq.last_modified = first.last_modified;
	rq.accept = "application/json";
	fetch1(&rq, &r);
	CHECK(r.outcome == FETCH_NOT_MODIFIED && r.status == 304 && r.body.len == 0 && !r.cause,
	      "304 flow: %s %ld", fetch_outcome_name(r.outcome), r.status);
	char *inm = log_value("/fault/304-etag", "if-none-match");
	char *ims = log_value("/fault/304-etag", "if-modified-since");
	char *ua = log_value("/fault/304-etag", "user-agent");
	char *acc = log_value("/fault/304-etag", "accept");
	CHECK_STR(inm, "W/\"1-1a2b3c\"");
	CHECK_STR(ims, "Wed, 15 Jan 2025 12:00:00 GMT");
	CHECK_STR(ua, "starchive/" PACKAGE_VERSION " (+" CONTACT ")");
	CHECK_STR(acc, "application/json");
	free(inm);
	free(ims);
	free(ua);
	free(acc);
	fetch_result_release(&r);

	/* the ETag changes on the server; the body does not */
	char *bu = url_b("/_ctl/bump");
	struct fetch_request bump = { .url = bu };
	fetch1(&bump, &r);
	CHECK(r.outcome == FETCH_OK, "bump");
	fetch_result_release(&r);
	fetch1(&rq, &r);
	CHECK(r.outcome == FETCH_OK && r.status == 200, "changed etag: %s", fetch_outcome_name(r.outcome));
	CHECK_STR(r.etag, "W/\"2-1a2b3c\"");
	CHECK_STR(r.last_modified, "Wed, 15 Jan 2025 13:00:00 GMT");
	CHECK(r.body.len == first.body.len && memcmp(r.body.data, first.body.data, r.body.len) == 0,
	      "same bytes under a new etag");
	fetch_result_release(&r);
	fetch_result_release(&first);
	free(u);
	free(bu);

	/* Last-Modified alone */
	u = url_b("/fault/304-lm");
	struct fetch_request lm = { .url = u };
	fetch1(&lm, &first);
	CHECK(first.outcome == FETCH_OK && !first.etag && first.last_modified, "last-modified only");
	lm.last_modified = first.last_modified;
	fetch1(&lm, &r);
	CHECK(r.outcome == FETCH_NOT_MODIFIED, "304 by date: %s", fetch_outcome_name(r.outcome));
	inm = log_value("/fault/304-lm", "if-none-match");
	ims = log_value("/fault/304-lm", "if-modified-since");
	CHECK_STR(inm, "-");
	CHECK_STR(ims, "Wed, 15 Jan 2025 13:00:00 GMT");
	free(inm);
	free(ims);
	fetch_result_release(&r);
	fetch_result_release(&first);
	free(u);

	/* a validator that cannot go into a header is not sent at all */
	u = url_b("/files/statuspage-json/github-incidents.json");
	struct fetch_request bad = { .url = u, .etag = "\"x\"\r\nX-Injected: 1" };
	fetch1(&bad, &r);
	CHECK(r.outcome == FETCH_OK, "bad validator dropped: %s", fetch_outcome_name(r.outcome));
	inm = log_value("/files/statuspage-json/github-incidents.json", "if-none-match");
	CHECK_STR(inm, "-");
	free(inm);
	/* a file's own etag gives 304 */
	struct fetch_request again = { .url = u, .etag = r.etag };
	struct fetch_result r2;
	fetch1(&again, &r2);
	CHECK(r2.outcome == FETCH_NOT_MODIFIED, "file 304: %s", fetch_outcome_name(r2.outcome));
	fetch_result_release(&r2);
	fetch_result_release(&r);
	free(u);
}

/* The decoded-size cap is exact: a body of exactly max_body bytes passes, one byte less fails. */
static void test_cap(void)
{
	size_t flen;
	char *file = file_text("statuspage-json/github-incidents.json", &flen);
	free(file);
	char *u = url_b("/files/statuspage-json/github-incidents.json");
	struct fetch_opts o;
	test_opts(&o);
	struct fetch_limits exact = o.limits, less = o.limits;
	exact.max_body = flen;
	less.max_body = flen - 1;
	struct fetch_request rq[2] = { { .url = u, .limits = &exact }, { .url = u, .limits = &less } };
	struct fetch_result res[2];
	CHECK(fetch_run(rq, res, 2, &o, NULL) == 0, "cap run");
	CHECK(res[0].outcome == FETCH_OK && res[0].body.len == flen, "exactly at the cap: %s",
	      fetch_outcome_name(res[0].outcome));
	CHECK(res[1].outcome == FETCH_TOO_LARGE && res[1].body.len == 0, "one byte over: %s",
	      fetch_outcome_name(res[1].outcome));
	fetch_result_release(&res[0]);
	fetch_result_release(&res[1]);
	free(u);
}

/* Read "port=P slow_max=N" (or "all slow_max=N" for port 0) from the server's stats. */
static int slow_max(const char *stats, int port)
{
	char *key = port ? xasprintf("port=%d slow_max=", port) : xstrdup("all slow_max=");
	const char *p = stats ? strstr(stats, key) : NULL;
	int v = p ? atoi(p + strlen(key)) : -1;
	free(key);
	return v;
}

static void run_slow(int jobs, int per_a, int per_b, int ms, int *max_a, int *max_b, int *max_all, int64_t *took)
{
	struct fetch_opts o;
	test_opts(&o);
	o.jobs = jobs;
	struct fetch_request ctl = { .url = NULL };
	struct fetch_result r;
	char *reset = url_a("/_ctl/reset");
	ctl.url = reset;
	fetch1(&ctl, &r);
	fetch_result_release(&r);
	free(reset);

	char *path = xasprintf("/fault/slow?ms=%d", ms);
	char *ua = url_a(path), *ub = url_b(path);
	size_t n = (size_t)(per_a + per_b);
	struct fetch_request *rq = xcalloc(n, sizeof *rq);
	struct fetch_result *res = xcalloc(n, sizeof *res);
	for (size_t i = 0; i < n; i++)
		rq[i].url = (int)i < per_a ? ua : ub;
	int64_t t0 = mono_ms();
	CHECK(fetch_run(rq, res, n, &o, NULL) == 0, "slow run");
	*took = mono_ms() - t0;
	for (size_t i = 0; i < n; i++) {
		CHECK(res[i].outcome == FETCH_OK, "slow %zu: %s", i, res[i].cause ? res[i].cause : "");
		fetch_result_release(&res[i]);
	}
	char *stats = url_a("/_ctl/stats");
	ctl.url = stats;
	fetch1(&ctl, &r);
	*max_a = slow_max(r.body.data, port_a);
	*max_b = slow_max(r.body.data, port_b);
	*max_all = slow_max(r.body.data, 0);
	fetch_result_release(&r);
	free(stats);
	free(rq);
	free(res);
	free(ua);
	free(ub);
	free(path);
}

/* At most two connections per host, jobs across hosts, and no more than jobs in all. */
static void test_concurrency(void)
{
	int a, b, all;
	int64_t took;
	run_slow(8, 6, 6, 400, &a, &b, &all, &took);
	printf("concurrency: 6+6 slow requests, 8 jobs: at most %d and %d at once, %lld ms\n", a, b, (long long)took);
	CHECK(a == 2 && b == 2 && all == 4, "two per host: %d %d %d", a, b, all);
	CHECK(took >= 1150 && took < 2400 * slack, "three rounds of 400 ms in parallel across hosts: %lld ms", (long long)took);
	run_slow(1, 3, 0, 200, &a, &b, &all, &took);
	printf("concurrency: 3 slow requests, 1 job: at most %d at once, %lld ms\n", a, (long long)took);
	CHECK(a == 1, "one job: %d", a);
	CHECK(took >= 550, "one at a time: %lld ms", (long long)took);
	run_slow(3, 3, 3, 300, &a, &b, &all, &took);
	printf("concurrency: 3+3 slow requests, 3 jobs: at most %d in all, %lld ms\n", all, (long long)took);
	CHECK(all == 3 && a <= 2 && b <= 2, "three jobs in all: %d (%d, %d)", all, a, b);
}

/* ---- webhook POSTs ---- */

/* The hook log's records for path (the request path with its query): the last one, or NULL; *count
 * gets how many there are. Caller decrefs. */
static json_t *hook_last(const char *path, int *count)
{
	struct buf b = BUF_INIT;
	json_t *last = NULL;
	int n = 0;
	if (buf_read_file(&b, hook_path, NULL) == 0 && b.data) {
		for (char *line = b.data; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			json_t *rec = json_loads(line, 0, NULL);
			CHECK(rec != NULL, "hook log line is JSON: %.80s", line);
			if (rec && str_eq(json_string_value(json_object_get(rec, "path")), path)) {
				json_decref(last);
				last = rec;
				n++;
			} else {
				json_decref(rec);
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	buf_release(&b);
	if (count)
		*count = n;
	return last;
}

/* A header of a hook log record, or NULL. */
static const char *hook_header(json_t *rec, const char *name)
{
	return json_string_value(json_object_get(json_object_get(rec, "headers"), name));
}

static void post_limits(struct fetch_limits *l)
{
	fetch_limits_init(l);
	l->connect_timeout_ms = 2000;
	l->timeout_ms = 4000;
	l->low_speed_secs = 30;
}

/* POST body to a path on port A with the given extra header lines; returns fetch_post's status. */
static int post_to(const char *path, const char *body, const char *const *headers, size_t n_headers,
		   const struct fetch_limits *lim, struct fetch_result *res, char **cause)
{
	char *u = url_a(path);
	struct fetch_post_request rq = {
		.url = u, .body = body, .body_len = body ? strlen(body) : 0, .content_type = "application/json",
		.headers = headers, .n_headers = n_headers, .limits = lim, .contact = CONTACT,
		.has_now = 1, .now = NOW_2025,
	};
	int rc = fetch_post(&rq, res, cause);
	free(u);
	return rc;
}

/* What the receiver gets is exactly what was sent: body, content type, extra headers, no Expect. */
static void test_post_delivery(void)
{
	struct fetch_limits lim;
	post_limits(&lim);
	const char *body = "{\"event\":\"incident.created\",\"vendor\":\"github\",\"title\":\"Caf\xc3\xa9 \xe2\x9c\x93 \\\"quoted\\\"\"}";
	const char *hdrs[] = { "Idempotency-Key: 7f3c2a-incident-42", "X-Starchive-Event:incident.created",
			       "X-Empty:", "Authorization: Bearer t0ken" };
	struct fetch_result r;
	char *cause = NULL;
	CHECK(post_to("/hook/ok", body, hdrs, ARRAY_SIZE(hdrs), &lim, &r, &cause) == 0, "post ok: %s",
	      cause ? cause : "");
	CHECK(r.outcome == FETCH_OK && r.status == 200 && r.cause == NULL, "post ok: %s %ld %s",
	      fetch_outcome_name(r.outcome), r.status, r.cause ? r.cause : "");
	CHECK(r.body.len == 12 && memcmp(r.body.data, "{\"ok\":true}\n", 12) == 0, "reply body kept");
	CHECK_STR(r.content_type, "application/json");
	CHECK(r.redirects == 0 && r.elapsed_ms < 1000 * slack, "post ok: %lld ms", (long long)r.elapsed_ms);
	fetch_result_release(&r);
	int n = 0;
	json_t *rec = hook_last("/hook/ok", &n);
	CHECK(rec && n == 1, "one delivery logged: %d", n);
	if (rec) {
		CHECK_STR(json_string_value(json_object_get(rec, "method")), "POST");
		CHECK_STR(json_string_value(json_object_get(rec, "body")), body);
		CHECK_STR(hook_header(rec, "content-type"), "application/json");
		char *len = xasprintf("%zu", strlen(body));
		CHECK_STR(hook_header(rec, "content-length"), len);
		free(len);
		CHECK_STR(hook_header(rec, "idempotency-key"), "7f3c2a-incident-42");
		CHECK_STR(hook_header(rec, "x-starchive-event"), "incident.created");
		CHECK_STR(hook_header(rec, "x-empty"), "");
		CHECK_STR(hook_header(rec, "authorization"), "Bearer t0ken");
		CHECK_STR(hook_header(rec, "user-agent"), "starchive/" PACKAGE_VERSION " (+" CONTACT ")");
		CHECK(hook_header(rec, "expect") == NULL, "no Expect header");
		CHECK(json_integer_value(json_object_get(rec, "status")) == 200, "logged status");
	}
	json_decref(rec);

	/* a body past libcurl's Expect: 100-continue threshold (1 MiB) goes at once and whole */
	size_t big = (size_t)2 << 20;
	char *b = xmalloc(big + 1);
	for (size_t i = 0; i < big; i++)
		b[i] = (char)('a' + i % 26);
	b[big] = '\0';
	CHECK(post_to("/hook/ok?big=1", b, NULL, 0, &lim, &r, NULL) == 0, "big post");
	CHECK(r.outcome == FETCH_OK, "big post: %s", r.cause ? r.cause : "");
	printf("post: 2 MiB body delivered in %lld ms\n", (long long)r.elapsed_ms);
	CHECK(r.elapsed_ms < 1000 * slack, "no wait for 100-continue: %lld ms", (long long)r.elapsed_ms);
	fetch_result_release(&r);
	rec = hook_last("/hook/ok?big=1", NULL);
	const char *got = json_string_value(json_object_get(rec, "body"));
	CHECK(got && strlen(got) == big && memcmp(got, b, big) == 0, "big body arrives whole");
	CHECK(rec && hook_header(rec, "expect") == NULL, "no Expect header on a big body");
	json_decref(rec);
	free(b);

	/* no body, no content type: no form type slipped in by libcurl */
	char *u = url_a("/hook/ok?empty=1");
	struct fetch_post_request empty = { .url = u, .limits = &lim };
	CHECK(fetch_post(&empty, &r, NULL) == 0 && r.outcome == FETCH_OK, "empty post");
	fetch_result_release(&r);
	free(u);
	rec = hook_last("/hook/ok?empty=1", NULL);
	CHECK(rec && hook_header(rec, "content-type") == NULL, "no content type sent");
	CHECK_STR(hook_header(rec, "content-length"), "0");
	CHECK_STR(hook_header(rec, "user-agent"), "starchive/" PACKAGE_VERSION);
	CHECK_STR(json_string_value(json_object_get(rec, "body")), "");
	json_decref(rec);
}

/* Error statuses, Retry-After, redirects not followed, a flaky receiver, a slow one. */
static void test_post_statuses(void)
{
	struct fetch_limits lim;
	post_limits(&lim);
	struct fetch_result r;

	CHECK(post_to("/hook/500", "{}", NULL, 0, &lim, &r, NULL) == 0, "post 500");
	CHECK(r.outcome == FETCH_HTTP_ERROR && r.status == 500, "500: %s %ld", fetch_outcome_name(r.outcome), r.status);
	CHECK_STR(r.cause, "http status 500");
	CHECK(r.body.len > 0 && memstr(r.body.data, r.body.len, "internal error"), "500 body kept for the cause");
	CHECK(!r.has_retry_after, "no retry-after on a 500");
	fetch_result_release(&r);

	CHECK(post_to("/hook/429?retry-after=120", "{}", NULL, 0, &lim, &r, NULL) == 0, "post 429");
	CHECK(r.outcome == FETCH_HTTP_ERROR && r.status == 429, "429: %s", fetch_outcome_name(r.outcome));
	CHECK(r.has_retry_after && r.retry_after == 120, "429 retry-after seconds");
	CHECK_STR(r.cause, "http status 429 (retry after 120 s)");
	fetch_result_release(&r);
	CHECK(post_to("/hook/429?retry-after=Wed,%2015%20Jan%202025%2012:01:00%20GMT", "{}", NULL, 0, &lim, &r,
		      NULL) == 0, "post 429 date");
	CHECK(r.has_retry_after && r.retry_after == 60, "429 retry-after date against the fixed clock: %lld",
	      (long long)r.retry_after);
	fetch_result_release(&r);

	int before = log_count("/hook/ok"), after;
	CHECK(post_to("/hook/redirect", "{\"n\":1}", NULL, 0, &lim, &r, NULL) == 0, "post redirect");
	CHECK(r.outcome == FETCH_HTTP_ERROR && r.status == 302 && r.redirects == 0, "302 is an error, not followed: %s %ld %d",
	      fetch_outcome_name(r.outcome), r.status, r.redirects);
	CHECK_STR(r.cause, "http status 302");
	fetch_result_release(&r);
	after = log_count("/hook/ok");
	CHECK(after == before, "nothing was sent to the redirect's target: %d then %d requests", before, after);

	char *reset = url_a("/_ctl/reset");
	struct fetch_request ctl = { .url = reset };
	fetch1(&ctl, &r);
	fetch_result_release(&r);
	free(reset);
	long want[] = { 500, 500, 200, 200 };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK(post_to("/hook/flaky?fail=2", "{}", NULL, 0, &lim, &r, NULL) == 0, "post flaky");
		CHECK(r.status == want[i] && (r.outcome == FETCH_OK) == (want[i] == 200), "flaky attempt %zu: %ld",
		      i + 1, r.status);
		fetch_result_release(&r);
	}

	CHECK(post_to("/hook/slow?ms=300", "{}", NULL, 0, &lim, &r, NULL) == 0, "post slow");
	CHECK(r.outcome == FETCH_OK && r.elapsed_ms >= 290 && r.elapsed_ms < 1500 * slack, "slow receiver: %s, %lld ms",
	      fetch_outcome_name(r.outcome), (long long)r.elapsed_ms);
	fetch_result_release(&r);
}

/* A receiver that never answers costs the timeout and no more; one that cannot be reached fails at
 * once; neither cause gives away the URL's path or query. */
static void test_post_failures(void)
{
	struct fetch_limits lim;
	post_limits(&lim);
	lim.timeout_ms = 1500;
	struct fetch_result r;
	const char *secret = "/hook/stall?token=s3cr3t-t0ken";
	int64_t t0 = mono_ms();
	CHECK(post_to(secret, "{\"stall\":true}", NULL, 0, &lim, &r, NULL) == 0, "post stall");
	int64_t wall = mono_ms() - t0;
	printf("post: stalled receiver, timeout %ld ms: %s after %lld ms (wall %lld ms): %s\n", lim.timeout_ms,
	       fetch_outcome_name(r.outcome), (long long)r.elapsed_ms, (long long)wall, r.cause ? r.cause : "");
	CHECK(r.outcome == FETCH_TIMEOUT && r.status == 0, "stall: %s %ld", fetch_outcome_name(r.outcome), r.status);
	CHECK(r.cause && str_starts(r.cause, "timed out after "), "stall cause: %s", r.cause ? r.cause : "");
	CHECK(r.elapsed_ms >= lim.timeout_ms - 50 && wall <= 2500 * slack, "stall within its bound: %lld ms",
	      (long long)wall);
	CHECK(r.body.len == 0, "no body from a stall");
	CHECK(!strstr(r.cause ? r.cause : "", "s3cr3t"), "no secret in the cause");
	fetch_result_release(&r);
	json_t *rec = hook_last(secret, NULL);
	CHECK(rec && json_is_null(json_object_get(rec, "status")) &&
	      str_eq(json_string_value(json_object_get(rec, "body")), "{\"stall\":true}"),
	      "the stalled receiver got the request");
	json_decref(rec);

	/* connection refused */
	int port = closed_port();
	char *u = xasprintf("http://user:pa55w0rd@127.0.0.1:%d/hook/T0KEN-PATH?key=s3cr3t", port);
	struct fetch_post_request rq = { .url = u, .body = "{}", .body_len = 2, .limits = &lim };
	t0 = mono_ms();
	CHECK(fetch_post(&rq, &r, NULL) == 0, "post refused");
	wall = mono_ms() - t0;
	char *want = xasprintf("cannot connect to http://127.0.0.1:%d: connection refused", port);
	CHECK(r.outcome == FETCH_CONNECT_FAILED && r.status == 0, "refused: %s", fetch_outcome_name(r.outcome));
	CHECK_STR(r.cause, want);
	CHECK(wall < 1000 * slack, "refused at once: %lld ms", (long long)wall);
	fetch_result_release(&r);
	free(want);
	free(u);

	/* bad URLs are results, not refusals, and keep their secrets too */
	struct { const char *url; enum fetch_outcome want; const char *cause; } bad[] = {
		{ "ftp://127.0.0.1/hook/s3cr3t", FETCH_BAD_PROTOCOL, "protocol 'ftp' not allowed (only http and https)" },
		{ "http://exa mple.com/hook?token=s3cr3t", FETCH_BAD_URL, "bad url: " },
		{ "hooks.example.com/s3cr3t", FETCH_BAD_URL, "bad url: " },
		{ "", FETCH_BAD_URL, "bad url: " },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct fetch_post_request b = { .url = bad[i].url, .body = "{}", .body_len = 2, .limits = &lim };
		char *cause = NULL;
		CHECK(fetch_post(&b, &r, &cause) == 0 && cause == NULL, "bad url %zu starts", i);
		CHECK(r.outcome == bad[i].want, "bad url %zu: %s", i, fetch_outcome_name(r.outcome));
		CHECK(r.cause && str_starts(r.cause, bad[i].cause) && !strstr(r.cause, "s3cr3t"), "bad url %zu: cause %s",
		      i, r.cause ? r.cause : "");
		fetch_result_release(&r);
		free(cause);
	}
}

/* A header line that could smuggle another header, or is no header at all, stops the request before
 * it is sent; the cause names the header but never its value. */
static void test_post_refused(void)
{
	struct fetch_limits lim;
	post_limits(&lim);
	const char *cases[][2] = {
		{ "Idempotency-Key: abc\r\nX-Injected: 1", "header 'Idempotency-Key' holds a line break" },
		{ "Idempotency-Key: abc\nX-Injected: 1", "header 'Idempotency-Key' holds a line break" },
		{ "Idempotency-Key: abc\r", "header 'Idempotency-Key' holds a line break" },
		{ "X-Token: se\x01cret", "header 'X-Token' holds a control character" },
		{ "X-Injected\r\n: 1", "header 2 is not a 'Name: value' line" },
		{ "no colon here", "header 2 is not a 'Name: value' line" },
		{ ": value", "header 2 is not a 'Name: value' line" },
		{ "Bad Name: value", "header 2 is not a 'Name: value' line" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *hdrs[] = { "X-Fine: yes", cases[i][0] };
		struct fetch_result r;
		char *cause = NULL;
		CHECK(post_to("/hook/ok?refused=1", "{}", hdrs, 2, &lim, &r, &cause) == -1, "header case %zu refused", i);
		CHECK_STR(cause, cases[i][1]);
		CHECK(r.outcome == FETCH_ERROR && r.status == 0 && str_eq(r.cause, cause), "header case %zu result", i);
		CHECK(!strstr(cause ? cause : "", "abc") && !strstr(cause ? cause : "", "cret"), "no value in the cause");
		fetch_result_release(&r);
		free(cause);
	}
	char *u = url_a("/hook/ok?refused=1");
	struct fetch_post_request rq = { .url = u, .content_type = "application/json\r\nX-Injected: 1", .limits = &lim };
	struct fetch_result r;
	char *cause = NULL;
	CHECK(fetch_post(&rq, &r, &cause) == -1, "content type refused");
	CHECK_STR(cause, "content type holds a control character");
	fetch_result_release(&r);
	free(cause);
	/* a NULL cause pointer is fine */
	CHECK(fetch_post(&rq, &r, NULL) == -1 && r.cause, "refused without a cause pointer");
	fetch_result_release(&r);
	free(u);
	int n = -1;
	json_decref(hook_last("/hook/ok?refused=1", &n));
	CHECK(n == 0, "no refused request reached the receiver: %d", n);
}

/* Reply bodies are kept up to FETCH_ERROR_BODY (or a smaller max_body) and cut there; a 2xx stays
 * a success, since the receiver took the POST. */
static void test_post_cap(void)
{
	struct fetch_limits lim;
	post_limits(&lim);
	struct fetch_result r;
	CHECK(post_to("/hook/huge", "{}", NULL, 0, &lim, &r, NULL) == 0, "post huge");
	printf("post: endless reply cut at %zu bytes in %lld ms\n", r.body.len, (long long)r.elapsed_ms);
	CHECK(r.outcome == FETCH_OK && r.status == 200 && r.cause == NULL, "endless 2xx reply: %s %s",
	      fetch_outcome_name(r.outcome), r.cause ? r.cause : "");
	CHECK(r.body.len == FETCH_ERROR_BODY, "kept exactly FETCH_ERROR_BODY: %zu", r.body.len);
	CHECK(r.elapsed_ms < 1500 * slack, "cut at once: %lld ms", (long long)r.elapsed_ms);
	fetch_result_release(&r);

	lim.max_body = 1000;
	CHECK(post_to("/hook/huge", "{}", NULL, 0, &lim, &r, NULL) == 0, "post huge, small cap");
	CHECK(r.outcome == FETCH_OK && r.body.len == 1000, "a smaller max_body rules: %zu", r.body.len);
	fetch_result_release(&r);
	lim.max_body = 10;
	CHECK(post_to("/hook/500", "{}", NULL, 0, &lim, &r, NULL) == 0, "post 500, small cap");
	CHECK(r.outcome == FETCH_HTTP_ERROR && r.status == 500 && r.body.len == 10, "error reply cut: %s %zu",
	      fetch_outcome_name(r.outcome), r.body.len);
	CHECK_STR(r.cause, "http status 500");
	fetch_result_release(&r);

	/* NULL limits: the defaults, and still the error-body cap */
	char *u = url_a("/hook/huge");
	struct fetch_post_request rq = { .url = u, .body = "{}", .body_len = 2 };
	CHECK(fetch_post(&rq, &r, NULL) == 0 && r.outcome == FETCH_OK && r.body.len == FETCH_ERROR_BODY,
	      "default limits: %s %zu", fetch_outcome_name(r.outcome), r.body.len);
	fetch_result_release(&r);
	free(u);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (getenv("SC_VALGRIND") && *getenv("SC_VALGRIND"))
		slack = 5;
	test_politeness();
	test_check_kind();
	char *ua = fetch_user_agent("https://x.example/\r\nEvil: 1");
	CHECK(!strchr(ua, '\r') && !strchr(ua, '\n'), "user agent sanitized");
	free(ua);
	ua = fetch_user_agent(NULL);
	CHECK_STR(ua, "starchive/" PACKAGE_VERSION);
	free(ua);

	/* the client must talk to 127.0.0.1 directly, whatever the environment says */
	const char *proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	for (size_t i = 0; i < ARRAY_SIZE(proxies); i++)
		unsetenv(proxies[i]);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	setenv("no_proxy", "127.0.0.1,localhost", 1);

	int rc = server_start();
	if (rc != 0) {
		server_stop();
		if (rc == 77) {
			printf("skipped: python3 not found\n");
			return 77;
		}
		return 99;
	}
	int64_t t0 = mono_ms();
	test_storm();
	test_conditional();
	test_cap();
	test_concurrency();
	test_post_delivery();
	test_post_statuses();
	test_post_failures();
	test_post_refused();
	test_post_cap();
	printf("network tests: %lld ms\n", (long long)(mono_ms() - t0));
	server_stop();
	fetch_cleanup();
	return unit_summary();
}
