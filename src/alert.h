/* alert.h: sinks, the places events go (a program, a webhook, a JSON Lines file, email): their
 * configuration and its checks, which events each one wants, and delivering one event to one sink.
 * Ownership: struct alert_sink and struct alert_filter own their strings (alert_*_clear frees them);
 * alert_deliver fills an alert_outcome whose error string the caller frees with alert_outcome_clear. */
#ifndef SC_ALERT_H
#define SC_ALERT_H

#include <stddef.h>
#include <stdint.h>

struct db_event;
struct db_sink;

/* The event types the archive and sync record, NULL-terminated. */
extern const char *const alert_event_types[];
/* The types a new sink or feed gets when none are asked for. */
#define ALERT_DEFAULT_TYPES "postmortem.published,postmortem.changed"

/* Which events a sink (or a feed) wants: types (exact, or a prefix ending in '.'), vendors, and a
 * lowest impact. Empty lists mean all. */
struct alert_filter {
	char **types;
	size_t n_types;
	char **vendors;
	size_t n_vendors;
	int min_impact;            /* -1: any, even none; else an index into the impact scale */
	int all;                   /* "all" was asked for: stored as such, so later types are included */
};
void alert_filter_init(struct alert_filter *f);
void alert_filter_clear(struct alert_filter *f);
/* Add a comma list of types ("all" for every type); unknown names are refused with the known ones. */
int alert_filter_types(struct alert_filter *f, const char *list, char **cause);
/* Add a comma list of vendor names (their existence is the caller's check). */
int alert_filter_vendors(struct alert_filter *f, const char *list, char **cause);
/* Set the lowest impact: none, minor, major or critical. */
int alert_filter_impact(struct alert_filter *f, const char *name, char **cause);
/* 1 when the filter's types take this type. */
int alert_filter_wants_type(const struct alert_filter *f, const char *type);
/* 1 when the filter wants ev. An event without an impact passes only when no minimum is set. */
int alert_filter_match(const struct alert_filter *f, const struct db_event *ev);
/* The types (or vendors) as one comma list, or NULL when empty; caller frees. */
char *alert_join(char *const *v, size_t n);

enum alert_kind {
	ALERT_PROGRAM,
	ALERT_WEBHOOK,
	ALERT_FILE,
	ALERT_EMAIL,
};

enum alert_format {
	ALERT_FORMAT_JSON,
	ALERT_FORMAT_SLACK,
	ALERT_FORMAT_TEAMS,
};

#define ALERT_TIMEOUT 30   /* seconds a delivery may take */
#define ALERT_TIMEOUT_MAX 600

struct alert_sink {
	int64_t id;
	char *name;
	enum alert_kind kind;
	char *target;              /* program path, URL, file path, or the first address */
	char **args;               /* program: arguments after the path */
	size_t n_args;
	enum alert_format format;  /* webhook */
	char **headers;            /* webhook: "Name: value" */
	size_t n_headers;
	char **to;                 /* email: recipients (to[0] is target) */
	size_t n_to;
	char *from;                /* email: From address, or NULL for "starchive <user@host>" */
	char *sendmail;            /* email: the sendmail program */
	int timeout;               /* seconds */
	struct alert_filter filter;
	int64_t created_at;
	int64_t hold_before;       /* events older than this are held back (the creation time; 0: none) */
	int64_t cursor;
};
void alert_sink_clear(struct alert_sink *s);

/* Check a sink as `alert add` builds it, so a bad one is refused now and not at 3 a.m.: the name,
 * the URL, that the program exists and can run (made absolute through $PATH), that the file can be
 * appended to (made absolute), the addresses, that sendmail exists, headers and the timeout. */
int alert_sink_check(struct alert_sink *s, char **cause);
/* The row that stores s, and back. */
void alert_sink_to_row(const struct alert_sink *s, struct db_sink *row);
int alert_sink_from_row(const struct db_sink *row, struct alert_sink *s, char **cause);
const char *alert_kind_name(enum alert_kind k);
const char *alert_format_name(enum alert_format f);
/* The body a webhook URL wants when --format is not given: Slack's and Teams' (Office 365
 * connectors, Power Automate Workflows) hosts get theirs, any other the generic JSON. */
enum alert_format alert_format_for_url(const char *url);
/* The target as `alert list` shows it: a webhook URL keeps only scheme, host and port (the rest is
 * usually a secret). Caller frees. */
char *alert_target_display(const struct alert_sink *s);

/* When the event's subject happened by the vendor's word (a postmortem's date, an update's time, an
 * incident's start), else when it was recorded. */
int64_t alert_event_time(const struct db_event *ev);
/* 1 when a sink whose history ends at t holds ev back: ev was recorded, or its page captured,
 * before t; or it tells history: a listing source's first page (unless the incident is going on
 * there, or asked is set, for --replay-since, and the vendor dates it at or after t), a walk back
 * (sync --backfill) dated before t or undated, or an incident first seen now that the vendor dates
 * before t and that is not going on. */
int alert_event_is_old(const struct db_event *ev, int64_t t, int asked);
/* An incident counts as going on when its vendor date is at most this long before the capture. */
#define ALERT_OPEN_RECENT (7 * 86400)
/* The idempotency key of an event for a sink: the same for every attempt. Caller frees. */
char *alert_key(const char *archive_id, int64_t event_id, int64_t sink_id);

/* A program's exit status that means "not now, the service behind me is down" (sysexits' EX_TEMPFAIL):
 * the sink backs off as a whole instead of failing one event. */
#define ALERT_EXIT_TEMPFAIL 75

enum alert_result {
	ALERT_DELIVERED,           /* the sink confirmed it */
	ALERT_FAILED,              /* this event failed; the sink may take others */
	ALERT_SINK_DOWN,           /* the sink is unreachable or overloaded: stop sending to it now */
};
struct alert_outcome {
	enum alert_result result;
	int has_retry_after;
	int64_t retry_after;       /* seconds the sink asked to wait */
	char *error;               /* one line, NULL when delivered */
};
void alert_outcome_clear(struct alert_outcome *o);
/* Exactly what s would be sent for ev (a program's STARCHIVE_ variables, a blank line, then its
 * stdin), for `alert preview`; NULL and *cause when the event cannot be read. Caller frees. */
char *alert_render(const struct alert_sink *s, const struct db_event *ev, const char *key, int64_t now,
		   char **cause);
/* Send ev to s once, with its key. contact goes in a webhook's User-Agent. Never fails as a
 * function: everything lands in *out. */
void alert_deliver(const struct alert_sink *s, const struct db_event *ev, const char *key, const char *contact,
		   int64_t now, struct alert_outcome *out);

#endif
