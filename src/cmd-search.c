/* cmd-search.c: starchive search: full-text search (FTS5) over titles, update bodies and postmortems. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "normalize.h"
#include "term.h"
#include "util.h"

static int print_hit(const struct db_hit *h, void *arg)
{
	(void)arg;
	char day[40] = "unknown";
	if (h->has_started) {
		rec_format_time(h->started_at, day, sizeof day);
		day[10] = '\0';
	}
	term_printf("%s  %s  %s  %s\n", h->vendor, h->key, day, h->title ? h->title : "(untitled)");
	struct buf b = BUF_INIT;
	if (str_eq(h->field, "update"))
		buf_addf(&b, "    update %d: ", h->position);
	else
		buf_addf(&b, "    %s: ", h->field);
	/* the matched words between brackets, or bold on a terminal */
	for (const char *p = h->snippet ? h->snippet : ""; *p; p++) {
		if (*p == '\x01')
			buf_adds(&b, term_is_tty() ? "\x1b[1m" : "[");
		else if (*p == '\x02')
			buf_adds(&b, term_is_tty() ? "\x1b[0m" : "]");
		else if (*p == '\n' || *p == '\t')
			buf_addc(&b, ' ');
		else if (term_is_tty() && ((unsigned char)*p < 0x20 || *p == 0x7f))
			continue;
		else
			buf_addc(&b, *p);
	}
	if (term_is_tty()) {
		/* clean the text, then put our own bold back */
		struct buf t = BUF_INIT;
		buf_add(&t, "", 0);
		const char *p = b.data;
		while (*p) {
			const char *esc = strstr(p, "\x1b[");
			size_t n = esc ? (size_t)(esc - p) : strlen(p);
			char *part = xstrndup(p, n);
			char *clean = term_clean(part, 0);
			buf_adds(&t, clean);
			free(clean);
			free(part);
			p += n;
			if (esc) {
				buf_add(&t, esc, 4);
				p += 4;
			}
		}
		fputs(t.data, stdout);
		buf_release(&t);
	} else {
		fputs(b.data, stdout);
	}
	putchar('\n');
	buf_release(&b);
	return 0;
}

int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vendor", required_argument, NULL, 'v' },
		{ "limit", required_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vendor = NULL;
	long limit = 20;
	int raw = 0;
	int c;
	while ((c = getopt_long(argc, argv, "v:n:rh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vendor = optarg;
			break;
		case 'n': {
			char *end;
			limit = strtol(optarg, &end, 10);
			if (*end || limit < 0) {
				cmd_error("invalid --limit '%s': not a count", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'r':
			raw = 1;
			break;
		case 'h':
			return cmd_usage("search", 1);
		default:
			return cmd_usage("search", 0);
		}
	}
	if (optind >= argc)
		return cmd_usage("search", 0);
	struct buf q = BUF_INIT;
	buf_add(&q, "", 0);
	for (int i = optind; i < argc; i++)
		buf_addf(&q, "%s%s", i > optind ? " " : "", argv[i]);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK) {
		buf_release(&q);
		return rc;
	}
	term_init();
	char *cause = NULL;
	int r = db_search(db, q.data, raw, vendor, (size_t)limit, print_hit, NULL, &cause);
	if (r < 0) {
		cmd_error("%s", cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : raw ? EXIT_USAGE : EXIT_FATAL;
	}
	free(cause);
	buf_release(&q);
	db_close(db);
	return cmd_finish(rc);
}
