/* cmd.h: the subcommands (one cmd-<name>.c each) and what they share with main.c.
 * Only cmd-*.c and main.c print or exit. */
#ifndef SC_CMD_H
#define SC_CMD_H

#include <stdint.h>
#include <stdio.h>

/* Exit codes (README.md and starchive(1) list the same table). */
enum {
	EXIT_OK = 0,
	EXIT_FATAL = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,
	EXIT_LOCKED = 75,
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;   /* the synopsis after "starchive NAME" */
	const char *summary; /* one line for --help */
	const char *help;    /* the option list for "starchive NAME --help" */
};

extern const struct command commands[];
extern const char *global_db_path; /* --db, or NULL */

/* Print the command's usage: to stdout (exit 0) when asked for, to stderr (exit 2) on misuse. */
int cmd_usage(const char *name, int requested);
/* Print "starchive: <msg>" to stderr; returns EXIT_FATAL. */
int cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read a time option (any form date_parse takes); prints "invalid OPT 'ARG': why" and returns -1. */
int cmd_time_arg(const char *opt, const char *arg, int64_t *out);
/* Flush stdout and report a write error; returns code, or EXIT_FATAL when stdout failed. */
int cmd_finish(int code);

int cmd_parse(int argc, char **argv);

/* ---- the archive commands (cmd-init.c has the helpers they share) ---- */
struct db;
/* Open the archive (--db, $STARCHIVE_DB or the XDG default), creating it when create is set; prints
 * the error and returns its exit code, else EXIT_OK. *path_out (when not NULL) gets the path. */
int cmd_open_archive(int create, struct db **out, char **path_out);
struct run_lock;
/* Take the run lock beside the archive (waiting for it when wait is set); prints the error and
 * returns EXIT_LOCKED or EXIT_FATAL, else EXIT_OK. */
int cmd_lock(const char *archive_path, int wait, int64_t now, struct run_lock **out);
/* Find VENDOR's incident by any key (code, URL, shortlink); prints the error and returns its exit
 * code, else EXIT_OK. */
int cmd_find_incident(struct db *db, const char *vendor, const char *key, int64_t *id);
int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_feed(int argc, char **argv);

/* ---- polling ---- */
int cmd_vendor(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/* ---- alerts ---- */
struct notify_opts;
struct notify_report;
int cmd_alert(int argc, char **argv);
int cmd_notify(int argc, char **argv);
/* Print one stderr line per failing sink (and, verbose, one line per sink); returns how many failed. */
int cmd_notify_report(const struct notify_report *r, int verbose);
/* Deliver the outbox (sync and notify, under the run lock): EXIT_OK, EXIT_PARTIAL when a sink
 * failed, or the archive's error code; prints its lines. Hooks get STARCHIVE_DB=archive_path. */
int cmd_notify_run(struct db *db, const char *archive_path, struct notify_opts *o, int verbose);

#endif
