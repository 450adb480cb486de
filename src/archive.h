/* archive.h: ingesting a document into the archive: parse it, merge each incident with what is
 * stored, write a revision when something changed and the events that say what, all in one
 * transaction per document. The rules are documented in doc/ARCHIVE.md.
 * Ownership: the caller owns the input bytes and the db handle; nothing here keeps them. */
#ifndef SC_ARCHIVE_H
#define SC_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "record.h"

struct archive_input {
	const char *vendor;        /* the vendor's name in the archive (created when new) */
	const char *kind;          /* source kind, or NULL to detect it */
	const char *url;           /* where the document came from; names the source; may be NULL */
	const char *file_name;     /* recorded with the document; may be NULL */
	const char *data;
	size_t len;
	int64_t fetched_at;        /* capture time of the document */
	int64_t now;               /* the clock: when events are created */
	int http_status;           /* what a fetch knew (0/NULL for an import) */
	const char *etag;
	const char *last_modified;
	const char *content_type;
	int backfill;              /* a walk through the vendor's history: every event says "backfill" */
};

struct archive_result {
	int skipped;               /* the same bytes were already archived from this source */
	int late;                  /* older than the source's newest document: it only filled gaps */
	int64_t document_id;
	const char *kind;          /* the source kind used (static) */
	size_t incidents;          /* listed in the document */
	size_t created;
	size_t changed;
	size_t unchanged;
	size_t vanished;
	size_t events;
	size_t parse_errors;
};

/* Archive one document. Returns 0, -1 with *cause, or DB_LOCKED. */
int archive_ingest(struct db *db, const struct archive_input *in, struct archive_result *res, char **cause);

/* What merging an observation into a stored incident found (for events); see archive_merge. */
struct archive_merge_info {
	size_t n;                  /* updates in the merged record */
	long *origin;              /* per merged update: its index in the stored record, or -1 when new */
	char **old_body;           /* per merged update: the stored body when the observation edited it */
	int pm_published;          /* a postmortem became known */
	int pm_filled;             /* a known postmortem got its first text */
	int pm_changed;            /* a known postmortem text changed */
	char *pm_old;              /* the text before, when changed */
};
void archive_merge_info_clear(struct archive_merge_info *mi);

/* Merge observation obs into stored (NULL for a new incident) into *out: a partial view adds to what
 * is known and never erases; newer decides whether obs may replace stored values or only fill gaps. */
void archive_merge(const struct rec_incident *stored, const struct rec_incident *obs, int newer,
		   struct rec_incident *out, struct archive_merge_info *mi);

/* A URL or id in the form used to match keys: scheme and host lowercased, http as https, no
 * fragment, no trailing slash. NULL when s is not a URL. Caller frees. */
char *archive_key_norm(const char *s);

#endif
