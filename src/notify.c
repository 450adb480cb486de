/* notify.c: matching events to sinks and delivering them, at least once and in order. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "db.h"
#include "notify.h"
#include "politeness.h"
#include "util.h"

/* Events matched against a sink per transaction. */
#define PLAN_BATCH 5000

void notify_opts_init(struct notify_opts *o, int64_t now)
{
	memset(o, 0, sizeof *o);
	o->now = now;
	o->seed = (uint32_t)now;
}

void notify_report_clear(struct notify_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].error);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}


/* ---- matching ---- */

struct plan {
	struct db *db;
	const struct alert_sink *sink;
	const char *archive_id;
	struct notify_sink_report *rep;
	int64_t last_id;
	size_t seen;
	char **cause;
};

static int plan_event(const struct db_event *ev, void *arg)
{
	struct plan *p = arg;
	p->last_id = ev->id;
	if (alert_filter_match(&p->sink->filter, ev)) {
		int old = alert_event_is_old(ev, p->sink->hold_before, p->sink->hold_before != p->sink->created_at);
		char *key = alert_key(p->archive_id, ev->id, p->sink->id);
		int rc = db_delivery_add(p->db, ev->id, p->sink->id, key, old ? DB_DELIVERY_HELD : DB_DELIVERY_PENDING,
					 p->cause);
		free(key);
		if (rc < 0)
			return rc;
		p->rep->matched++;
		if (old)
			p->rep->held++;
	}
	return ++p->seen >= PLAN_BATCH ? 1 : 0;
}

/* Match every event after the sink's cursor, a batch a transaction. */
static int plan_sink(struct db *db, const struct alert_sink *s, const char *archive_id,
		     struct notify_sink_report *rep, char **cause)
{
	int64_t cursor = s->cursor;
	for (;;) {
		int rc;
		if ((rc = db_begin(db, cause)) < 0)
			return rc;
		struct plan p = { db, s, archive_id, rep, cursor, 0, cause };
		struct db_event_filter f = { 0 };
		f.after_id = cursor;
		rc = db_events_each(db, &f, plan_event, &p, cause);
		if (rc < 0 || (p.last_id > cursor && (rc = db_sink_set_cursor(db, s->id, p.last_id, cause)) < 0) ||
		    (rc = db_commit(db, cause)) < 0) {
			db_rollback(db);
			return rc;
		}
		if (p.seen < PLAN_BATCH)
			return 0;
		cursor = p.last_id;
	}
}

/* ---- delivering ---- */

/* One statement in its own transaction, so that it is on disk before the next step. */
static int commit_one(struct db *db, int rc, char **cause)
{
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	if ((rc = db_commit(db, cause)) < 0)
		db_rollback(db);
	return rc;
}

static int deliver_one(struct db *db, const struct notify_opts *o, const struct alert_sink *s,
		       const struct db_delivery *d, uint32_t *seed, int *was_down, struct notify_sink_report *rep,
		       char **cause)
{
	struct db_event_copy oe;
	int rc = db_event_load(db, d->event_id, &oe, cause);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return set_cause(cause, "event %lld of a delivery is missing", (long long)d->event_id);
	/* the attempt is on disk before it is made: a kill during it still counts */
	if ((rc = db_begin(db, cause)) < 0 ||
	    (rc = commit_one(db, db_delivery_tried(db, d->event_id, s->id, o->now, cause), cause)) < 0) {
		db_event_copy_clear(&oe);
		return rc;
	}
	struct alert_outcome out;
	alert_deliver(s, &oe.ev, d->key, o->contact, o->now, &out);
	db_event_copy_clear(&oe);
	if ((rc = db_begin(db, cause)) < 0) {
		alert_outcome_clear(&out);
		return rc;
	}
	if (out.result == ALERT_DELIVERED) {
		rc = db_delivery_done(db, d->event_id, s->id, o->now, cause);
		if (rc == 0 && *was_down) {
			rc = db_sink_set_down(db, s->id, 0, 0, cause);
			*was_down = 0;
		}
		rep->delivered++;
	} else {
		struct polite_policy pol;
		polite_policy_init(&pol);
		pol.backoff_base = NOTIFY_BACKOFF_BASE;
		pol.backoff_max = NOTIFY_BACKOFF_MAX;
		int64_t delay = polite_backoff(&pol, (unsigned)(d->attempts + 1), polite_rand(seed));
		if (out.has_retry_after && out.retry_after > delay)
			delay = out.retry_after < pol.retry_after_max ? out.retry_after : pol.retry_after_max;
		int64_t next = o->now + delay;
		if (out.result == ALERT_FAILED && d->refusals + 1 >= NOTIFY_GIVE_UP) {
			/* refused every time for days: stop, and say so (notify --retry-failed sends it again) */
			char *why = xasprintf("gave up after %d refusals: %s", d->refusals + 1, out.error ? out.error : "failed");
			rc = db_delivery_give_up(db, d->event_id, s->id, why, cause);
			free(why);
			rep->gave_up++;
		} else {
			rc = db_delivery_failed(db, d->event_id, s->id, next, out.result == ALERT_FAILED, out.error, cause);
		}
		if (rc == 0 && out.result == ALERT_SINK_DOWN) {
			/* keep the order: nothing after this event, even one matched later, goes before it */
			rc = db_sink_set_down(db, s->id, 1, next, cause);
			if (rc == 0)
				rc = db_deliveries_postpone(db, s->id, next, cause);
			*was_down = 1;
			rep->down = 1;
		}
		rep->failed++;
		free(rep->error);
		rep->error = xstrdup(out.error ? out.error : "failed");
	}
	alert_outcome_clear(&out);
	return commit_one(db, rc, cause);
}

static int deliver_sink(struct db *db, const struct notify_opts *o, const struct alert_sink *s,
			const struct db_sink *row, uint32_t *seed, struct notify_sink_report *rep, char **cause)
{
	size_t attempts = 0;
	size_t max = o->max_per_sink ? o->max_per_sink : SIZE_MAX;
	int was_down = row->has_down;
	if (row->has_down && row->down_until > o->now) {
		/* still backing off: its events wait, in order */
		rep->backing_off = 1;
		max = 0;
	}
	while (!rep->down && attempts < max) {
		struct db_delivery *due;
		size_t n;
		int rc = db_deliveries_due(db, s->id, o->now, 50, &due, &n, cause);
		if (rc < 0)
			return rc;
		if (n == 0) {
			free(due);
			break;
		}
		for (size_t i = 0; i < n && !rep->down && attempts < max; i++, attempts++)
			if ((rc = deliver_one(db, o, s, &due[i], seed, &was_down, rep, cause)) < 0)
				break;
		db_deliveries_free(due, n);
		if (rc < 0)
			return rc;
	}
	struct db_sink_counts c;
	int rc = db_sink_counts(db, s->id, &c, cause);
	if (rc < 0)
		return rc;
	rep->pending = c.pending;
	rep->has_next = c.has_next;
	rep->next_at = c.next_at;
	if (was_down && !rep->down && !rep->backing_off && c.pending == 0 &&
	    ((rc = db_begin(db, cause)) < 0 || (rc = commit_one(db, db_sink_set_down(db, s->id, 0, 0, cause), cause)) < 0))
		return rc;
	return 0;
}

/* ---- replay ---- */

struct held {
	const struct notify_opts *o;
	enum db_delivery_state from;
	int64_t *ids;
	size_t n;
};

static int collect_held(const struct db_delivery *d, const struct db_event *ev, void *arg)
{
	struct held *h = arg;
	if (d->state != h->from ||
	    (h->from == DB_DELIVERY_HELD && h->o->has_since && alert_event_time(ev) < h->o->since))
		return 0;
	h->ids = xreallocarray(h->ids, h->n + 1, sizeof *h->ids);
	h->ids[h->n++] = ev->id;
	return 0;
}

/* Make the sink's held events (or those given up) pending again; held ones only when the vendor
 * dates them at or after since, when set. */
static int release_sink(struct db *db, const struct notify_opts *o, int64_t sink_id, enum db_delivery_state from,
			struct notify_sink_report *rep, char **cause)
{
	struct held h = { o, from, NULL, 0 };
	int rc = db_undelivered_each(db, sink_id, 1, collect_held, &h, cause);
	if (rc >= 0 && (rc = db_begin(db, cause)) >= 0) {
		for (size_t i = 0; i < h.n && rc >= 0; i++)
			rc = db_delivery_release(db, h.ids[i], sink_id, from, cause);
		rc = commit_one(db, rc, cause);
	}
	if (rc >= 0)
		rep->released += h.n;
	free(h.ids);
	return rc;
}

int notify_run(struct db *db, const struct notify_opts *o, struct notify_report *r, char **cause)
{
	memset(r, 0, sizeof *r);
	char *archive_id = NULL;
	int rc = db_archive_id(db, &archive_id, cause);
	if (rc < 0)
		return rc;
	struct db_sink *rows;
	size_t n;
	if ((rc = db_sinks_load(db, &rows, &n, cause)) < 0) {
		free(archive_id);
		return rc;
	}
	uint32_t seed = o->seed;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (o->sink && !str_eq(o->sink, rows[i].name))
			continue;
		r->v = xreallocarray(r->v, r->n + 1, sizeof *r->v);
		struct notify_sink_report *rep = &r->v[r->n++];
		memset(rep, 0, sizeof *rep);
		rep->name = xstrdup(rows[i].name);
		struct alert_sink s;
		char *why = NULL;
		if (alert_sink_from_row(&rows[i], &s, &why) < 0) {
			/* one broken sink never stops the others */
			rep->down = 1;
			rep->error = why;
			alert_sink_clear(&s);
			continue;
		}
		rc = plan_sink(db, &s, archive_id, rep, cause);
		if (rc >= 0 && o->replay)
			rc = release_sink(db, o, s.id, DB_DELIVERY_HELD, rep, cause);
		if (rc >= 0 && o->retry_failed)
			rc = release_sink(db, o, s.id, DB_DELIVERY_FAILED, rep, cause);
		if (rc >= 0)
			rc = deliver_sink(db, o, &s, &rows[i], &seed, rep, cause);
		r->delivered += rep->delivered;
		r->failed += rep->failed;
		alert_sink_clear(&s);
	}
	db_sinks_free(rows, n);
	free(archive_id);
	return rc < 0 ? rc : 0;
}
