/* notify.h: delivering the outbox. Each run matches the events recorded since the last one against
 * every sink (history older than the sink is held back), then sends what is due in event order,
 * recording each attempt before it is made and each confirmation right after, so a kill at any
 * moment loses nothing and re-sends only what was not confirmed (with the same idempotency key).
 * Failures retry with backoff. Ownership: notify_run fills a report the caller clears. */
#ifndef SC_NOTIFY_H
#define SC_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct notify_opts {
	int64_t now;
	const char *sink;          /* NULL: every sink */
	const char *contact;       /* for a webhook's User-Agent */
	size_t max_per_sink;       /* attempts per sink in one run; 0: until nothing is due */
	uint32_t seed;             /* jitter of the backoff */
	int replay;                /* also send what was held back as history ... */
	int has_since;             /* ... that the vendor dates at or after since, when set */
	int64_t since;
	int retry_failed;          /* send again what was given up */
};
#define NOTIFY_BACKOFF_BASE 60      /* seconds before the first retry (up to twice that) */
#define NOTIFY_BACKOFF_MAX 21600    /* retries are never further apart than six hours */
#define NOTIFY_GIVE_UP 20           /* refusals of one event by a sink that is up (about three days) */

struct notify_sink_report {
	char *name;
	size_t matched;            /* events newly matched to the sink */
	size_t held;               /* of those, history held back */
	size_t released;           /* held (or given up) events made pending again */
	size_t gave_up;            /* events given up in this run (notify --retry-failed sends them again) */
	size_t delivered;
	size_t failed;             /* failed attempts */
	size_t pending;            /* waiting after the run */
	int down;                  /* stopped early: the sink is unreachable or failing as a whole */
	int backing_off;           /* not tried: the sink failed as a whole earlier and waits */
	char *error;               /* the last failure, or NULL */
	int has_next;
	int64_t next_at;           /* the next retry, when one is pending */
};
struct notify_report {
	struct notify_sink_report *v;
	size_t n;
	size_t delivered, failed;
};
void notify_opts_init(struct notify_opts *o, int64_t now);
/* Run once. -1 (or DB_LOCKED) with *cause only when the archive fails; a sink's failures are in
 * the report and stay pending. */
int notify_run(struct db *db, const struct notify_opts *o, struct notify_report *r, char **cause);
void notify_report_clear(struct notify_report *r);

#endif
