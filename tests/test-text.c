/* test-text.c: UTF-8 checks, text tidying, entity decoding and vocabularies. */
#include "config.h"

#include <stdlib.h>

#include "normalize.h"
#include "record.h"
#include "regex.h"
#include "unit.h"

static void check_clean(const char *in, const char *want)
{
	char *got = text_clean(in);
	CHECK_STR(got, want);
	free(got);
}

static void check_unescape(const char *in, const char *want)
{
	char *got = html_unescape(in, strlen(in));
	CHECK_STR(got, want);
	free(got);
}

static void check_sanitize(const char *in, size_t n, const char *want)
{
	char *got = utf8_sanitize(in, n);
	CHECK_STR(got, want);
	free(got);
}

int main(void)
{
	size_t bad = 0;
	CHECK(utf8_valid("plain", 5, &bad), "ascii is valid");
	CHECK(utf8_valid("caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x94\xa5", 14, &bad), "multibyte is valid");
	CHECK(!utf8_valid("ab\xc3", 3, &bad) && bad == 2, "truncated sequence at 2");
	CHECK(!utf8_valid("\xc0\xaf", 2, &bad) && bad == 0, "overlong is invalid");
	CHECK(!utf8_valid("\xed\xa0\x80", 3, &bad), "surrogate is invalid");
	CHECK(!utf8_valid("a\0b", 3, &bad) && bad == 1, "NUL is invalid");
	CHECK(!utf8_valid("\xf5\x80\x80\x80", 4, &bad), "beyond U+10FFFF is invalid");
	check_sanitize("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	check_sanitize("line\r\nnext\rlast", 15, "line\nnext\nlast");
	check_sanitize("esc\x1b[31mred", 11, "esc[31mred");
	check_sanitize("tab\there", 8, "tab\there");
	check_sanitize("c1\xc2\x9b" "x", 5, "c1x");

	check_clean("  hello   world  ", "hello world");
	check_clean("a \n b", "a\nb");
	check_clean("a\n\n\n\nb", "a\n\nb");
	check_clean("\n\n  lead and trail \n\n", "lead and trail");
	check_clean("no\xc2\xa0" "break", "no break");
	check_clean("", "");

	check_unescape("Help &amp; Community", "Help & Community");
	check_unescape("Q&A stays", "Q&A stays");
	check_unescape("it&#39;s &#x2019; &rsquo;", "it's \xe2\x80\x99 \xe2\x80\x99");
	check_unescape("&lt;b&gt;", "<b>");
	check_unescape("&unknown; &", "&unknown; &");
	check_unescape("&#0;", "\xef\xbf\xbd");
	check_unescape("&nbsp;", "\xc2\xa0");

	CHECK_STR(norm_status("Investigating"), "investigating");
	CHECK_STR(norm_status("In progress"), "in_progress");
	CHECK_STR(norm_status("in_progress"), "in_progress");
	CHECK_STR(norm_status("Postmortem"), "postmortem");
	CHECK_STR(norm_status(" Update "), "update");
	CHECK_STR(norm_status("Completed"), "completed");
	CHECK_STR(norm_status("nonsense"), NULL);
	CHECK_STR(norm_impact("Major"), "major");
	CHECK_STR(norm_impact("critical"), "critical");
	CHECK_STR(norm_impact("maintenance"), "maintenance");
	CHECK_STR(norm_impact("Partial outage"), "major");
	CHECK_STR(norm_impact("whatever"), NULL);
	CHECK_STR(norm_component_status("degraded_performance"), "degraded_performance");
	CHECK_STR(norm_component_status("Operational"), "operational");
	CHECK_STR(norm_component_status("Major Outage"), "major_outage");
	CHECK(norm_status_is_maintenance("verifying"), "verifying is maintenance");
	CHECK(!norm_status_is_maintenance("monitoring"), "monitoring is not");
	CHECK(norm_status_is_closed("postmortem"), "postmortem closes");
	CHECK(month_number("Sept", 4) == 9, "Sept");
	CHECK(month_number("may", 3) == 5, "may");
	CHECK(month_number("Ma", 2) == 0, "too short");
	CHECK(month_number("Decembers", 9) == 0, "too long");

	/* record JSON round trip */
	struct rec_doc *d = rec_doc_new("test");
	struct rec_incident *inc = rec_doc_add_incident(d);
	rec_set(&inc->id, "abc");
	rec_set(&inc->title, "bad \xff utf8 \x1b[2J");
	struct rec_update *u = rec_incident_add_update(inc);
	rec_set(&u->status, "resolved");
	rec_time_set(&u->at, 1737030540, "Jan 16, 2025, 12:29 PM UTC");
	rec_incident_finish(inc);
	char *json = rec_doc_to_json(d);
	char *cause = NULL;
	struct rec_doc *back = rec_doc_from_json(json, strlen(json), &cause);
	CHECK(back != NULL, "round trip parses: %s", cause ? cause : "");
	if (back) {
		char *again = rec_doc_to_json(back);
		CHECK_STR(again, json);
		free(again);
		CHECK_STR(back->incidents[0].title, "bad \xef\xbf\xbd utf8 [2J");
		CHECK(back->incidents[0].resolved.ok && back->incidents[0].resolved.t == 1737030540, "resolved");
	}
	free(cause);
	free(json);
	rec_doc_free(back);
	rec_doc_free(d);
	re_cleanup();
	return unit_summary();
}
