/* sync.h: one run of the main job: fetch every polled vendor's due sources (and the incident pages
 * due for a revisit), archive what changed, keep each vendor's health, record the run.
 * Modules below it: fetch (HTTP), archive (parse, diff, events), db (state).
 * Ownership: the caller owns the db and the options; sync_report_clear frees the report. */
#ifndef SC_SYNC_H
#define SC_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "fetch.h"
#include "politeness.h"

/* Days after resolution when a resolved incident's page is fetched again for a late postmortem. */
#define SYNC_REVISIT_DEFAULT "1,3,7,14,30,60,90,180,365"
#define SYNC_BROKEN_AFTER 3

struct sync_opts {
	int64_t now;                 /* the clock (sync --now fixes it) */
	int force;                   /* ignore minimum intervals and backoff */
	const char *vendor;          /* only this vendor, or NULL for all */
	int broken_after;            /* consecutive failed runs before source.broken */
	const int64_t *revisit;      /* revisit offsets in seconds, ascending */
	size_t n_revisit;
	size_t revisit_limit;        /* incident pages per vendor per run at most */
	struct polite_policy policy;
	struct fetch_opts fetch;
	uint32_t seed;               /* jitter; tests fix it */
	/* progress for a terminal: called before each vendor is archived; may be NULL */
	void (*progress)(void *arg, size_t done, size_t total, const char *vendor);
	void *progress_arg;
};

struct sync_vendor {
	char *name;
	const char *outcome;         /* "ok", "unchanged", "waiting" (backoff), "failed" */
	char *detail;                /* the first problem, for people */
	int fetched;                 /* documents that came back 200 */
	int not_modified;            /* 304s and bodies seen before */
	int revisited;               /* incident pages fetched for late postmortems */
	size_t events;
	int broke, recovered;        /* source.broken / source.recovered raised in this run */
};

struct sync_report {
	int64_t run_id;
	struct sync_vendor *v;
	size_t n;
	size_t failed;
	size_t events;
};

void sync_opts_init(struct sync_opts *o, int64_t now);
/* Parse "1,3,7" (days) into seconds; -1 with *cause on junk. Caller frees *out. */
int sync_parse_schedule(const char *text, int64_t **out, size_t *n, char **cause);
/* Run once. 0 when the run happened (vendors may have failed: see report->failed), -1 with *cause
 * when it could not, DB_LOCKED when the archive stayed locked. */
int sync_run(struct db *db, const struct sync_opts *o, struct sync_report *rep, char **cause);
void sync_report_clear(struct sync_report *rep);
/* The report as JSON (for sync --json and the runs table). Caller frees. */
char *sync_report_json(const struct sync_report *rep, int64_t started, int64_t finished);

/* ---- sync --backfill: a Statuspage vendor's history, quarter by quarter ---- */

#define SYNC_BACKFILL_PAGES 60    /* 15 years of quarters */
#define SYNC_BACKFILL_EMPTY 8     /* stop after this many quiet quarters in a row (2 years) */
#define SYNC_BACKFILL_LIMIT 500   /* incident pages per backfill run */

struct sync_backfill_report {
	size_t pages;              /* history pages archived */
	size_t listed;             /* incidents they listed */
	size_t incident_pages;     /* incident pages fetched for their timelines */
	size_t events;
	size_t failed;             /* pages that could not be fetched or read */
	char *detail;              /* the first failure, for people */
};

/* Walk /history?page=1,2,... of a Statuspage vendor until SYNC_BACKFILL_EMPTY quiet quarters in a
 * row (or max_pages), archiving each page, then fetch the incident pages (at most max_incidents) of
 * incidents known only from the index. 0 when it ran (see rep->failed), -1 with *cause when it
 * could not start, DB_LOCKED. */
int sync_backfill(struct db *db, const struct sync_opts *o, const char *vendor, size_t max_pages,
		  size_t max_incidents, struct sync_backfill_report *rep, char **cause);
void sync_backfill_report_clear(struct sync_backfill_report *rep);

#endif
