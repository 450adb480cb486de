/* cmd-sync.c: starchive sync: the cron job. Quiet on success, one line per failing vendor. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "db.h"
#include "fetch.h"
#include "lock.h"
#include "notify.h"
#include "normalize.h"
#include "sync.h"
#include "term.h"
#include "util.h"

static void progress(void *arg, size_t done, size_t total, const char *vendor)
{
	char *name = term_clean(vendor, 0);
	fprintf(stderr, "\r\033[Ksync [%zu/%zu] %s", done + 1, total, name);
	fflush(stderr);
	free(name);
}

static int positive(const char *opt, const char *arg, long max, long *out)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v < 1 || v > max) {
		cmd_error("invalid %s '%s': want a whole number from 1 to %ld", opt, arg, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Deliver the outbox after a run; a sink's failure makes a clean run partial. */
static int deliver(struct db *db, const char *path, const struct sync_opts *so, int verbose, int rc)
{
	struct notify_opts no;
	notify_opts_init(&no, so->now);
	no.contact = so->fetch.contact;
	no.seed = so->seed;
	int nr = cmd_notify_run(db, path, &no, verbose);
	return rc == EXIT_OK ? nr : rc;
}

int cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "now", required_argument, NULL, 'n' },
		{ "wait", no_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'J' },
		{ "contact", required_argument, NULL, 'c' },
		{ "revisit", required_argument, NULL, 'r' },
		{ "broken-after", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-size", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "backfill", required_argument, NULL, 'B' },
		{ "pages", required_argument, NULL, 'P' },
		{ "limit", required_argument, NULL, 'L' },
		{ "no-notify", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts so;
	sync_opts_init(&so, (int64_t)time(NULL));
	int wait = 0, verbose = 0, json = 0, has_now = 0, notify = 1;
	const char *backfill = NULL;
	size_t bf_pages = SYNC_BACKFILL_PAGES, bf_limit = SYNC_BACKFILL_LIMIT;
	int64_t *sched = NULL;
	size_t nsched = 0;
	const char *sched_text = SYNC_REVISIT_DEFAULT;
	long v;
	int c;
	while ((c = getopt_long(argc, argv, "j:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (positive("--jobs", optarg, 64, &v) < 0)
				return EXIT_USAGE;
			so.fetch.jobs = (int)v;
			break;
		case 'f':
			so.force = 1;
			break;
		case 'n': {
			if (cmd_time_arg("--now", optarg, &so.now) < 0)
				return EXIT_USAGE;
			has_now = 1;
			break;
		}
		case 'w':
			wait = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'J':
			json = 1;
			break;
		case 'c':
			so.fetch.contact = optarg;
			break;
		case 'r':
			sched_text = optarg;
			break;
		case 'b':
			if (positive("--broken-after", optarg, 1000, &v) < 0)
				return EXIT_USAGE;
			so.broken_after = (int)v;
			break;
		case 't':
			if (positive("--timeout", optarg, 3600, &v) < 0)
				return EXIT_USAGE;
			so.fetch.limits.timeout_ms = v * 1000;
			if (so.fetch.limits.connect_timeout_ms > v * 1000)
				so.fetch.limits.connect_timeout_ms = v * 1000;
			break;
		case 's':
			if (positive("--max-size", optarg, 1L << 30, &v) < 0)
				return EXIT_USAGE;
			so.fetch.limits.max_body = (size_t)v;
			break;
		case 'i':
			if (positive("--interval", optarg, 86400 * 30, &v) < 0)
				return EXIT_USAGE;
			so.policy.min_interval = v;
			break;
		case 'B':
			backfill = optarg;
			break;
		case 'P':
			if (positive("--pages", optarg, 400, &v) < 0)
				return EXIT_USAGE;
			bf_pages = (size_t)v;
			break;
		case 'L':
			if (positive("--limit", optarg, 100000, &v) < 0)
				return EXIT_USAGE;
			bf_limit = (size_t)v;
			break;
		case 'N':
			notify = 0;
			break;
		case 'h':
			return cmd_usage("sync", 1);
		default:
			return cmd_usage("sync", 0);
		}
	}
	if (argc - optind > 1 || (backfill && optind < argc))
		return cmd_usage("sync", 0);
	if (optind < argc)
		so.vendor = argv[optind];
	char *cause = NULL;
	if (*sched_text && sync_parse_schedule(sched_text, &sched, &nsched, &cause) < 0) {
		cmd_error("%s", cause);
		free(cause);
		return EXIT_USAGE;
	}
	so.revisit = sched;
	so.n_revisit = nsched;
	if (has_now)
		so.seed = (uint32_t)so.now;
	else
		so.seed = (uint32_t)so.now ^ ((uint32_t)getpid() << 16);
	term_init();
	if (!verbose && !json && isatty(STDERR_FILENO)) {
		so.progress = progress;
	}

	struct db *db;
	char *path = NULL;
	int rc = cmd_open_archive(1, &db, &path);
	if (rc != EXIT_OK) {
		free(sched);
		return rc;
	}
	struct run_lock *lock = NULL;
	if ((rc = cmd_lock(path, wait, so.now, &lock)) != EXIT_OK) {
		db_close(db);
		free(path);
		free(sched);
		return rc;
	}
	if (backfill) {
		struct sync_backfill_report br;
		int b = sync_backfill(db, &so, backfill, bf_pages, bf_limit, &br, &cause);
		if (b < 0) {
			rc = b == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
			cmd_error("cannot backfill '%s': %s", backfill, cause);
		} else {
			term_printf("backfill %s: %zu history pages, %zu incidents listed, %zu incident pages, %zu events\n",
				    backfill, br.pages, br.listed, br.incident_pages, br.events);
			if (br.failed) {
				char *d = term_clean(br.detail, 0);
				fprintf(stderr, "starchive: backfill '%s': %zu pages failed, first: %s\n", backfill, br.failed, d);
				free(d);
			}
			rc = br.failed ? EXIT_PARTIAL : EXIT_OK;
			if (notify)
				rc = deliver(db, path, &so, verbose, rc);
		}
		sync_backfill_report_clear(&br);
		free(cause);
		lock_release(lock);
		db_close(db);
		fetch_cleanup();
		free(path);
		free(sched);
		return cmd_finish(rc);
	}
	struct sync_report rep;
	int r = sync_run(db, &so, &rep, &cause);
	if (so.progress && rep.n)
		fputs("\r\033[K", stderr);
	if (r < 0) {
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		cmd_error("sync failed: %s", cause);
	} else {
		rc = rep.failed ? EXIT_PARTIAL : EXIT_OK;
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct sync_vendor *sv = &rep.v[i];
		if (str_eq(sv->outcome, "failed")) {
			char *d = term_clean(sv->detail ? sv->detail : "failed", 0);
			fprintf(stderr, "starchive: vendor '%s' failed: %s%s\n", sv->name, d,
				sv->broke ? " (source.broken raised)" : "");
			free(d);
		}
		if (verbose)
			term_printf("%s: %s (%d fetched, %d unchanged, %d revisited, %zu events)%s\n", sv->name,
				    sv->outcome, sv->fetched, sv->not_modified, sv->revisited, sv->events,
				    sv->recovered ? " recovered" : "");
	}
	if (notify && r >= 0)
		rc = deliver(db, path, &so, verbose, rc);
	if (json && r >= 0) {
		char *j = sync_report_json(&rep, so.now, so.now);
		fputs(j, stdout);
		free(j);
	}
	free(cause);
	sync_report_clear(&rep);
	lock_release(lock);
	db_close(db);
	fetch_cleanup();
	free(path);
	free(sched);
	return cmd_finish(rc);
}
