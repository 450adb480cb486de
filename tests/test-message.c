/* test-message: the bodies sinks get stay within what receivers accept (Slack's block limits,
 * RFC 5322 line lengths, RFC 2047 words, quoted-printable), whatever the vendor wrote; and which
 * events a sink holds back as history. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "db.h"
#include "message.h"
#include "unit.h"
#include "util.h"

/* UTF-16 units of a UTF-8 string, as Slack counts its limits. */
static size_t units(const char *s)
{
	size_t n = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if ((*c & 0xc0) != 0x80)
			n += *c >= 0xf0 ? 2 : 1;
	return n;
}

static struct db_event event(const char *type, const char *payload)
{
	struct db_event ev;
	memset(&ev, 0, sizeof ev);
	ev.id = 42;
	ev.type = type;
	ev.vendor = "acme";
	ev.incident_key = "k1";
	ev.created_at = 1758000000;  /* 2025-09-16 */
	ev.observed_at = 1758000000;
	ev.payload = payload;
	return ev;
}

/* A payload whose title, diff and body are long and full of what Slack must escape. */
static char *hostile_payload(void)
{
	struct buf diff = BUF_INIT, body = BUF_INIT, title = BUF_INIT;
	for (int i = 0; i < 900; i++)
		buf_adds(&diff, "-<b>&\n");
	for (int i = 0; i < 1200; i++)
		buf_adds(&body, "\xf0\x9f\x94\xa5<&>");   /* an emoji (two UTF-16 units) and three escapes */
	for (int i = 0; i < 40; i++)
		buf_adds(&title, "Ausfall \xc3\xa4\xc3\xb6\xc3\xbc ");
	json_t *p = json_object();
	json_object_set_new(p, "title", json_string(title.data));
	json_object_set_new(p, "url", json_string("https://status.example.com/i/1>x <!channel> |y"));
	json_object_set_new(p, "impact", json_string("major"));
	json_object_set_new(p, "status", json_string("postmortem"));
	json_object_set_new(p, "started_at", json_string("2025-09-10T10:00:00Z"));
	json_object_set_new(p, "resolved_at", json_string("2025-09-10T12:30:00Z"));
	json_object_set_new(p, "filled", json_false());
	json_object_set_new(p, "old", json_string("x"));
	json_object_set_new(p, "new", json_string(body.data));
	json_object_set_new(p, "diff", json_string(diff.data));
	char *s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	buf_release(&diff);
	buf_release(&body);
	buf_release(&title);
	return s;
}

static void check_slack(const struct message *m)
{
	char *body = message_slack(m, "starchive-test-e42-s1");
	json_error_t err;
	json_t *o = json_loads(body, 0, &err);
	CHECK(o != NULL, "slack body is JSON: %s", err.text);
	json_t *blocks = json_object_get(o, "blocks");
	CHECK(json_array_size(blocks) <= 50, "at most 50 blocks");
	size_t i;
	json_t *b;
	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		json_t *t = json_object_get(json_object_get(b, "text"), "text");
		if (str_eq(type, "header"))
			CHECK(units(json_string_value(t)) <= 150, "header %zu units", units(json_string_value(t)));
		if (str_eq(type, "section") && t)
			CHECK(units(json_string_value(t)) <= 3000, "section %zu units", units(json_string_value(t)));
		json_t *fields = json_object_get(b, "fields"), *f;
		size_t j;
		CHECK(json_array_size(fields) <= 10, "at most 10 fields");
		json_array_foreach(fields, j, f) {
			const char *ft = json_string_value(json_object_get(f, "text"));
			CHECK(units(ft) <= 2000, "field %zu units", units(ft));
		}
		if (str_eq(type, "context")) {
			const char *ct = json_string_value(json_object_get(json_array_get(json_object_get(b, "elements"), 0), "text"));
			CHECK(ct && !strstr(ct, "<!channel>") && strstr(ct, "%3C!channel%3E"), "link escaped: %s", ct);
		}
	}
	json_decref(o);
	free(body);
}

static void check_email(const struct message *m)
{
	const char *to[] = { "sre@example.com" };
	char *mail = message_email(m, "starchive <s@example.com>", to, 1, "starchive-test-e42-s1", 1758000000);
	int in_body = 0, ok_len = 1, subject_words = 0;
	for (char *line = mail, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t n = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		if (n == 0) {
			in_body = 1;
			continue;
		}
		if (n > (in_body ? 76 : 78))
			ok_len = 0;
		if (!in_body && (str_starts(line, "Subject:") || line[0] == ' ') && strstr(line, "=?UTF-8?B?"))
			subject_words++;
	}
	CHECK(ok_len, "every line of the mail fits (76 with encoded words and in the body)");
	CHECK(subject_words >= 2, "the long non-ASCII subject is several encoded words");
	CHECK(strstr(mail, "Message-ID: <starchive-test-e42-s1@starchive>") != NULL, "message id");
	free(mail);
}

static void check_history(void)
{
	int64_t sink = 1758000000; /* the sink was made then: 2025-09-16T05:20:00Z */
	struct db_event ev = event("postmortem.published", "{\"title\":\"t\",\"published_at\":null}");
	ev.created_at = ev.observed_at = sink + 600;
	CHECK(!alert_event_is_old(&ev, sink, 0), "a postmortem recorded after the sink is news");
	CHECK(!alert_event_is_old(&ev, 0, 0), "a replayed sink holds nothing");
	ev.created_at = sink - 1;
	CHECK(alert_event_is_old(&ev, sink, 0), "recorded before the sink");
	ev.created_at = sink + 600;
	ev.observed_at = sink - 86400 * 200;
	CHECK(alert_event_is_old(&ev, sink, 0), "learnt from a capture older than the sink (an import)");
	ev.observed_at = sink + 600;
	ev.payload = "{\"backfill\":true,\"published_at\":null}";
	CHECK(alert_event_is_old(&ev, sink, 0), "a walk back without a date is history");
	ev.payload = "{\"backfill\":true,\"published_at\":\"2025-09-20T00:00:00Z\"}";
	CHECK(!alert_event_is_old(&ev, sink, 0), "a walk back that finds a postmortem dated after the sink");

	ev.type = "incident.new";
	ev.payload = "{\"baseline\":true,\"status\":\"resolved\",\"started_at\":\"2025-09-16T05:25:00Z\","
		     "\"resolved_at\":\"2025-09-16T05:28:00Z\"}";
	CHECK(alert_event_is_old(&ev, sink, 0), "a source's first page: a resolved incident is history, however recent");
	CHECK(!alert_event_is_old(&ev, sink - 86400, 1), "... unless --replay-since asked for it");
	ev.payload = "{\"baseline\":true,\"status\":\"investigating\",\"started_at\":\"2025-09-16T05:00:00Z\","
		     "\"resolved_at\":null}";
	CHECK(!alert_event_is_old(&ev, sink, 0), "a source's first page: an incident going on is news");
	ev.payload = "{\"baseline\":true,\"status\":\"investigating\",\"started_at\":\"2022-03-01T00:00:00Z\","
		     "\"resolved_at\":null}";
	CHECK(alert_event_is_old(&ev, sink, 0), "a feed's 'investigating' from 2022 is not going on");
	ev.payload = "{\"baseline\":true,\"started_at\":\"2025-09-16T05:00:00Z\",\"resolved_at\":null}";
	CHECK(alert_event_is_old(&ev, sink, 0), "no status: not known to be going on");
	ev.payload = "{\"status\":\"resolved\",\"started_at\":\"2024-01-01T00:00:00Z\"}";
	CHECK(alert_event_is_old(&ev, sink, 0), "an incident first seen now, over long before the sink");
	ev.payload = "{\"status\":\"investigating\",\"started_at\":\"2025-09-16T05:15:00Z\",\"resolved_at\":null}";
	CHECK(!alert_event_is_old(&ev, sink, 0), "an incident that started just before the sink and is going on");
	ev.payload = "{\"started_at\":null}";
	CHECK(!alert_event_is_old(&ev, sink, 0), "an incident first seen now without a date is news");
	CHECK(alert_event_time(&ev) == ev.created_at, "no vendor time: when it was recorded");
}

int main(void)
{
	char *p = hostile_payload();
	struct db_event ev = event("postmortem.changed", p);
	struct message m;
	char *cause = NULL;
	CHECK(message_build(&ev, MESSAGE_CHAT_TRIM, &m, &cause) == 0, "builds: %s", cause ? cause : "");
	check_slack(&m);
	check_email(&m);
	char *teams = message_teams(&m, "k");
	json_error_t err;
	json_t *t = json_loads(teams, 0, &err);
	CHECK(t && json_is_object(json_object_get(json_array_get(json_object_get(t, "attachments"), 0), "content")),
	      "teams body is a card");
	json_decref(t);
	free(teams);
	message_clear(&m);

	struct db_event bad = event("postmortem.published", "[1,2]");
	CHECK(message_build(&bad, 0, &m, &cause) < 0 && cause && strstr(cause, "not a JSON object"), "bad payload: %s",
	      cause ? cause : "");
	message_clear(&m);
	free(cause);
	free(p);
	check_history();
	return unit_summary();
}
