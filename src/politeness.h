/* politeness.h: when a URL may be fetched again: minimum interval, Retry-After and exponential
 * backoff with jitter. Pure functions: the caller supplies the clock and the random value, and
 * stores the state. Ownership: nothing here allocates. */
#ifndef SC_POLITENESS_H
#define SC_POLITENESS_H

#include <stdint.h>

/* The knobs, in seconds. polite_policy_init fills the defaults below. */
struct polite_policy {
	int64_t min_interval;    /* between two fetches of one URL */
	int64_t backoff_base;    /* the first failure waits between this and twice this */
	int64_t backoff_max;     /* the delay never grows past this */
	int64_t retry_after_max; /* a server's Retry-After is honoured up to this */
};
#define POLITE_MIN_INTERVAL 300
#define POLITE_BACKOFF_BASE 300
#define POLITE_BACKOFF_MAX 86400
#define POLITE_RETRY_AFTER_MAX 86400

/* What the caller stores per URL or vendor (and shows to the user). */
struct polite_state {
	int64_t next_allowed; /* UTC seconds; 0 = now */
	unsigned failures;    /* consecutive failed attempts */
};

void polite_policy_init(struct polite_policy *p);

/* Parse a Retry-After value (delta-seconds, or an HTTP-date in any of the three forms RFC 9110
 * allows) into seconds from now, never negative. Returns 0, or -1 with *cause when it is neither. */
int retry_after_parse(const char *value, int64_t now, int64_t *delay, char **cause);

/* The delay after `failures` consecutive failures: d = base * 2^failures capped at max, then
 * "equal jitter": d/2 plus the other half scaled by rnd (any 32-bit random value), so the result
 * lies in [d/2, d]. Returns 0 when failures is 0. */
int64_t polite_backoff(const struct polite_policy *p, unsigned failures, uint32_t rnd);
/* The next value of a jitter sequence kept in *state (xorshift32: spread, not secrecy). */
uint32_t polite_rand(uint32_t *state);

/* 1 when a fetch may start at now; force (sync --force) ignores the interval and any backoff. */
int polite_may_fetch(const struct polite_state *s, int64_t now, int force);

/* Record an attempt made at now: a success clears the failures, a failure adds one and backs off.
 * retry_after is the server's delay in seconds, or -1 when it sent none. The next allowed time is
 * the latest of the minimum interval, the backoff and the (capped) Retry-After. */
void polite_record(struct polite_state *s, const struct polite_policy *p, int64_t now, int success,
		   int64_t retry_after, uint32_t rnd);

#endif
