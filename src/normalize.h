/* normalize.h: dates, text and vocabularies: the pure functions every parser shares.
 * Ownership: functions returning char * return a new string the caller frees; const char *
 * results point at static tables. Nothing here touches the clock, the network or the disk. */
#ifndef SC_NORMALIZE_H
#define SC_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ---- */

/* 1 when s[0..n) is valid UTF-8 (no overlongs, surrogates or NUL); else 0 and *bad = first bad offset. */
int utf8_valid(const char *s, size_t n, size_t *bad);
/* A copy with invalid sequences replaced by U+FFFD, CR LF folded to LF, and control characters
 * other than LF and TAB dropped. */
char *utf8_sanitize(const char *s, size_t n);
/* Append the UTF-8 encoding of code point cp (invalid ones become U+FFFD); returns bytes written (<= 4). */
size_t utf8_encode(uint32_t cp, char *out);

/* ---- text ---- */

/* Plain text tidied for the record: runs of spaces and tabs become one space, spaces around line
 * breaks go, at most one blank line in a row, no leading or trailing blank space. */
char *text_clean(const char *s);
/* Collapse all whitespace (line breaks too) into single spaces and trim: for titles and labels. */
char *text_squash(const char *s);
/* Decode HTML character references (&amp; &#39; &#x2019; &nbsp; and the common named ones) in s.
 * Unknown or bare '&' stay as they are. */
char *html_unescape(const char *s, size_t n);

/* ---- vocabularies (see starchive(5)) ---- */

/* Canonical incident/update status for a vendor word or label, or NULL when unknown:
 * investigating, identified, monitoring, update, resolved, postmortem, scheduled, in_progress,
 * verifying, completed. */
const char *norm_status(const char *raw);
/* 1 when a canonical status belongs to maintenances. */
int norm_status_is_maintenance(const char *canon);
/* 1 when a canonical status closes an incident (resolved, postmortem, completed). */
int norm_status_is_closed(const char *canon);
/* Canonical impact: none, minor, major, critical, maintenance; NULL when unknown. */
const char *norm_impact(const char *raw);
/* Canonical component status: operational, degraded_performance, partial_outage, major_outage,
 * under_maintenance; NULL when unknown. */
const char *norm_component_status(const char *raw);

/* ---- dates ---- */

struct date_ctx {
	int has_ref;    /* a reference time for texts without a year */
	int64_t ref;    /* UTC seconds; year-less dates land on or before ref (+7 days of slack) */
};

/* Parse any supported date text into UTC seconds. Returns 0, or -1 with *cause naming the text and
 * the problem (unknown zone, no zone, no year and no reference, out of range). */
int date_parse(const char *text, const struct date_ctx *ctx, int64_t *out, char **cause);
/* Offset east of UTC in seconds for a zone abbreviation (UTC, PST, CEST...) or numeric offset. */
int zone_offset(const char *zone, size_t n, int *seconds);
/* Days-from-civil arithmetic, valid for every proleptic Gregorian date. */
int64_t date_from_civil(int64_t y, int m, int d, int hh, int mi, int ss);
void date_to_civil(int64_t t, int64_t *y, int *m, int *d, int *hh, int *mi, int *ss);
/* Month number (1-12) for an English month name or abbreviation, or 0. */
int month_number(const char *s, size_t n);
/* Parse a duration such as "2h 6m" or "2 hours 6 minutes" into seconds; -1 when not one. */
int64_t duration_parse(const char *text);
/* Write a duration in seconds as "2h 6m", or "1d 2h 6m" from a day on. */
void duration_format(int64_t s, char *out, size_t n);

#endif
