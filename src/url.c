/* url.c: joining and taking apart http(s) URLs (RFC 3986 section 5.2, for the cases pages use). */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"
#include "util.h"

int url_is_http(const char *url)
{
	return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

/* Length of "scheme://authority" in an absolute URL, or 0. */
static size_t origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p || p == url)
		return 0;
	for (const char *s = url; s < p; s++)
		if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.')
			return 0;
	p += 3;
	p += strcspn(p, "/?#");
	return (size_t)(p - url);
}

char *url_origin(const char *url)
{
	size_t n = url ? origin_len(url) : 0;
	return n ? xstrndup(url, n) : NULL;
}

char *url_host(const char *url)
{
	size_t n = url ? origin_len(url) : 0;
	if (!n)
		return NULL;
	const char *h = strstr(url, "://") + 3;
	const char *end = url + n;
	const char *at = memchr(h, '@', (size_t)(end - h));
	if (at)
		h = at + 1;
	const char *e = h;
	if (*e == '[') { /* IPv6 literal */
		const char *r = memchr(e, ']', (size_t)(end - e));
		e = r ? r + 1 : end;
	} else {
		while (e < end && *e != ':')
			e++;
	}
	char *host = xstrndup(h, (size_t)(e - h));
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return host;
}

/* Remove "." and ".." segments from an absolute path in place (RFC 3986 section 5.2.4). */
static void remove_dots(char *path)
{
	char *out = xmalloc(strlen(path) + 2);
	size_t on = 0;
	const char *in = path;
	while (*in) {
		if (strncmp(in, "../", 3) == 0) {
			in += 3;
		} else if (strncmp(in, "./", 2) == 0) {
			in += 2;
		} else if (strncmp(in, "/./", 3) == 0) {
			in += 2;
		} else if (strcmp(in, "/.") == 0) {
			in = "/";
		} else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
			in = in[3] ? in + 3 : "/";
			while (on > 0 && out[--on] != '/')
				;
		} else if (strcmp(in, ".") == 0 || strcmp(in, "..") == 0) {
			break;
		} else {
			do
				out[on++] = *in++;
			while (*in && *in != '/');
		}
	}
	out[on] = '\0';
	strcpy(path, on ? out : "/");
	free(out);
}

static char *join_trimmed(const char *base, const char *ref);

char *url_join(const char *base, const char *ref)
{
	if (!ref)
		return NULL;
	while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r')
		ref++;
	size_t rl = strlen(ref);
	while (rl && (ref[rl - 1] == ' ' || ref[rl - 1] == '\t' || ref[rl - 1] == '\n' || ref[rl - 1] == '\r'))
		rl--;
	char *trimmed = xstrndup(ref, rl);
	char *r = join_trimmed(base, trimmed);
	free(trimmed);
	return r;
}

static char *join_trimmed(const char *base, const char *ref)
{
	if (origin_len(ref))
		return xstrdup(ref);
	size_t on = base ? origin_len(base) : 0;
	if (!on)
		return NULL;
	if (ref[0] == '/' && ref[1] == '/') {
		const char *colon = strchr(base, ':');
		return xasprintf("%.*s:%s", (int)(colon - base), base, ref);
	}
	const char *bpath = base + on;
	size_t bpath_len = strcspn(bpath, "?#");
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	if (!*ref) {
		buf_add(&b, base, on + bpath_len + strcspn(bpath + bpath_len, "#"));
		return buf_detach(&b);
	}
	if (ref[0] == '#' || ref[0] == '?') {
		size_t keep = on + bpath_len;
		if (ref[0] == '#')
			keep += strcspn(bpath + bpath_len, "#");
		buf_add(&b, base, keep);
		buf_adds(&b, ref);
		return buf_detach(&b);
	}
	/* the path part to merge, then the query/fragment of ref */
	size_t rpath_len = strcspn(ref, "?#");
	char *path;
	if (ref[0] == '/') {
		path = xstrndup(ref, rpath_len);
	} else {
		const char *slash = NULL;
		for (size_t i = 0; i < bpath_len; i++)
			if (bpath[i] == '/')
				slash = bpath + i;
		size_t dir = slash ? (size_t)(slash - bpath) + 1 : 0;
		path = xasprintf("%s%.*s%.*s", dir ? "" : "/", (int)dir, bpath, (int)rpath_len, ref);
	}
	remove_dots(path);
	buf_add(&b, base, on);
	buf_adds(&b, path);
	buf_adds(&b, ref + rpath_len);
	free(path);
	return buf_detach(&b);
}

char *url_incident_code(const char *url)
{
	const char *p = url ? strstr(url, "/incidents/") : NULL;
	if (!p)
		return NULL;
	p += strlen("/incidents/");
	size_t n = strcspn(p, "/?#");
	return n ? xstrndup(p, n) : NULL;
}
