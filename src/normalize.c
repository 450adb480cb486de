/* normalize.c: UTF-8, text tidying, vocabularies and the date parser. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize.h"
#include "regex.h"
#include "util.h"

/* ---- UTF-8 ---- */

/* Length of the valid sequence at s (1-4), or 0 when it is invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t v, min;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; v = c & 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; v = c & 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; v = c & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

int utf8_valid(const char *s, size_t n, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t l = p[i] ? utf8_seq(p + i, n - i, &cp) : 0;
		if (!l) {
			if (bad)
				*bad = i;
			return 0;
		}
		i += l;
	}
	return 1;
}

size_t utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

char *utf8_sanitize(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	/* fast path: printable ASCII, tabs and line feeds need no work */
	size_t k = 0;
	while (k < n && ((p[k] >= 0x20 && p[k] < 0x7f) || p[k] == '\n' || p[k] == '\t'))
		k++;
	if (k == n)
		return xstrndup(s, n);
	struct buf b = BUF_INIT;
	buf_grow_to(&b, n + 16);
	buf_add(&b, s, k);
	size_t i = k;
	while (i < n) {
		uint32_t cp;
		size_t l = p[i] ? utf8_seq(p + i, n - i, &cp) : 0;
		if (!l) {
			buf_adds(&b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (cp == '\r') {
			if (i + 1 < n && p[i + 1] == '\n') {
				i++;
				continue;
			}
			buf_addc(&b, '\n');
		} else if (cp == 0x7f || (cp < 0x20 && cp != '\n' && cp != '\t') ||
			   (cp >= 0x80 && cp < 0xa0)) {
			/* control characters never reach the record */
		} else {
			buf_add(&b, p + i, l);
		}
		i += l;
	}
	return buf_detach(&b);
}

/* ---- text ---- */

char *text_clean(const char *s)
{
	/* NOTE: the result is never longer than s (it only drops and collapses), so it is written
	 * straight into one allocation */
	char *out = xmalloc(strlen(s) + 1);
	size_t o = 0;
	int pending_space = 0, newlines = 0, started = 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (c == '\n') {
			newlines++;
			pending_space = 0;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			pending_space = 1;
			continue;
		}
		/* U+00A0 no-break space counts as a space */
		if ((unsigned char)c == 0xc2 && (unsigned char)p[1] == 0xa0) {
			pending_space = 1;
			p++;
			continue;
		}
		if (started) {
			if (newlines) {
				out[o++] = '\n';
				if (newlines > 1)
					out[o++] = '\n';
			} else if (pending_space) {
				out[o++] = ' ';
			}
		}
		out[o++] = c;
		started = 1;
		newlines = 0;
		pending_space = 0;
	}
	out[o] = '\0';
	return out;
}

char *text_squash(const char *s)
{
	char *t = xstrdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\n')
			*p = ' ';
	char *r = text_clean(t);
	free(t);
	return r;
}

struct entity {
	const char *name;
	uint32_t cp;
};

static const struct entity entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", 0xa0 }, { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "ldquo", 0x201c }, { "rdquo", 0x201d }, { "hellip", 0x2026 },
	{ "bull", 0x2022 }, { "middot", 0xb7 }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "rarr", 0x2192 }, { "larr", 0x2190 }, { "times", 0xd7 },
	{ "deg", 0xb0 }, { "eacute", 0xe9 }, { "egrave", 0xe8 }, { "agrave", 0xe0 },
	{ "uuml", 0xfc }, { "ouml", 0xf6 }, { "auml", 0xe4 }, { "szlig", 0xdf },
	{ "ccedil", 0xe7 }, { "euro", 0x20ac }, { "laquo", 0xab }, { "raquo", 0xbb },
	{ "zwj", 0x200d }, { "zwnj", 0x200c }, { "shy", 0xad }, { "ensp", 0x2002 }, { "emsp", 0x2003 },
	{ "thinsp", 0x2009 },
};

char *html_unescape(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	size_t i = 0;
	while (i < n) {
		if (s[i] != '&') {
			buf_addc(&b, s[i++]);
			continue;
		}
		size_t j = i + 1;
		uint32_t cp = 0;
		int ok = 0;
		if (j < n && s[j] == '#') {
			j++;
			int hex = j < n && (s[j] == 'x' || s[j] == 'X');
			if (hex)
				j++;
			size_t digits = 0;
			while (j < n && digits < 8 && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j]))) {
				int v = isdigit((unsigned char)s[j]) ? s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10);
				cp = cp * (hex ? 16 : 10) + (uint32_t)v;
				j++;
				digits++;
			}
			ok = digits > 0;
		} else {
			size_t k = j;
			while (k < n && k - j < 10 && isalnum((unsigned char)s[k]))
				k++;
			for (size_t e = 0; e < ARRAY_SIZE(entities); e++) {
				if (strlen(entities[e].name) == k - j && !memcmp(entities[e].name, s + j, k - j)) {
					cp = entities[e].cp;
					ok = 1;
					j = k;
					break;
				}
			}
		}
		if (!ok) {
			buf_addc(&b, s[i++]);
			continue;
		}
		if (j < n && s[j] == ';')
			j++;
		char enc[4];
		buf_add(&b, enc, utf8_encode(cp, enc));
		i = j;
	}
	return buf_detach(&b);
}

/* ---- vocabularies ---- */

struct word {
	const char *raw;
	const char *canon;
};

static const struct word statuses[] = {
	{ "investigating", "investigating" }, { "identified", "identified" },
	{ "monitoring", "monitoring" }, { "watching", "monitoring" }, { "watched", "monitoring" },
	{ "recovering", "monitoring" }, { "update", "update" }, { "updated", "update" },
	{ "resolved", "resolved" }, { "fixed", "resolved" }, { "false_alarm", "resolved" },
	{ "ok", "resolved" }, { "closed", "resolved" }, { "available", "resolved" },
	{ "postmortem", "postmortem" }, { "post-mortem", "postmortem" }, { "post mortem", "postmortem" },
	{ "post-incident review", "postmortem" }, { "post incident review", "postmortem" },
	{ "incident report", "postmortem" }, { "root cause analysis", "postmortem" },
	{ "rca", "postmortem" },
	{ "scheduled", "scheduled" }, { "in progress", "in_progress" }, { "in_progress", "in_progress" },
	{ "underway", "in_progress" }, { "verifying", "verifying" }, { "completed", "completed" },
	{ "complete", "completed" }, { "cancelled", "completed" }, { "canceled", "completed" },
	{ "degraded", "investigating" }, { "downtime", "investigating" }, { "active", "investigating" },
	{ "detected", "investigating" }, { "ongoing", "investigating" },
	{ "service_disruption", "investigating" }, { "service_outage", "investigating" },
	{ "service_information", "update" },
};

static int word_eq(const char *a, const char *b)
{
	/* compare case-insensitively, treating '_' '-' and ' ' alike except where the table differs */
	for (; *a && *b; a++, b++) {
		int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
		if (ca == cb)
			continue;
		if ((ca == ' ' || ca == '_') && (cb == ' ' || cb == '_'))
			continue;
		return 0;
	}
	return *a == *b;
}

static const char *lookup(const struct word *t, size_t n, const char *raw)
{
	if (!raw)
		return NULL;
	char *w = text_squash(raw);
	const char *r = NULL;
	for (size_t i = 0; i < n && !r; i++)
		if (word_eq(w, t[i].raw))
			r = t[i].canon;
	free(w);
	return r;
}

const char *norm_status(const char *raw)
{
	return lookup(statuses, ARRAY_SIZE(statuses), raw);
}

int norm_status_is_maintenance(const char *c)
{
	return str_eq(c, "scheduled") || str_eq(c, "in_progress") || str_eq(c, "verifying") ||
	       str_eq(c, "completed");
}

int norm_status_is_closed(const char *c)
{
	return str_eq(c, "resolved") || str_eq(c, "postmortem") || str_eq(c, "completed");
}

static const struct word impacts[] = {
	{ "none", "none" }, { "minor", "minor" }, { "major", "major" }, { "critical", "critical" },
	{ "maintenance", "maintenance" }, { "low", "minor" }, { "medium", "major" }, { "high", "critical" },
	{ "degraded", "minor" }, { "degraded performance", "minor" }, { "degraded_performance", "minor" },
	{ "partial outage", "major" }, { "partial_outage", "major" }, { "major outage", "critical" },
	{ "major_outage", "critical" }, { "full outage", "critical" }, { "outage", "critical" },
	{ "downtime", "critical" }, { "informational", "none" }, { "info", "none" }, { "notice", "none" },
	{ "operational", "none" }, { "under maintenance", "maintenance" },
	{ "service_information", "none" }, { "service_disruption", "major" }, { "service_outage", "critical" },
};

const char *norm_impact(const char *raw)
{
	return lookup(impacts, ARRAY_SIZE(impacts), raw);
}

static const struct word comp_statuses[] = {
	{ "operational", "operational" }, { "degraded_performance", "degraded_performance" },
	{ "degraded performance", "degraded_performance" }, { "degraded", "degraded_performance" },
	{ "partial_outage", "partial_outage" }, { "partial outage", "partial_outage" },
	{ "major_outage", "major_outage" }, { "major outage", "major_outage" }, { "outage", "major_outage" },
	{ "full outage", "major_outage" }, { "downtime", "major_outage" },
	{ "under_maintenance", "under_maintenance" }, { "under maintenance", "under_maintenance" },
	{ "maintenance", "under_maintenance" }, { "up", "operational" }, { "ok", "operational" },
};

const char *norm_component_status(const char *raw)
{
	return lookup(comp_statuses, ARRAY_SIZE(comp_statuses), raw);
}

/* ---- dates ---- */

int64_t date_from_civil(int64_t y, int m, int d, int hh, int mi, int ss)
{
	/* Howard Hinnant's days_from_civil */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	return days * 86400 + hh * 3600 + mi * 60 + ss;
}

void date_to_civil(int64_t t, int64_t *y, int *m, int *d, int *hh, int *mi, int *ss)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (mm <= 2);
	*m = mm;
	*d = dd;
	*hh = (int)(secs / 3600);
	*mi = (int)(secs / 60 % 60);
	*ss = (int)(secs % 60);
}

static const char *const month_names[12] = {
	"january", "february", "march", "april", "may", "june", "july", "august", "september",
	"october", "november", "december",
};

int month_number(const char *s, size_t n)
{
	if (n < 3)
		return 0;
	for (int i = 0; i < 12; i++) {
		size_t full = strlen(month_names[i]);
		if (n > full)
			continue;
		if (strncasecmp(s, month_names[i], n) != 0)
			continue;
		/* "Sept" is the one four-letter abbreviation in use */
		if (n == 3 || n == full || (i == 8 && n == 4))
			return i + 1;
	}
	return 0;
}

struct zone {
	const char *name;
	int minutes;
};

/* NOTE: ambiguous abbreviations take the reading status pages use: IST is India, CST is US Central,
 * BST is British Summer Time. */
static const struct zone zones[] = {
	{ "UTC", 0 }, { "UT", 0 }, { "GMT", 0 }, { "Z", 0 }, { "WET", 0 }, { "WEST", 60 },
	{ "BST", 60 }, { "CET", 60 }, { "CEST", 120 }, { "MET", 60 }, { "MEST", 120 },
	{ "EET", 120 }, { "EEST", 180 }, { "MSK", 180 }, { "IST", 330 }, { "PKT", 300 },
	{ "ICT", 420 }, { "WIB", 420 }, { "SGT", 480 }, { "HKT", 480 }, { "AWST", 480 },
	{ "PHT", 480 }, { "JST", 540 }, { "KST", 540 }, { "ACST", 570 }, { "ACDT", 630 },
	{ "AEST", 600 }, { "AEDT", 660 }, { "NZST", 720 }, { "NZDT", 780 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 }, { "MST", -420 },
	{ "MDT", -360 }, { "PST", -480 }, { "PDT", -420 }, { "AKST", -540 }, { "AKDT", -480 },
	{ "HST", -600 }, { "AST", -240 }, { "ADT", -180 }, { "NST", -210 }, { "NDT", -150 },
	{ "BRT", -180 }, { "ART", -180 },
};

int zone_offset(const char *zone, size_t n, int *seconds)
{
	for (size_t i = 0; i < ARRAY_SIZE(zones); i++) {
		if (strlen(zones[i].name) == n && strncasecmp(zones[i].name, zone, n) == 0) {
			*seconds = zones[i].minutes * 60;
			return 0;
		}
	}
	struct re_match m;
	if (re_exec(RE_ZONE_OFFSET, zone, n, &m) == 1) {
		long hh = re_group_long(&m, "hh"), mm = re_group_long(&m, "mm");
		const char *sp;
		size_t sn;
		re_group(&m, "sign", &sp, &sn);
		if (mm < 0)
			mm = 0;
		if (hh > 14 || mm > 59)
			return -1;
		*seconds = (int)((hh * 60 + mm) * 60) * (*sp == '-' ? -1 : 1);
		return 0;
	}
	return -1;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* Year-less dates: the latest year that puts the date no more than this after the reference. */
#define YEARLESS_SLACK (7 * 86400)

static int finish(const char *text, const struct re_match *m, const struct date_ctx *ctx, int month,
		  int need_zone, int64_t *out, char **cause)
{
	long y = re_group_long(m, "y"), d = re_group_long(m, "d");
	long h = re_group_long(m, "h"), mi = re_group_long(m, "mi"), s = re_group_long(m, "s");
	const char *zp, *ap;
	size_t zn, an;
	int off = 0;
	if (h < 0)
		h = mi = 0;
	if (s < 0)
		s = 0;
	if (re_group(m, "ampm", &ap, &an)) {
		if (h < 1 || h > 12)
			return set_cause(cause, "invalid hour in '%s'", text);
		int pm = tolower((unsigned char)ap[0]) == 'p';
		h = h % 12 + (pm ? 12 : 0);
	}
	if (re_group(m, "zone", &zp, &zn)) {
		if (zone_offset(zp, zn, &off) < 0)
			return set_cause(cause, "unknown time zone '%.*s' in '%s'", (int)zn, zp, text);
	} else if (need_zone) {
		return set_cause(cause, "no time zone in '%s'", text);
	}
	if (y >= 0 && y < 100)
		y += y < 50 ? 2000 : 1900;
	if (month < 1 || month > 12 || d < 1 || h > 24 || mi > 59 || s > 60 || (h == 24 && (mi || s)))
		return set_cause(cause, "invalid date '%s'", text);
	if (s == 60)
		s = 59;
	if (y < 0) {
		if (!ctx || !ctx->has_ref)
			return set_cause(cause, "no year in '%s' and no reference date to infer it", text);
		int64_t ry;
		int rm, rd, rh, rmi, rs;
		date_to_civil(ctx->ref + off, &ry, &rm, &rd, &rh, &rmi, &rs);
		y = (long)ry;
		if (d > days_in_month(y, month) && month == 2 && d == 29)
			y--; /* Feb 29 exists only in a leap year: try the one before */
		int64_t t = date_from_civil(y, month, (int)d, (int)h, (int)mi, (int)s) - off;
		if (t > ctx->ref + YEARLESS_SLACK)
			y--;
	}
	if (y < 1970 || y > 9999 || d > days_in_month(y, month))
		return set_cause(cause, "invalid date '%s'", text);
	*out = date_from_civil(y, month, (int)d, (int)h, (int)mi, (int)s) - off;
	return 0;
}

int date_parse(const char *text, const struct date_ctx *ctx, int64_t *out, char **cause)
{
	if (!text)
		return set_cause(cause, "no date");
	char *t = text_squash(text);
	size_t n = strlen(t);
	struct re_match m;
	int rc;
	const char *mp;
	size_t mn;
	if (!n) {
		rc = set_cause(cause, "empty date");
	} else if (re_exec(RE_DATE_EPOCH, t, n, &m) == 1) {
		const char *p;
		size_t pn;
		re_group(&m, "num", &p, &pn);
		int64_t v = 0;
		for (size_t i = 0; i < pn; i++)
			v = v * 10 + (p[i] - '0');
		*out = pn >= 12 ? v / 1000 : v;
		rc = 0;
	} else if (re_exec(RE_DATE_ISO, t, n, &m) == 1) {
		/* a date alone is midnight UTC; a time needs a zone */
		rc = finish(t, &m, ctx, (int)re_group_long(&m, "mo"), re_group(&m, "h", &mp, &mn), out, cause);
	} else if (re_exec(RE_DATE_RFC822, t, n, &m) == 1 || re_exec(RE_DATE_MONTHDAY, t, n, &m) == 1 ||
		   re_exec(RE_DATE_DAYMONTH, t, n, &m) == 1) {
		re_group(&m, "mon", &mp, &mn);
		int mon = month_number(mp, mn);
		if (!mon)
			rc = set_cause(cause, "unknown month '%.*s' in '%s'", (int)mn, mp, t);
		else
			rc = finish(t, &m, ctx, mon, 1, out, cause);
	} else {
		rc = set_cause(cause, "unrecognised date '%s'", t);
	}
	free(t);
	return rc;
}

int64_t duration_parse(const char *text)
{
	struct re_match m;
	if (!text || !*text || re_exec(RE_DURATION, text, strlen(text), &m) != 1)
		return -1;
	long d = re_group_long(&m, "d"), h = re_group_long(&m, "h");
	long mi = re_group_long(&m, "m"), s = re_group_long(&m, "s");
	if (d < 0 && h < 0 && mi < 0 && s < 0)
		return -1;
	return (int64_t)(d > 0 ? d : 0) * 86400 + (h > 0 ? h : 0) * 3600 + (mi > 0 ? mi : 0) * 60 +
	       (s > 0 ? s : 0);
}

void duration_format(int64_t s, char *out, size_t n)
{
	if (s >= 86400)
		snprintf(out, n, "%lldd %lldh %lldm", (long long)(s / 86400), (long long)(s % 86400 / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(out, n, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
}
