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

static void add_component(struct rec_component *c, json_t *o, json_t *all)
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
	/* the group's name, from the page's own component list */
	const char *gid = sget(o, "group_id");
	size_t i;
	json_t *g;
	if (gid && json_is_array(all)) {
		json_array_foreach(all, i, g) {
			if (str_eq(sget(g, "id"), gid)) {
				rec_set(&c->group, sget(g, "name"));
				break;
			}
		}
	}
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

static void read_incident(struct rec_doc *doc, json_t *o, json_t *page_components, const char *page_url)
{
	struct rec_incident *inc = rec_doc_add_incident(doc);
	const char *id = sget(o, "id");
	rec_set(&inc->id, id);
	rec_incident_add_id(inc, strlen(id ? id : "") == 26 ? "ulid" : "code", id);
	rec_incident_add_id(inc, "shortlink", sget(o, "shortlink"));
	if (page_url && id) {
		size_t l = strlen(page_url);
		char *u = xasprintf("%.*s/incidents/%s", (int)(l && page_url[l - 1] == '/' ? l - 1 : l),
				    page_url, id);
		rec_set(&inc->url, u);
		free(u);
	}
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
			add_component(rec_incident_add_component(inc), v, page_components);
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
				add_component(c, ac, page_components);
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

int sp_json_parse(const char *data, size_t len, const struct parse_opts *opts, struct rec_doc *doc,
		  char **cause)
{
	json_error_t err;
	size_t i0 = 0;
	while (i0 < len && (data[i0] == ' ' || data[i0] == '\n' || data[i0] == '\r' || data[i0] == '\t'))
		i0++;
	if (i0 < len && data[i0] == '<')
		return set_cause(cause, "expected JSON but got markup (an HTML error or bot-check page?)");
	json_t *root = json_loadb(data, len, 0, &err);
	if (!root)
		return set_cause(cause, "invalid JSON at line %d column %d: %s", err.line, err.column, err.text);
	int rc = 0;
	json_t *page = json_object_get(root, "page");
	json_t *incidents = json_object_get(root, "incidents");
	json_t *maint = json_object_get(root, "scheduled_maintenances");
	json_t *comps = json_object_get(root, "components");
	if (!json_is_object(root) ||
	    (!json_is_array(incidents) && !json_is_array(maint) && !json_is_array(comps))) {
		rc = set_cause(cause, "not a Statuspage API document: no \"incidents\", "
				      "\"scheduled_maintenances\" or \"components\" array");
		goto out;
	}
	if (json_is_object(page)) {
		rec_set(&doc->page_id, sget(page, "id"));
		rec_set(&doc->page_name, sget(page, "name"));
		rec_set(&doc->page_url, sget(page, "url"));
		rec_set(&doc->time_zone, sget(page, "time_zone"));
	}
	const char *base = doc->page_url;
	size_t i;
	json_t *v;
	json_array_foreach(comps, i, v) {
		if (!json_is_object(v) || json_is_true(json_object_get(v, "group")))
			continue;
		add_component(rec_doc_add_component(doc), v, comps);
	}
	json_array_foreach(incidents, i, v) {
		if (json_is_object(v))
			read_incident(doc, v, comps, base);
		else
			rec_doc_add_error(doc, "incidents[%zu] is not an object", i);
	}
	json_array_foreach(maint, i, v) {
		if (json_is_object(v))
			read_incident(doc, v, comps, base);
		else
			rec_doc_add_error(doc, "scheduled_maintenances[%zu] is not an object", i);
	}
out:
	json_decref(root);
	return rc;
}
