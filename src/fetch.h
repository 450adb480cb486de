/* fetch.h: HTTP(S) GETs run concurrently with bounds on time, size, redirects and protocols, with
 * conditional requests, and single webhook POSTs; the one module that talks to libcurl. No libcurl
 * type crosses this header. Ownership: requests are the caller's and are only read; fetch_run and
 * fetch_post fill each fetch_result with strings and a body it owns, and fetch_result_release frees
 * them. */
#ifndef SC_FETCH_H
#define SC_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* How one transfer ended. Branch on this; the cause string is for people. */
enum fetch_outcome {
	FETCH_OK,                 /* a 2xx response; the body is complete and within the cap */
	FETCH_NOT_MODIFIED,       /* 304 to a conditional request: nothing changed, no body */
	FETCH_HTTP_ERROR,         /* any other final status (see status and retry_after) */
	FETCH_TOO_LARGE,          /* the decoded body passed max_body (endless bodies, gzip bombs) */
	FETCH_TIMEOUT,            /* connect or total timeout, or slower than the low-speed limit */
	FETCH_TOO_MANY_REDIRECTS, /* more than FETCH_MAX_REDIRECTS, or a loop */
	FETCH_BAD_PROTOCOL,       /* the URL, or a redirect, is not http or https */
	FETCH_BAD_URL,            /* not a URL libcurl accepts */
	FETCH_RESOLVE_FAILED,     /* the host (or proxy) name does not resolve */
	FETCH_CONNECT_FAILED,     /* refused or unreachable */
	FETCH_TLS_FAILED,         /* handshake or certificate verification */
	FETCH_BAD_RESPONSE,       /* the connection broke or the reply was not valid HTTP or encoding */
	FETCH_ERROR,              /* anything else libcurl reports */
};

/* Redirects followed at most, and the only protocols allowed (also after a redirect). */
#define FETCH_MAX_REDIRECTS 5

/* Bounds of one transfer. fetch_limits_init gives the defaults; every field is used as set. */
struct fetch_limits {
	long connect_timeout_ms; /* TCP and TLS set-up */
	long timeout_ms;         /* the whole transfer, redirects included */
	long low_speed_bytes;    /* abort when slower than this many bytes a second ... */
	long low_speed_secs;     /* ... for this many seconds (whole seconds: libcurl's unit) */
	size_t max_body;         /* decoded bytes kept; one more aborts the transfer with FETCH_TOO_LARGE */
};
#define FETCH_CONNECT_TIMEOUT_MS 10000
#define FETCH_TIMEOUT_MS 60000
#define FETCH_LOW_SPEED_BYTES 100
#define FETCH_LOW_SPEED_SECS 20
#define FETCH_MAX_BODY ((size_t)16 << 20)

/* One GET. The validators are sent back exactly as the server gave them. */
struct fetch_request {
	const char *url;
	const char *etag;          /* If-None-Match, or NULL */
	const char *last_modified; /* If-Modified-Since, or NULL */
	const char *accept;        /* an Accept header such as "application/json", or NULL for any */
	const struct fetch_limits *limits; /* NULL: the run's limits */
};

/* Options of one run. fetch_opts_init gives the defaults. */
struct fetch_opts {
	int jobs;                  /* transfers at once, across hosts (at least 1) */
	int max_host_conns;        /* connections to one host:port at once */
	const char *contact;       /* appended to the User-Agent as "(+CONTACT)"; NULL or "" for none */
	struct fetch_limits limits;
	int has_now;               /* a fixed clock for Retry-After dates (tests, --now) ... */
	int64_t now;               /* ... in UTC seconds; otherwise the real clock */
};
#define FETCH_JOBS 4
#define FETCH_MAX_HOST_CONNS 2

/* What came back. Strings are NULL when absent. Headers are those of the final response. */
struct fetch_result {
	enum fetch_outcome outcome;
	long status;          /* the last HTTP status seen, 0 when no response arrived */
	char *final_url;      /* after redirects (the request URL when none happened) */
	char *content_type;   /* as sent, parameters included */
	char *etag;           /* validators to store for the next request */
	char *last_modified;
	int has_retry_after;
	int64_t retry_after;  /* seconds from now (never negative) when has_retry_after */
	struct buf body;      /* decoded bytes; an error status keeps at most FETCH_ERROR_BODY of them */
	int64_t elapsed_ms;   /* from the transfer's start to its end */
	int redirects;        /* how many were followed */
	char *cause;          /* NULL for FETCH_OK and FETCH_NOT_MODIFIED; else one lowercase line */
};
#define FETCH_ERROR_BODY ((size_t)64 << 10)

void fetch_limits_init(struct fetch_limits *l);
void fetch_opts_init(struct fetch_opts *o);

/* Run n requests, at most o->jobs at once and o->max_host_conns per host, and fill res[0..n).
 * Every result is set even when its transfer fails; -1 (with *cause) only when the run could not
 * start at all, and then the results are still safe to release. Initialises libcurl on first use.
 * NOTE: libcurl runs with CURLOPT_NOSIGNAL, so the program must ignore SIGPIPE (a peer closing a
 * TLS connection would otherwise kill it). */
int fetch_run(const struct fetch_request *req, struct fetch_result *res, size_t n, const struct fetch_opts *o,
	      char **cause);
/* One POST (a webhook delivery). Headers are whole "Name: value" lines; a line whose name or value
 * holds CR, LF or another control character refuses the request. */
struct fetch_post_request {
	const char *url;
	const void *body;          /* the bytes sent as they are (NULL with body_len 0: empty) */
	size_t body_len;
	const char *content_type;  /* such as "application/json"; NULL sends no Content-Type */
	const char *const *headers; /* extra lines such as "Idempotency-Key: ...", or NULL */
	size_t n_headers;
	const struct fetch_limits *limits; /* NULL: the defaults of fetch_limits_init */
	const char *contact;       /* appended to the User-Agent as with fetch_opts */
	int has_now;               /* a fixed clock for Retry-After dates (tests) ... */
	int64_t now;               /* ... in UTC seconds; otherwise the real clock */
};

/* Send one POST and fill *res: FETCH_OK only for a 2xx, whose body (as any other status's) is kept
 * up to FETCH_ERROR_BODY (or limits->max_body when smaller) and cut there without failing. Redirects
 * are never followed: a 3xx is FETCH_HTTP_ERROR with its status. No "Expect: 100-continue" wait.
 * Causes name the target only as scheme://host:port, never its path or query (webhook URLs carry
 * secrets); a bad URL is FETCH_BAD_URL or FETCH_BAD_PROTOCOL in *res. Returns -1 (with *cause, and
 * the same cause in res) only when the request could not start: a refused header, no libcurl.
 * NOTE: as with fetch_run, the program must ignore SIGPIPE. */
int fetch_post(const struct fetch_post_request *req, struct fetch_result *res, char **cause);
/* Free what a result owns and zero it; safe on a zeroed or half-filled result. */
void fetch_result_release(struct fetch_result *r);
/* Release libcurl's global state (once, at exit, after the last fetch_run). */
void fetch_cleanup(void);

/* The outcome's stable name for storage and display: "ok", "not_modified", "http_error"... */
const char *fetch_outcome_name(enum fetch_outcome oc);
/* The User-Agent sent: "starchive/VERSION" plus " (+CONTACT)" when contact is set; caller frees. */
char *fetch_user_agent(const char *contact);

/* The families of documents a source can be. */
enum fetch_kind {
	FETCH_KIND_JSON,
	FETCH_KIND_XML,  /* RSS, Atom and other XML */
	FETCH_KIND_HTML,
};

/* Check that a body and its content type look like the expected family before the page counts
 * ("no incidents" must not come from a bot-check page). The body's shape decides (servers
 * mislabel types) but a binary content type fails; a JSON or XML body must also end like one,
 * which catches truncation. Returns 0, or -1 with *cause such as "expected JSON but got HTML". */
int fetch_check_kind(const char *content_type, const char *body, size_t len, enum fetch_kind want,
		     char **cause);

#endif
