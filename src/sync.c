/* sync.c: the main job, one run: due sources and revisits fetched concurrently, each document
 * archived in its own transaction as soon as its batch is in, health and HTTP state kept. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "archive.h"
#include "normalize.h"
#include "parse.h"
#include "politeness.h"
#include "sync.h"
#include "util.h"

/* Vendors fetched together: bounds memory (bodies are held until their batch is archived). */
#define SYNC_BATCH 16

void sync_opts_init(struct sync_opts *o, int64_t now)
{
	memset(o, 0, sizeof *o);
	o->now = now;
	o->broken_after = SYNC_BROKEN_AFTER;
	o->revisit_limit = 20;
	polite_policy_init(&o->policy);
	fetch_opts_init(&o->fetch);
	o->seed = 2463534242u;
}

int sync_parse_schedule(const char *text, int64_t **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	const char *p = text;
	while (*p) {
		char *end;
		long d = strtol(p, &end, 10);
		if (end == p || d < 0 || d > 36500 || (*end && *end != ',') ||
		    (*n && d * 86400 <= (*out)[*n - 1])) {
			free(*out);
			*out = NULL;
			*n = 0;
			return set_cause(cause, "invalid revisit schedule '%s': want ascending days such as %s", text,
					 SYNC_REVISIT_DEFAULT);
		}
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = (int64_t)d * 86400;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* What archive_ingest takes for a page fetched at now. */
static void fetched_input(struct archive_input *in, const char *vendor, const char *kind, const char *url,
			  const struct fetch_result *r, int64_t now)
{
	memset(in, 0, sizeof *in);
	in->vendor = vendor;
	in->kind = kind;
	in->url = url;
	in->data = r->body.data ? r->body.data : "";
	in->len = r->body.len;
	in->fetched_at = now;
	in->now = now;
	in->http_status = (int)r->status;
	in->etag = r->etag;
	in->last_modified = r->last_modified;
	in->content_type = r->content_type;
}

void sync_report_clear(struct sync_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->v[i].name);
		free(rep->v[i].detail);
	}
	free(rep->v);
	memset(rep, 0, sizeof *rep);
}


struct family {
	const char *kind;
	enum fetch_kind family;
	const char *accept;
};

static const struct family families[] = {
	{ "statuspage-json", FETCH_KIND_JSON, "application/json" },
	{ "statuspage-feed", FETCH_KIND_XML, "application/atom+xml, application/rss+xml, application/xml;q=0.9" },
	{ "feed", FETCH_KIND_XML, "application/atom+xml, application/rss+xml, application/xml;q=0.9" },
	{ "statuspage-incident", FETCH_KIND_HTML, "text/html" },
	{ "statuspage-home", FETCH_KIND_HTML, "text/html" },
	{ "statuspage-history", FETCH_KIND_HTML, "text/html" },
	{ "aggregator-incident", FETCH_KIND_HTML, "text/html" },
};

static const struct family *family_of(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (str_eq(families[i].kind, kind))
			return &families[i];
	return NULL;
}

/* The platform a Statuspage-compatible JSON body comes from, judged by its page id: incident.io
 * uses 26-character ULIDs, Statuspage 12-character codes. NULL when it cannot tell. */
static const char *json_platform(const char *body, size_t len)
{
	const char *p = memstr(body, len < 4096 ? len : 4096, "\"page\"");
	if (!p)
		return NULL;
	const char *end = body + (len < 4096 ? len : 4096);
	const char *id = memstr(p, (size_t)(end - p), "\"id\"");
	if (!id)
		return NULL;
	id += 4;
	while (id < end && (*id == ' ' || *id == ':'))
		id++;
	if (id >= end || *id != '"')
		return NULL;
	const char *q = memchr(id + 1, '"', (size_t)(end - id - 1));
	if (!q)
		return NULL;
	size_t n = (size_t)(q - id - 1);
	return n == 26 ? "incident.io" : n == 12 ? "statuspage" : NULL;
}

/* One fetch in a batch: which vendor, which source or revisit. */
struct job {
	size_t vendor;                 /* index into the batch's vendors */
	struct db_poll_source *src;    /* NULL for a revisit */
	struct db_revisit *rev;
	const char *kind;
};

struct vstate {
	struct db_vendor v;
	struct db_poll_source *src;
	size_t nsrc;
	struct db_revisit *rev;
	size_t nrev;
	struct sync_vendor *out;
	int failed, tried;
};

static void note(struct sync_vendor *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct sync_vendor *out, const char *fmt, ...)
{
	if (out->detail)
		return;
	va_list ap;
	va_start(ap, fmt);
	out->detail = xvasprintf(fmt, ap);
	va_end(ap);
}

static int health_event(struct db *db, const struct sync_opts *o, struct vstate *s, const char *type,
			char **cause)
{
	json_t *p = json_object();
	json_object_set_new(p, "vendor", json_string(s->v.name));
	json_object_set_new(p, "status_url", s->v.url ? json_string(s->v.url) : json_null());
	json_object_set_new(p, "failures", json_integer(s->v.failures));
	json_object_set_new(p, "error", s->v.last_error ? json_string(s->v.last_error) : json_null());
	if (s->v.has_last_ok) {
		char t[40];
		rec_format_time(s->v.last_ok_at, t, sizeof t);
		json_object_set_new(p, "last_ok_at", json_string(t));
	} else {
		json_object_set_new(p, "last_ok_at", json_null());
	}
	char *payload = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	struct db_event ev = { 0 };
	ev.type = type;
	ev.vendor = s->v.name;
	ev.created_at = o->now;
	ev.observed_at = o->now;
	ev.payload = payload;
	int64_t id;
	int rc = db_event_add(db, &ev, &id, cause);
	free(payload);
	return rc;
}

/* Archive one successful fetch; 0 ok, -1 failure for the vendor (cause set), DB_LOCKED. */
static int take(struct db *db, const struct sync_opts *o, struct vstate *s, struct job *j, struct fetch_result *r,
		char **cause)
{
	const struct family *f = family_of(j->kind);
	if (f && fetch_check_kind(r->content_type, r->body.data, r->body.len, f->family, cause) < 0)
		return -1;
	if (j->src && str_eq(j->kind, "statuspage-json") && s->v.platform &&
	    (str_eq(s->v.platform, "statuspage") || str_eq(s->v.platform, "incident.io"))) {
		const char *now_platform = json_platform(r->body.data, r->body.len);
		if (now_platform && !str_eq(now_platform, s->v.platform))
			return set_cause(cause, "the page changed platform: %s expected, it now serves %s ids",
					 s->v.platform, now_platform);
	}
	struct archive_input in;
	/* the source keeps its name even when redirected */
	fetched_input(&in, s->v.name, j->kind, j->src ? j->src->url : r->final_url ? r->final_url : j->rev->url, r,
		      o->now);
	struct archive_result ar;
	int rc = archive_ingest(db, &in, &ar, cause);
	if (rc < 0)
		return rc;
	if (ar.skipped)
		s->out->not_modified++;
	else
		s->out->fetched++;
	s->out->events += ar.events;
	return 0;
}

static void save_source(struct db *db, const struct sync_opts *o, struct db_poll_source *src,
			const struct fetch_result *r, int ok, uint32_t *seed, struct sync_vendor *out)
{
	struct polite_state ps = { src->has_next_at ? src->next_at : 0, 0 };
	int64_t retry = r->has_retry_after ? r->retry_after : -1;
	/* per URL: the minimum interval and the server's Retry-After; backoff is the vendor's */
	polite_record(&ps, &o->policy, o->now, 1, retry, polite_rand(seed));
	src->has_next_at = 1;
	src->next_at = ps.next_allowed;
	src->last_status = (int)r->status;
	if (ok) {
		src->has_last_ok = 1;
		src->last_ok_at = o->now;
		free(src->last_error);
		src->last_error = NULL;
		if (r->outcome == FETCH_OK) {
			/* validators are sent back verbatim; a server that stops sending them gets none back */
			free(src->etag);
			src->etag = r->etag ? xstrdup(r->etag) : NULL;
			free(src->last_modified);
			src->last_modified = r->last_modified ? xstrdup(r->last_modified) : NULL;
		}
	} else {
		free(src->last_error);
		src->last_error = xstrdup(out->detail ? out->detail : "failed");
	}
	char *cause = NULL;
	if (db_poll_source_save(db, src, o->now, &cause) < 0 && !out->detail)
		out->detail = xasprintf("cannot save the source's state: %s", cause);
	free(cause);
}

static int finish_vendor(struct db *db, const struct sync_opts *o, struct vstate *s, int64_t run_id,
			 uint32_t *seed, char **cause)
{
	struct sync_vendor *out = s->out;
	int rc;
	if ((rc = db_begin(db, cause)) < 0)
		return rc;
	if (!s->tried) {
		out->outcome = "waiting";
	} else if (s->failed) {
		out->outcome = "failed";
		s->v.failures++;
		s->v.has_last_try = 1;
		s->v.last_try_at = o->now;
		free(s->v.last_error);
		s->v.last_error = xstrdup(out->detail ? out->detail : "failed");
		struct polite_state ps = { 0, (unsigned)(s->v.failures - 1) };
		polite_record(&ps, &o->policy, o->now, 0, -1, polite_rand(seed));
		s->v.has_next_at = 1;
		s->v.next_at = ps.next_allowed;
		if (!s->v.broken && s->v.failures >= o->broken_after) {
			s->v.broken = 1;
			out->broke = 1;
			if ((rc = health_event(db, o, s, "source.broken", cause)) < 0)
				goto fail;
			out->events++;
		}
	} else {
		out->outcome = out->fetched ? "ok" : "unchanged";
		if (s->v.broken) {
			s->v.broken = 0;
			out->recovered = 1;
			if ((rc = health_event(db, o, s, "source.recovered", cause)) < 0)
				goto fail;
			out->events++;
		}
		s->v.failures = 0;
		s->v.has_last_try = 1;
		s->v.last_try_at = o->now;
		s->v.has_last_ok = 1;
		s->v.last_ok_at = o->now;
		s->v.has_next_at = 0;
		free(s->v.last_error);
		s->v.last_error = NULL;
	}
	if (s->tried && (rc = db_vendor_save_health(db, &s->v, cause)) < 0)
		goto fail;
	if ((rc = db_run_vendor(db, run_id, s->v.id, out->outcome, out->detail, out->fetched, out->not_modified,
				(int)out->events, cause)) < 0)
		goto fail;
	return db_commit(db, cause);
fail:
	db_rollback(db);
	return rc;
}

static int run_batch(struct db *db, const struct sync_opts *o, struct vstate *vs, size_t nv, int64_t run_id,
		     uint32_t *seed, size_t done_before, size_t total, char **cause)
{
	struct job *jobs = NULL;
	struct fetch_request *req = NULL;
	size_t nj = 0;
	for (size_t i = 0; i < nv; i++) {
		struct vstate *s = &vs[i];
		if (!o->force && s->v.has_next_at && s->v.next_at > o->now)
			continue; /* backing off after failures */
		for (size_t k = 0; k < s->nsrc; k++) {
			struct db_poll_source *src = &s->src[k];
			if (!o->force && src->has_next_at && src->next_at > o->now)
				continue;
			jobs = xreallocarray(jobs, nj + 1, sizeof *jobs);
			req = xreallocarray(req, nj + 1, sizeof *req);
			jobs[nj] = (struct job){ i, src, NULL, src->kind };
			const struct family *f = family_of(src->kind);
			req[nj] = (struct fetch_request){ src->url, src->etag, src->last_modified, f ? f->accept : NULL, NULL };
			nj++;
		}
		for (size_t k = 0; k < s->nrev; k++) {
			jobs = xreallocarray(jobs, nj + 1, sizeof *jobs);
			req = xreallocarray(req, nj + 1, sizeof *req);
			jobs[nj] = (struct job){ i, NULL, &s->rev[k], "statuspage-incident" };
			req[nj] = (struct fetch_request){ s->rev[k].url, NULL, NULL, "text/html", NULL };
			nj++;
		}
	}
	struct fetch_result *res = xcalloc(nj ? nj : 1, sizeof *res);
	struct fetch_opts fo = o->fetch;
	fo.has_now = 1;
	fo.now = o->now;
	int rc = nj ? fetch_run(req, res, nj, &fo, cause) : 0;
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < nv; i++) {
		struct vstate *s = &vs[i];
		if (o->progress)
			o->progress(o->progress_arg, done_before + i, total, s->v.name);
		for (size_t j = 0; j < nj; j++) {
			if (jobs[j].vendor != i)
				continue;
			struct fetch_result *r = &res[j];
			char *why = NULL;
			int ok = 1;
			if (r->outcome == FETCH_NOT_MODIFIED) {
				s->out->not_modified++;
			} else if (r->outcome != FETCH_OK) {
				ok = 0;
				why = xstrdup(r->cause ? r->cause : fetch_outcome_name(r->outcome));
			} else {
				int trc = take(db, o, s, &jobs[j], r, &why);
				if (trc == DB_LOCKED) {
					rc = trc;
					set_cause(cause, "%s", why);
					free(why);
					goto out;
				}
				ok = trc == 0;
			}
			const char *url = req[j].url;
			if (jobs[j].src) {
				s->tried = 1;
				if (!ok) {
					s->failed = 1;
					note(s->out, "%s: %s", url, why ? why : "failed");
				}
				save_source(db, o, jobs[j].src, r, ok, seed, s->out);
			} else {
				/* a revisit that fails is retried at the next step; it never breaks the vendor */
				s->out->revisited++;
				char *c2 = NULL;
				if ((ok || r->status == 404 || r->status == 410) &&
				    db_revisit_done(db, jobs[j].rev->incident_id, jobs[j].rev->step, o->now, &c2) < 0)
					note(s->out, "cannot record a revisit: %s", c2);
				free(c2);
			}
			free(why);
		}
		if ((rc = finish_vendor(db, o, s, run_id, seed, cause)) < 0)
			goto out;
	}
out:
	for (size_t j = 0; j < nj; j++)
		fetch_result_release(&res[j]);
	free(res);
	free(req);
	free(jobs);
	return rc;
}

int sync_run(struct db *db, const struct sync_opts *o, struct sync_report *rep, char **cause)
{
	memset(rep, 0, sizeof *rep);
	int64_t wall_start = (int64_t)time(NULL);
	struct db_vendor *vendors = NULL;
	size_t nvend = 0;
	int rc = db_vendors_load(db, 1, &vendors, &nvend, cause);
	if (rc < 0)
		return rc;
	if (o->vendor) {
		size_t keep = 0;
		for (size_t i = 0; i < nvend; i++) {
			if (str_ieq(vendors[i].name, o->vendor))
				vendors[keep++] = vendors[i];
			else
				db_vendor_clear(&vendors[i]);
		}
		nvend = keep;
		if (!nvend) {
			free(vendors);
			return set_cause(cause, "no polled vendor '%s' (see 'starchive vendor list')", o->vendor);
		}
	}
	if ((rc = db_run_start(db, o->now, &rep->run_id, cause)) < 0) {
		db_vendors_free(vendors, nvend);
		return rc;
	}
	rep->v = xcalloc(nvend ? nvend : 1, sizeof *rep->v);
	rep->n = nvend;
	uint32_t seed = o->seed;
	for (size_t start = 0; start < nvend && rc >= 0; start += SYNC_BATCH) {
		size_t nv = nvend - start < SYNC_BATCH ? nvend - start : SYNC_BATCH;
		struct vstate *vs = xcalloc(nv, sizeof *vs);
		for (size_t i = 0; i < nv && rc >= 0; i++) {
			vs[i].v = vendors[start + i];
			memset(&vendors[start + i], 0, sizeof vendors[start + i]);
			vs[i].out = &rep->v[start + i];
			vs[i].out->name = xstrdup(vs[i].v.name);
			rc = db_poll_sources_load(db, vs[i].v.id, &vs[i].src, &vs[i].nsrc, cause);
			/* only Statuspage incident pages are parsed for late postmortems */
			if (rc >= 0 && str_eq(vs[i].v.platform, "statuspage") && o->n_revisit)
				rc = db_revisits_due(db, vs[i].v.id, o->now, o->revisit, o->n_revisit, o->revisit_limit,
						     &vs[i].rev, &vs[i].nrev, cause);
		}
		if (rc >= 0)
			rc = run_batch(db, o, vs, nv, rep->run_id, &seed, start, nvend, cause);
		for (size_t i = 0; i < nv; i++) {
			db_vendor_clear(&vs[i].v);
			db_poll_sources_free(vs[i].src, vs[i].nsrc);
			db_revisits_free(vs[i].rev, vs[i].nrev);
		}
		free(vs);
	}
	db_vendors_free(vendors, nvend);
	for (size_t i = 0; i < rep->n; i++) {
		if (!rep->v[i].outcome)
			rep->v[i].outcome = "failed"; /* a run cut short */
		if (str_eq(rep->v[i].outcome, "failed"))
			rep->failed++;
		rep->events += rep->v[i].events;
	}
	if (rc >= 0) {
		/* the run's clock may be fixed (--now); its length is real */
		int64_t finished = o->now + ((int64_t)time(NULL) - wall_start);
		char *json = sync_report_json(rep, o->now, finished);
		rc = db_run_finish(db, rep->run_id, finished, rep->failed ? 3 : 0, (int)rep->n, (int)rep->failed, json,
				   cause);
		free(json);
	}
	return rc;
}

char *sync_report_json(const struct sync_report *rep, int64_t started, int64_t finished)
{
	json_t *o = json_object();
	char t[40];
	json_object_set_new(o, "run", json_integer(rep->run_id));
	rec_format_time(started, t, sizeof t);
	json_object_set_new(o, "started_at", json_string(t));
	rec_format_time(finished, t, sizeof t);
	json_object_set_new(o, "finished_at", json_string(t));
	json_object_set_new(o, "vendors", json_integer((json_int_t)rep->n));
	json_object_set_new(o, "failed", json_integer((json_int_t)rep->failed));
	json_object_set_new(o, "events", json_integer((json_int_t)rep->events));
	json_t *a = json_array();
	for (size_t i = 0; i < rep->n; i++) {
		const struct sync_vendor *v = &rep->v[i];
		json_t *e = json_object();
		json_object_set_new(e, "vendor", json_string(v->name));
		json_object_set_new(e, "outcome", json_string(v->outcome ? v->outcome : "failed"));
		json_object_set_new(e, "detail", v->detail ? json_string(v->detail) : json_null());
		json_object_set_new(e, "fetched", json_integer(v->fetched));
		json_object_set_new(e, "not_modified", json_integer(v->not_modified));
		json_object_set_new(e, "revisited", json_integer(v->revisited));
		json_object_set_new(e, "events", json_integer((json_int_t)v->events));
		json_object_set_new(e, "source_broken", json_boolean(v->broke));
		json_object_set_new(e, "source_recovered", json_boolean(v->recovered));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "results", a);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	char *r = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return r;
}

void sync_backfill_report_clear(struct sync_backfill_report *rep)
{
	free(rep->detail);
	memset(rep, 0, sizeof *rep);
}

static void bf_fail(struct sync_backfill_report *rep, const char *url, const char *why)
{
	rep->failed++;
	if (!rep->detail)
		rep->detail = xasprintf("%s: %s", url, why ? why : "failed");
}

/* Archive one fetched page of a backfill; returns the incidents it lists (>= 0), -1 on a failure
 * noted in rep, DB_LOCKED (with *cause). */
static long bf_take(struct db *db, const struct sync_opts *o, const struct db_vendor *v, const char *kind,
		    const char *url, struct fetch_result *r, struct sync_backfill_report *rep, char **cause)
{
	char *why = NULL;
	if (r->outcome != FETCH_OK) {
		bf_fail(rep, url, r->cause ? r->cause : fetch_outcome_name(r->outcome));
		return -1;
	}
	if (fetch_check_kind(r->content_type, r->body.data, r->body.len, FETCH_KIND_HTML, &why) < 0) {
		bf_fail(rep, url, why);
		free(why);
		return -1;
	}
	struct archive_input in;
	fetched_input(&in, v->name, kind, url, r, o->now);
	in.backfill = 1;
	struct archive_result ar;
	int rc = archive_ingest(db, &in, &ar, &why);
	if (rc == DB_LOCKED) {
		set_cause(cause, "%s", why);
		free(why);
		return DB_LOCKED;
	}
	if (rc < 0) {
		bf_fail(rep, url, why);
		free(why);
		return -1;
	}
	rep->events += ar.events;
	long listed = (long)ar.incidents;
	if (ar.skipped) {
		/* archived before: count what it lists without archiving it again */
		struct parse_opts po = { url, 1, o->now };
		struct rec_doc *doc = NULL;
		listed = parse_buffer(r->body.data, r->body.len, kind, &po, &doc, NULL) == 0 ? (long)doc->n_incidents : 0;
		rec_doc_free(doc);
	}
	return listed;
}

int sync_backfill(struct db *db, const struct sync_opts *o, const char *vendor, size_t max_pages,
		  size_t max_incidents, struct sync_backfill_report *rep, char **cause)
{
	memset(rep, 0, sizeof *rep);
	struct db_vendor v;
	int rc = db_vendor_load(db, vendor, &v, cause);
	if (rc <= 0)
		return rc < 0 ? rc : set_cause(cause, "no vendor '%s' (see 'starchive vendor list')", vendor);
	if (!str_eq(v.platform, "statuspage") || !v.url) {
		set_cause(cause, "backfill walks Statuspage history pages; vendor '%s' is %s", v.name,
			  v.platform ? v.platform : "of unknown platform");
		db_vendor_clear(&v);
		return -1;
	}
	struct fetch_opts fo = o->fetch;
	fo.has_now = 1;
	fo.now = o->now;
	size_t batch = fo.jobs > 0 ? (size_t)fo.jobs : 1;
	size_t quiet = 0;
	int stop = 0;
	for (size_t page = 1; page <= max_pages && !stop && rc >= 0; page += batch) {
		size_t nb = page + batch - 1 <= max_pages ? batch : max_pages - page + 1;
		struct fetch_request *req = xcalloc(nb, sizeof *req);
		struct fetch_result *res = xcalloc(nb, sizeof *res);
		char **urls = xcalloc(nb, sizeof *urls);
		for (size_t k = 0; k < nb; k++) {
			urls[k] = xasprintf("%s/history?page=%zu", v.url, page + k);
			req[k].url = urls[k];
			req[k].accept = "text/html";
		}
		rc = fetch_run(req, res, nb, &fo, cause);
		for (size_t k = 0; k < nb && rc >= 0 && !stop; k++) {
			long listed = bf_take(db, o, &v, "statuspage-history", urls[k], &res[k], rep, cause);
			if (listed == DB_LOCKED) {
				rc = DB_LOCKED;
				break;
			}
			if (listed < 0) {
				stop = 1; /* a page that fails ends the walk: later ones would be guesses */
				break;
			}
			rep->pages++;
			rep->listed += (size_t)listed;
			quiet = listed ? 0 : quiet + 1;
			if (quiet >= SYNC_BACKFILL_EMPTY)
				stop = 1;
		}
		for (size_t k = 0; k < nb; k++) {
			fetch_result_release(&res[k]);
			free(urls[k]);
		}
		free(urls);
		free(req);
		free(res);
	}
	struct db_page_ref *refs = NULL;
	size_t nref = 0;
	if (rc >= 0)
		rc = db_incidents_without_timeline(db, v.id, max_incidents, &refs, &nref, cause);
	if (rc >= 0 && nref) {
		struct fetch_request *req = xcalloc(nref, sizeof *req);
		struct fetch_result *res = xcalloc(nref, sizeof *res);
		for (size_t k = 0; k < nref; k++) {
			req[k].url = refs[k].url;
			req[k].accept = "text/html";
		}
		rc = fetch_run(req, res, nref, &fo, cause);
		for (size_t k = 0; k < nref && rc >= 0; k++) {
			long got = bf_take(db, o, &v, "statuspage-incident", refs[k].url, &res[k], rep, cause);
			if (got == DB_LOCKED)
				rc = DB_LOCKED;
			else if (got >= 0)
				rep->incident_pages++;
		}
		for (size_t k = 0; k < nref; k++)
			fetch_result_release(&res[k]);
		free(req);
		free(res);
	}
	db_page_refs_free(refs, nref);
	db_vendor_clear(&v);
	return rc < 0 ? rc : 0;
}
