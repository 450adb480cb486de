/* test-dates.c: the date parser against a table of real-world date texts. */
#include "config.h"

#include <stdlib.h>

#include "normalize.h"
#include "record.h"
#include "regex.h"
#include "unit.h"

struct vec {
	const char *text;
	const char *ref;  /* reference for year-less texts, or NULL */
	const char *want; /* UTC ISO 8601, or "!" + a fragment of the expected error */
};

static const struct vec vecs[] = {
	/* RFC 3339 / ISO 8601 */
	{ "2025-01-16T12:23:00Z", NULL, "2025-01-16T12:23:00Z" },
	{ "2025-01-16T12:23:00.572Z", NULL, "2025-01-16T12:23:00Z" },
	{ "2019-02-20T13:40:58.572-06:00", NULL, "2019-02-20T19:40:58Z" },
	{ "2024-03-13T06:55:00+00:00", NULL, "2024-03-13T06:55:00Z" },
	{ "2024-03-13T06:55:00+0530", NULL, "2024-03-13T01:25:00Z" },
	{ "2024-03-13T06:55+02:00", NULL, "2024-03-13T04:55:00Z" },
	{ "2024-03-13 06:55:00 UTC", NULL, "2024-03-13T06:55:00Z" },
	{ "2024-03-13 06:55:00Z", NULL, "2024-03-13T06:55:00Z" },
	{ "2024-03-13t06:55:00z", NULL, "2024-03-13T06:55:00Z" },
	{ "2024-03-13", NULL, "2024-03-13T00:00:00Z" },
	{ "2024-02-29T23:59:59Z", NULL, "2024-02-29T23:59:59Z" },
	{ "2000-01-01T00:00:00-00:30", NULL, "2000-01-01T00:30:00Z" },
	{ "2016-12-31T23:59:60Z", NULL, "2016-12-31T23:59:59Z" },
	{ "2025-09-17T09:58:00.123456789+00:00", NULL, "2025-09-17T09:58:00Z" },
	{ "2024-03-13T06:55:00", NULL, "!no time zone" },
	{ "2023-02-29T00:00:00Z", NULL, "!invalid date" },
	{ "2024-13-01T00:00:00Z", NULL, "!invalid date" },
	{ "2024-01-01T25:00:00Z", NULL, "!invalid date" },
	{ "2024-01-01T10:61:00Z", NULL, "!invalid date" },
	/* RFC 822 / 1123 */
	{ "Thu, 16 Jan 2025 12:23:00 +0000", NULL, "2025-01-16T12:23:00Z" },
	{ "Thu, 16 Jan 2025 04:23:00 -0800", NULL, "2025-01-16T12:23:00Z" },
	{ "Wed,  8 Mar 2017 10:00:00 PST", NULL, "2017-03-08T18:00:00Z" },
	{ "8 Mar 2017 10:00:00 GMT", NULL, "2017-03-08T10:00:00Z" },
	{ "Thu, 06 Aug 2026 01:09:00 Z", NULL, "2026-08-06T01:09:00Z" },
	{ "Mon, 01 Jul 2024 12:00 EDT", NULL, "2024-07-01T16:00:00Z" },
	{ "Mon, 01 Jul 24 12:00:00 +0200", NULL, "2024-07-01T10:00:00Z" },
	{ "Tue, 14 Nov 2023 14:07:31 UT", NULL, "2023-11-14T14:07:31Z" },
	{ "Tue, 14 Nov 2023 14:07:31 CET", NULL, "2023-11-14T13:07:31Z" },
	{ "Sun, 31 Mar 2024 03:30:00 CEST", NULL, "2024-03-31T01:30:00Z" },
	{ "Tue, 14 Nov 2023 14:07:31 XYZ", NULL, "!unknown time zone 'XYZ'" },
	{ "Tue, 14 Nov 2023 14:07:31", NULL, "!no time zone" },
	{ "Tue, 14 Foo 2023 14:07:31 UTC", NULL, "!unknown month" },
	{ "Fri, 31 Feb 2023 10:00:00 GMT", NULL, "!invalid date" },
	/* epoch */
	{ "1579178580", NULL, "2020-01-16T12:43:00Z" },
	{ "1579178580000", NULL, "2020-01-16T12:43:00Z" },
	{ "1663102886000", NULL, "2022-09-13T21:01:26Z" },
	{ "1700000000.5", NULL, "2023-11-14T22:13:20Z" },
	/* Statuspage feed blocks: no year */
	{ "Nov 14, 14:07 PST", "2023-11-15T00:00:00Z", "2023-11-14T22:07:00Z" },
	{ "Jan  1, 09:09 PST", "2014-01-03T00:00:00Z", "2014-01-01T17:09:00Z" },
	{ "Dec 31, 23:10 UTC", "2025-01-02T10:00:00Z", "2024-12-31T23:10:00Z" },
	{ "Dec 30, 18:00 EST", "2025-01-05T00:00:00Z", "2024-12-30T23:00:00Z" },
	{ "Jan  2, 08:20 JST", "2024-12-31T23:30:00Z", "2025-01-01T23:20:00Z" },
	{ "Feb 29, 10:00 UTC", "2025-03-10T00:00:00Z", "2024-02-29T10:00:00Z" },
	{ "Mar 13, 06:55 CET", "2024-03-20T00:00:00Z", "2024-03-13T05:55:00Z" },
	{ "Sep  1, 23:26 UTC", "2026-09-02T00:00:00Z", "2026-09-01T23:26:00Z" },
	{ "Nov 14, 14:07 PST", NULL, "!no year" },
	{ "Nov 14, 14:07 QQQ", "2023-11-15T00:00:00Z", "!unknown time zone 'QQQ'" },
	{ "Nov 14, 14:07", "2023-11-15T00:00:00Z", "!no time zone" },
	/* Statuspage incident and home pages */
	{ "Sep 19, 2023 - 11:34 CEST", NULL, "2023-09-19T09:34:00Z" },
	{ "Sep 01, 2026 - 23:26 UTC", NULL, "2026-09-01T23:26:00Z" },
	{ "Mar 13, 2024 - 06:55 PDT", NULL, "2024-03-13T13:55:00Z" },
	{ "Jun 30, 2022 - 18:45 AEST", NULL, "2022-06-30T08:45:00Z" },
	{ "Jan 5, 2023 - 04:00 IST", NULL, "2023-01-04T22:30:00Z" },
	{ "Jul 4, 2021 - 12:00 BST", NULL, "2021-07-04T11:00:00Z" },
	{ "Aug 10, 2020 - 09:15 MDT", NULL, "2020-08-10T15:15:00Z" },
	{ "Aug 10, 2020 - 09:15 AKDT", NULL, "2020-08-10T17:15:00Z" },
	{ "Nov 2, 2025 - 01:30 AEDT", NULL, "2025-11-01T14:30:00Z" },
	/* aggregator pages */
	{ "Jan 16, 2025, 12:23 PM UTC", NULL, "2025-01-16T12:23:00Z" },
	{ "Jan 16, 2025, 02:29 PM UTC", NULL, "2025-01-16T14:29:00Z" },
	{ "Sep 17, 2025, 09:58 AM UTC", NULL, "2025-09-17T09:58:00Z" },
	{ "Jan 16, 2025, 12:05 AM UTC", NULL, "2025-01-16T00:05:00Z" },
	{ "Oct 7, 2026, 05:20 PM UTC", NULL, "2026-10-07T17:20:00Z" },
	{ "Nov 02, 2022, 08:48 PM UTC", NULL, "2022-11-02T20:48:00Z" },
	{ "Jan 16, 2025, 12:23 PM", NULL, "!no time zone" },
	{ "Jan 16, 2025, 12:05 am utc", NULL, "2025-01-16T00:05:00Z" },
	{ "Jan 16, 2025 at 3:07 p.m. EST", NULL, "2025-01-16T20:07:00Z" },
	{ "January 16, 2025 12:23 UTC", NULL, "2025-01-16T12:23:00Z" },
	{ "Sept 3, 2024, 10:00 AM GMT", NULL, "2024-09-03T10:00:00Z" },
	{ "16 January 2025, 12:23 UTC", NULL, "2025-01-16T12:23:00Z" },
	{ "Jan 16, 2025, 13:23 PM UTC", NULL, "!invalid hour" },
	{ "Jan 16, 2025, 12:23 PM UTC+1", NULL, "2025-01-16T11:23:00Z" },
	{ "Jan 16, 2025, 12:23 PM GMT-03:00", NULL, "2025-01-16T15:23:00Z" },
	{ "Jan 16, 2025, 12:23 PM (UTC)", NULL, "2025-01-16T12:23:00Z" },
	/* junk */
	{ "", NULL, "!empty date" },
	{ "   ", NULL, "!empty date" },
	{ "yesterday", NULL, "!unrecognised date" },
	{ "12:23", NULL, "!unrecognised date" },
	{ "2025-01-16T12:23:00Z trailing", NULL, "!unrecognised date" },
};

static void run_vec(const struct vec *v)
{
	struct date_ctx ctx = { 0 };
	if (v->ref) {
		int64_t r;
		if (date_parse(v->ref, NULL, &r, NULL) < 0) {
			CHECK(0, "bad reference %s", v->ref);
			return;
		}
		ctx.has_ref = 1;
		ctx.ref = r;
	}
	int64_t t = 0;
	char *cause = NULL;
	int rc = date_parse(v->text, &ctx, &t, &cause);
	if (v->want[0] == '!') {
		CHECK(rc < 0 && cause && strstr(cause, v->want + 1), "'%s': want error containing '%s', got %s",
		      v->text, v->want + 1, rc < 0 ? cause : "success");
	} else {
		char buf[40] = "";
		if (rc == 0)
			rec_format_time(t, buf, sizeof buf);
		CHECK(rc == 0 && strcmp(buf, v->want) == 0, "'%s': want %s, got %s", v->text, v->want,
		      rc == 0 ? buf : cause);
	}
	free(cause);
}

int main(void)
{
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		run_vec(&vecs[i]);
	/* the civil-date arithmetic round-trips across centuries */
	for (int64_t t = -86400LL * 365 * 10; t < 86400LL * 365 * 200; t += 86400 * 37 + 3601) {
		int64_t y;
		int m, d, hh, mi, ss;
		date_to_civil(t, &y, &m, &d, &hh, &mi, &ss);
		if (date_from_civil(y, m, d, hh, mi, ss) != t) {
			CHECK(0, "civil round trip of %lld", (long long)t);
			break;
		}
	}
	CHECK(duration_parse("2h 6m") == 7560, "duration 2h 6m");
	CHECK(duration_parse("2 hours 6 minutes") == 7560, "duration words");
	CHECK(duration_parse("1d 2h") == 93600, "duration days");
	CHECK(duration_parse("45s") == 45, "duration seconds");
	CHECK(duration_parse("soon") == -1, "duration junk");
	/* aggregator pages: "2h 5m" from true seconds, "47m", and an empty or running duration */
	CHECK(duration_parse("2h 5m") == 7500, "duration 2h 5m");
	CHECK(duration_parse("47m") == 2820, "duration minutes only");
	CHECK(duration_parse("\xe2\x80\x94") == -1, "duration em dash");
	CHECK(duration_parse("Ongoing") == -1, "duration ongoing");
	CHECK(duration_parse("") == -1, "duration empty");
	re_cleanup();
	return unit_summary();
}
