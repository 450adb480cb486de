/* cmd-import.c: starchive import: archive saved pages in the order of their capture time (backfill
 * from saved snapshots or a git-scraping history). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "cmd.h"
#include "db.h"
#include "normalize.h"
#include "parse.h"
#include "util.h"

/* The most a page may weigh (as for parse). */
#define IMPORT_MAX_BYTES (64u << 20)

struct item {
	const char *path;
	size_t order;
	int64_t at;
};

static int digits(const char *p, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static int num(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* A UTC capture time in a file name: 2025-01-16T12-30-00Z, 2025-01-16_123000, 20250116T123000Z,
 * or a date alone (midnight). 0 when there is none. */
static int time_in_name(const char *path, int64_t *out)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (const char *p = base; *p; p++) {
		int y, mo, d, h = 0, mi = 0, s = 0;
		const char *q;
		if (digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-' && digits(p + 8, 2)) {
			y = num(p, 4), mo = num(p + 5, 2), d = num(p + 8, 2);
			q = p + 10;
		} else if (digits(p, 8) && (p[8] == 'T' || p[8] == '_' || p[8] == '-') && digits(p + 9, 6)) {
			y = num(p, 4), mo = num(p + 4, 2), d = num(p + 6, 2);
			h = num(p + 9, 2), mi = num(p + 11, 2), s = num(p + 13, 2);
			q = NULL;
		} else {
			continue;
		}
		if (q && (*q == 'T' || *q == '_' || *q == ' ') && digits(q + 1, 2)) {
			q++;
			h = num(q, 2);
			q += 2;
			if ((*q == ':' || *q == '-') && digits(q + 1, 2))
				q++;
			if (digits(q, 2)) {
				mi = num(q, 2);
				q += 2;
				if ((*q == ':' || *q == '-') && digits(q + 1, 2))
					q++;
				if (digits(q, 2))
					s = num(q, 2);
			}
		}
		if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
			continue;
		*out = date_from_civil(y, mo, d, h, mi, s);
		return 1;
	}
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void report(const char *path, const struct archive_result *r)
{
	printf("%s: %s, %zu incident%s: %zu new, %zu changed, %zu unchanged", path, r->kind, r->incidents,
	       r->incidents == 1 ? "" : "s", r->created, r->changed, r->unchanged);
	if (r->vanished)
		printf(", %zu vanished", r->vanished);
	printf("; %zu event%s", r->events, r->events == 1 ? "" : "s");
	if (r->late)
		printf(" (older than what the archive knows: gaps filled only)");
	if (r->parse_errors)
		printf(" (%zu parse problem%s)", r->parse_errors, r->parse_errors == 1 ? "" : "s");
	putchar('\n');
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vendor", required_argument, NULL, 'v' },
		{ "url", required_argument, NULL, 'u' },
		{ "kind", required_argument, NULL, 'k' },
		{ "now", required_argument, NULL, 'n' },
		{ "at", required_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vendor = NULL, *url = NULL, *kind = NULL;
	int64_t now = (int64_t)time(NULL), at = 0;
	int has_now = 0, has_at = 0, quiet = 0;
	int c;
	while ((c = getopt_long(argc, argv, "v:u:k:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vendor = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'n':
			if (cmd_time_arg("--now", optarg, &now) < 0)
				return EXIT_USAGE;
			has_now = 1;
			break;
		case 'a':
			if (cmd_time_arg("--at", optarg, &at) < 0)
				return EXIT_USAGE;
			has_at = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return cmd_usage("import", 1);
		default:
			return cmd_usage("import", 0);
		}
	}
	if (!vendor || !*vendor || optind >= argc)
		return cmd_usage("import", 0);
	if (kind && !parse_kind_find(kind)) {
		cmd_error("unknown kind '%s' (see 'starchive parse --list-kinds')", kind);
		return EXIT_USAGE;
	}
	(void)has_now;
	size_t n = (size_t)(argc - optind);
	struct item *items = xcalloc(n, sizeof *items);
	for (size_t i = 0; i < n; i++) {
		items[i].path = argv[optind + (int)i];
		items[i].order = i;
		if (has_at)
			items[i].at = at;
		else if (!time_in_name(items[i].path, &items[i].at))
			items[i].at = now;
	}
	qsort(items, n, sizeof *items, cmp_item);

	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK) {
		free(items);
		return rc;
	}
	size_t ok = 0, failed = 0;
	for (size_t i = 0; i < n && rc != EXIT_LOCKED; i++) {
		struct buf b;
		buf_init(&b, IMPORT_MAX_BYTES);
		char *cause = NULL;
		const char *path = items[i].path;
		if (buf_read_file(&b, path, &cause) < 0) {
			cmd_error("%s", cause);
			failed++;
		} else {
			struct archive_input in = { 0 };
			in.vendor = vendor;
			in.kind = kind;
			in.url = url;
			in.file_name = path;
			in.data = b.data ? b.data : "";
			in.len = b.len;
			in.fetched_at = items[i].at;
			in.now = now;
			struct archive_result res;
			int r = archive_ingest(db, &in, &res, &cause);
			if (r == DB_LOCKED) {
				cmd_error("%s", cause);
				rc = EXIT_LOCKED;
			} else if (r < 0) {
				cmd_error("cannot import '%s': %s", path, cause);
				failed++;
			} else {
				ok++;
				if (!quiet && res.skipped)
					printf("%s: already archived\n", path);
				else if (!quiet)
					report(path, &res);
			}
		}
		free(cause);
		buf_release(&b);
	}
	db_close(db);
	free(items);
	if (rc == EXIT_LOCKED)
		return cmd_finish(EXIT_LOCKED);
	if (failed)
		return cmd_finish(ok ? EXIT_PARTIAL : EXIT_FATAL);
	return cmd_finish(EXIT_OK);
}
