/* record.c: the normalized record model and its canonical JSON form (see starchive(5)). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "normalize.h"
#include "record.h"
#include "util.h"

#define GROW(arr, n) ((arr) = xreallocarray((arr), (n) + 1, sizeof(*(arr))), \
		      memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

struct rec_doc *rec_doc_new(const char *kind)
{
	struct rec_doc *d = xcalloc(1, sizeof *d);
	rec_set(&d->kind, kind);
	return d;
}

void rec_component_clear(struct rec_component *c)
{
	free(c->id);
	free(c->name);
	free(c->status);
	free(c->status_raw);
	free(c->group);
	memset(c, 0, sizeof *c);
}

void rec_time_clear(struct rec_time *t)
{
	free(t->text);
	memset(t, 0, sizeof *t);
}

void rec_update_clear(struct rec_update *u)
{
	free(u->id);
	free(u->status);
	free(u->status_raw);
	rec_time_clear(&u->at);
	free(u->body);
	free(u->body_html);
	memset(u, 0, sizeof *u);
}

void rec_postmortem_free(struct rec_postmortem *p)
{
	if (!p)
		return;
	free(p->body);
	free(p->body_html);
	rec_time_clear(&p->published);
	free(p);
}

void rec_incident_clear(struct rec_incident *inc)
{
	free(inc->id);
	for (size_t i = 0; i < inc->n_ids; i++) {
		free(inc->ids[i].scheme);
		free(inc->ids[i].value);
	}
	free(inc->ids);
	free(inc->url);
	free(inc->title);
	free(inc->kind);
	free(inc->impact);
	free(inc->impact_raw);
	free(inc->status);
	free(inc->status_raw);
	rec_time_clear(&inc->started);
	rec_time_clear(&inc->resolved);
	rec_time_clear(&inc->updated);
	rec_time_clear(&inc->scheduled_for);
	rec_time_clear(&inc->scheduled_until);
	for (size_t i = 0; i < inc->n_components; i++)
		rec_component_clear(&inc->components[i]);
	free(inc->components);
	for (size_t i = 0; i < inc->n_updates; i++)
		rec_update_clear(&inc->updates[i]);
	free(inc->updates);
	rec_postmortem_free(inc->postmortem);
	free(inc->source_url);
	free(inc->vendor);
	memset(inc, 0, sizeof *inc);
}

void rec_doc_free(struct rec_doc *d)
{
	if (!d)
		return;
	free(d->kind);
	free(d->url);
	free(d->page_id);
	free(d->page_name);
	free(d->page_url);
	free(d->time_zone);
	for (size_t i = 0; i < d->n_components; i++)
		rec_component_clear(&d->components[i]);
	free(d->components);
	for (size_t i = 0; i < d->n_incidents; i++)
		rec_incident_clear(&d->incidents[i]);
	free(d->incidents);
	for (size_t i = 0; i < d->n_errors; i++)
		free(d->errors[i]);
	free(d->errors);
	free(d);
}

struct rec_component *rec_doc_add_component(struct rec_doc *d)
{
	return GROW(d->components, d->n_components);
}

struct rec_incident *rec_doc_add_incident(struct rec_doc *d)
{
	return GROW(d->incidents, d->n_incidents);
}

struct rec_update *rec_incident_add_update(struct rec_incident *inc)
{
	return GROW(inc->updates, inc->n_updates);
}

struct rec_component *rec_incident_add_component(struct rec_incident *inc)
{
	return GROW(inc->components, inc->n_components);
}

void rec_incident_add_id(struct rec_incident *inc, const char *scheme, const char *value)
{
	if (!value || !*value)
		return;
	for (size_t i = 0; i < inc->n_ids; i++)
		if (str_eq(inc->ids[i].scheme, scheme) && str_eq(inc->ids[i].value, value))
			return;
	struct rec_id *id = GROW(inc->ids, inc->n_ids);
	rec_set(&id->scheme, scheme);
	rec_set(&id->value, value);
}

void rec_doc_add_error(struct rec_doc *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	d->errors = xreallocarray(d->errors, d->n_errors + 1, sizeof *d->errors);
	d->errors[d->n_errors] = NULL;
	rec_set(&d->errors[d->n_errors++], msg);
	free(msg);
}

void rec_setn(char **dst, const char *s, size_t n)
{
	char *v = s ? utf8_sanitize(s, n) : NULL;
	free(*dst);
	*dst = v;
}

void rec_set(char **dst, const char *s)
{
	rec_setn(dst, s, s ? strlen(s) : 0);
}

void rec_time_set(struct rec_time *t, int64_t utc, const char *text)
{
	t->ok = 1;
	t->t = utc;
	if (text)
		rec_set(&t->text, text);
}

void rec_incident_reverse_updates(struct rec_incident *inc)
{
	for (size_t i = 0, j = inc->n_updates; i + 1 < j; i++, j--) {
		struct rec_update tmp = inc->updates[i];
		inc->updates[i] = inc->updates[j - 1];
		inc->updates[j - 1] = tmp;
	}
}

static void copy_time(struct rec_time *dst, const struct rec_time *src)
{
	rec_time_clear(dst);
	dst->ok = src->ok;
	dst->t = src->t;
	rec_set(&dst->text, src->text);
}

void rec_incident_finish(struct rec_incident *inc)
{
	if (!inc->id && inc->n_ids)
		rec_set(&inc->id, inc->ids[0].value);
	if (!inc->id && inc->url)
		rec_set(&inc->id, inc->url);
	/* the latest status that is more than a plain "update" is the current one */
	const char *last = NULL;
	const char *last_raw = NULL;
	int maint = 0;
	for (size_t i = 0; i < inc->n_updates; i++) {
		struct rec_update *u = &inc->updates[i];
		if (u->status && !str_eq(u->status, "update")) {
			last = u->status;
			last_raw = u->status_raw;
		}
		if (norm_status_is_maintenance(u->status))
			maint = 1;
	}
	if (!inc->status && last) {
		rec_set(&inc->status, last);
		if (!inc->status_raw)
			rec_set(&inc->status_raw, last_raw);
	}
	if (!inc->kind) {
		int m = maint || str_eq(inc->impact, "maintenance") || inc->scheduled_for.ok ||
			norm_status_is_maintenance(inc->status);
		rec_set(&inc->kind, m ? "maintenance" : "incident");
	}
	if (!inc->started.ok && inc->n_updates) {
		/* a maintenance starts when the work does, not when it was announced */
		int maint_kind = str_eq(inc->kind, "maintenance");
		for (int pass = maint_kind ? 0 : 1; pass < 2 && !inc->started.ok; pass++) {
			for (size_t i = 0; i < inc->n_updates; i++) {
				const struct rec_update *u = &inc->updates[i];
				if (!u->at.ok || (pass == 0 && (!norm_status_is_maintenance(u->status) ||
								str_eq(u->status, "scheduled"))))
					continue;
				/* NOTE: a timeline whose first known entry already says monitoring, resolved or
				 * later (feeds that show only the current state) does not know the start */
				if (str_eq(u->status, "monitoring") || str_eq(u->status, "verifying") ||
				    norm_status_is_closed(u->status))
					break;
				copy_time(&inc->started, &u->at);
				break;
			}
		}
	}
	if (!inc->resolved.ok && norm_status_is_closed(inc->status)) {
		/* the first closing update, postmortems excluded */
		for (size_t i = 0; i < inc->n_updates; i++) {
			struct rec_update *u = &inc->updates[i];
			if (u->at.ok && (str_eq(u->status, "resolved") || str_eq(u->status, "completed"))) {
				copy_time(&inc->resolved, &u->at);
				break;
			}
		}
	}
	if (!inc->updated.ok) {
		for (size_t i = inc->n_updates; i > 0; i--) {
			if (inc->updates[i - 1].at.ok) {
				copy_time(&inc->updated, &inc->updates[i - 1].at);
				break;
			}
		}
	}
	/* a postmortem in the timeline is also the incident's postmortem object */
	if (!inc->postmortem) {
		for (size_t i = inc->n_updates; i > 0; i--) {
			struct rec_update *u = &inc->updates[i - 1];
			if (str_eq(u->status, "postmortem")) {
				inc->postmortem = xcalloc(1, sizeof *inc->postmortem);
				rec_set(&inc->postmortem->body, u->body);
				rec_set(&inc->postmortem->body_html, u->body_html);
				copy_time(&inc->postmortem->published, &u->at);
				break;
			}
		}
	}
}

void rec_incident_copy(struct rec_incident *dst, const struct rec_incident *src)
{
	memset(dst, 0, sizeof *dst);
	rec_set(&dst->id, src->id);
	for (size_t i = 0; i < src->n_ids; i++)
		rec_incident_add_id(dst, src->ids[i].scheme, src->ids[i].value);
	rec_set(&dst->url, src->url);
	rec_set(&dst->title, src->title);
	rec_set(&dst->kind, src->kind);
	rec_set(&dst->impact, src->impact);
	rec_set(&dst->impact_raw, src->impact_raw);
	rec_set(&dst->status, src->status);
	rec_set(&dst->status_raw, src->status_raw);
	copy_time(&dst->started, &src->started);
	copy_time(&dst->resolved, &src->resolved);
	copy_time(&dst->updated, &src->updated);
	copy_time(&dst->scheduled_for, &src->scheduled_for);
	copy_time(&dst->scheduled_until, &src->scheduled_until);
	for (size_t i = 0; i < src->n_components; i++) {
		struct rec_component *c = rec_incident_add_component(dst);
		const struct rec_component *s = &src->components[i];
		rec_set(&c->id, s->id);
		rec_set(&c->name, s->name);
		rec_set(&c->status, s->status);
		rec_set(&c->status_raw, s->status_raw);
		rec_set(&c->group, s->group);
	}
	for (size_t i = 0; i < src->n_updates; i++) {
		struct rec_update *u = rec_incident_add_update(dst);
		const struct rec_update *s = &src->updates[i];
		rec_set(&u->id, s->id);
		rec_set(&u->status, s->status);
		rec_set(&u->status_raw, s->status_raw);
		copy_time(&u->at, &s->at);
		rec_set(&u->body, s->body);
		rec_set(&u->body_html, s->body_html);
	}
	if (src->postmortem) {
		dst->postmortem = xcalloc(1, sizeof *dst->postmortem);
		rec_set(&dst->postmortem->body, src->postmortem->body);
		rec_set(&dst->postmortem->body_html, src->postmortem->body_html);
		copy_time(&dst->postmortem->published, &src->postmortem->published);
	}
	rec_set(&dst->source_url, src->source_url);
	rec_set(&dst->vendor, src->vendor);
}

/* ---- JSON out ---- */

void rec_format_time(int64_t t, char *out, size_t n)
{
	int64_t y;
	int m, d, hh, mi, ss;
	date_to_civil(t, &y, &m, &d, &hh, &mi, &ss);
	snprintf(out, n, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, hh, mi, ss);
}

/* A small streaming writer for the canonical form: no tree is built, so memory stays flat however
 * many incidents a document holds. Output goes to b, and to f in 64 KiB chunks when f is set. */
struct jw {
	struct buf b;
	FILE *f;
	int indent;   /* 0: compact */
	int depth;
	int first;    /* no member written yet at this depth */
	int err;
};

static void jw_flush(struct jw *w)
{
	if (w->f && w->b.len) {
		if (fwrite(w->b.data, 1, w->b.len, w->f) != w->b.len)
			w->err = 1;
		buf_reset(&w->b);
	}
}

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	buf_add(&w->b, s, n);
	if (w->f && w->b.len >= 65536)
		jw_flush(w);
}

static void jw_newline(struct jw *w)
{
	if (!w->indent)
		return;
	jw_raw(w, "\n", 1);
	for (int i = 0; i < w->depth; i++)
		jw_raw(w, "  ", 2);
}

static void jw_string(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	jw_raw(w, "\"", 1);
	const char *run = s;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_raw(w, run, (size_t)(p - run));
		run = p + 1;
		char esc[7] = { '\\', 0 };
		size_t n = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		jw_raw(w, esc, n);
	}
	jw_raw(w, run, strlen(run));
	jw_raw(w, "\"", 1);
}

/* Open an object or array as a member value (key NULL inside arrays or at the top). */
static void jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first)
			jw_raw(w, ",", 1);
		jw_newline(w);
	}
	w->first = 0;
	if (key) {
		jw_string(w, key);
		jw_raw(w, w->indent ? ": " : ":", w->indent ? 2 : 1);
	}
}

static void jw_open(struct jw *w, const char *key, char brace)
{
	jw_key(w, key);
	jw_raw(w, &brace, 1);
	w->depth++;
	w->first = 1;
}

static void jw_close(struct jw *w, char brace)
{
	int empty = w->first;
	w->depth--;
	if (!empty)
		jw_newline(w);
	jw_raw(w, &brace, 1);
	w->first = 0;
}

static void put_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s)
		jw_string(w, s);
	else
		jw_raw(w, "null", 4);
}

static void put_int(struct jw *w, const char *key, int ok, int64_t v)
{
	char num[32];
	int n = ok ? snprintf(num, sizeof num, "%lld", (long long)v) : snprintf(num, sizeof num, "null");
	jw_key(w, key);
	jw_raw(w, num, (size_t)n);
}

static void put_time(struct jw *w, const char *key, const char *text_key, const struct rec_time *t)
{
	char buf[40];
	if (t->ok)
		rec_format_time(t->t, buf, sizeof buf);
	put_str(w, key, t->ok ? buf : NULL);
	put_str(w, text_key, t->text);
}

static void component_json(struct jw *w, const struct rec_component *c)
{
	jw_open(w, NULL, '{');
	put_str(w, "id", c->id);
	put_str(w, "name", c->name);
	put_str(w, "status", c->status);
	put_str(w, "status_raw", c->status_raw);
	put_str(w, "group", c->group);
	jw_close(w, '}');
}

static void incident_json(struct jw *w, const struct rec_incident *inc)
{
	jw_open(w, NULL, '{');
	put_str(w, "id", inc->id);
	jw_open(w, "ids", '[');
	for (size_t i = 0; i < inc->n_ids; i++) {
		jw_open(w, NULL, '{');
		put_str(w, "scheme", inc->ids[i].scheme);
		put_str(w, "value", inc->ids[i].value);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	put_str(w, "url", inc->url);
	put_str(w, "vendor", inc->vendor);
	put_str(w, "title", inc->title);
	put_str(w, "kind", inc->kind);
	put_str(w, "impact", inc->impact);
	put_str(w, "impact_raw", inc->impact_raw);
	put_str(w, "status", inc->status);
	put_str(w, "status_raw", inc->status_raw);
	put_time(w, "started_at", "started_text", &inc->started);
	put_time(w, "resolved_at", "resolved_text", &inc->resolved);
	put_time(w, "updated_at", "updated_text", &inc->updated);
	put_int(w, "duration_seconds", inc->started.ok && inc->resolved.ok && inc->resolved.t >= inc->started.t,
		inc->resolved.t - inc->started.t);
	put_time(w, "scheduled_for", "scheduled_for_text", &inc->scheduled_for);
	put_time(w, "scheduled_until", "scheduled_until_text", &inc->scheduled_until);
	jw_open(w, "components", '[');
	for (size_t i = 0; i < inc->n_components; i++)
		component_json(w, &inc->components[i]);
	jw_close(w, ']');
	jw_open(w, "updates", '[');
	for (size_t i = 0; i < inc->n_updates; i++) {
		const struct rec_update *u = &inc->updates[i];
		jw_open(w, NULL, '{');
		put_str(w, "id", u->id);
		put_str(w, "status", u->status);
		put_str(w, "status_raw", u->status_raw);
		put_time(w, "at", "at_text", &u->at);
		put_str(w, "body", u->body);
		put_str(w, "body_html", u->body_html);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	if (inc->postmortem) {
		jw_open(w, "postmortem", '{');
		put_str(w, "body", inc->postmortem->body);
		put_str(w, "body_html", inc->postmortem->body_html);
		put_time(w, "published_at", "published_text", &inc->postmortem->published);
		jw_close(w, '}');
	} else {
		put_str(w, "postmortem", NULL);
	}
	put_str(w, "source_url", inc->source_url);
	jw_close(w, '}');
}

char *rec_incident_to_json(const struct rec_incident *inc, int indent)
{
	struct jw w = { BUF_INIT, NULL, indent, 0, 1, 0 };
	buf_add(&w.b, "", 0);
	incident_json(&w, inc);
	if (indent)
		jw_raw(&w, "\n", 1);
	return buf_detach(&w.b);
}

static void doc_json(struct jw *w, const struct rec_doc *d)
{
	jw_open(w, NULL, '{');
	put_str(w, "format", REC_FORMAT);
	put_str(w, "kind", d->kind);
	put_str(w, "url", d->url);
	jw_open(w, "page", '{');
	put_str(w, "id", d->page_id);
	put_str(w, "name", d->page_name);
	put_str(w, "url", d->page_url);
	put_str(w, "time_zone", d->time_zone);
	jw_close(w, '}');
	jw_open(w, "components", '[');
	for (size_t i = 0; i < d->n_components; i++)
		component_json(w, &d->components[i]);
	jw_close(w, ']');
	jw_open(w, "incidents", '[');
	for (size_t i = 0; i < d->n_incidents; i++)
		incident_json(w, &d->incidents[i]);
	jw_close(w, ']');
	jw_open(w, "errors", '[');
	for (size_t i = 0; i < d->n_errors; i++)
		put_str(w, NULL, d->errors[i]);
	jw_close(w, ']');
	jw_close(w, '}');
	jw_raw(w, "\n", 1);
}

char *rec_doc_to_json(const struct rec_doc *d)
{
	struct jw w = { BUF_INIT, NULL, 1, 0, 1, 0 };
	buf_add(&w.b, "", 0);
	doc_json(&w, d);
	return buf_detach(&w.b);
}

int rec_doc_write(const struct rec_doc *d, FILE *f)
{
	struct jw w = { BUF_INIT, f, 1, 0, 1, 0 };
	doc_json(&w, d);
	jw_flush(&w);
	buf_release(&w.b);
	return w.err ? -1 : 0;
}

/* ---- JSON in ---- */

static void get_str(json_t *o, const char *key, char **dst)
{
	json_t *v = json_object_get(o, key);
	if (json_is_string(v))
		rec_set(dst, json_string_value(v));
}

static void get_time(json_t *o, const char *key, const char *text_key, struct rec_time *t)
{
	json_t *v = json_object_get(o, key);
	int64_t s;
	if (json_is_string(v) && date_parse(json_string_value(v), NULL, &s, NULL) == 0) {
		t->ok = 1;
		t->t = s;
	}
	get_str(o, text_key, &t->text);
}

static void component_from(json_t *o, struct rec_component *c)
{
	get_str(o, "id", &c->id);
	get_str(o, "name", &c->name);
	get_str(o, "status", &c->status);
	get_str(o, "status_raw", &c->status_raw);
	get_str(o, "group", &c->group);
}

static int incident_from(json_t *o, struct rec_incident *inc, char **cause)
{
	if (!json_is_object(o))
		return set_cause(cause, "an incident is not a JSON object");
	memset(inc, 0, sizeof *inc);
	get_str(o, "id", &inc->id);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "ids"), i, v) {
		json_t *s = json_object_get(v, "scheme"), *val = json_object_get(v, "value");
		if (json_is_string(s) && json_is_string(val))
			rec_incident_add_id(inc, json_string_value(s), json_string_value(val));
	}
	get_str(o, "url", &inc->url);
	get_str(o, "vendor", &inc->vendor);
	get_str(o, "title", &inc->title);
	get_str(o, "kind", &inc->kind);
	get_str(o, "impact", &inc->impact);
	get_str(o, "impact_raw", &inc->impact_raw);
	get_str(o, "status", &inc->status);
	get_str(o, "status_raw", &inc->status_raw);
	get_time(o, "started_at", "started_text", &inc->started);
	get_time(o, "resolved_at", "resolved_text", &inc->resolved);
	get_time(o, "updated_at", "updated_text", &inc->updated);
	get_time(o, "scheduled_for", "scheduled_for_text", &inc->scheduled_for);
	get_time(o, "scheduled_until", "scheduled_until_text", &inc->scheduled_until);
	json_array_foreach(json_object_get(o, "components"), i, v)
		component_from(v, rec_incident_add_component(inc));
	json_array_foreach(json_object_get(o, "updates"), i, v) {
		struct rec_update *u = rec_incident_add_update(inc);
		get_str(v, "id", &u->id);
		get_str(v, "status", &u->status);
		get_str(v, "status_raw", &u->status_raw);
		get_time(v, "at", "at_text", &u->at);
		get_str(v, "body", &u->body);
		get_str(v, "body_html", &u->body_html);
	}
	json_t *pm = json_object_get(o, "postmortem");
	if (json_is_object(pm)) {
		inc->postmortem = xcalloc(1, sizeof *inc->postmortem);
		get_str(pm, "body", &inc->postmortem->body);
		get_str(pm, "body_html", &inc->postmortem->body_html);
		get_time(pm, "published_at", "published_text", &inc->postmortem->published);
	}
	get_str(o, "source_url", &inc->source_url);
	return 0;
}

static json_t *load(const char *text, size_t len, char **cause)
{
	json_error_t err;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		set_cause(cause, "invalid record JSON at line %d: %s", err.line, err.text);
	return o;
}

int rec_incident_from_json(const char *text, size_t len, struct rec_incident *inc, char **cause)
{
	json_t *o = load(text, len, cause);
	if (!o)
		return -1;
	int rc = incident_from(o, inc, cause);
	json_decref(o);
	return rc;
}

struct rec_doc *rec_doc_from_json(const char *text, size_t len, char **cause)
{
	json_t *o = load(text, len, cause);
	if (!o)
		return NULL;
	json_t *fmt = json_object_get(o, "format");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), REC_FORMAT) != 0) {
		json_decref(o);
		set_cause(cause, "not a %s document", REC_FORMAT);
		return NULL;
	}
	struct rec_doc *d = rec_doc_new(NULL);
	get_str(o, "kind", &d->kind);
	get_str(o, "url", &d->url);
	json_t *page = json_object_get(o, "page");
	get_str(page, "id", &d->page_id);
	get_str(page, "name", &d->page_name);
	get_str(page, "url", &d->page_url);
	get_str(page, "time_zone", &d->time_zone);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "components"), i, v)
		component_from(v, rec_doc_add_component(d));
	int rc = 0;
	json_array_foreach(json_object_get(o, "incidents"), i, v) {
		struct rec_incident *inc = rec_doc_add_incident(d);
		if (incident_from(v, inc, cause) < 0) {
			rc = -1;
			break;
		}
	}
	json_array_foreach(json_object_get(o, "errors"), i, v)
		if (json_is_string(v))
			rec_doc_add_error(d, "%s", json_string_value(v));
	json_decref(o);
	if (rc < 0) {
		rec_doc_free(d);
		return NULL;
	}
	return d;
}
