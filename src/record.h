/* record.h: the normalized record model (documents, components, incidents, updates, postmortems)
 * and its canonical JSON form, documented in starchive(5).
 * Ownership: every struct owns all of its strings and children; rec_doc_free frees the whole tree,
 * and every *_free is safe on a half-built object. Strings handed to the rec_set_* helpers are copied. */
#ifndef SC_RECORD_H
#define SC_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REC_FORMAT "starchive-record/1"

/* A point in time: UTC seconds when ok, and the text it was read from (either may be missing). */
struct rec_time {
	int ok;
	int64_t t;
	char *text;
};

/* A vendor-side identifier and what scheme it belongs to ("code", "id", "atom", "guid", "url"...). */
struct rec_id {
	char *scheme;
	char *value;
};

struct rec_component {
	char *id;         /* vendor id or code; NULL when the page gives only a name */
	char *name;
	char *status;     /* canonical: operational, degraded_performance, partial_outage, major_outage,
	                     under_maintenance, unknown; NULL when the source says nothing */
	char *status_raw; /* the vendor's own word */
	char *group;      /* group name, when the page groups components */
};

struct rec_update {
	char *id;         /* vendor update id, NULL when the source has none */
	char *status;     /* canonical status (see normalize.h) */
	char *status_raw; /* the label as the vendor wrote it ("Update", "Investigating"...) */
	struct rec_time at;
	char *body;       /* plain text, '\n' line breaks kept, trimmed */
	char *body_html;  /* the body's HTML when the source gives HTML, else NULL */
};

struct rec_postmortem {
	char *body;
	char *body_html;
	struct rec_time published;
};

struct rec_incident {
	char *id;                 /* the primary vendor id (Statuspage code, ULID, GUID, URL) */
	struct rec_id *ids;       /* every vendor id seen, primary first */
	size_t n_ids;
	char *url;
	char *title;
	char *kind;               /* "incident" or "maintenance" */
	char *impact;             /* none, minor, major, critical, maintenance; NULL when unknown */
	char *impact_raw;
	char *status;             /* canonical current status */
	char *status_raw;
	struct rec_time started;
	struct rec_time resolved;
	struct rec_time updated;
	struct rec_time scheduled_for;   /* maintenances only */
	struct rec_time scheduled_until;
	struct rec_component *components; /* affected components (id may be NULL) */
	size_t n_components;
	struct rec_update *updates;      /* chronological: oldest first, ties in source order */
	size_t n_updates;
	struct rec_postmortem *postmortem; /* NULL when none is published */
	char *source_url;                /* where the record points for the vendor's own page, if elsewhere */
	char *vendor;                    /* vendor name when the page names it (aggregators) */
};

struct rec_doc {
	char *kind;        /* source kind name, see parse.h */
	char *url;         /* the URL the document came from (--url), may be NULL */
	char *page_id;
	char *page_name;
	char *page_url;
	char *time_zone;
	struct rec_component *components;
	size_t n_components;
	struct rec_incident *incidents;
	size_t n_incidents;
	char **errors;     /* per-item problems that did not stop the parse, e.g. an unknown zone */
	size_t n_errors;
};

struct rec_doc *rec_doc_new(const char *kind);
void rec_doc_free(struct rec_doc *d);

/* Append a zeroed element and return it; the array grows as needed. */
struct rec_component *rec_doc_add_component(struct rec_doc *d);
struct rec_incident *rec_doc_add_incident(struct rec_doc *d);
struct rec_update *rec_incident_add_update(struct rec_incident *inc);
struct rec_component *rec_incident_add_component(struct rec_incident *inc);
/* Add an id unless the same scheme/value pair is there already. */
void rec_incident_add_id(struct rec_incident *inc, const char *scheme, const char *value);
void rec_doc_add_error(struct rec_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replace *dst with a sanitized copy of s (invalid UTF-8 and control characters removed); NULL clears. */
void rec_set(char **dst, const char *s);
void rec_setn(char **dst, const char *s, size_t n);
void rec_time_set(struct rec_time *t, int64_t utc, const char *text);
void rec_time_clear(struct rec_time *t);

void rec_component_clear(struct rec_component *c);
void rec_update_clear(struct rec_update *u);
void rec_postmortem_free(struct rec_postmortem *p);
void rec_incident_clear(struct rec_incident *inc);

/* Reverse the update array in place (sources list newest first; the record is oldest first). */
void rec_incident_reverse_updates(struct rec_incident *inc);
/* Fill what can be derived: started/resolved/updated from the timeline, kind and status defaults. */
void rec_incident_finish(struct rec_incident *inc);
/* Deep copy. */
void rec_incident_copy(struct rec_incident *dst, const struct rec_incident *src);

/* Canonical JSON text (fixed key order, two-space indent, trailing newline). Caller frees. */
char *rec_doc_to_json(const struct rec_doc *d);
char *rec_incident_to_json(const struct rec_incident *inc, int indent);
/* Stream the document's canonical JSON to f without building it in memory; -1 on a write error. */
int rec_doc_write(const struct rec_doc *d, FILE *f);
/* Read back what rec_*_to_json wrote; returns NULL and sets *cause on error. */
struct rec_doc *rec_doc_from_json(const char *text, size_t len, char **cause);
int rec_incident_from_json(const char *text, size_t len, struct rec_incident *inc, char **cause);

/* Format a UTC time as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" into out (at least 32 bytes). */
void rec_format_time(int64_t t, char *out, size_t n);

#endif
