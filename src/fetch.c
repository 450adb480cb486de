/* fetch.c: concurrent bounded HTTP GETs through the libcurl multi interface, and single POSTs
 * through the easy one, both on the same handle set-up. The only file that includes curl. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "fetch.h"
#include "politeness.h"
#include "util.h"

/* Validators longer than this are not stored: they could not be sent back verbatim anyway. */
#define VALIDATOR_MAX 1024

static int curl_ready;

/* One transfer in flight (or waiting for a slot). */
struct xfer {
	const struct fetch_request *req;
	struct fetch_result *res;
	struct fetch_limits lim;
	CURL *easy;
	struct curl_slist *headers;
	char *hostkey;          /* scheme://host:port, for the per-host limit */
	char *retry_after;      /* the raw header of the final response */
	char *location;         /* the last Location header (a refused redirect names it) */
	int conditional;        /* validators were sent */
	int post;               /* a POST: no redirects, every body kept only up to the cap */
	int too_large;          /* the write callback stopped a 2xx body */
	int body_cut;           /* the write callback stopped an error body, or any POST reply's body
				 * (kept as far as it went) */
	int state;              /* 0 waiting, 1 running, 2 done */
	int64_t start_ms;
	char errbuf[CURL_ERROR_SIZE];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fetch_limits_init(struct fetch_limits *l)
{
	l->connect_timeout_ms = FETCH_CONNECT_TIMEOUT_MS;
	l->timeout_ms = FETCH_TIMEOUT_MS;
	l->low_speed_bytes = FETCH_LOW_SPEED_BYTES;
	l->low_speed_secs = FETCH_LOW_SPEED_SECS;
	l->max_body = FETCH_MAX_BODY;
}

void fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof *o);
	o->jobs = FETCH_JOBS;
	o->max_host_conns = FETCH_MAX_HOST_CONNS;
	fetch_limits_init(&o->limits);
}

void fetch_result_release(struct fetch_result *r)
{
	free(r->final_url);
	free(r->content_type);
	free(r->etag);
	free(r->last_modified);
	free(r->cause);
	buf_release(&r->body);
	memset(r, 0, sizeof *r);
}

/* Connections (and names) kept between webhook POSTs, so that a run of deliveries to one receiver
 * pays for one TCP and TLS set-up; NULL until the first POST. */
static CURLSH *post_share;

void fetch_cleanup(void)
{
	if (post_share)
		curl_share_cleanup(post_share);
	post_share = NULL;
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = 0;
}

static int fetch_global_init(char **cause)
{
	if (curl_ready)
		return 0;
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return set_cause(cause, "cannot initialise libcurl: %s", curl_easy_strerror(rc));
	curl_ready = 1;
	return 0;
}

const char *fetch_outcome_name(enum fetch_outcome oc)
{
	static const char *const names[] = {
		[FETCH_OK] = "ok",
		[FETCH_NOT_MODIFIED] = "not_modified",
		[FETCH_HTTP_ERROR] = "http_error",
		[FETCH_TOO_LARGE] = "too_large",
		[FETCH_TIMEOUT] = "timeout",
		[FETCH_TOO_MANY_REDIRECTS] = "too_many_redirects",
		[FETCH_BAD_PROTOCOL] = "bad_protocol",
		[FETCH_BAD_URL] = "bad_url",
		[FETCH_RESOLVE_FAILED] = "resolve_failed",
		[FETCH_CONNECT_FAILED] = "connect_failed",
		[FETCH_TLS_FAILED] = "tls_failed",
		[FETCH_BAD_RESPONSE] = "bad_response",
		[FETCH_ERROR] = "error",
	};
	if ((size_t)oc < ARRAY_SIZE(names) && names[oc])
		return names[oc];
	return "error";
}

/* 1 when s holds no control characters (so it can go into a header line as it is). */
static int header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return 0;
		else if (*s == 0x7f)
			return 0;
	return 1;
}

char *fetch_user_agent(const char *contact)
{
	if (!contact || !*contact)
		return xstrdup(PACKAGE_NAME "/" PACKAGE_VERSION);
	char *ua = xasprintf(PACKAGE_NAME "/" PACKAGE_VERSION " (+%s)", contact);
	for (char *p = ua; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return ua;
}

/* ---- callbacks ---- */

/* Take a "Name: value" header line into *dst when its name matches; the value is kept verbatim
 * apart from the surrounding blanks. */
static void header_take(const char *line, size_t n, const char *name, char **dst)
{
	size_t nl = strlen(name);
	if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	free(*dst);
	*dst = NULL;
	if (end > v && (size_t)(end - v) <= VALIDATOR_MAX) {
		*dst = xstrndup(v, (size_t)(end - v));
		if (!header_safe(*dst)) {
			free(*dst);
			*dst = NULL;
		}
	}
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or a 1xx): only the final one's headers count */
		free(x->res->etag);
		free(x->res->last_modified);
		free(x->retry_after);
		free(x->location);
		x->res->etag = x->res->last_modified = x->retry_after = x->location = NULL;
		buf_reset(&x->res->body);
		return n;
	}
	header_take(p, n, "etag", &x->res->etag);
	header_take(p, n, "last-modified", &x->res->last_modified);
	header_take(p, n, "retry-after", &x->retry_after);
	header_take(p, n, "location", &x->location);
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	struct buf *b = &x->res->body;
	if (!x->post && status >= 200 && status < 300) {
		if (buf_add(b, p, n) < 0) {
			x->too_large = 1;
			return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
		}
		return n;
	}
	if (!x->post && status >= 300 && status < 400)
		return n; /* the body of a redirect being followed */
	size_t limit = x->lim.max_body < FETCH_ERROR_BODY ? x->lim.max_body : FETCH_ERROR_BODY;
	size_t room = b->len < limit ? limit - b->len : 0;
	buf_add(b, p, n < room ? n : room);
	if (n > room) {
		x->body_cut = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

/* ---- set-up ---- */

/* "scheme://host:port" of an http(s) URL; else FETCH_BAD_URL or FETCH_BAD_PROTOCOL with a cause,
 * which quotes the URL unless it is secret. */
static int url_hostkey(const char *url, int secret, char **key, enum fetch_outcome *oc, char **cause)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;
	if (!u) {
		*oc = FETCH_ERROR;
		set_cause(cause, "out of memory parsing the url");
		return -1;
	}
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		*oc = FETCH_BAD_URL;
		if (secret)
			set_cause(cause, "bad url: %s", curl_url_strerror(uc));
		else
			set_cause(cause, "bad url '%s': %s", url, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		*oc = FETCH_BAD_PROTOCOL;
		set_cause(cause, "protocol '%s' not allowed (only http and https)", scheme ? scheme : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		*oc = FETCH_BAD_URL;
		if (secret)
			set_cause(cause, "bad url: no host");
		else
			set_cause(cause, "bad url '%s': no host", url);
		goto out;
	}
	*key = xasprintf("%s://%s:%s", scheme, host, port);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* Add a request header "Name: value" when the value can be sent as it is. */
static int add_header(struct xfer *x, const char *name, const char *value)
{
	if (!value || !*value || !header_safe(value))
		return 0;
	char *h = xasprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(x->headers, h);
	free(h);
	if (!l)
		return -1;
	x->headers = l;
	return 1;
}

#define SETOPT(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)

/* Create the easy handle with the options every transfer shares, x->headers included; follow says
 * whether redirects are followed. -1 with res->cause set when libcurl refuses. */
static int easy_setup(struct xfer *x, const char *url, const char *ua, int follow)
{
	CURL *e = curl_easy_init();
	if (!e)
		return set_cause(&x->res->cause, "cannot create a transfer");
	x->easy = e;
	buf_init(&x->res->body, x->lim.max_body);

	CURLcode rc = CURLE_OK;
	SETOPT(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SETOPT(CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
	if (follow)
		SETOPT(CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, x->lim.connect_timeout_ms);
	SETOPT(CURLOPT_TIMEOUT_MS, x->lim.timeout_ms);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, x->lim.low_speed_bytes);
	SETOPT(CURLOPT_LOW_SPEED_TIME, x->lim.low_speed_secs);
	SETOPT(CURLOPT_USERAGENT, ua);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_HTTPHEADER, x->headers);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	SETOPT(CURLOPT_PRIVATE, x);
	if (rc != CURLE_OK)
		return set_cause(&x->res->cause, "libcurl: %s", curl_easy_strerror(rc));
	return 0;
}

/* Build a GET's headers and its handle; -1 with res->cause set when libcurl refuses. */
static int xfer_setup(struct xfer *x, const char *ua)
{
	int sent = add_header(x, "If-None-Match", x->req->etag);
	int sent2 = add_header(x, "If-Modified-Since", x->req->last_modified);
	int sent3 = add_header(x, "Accept", x->req->accept);
	if (sent < 0 || sent2 < 0 || sent3 < 0)
		return set_cause(&x->res->cause, "out of memory building headers");
	x->conditional = sent > 0 || sent2 > 0;
	return easy_setup(x, x->req->url, ua, 1);
}

/* ---- completion ---- */

/* curl's error text, else its generic message for the code. */
static const char *curl_detail(const struct xfer *x, CURLcode rc)
{
	return x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
}

static void http_status_cause(struct xfer *x)
{
	struct fetch_result *r = x->res;
	if (r->has_retry_after)
		set_cause(&r->cause, "http status %ld (retry after %lld s)", r->status, (long long)r->retry_after);
	else
		set_cause(&r->cause, "http status %ld", r->status);
}

static void xfer_finish(struct xfer *x, CURLcode rc, int64_t now)
{
	struct fetch_result *r = x->res;
	CURL *e = x->easy;
	char *s = NULL;
	long redirects = 0;
	r->elapsed_ms = mono_ms() - x->start_ms;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK && s)
		r->final_url = xstrdup(s);
	s = NULL;
	if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
		r->content_type = xstrdup(s);
	curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
	r->redirects = (int)redirects;
	if (x->retry_after && retry_after_parse(x->retry_after, now, &r->retry_after, NULL) == 0)
		r->has_retry_after = 1;

	switch (rc) {
	case CURLE_OK:
		if (r->status >= 200 && r->status < 300) {
			r->outcome = FETCH_OK;
		} else if (r->status == 304 && x->conditional) {
			r->outcome = FETCH_NOT_MODIFIED;
		} else {
			r->outcome = FETCH_HTTP_ERROR;
			http_status_cause(x);
		}
		break;
	case CURLE_WRITE_ERROR:
		if (x->too_large) {
			r->outcome = FETCH_TOO_LARGE;
			set_cause(&r->cause, "body larger than %zu bytes", x->lim.max_body);
		} else if (x->body_cut && x->post && r->status >= 200 && r->status < 300) {
			r->outcome = FETCH_OK; /* the POST was taken; only its reply was long */
		} else if (x->body_cut) {
			r->outcome = FETCH_HTTP_ERROR;
			http_status_cause(x);
		} else {
			r->outcome = FETCH_ERROR;
			set_cause(&r->cause, "transfer failed: %s", curl_detail(x, rc));
		}
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* libcurl's texts tell the three apart: "Operation too slow", "Connection timed out" (or
		 * "Resolving timed out") while connecting, "Operation timed out" after */
		r->outcome = FETCH_TIMEOUT;
		if (strstr(x->errbuf, "too slow"))
			set_cause(&r->cause, "too slow: under %ld bytes/s for %ld s", x->lim.low_speed_bytes,
				  x->lim.low_speed_secs);
		else if (strstr(x->errbuf, "Connection timed out") || strstr(x->errbuf, "Resolving timed out"))
			set_cause(&r->cause, "connect timed out after %lld ms", (long long)r->elapsed_ms);
		else
			set_cause(&r->cause, "timed out after %lld ms", (long long)r->elapsed_ms);
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		r->outcome = FETCH_TOO_MANY_REDIRECTS;
		set_cause(&r->cause, "more than %d redirects", FETCH_MAX_REDIRECTS);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		r->outcome = FETCH_BAD_PROTOCOL;
		if (x->location && r->status >= 300 && r->status < 400)
			set_cause(&r->cause, "redirect to a protocol other than http or https: '%s'", x->location);
		else
			set_cause(&r->cause, "protocol not allowed (only http and https): %s", curl_detail(x, rc));
		break;
	case CURLE_URL_MALFORMAT:
		r->outcome = FETCH_BAD_URL;
		set_cause(&r->cause, "bad url: %s", curl_detail(x, rc));
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		r->outcome = FETCH_RESOLVE_FAILED;
		set_cause(&r->cause, "cannot resolve: %s", curl_detail(x, rc));
		break;
	case CURLE_COULDNT_CONNECT:
		r->outcome = FETCH_CONNECT_FAILED;
		set_cause(&r->cause, "cannot connect: %s", curl_detail(x, rc));
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		r->outcome = FETCH_TLS_FAILED;
		set_cause(&r->cause, "tls: %s", curl_detail(x, rc));
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		r->outcome = FETCH_BAD_RESPONSE;
		set_cause(&r->cause, "bad response: %s", curl_detail(x, rc));
		break;
	default:
		r->outcome = FETCH_ERROR;
		set_cause(&r->cause, "transfer failed: %s", curl_detail(x, rc));
		break;
	}
	/* a partial body must never be mistaken for a page */
	if (r->outcome != FETCH_OK && r->outcome != FETCH_HTTP_ERROR)
		buf_release(&r->body);
}

static void xfer_release(struct xfer *x, CURLM *m)
{
	if (x->easy) {
		if (x->state == 1)
			curl_multi_remove_handle(m, x->easy);
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	free(x->hostkey);
	free(x->retry_after);
	free(x->location);
	x->easy = NULL;
	x->headers = NULL;
	x->hostkey = x->retry_after = x->location = NULL;
}

/* Transfers running now against one host key. */
static int host_running(const struct xfer *xs, size_t n, const char *key)
{
	int c = 0;
	for (size_t i = 0; i < n; i++)
		if (xs[i].state == 1 && strcmp(xs[i].hostkey, key) == 0)
			c++;
	return c;
}

int fetch_run(const struct fetch_request *req, struct fetch_result *res, size_t n, const struct fetch_opts *o,
	      char **cause)
{
	for (size_t i = 0; i < n; i++)
		memset(&res[i], 0, sizeof res[i]);
	CURLM *m = NULL;
	if (fetch_global_init(cause) == 0)
		m = curl_multi_init();
	if (!m) {
		if (curl_ready)
			set_cause(cause, "cannot create a libcurl multi handle");
		for (size_t i = 0; i < n; i++) {
			res[i].outcome = FETCH_ERROR;
			res[i].cause = xstrdup("libcurl is not available");
		}
		return -1;
	}
	int jobs = o->jobs > 0 ? o->jobs : 1;
	int per_host = o->max_host_conns > 0 ? o->max_host_conns : 1;
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)per_host);
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)jobs);
	int64_t now = o->has_now ? o->now : (int64_t)time(NULL);
	char *ua = fetch_user_agent(o->contact);

	struct xfer *xs = xcalloc(n ? n : 1, sizeof *xs);
	size_t waiting = 0;
	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		x->req = &req[i];
		x->res = &res[i];
		x->lim = req[i].limits ? *req[i].limits : o->limits;
		if (url_hostkey(req[i].url ? req[i].url : "", 0, &x->hostkey, &res[i].outcome, &res[i].cause) < 0) {
			res[i].final_url = xstrdup(req[i].url ? req[i].url : "");
			x->state = 2;
		} else {
			waiting++;
		}
	}

	int running = 0, changed = 1;
	CURLMcode mc = CURLM_OK;
	for (;;) {
		/* start what the limits allow, in request order (only a finished transfer frees a slot) */
		for (size_t i = 0; changed && i < n && waiting && running < jobs; i++) {
			struct xfer *x = &xs[i];
			if (x->state != 0 || host_running(xs, n, x->hostkey) >= per_host)
				continue;
			waiting--;
			x->start_ms = mono_ms();
			if (xfer_setup(x, ua) < 0 || curl_multi_add_handle(m, x->easy) != CURLM_OK) {
				x->res->outcome = FETCH_ERROR;
				if (!x->res->cause)
					x->res->cause = xstrdup("cannot start the transfer");
				x->res->final_url = xstrdup(x->req->url);
				buf_release(&x->res->body);
				xfer_release(x, m);
				x->state = 2;
				continue;
			}
			x->state = 1;
			running++;
		}
		if (running == 0 || mc != CURLM_OK)
			break;
		int still = 0;
		mc = curl_multi_perform(m, &still);
		int left;
		CURLMsg *msg;
		changed = 0;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			CURLcode rc = msg->data.result; /* msg is invalid once the handle goes */
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			struct xfer *x = (struct xfer *)(void *)priv;
			xfer_finish(x, rc, now);
			xfer_release(x, m);
			x->state = 2;
			running--;
			changed = 1;
		}
		if (mc == CURLM_OK && !changed && still)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	if (mc != CURLM_OK) {
		/* libcurl itself failed (out of memory): whatever did not finish fails with it */
		for (size_t i = 0; i < n; i++) {
			if (xs[i].state == 2)
				continue;
			fetch_result_release(xs[i].res);
			xs[i].res->outcome = FETCH_ERROR;
			xs[i].res->final_url = xstrdup(xs[i].req->url);
			set_cause(&xs[i].res->cause, "libcurl: %s", curl_multi_strerror(mc));
		}
	}

	for (size_t i = 0; i < n; i++)
		xfer_release(&xs[i], m);
	free(xs);
	free(ua);
	curl_multi_cleanup(m);
	return 0;
}

/* ---- one POST ---- */

/* 1 for the characters of an HTTP header name (RFC 9110 tchar). */
static int tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Append one whole header line. */
static int add_line(struct xfer *x, const char *line)
{
	struct curl_slist *l = curl_slist_append(x->headers, line);
	if (!l)
		return -1;
	x->headers = l;
	return 0;
}

/* Take a caller's "Name: value" line into the request. A blank value goes as "Name;", which is how
 * libcurl sends an empty header (it drops "Name:"). The cause names the header, never its value. */
static int post_header(struct xfer *x, const char *line, size_t i, char **cause)
{
	size_t nl = 0;
	while (tchar((unsigned char)line[nl]))
		nl++;
	if (nl == 0 || line[nl] != ':')
		return set_cause(cause, "header %zu is not a 'Name: value' line", i + 1);
	const char *v = line + nl + 1;
	if (strpbrk(v, "\r\n"))
		return set_cause(cause, "header '%.*s' holds a line break", (int)nl, line);
	if (!header_safe(v))
		return set_cause(cause, "header '%.*s' holds a control character", (int)nl, line);
	v += strspn(v, " \t");
	char *h = *v ? xstrdup(line) : xasprintf("%.*s;", (int)nl, line);
	int rc = add_line(x, h);
	free(h);
	return rc < 0 ? set_cause(cause, "out of memory building headers") : 0;
}

/* Content-Type, the caller's lines, and no "Expect: 100-continue" (a wait for a reply that some
 * receivers never send); -1 with *cause when a line cannot be sent. */
static int post_headers(struct xfer *x, const struct fetch_post_request *req, char **cause)
{
	if (req->content_type && !header_safe(req->content_type))
		return set_cause(cause, "content type holds a control character");
	char *ct = req->content_type ? xasprintf("Content-Type: %s", req->content_type) : xstrdup("Content-Type:");
	int rc = add_line(x, ct);
	free(ct);
	if (rc < 0 || add_line(x, "Expect:") < 0)
		return set_cause(cause, "out of memory building headers");
	for (size_t i = 0; i < req->n_headers; i++) {
		if (!req->headers || !req->headers[i])
			return set_cause(cause, "header %zu is missing", i + 1);
		if (post_header(x, req->headers[i], i, cause) < 0)
			return -1;
	}
	return 0;
}

/* 1 when s holds a part of url that must stay private: its user, password, path or query (parts
 * under four characters such as "/" cannot carry a secret and would match by chance). */
static int url_secret_in(const char *url, const char *s)
{
	static const CURLUPart parts[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_PATH, CURLUPART_QUERY };
	CURLU *u = curl_url();
	int found = 0;
	if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		return strstr(s, url) != NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(parts) && !found; i++) {
		char *p = NULL;
		if (curl_url_get(u, parts[i], &p, 0) == CURLUE_OK && p && strlen(p) >= 4 && strstr(s, p))
			found = 1;
		curl_free(p);
	}
	curl_url_cleanup(u);
	return found;
}

/* A POST's cause names its target by scheme://host:port where that helps, and never holds the
 * rest of the URL, whatever libcurl's text said. */
static void post_cause(struct xfer *x, CURLcode rc, const char *url)
{
	struct fetch_result *r = x->res;
	if (r->outcome == FETCH_CONNECT_FAILED) {
		long err = 0;
		free(r->cause);
		r->cause = NULL;
		if (curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &err) == CURLE_OK && err > 0) {
			char *e = xstrdup(strerror((int)err));
			e[0] = (char)tolower((unsigned char)e[0]);
			set_cause(&r->cause, "cannot connect to %s: %s", x->hostkey, e);
			free(e);
		} else {
			set_cause(&r->cause, "cannot connect to %s: %s", x->hostkey, curl_detail(x, rc));
		}
	}
	if (r->cause && url_secret_in(url, r->cause)) {
		free(r->cause);
		r->cause = NULL;
		set_cause(&r->cause, "%s from %s: %s", fetch_outcome_name(r->outcome), x->hostkey,
			  curl_easy_strerror(rc));
	}
}

int fetch_post(const struct fetch_post_request *req, struct fetch_result *res, char **cause)
{
	memset(res, 0, sizeof *res);
	struct xfer x;
	memset(&x, 0, sizeof x);
	x.res = res;
	x.post = 1;
	if (req->limits)
		x.lim = *req->limits;
	else
		fetch_limits_init(&x.lim);
	if (x.lim.max_body > FETCH_ERROR_BODY)
		x.lim.max_body = FETCH_ERROR_BODY;
	const char *url = req->url ? req->url : "";
	char *why = NULL, *ua = NULL;
	CURL *e = NULL;
	CURLcode rc = CURLE_OK;

	if (post_headers(&x, req, &why) < 0 || fetch_global_init(&why) < 0)
		goto refused;
	if (url_hostkey(url, 1, &x.hostkey, &res->outcome, &res->cause) < 0) {
		res->final_url = xstrdup(url);
		xfer_release(&x, NULL);
		return 0;
	}
	ua = fetch_user_agent(req->contact);
	if (easy_setup(&x, url, ua, 0) < 0) {
		why = res->cause;
		res->cause = NULL;
		goto refused;
	}
	e = x.easy;
	if (!post_share && (post_share = curl_share_init()) != NULL) {
		curl_share_setopt(post_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
		curl_share_setopt(post_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	}
	if (post_share)
		SETOPT(CURLOPT_SHARE, post_share);
	SETOPT(CURLOPT_POST, 1L);
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	SETOPT(CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
	if (rc != CURLE_OK) {
		why = xasprintf("libcurl: %s", curl_easy_strerror(rc));
		goto refused;
	}
	x.start_ms = mono_ms();
	rc = curl_easy_perform(e);
	xfer_finish(&x, rc, req->has_now ? req->now : (int64_t)time(NULL));
	post_cause(&x, rc, url);
	xfer_release(&x, NULL);
	free(ua);
	return 0;

refused:
	xfer_release(&x, NULL);
	free(ua);
	fetch_result_release(res);
	res->outcome = FETCH_ERROR;
	res->final_url = xstrdup(url);
	res->cause = why ? why : xstrdup("cannot start the request");
	if (cause)
		*cause = xstrdup(res->cause);
	return -1;
}

/* ---- content checks ---- */

enum shape { SHAPE_EMPTY, SHAPE_JSON, SHAPE_XML, SHAPE_HTML, SHAPE_TEXT, SHAPE_BINARY };

static const char *const shape_names[] = {
	[SHAPE_EMPTY] = "an empty body",
	[SHAPE_JSON] = "JSON",
	[SHAPE_XML] = "XML",
	[SHAPE_HTML] = "HTML",
	[SHAPE_TEXT] = "plain text",
	[SHAPE_BINARY] = "binary data",
};

/* An ASCII view of up to max characters of the body from its start (or its end), through a UTF-8 or
 * UTF-16 byte order mark; characters outside ASCII become '?'. Returns the length written. */
static size_t ascii_view(const unsigned char *p, size_t len, int from_end, char *out, size_t max, int *nul)
{
	int unit = 1, big = 0;
	size_t start = 0;
	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
		start = 3;
	} else if (len >= 2 && ((p[0] == 0xfe && p[1] == 0xff) || (p[0] == 0xff && p[1] == 0xfe))) {
		unit = 2;
		big = p[0] == 0xfe;
		start = 2;
	}
	size_t units = (len - start) / (size_t)unit;
	size_t first = from_end && units > max ? units - max : 0;
	size_t k = 0;
	for (size_t i = first; i < units && k < max; i++) {
		const unsigned char *c = p + start + i * (size_t)unit;
		unsigned v = unit == 1 ? c[0] : big ? (unsigned)(c[0] << 8 | c[1]) : (unsigned)(c[1] << 8 | c[0]);
		if (v == 0)
			*nul = 1;
		out[k++] = v < 0x80 ? (char)v : '?';
	}
	out[k] = '\0';
	return k;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* The root element's name decides between HTML and other XML. */
static int html_element(const char *name, size_t n)
{
	static const char *const tags[] = {
		"html", "head", "body", "meta", "title", "div", "script", "style", "link", "p",
		"table", "span", "a", "br", "iframe", "form", "noscript", "h1", "center", "pre",
	};
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
		if (strlen(tags[i]) == n && strncasecmp(tags[i], name, n) == 0)
			return 1;
	return 0;
}

static enum shape sniff_markup(const char *s)
{
	for (;;) {
		while (is_blank(*s))
			s++;
		if (strncmp(s, "<?", 2) == 0 || strncmp(s, "<!--", 4) == 0) {
			const char *end = strstr(s, s[1] == '?' ? "?>" : "-->");
			if (!end)
				return SHAPE_XML;
			s = end + (s[1] == '?' ? 2 : 3);
			continue;
		}
		if (strncasecmp(s, "<!doctype", 9) == 0) {
			const char *t = s + 9;
			while (is_blank(*t))
				t++;
			if (strncasecmp(t, "html", 4) == 0)
				return SHAPE_HTML;
			const char *end = strchr(s, '>');
			if (!end)
				return SHAPE_XML;
			s = end + 1;
			continue;
		}
		break;
	}
	if (*s != '<')
		return SHAPE_XML;
	s++;
	size_t n = strcspn(s, " \t\r\n/>");
	return html_element(s, n) ? SHAPE_HTML : SHAPE_XML;
}

static enum shape sniff(const char *body, size_t len, char *last)
{
	char head[4097], tail[65];
	int nul = 0;
	ascii_view((const unsigned char *)body, len, 0, head, sizeof head - 1, &nul);
	size_t tl = ascii_view((const unsigned char *)body, len, 1, tail, sizeof tail - 1, &nul);
	while (tl && is_blank(tail[tl - 1]))
		tl--;
	*last = tl ? tail[tl - 1] : '\0';
	const char *s = head;
	while (is_blank(*s))
		s++;
	if (nul)
		return SHAPE_BINARY;
	if (*s == '\0')
		return SHAPE_EMPTY;
	if (*s == '{' || *s == '[')
		return SHAPE_JSON;
	if (*s == '<')
		return sniff_markup(s);
	if (strcasestr(s, "<html") || strcasestr(s, "<body"))
		return SHAPE_HTML;
	return SHAPE_TEXT;
}

/* 1 for media types that can never hold a status document. */
static int binary_type(const char *ct)
{
	static const char *const bad[] = {
		"image/", "audio/", "video/", "font/", "application/pdf", "application/zip",
		"application/gzip", "application/x-gzip",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (strncasecmp(ct, bad[i], strlen(bad[i])) == 0)
			return 1;
	return 0;
}

int fetch_check_kind(const char *content_type, const char *body, size_t len, enum fetch_kind want,
		     char **cause)
{
	static const char *const want_names[] = {
		[FETCH_KIND_JSON] = "JSON",
		[FETCH_KIND_XML] = "XML",
		[FETCH_KIND_HTML] = "HTML",
	};
	static const enum shape want_shapes[] = {
		[FETCH_KIND_JSON] = SHAPE_JSON,
		[FETCH_KIND_XML] = SHAPE_XML,
		[FETCH_KIND_HTML] = SHAPE_HTML,
	};
	if ((size_t)want >= ARRAY_SIZE(want_names))
		return set_cause(cause, "unknown document kind");
	const char *wn = want_names[want];
	if (content_type && binary_type(content_type))
		return set_cause(cause, "expected %s but got content type '%s'", wn, content_type);
	char last;
	enum shape got = sniff(body ? body : "", body ? len : 0, &last);
	if (got != want_shapes[want]) {
		if (content_type)
			return set_cause(cause, "expected %s but got %s (content type '%s')", wn, shape_names[got],
					 content_type);
		return set_cause(cause, "expected %s but got %s", wn, shape_names[got]);
	}
	if ((got == SHAPE_JSON && last != '}' && last != ']') || (got == SHAPE_XML && last != '>'))
		return set_cause(cause, "%s body looks truncated", wn);
	return 0;
}
