/* regex.c: the PCRE2 pattern table and its matcher. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "regex.h"
#include "util.h"

struct pattern {
	enum re_id id;
	const char *source;
};

#define MON "(?<mon>[A-Za-z]{3,9})\\.?"
#define HMS "(?<h>\\d{1,2}):(?<mi>\\d{2})(?::(?<s>\\d{2})(?:[.,]\\d+)?)?"
#define AMPM "(?:\\s*(?<ampm>[AaPp]\\.?[Mm]\\.?))?"
#define ZONE "(?:\\s*\\(?(?<zone>Z|[A-Za-z]{1,6}(?:[+-]\\d{1,2}(?::?\\d{2})?)?|[+-]\\d{2}:?\\d{2})\\)?)?"

/* NOTE: the order of this table must follow enum re_id. */
static const struct pattern patterns[RE_COUNT] = {
	{ RE_DATE_ISO,
	  "^(?<y>\\d{4})-(?<mo>\\d{1,2})-(?<d>\\d{1,2})"
	  "(?:(?:T|\\s+)(?<h>\\d{1,2}):(?<mi>\\d{2})(?::(?<s>\\d{2})(?:[.,]\\d+)?)?"
	  "\\s*(?<zone>Z|[+-]\\d{2}(?::?\\d{2})?|[A-Za-z]{1,5})?)?$" },
	{ RE_DATE_RFC822,
	  "^(?:(?<wd>[A-Za-z]{3,9}),?\\s+)?(?<d>\\d{1,2})\\s+" MON "\\s+(?<y>\\d{2,4}),?\\s+"
	  HMS AMPM ZONE "$" },
	{ RE_DATE_EPOCH, "^(?<num>\\d{9,14})(?:\\.\\d+)?$" },
	{ RE_DATE_MONTHDAY,
	  "^(?:(?<wd>[A-Za-z]{3,9}),?\\s+)?" MON "\\s+(?<d>\\d{1,2})(?:st|nd|rd|th)?,?"
	  "(?:\\s*(?<y>\\d{4}))?\\s*(?:-|,|at|@)?\\s*" HMS AMPM ZONE "$" },
	{ RE_DATE_DAYMONTH,
	  "^(?:(?<wd>[A-Za-z]{3,9}),?\\s+)?(?<d>\\d{1,2})(?:st|nd|rd|th)?\\s+" MON ",?\\s+(?<y>\\d{4})"
	  "\\s*(?:-|,|at|@)?\\s*" HMS AMPM ZONE "$" },
	{ RE_ZONE_OFFSET,
	  "^(?:UTC|GMT)?\\s*(?<sign>[+-])(?<hh>\\d{1,2})(?::?(?<mm>\\d{2}))?$" },
	{ RE_DURATION,
	  "^\\s*(?:(?<d>\\d+)\\s*(?:d|days?)\\s*)?(?:(?<h>\\d+)\\s*(?:h|hrs?|hours?)\\s*)?"
	  "(?:(?<m>\\d+)\\s*(?:m|mins?|minutes?)\\s*)?(?:(?<s>\\d+)\\s*(?:s|secs?|seconds?))?\\s*$" },
};

static pcre2_code *compiled[RE_COUNT];
static pcre2_match_data *match_data;

static pcre2_code *get(enum re_id id)
{
	if (!compiled[id]) {
		int err;
		PCRE2_SIZE off;
		compiled[id] = pcre2_compile((PCRE2_SPTR)patterns[id].source, PCRE2_ZERO_TERMINATED,
					     PCRE2_CASELESS | PCRE2_UTF | PCRE2_NO_UTF_CHECK, &err, &off, NULL);
		if (!compiled[id]) {
			/* A bad pattern in the table is a programming error caught by the unit tests. */
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof msg);
			fprintf(stderr, "starchive: internal error: pattern %d: %s at %zu\n", (int)id,
				(char *)msg, (size_t)off);
			abort();
		}
	}
	if (!match_data)
		match_data = pcre2_match_data_create(RE_MAX_GROUPS, NULL);
	return compiled[id];
}

int re_exec(enum re_id id, const char *s, size_t len, struct re_match *m)
{
	pcre2_code *re = get(id);
	memset(m, 0, sizeof *m);
	m->subject = s;
	m->id = id;
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, match_data, NULL);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match_data);
	uint32_t count = pcre2_get_ovector_count(match_data);
	if (count > RE_MAX_GROUPS)
		count = RE_MAX_GROUPS;
	for (uint32_t i = 0; i < 2 * count; i++)
		m->ovec[i] = ov[i];
	m->n = (int)count;
	return 1;
}

int re_group(const struct re_match *m, const char *name, const char **p, size_t *n)
{
	int num = pcre2_substring_number_from_name(compiled[m->id], (PCRE2_SPTR)name);
	if (num < 0 || num >= m->n)
		return 0;
	size_t a = m->ovec[2 * num], b = m->ovec[2 * num + 1];
	if (a == PCRE2_UNSET || b == PCRE2_UNSET || b < a)
		return 0;
	*p = m->subject + a;
	*n = b - a;
	return 1;
}

char *re_group_dup(const struct re_match *m, const char *name)
{
	const char *p;
	size_t n;
	return re_group(m, name, &p, &n) ? xstrndup(p, n) : NULL;
}

long re_group_long(const struct re_match *m, const char *name)
{
	const char *p;
	size_t n;
	if (!re_group(m, name, &p, &n) || n == 0 || n > 18)
		return -1;
	long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

void re_cleanup(void)
{
	for (int i = 0; i < RE_COUNT; i++) {
		pcre2_code_free(compiled[i]);
		compiled[i] = NULL;
	}
	pcre2_match_data_free(match_data);
	match_data = NULL;
}
