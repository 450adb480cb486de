/* db.h: the archive on disk (SQLite, one file): opening, schema migrations, and every read and write
 * the archive needs, in terms of the record model and plain values. db.c is the only file that
 * includes sqlite3.h; no SQLite type crosses this header. The schema is documented in doc/ARCHIVE.md.
 * Ownership: strings and records in structs the db fills belong to the caller afterwards (free them
 * with the matching *_clear); strings and records passed in are only read. Callback arguments live
 * until the callback returns. */
#ifndef SC_DB_H
#define SC_DB_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "util.h"

/* Return codes beside 0: -1 is an error (see *cause); DB_LOCKED means another process held the
 * archive longer than the busy timeout (callers exit 75). */
#define DB_LOCKED (-2)

struct db;

enum {
	DB_OPEN_EXISTING = 0, /* fail when the file does not exist */
	DB_OPEN_CREATE = 1,   /* create the file and its folders when missing */
};

/* The archive's path: explicit (--db) when given, else $STARCHIVE_DB, else
 * $XDG_DATA_HOME/starchive/archive.db, else ~/.local/share/starchive/archive.db. NULL and *cause
 * when there is no home to put it in. Caller frees. */
char *db_resolve_path(const char *explicit_path, char **cause);
/* Open (and create, with flags DB_OPEN_CREATE) the archive, upgrading an older schema in place.
 * The busy timeout is $STARCHIVE_BUSY_TIMEOUT milliseconds (default 10000). */
int db_open(const char *path, int flags, struct db **out, char **cause);
void db_close(struct db *db);
/* The schema version of the open archive, and the newest this build knows. */
int db_schema_version(struct db *db);
int db_schema_latest(void);
/* How many migrations the last db_open applied (0 when the archive was current). */
int db_migrations_applied(struct db *db);

/* A write transaction (BEGIN IMMEDIATE: it waits for other writers up to the busy timeout). */
int db_begin(struct db *db, char **cause);
int db_commit(struct db *db, char **cause);
void db_rollback(struct db *db);

/* ---- vendors, sources, documents ---- */

/* The vendor's id, creating the vendor when create is set. Returns 1 found/created, 0 unknown, -1. */
int db_vendor_id(struct db *db, const char *name, int create, int64_t now, int64_t *id, char **cause);
/* Remember what a document says about the page (name, URL, zone, id); NULLs leave fields alone. */
int db_vendor_set_page(struct db *db, int64_t vendor_id, const struct rec_doc *doc, char **cause);

struct db_source {
	int64_t id;
	int has_last;            /* a document was archived from this source before */
	int64_t last_document_id;
	int64_t last_fetched_at; /* capture time of the newest document */
};
/* A source is a vendor's (kind, URL) pair; url NULL is stored as "". Created when missing and create
 * is set. Returns 1 found or created, 0 unknown, -1. */
int db_source_get(struct db *db, int64_t vendor_id, const char *kind, const char *url, int create, int64_t now,
		  struct db_source *out, char **cause);
/* Make doc_id the source's newest document. */
int db_source_advance(struct db *db, int64_t source_id, int64_t doc_id, int64_t fetched_at, char **cause);

struct db_document {
	int64_t source_id;
	const char *sha256;        /* hex digest of data */
	const char *data;
	size_t len;
	const char *kind;
	const char *url;
	const char *file_name;
	int64_t fetched_at;        /* capture time */
	int64_t ingested_at;
	int http_status;           /* 0 when unknown */
	const char *etag;
	const char *last_modified;
	const char *content_type;
	size_t n_incidents;
	const char *errors_json;   /* JSON array of the parser's per-item problems, or NULL */
};
/* 1 (and *id) when a document with this digest was already archived from the source, else 0. */
int db_document_known(struct db *db, int64_t source_id, const char *sha256, int64_t *id, char **cause);
/* Store a document: the bytes once per digest (zlib-compressed when that is smaller), one row per
 * source and digest. */
int db_document_add(struct db *db, const struct db_document *d, int64_t *id, char **cause);
/* Read a document's bytes back (verifying the digest) with its kind and URL (caller frees those). */
int db_document_read(struct db *db, int64_t id, struct buf *out, char **kind, char **url, char **cause);

/* Note a component's status as the page showed it at time at (newer notes win). */
int db_component_note(struct db *db, int64_t vendor_id, const struct rec_component *c, int64_t at,
		      char **cause);

/* ---- incidents ---- */

struct db_incident {
	int64_t id;                /* 0 until first written */
	int64_t vendor_id;
	char *vendor;              /* filled by the loaders */
	char *key;                 /* the archive's key: the first primary id seen */
	int64_t first_seen_at;
	int64_t observed_at;       /* capture time of the newest document merged in */
	int64_t changed_at;        /* when the latest revision was seen */
	int has_vanished;
	int64_t vanished_at;
	char *vanished_from;       /* the source URL (or kind) it vanished from */
	int revisions;
	int has_pm_seen;           /* when the archive first knew of a postmortem, and of its text */
	int64_t pm_seen_at;
	int has_pm_text_seen;
	int64_t pm_text_seen_at;
	struct rec_incident rec;   /* the latest version */
};
void db_incident_clear(struct db_incident *inc);

/* Find the vendor's incident that any of keys names (ids, URLs). 1 found, 0 not, -1 error. */
int db_incident_lookup(struct db *db, int64_t vendor_id, const char *const *keys, size_t n, int64_t *id,
		       char **cause);
/* Find an incident by vendor name and any of its keys (code, URL, shortlink...). 1, 0 or -1. */
int db_incident_find(struct db *db, const char *vendor, const char *key, int64_t *id, char **cause);
int db_incident_load(struct db *db, int64_t id, struct db_incident *out, char **cause);
/* Write a new version: the incident row (inserted when inc->id is 0, which is then set), every key
 * of inc->rec, and a revision (canonical JSON, what changed, when seen, from which document); the
 * update, component, postmortem and search tables follow the new version. */
/* Add one more key (a normalized URL, say) that finds the incident. */
int db_incident_add_key(struct db *db, const struct db_incident *inc, const char *scheme, const char *value,
			char **cause);
int db_incident_write(struct db *db, struct db_incident *inc, const char *json, const char *changes,
		      int64_t seen_at, int64_t doc_id, int64_t *revision_id, char **cause);
/* Record that a document captured at `at` listed the incident without changing it: observed_at and
 * first_seen_at widen to include it. */
int db_incident_observed(struct db *db, int64_t id, int64_t at, char **cause);
/* Mark vanished (at, from) or, with at < 0, listed again. */
int db_incident_set_vanished(struct db *db, int64_t id, int64_t at, const char *from, char **cause);
/* The times that place an incident in a listing window: started and updated (has_* 0 when unknown). */
int db_incident_times(struct db *db, int64_t id, int *has_started, int64_t *started, int *has_updated,
		      int64_t *updated, char **cause);

/* ---- listings: which incidents each source showed, as it showed them ---- */

struct db_listing {
	int64_t incident_id;
	char *key;                /* the incident's primary id in that source */
	char sha256[65];          /* digest of the record as that source last showed it */
	int listed;               /* 1 while the source's newest document lists it */
	int seen;                 /* for the caller: listed in the document at hand */
};
/* Every listing of a source, sorted by key. */
int db_listings_load(struct db *db, int64_t source_id, struct db_listing **out, size_t *n, char **cause);
void db_listings_free(struct db_listing *l, size_t n);
int db_listing_put(struct db *db, int64_t source_id, const struct db_listing *l, int64_t doc_id, char **cause);
int db_listing_set_listed(struct db *db, int64_t source_id, int64_t incident_id, int listed, int64_t doc_id,
			  char **cause);

/* ---- events (the outbox) ---- */

struct db_event {
	int64_t id;
	const char *type;
	const char *vendor;
	const char *incident_key;
	int64_t incident_id;       /* 0 when none */
	int64_t created_at;        /* the ingest's clock */
	int64_t observed_at;       /* capture time of the document that taught it */
	int64_t document_id;       /* 0 when none */
	int64_t revision_id;       /* 0 when none */
	const char *title;         /* read side only: the incident's current title */
	const char *vendor_title;  /* read side only: the vendor's display name, or NULL */
	const char *payload;       /* JSON object */
};
int db_event_add(struct db *db, const struct db_event *ev, int64_t *id, char **cause);

struct db_event_filter {
	int has_since;
	int64_t since;             /* created_at >= since */
	int64_t after_id;          /* id > after_id */
	const char *type;          /* exact, or a prefix ending in '.' ("incident.") */
	const char *vendor;
	int64_t incident_id;       /* 0: all */
	int64_t id;                /* 0: all, else only this event */
};
/* Call fn for each event in id order; a non-zero return from fn stops and is returned. */
int db_events_each(struct db *db, const struct db_event_filter *f,
		   int (*fn)(const struct db_event *ev, void *arg), void *arg, char **cause);

/* An event that owns its strings (ev's pointers point at the fields below). */
struct db_event_copy {
	struct db_event ev;
	char *type, *vendor, *incident_key, *title, *payload, *vendor_title;
};
/* One event by id: 1 found (out filled), 0 no such event, -1 error. */
int db_event_load(struct db *db, int64_t id, struct db_event_copy *out, char **cause);
void db_event_copy_clear(struct db_event_copy *c);

/* ---- reading history ---- */

struct db_revision {
	int number;
	int64_t seen_at;
	int64_t document_id;
	const char *doc_kind;
	const char *doc_url;
	const char *doc_file;
	const char *changes;
	const char *json;
};
int db_revisions_each(struct db *db, int64_t incident_id, int (*fn)(const struct db_revision *r, void *arg),
		      void *arg, char **cause);

struct db_hit {
	const char *vendor;
	const char *key;
	const char *title;
	const char *field;         /* title, update, postmortem */
	int position;              /* update number (1-based), else 0 */
	const char *snippet;       /* matched terms between \x01 and \x02 */
	int has_started;
	int64_t started_at;
};
/* Full-text search (FTS5) over titles, update bodies and postmortems, best first. text is plain
 * words (each must appear) unless raw, when it is an FTS5 query. */
int db_search(struct db *db, const char *text, int raw, const char *vendor, size_t limit,
	      int (*fn)(const struct db_hit *h, void *arg), void *arg, char **cause);

struct db_incident_filter {
	const char *vendor;
	int has_since;
	int64_t since;             /* started (else first seen) at or after */
	int has_until;
	int64_t until;             /* started (else first seen) before */
	const char *kind;
	const char *status;
};
/* Each incident matching f, by vendor then start time; inc is loaded as db_incident_load does. */
int db_incidents_each(struct db *db, const struct db_incident_filter *f,
		      int (*fn)(const struct db_incident *inc, void *arg), void *arg, char **cause);

/* "ok", or the problems PRAGMA integrity_check and foreign_key_check report. Caller frees. */
char *db_check(struct db *db, char **cause);
/* Run one SQL statement (an analyst's query); fn gets each row's columns as text (NULL for NULL). */
int db_query(struct db *db, const char *sql, int (*fn)(int ncols, const char *const *cols, void *arg), void *arg,
	     char **cause);

/* ---- sync: polled vendors, their sources' fetch state, runs, revisits ---- */

/* A vendor as sync sees it. Times have has_* flags; strings are NULL when unknown. */
struct db_vendor {
	int64_t id;
	char *name;
	char *title;
	char *url;                 /* the status page root given to 'vendor add' */
	char *platform;            /* statuspage, incident.io, feed, ... */
	int polled;                /* 1 while sync polls it ('vendor remove' stops polling, keeps history) */
	int failures;              /* consecutive failed runs */
	int broken;                /* source.broken raised and not yet recovered */
	int has_next_at, has_last_ok, has_last_try;
	int64_t next_at;           /* backoff: not before this */
	int64_t last_ok_at;
	int64_t last_try_at;
	char *last_error;
	int64_t incidents;         /* how many incidents the archive holds for it */
};
void db_vendor_clear(struct db_vendor *v);
/* Create or update a polled vendor. */
int db_vendor_register(struct db *db, const char *name, const char *title, const char *url, const char *platform,
		       int64_t now, int64_t *id, char **cause);
/* Stop polling a vendor (its history stays). 1 done, 0 unknown vendor, -1 error. */
int db_vendor_unpoll(struct db *db, const char *name, char **cause);
/* Every vendor (or only polled ones), by name. */
int db_vendors_load(struct db *db, int polled_only, struct db_vendor **out, size_t *n, char **cause);
void db_vendors_free(struct db_vendor *v, size_t n);
/* One vendor by name: 1 found, 0 unknown, -1 error. */
int db_vendor_load(struct db *db, const char *name, struct db_vendor *out, char **cause);
/* Save failures, broken, next_at, last_ok_at, last_try_at and last_error. */
int db_vendor_save_health(struct db *db, const struct db_vendor *v, char **cause);

/* A source sync fetches, with its HTTP state. */
struct db_poll_source {
	int64_t id;
	int64_t vendor_id;
	char *kind;                /* NULL: detect */
	char *url;
	char *etag;
	char *last_modified;
	int last_status;
	int has_next_at, has_last_ok;
	int64_t next_at;           /* minimum interval and Retry-After: not before this */
	int64_t last_ok_at;
	char *last_error;
};
/* Add (or re-enable) a polled source. */
int db_poll_source_add(struct db *db, int64_t vendor_id, const char *kind, const char *url, int64_t now,
		       char **cause);
/* Stop polling every source of a vendor (before registering a new set). */
int db_poll_sources_reset(struct db *db, int64_t vendor_id, char **cause);
int db_poll_sources_load(struct db *db, int64_t vendor_id, struct db_poll_source **out, size_t *n, char **cause);
void db_poll_sources_free(struct db_poll_source *s, size_t n);
int db_poll_source_save(struct db *db, const struct db_poll_source *s, int64_t now, char **cause);

/* A resolved incident whose page is due for a revisit (late postmortems). */
struct db_revisit {
	int64_t incident_id;
	char *key;
	char *url;
	int64_t resolved_at;
	int step;                  /* the schedule step now due (index into the offsets) */
};
/* The vendor's resolved incidents with a page URL for which an offset (seconds after resolution,
 * ascending) has passed since their last revisit, at most limit, oldest due first. */
int db_revisits_due(struct db *db, int64_t vendor_id, int64_t now, const int64_t *offsets, size_t n_offsets,
		    size_t limit, struct db_revisit **out, size_t *n, char **cause);
void db_revisits_free(struct db_revisit *r, size_t n);
int db_revisit_done(struct db *db, int64_t incident_id, int step, int64_t at, char **cause);

/* Runs of sync and each vendor's outcome in them. */
int db_run_start(struct db *db, int64_t now, int64_t *id, char **cause);
int db_run_vendor(struct db *db, int64_t run_id, int64_t vendor_id, const char *outcome, const char *detail,
		  int fetched, int not_modified, int events, char **cause);
int db_run_finish(struct db *db, int64_t run_id, int64_t at, int status, int vendors, int failed,
		  const char *report, char **cause);

/* An incident known only from an index (no labelled update yet), whose page holds its timeline. */
struct db_page_ref {
	int64_t incident_id;
	char *key;
	char *url;
};
/* The vendor's incidents with a page URL and no update with a status, at most limit, oldest first. */
int db_incidents_without_timeline(struct db *db, int64_t vendor_id, size_t limit, struct db_page_ref **out,
				  size_t *n, char **cause);
void db_page_refs_free(struct db_page_ref *r, size_t n);

/* ---- alerts: sinks and deliveries ---- */

/* The archive's own random id (made by schema 3), for idempotency keys and feed ids. Caller frees. */
int db_archive_id(struct db *db, char **out, char **cause);

/* A place events are sent to. Lists are comma-separated; config is a JSON object (alert.c's). */
struct db_sink {
	int64_t id;
	char *name;
	char *kind;                /* program, webhook, file, email */
	char *target;              /* the program, URL, file or addresses */
	char *config;              /* JSON object: arguments, format, headers, timeout... */
	char *types;               /* event types and prefixes ("incident.") */
	char *vendors;             /* NULL: all */
	char *min_impact;          /* NULL: any */
	int64_t created_at;
	int64_t cursor;            /* events up to this id have been matched against the sink */
	int has_down;
	int64_t down_until;        /* the sink failed as a whole: nothing is sent to it before this */
};
void db_sink_clear(struct db_sink *s);
void db_sinks_free(struct db_sink *s, size_t n);
/* Add a sink (id and cursor are set by the db). 0, or -1 with "a sink named 'x' already exists". */
int db_sink_add(struct db *db, struct db_sink *s, char **cause);
/* Every sink in name order. */
int db_sinks_load(struct db *db, struct db_sink **out, size_t *n, char **cause);
/* One sink by name: 1 found, 0 unknown, -1 error. */
int db_sink_load(struct db *db, const char *name, struct db_sink *out, char **cause);
/* Remove a sink and its deliveries: 1 removed, 0 unknown, -1 error. */
int db_sink_remove(struct db *db, const char *name, char **cause);
int db_sink_set_cursor(struct db *db, int64_t sink_id, int64_t cursor, char **cause);
/* Mark the sink down until a time (down set), or up again (down 0). */
int db_sink_set_down(struct db *db, int64_t sink_id, int down, int64_t until, char **cause);

enum db_delivery_state {
	DB_DELIVERY_PENDING,       /* to be sent when next_at has passed */
	DB_DELIVERY_DELIVERED,     /* confirmed: never sent to this sink again */
	DB_DELIVERY_HELD,          /* older than the sink: recorded, sent only on replay */
	DB_DELIVERY_FAILED,        /* the sink kept refusing this event: given up, sent again on request */
};
/* Record that ev goes to a sink (a no-op when it already has a row). */
int db_delivery_add(struct db *db, int64_t event_id, int64_t sink_id, const char *key,
		    enum db_delivery_state state, char **cause);

struct db_delivery {
	int64_t event_id;
	int64_t sink_id;
	char *sink;                /* the sink's name */
	char *key;                 /* idempotency key */
	enum db_delivery_state state;
	int attempts;
	int refusals;              /* attempts the sink refused this event (while it was up) */
	int has_next;
	int64_t next_at;
	int has_last_try;
	int64_t last_try_at;
	char *last_error;
	int has_delivered;
	int64_t delivered_at;
};
void db_deliveries_free(struct db_delivery *d, size_t n);
/* A sink's pending deliveries due at now (next_at unset or passed), oldest event first, at most limit. */
int db_deliveries_due(struct db *db, int64_t sink_id, int64_t now, size_t limit, struct db_delivery **out,
		      size_t *n, char **cause);
/* Count an attempt before it is made (a kill during it still shows). */
int db_delivery_tried(struct db *db, int64_t event_id, int64_t sink_id, int64_t now, char **cause);
/* The sink confirmed the event. */
int db_delivery_done(struct db *db, int64_t event_id, int64_t sink_id, int64_t now, char **cause);
/* The attempt failed: retry not before next_at; refused: the sink refused this event (not: it was down). */
int db_delivery_failed(struct db *db, int64_t event_id, int64_t sink_id, int64_t next_at, int refused,
		       const char *error, char **cause);
/* Hold back every pending delivery of the sink until at least next_at (the sink itself is failing). */
int db_deliveries_postpone(struct db *db, int64_t sink_id, int64_t next_at, char **cause);
/* Make a held (or given up) delivery pending again. */
int db_delivery_release(struct db *db, int64_t event_id, int64_t sink_id, enum db_delivery_state from,
			char **cause);
/* Stop retrying an event the sink keeps refusing. */
int db_delivery_give_up(struct db *db, int64_t event_id, int64_t sink_id, const char *error, char **cause);
/* How many of a sink's deliveries are pending, held and delivered, and the soonest pending retry. */
struct db_sink_counts {
	size_t pending, held, delivered, failed;
	int has_next;
	int64_t next_at;
};
int db_sink_counts(struct db *db, int64_t sink_id, struct db_sink_counts *c, char **cause);
/* Call fn for each delivery not yet confirmed: pending and given up (held ones too when with_held),
 * by event then sink, with its event. */
int db_undelivered_each(struct db *db, int64_t sink_id, int with_held,
			int (*fn)(const struct db_delivery *d, const struct db_event *ev, void *arg), void *arg,
			char **cause);

#endif
