/* politeness.c: Retry-After, backoff with jitter and the next allowed fetch time. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "politeness.h"
#include "util.h"

#define SECS_MAX ((int64_t)1 << 40) /* far enough: about 35,000 years */

void polite_policy_init(struct polite_policy *p)
{
	p->min_interval = POLITE_MIN_INTERVAL;
	p->backoff_base = POLITE_BACKOFF_BASE;
	p->backoff_max = POLITE_BACKOFF_MAX;
	p->retry_after_max = POLITE_RETRY_AFTER_MAX;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

/* The fields of a civil time, checked by a round trip through the day arithmetic. */
static int civil_checked(int y, int mon, int d, int hh, int mi, int ss, int64_t *out)
{
	if (mon < 1 || d < 1 || d > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60)
		return -1;
	if (ss == 60)
		ss = 59;
	int64_t t = date_from_civil(y, mon, d, hh, mi, ss);
	int64_t cy;
	int cm, cd, chh, cmi, css;
	date_to_civil(t, &cy, &cm, &cd, &chh, &cmi, &css);
	if (cy != y || cm != mon || cd != d)
		return -1;
	*out = t;
	return 0;
}

/* The two obsolete HTTP-date forms: RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
 * ("Sun Nov  6 08:49:37 1994"). Two-digit years more than 50 years ahead of now are last century. */
static int http_date_obsolete(const char *s, int64_t now, int64_t *out)
{
	char mon[4];
	int d, y, hh, mi, ss, n = -1;
	int rfc850 = sscanf(s, "%*[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n",
			    &d, mon, &y, &hh, &mi, &ss, &n) == 6 && n > 0 && s[n] == '\0';
	if (rfc850) {
		int64_t cy;
		int cm, cd, chh, cmi, css;
		date_to_civil(now, &cy, &cm, &cd, &chh, &cmi, &css);
		y += (int)(cy - cy % 100);
		if (y > cy + 50)
			y -= 100;
	} else {
		n = -1;
		if (sscanf(s, "%*[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &d, &hh, &mi, &ss, &y, &n) != 6 ||
		    n <= 0 || s[n] != '\0')
			return -1;
	}
	int m = month_number(mon, strlen(mon));
	return m ? civil_checked(y, m, d, hh, mi, ss, out) : -1;
}

int retry_after_parse(const char *value, int64_t now, int64_t *delay, char **cause)
{
	while (*value == ' ' || *value == '\t')
		value++;
	size_t n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' || value[n - 1] == '\n'))
		n--;
	if (n == 0)
		return set_cause(cause, "empty retry-after");
	char *v = xstrndup(value, n);
	size_t digits = strspn(v, "0123456789");
	int64_t t;
	int rc = 0;
	if (digits == n) {
		int64_t d = 0;
		for (size_t i = 0; i < n && d < SECS_MAX; i++)
			d = d * 10 + (v[i] - '0');
		*delay = d < SECS_MAX ? d : SECS_MAX;
	} else if (date_parse(v, NULL, &t, NULL) == 0 || http_date_obsolete(v, now, &t) == 0) {
		*delay = t > now ? t - now : 0;
	} else {
		rc = set_cause(cause, "unrecognised retry-after '%s'", v);
	}
	free(v);
	return rc;
}

int64_t polite_backoff(const struct polite_policy *p, unsigned failures, uint32_t rnd)
{
	if (failures == 0)
		return 0;
	int64_t max = p->backoff_max > 0 ? p->backoff_max : 0;
	int64_t d = p->backoff_base > 0 ? p->backoff_base : 1;
	for (unsigned i = 0; i < failures && d < max; i++)
		d = d > max / 2 ? max : d * 2;
	if (d > max)
		d = max;
	int64_t half = d / 2;
	return half + (int64_t)((double)(d - half) * ((double)rnd / 4294967296.0));
}

int polite_may_fetch(const struct polite_state *s, int64_t now, int force)
{
	return force || now >= s->next_allowed;
}

void polite_record(struct polite_state *s, const struct polite_policy *p, int64_t now, int success,
		   int64_t retry_after, uint32_t rnd)
{
	int64_t wait = p->min_interval > 0 ? p->min_interval : 0;
	if (success) {
		s->failures = 0;
	} else {
		if (s->failures < 1000000)
			s->failures++;
		int64_t b = polite_backoff(p, s->failures, rnd);
		if (b > wait)
			wait = b;
	}
	if (retry_after >= 0) {
		int64_t ra = retry_after < p->retry_after_max ? retry_after : p->retry_after_max;
		if (ra > wait)
			wait = ra;
	}
	s->next_allowed = sat_add(now, wait);
}

uint32_t polite_rand(uint32_t *state)
{
	uint32_t x = *state ? *state : 2463534242u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}
