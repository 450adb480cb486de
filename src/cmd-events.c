/* cmd-events.c: starchive events: the outbox, oldest first, as text lines or JSON lines. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd.h"
#include "db.h"
#include "normalize.h"
#include "term.h"
#include "util.h"

static const char *sget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* First line of a text, at most max bytes (cut at a UTF-8 boundary), with "..." when cut. */
static void first_line(struct buf *b, const char *s, size_t max)
{
	if (!s) {
		buf_adds(b, "(no text)");
		return;
	}
	size_t n = strcspn(s, "\n");
	int cut = s[n] != '\0';
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = 1;
	}
	buf_add(b, s, n);
	if (cut)
		buf_adds(b, "...");
}

static size_t count_lines(const char *s)
{
	if (!s || !*s)
		return 0;
	size_t n = 1;
	for (const char *p = s; *p; p++)
		if (*p == '\n' && p[1])
			n++;
	return n;
}

/* One line that says what the event is about. */
static void summary(struct buf *b, const struct db_event *ev, json_t *p)
{
	const char *t = ev->type;
	const char *title = sget(p, "title");
	if (!title)
		title = ev->title;
	if (strcmp(t, "incident.new") == 0) {
		buf_addf(b, "%s (%s, %s)", title ? title : "(untitled)", sget(p, "impact") ? sget(p, "impact") : "impact unknown",
			 sget(p, "status") ? sget(p, "status") : "status unknown");
	} else if (strcmp(t, "update.new") == 0 || strcmp(t, "update.edited") == 0) {
		json_t *u = json_object_get(p, "update");
		buf_addf(b, "#%lld %s %s: ", (long long)json_integer_value(json_object_get(u, "number")),
			 sget(u, "status") ? sget(u, "status") : "update", sget(u, "at") ? sget(u, "at") : "(no time)");
		first_line(b, sget(u, "body"), 72);
	} else if (strcmp(t, "incident.changed") == 0) {
		json_t *ch = json_object_get(p, "changes");
		const char *k;
		json_t *v;
		int first = 1;
		json_object_foreach(ch, k, v) {
			buf_addf(b, "%s%s: ", first ? "" : "; ", k);
			first = 0;
			json_t *o = json_object_get(v, "old"), *n = json_object_get(v, "new");
			if (json_is_array(o) || json_is_array(n)) {
				char *x = json_dumps(o, JSON_COMPACT), *y = json_dumps(n, JSON_COMPACT);
				buf_addf(b, "%s -> %s", x ? x : "null", y ? y : "null");
				free(x);
				free(y);
			} else {
				buf_addf(b, "%s -> %s", json_is_string(o) ? json_string_value(o) : "(none)",
					 json_is_string(n) ? json_string_value(n) : "(none)");
			}
		}
	} else if (strcmp(t, "incident.resolved") == 0) {
		json_t *d = json_object_get(p, "duration_seconds");
		buf_addf(b, "%s", title ? title : "(untitled)");
		if (json_is_integer(d)) {
			char dur[48];
			duration_format((int64_t)json_integer_value(d), dur, sizeof dur);
			buf_addf(b, " after %s", dur);
		}
	} else if (strcmp(t, "incident.reopened") == 0) {
		buf_addf(b, "%s (was %s, now %s)", title ? title : "(untitled)",
			 sget(p, "previous_status") ? sget(p, "previous_status") : "?",
			 sget(p, "status") ? sget(p, "status") : "?");
	} else if (strcmp(t, "postmortem.published") == 0) {
		const char *body = sget(p, "body");
		if (body)
			buf_addf(b, "%zu lines: ", count_lines(body));
		else
			buf_adds(b, "no text yet: ");
		buf_addf(b, "%s", title ? title : "(untitled)");
	} else if (strcmp(t, "postmortem.changed") == 0) {
		if (json_is_true(json_object_get(p, "filled"))) {
			buf_addf(b, "text added, %zu lines", count_lines(sget(p, "new")));
		} else {
			const char *d = sget(p, "diff");
			size_t add = 0, rm = 0;
			for (const char *q = d; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : "") {
				if (*q == '+')
					add++;
				else if (*q == '-')
					rm++;
			}
			buf_addf(b, "text changed, -%zu +%zu lines", rm, add);
		}
	} else if (strcmp(t, "incident.vanished") == 0) {
		buf_addf(b, "%s: no longer listed in %s", title ? title : "(untitled)",
			 sget(p, "source") ? sget(p, "source") : "its source");
	} else {
		buf_addf(b, "%s", title ? title : "");
	}
	if (json_is_true(json_object_get(p, "backfill")))
		buf_adds(b, " [backfill]");
}

struct out {
	int json;
};

/* The fields every event line starts with, as JSON. */
static json_t *event_head_json(const struct db_event *ev)
{
	char created[40];
	rec_format_time(ev->created_at, created, sizeof created);
	json_t *j = json_object();
	json_object_set_new(j, "id", json_integer(ev->id));
	json_object_set_new(j, "type", json_string(ev->type));
	json_object_set_new(j, "vendor", json_string(ev->vendor));
	json_object_set_new(j, "incident", ev->incident_key ? json_string(ev->incident_key) : json_null());
	json_object_set_new(j, "created_at", json_string(created));
	return j;
}

/* ... and as text: "ID  CREATED  TYPE  VENDOR  INCIDENT  " */
static void event_head_text(struct buf *b, const struct db_event *ev)
{
	char created[40];
	rec_format_time(ev->created_at, created, sizeof created);
	buf_addf(b, "%lld  %s  %-20s  %s  %s  ", (long long)ev->id, created, ev->type, ev->vendor,
		 ev->incident_key ? ev->incident_key : "-");
}

/* Print j as one line (and free it). */
static void put_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s)
		puts(s);
	free(s);
}

/* Print b as one line: a body's line breaks stay out (and release it). */
static void put_line(struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' || b->data[i] == '\t')
			b->data[i] = ' ';
	buf_addc(b, '\n');
	term_puts(b->data);
	buf_release(b);
}

static int print_event(const struct db_event *ev, void *arg)
{
	struct out *o = arg;
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	if (!p)
		p = json_object();
	if (o->json) {
		char observed[40];
		rec_format_time(ev->observed_at, observed, sizeof observed);
		json_t *j = event_head_json(ev);
		json_object_set_new(j, "observed_at", ev->observed_at ? json_string(observed) : json_null());
		json_object_set_new(j, "payload", p);
		put_json(j);
		return 0;
	}
	struct buf b = BUF_INIT;
	event_head_text(&b, ev);
	summary(&b, ev, p);
	json_decref(p);
	put_line(&b);
	return 0;
}

/* One delivery not yet confirmed: the event, then where it stands for its sink. */
static int print_undelivered(const struct db_delivery *d, const struct db_event *ev, void *arg)
{
	struct out *o = arg;
	char last[40] = "", next[40] = "";
	if (d->has_last_try)
		rec_format_time(d->last_try_at, last, sizeof last);
	if (d->has_next)
		rec_format_time(d->next_at, next, sizeof next);
	if (o->json) {
		json_t *j = event_head_json(ev);
		json_object_set_new(j, "sink", json_string(d->sink));
		json_object_set_new(j, "state", json_string(d->state == DB_DELIVERY_HELD     ? "held"
							    : d->state == DB_DELIVERY_FAILED ? "failed"
											     : "pending"));
		json_object_set_new(j, "attempts", json_integer(d->attempts));
		json_object_set_new(j, "last_try_at", *last ? json_string(last) : json_null());
		json_object_set_new(j, "next_try_at", *next ? json_string(next) : json_null());
		json_object_set_new(j, "last_error", d->last_error ? json_string(d->last_error) : json_null());
		json_object_set_new(j, "idempotency_key", json_string(d->key));
		put_json(j);
		return 0;
	}
	struct buf b = BUF_INIT;
	event_head_text(&b, ev);
	buf_addf(&b, "-> %s: %s", d->sink,
		 d->state == DB_DELIVERY_HELD ? "held" : d->state == DB_DELIVERY_FAILED ? "given up" : "pending");
	if (d->state == DB_DELIVERY_HELD)
		buf_adds(&b, " (history from before the sink; notify --replay sends it)");
	else if (d->state == DB_DELIVERY_FAILED)
		buf_addf(&b, " (notify --retry-failed sends it again): %s", d->last_error ? d->last_error : "refused");
	else if (d->attempts)
		buf_addf(&b, ", %d attempt%s, next %s: %s", d->attempts, d->attempts == 1 ? "" : "s",
			 *next ? next : "now", d->last_error ? d->last_error : "interrupted");
	else if (*next)
		buf_addf(&b, ", waiting for the sink until %s", next);
	else
		buf_adds(&b, ", not tried yet");
	put_line(&b);
	return 0;
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "now", required_argument, NULL, 'n' },
		{ "undelivered", no_argument, NULL, 'u' },
		{ "held", no_argument, NULL, 'H' },
		{ "sink", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_event_filter f = { 0 };
	int undelivered = 0, held = 0;
	const char *sink = NULL;
	struct out o = { 0 };
	const char *since = NULL;
	int64_t now = (int64_t)time(NULL);
	int c;
	while ((c = getopt_long(argc, argv, "s:t:v:juh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			since = optarg;
			break;
		case 'a': {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (*end || v < 0) {
				cmd_error("invalid --after '%s': not an event id", optarg);
				return EXIT_USAGE;
			}
			f.after_id = v;
			break;
		}
		case 't':
			f.type = optarg;
			break;
		case 'v':
			f.vendor = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'n': {
			if (cmd_time_arg("--now", optarg, &now) < 0)
				return EXIT_USAGE;
			break;
		}
		case 'u':
			undelivered = 1;
			break;
		case 'H':
			held = 1;
			break;
		case 'S':
			sink = optarg;
			break;
		case 'h':
			return cmd_usage("events", 1);
		default:
			return cmd_usage("events", 0);
		}
	}
	if (optind != argc)
		return cmd_usage("events", 0);
	if ((held || sink) && !undelivered) {
		cmd_error("--held and --sink go with --undelivered");
		return EXIT_USAGE;
	}
	if (undelivered && (since || f.after_id || f.type || f.vendor)) {
		cmd_error("--undelivered lists every undelivered event; filter with --sink");
		return EXIT_USAGE;
	}
	if (since) {
		/* a time, or how long ago ("36h", "7 days") */
		char *cause = NULL;
		if (date_parse(since, NULL, &f.since, &cause) < 0) {
			int64_t ago = duration_parse(since);
			if (ago < 0) {
				cmd_error("invalid --since '%s': %s", since, cause);
				free(cause);
				return EXIT_USAGE;
			}
			f.since = now - ago;
		}
		free(cause);
		f.has_since = 1;
	}
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	char *cause = NULL;
	int r;
	if (undelivered) {
		int64_t sink_id = 0;
		if (sink) {
			struct db_sink row;
			r = db_sink_load(db, sink, &row, &cause);
			sink_id = row.id;
			db_sink_clear(&row);
			if (r == 0) {
				cmd_error("no sink named '%s' (see 'starchive alert list')", sink);
				db_close(db);
				return EXIT_FATAL;
			}
		}
		r = sink_id || !sink ? db_undelivered_each(db, sink_id, held, print_undelivered, &o, &cause) : -1;
	} else {
		r = db_events_each(db, &f, print_event, &o, &cause);
	}
	if (r < 0) {
		cmd_error("%s", cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	free(cause);
	db_close(db);
	return cmd_finish(rc);
}
