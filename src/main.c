/* main.c: global options, the command table and exit codes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "normalize.h"
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
	{ "init", cmd_init, "",
	  "create the archive, or upgrade an old one in place",
	  "  (the archive is --db PATH, else $STARCHIVE_DB, else $XDG_DATA_HOME/starchive/archive.db)\n" },
	{ "import", cmd_import, "--vendor NAME [--url URL] [--kind K] [--now TIME] [--at TIME] FILE...",
	  "archive saved pages in the order of their capture time",
	  "  -v, --vendor NAME  the vendor the pages belong to\n"
	  "  -u, --url URL      the URL the pages were fetched from (names the source)\n"
	  "  -k, --kind K       the source kind (default: detected)\n"
	  "      --now TIME     the fixed clock: when the events happen (default: now)\n"
	  "      --at TIME      the capture time of every FILE (default: a date in the file name,\n"
	  "                     else --now)\n"
	  "  -q, --quiet        print nothing but errors\n" },
	{ "events", cmd_events, "[--since TIME] [--after ID] [--type TYPE] [--vendor NAME] [--json] | --undelivered",
	  "list the change events, oldest first",
	  "  -s, --since TIME   events created at or after TIME (a date, or an age such as 36h)\n"
	  "      --after ID     events after this event id\n"
	  "  -t, --type TYPE    one type (incident.new), or a family ending in a dot (postmortem.)\n"
	  "  -v, --vendor NAME  one vendor's events\n"
	  "  -j, --json         one JSON object a line, with the full payload\n"
	  "      --now TIME     the clock an age in --since counts back from (default: now)\n"
	  "  -u, --undelivered  instead: events not yet confirmed by an alert sink, with their attempts,\n"
	  "                     next try and last error (--held: also history held back; --sink NAME)\n" },
	{ "show", cmd_show, "[--json] VENDOR INCIDENT",
	  "show an incident as a person reads it: times, components, timeline, postmortem",
	  "  -j, --json         the archived record as JSON instead\n"
	  "  (INCIDENT is any of its keys: the vendor's code, its URL, its shortlink)\n" },
	{ "log", cmd_log, "[--patch] [--json] VENDOR INCIDENT",
	  "show an incident's revision history with what changed at each step",
	  "  -p, --patch        also the line diff of the record between revisions\n"
	  "  -j, --json         each revision's record as one JSON line\n" },
	{ "search", cmd_search, "[--vendor NAME] [--limit N] [--raw] TEXT...",
	  "full-text search over titles, updates and postmortems",
	  "  -v, --vendor NAME  one vendor's incidents\n"
	  "  -n, --limit N      at most N incidents (default 20; 0 for all)\n"
	  "  -r, --raw          TEXT is an SQLite FTS5 query (AND, OR, NOT, \"phrases\", prefix*)\n" },
	{ "export", cmd_export, "[--format json|csv] [--vendor NAME] [--since TIME] [--until TIME] [--kind K] [--status S]",
	  "write archived incidents as JSON or CSV",
	  "  -f, --format F     json (default: full records) or csv (one row an incident)\n"
	  "  -v, --vendor NAME  one vendor's incidents\n"
	  "      --since TIME   incidents started at or after TIME\n"
	  "      --until TIME   incidents started before TIME\n"
	  "      --kind K       incident or maintenance\n"
	  "      --status S     one canonical status (resolved, postmortem...)\n" },
	{ "feed", cmd_feed, "--out FILE [--type T]... [--vendor V]... [--since TIME] [--limit N] [--title TEXT] [--self URL]",
	  "write the newest events (postmortems by default) as an Atom feed",
	  "  -o, --out FILE     the feed file, replaced whole (written beside it, then renamed); - for stdout\n"
	  "  -t, --type T       event types or families (incident.); repeat or comma list; 'all'\n"
	  "                     (default postmortem.published,postmortem.changed)\n"
	  "  -v, --vendor V     only these vendors (repeat or comma list)\n"
	  "      --min-impact I only incidents of impact I or more: none, minor, major, critical\n"
	  "  -s, --since TIME   events created at or after TIME (a date, or an age such as 7d)\n"
	  "  -n, --limit N      the newest N events, newest first (default 100; 0 for all)\n"
	  "      --title TEXT   the feed's title (default from the types and vendors)\n"
	  "      --self URL     where the feed is served (its rel=\"self\" link)\n"
	  "      --now TIME     the clock an age in --since counts back from (default: now)\n"
	  "  (the feed's id depends on the archive, types, vendors and impact; each entry's id on the\n"
	  "   archive and the event: both stay the same from run to run)\n" },
	{ "vendor", cmd_vendor, "add NAME URL [--kind K] | add --catalog NAME... | list [--all] | show NAME |\n"
	  "                        remove NAME... | catalog [TEXT] | export | import FILE",
	  "manage the status pages sync polls",
	  "  add NAME URL       discover the platform and sources of the status page at URL\n"
	  "                     (Statuspage/incident.io API, history feeds, the page's feed links)\n"
	  "      -k, --kind K   take URL itself as a source of kind K, without discovery\n"
	  "      --timeout SECS the discovery fetches' limit (default 30)\n"
	  "  add --catalog NAME...  add vendors from the built-in catalog ('vendor catalog' lists it)\n"
	  "  list [--all]       polled vendors with health, last success and incident count\n"
	  "  show NAME          one vendor: health, sources, validators, last errors\n"
	  "  remove NAME...     stop polling (the archived history stays)\n"
	  "  catalog [TEXT]     the built-in catalog, filtered by TEXT\n"
	  "  export             the polled vendors as plain text, for version control\n"
	  "  import FILE        read that text back\n" },
	{ "sync", cmd_sync, "[options] [VENDOR] | --backfill VENDOR [--pages N] [--limit N]",
	  "fetch every polled vendor, archive what changed (the cron job)",
	  "  -j, --jobs N         transfers at once (default 4; at most 2 per host)\n"
	  "  -f, --force          ignore minimum intervals and backoff\n"
	  "      --now TIME       the fixed clock (tests)\n"
	  "      --wait           wait for another run's lock instead of exiting 75\n"
	  "  -v, --verbose        one line per vendor\n"
	  "      --json           print the run report as JSON\n"
	  "      --contact URL    added to the User-Agent\n"
	  "      --interval SECS  minimum time between two fetches of one URL (default 300)\n"
	  "      --revisit DAYS   revisit resolved incidents' pages these days after resolution\n"
	  "                       (default 1,3,7,14,30,60,90,180,365; '' for never)\n"
	  "      --broken-after N consecutive failed runs before source.broken (default 3)\n"
	  "      --timeout SECS   one transfer's limit (default 60)\n"
	  "      --max-size BYTES the largest decoded body kept (default 16 MiB)\n"
	  "      --backfill VENDOR walk a Statuspage vendor's /history?page=N quarters back (until 8 quiet\n"
	  "                       quarters in a row) and fetch the pages of incidents known only from them\n"
	  "      --pages N        history pages at most (default 60)\n"
	  "      --limit N        incident pages at most (default 500)\n"
	  "      --no-notify      do not deliver events to alert sinks at the end\n"
	  "  exit status: 0 all fine, 1 error, 2 usage, 3 some vendors or sinks failed, 75 locked\n" },
	{ "alert", cmd_alert, "add NAME SINK [FILTERS] | list [--json] | remove NAME | test|preview NAME [--event ID]",
	  "configure where events are delivered (hooks, webhooks, files, email)",
	  "  add NAME SINK [FILTERS]   one of:\n"
	  "      --program PATH [--arg ARG]...  run PATH (no shell) with the event JSON on stdin\n"
	  "      --webhook URL [--format json|slack|teams] [--header 'Name: value']...  POST to URL\n"
	  "                     (the format defaults from the host: hooks.slack.com is slack,\n"
	  "                     *.webhook.office.com and Power Automate hosts are teams, else json)\n"
	  "      --file PATH                    append one JSON line an event\n"
	  "      --email ADDR[,ADDR] [--from ADDR] [--sendmail PATH]  mail through sendmail\n"
	  "    filters and options:\n"
	  "      --type T       event types or families (incident.); repeat or comma list; 'all'\n"
	  "                     (default postmortem.published,postmortem.changed)\n"
	  "      --vendor V     only these vendors (repeat or comma list)\n"
	  "      --min-impact I only incidents of impact I or more: none, minor, major, critical\n"
	  "      --timeout SECS one delivery's limit (default 30)\n"
	  "      --replay       also send events recorded before the sink existed\n"
	  "      --replay-since TIME  ... those recorded from TIME on, first pages' too if dated from TIME\n"
	  "  list [--json]    the sinks with their delivered, pending, held-back and given-up counts\n"
	  "  remove NAME      delete the sink and its delivery records (waits for a running sync;\n"
	  "                   from a hook it exits 75 instead)\n"
	  "  test NAME        send a made-up test event now (--event ID: a real one; nothing is recorded)\n"
	  "  preview NAME     print what test would send (--event ID, --now TIME for the mail's date)\n" },
	{ "notify", cmd_notify, "[--sink NAME] [--replay [--all] [--since TIME]] [--retry-failed] [--max N] [--verbose] [--wait]",
	  "deliver pending events to the alert sinks (sync does this at its end)",
	  "  -s, --sink NAME    only this sink\n"
	  "      --replay       send events held back as history (recorded before a sink existed, or\n"
	  "                     first seen in a backfill or a source's first page); needs --sink or --all\n"
	  "      --all          with --replay: every sink\n"
	  "      --retry-failed send again the events a sink kept refusing (given up after 20 refusals)\n"
	  "      --since TIME   with --replay: only those the vendor dates at or after TIME\n"
	  "  -v, --verbose      one line per sink\n"
	  "      --max N        at most N attempts per sink in this run (default: until none is due)\n"
	  "      --wait         wait for another run's lock instead of exiting 75\n"
	  "      --contact URL  added to a webhook's User-Agent\n"
	  "      --now TIME     the fixed clock (tests)\n"
	  "  exit status: 0 all delivered, 1 error, 2 usage, 3 some sinks failed (they retry), 75 locked\n" },
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
		   "\nexit status: 0 success, 1 error, 2 usage, 3 some vendors or alert sinks failed, 75 archive locked\n");
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

int cmd_time_arg(const char *opt, const char *arg, int64_t *out)
{
	char *cause = NULL;
	if (date_parse(arg, NULL, out, &cause) < 0) {
		cmd_error("invalid %s '%s': %s", opt, arg, cause);
		free(cause);
		return -1;
	}
	return 0;
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
