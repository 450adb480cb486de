/* cmd-parse.c: starchive parse: one saved page in, its normalized records out. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "normalize.h"
#include "parse.h"
#include "util.h"

/* The most a page may weigh: the biggest real one (GCP incidents.json) is a few MB. */
#define PARSE_MAX_BYTES (64u << 20)

int cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "url", required_argument, NULL, 'u' },
		{ "now", required_argument, NULL, 'n' },
		{ "list-kinds", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL;
	struct parse_opts po = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "k:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kind = optarg;
			break;
		case 'u':
			po.url = optarg;
			break;
		case 'n': {
			if (cmd_time_arg("--now", optarg, &po.now) < 0)
				return EXIT_USAGE;
			po.has_now = 1;
			break;
		}
		case 'l':
			for (size_t i = 0; i < n_source_kinds; i++)
				printf("%-22s %s\n", source_kinds[i].name, source_kinds[i].summary);
			return cmd_finish(EXIT_OK);
		case 'h':
			return cmd_usage("parse", 1);
		default:
			return cmd_usage("parse", 0);
		}
	}
	if (optind != argc - 1)
		return cmd_usage("parse", 0);
	if (kind && !parse_kind_find(kind)) {
		cmd_error("unknown kind '%s' (see 'starchive parse --list-kinds')", kind);
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	struct buf b;
	buf_init(&b, PARSE_MAX_BYTES);
	char *cause = NULL;
	struct rec_doc *doc = NULL;
	int rc = EXIT_OK;
	if (buf_read_file(&b, path, &cause) < 0) {
		rc = cmd_error("%s", cause);
	} else if (parse_buffer(b.data, b.len, kind, &po, &doc, &cause) < 0) {
		rc = cmd_error("cannot parse '%s': %s", path, cause);
	} else {
		rec_doc_write(doc, stdout); /* a write error is caught by cmd_finish */
	}
	free(cause);
	rec_doc_free(doc);
	buf_release(&b);
	return cmd_finish(rc);
}
