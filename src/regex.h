/* regex.h: the one wrapper around PCRE2. Patterns live in one table (regex.c), are compiled once on
 * first use and freed by re_cleanup. Ownership: a struct re_match borrows its subject string. */
#ifndef SC_REGEX_H
#define SC_REGEX_H

#include <stddef.h>

enum re_id {
	RE_DATE_ISO,      /* 2025-01-16T12:23:00.123+00:00, 2025-01-16 12:23 UTC, 2025-01-16 */
	RE_DATE_RFC822,   /* Thu, 16 Jan 2025 12:23:00 +0000 (weekday and seconds optional) */
	RE_DATE_EPOCH,    /* 1579178580 or 1579178580000 */
	RE_DATE_MONTHDAY, /* Jan 16, 12:23 PST / Jan 16, 2025 - 12:23 UTC / Jan 16, 2025, 12:23 PM UTC */
	RE_DATE_DAYMONTH, /* 16 January 2025 12:23 UTC / 16 Jan 2025, 12:23 UTC */
	RE_ZONE_OFFSET,   /* +05:30, -0800, UTC+2, GMT-03:00 */
	RE_DURATION,      /* 2h 6m, 2 hours 6 minutes, 45s, 1d 2h */
	RE_COUNT
};

#define RE_MAX_GROUPS 24

struct re_match {
	const char *subject;
	size_t ovec[2 * RE_MAX_GROUPS];
	int n;
	enum re_id id;
};

/* Match pattern id against s[0..len); 1 on match, 0 on none, -1 on an engine error (e.g. match limit). */
int re_exec(enum re_id id, const char *s, size_t len, struct re_match *m);
/* The named group's span; 0 when the group did not take part in the match. */
int re_group(const struct re_match *m, const char *name, const char **p, size_t *n);
/* The named group as a new string, or NULL when unset. */
char *re_group_dup(const struct re_match *m, const char *name);
/* The named group as a non-negative integer, or -1 when unset or not a number. */
long re_group_long(const struct re_match *m, const char *name);
void re_cleanup(void);

#endif
