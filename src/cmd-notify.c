/* cmd-notify.c: starchive notify: deliver pending events to every sink (sync does it at its end). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "fetch.h"
#include "lock.h"
#include "notify.h"
#include "term.h"
#include "util.h"

int cmd_notify_report(const struct notify_report *r, int verbose)
{
	int failing = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct notify_sink_report *s = &r->v[i];
		char next[40] = "";
		if (s->has_next)
			rec_format_time(s->next_at, next, sizeof next);
		if (s->error && (s->failed || s->down)) {
			failing++;
			char *e = term_clean(s->error, 0);
			fprintf(stderr, "starchive: sink '%s' failed: %s (%zu pending%s%s)\n", s->name, e, s->pending,
				*next ? ", next try " : "", next);
			free(e);
		}
		if (verbose && s->backing_off)
			term_printf("%s: backing off after a failure, %zu pending, next try %s\n", s->name, s->pending, next);
		else if (verbose)
			term_printf("%s: %zu delivered, %zu failed, %zu pending, %zu new (%zu held back as history)%s\n",
				    s->name, s->delivered, s->failed, s->pending, s->matched, s->held,
				    s->released ? ", earlier events sent again on request" : "");
		if (s->gave_up)
			fprintf(stderr, "starchive: sink '%s': gave up %zu event%s it kept refusing (see 'starchive events "
					"--undelivered'; 'starchive notify --retry-failed --sink %s' sends them again)\n",
				s->name, s->gave_up, s->gave_up == 1 ? "" : "s", s->name);
	}
	return failing;
}

/* Run the outbox for sync or notify: returns EXIT_OK, EXIT_PARTIAL when a sink failed, or the
 * archive's error code (already printed). */
int cmd_notify_run(struct db *db, const char *archive_path, struct notify_opts *o, int verbose)
{
	/* a hook that runs starchive itself finds this archive */
	if (archive_path) {
		char *cwd = archive_path[0] == '/' ? NULL : getcwd(NULL, 0);
		char *abs = cwd ? xasprintf("%s/%s", cwd, archive_path) : xstrdup(archive_path);
		setenv("STARCHIVE_DB", abs, 1);
		free(abs);
		free(cwd);
	}
	struct notify_report r;
	char *cause = NULL;
	int rc = notify_run(db, o, &r, &cause);
	int code = EXIT_OK;
	if (rc < 0) {
		cmd_error("cannot deliver events: %s", cause);
		code = rc == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	if (cmd_notify_report(&r, verbose) && code == EXIT_OK)
		code = EXIT_PARTIAL;
	free(cause);
	notify_report_clear(&r);
	return code;
}

int cmd_notify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sink", required_argument, NULL, 's' },
		{ "replay", no_argument, NULL, 'R' },
		{ "since", required_argument, NULL, 'S' },
		{ "now", required_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "contact", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "max", required_argument, NULL, 'm' },
		{ "all", no_argument, NULL, 'A' },
		{ "retry-failed", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sink = NULL, *contact = NULL;
	int replay = 0, has_since = 0, wait = 0, verbose = 0, all = 0, retry_failed = 0, c;
	long max = 0;
	int64_t since = 0, now = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sink = optarg;
			break;
		case 'R':
			replay = 1;
			break;
		case 'S':
			if (cmd_time_arg("--since", optarg, &since) < 0)
				return EXIT_USAGE;
			has_since = 1;
			break;
		case 'n':
			if (cmd_time_arg("--now", optarg, &now) < 0)
				return EXIT_USAGE;
			break;
		case 'w':
			wait = 1;
			break;
		case 'c':
			contact = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'A':
			all = 1;
			break;
		case 'F':
			retry_failed = 1;
			break;
		case 'm': {
			char *end;
			max = strtol(optarg, &end, 10);
			if (end == optarg || *end || max < 1 || max > 1000000) {
				cmd_error("invalid --max '%s': want a whole number from 1 to 1000000", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'h':
			return cmd_usage("notify", 1);
		default:
			return cmd_usage("notify", 0);
		}
	}
	if (optind != argc)
		return cmd_usage("notify", 0);
	if (has_since && !replay) {
		cmd_error("--since goes with --replay");
		return EXIT_USAGE;
	}
	if (replay && !sink && !all) {
		/* replaying history for a new sink must not flood the old ones */
		cmd_error("--replay wants --sink NAME (or --all to replay every sink's history)");
		return EXIT_USAGE;
	}
	if (all && !replay) {
		cmd_error("--all goes with --replay");
		return EXIT_USAGE;
	}
	term_init();
	struct db *db;
	char *path = NULL, *cause = NULL;
	int rc = cmd_open_archive(0, &db, &path);
	if (rc != EXIT_OK)
		return rc;
	struct run_lock *lock = NULL;
	if ((rc = cmd_lock(path, wait, now, &lock)) != EXIT_OK) {
		db_close(db);
		free(path);
		return rc;
	}
	if (sink) {
		struct db_sink row;
		int r = db_sink_load(db, sink, &row, &cause);
		db_sink_clear(&row);
		if (r <= 0) {
			if (r == 0)
				cmd_error("no sink named '%s' (see 'starchive alert list')", sink);
			else
				cmd_error("%s", cause);
			rc = EXIT_FATAL;
			goto out;
		}
	}
	struct notify_opts o;
	notify_opts_init(&o, now);
	o.sink = sink;
	o.contact = contact;
	o.seed = (uint32_t)now ^ ((uint32_t)getpid() << 16);
	o.replay = replay;
	o.retry_failed = retry_failed;
	o.max_per_sink = (size_t)max;
	o.has_since = has_since;
	o.since = since;
	rc = cmd_notify_run(db, path, &o, verbose);
	fetch_cleanup();
out:
	free(cause);
	lock_release(lock);
	db_close(db);
	free(path);
	return cmd_finish(rc);
}
