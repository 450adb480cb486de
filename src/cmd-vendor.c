/* cmd-vendor.c: starchive vendor add|list|show|remove|catalog|export|import: which status pages sync
 * polls, and from which sources. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cmd.h"
#include "db.h"
#include "fetch.h"
#include "normalize.h"
#include "parse.h"
#include "term.h"
#include "url.h"
#include "util.h"

struct candidate {
	char *kind;
	char *url;
};

struct plan {
	char *platform;
	struct candidate *c;
	size_t n;
};

static void plan_add(struct plan *p, const char *kind, const char *url)
{
	for (size_t i = 0; i < p->n; i++)
		if (str_eq(p->c[i].url, url))
			return;
	p->c = xreallocarray(p->c, p->n + 1, sizeof *p->c);
	p->c[p->n].kind = kind ? xstrdup(kind) : NULL;
	p->c[p->n++].url = xstrdup(url);
}

static void plan_clear(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->c[i].kind);
		free(p->c[i].url);
	}
	free(p->c);
	free(p->platform);
	memset(p, 0, sizeof *p);
}

/* The parser for a catalog source path, or NULL when starchive has none for it yet. */
static const char *kind_for_path(const char *path)
{
	if (strstr(path, "/api/v2/") && str_ends(path, ".json"))
		return "statuspage-json";
	if (str_ends(path, "/history.atom") || str_ends(path, "/history.rss"))
		return "statuspage-feed";
	if (str_ends(path, ".atom") || str_ends(path, ".rss") || str_ends(path, "/feed") || strstr(path, "/rss") ||
	    strstr(path, "/feed/") || (str_ends(path, ".xml") && (strstr(path, "atom") || strstr(path, "rss"))))
		return "feed";
	return NULL;
}

static char *strip_slash(const char *url)
{
	size_t n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

static const char *detect_name(const struct fetch_result *r)
{
	if (r->outcome != FETCH_OK || !r->body.len)
		return NULL;
	const struct source_kind *k = parse_detect(r->body.data, r->body.len);
	return k ? k->name : NULL;
}

/* Fetch the candidates and keep those that answer with a document of a kind starchive parses (the
 * detected kind wins over the guess). */
static void verify(struct plan *p, const struct fetch_opts *fo, struct buf *log)
{
	if (!p->n)
		return;
	struct fetch_request *req = xcalloc(p->n, sizeof *req);
	struct fetch_result *res = xcalloc(p->n, sizeof *res);
	for (size_t i = 0; i < p->n; i++)
		req[i].url = p->c[i].url;
	char *cause = NULL;
	fetch_run(req, res, p->n, fo, &cause);
	free(cause);
	size_t keep = 0;
	for (size_t i = 0; i < p->n; i++) {
		const char *k = detect_name(&res[i]);
		if (k) {
			free(p->c[i].kind);
			p->c[i].kind = xstrdup(k);
			p->c[keep++] = p->c[i];
		} else {
			buf_addf(log, "  %s: %s\n", p->c[i].url,
				 res[i].outcome == FETCH_OK ? "not a document starchive parses"
							    : (res[i].cause ? res[i].cause : fetch_outcome_name(res[i].outcome)));
			free(p->c[i].kind);
			free(p->c[i].url);
		}
		fetch_result_release(&res[i]);
	}
	p->n = keep;
	free(req);
	free(res);
}

/* Work out the platform and sources of a status page from its root URL. */
static int discover(const char *root, const struct fetch_opts *fo, struct plan *p, struct buf *log)
{
	/* paths are appended, not joined: a page may live below its host's root */
	char *summary = xasprintf("%s/api/v2/summary.json", root);
	struct fetch_request req[2] = { { summary, NULL, NULL, "application/json", NULL },
					{ root, NULL, NULL, "text/html, application/xhtml+xml, */*;q=0.8", NULL } };
	struct fetch_result res[2];
	memset(res, 0, sizeof res);
	char *cause = NULL;
	fetch_run(req, res, 2, fo, &cause);
	free(cause);
	const char *k0 = detect_name(&res[0]), *k1 = detect_name(&res[1]);
	if (str_eq(k0, "statuspage-json")) {
		/* incident.io serves the same JSON with 26-character ULID page ids */
		const char *body = res[0].body.data;
		const char *pid = memstr(body, res[0].body.len, "\"page\"");
		const char *q = pid ? memstr(pid, res[0].body.len - (size_t)(pid - body), "\"id\"") : NULL;
		int ulid = 0;
		if (q) {
			q = strchr(q + 4, '"');
			const char *e = q ? strchr(q + 1, '"') : NULL;
			ulid = e && e - q - 1 == 26;
		}
		p->platform = xstrdup(ulid ? "incident.io" : "statuspage");
		char *u = xasprintf("%s/api/v2/incidents.json", root);
		plan_add(p, "statuspage-json", u);
		free(u);
		if (!ulid) {
			u = xasprintf("%s/api/v2/scheduled-maintenances.json", root);
			plan_add(p, "statuspage-json", u);
			free(u);
		}
		u = xasprintf("%s%s", root, ulid ? "/feed.atom" : "/history.atom");
		plan_add(p, ulid ? "feed" : "statuspage-feed", u);
		free(u);
	} else {
		buf_addf(log, "  %s: %s\n", summary,
			 res[0].outcome == FETCH_OK ? "not Statuspage JSON"
						    : (res[0].cause ? res[0].cause : fetch_outcome_name(res[0].outcome)));
	}
	if (!p->platform && k1 && (str_eq(k1, "feed") || str_eq(k1, "statuspage-feed"))) {
		p->platform = xstrdup("feed");
		plan_add(p, k1, root);
	} else if (res[1].outcome == FETCH_OK && res[1].body.len) {
		char **links = NULL;
		size_t nl = 0;
		parse_feed_links(res[1].body.data, res[1].body.len, res[1].final_url ? res[1].final_url : root,
				 &links, &nl);
		for (size_t i = 0; i < nl; i++) {
			if (!p->platform || !str_eq(p->platform, "statuspage"))
				plan_add(p, NULL, links[i]);
			free(links[i]);
		}
		free(links);
		if (!p->platform && str_eq(k1, "statuspage-home")) {
			p->platform = xstrdup("statuspage");
			plan_add(p, "statuspage-home", root);
		}
		if (!p->platform && nl)
			p->platform = xstrdup("feed");
	} else {
		buf_addf(log, "  %s: %s\n", root, res[1].cause ? res[1].cause : fetch_outcome_name(res[1].outcome));
	}
	for (int i = 0; i < 2; i++)
		fetch_result_release(&res[i]);
	free(summary);
	verify(p, fo, log);
	return p->n ? 0 : -1;
}

static int save_plan(struct db *db, const char *name, const char *title, const char *url, const struct plan *p,
		     int64_t now)
{
	char *cause = NULL;
	int64_t id;
	int rc = db_begin(db, &cause);
	if (rc == 0)
		rc = db_vendor_register(db, name, title, url, p->platform, now, &id, &cause);
	if (rc == 0)
		rc = db_poll_sources_reset(db, id, &cause);
	for (size_t i = 0; rc == 0 && i < p->n; i++)
		rc = db_poll_source_add(db, id, p->c[i].kind, p->c[i].url, now, &cause);
	if (rc == 0)
		rc = db_commit(db, &cause);
	else
		db_rollback(db);
	if (rc < 0) {
		cmd_error("cannot save vendor '%s': %s", name, cause);
		free(cause);
		return rc == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	return EXIT_OK;
}

static void print_plan(const char *name, const struct plan *p)
{
	term_printf("added %s (%s)\n", name, p->platform ? p->platform : "custom");
	for (size_t i = 0; i < p->n; i++)
		term_printf("  %-20s %s\n", p->c[i].kind ? p->c[i].kind : "(detect)", p->c[i].url);
}

static int valid_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return 0;
	for (const char *s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static int vendor_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "catalog", no_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = NULL;
	int from_catalog = 0;
	int64_t now = (int64_t)time(NULL);
	struct fetch_opts fo;
	fetch_opts_init(&fo);
	fo.limits.timeout_ms = 30000;
	int c;
	while ((c = getopt_long(argc, argv, "k:ch", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kind = optarg;
			if (!parse_kind_find(kind)) {
				cmd_error("unknown kind '%s' (see 'starchive parse --list-kinds')", kind);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			from_catalog = 1;
			break;
		case 'n': {
			if (cmd_time_arg("--now", optarg, &now) < 0)
				return EXIT_USAGE;
			break;
		}
		case 't': {
			long s = atol(optarg);
			if (s < 1 || s > 600) {
				cmd_error("invalid --timeout '%s': want seconds from 1 to 600", optarg);
				return EXIT_USAGE;
			}
			fo.limits.timeout_ms = s * 1000;
			fo.limits.connect_timeout_ms = s * 1000 < fo.limits.connect_timeout_ms ? s * 1000
											    : fo.limits.connect_timeout_ms;
			break;
		}
		case 'h':
			return cmd_usage("vendor", 1);
		default:
			return cmd_usage("vendor", 0);
		}
	}
	int nargs = argc - optind;
	if (from_catalog ? nargs < 1 : nargs != 2)
		return cmd_usage("vendor", 0);
	struct db *db;
	int rc = cmd_open_archive(1, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	if (from_catalog) {
		struct catalog cat;
		char *cause = NULL;
		if (catalog_load(NULL, &cat, &cause) < 0) {
			rc = cmd_error("the built-in catalog is damaged: %s", cause);
			free(cause);
			db_close(db);
			return rc;
		}
		for (int i = optind; i < argc && rc == EXIT_OK; i++) {
			const struct catalog_entry *e = catalog_find(&cat, argv[i]);
			if (!e) {
				rc = cmd_error("'%s' is not in the catalog (see 'starchive vendor catalog')", argv[i]);
				break;
			}
			struct plan p = { 0 };
			p.platform = xstrdup(e->platform);
			char *srcs = xstrdup(e->sources);
			char *save = NULL;
			for (char *s = strtok_r(srcs, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
				const char *k = kind_for_path(s);
				char *u = url_join(e->url, s);
				if (k && u)
					plan_add(&p, k, u);
				free(u);
			}
			free(srcs);
			if (!p.n)
				rc = cmd_error("catalog vendor '%s' (%s) has no source starchive can parse yet", e->name,
					       e->platform);
			else if ((rc = save_plan(db, e->name, e->title, e->url, &p, now)) == EXIT_OK)
				print_plan(e->name, &p);
			plan_clear(&p);
		}
		catalog_free(&cat);
		db_close(db);
		fetch_cleanup();
		return cmd_finish(rc);
	}
	const char *name = argv[optind];
	if (!valid_name(name)) {
		db_close(db);
		cmd_error("invalid vendor name '%s': use letters, digits, '-', '_' and '.'", name);
		return EXIT_USAGE;
	}
	if (!url_is_http(argv[optind + 1])) {
		db_close(db);
		cmd_error("invalid URL '%s': want an http or https status page address", argv[optind + 1]);
		return EXIT_USAGE;
	}
	char *url = strip_slash(argv[optind + 1]);
	struct plan p = { 0 };
	struct buf log = BUF_INIT;
	buf_add(&log, "", 0);
	if (kind) {
		p.platform = xstrdup(str_starts(kind, "statuspage") ? "statuspage" : "custom");
		plan_add(&p, kind, url);
		rc = save_plan(db, name, NULL, url, &p, now);
	} else if (discover(url, &fo, &p, &log) < 0) {
		rc = cmd_error("found no status data at '%s' (give --kind K to name the kind of this URL):\n%s", url,
			       log.data);
	} else {
		rc = save_plan(db, name, NULL, url, &p, now);
	}
	if (rc == EXIT_OK)
		print_plan(name, &p);
	plan_clear(&p);
	buf_release(&log);
	free(url);
	db_close(db);
	fetch_cleanup();
	return cmd_finish(rc);
}

static const char *health(const struct db_vendor *v)
{
	if (!v->polled)
		return "removed";
	if (v->broken)
		return "broken";
	if (v->failures)
		return "failing";
	return v->has_last_ok ? "ok" : "new";
}

static int vendor_list(int argc, char **argv)
{
	int all = argc > 1 && strcmp(argv[1], "--all") == 0;
	if (argc > 2 || (argc == 2 && !all))
		return cmd_usage("vendor", 0);
	struct db *db;
	int rc = cmd_open_archive(1, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	struct db_vendor *v = NULL;
	size_t n = 0;
	char *cause = NULL;
	if (db_vendors_load(db, !all, &v, &n, &cause) < 0) {
		rc = cmd_error("cannot list vendors: %s", cause);
		free(cause);
	} else {
		term_init();
		if (n)
			printf("%-20s %-12s %-8s %-20s %9s  %s\n", "VENDOR", "PLATFORM", "HEALTH", "LAST OK", "INCIDENTS",
			       "URL");
		for (size_t i = 0; i < n; i++) {
			char ok[40] = "-";
			if (v[i].has_last_ok)
				rec_format_time(v[i].last_ok_at, ok, sizeof ok);
			term_printf("%-20s %-12s %-8s %-20s %9lld  %s\n", v[i].name, v[i].platform ? v[i].platform : "-",
				    health(&v[i]), ok, (long long)v[i].incidents, v[i].url ? v[i].url : "-");
		}
	}
	db_vendors_free(v, n);
	db_close(db);
	return cmd_finish(rc);
}

static int vendor_show(int argc, char **argv)
{
	if (argc != 2)
		return cmd_usage("vendor", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	struct db_vendor v;
	char *cause = NULL;
	int r = db_vendor_load(db, argv[1], &v, &cause);
	if (r <= 0) {
		rc = r < 0 ? cmd_error("cannot read vendor '%s': %s", argv[1], cause)
			   : cmd_error("no vendor '%s' (see 'starchive vendor list')", argv[1]);
		free(cause);
		db_close(db);
		return rc;
	}
	term_init();
	char t[40];
	term_printf("vendor:    %s\n", v.name);
	if (v.title)
		term_printf("title:     %s\n", v.title);
	term_printf("url:       %s\n", v.url ? v.url : "-");
	term_printf("platform:  %s\n", v.platform ? v.platform : "-");
	term_printf("health:    %s", health(&v));
	if (v.failures)
		printf(" (%d consecutive failures)", v.failures);
	printf("\n");
	if (v.has_last_ok) {
		rec_format_time(v.last_ok_at, t, sizeof t);
		printf("last ok:   %s\n", t);
	}
	if (v.has_next_at) {
		rec_format_time(v.next_at, t, sizeof t);
		printf("next try:  %s (backing off)\n", t);
	}
	if (v.last_error)
		term_printf("error:     %s\n", v.last_error);
	printf("incidents: %lld\n", (long long)v.incidents);
	struct db_poll_source *s = NULL;
	size_t n = 0;
	if (db_poll_sources_load(db, v.id, &s, &n, &cause) == 0) {
		printf("sources:\n");
		for (size_t i = 0; i < n; i++) {
			term_printf("  %-20s %s\n", s[i].kind ? s[i].kind : "(detect)", s[i].url);
			if (s[i].last_status)
				printf("    last status %d", s[i].last_status);
			if (s[i].has_last_ok) {
				rec_format_time(s[i].last_ok_at, t, sizeof t);
				printf("%s ok at %s", s[i].last_status ? "," : "   ", t);
			}
			if (s[i].has_next_at) {
				rec_format_time(s[i].next_at, t, sizeof t);
				printf(", next allowed %s", t);
			}
			if (s[i].last_status || s[i].has_last_ok || s[i].has_next_at)
				printf("\n");
			if (s[i].etag)
				term_printf("    etag %s\n", s[i].etag);
			if (s[i].last_error)
				term_printf("    error: %s\n", s[i].last_error);
		}
	}
	db_poll_sources_free(s, n);
	free(cause);
	db_vendor_clear(&v);
	db_close(db);
	return cmd_finish(EXIT_OK);
}

static int vendor_remove(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage("vendor", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	for (int i = 1; i < argc && rc == EXIT_OK; i++) {
		char *cause = NULL;
		int r = db_vendor_unpoll(db, argv[i], &cause);
		if (r < 0)
			rc = cmd_error("cannot remove vendor '%s': %s", argv[i], cause);
		else if (r == 0)
			rc = cmd_error("no vendor '%s' (see 'starchive vendor list')", argv[i]);
		else
			printf("removed %s from sync (its archived history stays)\n", argv[i]);
		free(cause);
	}
	db_close(db);
	return cmd_finish(rc);
}

static int vendor_catalog(int argc, char **argv)
{
	struct catalog cat;
	char *cause = NULL;
	if (catalog_load(NULL, &cat, &cause) < 0) {
		int rc = cmd_error("the built-in catalog is damaged: %s", cause);
		free(cause);
		return rc;
	}
	const char *filter = argc > 1 ? argv[1] : NULL;
	for (size_t i = 0; i < cat.n; i++) {
		const struct catalog_entry *e = &cat.entries[i];
		if (filter && !strcasestr(e->name, filter) && !strcasestr(e->title, filter) &&
		    !strcasestr(e->platform, filter))
			continue;
		printf("%-22s %-12s %s\n", e->name, e->platform, e->url);
	}
	catalog_free(&cat);
	return cmd_finish(EXIT_OK);
}

/* The plain-text list, for version control:
 *   NAME URL PLATFORM
 *     KIND SOURCE-URL      (one indented line per source) */
static int vendor_export(int argc, char **argv)
{
	if (argc != 1)
		return cmd_usage("vendor", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	struct db_vendor *v = NULL;
	size_t n = 0;
	char *cause = NULL;
	if (db_vendors_load(db, 1, &v, &n, &cause) < 0) {
		rc = cmd_error("cannot list vendors: %s", cause);
	} else {
		printf("# starchive vendors: NAME URL PLATFORM, then one indented 'KIND URL' line per source\n");
		for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
			printf("%s %s %s\n", v[i].name, v[i].url ? v[i].url : "-", v[i].platform ? v[i].platform : "custom");
			struct db_poll_source *s = NULL;
			size_t ns = 0;
			if (db_poll_sources_load(db, v[i].id, &s, &ns, &cause) < 0) {
				rc = cmd_error("cannot list sources of '%s': %s", v[i].name, cause);
				break;
			}
			for (size_t k = 0; k < ns; k++)
				printf("  %s %s\n", s[k].kind ? s[k].kind : "detect", s[k].url);
			db_poll_sources_free(s, ns);
		}
	}
	free(cause);
	db_vendors_free(v, n);
	db_close(db);
	return cmd_finish(rc);
}

static int vendor_import(int argc, char **argv)
{
	if (argc != 2)
		return cmd_usage("vendor", 0);
	struct buf b;
	buf_init(&b, 16u << 20);
	char *cause = NULL;
	if (buf_read_file(&b, argv[1], &cause) < 0) {
		int rc = cmd_error("%s", cause);
		free(cause);
		buf_release(&b);
		return rc;
	}
	struct db *db;
	int rc = cmd_open_archive(1, &db, NULL);
	if (rc != EXIT_OK) {
		buf_release(&b);
		return rc;
	}
	int64_t now = (int64_t)time(NULL);
	char *name = NULL, *url = NULL;
	struct plan p = { 0 };
	size_t lineno = 0, vendors = 0;
	char *save = NULL;
	for (char *line = strtok_r(b.data, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		int indented = line && (*line == ' ' || *line == '\t');
		if (line && (!*line || *line == '#'))
			continue;
		if (!line || !indented) {
			if (name) {
				if ((rc = save_plan(db, name, NULL, url, &p, now)) != EXIT_OK)
					break;
				vendors++;
			}
			free(name);
			free(url);
			name = url = NULL;
			plan_clear(&p);
			if (!line)
				break;
			char w[3][1024];
			if (sscanf(line, "%1023s %1023s %1023s", w[0], w[1], w[2]) != 3 || !valid_name(w[0]) ||
			    !url_is_http(w[1])) {
				rc = cmd_error("'%s' line %zu: want 'NAME URL PLATFORM'", argv[1], lineno);
				break;
			}
			name = xstrdup(w[0]);
			url = xstrdup(w[1]);
			p.platform = xstrdup(w[2]);
			continue;
		}
		char k[128], u[2048];
		if (!name || sscanf(line, "%127s %2047s", k, u) != 2 || !url_is_http(u) ||
		    (strcmp(k, "detect") != 0 && !parse_kind_find(k))) {
			rc = cmd_error("'%s' line %zu: want an indented 'KIND URL' under a vendor line", argv[1], lineno);
			break;
		}
		plan_add(&p, strcmp(k, "detect") ? k : NULL, u);
	}
	free(name);
	free(url);
	plan_clear(&p);
	if (rc == EXIT_OK)
		printf("imported %zu vendors from '%s'\n", vendors, argv[1]);
	buf_release(&b);
	db_close(db);
	return cmd_finish(rc);
}

int cmd_vendor(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage("vendor", 0);
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
		return cmd_usage("vendor", 1);
	argc--;
	argv++;
	optind = 0;
	for (int i = 1; i < argc && strcmp(sub, "add") != 0; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_usage("vendor", 1);
	if (!strcmp(sub, "add"))
		return vendor_add(argc, argv);
	if (!strcmp(sub, "list"))
		return vendor_list(argc, argv);
	if (!strcmp(sub, "show"))
		return vendor_show(argc, argv);
	if (!strcmp(sub, "remove"))
		return vendor_remove(argc, argv);
	if (!strcmp(sub, "catalog"))
		return vendor_catalog(argc, argv);
	if (!strcmp(sub, "export"))
		return vendor_export(argc, argv);
	if (!strcmp(sub, "import"))
		return vendor_import(argc, argv);
	cmd_error("unknown vendor command '%s' (add, list, show, remove, catalog, export, import)", sub);
	return EXIT_USAGE;
}
