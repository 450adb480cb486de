/* archive.c: ingest = parse + merge + diff + events, one transaction per document.
 * The merge rules and the events they raise are documented in doc/ARCHIVE.md. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "archive.h"
#include "diff.h"
#include "normalize.h"
#include "parse.h"
#include "sha256.h"
#include "util.h"

/* ---- small record helpers ---- */

static void copy_time(struct rec_time *dst, const struct rec_time *src)
{
	rec_time_clear(dst);
	dst->ok = src->ok;
	dst->t = src->t;
	rec_set(&dst->text, src->text);
}

static void copy_update(struct rec_update *dst, const struct rec_update *src)
{
	rec_set(&dst->id, src->id);
	rec_set(&dst->status, src->status);
	rec_set(&dst->status_raw, src->status_raw);
	copy_time(&dst->at, &src->at);
	rec_set(&dst->body, src->body);
	rec_set(&dst->body_html, src->body_html);
}

static void copy_component(struct rec_component *dst, const struct rec_component *src)
{
	rec_set(&dst->id, src->id);
	rec_set(&dst->name, src->name);
	rec_set(&dst->status, src->status);
	rec_set(&dst->status_raw, src->status_raw);
	rec_set(&dst->group, src->group);
}

static int is_closed(const char *status)
{
	return norm_status_is_closed(status);
}

/* The archive keeps which components an incident touched; their status is the page's state at one
 * moment (it changes for reasons that are not this incident) and lives in the components table. */
static void strip_component_status(struct rec_incident *inc)
{
	for (size_t i = 0; i < inc->n_components; i++) {
		rec_set(&inc->components[i].status, NULL);
		rec_set(&inc->components[i].status_raw, NULL);
	}
}

/* ---- keys ---- */

char *archive_key_norm(const char *s)
{
	if (!s)
		return NULL;
	const char *sep = strstr(s, "://");
	if (!sep || sep == s)
		return NULL;
	for (const char *p = s; p < sep; p++)
		if (!((*p | 32) >= 'a' && (*p | 32) <= 'z'))
			return NULL;
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	size_t slen = (size_t)(sep - s);
	if (slen == 4 && strncasecmp(s, "http", 4) == 0)
		buf_adds(&b, "https");
	else
		for (const char *p = s; p < sep; p++)
			buf_addc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
	buf_adds(&b, "://");
	const char *p = sep + 3;
	while (*p && *p != '/' && *p != '?' && *p != '#') {
		buf_addc(&b, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
		p++;
	}
	while (*p && *p != '#')
		buf_addc(&b, *p++);
	while (b.len > 0 && b.data[b.len - 1] == '/' && b.len > (size_t)(slen + 4)) {
		b.data[--b.len] = '\0';
	}
	return buf_detach(&b);
}

/* The key this observation goes by in its source: its primary id, else its URL, else a digest. */
static char *obs_key(const struct rec_incident *o)
{
	if (o->id)
		return xstrdup(o->id);
	if (o->url)
		return xstrdup(o->url);
	char *t = xasprintf("%s|%lld", o->title ? o->title : "", o->started.ok ? (long long)o->started.t : 0LL);
	char hex[SHA256_HEX_LEN];
	sha256_hex(t, strlen(t), hex);
	free(t);
	return xasprintf("anon:%.16s", hex);
}

struct keys {
	char *v[64];
	const char *scheme[64];
	size_t n;
};

static void keys_add(struct keys *k, const char *scheme, const char *v)
{
	if (!v || !*v || k->n >= ARRAY_SIZE(k->v))
		return;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], v) == 0)
			return;
	k->scheme[k->n] = scheme;
	k->v[k->n++] = xstrdup(v);
}

static void keys_add_norm(struct keys *k, const char *scheme, const char *v)
{
	keys_add(k, scheme, v);
	char *n = archive_key_norm(v);
	if (n)
		keys_add(k, "norm", n);
	free(n);
}

static void keys_of(struct keys *k, const char *key, const struct rec_incident *o)
{
	k->n = 0;
	keys_add(k, "key", key);
	for (size_t i = 0; i < o->n_ids; i++)
		keys_add_norm(k, o->ids[i].scheme, o->ids[i].value);
	keys_add_norm(k, "url", o->url);
	keys_add_norm(k, "source_url", o->source_url);
}

static void keys_clear(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	k->n = 0;
}

/* ---- merge ---- */

void archive_merge_info_clear(struct archive_merge_info *mi)
{
	for (size_t i = 0; i < mi->n; i++)
		free(mi->old_body[i]);
	free(mi->old_body);
	free(mi->origin);
	free(mi->pm_old);
	memset(mi, 0, sizeof *mi);
}

static int specific(const char *status)
{
	return status && strcmp(status, "update") != 0;
}

/* Two labels can name the same update: equal, or one is missing or the generic "update". */
static int status_compatible(const char *a, const char *b)
{
	return !specific(a) || !specific(b) || strcmp(a, b) == 0;
}

static int64_t minute_of(int64_t t)
{
	return t >= 0 ? t / 60 : -((-t + 59) / 60);
}

/* The same moment read at a coarser precision: a page that shows minutes ("12:23") for what the API
 * gives to the second ("12:23:38") says nothing new. */
static int same_moment(const struct rec_time *known, const struct rec_time *seen)
{
	return known->t == seen->t || (seen->t % 60 == 0 && minute_of(seen->t) == minute_of(known->t));
}

static int same_minute(const struct rec_time *a, const struct rec_time *b)
{
	if (!a->ok || !b->ok)
		return !a->ok && !b->ok;
	return minute_of(a->t) == minute_of(b->t);
}

/* Two updates with different vendor ids are different updates, whatever else they share. */
static int id_conflict(const struct rec_update *a, const struct rec_update *b)
{
	return a->id && b->id && strcmp(a->id, b->id) != 0;
}

/* An update known only from a history index's one line: no vendor id, label or time. */
static int is_summary(const struct rec_update *u)
{
	return !u->id && !u->status && !u->at.ok && u->body;
}

/* Which stored update (index < ns) each observed update is, or -1. Passes from the surest to the
 * loosest: vendor id; same minute, label and text; same minute and label (an edit); same label and
 * text (a time read in a wrong zone); a shortened copy of a text in the same minute; an index's
 * one-line summary and the update it begins (the latest such update first). */
static void match_updates(const struct rec_incident *m, size_t ns, const struct rec_incident *o, long *match)
{
	unsigned char *used = xcalloc(ns + 1, 1);
	for (size_t j = 0; j < o->n_updates; j++)
		match[j] = -1;
	for (int pass = 0; pass < 6; pass++) {
		for (size_t k = 0; k < o->n_updates; k++) {
			size_t j = pass == 5 ? o->n_updates - 1 - k : k;
			if (match[j] >= 0)
				continue;
			const struct rec_update *ou = &o->updates[j];
			for (size_t i = 0; i < ns; i++) {
				const struct rec_update *su = &m->updates[i];
				if (used[i])
					continue;
				int ok = 0;
				if (pass == 0)
					ok = ou->id && su->id && strcmp(ou->id, su->id) == 0;
				else if (id_conflict(su, ou) || !status_compatible(su->status, ou->status))
					ok = 0;
				else if (pass == 1)
					ok = same_minute(&su->at, &ou->at) && diff_same_text(su->body, ou->body);
				else if (pass == 2)
					ok = same_minute(&su->at, &ou->at) && !(su->id && ou->id);
				else if (pass == 3)
					ok = su->body && ou->body && diff_same_text(su->body, ou->body);
				else if (pass == 4)
					ok = same_minute(&su->at, &ou->at) && (diff_is_truncation(ou->body, su->body) ||
									       diff_is_truncation(su->body, ou->body));
				else
					ok = (is_summary(su) && (diff_same_text(su->body, ou->body) ||
								 diff_is_prefix(su->body, ou->body))) ||
					     (is_summary(ou) && diff_is_prefix(ou->body, su->body));
				if (ok) {
					match[j] = (long)i;
					used[i] = 1;
					break;
				}
			}
		}
	}
	free(used);
}

/* Fold observed update o into merged update m (the stored one); returns the stored body when the
 * observation edited the text (caller frees), else NULL. */
static char *merge_update(struct rec_update *m, const struct rec_update *o, int newer)
{
	char *edited = NULL;
	int m_summary = is_summary(m), o_summary = is_summary(o);
	if (!m->id && o->id)
		rec_set(&m->id, o->id);
	if (o->status && !str_eq(m->status, o->status) &&
	    (!m->status || (!specific(m->status) && specific(o->status)) || (newer && specific(o->status)))) {
		rec_set(&m->status, o->status);
		rec_set(&m->status_raw, o->status_raw);
	} else if (!m->status_raw && o->status_raw && str_eq(m->status, o->status)) {
		rec_set(&m->status_raw, o->status_raw);
	}
	/* a source with vendor ids (the API) is the better clock; otherwise the first time read stays */
	if (o->at.ok && (!m->at.ok || (newer && o->id && !same_moment(&m->at, &o->at))))
		copy_time(&m->at, &o->at);
	if (o->body && !m->body) {
		rec_set(&m->body, o->body);
	} else if (o->body && m->body && !diff_same_text(m->body, o->body)) {
		if (diff_is_truncation(o->body, m->body) || (o_summary && diff_is_prefix(o->body, m->body))) {
			/* a shortened copy (an index page's excerpt or one-line summary) adds nothing */
		} else if (diff_is_truncation(m->body, o->body) || (m_summary && diff_is_prefix(m->body, o->body))) {
			rec_set(&m->body, o->body); /* the whole text where only an excerpt was known */
			rec_set(&m->body_html, o->body_html);
		} else if (newer) {
			edited = xstrdup(m->body);
			rec_set(&m->body, o->body);
			rec_set(&m->body_html, o->body_html);
		}
	}
	if (!m->body_html && o->body_html && diff_same_text(m->body, o->body))
		rec_set(&m->body_html, o->body_html);
	return edited;
}

static int same_component(const struct rec_component *a, const struct rec_component *b)
{
	if (a->id && b->id)
		return strcmp(a->id, b->id) == 0;
	return a->name && b->name && str_ieq(a->name, b->name);
}

static void merge_components(struct rec_incident *m, const struct rec_incident *s, const struct rec_incident *o,
			     int newer)
{
	if (!o->n_components || (!newer && m->n_components))
		return;
	/* the observation's list replaces the stored one; what the stored list knew fills the gaps */
	for (size_t i = 0; i < m->n_components; i++)
		rec_component_clear(&m->components[i]);
	m->n_components = 0;
	for (size_t i = 0; i < o->n_components; i++) {
		const struct rec_component *oc = &o->components[i];
		size_t k = 0;
		while (k < m->n_components && !same_component(&m->components[k], oc))
			k++;
		if (k < m->n_components)
			continue; /* listed twice */
		struct rec_component *c = rec_incident_add_component(m);
		copy_component(c, oc);
		for (size_t j = 0; s && j < s->n_components; j++) {
			const struct rec_component *sc = &s->components[j];
			if (!same_component(sc, oc) && !(sc->name && oc->name && str_ieq(sc->name, oc->name)))
				continue;
			if (!c->id)
				rec_set(&c->id, sc->id);
			if (!c->name)
				rec_set(&c->name, sc->name);
			if (!c->group)
				rec_set(&c->group, sc->group);
			break;
		}
	}
}

static void take_str(char **dst, const char *src, int newer)
{
	if (src && (!*dst || (newer && strcmp(*dst, src) != 0)))
		rec_set(dst, src);
}

static void take_time(struct rec_time *dst, const struct rec_time *src, int newer)
{
	if (src->ok && (!dst->ok || (newer && !same_moment(dst, src))))
		copy_time(dst, src);
}

static void insert_update(struct rec_incident *m, struct archive_merge_info *mi, const struct rec_update *u)
{
	/* after every update at or before its time; an update without a time goes last */
	size_t pos = m->n_updates;
	if (u->at.ok) {
		pos = 0;
		for (size_t i = 0; i < m->n_updates; i++)
			if (!m->updates[i].at.ok || m->updates[i].at.t <= u->at.t)
				pos = i + 1;
	}
	rec_incident_add_update(m);
	memmove(&m->updates[pos + 1], &m->updates[pos], (m->n_updates - 1 - pos) * sizeof *m->updates);
	memset(&m->updates[pos], 0, sizeof m->updates[pos]);
	copy_update(&m->updates[pos], u);
	mi->origin = xreallocarray(mi->origin, m->n_updates, sizeof *mi->origin);
	mi->old_body = xreallocarray(mi->old_body, m->n_updates, sizeof *mi->old_body);
	memmove(&mi->origin[pos + 1], &mi->origin[pos], (m->n_updates - 1 - pos) * sizeof *mi->origin);
	memmove(&mi->old_body[pos + 1], &mi->old_body[pos], (m->n_updates - 1 - pos) * sizeof *mi->old_body);
	mi->origin[pos] = -1;
	mi->old_body[pos] = NULL;
	mi->n = m->n_updates;
}

void archive_merge(const struct rec_incident *s, const struct rec_incident *o, int newer, struct rec_incident *m,
		   struct archive_merge_info *mi)
{
	memset(mi, 0, sizeof *mi);
	if (!s) {
		rec_incident_copy(m, o);
		strip_component_status(m);
		mi->n = m->n_updates;
		mi->origin = xcalloc(mi->n + 1, sizeof *mi->origin);
		mi->old_body = xcalloc(mi->n + 1, sizeof *mi->old_body);
		for (size_t i = 0; i < mi->n; i++)
			mi->origin[i] = -1;
		return;
	}
	rec_incident_copy(m, s);
	mi->n = m->n_updates;
	mi->origin = xcalloc(mi->n + 1, sizeof *mi->origin);
	mi->old_body = xcalloc(mi->n + 1, sizeof *mi->old_body);
	for (size_t i = 0; i < mi->n; i++)
		mi->origin[i] = (long)i;

	for (size_t i = 0; i < o->n_ids; i++)
		rec_incident_add_id(m, o->ids[i].scheme, o->ids[i].value);
	if (!m->id)
		rec_set(&m->id, o->id);
	take_str(&m->url, o->url, 0);
	take_str(&m->source_url, o->source_url, 0);
	take_str(&m->vendor, o->vendor, 0);
	if (o->title && (!m->title || (newer && !diff_same_text(m->title, o->title))))
		rec_set(&m->title, o->title);
	take_str(&m->kind, o->kind, newer);
	if (o->impact && (!m->impact || (newer && strcmp(m->impact, o->impact) != 0))) {
		rec_set(&m->impact, o->impact);
		rec_set(&m->impact_raw, o->impact_raw);
	} else if (!m->impact && !m->impact_raw) {
		rec_set(&m->impact_raw, o->impact_raw);
	}
	/* "postmortem" is "resolved" with a postmortem: a view that only says resolved does not undo it */
	if (o->status && !(str_eq(m->status, "postmortem") && str_eq(o->status, "resolved")) &&
	    (!m->status || (newer && strcmp(m->status, o->status) != 0))) {
		rec_set(&m->status, o->status);
		rec_set(&m->status_raw, o->status_raw);
	}
	take_time(&m->scheduled_for, &o->scheduled_for, newer);
	take_time(&m->scheduled_until, &o->scheduled_until, newer);
	if (o->updated.ok && (!m->updated.ok || (o->updated.t > m->updated.t && !same_moment(&m->updated, &o->updated))))
		copy_time(&m->updated, &o->updated);

	/* updates: match, fold in, add the new ones; nothing stored is ever dropped */
	size_t ns = m->n_updates;
	long *match = xcalloc(o->n_updates + 1, sizeof *match);
	match_updates(m, ns, o, match);
	for (size_t j = 0; j < o->n_updates; j++) {
		if (match[j] < 0)
			continue;
		char *old = merge_update(&m->updates[match[j]], &o->updates[j], newer);
		if (old) {
			free(mi->old_body[match[j]]);
			mi->old_body[match[j]] = old;
		}
	}
	/* does the observation see the start of the timeline? then its start time may move it later */
	int covers_start = ns == 0;
	for (size_t j = 0; j < o->n_updates; j++)
		if (match[j] == 0)
			covers_start = 1;
	for (size_t j = 0; j < o->n_updates; j++)
		if (match[j] < 0)
			insert_update(m, mi, &o->updates[j]);
	free(match);

	if (o->started.ok && (!m->started.ok || (!same_moment(&m->started, &o->started) &&
						 (o->started.t < m->started.t || (newer && covers_start)))))
		copy_time(&m->started, &o->started);
	if (is_closed(m->status)) {
		if (o->resolved.ok && is_closed(o->status))
			take_time(&m->resolved, &o->resolved, newer);
	} else if (m->resolved.ok && newer) {
		rec_time_clear(&m->resolved); /* reopened */
	}

	merge_components(m, s, o, newer);
	strip_component_status(m);

	/* the postmortem: known once, its text filled once, then changed only by a newer view */
	const struct rec_postmortem *op = o->postmortem;
	if (op && !m->postmortem) {
		m->postmortem = xcalloc(1, sizeof *m->postmortem);
		rec_set(&m->postmortem->body, op->body);
		rec_set(&m->postmortem->body_html, op->body_html);
		copy_time(&m->postmortem->published, &op->published);
		mi->pm_published = 1;
	} else if (op) {
		struct rec_postmortem *mp = m->postmortem;
		if (op->body && !mp->body) {
			rec_set(&mp->body, op->body);
			rec_set(&mp->body_html, op->body_html);
			mi->pm_filled = 1;
		} else if (op->body && !diff_same_text(mp->body, op->body) && !diff_is_truncation(op->body, mp->body)) {
			if (diff_is_truncation(mp->body, op->body)) {
				rec_set(&mp->body, op->body);
				rec_set(&mp->body_html, op->body_html);
			} else if (newer) {
				mi->pm_old = xstrdup(mp->body);
				mi->pm_changed = 1;
				rec_set(&mp->body, op->body);
				rec_set(&mp->body_html, op->body_html);
			}
		} else if (op->body_html && !mp->body_html && diff_same_text(mp->body, op->body)) {
			rec_set(&mp->body_html, op->body_html);
		}
		take_time(&mp->published, &op->published, newer);
	}
	rec_incident_finish(m);
}

/* ---- events ---- */

struct ingest {
	struct db *db;
	const struct archive_input *in;
	struct archive_result *res;
	int64_t vendor_id;
	int64_t doc_id;
	struct db_source src;
	int baseline;             /* a listing source's first document: its events are history */
	char **cause;
};

static json_t *jstr(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_null();
}

static json_t *jtime(const struct rec_time *t)
{
	if (!t->ok)
		return json_null();
	char buf[40];
	rec_format_time(t->t, buf, sizeof buf);
	return json_string(buf);
}

static json_t *update_json(const struct rec_update *u, size_t pos)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", json_integer((json_int_t)pos + 1));
	json_object_set_new(o, "id", jstr(u->id));
	json_object_set_new(o, "status", jstr(u->status));
	json_object_set_new(o, "status_raw", jstr(u->status_raw));
	json_object_set_new(o, "at", jtime(&u->at));
	json_object_set_new(o, "body", jstr(u->body));
	return o;
}

static json_t *components_json(const struct rec_incident *inc)
{
	json_t *a = json_array();
	for (size_t i = 0; i < inc->n_components; i++)
		json_array_append_new(a, jstr(inc->components[i].name ? inc->components[i].name : inc->components[i].id));
	return a;
}

static json_t *base_payload(const struct db_incident *inc, int late)
{
	const struct rec_incident *r = &inc->rec;
	json_t *o = json_object();
	json_object_set_new(o, "title", jstr(r->title));
	json_object_set_new(o, "url", jstr(r->url ? r->url : r->source_url));
	json_object_set_new(o, "kind", jstr(r->kind));
	json_object_set_new(o, "impact", jstr(r->impact));
	json_object_set_new(o, "status", jstr(r->status));
	json_object_set_new(o, "started_at", jtime(&r->started));
	json_object_set_new(o, "resolved_at", jtime(&r->resolved));
	if (late)
		json_object_set_new(o, "backfill", json_true());
	return o;
}

static int emit(struct ingest *g, const char *type, const struct db_incident *inc, int64_t rev_id, json_t *payload)
{
	if (g->in->backfill)
		json_object_set_new(payload, "backfill", json_true());
	if (g->baseline)
		json_object_set_new(payload, "baseline", json_true());
	char *text = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(payload);
	if (!text)
		return set_cause(g->cause, "cannot write an event payload");
	struct db_event ev = { 0 };
	ev.type = type;
	ev.vendor = g->in->vendor;
	ev.incident_key = inc ? inc->key : NULL;
	ev.incident_id = inc ? inc->id : 0;
	ev.created_at = g->in->now;
	ev.observed_at = g->in->fetched_at;
	ev.document_id = g->doc_id;
	ev.revision_id = rev_id;
	ev.payload = text;
	int rc = db_event_add(g->db, &ev, NULL, g->cause);
	free(text);
	if (rc == 0)
		g->res->events++;
	return rc;
}

static int component_sets_differ(const struct rec_incident *a, const struct rec_incident *b)
{
	if (a->n_components != b->n_components)
		return 1;
	for (size_t i = 0; i < a->n_components; i++) {
		size_t j = 0;
		while (j < b->n_components && !same_component(&a->components[i], &b->components[j]))
			j++;
		if (j == b->n_components)
			return 1;
	}
	return 0;
}

static void change(json_t *ch, const char *field, json_t *old, json_t *new)
{
	json_t *o = json_object();
	json_object_set_new(o, "old", old);
	json_object_set_new(o, "new", new);
	json_object_set_new(ch, field, o);
}

/* The events that say how stored (s) became merged (inc->rec), in a fixed order. */
static int incident_events(struct ingest *g, const struct rec_incident *s, const struct db_incident *inc,
			   const struct archive_merge_info *mi, int late, int64_t rev)
{
	const struct rec_incident *m = &inc->rec;
	int rc;
	/* a value known for the first time (a source that knows more) is no change; the revision has it */
	json_t *ch = json_object();
	if (s->title && !diff_same_text(s->title, m->title))
		change(ch, "title", jstr(s->title), jstr(m->title));
	if (s->impact && !str_eq(s->impact, m->impact))
		change(ch, "impact", jstr(s->impact), jstr(m->impact));
	if (s->kind && !str_eq(s->kind, m->kind))
		change(ch, "kind", jstr(s->kind), jstr(m->kind));
	if (s->n_components && component_sets_differ(s, m))
		change(ch, "components", components_json(s), components_json(m));
	if (json_object_size(ch)) {
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "changes", ch);
		if ((rc = emit(g, "incident.changed", inc, rev, p)) < 0)
			return rc;
	} else {
		json_decref(ch);
	}
	/* postmortem rows in a timeline are reported as postmortem events, not as updates */
	for (size_t i = 0; i < mi->n; i++) {
		const struct rec_update *u = &m->updates[i];
		if (!mi->old_body[i] || str_eq(u->status, "postmortem"))
			continue;
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "update", update_json(u, i));
		json_object_set_new(p, "old_body", jstr(mi->old_body[i]));
		char *d = diff_lines(mi->old_body[i], u->body, 3);
		json_object_set_new(p, "diff", jstr(d));
		free(d);
		if ((rc = emit(g, "update.edited", inc, rev, p)) < 0)
			return rc;
	}
	for (size_t i = 0; i < mi->n; i++) {
		const struct rec_update *u = &m->updates[i];
		if (mi->origin[i] >= 0 || str_eq(u->status, "postmortem"))
			continue;
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "update", update_json(u, i));
		if ((rc = emit(g, "update.new", inc, rev, p)) < 0)
			return rc;
	}
	if (!is_closed(s->status) && is_closed(m->status)) {
		json_t *p = base_payload(inc, late);
		if (m->started.ok && m->resolved.ok && m->resolved.t >= m->started.t)
			json_object_set_new(p, "duration_seconds", json_integer(m->resolved.t - m->started.t));
		if ((rc = emit(g, "incident.resolved", inc, rev, p)) < 0)
			return rc;
	} else if (is_closed(s->status) && !is_closed(m->status) && m->status) {
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "previous_status", jstr(s->status));
		if ((rc = emit(g, "incident.reopened", inc, rev, p)) < 0)
			return rc;
	}
	const struct rec_postmortem *pm = m->postmortem;
	if (mi->pm_published) {
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "body", jstr(pm->body));
		json_object_set_new(p, "published_at", jtime(&pm->published));
		if ((rc = emit(g, "postmortem.published", inc, rev, p)) < 0)
			return rc;
	} else if (mi->pm_filled || mi->pm_changed) {
		json_t *p = base_payload(inc, late);
		json_object_set_new(p, "filled", json_boolean(mi->pm_filled));
		json_object_set_new(p, "old", jstr(mi->pm_old));
		json_object_set_new(p, "new", jstr(pm->body));
		if (mi->pm_changed) {
			char *d = diff_lines(mi->pm_old, pm->body, 3);
			json_object_set_new(p, "diff", jstr(d));
			free(d);
		} else {
			json_object_set_new(p, "diff", json_null());
		}
		json_object_set_new(p, "published_at", jtime(&pm->published));
		if ((rc = emit(g, "postmortem.changed", inc, rev, p)) < 0)
			return rc;
	}
	return 0;
}

static int new_incident_event(struct ingest *g, const struct db_incident *inc, int late, int64_t rev)
{
	const struct rec_incident *m = &inc->rec;
	json_t *p = base_payload(inc, late);
	json_object_set_new(p, "components", components_json(m));
	json_object_set_new(p, "updates", json_integer((json_int_t)m->n_updates));
	if (m->n_updates)
		json_object_set_new(p, "latest_update", update_json(&m->updates[m->n_updates - 1], m->n_updates - 1));
	json_object_set_new(p, "postmortem", json_boolean(m->postmortem != NULL));
	int rc = emit(g, "incident.new", inc, rev, p);
	if (rc < 0 || !m->postmortem)
		return rc;
	/* an incident first seen with its postmortem: alerts on postmortems must hear of it too */
	p = base_payload(inc, late);
	json_object_set_new(p, "body", jstr(m->postmortem->body));
	json_object_set_new(p, "published_at", jtime(&m->postmortem->published));
	json_object_set_new(p, "new_incident", json_true());
	return emit(g, "postmortem.published", inc, rev, p);
}

/* ---- one incident ---- */

struct window {
	int any;
	int closed;               /* the document lists a closed incident: it is a history, not "open now" */
	int has_started, has_updated;
	int64_t min_started, min_updated;
};

static void window_add(struct window *w, const struct rec_incident *o)
{
	w->any = 1;
	if (is_closed(o->status))
		w->closed = 1;
	if (o->started.ok && (!w->has_started || o->started.t < w->min_started)) {
		w->has_started = 1;
		w->min_started = o->started.t;
	}
	if (o->updated.ok && (!w->has_updated || o->updated.t < w->min_updated)) {
		w->has_updated = 1;
		w->min_updated = o->updated.t;
	}
}

static int cmp_listing_key(const void *k, const void *e)
{
	return strcmp(k, ((const struct db_listing *)e)->key);
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* A digest of everything an observation says, fed field by field (each with its length, a missing
 * one marked apart from an empty one): the same digest means the same observation. */
static void hash_str(struct sha256 *c, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : UINT32_MAX;
	sha256_update(c, &n, sizeof n);
	if (s)
		sha256_update(c, s, n);
}

static void hash_time(struct sha256 *c, const struct rec_time *t)
{
	int64_t v[2] = { t->ok, t->ok ? t->t : 0 };
	sha256_update(c, v, sizeof v);
	hash_str(c, t->text);
}

static void hash_incident(const struct rec_incident *o, char hex[SHA256_HEX_LEN])
{
	struct sha256 c;
	sha256_init(&c);
	hash_str(&c, "starchive-observation/1");
	hash_str(&c, o->id);
	for (size_t i = 0; i < o->n_ids; i++) {
		hash_str(&c, o->ids[i].scheme);
		hash_str(&c, o->ids[i].value);
	}
	hash_str(&c, "|");
	const char *strs[] = { o->url, o->title, o->kind, o->impact, o->impact_raw, o->status, o->status_raw,
			       o->source_url, o->vendor };
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		hash_str(&c, strs[i]);
	hash_time(&c, &o->started);
	hash_time(&c, &o->resolved);
	hash_time(&c, &o->updated);
	hash_time(&c, &o->scheduled_for);
	hash_time(&c, &o->scheduled_until);
	for (size_t i = 0; i < o->n_components; i++) {
		const struct rec_component *k = &o->components[i];
		hash_str(&c, k->id);
		hash_str(&c, k->name);
		hash_str(&c, k->status);
		hash_str(&c, k->status_raw);
		hash_str(&c, k->group);
	}
	hash_str(&c, "|");
	for (size_t i = 0; i < o->n_updates; i++) {
		const struct rec_update *u = &o->updates[i];
		hash_str(&c, u->id);
		hash_str(&c, u->status);
		hash_str(&c, u->status_raw);
		hash_time(&c, &u->at);
		hash_str(&c, u->body);
		hash_str(&c, u->body_html);
	}
	hash_str(&c, "|");
	if (o->postmortem) {
		hash_str(&c, o->postmortem->body);
		hash_str(&c, o->postmortem->body_html);
		hash_time(&c, &o->postmortem->published);
	}
	unsigned char d[SHA256_LEN];
	sha256_final(&c, d);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

static int ingest_incident(struct ingest *g, struct rec_incident *o, struct db_listing *lists, size_t nlists,
			   int64_t **seen, size_t *nseen)
{
	int rc = 0;
	int late_doc = g->res->late;
	char *key = obs_key(o);
	char hash[SHA256_HEX_LEN];
	hash_incident(o, hash);
	struct db_listing *l = nlists ? bsearch(key, lists, nlists, sizeof *lists, cmp_listing_key) : NULL;
	struct keys keys = { .n = 0 };
	struct db_incident inc;
	struct rec_incident merged;
	struct archive_merge_info mi;
	memset(&inc, 0, sizeof inc);
	memset(&merged, 0, sizeof merged);
	memset(&mi, 0, sizeof mi);
	char *json_s = NULL, *json_m = NULL, *changes = NULL;

	if (l && strcmp(l->sha256, hash) == 0) {
		/* this source shows it exactly as last time: nothing to merge */
		l->seen = 1;
		*seen = xreallocarray(*seen, *nseen + 1, sizeof **seen);
		(*seen)[(*nseen)++] = l->incident_id;
		if (late_doc && (rc = db_incident_observed(g->db, l->incident_id, g->in->fetched_at, g->cause)) < 0)
			goto out;
		if (!late_doc && !l->listed) {
			if ((rc = db_listing_set_listed(g->db, g->src.id, l->incident_id, 1, g->doc_id, g->cause)) < 0 ||
			    (rc = db_incident_set_vanished(g->db, l->incident_id, -1, NULL, g->cause)) < 0)
				goto out;
		}
		g->res->unchanged++;
		goto out;
	}

	keys_of(&keys, key, o);
	int64_t id = 0;
	int found;
	if (l) {
		id = l->incident_id;
		found = 1;
	} else {
		found = db_incident_lookup(g->db, g->vendor_id, (const char *const *)keys.v, keys.n, &id, g->cause);
		if (found < 0) {
			rc = found;
			goto out;
		}
	}
	int64_t rev = 0;
	if (!found) {
		archive_merge(NULL, o, 1, &merged, &mi);
		inc.vendor_id = g->vendor_id;
		inc.key = xstrdup(key);
		inc.rec = merged;
		memset(&merged, 0, sizeof merged);
		json_m = rec_incident_to_json(&inc.rec, 0);
		changes = diff_incident_summary(NULL, &inc.rec);
		if ((rc = db_incident_write(g->db, &inc, json_m, changes, g->in->fetched_at, g->doc_id, &rev, g->cause)) < 0)
			goto out;
		g->res->created++;
		if ((rc = new_incident_event(g, &inc, late_doc, rev)) < 0)
			goto out;
	} else {
		if ((rc = db_incident_load(g->db, id, &inc, g->cause)) < 0)
			goto out;
		/* the newest capture decides values; an older one only fills gaps */
		int late = late_doc || g->in->fetched_at < inc.observed_at;
		archive_merge(&inc.rec, o, !late, &merged, &mi);
		json_s = rec_incident_to_json(&inc.rec, 0);
		json_m = rec_incident_to_json(&merged, 0);
		if (strcmp(json_s, json_m) == 0) {
			g->res->unchanged++;
			if ((rc = db_incident_observed(g->db, inc.id, g->in->fetched_at, g->cause)) < 0)
				goto out;
		} else {
			changes = diff_incident_summary(&inc.rec, &merged);
			struct rec_incident stored = inc.rec;
			inc.rec = merged;
			memset(&merged, 0, sizeof merged);
			rc = db_incident_write(g->db, &inc, json_m, changes, g->in->fetched_at, g->doc_id, &rev, g->cause);
			if (rc == 0)
				rc = incident_events(g, &stored, &inc, &mi, late, rev);
			rec_incident_clear(&stored);
			if (rc < 0)
				goto out;
			g->res->changed++;
		}
	}
	/* the other names it goes by (normalized URLs) find it next time */
	for (size_t i = 0; i < keys.n; i++)
		if (str_eq(keys.scheme[i], "norm") && (rc = db_incident_add_key(g->db, &inc, "norm", keys.v[i], g->cause)) < 0)
			goto out;
	*seen = xreallocarray(*seen, *nseen + 1, sizeof **seen);
	(*seen)[(*nseen)++] = inc.id;
	if (!late_doc || !l) {
		struct db_listing nl = { 0 };
		nl.incident_id = inc.id;
		nl.key = key;
		memcpy(nl.sha256, hash, sizeof nl.sha256);
		nl.listed = !late_doc;
		if ((rc = db_listing_put(g->db, g->src.id, &nl, g->doc_id, g->cause)) < 0)
			goto out;
		if (!late_doc && l && !l->listed && inc.has_vanished &&
		    (rc = db_incident_set_vanished(g->db, inc.id, -1, NULL, g->cause)) < 0)
			goto out;
	}
	if (l)
		l->seen = 1;
out:
	free(key);
	free(json_s);
	free(json_m);
	free(changes);
	keys_clear(&keys);
	rec_incident_clear(&merged);
	archive_merge_info_clear(&mi);
	db_incident_clear(&inc);
	return rc;
}

/* Incidents this source listed before but not now. Absence only means something when the document is
 * a history (it lists closed incidents) and the incident sits inside the window the document covers
 * (started and updated no earlier than its oldest listed): a short feed or the newest-50 list lets
 * old incidents slide off the end, and a list of open incidents drops resolved ones. */
static int vanish_pass(struct ingest *g, struct db_listing *lists, size_t nlists, int64_t *seen, size_t nseen,
		       const struct window *w)
{
	int rc = 0;
	if (nseen) /* NOTE: qsort and bsearch take no NULL array, even empty */
		qsort(seen, nseen, sizeof *seen, cmp_id);
	for (size_t i = 0; i < nlists; i++) {
		struct db_listing *l = &lists[i];
		if (!l->listed || l->seen || (nseen && bsearch(&l->incident_id, seen, nseen, sizeof *seen, cmp_id)))
			continue;
		if ((rc = db_listing_set_listed(g->db, g->src.id, l->incident_id, 0, g->doc_id, g->cause)) < 0)
			return rc;
		if (!w->any || !w->closed || !w->has_started)
			continue;
		int hs, hu;
		int64_t st, up;
		if ((rc = db_incident_times(g->db, l->incident_id, &hs, &st, &hu, &up, g->cause)) < 0)
			return rc;
		if (!hs || st < w->min_started || (w->has_updated && (!hu || up < w->min_updated)))
			continue;
		struct db_incident inc;
		if ((rc = db_incident_load(g->db, l->incident_id, &inc, g->cause)) < 0) {
			db_incident_clear(&inc);
			return rc;
		}
		if (!inc.has_vanished) {
			const char *from = g->in->url ? g->in->url : g->res->kind;
			rc = db_incident_set_vanished(g->db, inc.id, g->in->fetched_at, from, g->cause);
			if (rc == 0) {
				json_t *p = base_payload(&inc, 0);
				json_object_set_new(p, "source", jstr(from));
				json_object_set_new(p, "listed_as", jstr(l->key));
				rc = emit(g, "incident.vanished", &inc, 0, p);
				g->res->vanished++;
			}
		}
		db_incident_clear(&inc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- one document ---- */

static char *errors_json(const struct rec_doc *d)
{
	if (!d->n_errors)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_errors; i++)
		json_array_append_new(a, jstr(d->errors[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* 1 when the source already has these bytes (checked before parsing, without a transaction). */
static int already_archived(struct db *db, const struct archive_input *in, const char *kind, const char *hex,
			    char **cause)
{
	int64_t vid, did;
	struct db_source src;
	int r = db_vendor_id(db, in->vendor, 0, in->now, &vid, cause);
	if (r <= 0)
		return r;
	if ((r = db_source_get(db, vid, kind, in->url, 0, in->now, &src, cause)) <= 0)
		return r;
	return db_document_known(db, src.id, hex, &did, cause);
}

int archive_ingest(struct db *db, const struct archive_input *in, struct archive_result *res, char **cause)
{
	memset(res, 0, sizeof *res);
	char hex[SHA256_HEX_LEN];
	sha256_hex(in->data ? in->data : "", in->len, hex);
	const struct source_kind *k = in->kind ? parse_kind_find(in->kind) : parse_detect(in->data, in->len);
	int rc;
	if (k) {
		res->kind = k->name;
		if ((rc = already_archived(db, in, k->name, hex, cause)) < 0)
			return rc;
		if (rc == 1) {
			res->skipped = 1;
			return 0;
		}
	}
	struct parse_opts po = { 0 };
	po.url = in->url;
	po.has_now = 1;
	po.now = in->fetched_at;
	struct rec_doc *doc = NULL;
	if (parse_buffer(in->data, in->len, in->kind, &po, &doc, cause) < 0)
		return -1;
	k = parse_kind_find(doc->kind);
	res->kind = k ? k->name : "unknown";
	res->parse_errors = doc->n_errors;

	struct ingest g = { 0 };
	g.db = db;
	g.in = in;
	g.res = res;
	g.cause = cause;
	struct db_listing *lists = NULL;
	size_t nlists = 0;
	int64_t *seen = NULL;
	size_t nseen = 0;
	char *errs = NULL;
	if ((rc = db_begin(db, cause)) < 0)
		goto out_free;
	if ((rc = db_vendor_id(db, in->vendor, 1, in->now, &g.vendor_id, cause)) < 0 ||
	    (rc = db_source_get(db, g.vendor_id, res->kind, in->url, 1, in->now, &g.src, cause)) < 0)
		goto fail;
	int64_t known;
	if ((rc = db_document_known(db, g.src.id, hex, &known, cause)) < 0)
		goto fail;
	if (rc == 1) {
		/* another process archived it while we parsed */
		db_rollback(db);
		res->skipped = 1;
		rc = 0;
		goto out_free;
	}
	res->late = g.src.has_last && in->fetched_at < g.src.last_fetched_at;
	/* the first document of a listing (not of one incident's page, fetched for an incident already
	 * known): what it lists is the source's past */
	g.baseline = !g.src.has_last && !str_ends(res->kind, "-incident");
	errs = errors_json(doc);
	struct db_document d = { 0 };
	d.source_id = g.src.id;
	d.sha256 = hex;
	d.data = in->data;
	d.len = in->len;
	d.kind = res->kind;
	d.url = in->url;
	d.file_name = in->file_name;
	d.fetched_at = in->fetched_at;
	d.ingested_at = in->now;
	d.http_status = in->http_status;
	d.etag = in->etag;
	d.last_modified = in->last_modified;
	d.content_type = in->content_type;
	d.n_incidents = doc->n_incidents;
	d.errors_json = errs;
	if ((rc = db_document_add(db, &d, &g.doc_id, cause)) < 0)
		goto fail;
	res->document_id = g.doc_id;
	/* an aggregator's page describes the aggregator, not the vendor's own page */
	if (!res->late && !str_starts(res->kind, "aggregator")) {
		if ((rc = db_vendor_set_page(db, g.vendor_id, doc, cause)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < doc->n_components; i++)
		if ((rc = db_component_note(db, g.vendor_id, &doc->components[i], in->fetched_at, cause)) < 0)
			goto fail;
	if ((rc = db_listings_load(db, g.src.id, &lists, &nlists, cause)) < 0)
		goto fail;
	struct window w = { 0 };
	for (size_t i = 0; i < doc->n_incidents; i++) {
		res->incidents++;
		window_add(&w, &doc->incidents[i]);
		if ((rc = ingest_incident(&g, &doc->incidents[i], lists, nlists, &seen, &nseen)) < 0)
			goto fail;
	}
	if (!res->late) {
		if ((rc = vanish_pass(&g, lists, nlists, seen, nseen, &w)) < 0)
			goto fail;
		if ((rc = db_source_advance(db, g.src.id, g.doc_id, in->fetched_at, cause)) < 0)
			goto fail;
	}
	if ((rc = db_commit(db, cause)) < 0)
		goto out_free;
	rc = 0;
	goto out_free;
fail:
	db_rollback(db);
out_free:
	free(errs);
	free(seen);
	db_listings_free(lists, nlists);
	rec_doc_free(doc);
	return rc;
}
