/* cmd-log.c: starchive log: an incident's revision history, with what changed at each step. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "diff.h"
#include "term.h"
#include "util.h"

struct log {
	int patch;
	int json;
	char *prev;   /* the previous revision, indented JSON (for --patch) */
	int count;
};

static int print_revision(const struct db_revision *r, void *arg)
{
	struct log *l = arg;
	char seen[40];
	rec_format_time(r->seen_at, seen, sizeof seen);
	if (l->json) {
		term_puts(r->json);
		putchar('\n');
		return 0;
	}
	term_printf("%srevision %d  seen %s", l->count++ ? "\n" : "", r->number, seen);
	if (r->doc_kind)
		term_printf("  from %s %s", r->doc_kind, r->doc_url ? r->doc_url : r->doc_file ? r->doc_file : "");
	putchar('\n');
	const char *p = r->changes ? r->changes : "";
	while (*p) {
		size_t n = strcspn(p, "\n");
		term_printf("  %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
	if (l->patch) {
		struct rec_incident inc;
		char *cause = NULL;
		if (rec_incident_from_json(r->json, strlen(r->json), &inc, &cause) == 0) {
			char *pretty = rec_incident_to_json(&inc, 1);
			if (l->prev) {
				char *d = diff_lines(l->prev, pretty, 2);
				putchar('\n');
				term_puts(d);
				free(d);
			}
			free(l->prev);
			l->prev = pretty;
		}
		rec_incident_clear(&inc);
		free(cause);
	}
	return 0;
}

int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "patch", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct log l = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "pjh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			l.patch = 1;
			break;
		case 'j':
			l.json = 1;
			break;
		case 'h':
			return cmd_usage("log", 1);
		default:
			return cmd_usage("log", 0);
		}
	}
	if (optind != argc - 2)
		return cmd_usage("log", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	int64_t id;
	char *cause = NULL;
	if ((rc = cmd_find_incident(db, argv[optind], argv[optind + 1], &id)) == EXIT_OK) {
		int r = db_revisions_each(db, id, print_revision, &l, &cause);
		if (r < 0) {
			cmd_error("%s", cause);
			rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		}
	}
	free(l.prev);
	free(cause);
	db_close(db);
	return cmd_finish(rc);
}
