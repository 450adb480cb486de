/* main.c: global options, the command table and exit codes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "regex.h"
#include "util.h"

const char *global_db_path;

const struct command commands[] = {
	{ "parse", cmd_parse, "[--kind K] [--url URL] [--now TIME] FILE|-",
	  "print the normalized records of one saved page",
	  "  -k, --kind K      the source kind (default: detected; --list-kinds lists them)\n"
	  "  -u, --url URL     the URL the page was fetched from (resolves links, names the source)\n"
	  "      --now TIME    the fixed clock: reference for dates without a year\n"
	  "      --list-kinds  list the source kinds and exit\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: starchive [--db PATH] COMMAND [ARGS]\n\n"
		   "Scrape, archive and diff vendor status pages.\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nglobal options:\n"
		   "      --db PATH   the archive (default $STARCHIVE_DB, else $XDG_DATA_HOME/starchive/archive.db)\n"
		   "  -h, --help      this help; 'starchive COMMAND --help' for one command\n"
		   "  -V, --version   print the version\n"
		   "\nexit status: 0 success, 1 error, 2 usage, 3 some vendors failed, 75 archive locked\n");
}

int cmd_usage(const char *name, int requested)
{
	FILE *f = requested ? stdout : stderr;
	for (const struct command *c = commands; c->name; c++) {
		if (strcmp(c->name, name) == 0) {
			fprintf(f, "usage: starchive %s %s\n\n%s.\n\noptions:\n%s", c->name, c->usage, c->summary,
				c->help);
			break;
		}
	}
	return requested ? cmd_finish(EXIT_OK) : EXIT_USAGE;
}

int cmd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("starchive: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_FATAL;
}

int cmd_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "starchive: cannot write to standard output: %s\n", strerror(errno));
		return EXIT_FATAL;
	}
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	/* libcurl runs with CURLOPT_NOSIGNAL: a peer closing a connection must not kill a cron job */
	signal(SIGPIPE, SIG_IGN);
	int c;
	/* "+": stop at the command name; its options are its own */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			global_db_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return cmd_finish(EXIT_OK);
		case 'V':
			printf("starchive %s\n", PACKAGE_VERSION);
			return cmd_finish(EXIT_OK);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	int rc = -1;
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		if (strcmp(cmd->name, name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 0; /* reset getopt for the command */
			rc = cmd->fn(argc, argv);
			break;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "starchive: unknown command '%s' (see 'starchive --help')\n", name);
		rc = EXIT_USAGE;
	}
	re_cleanup();
	return rc;
}
