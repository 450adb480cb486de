/* message.c: an event as words for people, and the body each kind of sink sends. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"
#include "message.h"
#include "normalize.h"
#include "util.h"

/* What each event type means to a reader; the type itself for any other. */
static const struct {
	const char *type;
	const char *headline;
} headlines[] = {
	{ "incident.new", "New incident" },
	{ "incident.changed", "Incident changed" },
	{ "incident.resolved", "Incident resolved" },
	{ "incident.reopened", "Incident reopened" },
	{ "incident.vanished", "Incident removed from the status page" },
	{ "update.new", "New update" },
	{ "update.edited", "Update edited" },
	{ "postmortem.published", "Postmortem published" },
	{ "postmortem.changed", "Postmortem changed" },
	{ "source.broken", "Status page failing" },
	{ "source.recovered", "Status page recovered" },
};

static const char *jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* "2025-01-16T12:23:38Z" as "2025-01-16 12:23:38 UTC" for text; other strings as they are. */
static void human_time(struct buf *b, const char *iso)
{
	if (strlen(iso) == 20 && iso[10] == 'T' && iso[19] == 'Z')
		buf_addf(b, "%.10s %.8s UTC", iso, iso + 11);
	else
		buf_adds(b, iso);
}

static int iso_time(const char *s, int64_t *t)
{
	return s && date_parse(s, NULL, t, NULL) == 0;
}

char *message_prefix(const char *s, size_t n, int *cut)
{
	size_t i = 0, cps = 0;
	*cut = 0;
	while (s[i]) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (cps == n) {
				*cut = 1;
				break;
			}
			cps++;
		}
		i++;
	}
	if (!*cut)
		return xstrdup(s);
	/* end at a word when one ends in the last fifth */
	size_t j = i;
	while (j > i - i / 5 && s[j - 1] != ' ' && s[j - 1] != '\n')
		j--;
	if (j > i - i / 5)
		i = j;
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\n'))
		i--;
	char *p = xmalloc(i + 1);
	memcpy(p, s, i);
	p[i] = '\0';
	return p;
}

/* The body trimmed to trim code points with a pointer to the whole text; 0 keeps everything. */
static void add_trimmed(struct buf *b, const char *body, size_t trim, const char *url)
{
	int cut = 0;
	char *p = trim ? message_prefix(body, trim, &cut) : xstrdup(body);
	buf_adds(b, p);
	free(p);
	if (cut)
		buf_addf(b, " …\n[trimmed: the whole text is at %s]", url ? url : "the vendor's status page");
}

static char *changes_text(json_t *ch)
{
	struct buf b = BUF_INIT;
	const char *field;
	json_t *v;
	json_object_foreach(ch, field, v) {
		json_t *old = json_object_get(v, "old"), *new = json_object_get(v, "new");
		if (json_is_array(old) || json_is_array(new)) {
			buf_addf(&b, "%s:", field);
			const char *sep[2] = { " was ", "; now " };
			json_t *sides[2] = { old, new };
			for (int k = 0; k < 2; k++) {
				buf_adds(&b, sep[k]);
				size_t i;
				json_t *e;
				if (!json_array_size(sides[k]))
					buf_adds(&b, "none");
				json_array_foreach(sides[k], i, e) buf_addf(&b, "%s%s", i ? ", " : "", json_string_value(e) ? json_string_value(e) : "?");
			}
			buf_adds(&b, "\n");
		} else {
			buf_addf(&b, "%s: %s → %s\n", field, json_is_string(old) ? json_string_value(old) : "(none)",
				 json_is_string(new) ? json_string_value(new) : "(none)");
		}
	}
	if (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

static void fill_changed(struct message *m, const char *type, json_t *p)
{
	json_t *ch = json_object_get(p, "changes");
	if (str_eq(type, "incident.changed") && json_is_object(ch)) {
		m->changed = changes_text(ch);
	} else if (str_eq(type, "update.edited") || str_eq(type, "postmortem.changed")) {
		const char *d = jget(p, "diff");
		if (d && *d)
			m->changed = xstrdup(d);
		else if (json_is_true(json_object_get(p, "filled")))
			m->changed = xstrdup("the postmortem's text is now published (only its existence was known)");
	} else if (str_eq(type, "incident.reopened")) {
		m->changed = xasprintf("status: %s → %s", jget(p, "previous_status") ? jget(p, "previous_status") : "?",
				       m->status ? m->status : "?");
	} else if (str_eq(type, "incident.vanished")) {
		m->changed = xasprintf("no longer listed by %s", jget(p, "source") ? jget(p, "source") : "its source");
	}
}

/* A diff ends with a newline; the text puts its own. */
static void chomp(char *s)
{
	size_t n = s ? strlen(s) : 0;
	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
}

static void fill_body(struct message *m, const char *type, json_t *p)
{
	if (str_eq(type, "postmortem.published"))
		m->body = dup_or_null(jget(p, "body"));
	else if (str_eq(type, "postmortem.changed"))
		m->body = dup_or_null(jget(p, "new"));
	else if (str_starts(type, "update.") || str_eq(type, "incident.new")) {
		json_t *u = json_object_get(p, str_eq(type, "incident.new") ? "latest_update" : "update");
		if (json_is_object(u))
			m->body = dup_or_null(jget(u, "body"));
	} else if (str_starts(type, "source."))
		m->body = dup_or_null(jget(p, "error"));
}

static const char *body_label(const char *type, json_t *p)
{
	if (str_starts(type, "postmortem."))
		return "Postmortem";
	if (str_starts(type, "source."))
		return "Error";
	json_t *u = json_object_get(p, str_eq(type, "incident.new") ? "latest_update" : "update");
	return json_is_object(u) && jget(u, "status") ? NULL : "Update";
}

static void fill_text(struct message *m, const char *type, json_t *p, size_t trim)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s", m->headline);
	if (m->title)
		buf_addf(&b, ": %s", m->title);
	if (str_eq(m->vendor_name, m->vendor))
		buf_addf(&b, "\nVendor: %s\n", m->vendor);
	else
		buf_addf(&b, "\nVendor: %s (%s)\n", m->vendor_name, m->vendor);
	if (m->impact)
		buf_addf(&b, "Impact: %s\n", m->impact);
	if (m->status)
		buf_addf(&b, "Status: %s\n", m->status);
	if (m->started) {
		buf_adds(&b, "Started: ");
		human_time(&b, m->started);
		buf_adds(&b, "\n");
	}
	if (m->resolved) {
		buf_adds(&b, "Resolved: ");
		human_time(&b, m->resolved);
		if (m->duration)
			buf_addf(&b, " (after %s)", m->duration);
		buf_adds(&b, "\n");
	}
	const char *pub = str_starts(type, "postmortem.") ? jget(p, "published_at") : NULL;
	if (pub) {
		buf_adds(&b, "Postmortem dated: ");
		human_time(&b, pub);
		buf_adds(&b, "\n");
	}
	if (str_starts(type, "source.")) {
		json_t *f = json_object_get(p, "failures");
		if (json_is_integer(f))
			buf_addf(&b, "Failed runs: %lld\n", (long long)json_integer_value(f));
		if (jget(p, "last_ok_at")) {
			buf_adds(&b, "Last good fetch: ");
			human_time(&b, jget(p, "last_ok_at"));
			buf_adds(&b, "\n");
		}
	}
	if (m->url)
		buf_addf(&b, "Link: %s\n", m->url);
	if (m->changed)
		buf_addf(&b, "\nWhat changed:\n%s\n", m->changed);
	if (m->body) {
		const char *label = body_label(type, p);
		json_t *u = json_object_get(p, str_eq(type, "incident.new") ? "latest_update" : "update");
		if (label)
			buf_addf(&b, "\n%s:\n", label);
		else {
			buf_addf(&b, "\n%s", jget(u, "status"));
			if (jget(u, "at")) {
				buf_adds(&b, " (");
				human_time(&b, jget(u, "at"));
				buf_adds(&b, ")");
			}
			buf_adds(&b, ":\n");
		}
		add_trimmed(&b, m->body, trim, m->url);
		buf_adds(&b, "\n");
	} else if (str_eq(type, "postmortem.published")) {
		buf_addf(&b, "\nThe postmortem's text is not published in what starchive reads yet; see %s.\n",
			 m->url ? "the link" : "the vendor's status page");
	}
	m->text = buf_detach(&b);
}

int message_build(const struct db_event *ev, size_t trim, struct message *out, char **cause)
{
	memset(out, 0, sizeof *out);
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	if (!json_is_object(p)) {
		json_decref(p);
		return set_cause(cause, "event %lld has a payload that is not a JSON object", (long long)ev->id);
	}
	out->type = xstrdup(ev->type);
	out->vendor = xstrdup(ev->vendor);
	out->vendor_name = xstrdup(ev->vendor_title && *ev->vendor_title ? ev->vendor_title : ev->vendor);
	out->at = ev->created_at;
	for (size_t i = 0; i < sizeof headlines / sizeof *headlines; i++)
		if (str_eq(ev->type, headlines[i].type))
			out->headline = xstrdup(headlines[i].headline);
	if (!out->headline)
		out->headline = xstrdup(ev->type);
	const char *ust = str_starts(ev->type, "update.") ? jget(json_object_get(p, "update"), "status") : NULL;
	if (ust && *ust) {
		/* "New update (identified)": the stage the vendor reached says most */
		char *h = xasprintf("%s (%s)", out->headline, ust);
		free(out->headline);
		out->headline = h;
	}
	if (str_eq(ev->type, "postmortem.changed") && json_is_true(json_object_get(p, "filled"))) {
		free(out->headline);
		out->headline = xstrdup("Postmortem text published");
	}
	out->title = dup_or_null(jget(p, "title"));
	if (!out->title)
		out->title = dup_or_null(ev->title);
	out->url = dup_or_null(jget(p, "url"));
	if (!out->url)
		out->url = dup_or_null(jget(p, "status_url"));
	out->impact = dup_or_null(jget(p, "impact"));
	out->status = dup_or_null(jget(p, "status"));
	out->started = dup_or_null(jget(p, "started_at"));
	out->resolved = dup_or_null(jget(p, "resolved_at"));
	int64_t a, z;
	json_t *d = json_object_get(p, "duration_seconds");
	char dur[64];
	if (json_is_integer(d) && json_integer_value(d) >= 0) {
		duration_format(json_integer_value(d), dur, sizeof dur);
		out->duration = xstrdup(dur);
	} else if (iso_time(out->started, &a) && iso_time(out->resolved, &z) && z >= a) {
		duration_format(z - a, dur, sizeof dur);
		out->duration = xstrdup(dur);
	}
	out->subject = out->title ? xasprintf("%s: %s: %s", out->vendor_name, out->headline, out->title)
				  : xasprintf("%s: %s", out->vendor_name, out->headline);
	fill_changed(out, ev->type, p);
	chomp(out->changed);
	fill_body(out, ev->type, p);
	fill_text(out, ev->type, p, trim);
	json_decref(p);
	return 0;
}

void message_clear(struct message *m)
{
	free(m->type);
	free(m->vendor);
	free(m->vendor_name);
	free(m->headline);
	free(m->title);
	free(m->subject);
	free(m->url);
	free(m->impact);
	free(m->status);
	free(m->started);
	free(m->resolved);
	free(m->duration);
	free(m->changed);
	free(m->body);
	free(m->text);
	memset(m, 0, sizeof *m);
}

/* ---- bodies ---- */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static json_t *time_or_null(int64_t t)
{
	if (!t)
		return json_null();
	char b[40];
	rec_format_time(t, b, sizeof b);
	return json_string(b);
}

char *message_json(const struct db_event *ev, const struct message *m, const char *sink, const char *key)
{
	json_t *o = json_object();
	json_object_set_new(o, "idempotency_key", jstr_or_null(key));
	json_object_set_new(o, "sink", jstr_or_null(sink));
	json_t *e = json_object();
	json_object_set_new(e, "id", json_integer((json_int_t)ev->id));
	json_object_set_new(e, "type", json_string(ev->type));
	json_object_set_new(e, "vendor", json_string(ev->vendor));
	json_object_set_new(e, "incident", jstr_or_null(ev->incident_key));
	json_object_set_new(e, "created_at", time_or_null(ev->created_at));
	json_object_set_new(e, "observed_at", time_or_null(ev->observed_at));
	json_object_set_new(o, "event", e);
	json_object_set_new(o, "vendor_name", json_string(m->vendor_name));
	json_object_set_new(o, "subject", json_string(m->subject));
	json_object_set_new(o, "headline", json_string(m->headline));
	json_object_set_new(o, "title", jstr_or_null(m->title));
	json_object_set_new(o, "url", jstr_or_null(m->url));
	json_object_set_new(o, "impact", jstr_or_null(m->impact));
	json_object_set_new(o, "status", jstr_or_null(m->status));
	json_object_set_new(o, "started_at", jstr_or_null(m->started));
	json_object_set_new(o, "resolved_at", jstr_or_null(m->resolved));
	json_object_set_new(o, "duration", jstr_or_null(m->duration));
	json_object_set_new(o, "changed", jstr_or_null(m->changed));
	json_object_set_new(o, "text", json_string(m->text));
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	json_object_set_new(o, "payload", p ? p : json_object());
	return dump(o);
}

/* Text for Slack: the first n code points of s (0: all) and, for mrkdwn (escape set), &, < and >
 * escaped; then cut to fit limit, which Slack counts in UTF-16 units after escaping. */
static char *slack_text(const char *s, size_t n, size_t limit, int escape)
{
	int cut = 0;
	char *t = n ? message_prefix(s, n, &cut) : xstrdup(s);
	struct buf b = BUF_INIT;
	size_t units = 0;
	const size_t room = limit - 2; /* " …" */
	for (const unsigned char *c = (const unsigned char *)t; *c;) {
		size_t len = *c < 0x80 ? 1 : *c < 0xe0 ? 2 : *c < 0xf0 ? 3 : 4;
		for (size_t k = 1; k < len; k++)
			if (!c[k])
				len = k;   /* a cut sequence never reads past the end */
		const char *rep = NULL;
		if (escape)
			rep = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : NULL;
		size_t u = rep ? strlen(rep) : len == 4 ? 2 : 1;
		if (units + u > room) {
			cut = 1;
			break;
		}
		if (rep)
			buf_adds(&b, rep);
		else
			buf_add(&b, c, len);
		units += u;
		c += len;
	}
	if (cut)
		buf_adds(&b, " …");
	free(t);
	return buf_detach(&b);
}

/* A link target for Slack's <url|text>: the characters that would end or split it are encoded. */
static char *slack_url(const char *url)
{
	struct buf b = BUF_INIT;
	for (const char *c = url; *c; c++) {
		if (*c == '<' || *c == '>' || *c == '|' || *c == ' ' || (unsigned char)*c < 0x20)
			buf_addf(&b, "%%%02X", (unsigned char)*c);
		else if (*c == '&')
			buf_adds(&b, "&amp;");
		else
			buf_add(&b, c, 1);
	}
	return buf_detach(&b);
}

static void slack_field(json_t *fields, const char *name, const char *value)
{
	if (!value)
		return;
	char *v = slack_text(value, 0, 1900, 1);
	char *t = xasprintf("*%s*\n%s", name, v);
	json_t *f = json_object();
	json_object_set_new(f, "type", json_string("mrkdwn"));
	json_object_set_new(f, "text", json_string(t));
	json_array_append_new(fields, f);
	free(v);
	free(t);
}

static json_t *slack_section(const char *text)
{
	json_t *s = json_object(), *t = json_object();
	json_object_set_new(t, "type", json_string("mrkdwn"));
	json_object_set_new(t, "text", json_string(text));
	json_object_set_new(s, "type", json_string("section"));
	json_object_set_new(s, "text", t);
	return s;
}

static char *when(const char *iso, const char *extra)
{
	struct buf b = BUF_INIT;
	human_time(&b, iso);
	if (extra)
		buf_addf(&b, " (after %s)", extra);
	return buf_detach(&b);
}

char *message_slack(const struct message *m, const char *key)
{
	json_t *o = json_object(), *blocks = json_array();
	json_object_set_new(o, "text", json_string(m->subject));
	/* header: plain text, 150 characters at most */
	char *head = m->title ? xasprintf("%s: %s", m->headline, m->title) : xstrdup(m->headline);
	char *h = slack_text(head, 0, 150, 0);
	json_t *hb = json_object(), *ht = json_object();
	json_object_set_new(ht, "type", json_string("plain_text"));
	json_object_set_new(ht, "text", json_string(h));
	json_object_set_new(hb, "type", json_string("header"));
	json_object_set_new(hb, "text", ht);
	json_array_append_new(blocks, hb);
	free(head);
	free(h);
	json_t *fields = json_array();
	slack_field(fields, "Vendor", m->vendor_name);
	slack_field(fields, "Impact", m->impact);
	char *s = m->started ? when(m->started, NULL) : NULL;
	char *r = m->resolved ? when(m->resolved, m->duration) : NULL;
	slack_field(fields, "Started", s);
	slack_field(fields, "Resolved", r);
	slack_field(fields, "Status", m->status);
	free(s);
	free(r);
	json_t *fs = json_object();
	json_object_set_new(fs, "type", json_string("section"));
	json_object_set_new(fs, "fields", fields);
	json_array_append_new(blocks, fs);
	if (m->changed) {
		char *c = slack_text(m->changed, 0, 2900, 1);
		char *t = xasprintf("*What changed*\n```%s```", c);
		json_array_append_new(blocks, slack_section(t));
		free(c);
		free(t);
	}
	if (m->body) {
		char *c = slack_text(m->body, MESSAGE_CHAT_TRIM, 2900, 1);
		json_array_append_new(blocks, slack_section(c));
		free(c);
	}
	char *link = m->url ? slack_url(m->url) : NULL;
	char *ctx = link ? xasprintf("<%s|View on the status page> · %s", link, key ? key : "")
			 : xasprintf("%s", key ? key : "");
	free(link);
	json_t *cb = json_object(), *els = json_array(), *ce = json_object();
	json_object_set_new(ce, "type", json_string("mrkdwn"));
	json_object_set_new(ce, "text", json_string(ctx));
	json_array_append_new(els, ce);
	json_object_set_new(cb, "type", json_string("context"));
	json_object_set_new(cb, "elements", els);
	json_array_append_new(blocks, cb);
	free(ctx);
	json_object_set_new(o, "blocks", blocks);
	return dump(o);
}

static json_t *teams_text(const char *text, const char *weight, const char *size)
{
	json_t *t = json_object();
	json_object_set_new(t, "type", json_string("TextBlock"));
	json_object_set_new(t, "text", json_string(text));
	json_object_set_new(t, "wrap", json_true());
	if (weight)
		json_object_set_new(t, "weight", json_string(weight));
	if (size)
		json_object_set_new(t, "size", json_string(size));
	return t;
}

static void teams_fact(json_t *facts, const char *title, const char *value)
{
	if (!value)
		return;
	json_t *f = json_object();
	json_object_set_new(f, "title", json_string(title));
	json_object_set_new(f, "value", json_string(value));
	json_array_append_new(facts, f);
}

char *message_teams(const struct message *m, const char *key)
{
	json_t *body = json_array();
	json_array_append_new(body, teams_text(m->headline, "Bolder", "Medium"));
	if (m->title)
		json_array_append_new(body, teams_text(m->title, "Bolder", NULL));
	json_t *facts = json_array();
	teams_fact(facts, "Vendor", m->vendor_name);
	teams_fact(facts, "Impact", m->impact);
	teams_fact(facts, "Status", m->status);
	char *s = m->started ? when(m->started, NULL) : NULL;
	char *r = m->resolved ? when(m->resolved, m->duration) : NULL;
	teams_fact(facts, "Started", s);
	teams_fact(facts, "Resolved", r);
	free(s);
	free(r);
	json_t *fs = json_object();
	json_object_set_new(fs, "type", json_string("FactSet"));
	json_object_set_new(fs, "facts", facts);
	json_array_append_new(body, fs);
	if (m->changed) {
		int cut = 0;
		char *c = message_prefix(m->changed, 2800, &cut);
		json_array_append_new(body, teams_text("What changed", "Bolder", NULL));
		json_t *t = teams_text(c, NULL, NULL);
		json_object_set_new(t, "fontType", json_string("Monospace"));
		json_array_append_new(body, t);
		free(c);
	}
	if (m->body) {
		int cut = 0;
		char *c = message_prefix(m->body, MESSAGE_CHAT_TRIM, &cut);
		char *t = cut ? xasprintf("%s …", c) : xstrdup(c);
		json_array_append_new(body, teams_text(t, NULL, NULL));
		free(c);
		free(t);
	}
	if (key) {
		json_t *k = teams_text(key, NULL, "Small");
		json_object_set_new(k, "isSubtle", json_true());
		json_array_append_new(body, k);
	}
	json_t *card = json_object();
	json_object_set_new(card, "$schema", json_string("http://adaptivecards.io/schemas/adaptive-card.json"));
	json_object_set_new(card, "type", json_string("AdaptiveCard"));
	json_object_set_new(card, "version", json_string("1.4"));
	json_object_set_new(card, "body", body);
	if (m->url) {
		json_t *acts = json_array(), *a = json_object();
		json_object_set_new(a, "type", json_string("Action.OpenUrl"));
		json_object_set_new(a, "title", json_string("View on the status page"));
		json_object_set_new(a, "url", json_string(m->url));
		json_array_append_new(acts, a);
		json_object_set_new(card, "actions", acts);
	}
	json_t *att = json_object();
	json_object_set_new(att, "contentType", json_string("application/vnd.microsoft.card.adaptive"));
	json_object_set_new(att, "contentUrl", json_null());
	json_object_set_new(att, "content", card);
	json_t *atts = json_array();
	json_array_append_new(atts, att);
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string("message"));
	json_object_set_new(o, "attachments", atts);
	return dump(o);
}

/* ---- email ---- */

static int is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* An unstructured header value: ASCII as it is, else RFC 2047 encoded words of whole characters. */
static void add_header_text(struct buf *b, const char *s)
{
	if (is_ascii_printable(s)) {
		buf_adds(b, s);
		return;
	}
	size_t n = strlen(s), i = 0;
	int first = 1;
	while (i < n) {
		/* at most 45 bytes (60 base64 characters) a word, 30 in the first one that shares its line
		 * with "Subject: ", so that no line passes 76 characters; words end on a character boundary */
		size_t max = first ? 30 : 45;
		size_t j = i + max < n ? i + max : n;
		while (j < n && j > i && ((unsigned char)s[j] & 0xc0) == 0x80)
			j--;
		if (j == i)
			j = i + max < n ? i + max : n;   /* not UTF-8 there: cut anyway */
		buf_adds(b, first ? "=?UTF-8?B?" : "\n =?UTF-8?B?");
		first = 0;
		for (size_t k = i; k < j; k += 3) {
			unsigned v = (unsigned char)s[k] << 16;
			if (k + 1 < j)
				v |= (unsigned char)s[k + 1] << 8;
			if (k + 2 < j)
				v |= (unsigned char)s[k + 2];
			char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63], k + 1 < j ? b64[v >> 6 & 63] : '=',
				      k + 2 < j ? b64[v & 63] : '=' };
			buf_add(b, q, 4);
		}
		buf_adds(b, "?=");
		i = j;
	}
}

/* Quoted-printable (RFC 2045) lines of at most 76 characters; lines end in LF, as sendmail takes them. */
static void add_qp(struct buf *b, const char *s)
{
	size_t col = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '\n') {
			buf_adds(b, "\n");
			col = 0;
			continue;
		}
		char enc[4];
		size_t w;
		int trailing_space = (*c == ' ' || *c == '\t') && (c[1] == '\n' || c[1] == '\0');
		if ((*c >= 33 && *c <= 126 && *c != '=') || ((*c == ' ' || *c == '\t') && !trailing_space)) {
			enc[0] = (char)*c;
			w = 1;
		} else {
			static const char hex[] = "0123456789ABCDEF";
			enc[0] = '=';
			enc[1] = hex[*c >> 4];
			enc[2] = hex[*c & 15];
			w = 3;
		}
		if (col + w > 75) {
			buf_adds(b, "=\n");
			col = 0;
		}
		buf_add(b, enc, w);
		col += w;
	}
	buf_adds(b, "\n");
}

char *message_email(const struct message *m, const char *from, const char *const *to, size_t n_to,
		    const char *key, int64_t now)
{
	static const char *const days[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct buf b = BUF_INIT;
	buf_addf(&b, "From: %s\nTo: ", from);
	for (size_t i = 0; i < n_to; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", to[i]);
	buf_adds(&b, "\nSubject: ");
	int cut = 0;
	char *subj = message_prefix(m->subject, 200, &cut);
	add_header_text(&b, subj);
	free(subj);
	int64_t y;
	int mo, d, hh, mi, ss;
	date_to_civil(now, &y, &mo, &d, &hh, &mi, &ss);
	int64_t days_since = now >= 0 ? now / 86400 : (now - 86399) / 86400;
	buf_addf(&b, "\nDate: %s, %d %s %lld %02d:%02d:%02d +0000\n", days[((days_since % 7) + 7) % 7], d,
		 months[mo - 1], (long long)y, hh, mi, ss);
	if (key)
		buf_addf(&b, "Message-ID: <%s@starchive>\n", key);
	buf_addf(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
		     "Content-Transfer-Encoding: quoted-printable\nAuto-Submitted: auto-generated\n"
		     "X-Starchive-Event: %s\nX-Starchive-Vendor: %s\n",
		 m->type, m->vendor);
	if (key)
		buf_addf(&b, "X-Starchive-Idempotency-Key: %s\n", key);
	buf_adds(&b, "\n");
	add_qp(&b, m->text);
	return buf_detach(&b);
}
