/* parse-statuspage-json.c: Statuspage API v2 JSON (summary.json, incidents.json,
 * incidents/unresolved.json, scheduled-maintenances*.json, components.json), and incident.io's
 * compatible copy (ULID ids, no milliseconds, fewer fields). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "normalize.h"
#include "parse.h"
#include "util.h"

int sp_json_detect(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i == len || data[i] != '{')
		return 0;
	size_t n = len < 65536 ? len : 65536;
	int score = 0;
	if (memstr(data, n, "\"incident_updates\"") || memstr(data, n, "\"scheduled_maintenances\""))
		score = 90;
	else if (memstr(data, n, "\"incidents\"") || memstr(data, n, "\"components\""))
		score = 60;
	if (score && memstr(data, n, "\"page\""))
		score += 5;
	return score;
}

static const char *sget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void read_time(struct rec_doc *doc, json_t *o, const char *key, struct rec_time *t, const char *what)
{
	const char *s = sget(o, key);
	if (!s || !*s)
		return;
	int64_t v;
	char *cause = NULL;
	if (date_parse(s, NULL, &v, &cause) == 0)
		rec_time_set(t, v, s);
	else {
		rec_set(&t->text, s);
		rec_doc_add_error(doc, "%s: %s: %s", what, key, cause);
	}
	free(cause);
}

/* NOTE: c->group holds the group's id until resolve_groups() swaps in its name, because the
 * page's component list may come after the incidents in the document. */
static void add_component(struct rec_component *c, json_t *o)
{
	const char *id = sget(o, "id");
	if (!id)
		id = sget(o, "code");
	rec_set(&c->id, id);
	rec_set(&c->name, sget(o, "name"));
	const char *st = sget(o, "status");
	if (!st)
		st = sget(o, "new_status");
	rec_set(&c->status_raw, st);
	rec_set(&c->status, norm_component_status(st));
	rec_set(&c->group, sget(o, "group_id"));
}

static int has_component(const struct rec_incident *inc, const char *id, const char *name)
{
	for (size_t i = 0; i < inc->n_components; i++) {
		if (id && str_eq(inc->components[i].id, id))
			return 1;
		if (!id && str_eq(inc->components[i].name, name))
			return 1;
	}
	return 0;
}

static void read_incident(struct rec_doc *doc, json_t *o)
{
	struct rec_incident *inc = rec_doc_add_incident(doc);
	const char *id = sget(o, "id");
	rec_set(&inc->id, id);
	rec_incident_add_id(inc, strlen(id ? id : "") == 26 ? "ulid" : "code", id);
	rec_incident_add_id(inc, "shortlink", sget(o, "shortlink"));
	char *title = text_squash(sget(o, "name") ? sget(o, "name") : "");
	rec_set(&inc->title, *title ? title : NULL);
	free(title);
	const char *what = id ? id : "incident";
	const char *impact = sget(o, "impact");
	rec_set(&inc->impact_raw, impact);
	rec_set(&inc->impact, norm_impact(impact));
	const char *status = sget(o, "status");
	rec_set(&inc->status_raw, status);
	rec_set(&inc->status, norm_status(status));
	if (status && !inc->status)
		rec_doc_add_error(doc, "%s: unknown status '%s'", what, status);
	read_time(doc, o, "started_at", &inc->started, what);
	if (!inc->started.ok)
		read_time(doc, o, "created_at", &inc->started, what);
	read_time(doc, o, "resolved_at", &inc->resolved, what);
	read_time(doc, o, "updated_at", &inc->updated, what);
	read_time(doc, o, "scheduled_for", &inc->scheduled_for, what);
	read_time(doc, o, "scheduled_until", &inc->scheduled_until, what);
	if (inc->scheduled_for.ok || str_eq(inc->impact, "maintenance")) {
		rec_set(&inc->kind, "maintenance");
		/* started_at is when the notice was created; the work starts at the window */
		if (inc->scheduled_for.ok) {
			rec_time_clear(&inc->started);
			rec_time_set(&inc->started, inc->scheduled_for.t, inc->scheduled_for.text);
		}
	}
	else if (status)
		rec_set(&inc->kind, norm_status_is_maintenance(inc->status) ? "maintenance" : "incident");

	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(o, "components"), i, v) {
		if (json_is_object(v))
			add_component(rec_incident_add_component(inc), v);
	}
	json_t *ups = json_object_get(o, "incident_updates");
	json_array_foreach(ups, i, v) {
		if (!json_is_object(v))
			continue;
		struct rec_update *u = rec_incident_add_update(inc);
		rec_set(&u->id, sget(v, "id"));
		const char *us = sget(v, "status");
		rec_set(&u->status_raw, us);
		rec_set(&u->status, norm_status(us));
		char *uwhat = xasprintf("%s update %s", what, u->id ? u->id : "?");
		read_time(doc, v, "display_at", &u->at, uwhat);
		if (!u->at.ok)
			read_time(doc, v, "created_at", &u->at, uwhat);
		free(uwhat);
		const char *body = sget(v, "body");
		if (body) {
			char *b = text_clean(body);
			rec_set(&u->body, b);
			free(b);
		}
		size_t j;
		json_t *ac;
		json_array_foreach(json_object_get(v, "affected_components"), j, ac) {
			const char *code = sget(ac, "code");
			if (json_is_object(ac) && !has_component(inc, code, sget(ac, "name"))) {
				struct rec_component *c = rec_incident_add_component(inc);
				add_component(c, ac);
			}
		}
	}
	/* incident_updates run newest first; keep a source that is already oldest first as it is */
	if (inc->n_updates > 1) {
		struct rec_time *a = &inc->updates[0].at, *b = &inc->updates[inc->n_updates - 1].at;
		if (!(a->ok && b->ok && a->t < b->t))
			rec_incident_reverse_updates(inc);
	}
	if (str_eq(inc->status, "postmortem") && !inc->postmortem) {
		/* the public API says a postmortem exists but never carries its text */
		inc->postmortem = xcalloc(1, sizeof *inc->postmortem);
	}
}

/* Statuspage ids are ASCII; a group id never needs more than this table. */
struct groups {
	char **ids;
	char **names;
	size_t n;
};

static void resolve_group(const struct groups *g, struct rec_component *c)
{
	if (!c->group)
		return;
	const char *name = NULL;
	for (size_t i = 0; i < g->n && !name; i++)
		if (strcmp(g->ids[i], c->group) == 0)
			name = g->names[i];
	rec_set(&c->group, name);
}

static void finish_doc(struct rec_doc *doc, const struct groups *g)
{
	for (size_t i = 0; i < doc->n_components; i++)
		resolve_group(g, &doc->components[i]);
	const char *base = doc->page_url;
	size_t l = base ? strlen(base) : 0;
	while (l && base[l - 1] == '/')
		l--;
	for (size_t i = 0; i < doc->n_incidents; i++) {
		struct rec_incident *inc = &doc->incidents[i];
		for (size_t j = 0; j < inc->n_components; j++)
			resolve_group(g, &inc->components[j]);
		if (base && inc->id && !inc->url) {
			char *u = xasprintf("%.*s/incidents/%s", (int)l, base, inc->id);
			rec_set(&inc->url, u);
			free(u);
		}
	}
}

static void read_components(struct rec_doc *doc, json_t *comps, struct groups *g)
{
	size_t i;
	json_t *v;
	json_array_foreach(comps, i, v) {
		if (!json_is_object(v))
			continue;
		if (json_is_true(json_object_get(v, "group"))) {
			if (sget(v, "id") && sget(v, "name")) {
				g->ids = xreallocarray(g->ids, g->n + 1, sizeof *g->ids);
				g->names = xreallocarray(g->names, g->n + 1, sizeof *g->names);
				g->ids[g->n] = xstrdup(sget(v, "id"));
				g->names[g->n++] = xstrdup(sget(v, "name"));
			}
			continue;
		}
		add_component(rec_doc_add_component(doc), v);
	}
}

static size_t skip_ws(const char *d, size_t len, size_t i)
{
	while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
		i++;
	return i;
}

/* Load one JSON value at *pos and move past it. */
static json_t *load_at(const char *d, size_t len, size_t *pos, char **cause)
{
	json_error_t err;
	json_t *v = json_loadb(d + *pos, len - *pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
	if (!v) {
		size_t at = *pos + (size_t)(err.position > 0 ? err.position : 0);
		size_t line = 1, col = 1;
		for (size_t k = 0; k < at && k < len; k++) {
			col = d[k] == '\n' ? 1 : col + 1;
			line += d[k] == '\n';
		}
		set_cause(cause, "invalid JSON at line %zu column %zu: %s", line, col, err.text);
		return NULL;
	}
	*pos += (size_t)err.position;
	return v;
}

static int expected(char **cause, const char *d, size_t len, size_t pos, const char *what)
{
	(void)d;
	if (pos >= len)
		return set_cause(cause, "invalid JSON: the document ends early (truncated?)");
	return set_cause(cause, "invalid JSON at byte %zu: expected %s", pos, what);
}

/* NOTE: the top-level object is walked member by member and the big arrays element by element, so
 * memory holds one incident's JSON tree at a time, not the whole document's. */
int sp_json_parse(const char *data, size_t len, const struct parse_opts *opts, struct rec_doc *doc,
		  char **cause)
{
	size_t pos = skip_ws(data, len, 0);
	if (pos < len && data[pos] == '<')
		return set_cause(cause, "expected JSON but got markup (an HTML error or bot-check page?)");
	if (pos >= len || data[pos] != '{') {
		/* let the JSON library say what is wrong, or name the shape */
		json_t *any = load_at(data, len, &pos, cause);
		if (!any)
			return -1;
		json_decref(any);
		return set_cause(cause, "not a Statuspage API document: no \"incidents\", "
				       "\"scheduled_maintenances\" or \"components\" array");
	}
	pos++;
	struct groups g = { NULL, NULL, 0 };
	int rc = 0, seen = 0;
	for (;;) {
		pos = skip_ws(data, len, pos);
		if (pos < len && data[pos] == '}')
			break;
		json_t *key = load_at(data, len, &pos, cause);
		if (!key) {
			rc = -1;
			break;
		}
		pos = skip_ws(data, len, pos);
		if (!json_is_string(key) || pos >= len || data[pos] != ':') {
			json_decref(key);
			rc = set_cause(cause, "invalid JSON at byte %zu: expected a member name and ':'", pos);
			break;
		}
		pos = skip_ws(data, len, pos + 1);
		const char *k = json_string_value(key);
		int list = strcmp(k, "incidents") == 0 || strcmp(k, "scheduled_maintenances") == 0;
		if (list && pos < len && data[pos] == '[') {
			seen = 1;
			pos++;
			for (size_t n = 0;; n++) {
				pos = skip_ws(data, len, pos);
				if (pos < len && data[pos] == ']') {
					pos++;
					break;
				}
				json_t *v = load_at(data, len, &pos, cause);
				if (!v) {
					rc = -1;
					break;
				}
				if (json_is_object(v))
					read_incident(doc, v);
				else
					rec_doc_add_error(doc, "%s[%zu] is not an object", k, n);
				json_decref(v);
				pos = skip_ws(data, len, pos);
				if (pos < len && data[pos] == ',') {
					pos = skip_ws(data, len, pos + 1);
					if (pos < len && data[pos] == ']') {
						rc = set_cause(cause, "invalid JSON at byte %zu: a ',' before ']'", pos);
						break;
					}
				} else if (!(pos < len && data[pos] == ']')) {
					rc = expected(cause, data, len, pos, "',' or ']'");
					break;
				}
			}
		} else {
			json_t *v = load_at(data, len, &pos, cause);
			if (!v) {
				json_decref(key);
				rc = -1;
				break;
			}
			if (strcmp(k, "page") == 0 && json_is_object(v)) {
				rec_set(&doc->page_id, sget(v, "id"));
				rec_set(&doc->page_name, sget(v, "name"));
				rec_set(&doc->page_url, sget(v, "url"));
				rec_set(&doc->time_zone, sget(v, "time_zone"));
			} else if (strcmp(k, "components") == 0 && json_is_array(v)) {
				seen = 1;
				read_components(doc, v, &g);
			}
			json_decref(v);
		}
		json_decref(key);
		if (rc < 0)
			break;
		pos = skip_ws(data, len, pos);
		if (pos < len && data[pos] == ',') {
			pos++;
		} else if (!(pos < len && data[pos] == '}')) {
			rc = expected(cause, data, len, pos, "',' or '}'");
			break;
		}
	}
	if (rc == 0 && !seen)
		rc = set_cause(cause, "not a Statuspage API document: no \"incidents\", "
				      "\"scheduled_maintenances\" or \"components\" array");
	if (rc == 0 && skip_ws(data, len, pos + 1) < len)
		rc = set_cause(cause, "invalid JSON at byte %zu: data after the document", pos + 1);
	if (rc == 0)
		finish_doc(doc, &g);
	for (size_t i = 0; i < g.n; i++) {
		free(g.ids[i]);
		free(g.names[i]);
	}
	free(g.ids);
	free(g.names);
	return rc;
}
