/* cmd-export.c: starchive export: incidents as one JSON document (each with its full record) or as
 * CSV (one row an incident). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "db.h"
#include "normalize.h"
#include "term.h"
#include "util.h"

#define EXPORT_FORMAT "starchive-export/1"

struct exp {
	int csv;
	size_t n;
};

static json_t *jtime(int ok, int64_t t)
{
	if (!ok)
		return json_null();
	char buf[40];
	rec_format_time(t, buf, sizeof buf);
	return json_string(buf);
}

static int put_json(const struct db_incident *inc, void *arg)
{
	struct exp *e = arg;
	char *rec = rec_incident_to_json(&inc->rec, 0);
	json_t *r = json_loads(rec, 0, NULL);
	free(rec);
	json_t *o = json_object();
	json_object_set_new(o, "vendor", json_string(inc->vendor));
	json_object_set_new(o, "key", json_string(inc->key));
	json_object_set_new(o, "first_seen_at", jtime(1, inc->first_seen_at));
	json_object_set_new(o, "changed_at", jtime(1, inc->changed_at));
	json_object_set_new(o, "revisions", json_integer(inc->revisions));
	json_object_set_new(o, "vanished_at", jtime(inc->has_vanished, inc->vanished_at));
	json_object_set_new(o, "postmortem_seen_at", jtime(inc->has_pm_seen, inc->pm_seen_at));
	json_object_set_new(o, "record", r ? r : json_null());
	/* dumped inside the same nesting as the output, so the indentation lines up */
	json_t *wrap = json_object();
	json_t *arr = json_array();
	json_array_append_new(arr, o);
	json_object_set_new(wrap, "incidents", arr);
	char *s = json_dumps(wrap, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(wrap);
	if (!s)
		return -1;
	static const char head[] = "{\n  \"incidents\": [\n", tail[] = "\n  ]\n}";
	size_t len = strlen(s);
	if (len > sizeof head + sizeof tail) {
		s[len - (sizeof tail - 1)] = '\0';
		fputs(e->n++ ? ",\n" : "\n", stdout);
		term_puts(s + sizeof head - 1);
	}
	free(s);
	return 0;
}

static void csv_field(struct buf *b, const char *s, int last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n")) {
		buf_addc(b, '"');
		for (const char *p = s; *p; p++) {
			if (*p == '"')
				buf_addc(b, '"');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else {
		buf_adds(b, s);
	}
	buf_adds(b, last ? "\n" : ",");
}

static void csv_time(struct buf *b, int ok, int64_t t)
{
	char buf[40] = "";
	if (ok)
		rec_format_time(t, buf, sizeof buf);
	csv_field(b, buf, 0);
}

static int put_csv(const struct db_incident *inc, void *arg)
{
	(void)arg;
	const struct rec_incident *r = &inc->rec;
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	csv_field(&b, inc->vendor, 0);
	csv_field(&b, inc->key, 0);
	csv_field(&b, r->title, 0);
	csv_field(&b, r->kind, 0);
	csv_field(&b, r->impact, 0);
	csv_field(&b, r->status, 0);
	csv_time(&b, r->started.ok, r->started.t);
	csv_time(&b, r->resolved.ok, r->resolved.t);
	char num[32] = "";
	if (r->started.ok && r->resolved.ok && r->resolved.t >= r->started.t)
		snprintf(num, sizeof num, "%lld", (long long)(r->resolved.t - r->started.t));
	csv_field(&b, num, 0);
	snprintf(num, sizeof num, "%zu", r->n_updates);
	csv_field(&b, num, 0);
	struct buf comps = BUF_INIT;
	buf_add(&comps, "", 0);
	for (size_t i = 0; i < r->n_components; i++)
		buf_addf(&comps, "%s%s", i ? "; " : "", r->components[i].name ? r->components[i].name : "?");
	csv_field(&b, comps.data, 0);
	buf_release(&comps);
	const struct rec_postmortem *pm = r->postmortem;
	csv_field(&b, !pm ? "" : pm->body ? "text" : "marked", 0);
	if (pm && pm->published.ok)
		csv_time(&b, 1, pm->published.t);
	else
		csv_time(&b, pm && inc->has_pm_seen, inc->pm_seen_at);
	csv_time(&b, 1, inc->first_seen_at);
	csv_time(&b, inc->has_vanished, inc->vanished_at);
	csv_field(&b, r->url ? r->url : r->source_url, 1);
	term_puts(b.data);
	buf_release(&b);
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "kind", required_argument, NULL, 'k' },
		{ "status", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_incident_filter f = { 0 };
	struct exp e = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "f:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				e.csv = 1;
			else if (strcmp(optarg, "json") != 0) {
				cmd_error("unknown format '%s' (json or csv)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			f.vendor = optarg;
			break;
		case 's':
			if (cmd_time_arg("--since", optarg, &f.since) < 0)
				return EXIT_USAGE;
			f.has_since = 1;
			break;
		case 'u':
			if (cmd_time_arg("--until", optarg, &f.until) < 0)
				return EXIT_USAGE;
			f.has_until = 1;
			break;
		case 'k':
			f.kind = optarg;
			break;
		case 't':
			f.status = optarg;
			break;
		case 'h':
			return cmd_usage("export", 1);
		default:
			return cmd_usage("export", 0);
		}
	}
	if (optind != argc)
		return cmd_usage("export", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	if (e.csv)
		fputs("vendor,incident,title,kind,impact,status,started_at,resolved_at,duration_seconds,updates,"
		      "components,postmortem,postmortem_at,first_seen_at,vanished_at,url\n", stdout);
	else
		printf("{\n  \"format\": \"%s\",\n  \"incidents\": [", EXPORT_FORMAT);
	char *cause = NULL;
	int r = db_incidents_each(db, &f, e.csv ? put_csv : put_json, &e, &cause);
	if (!e.csv)
		printf("%s]\n}\n", e.n ? "\n  " : "");
	if (r < 0) {
		cmd_error("%s", cause ? cause : "cannot write JSON");
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	free(cause);
	db_close(db);
	return cmd_finish(rc);
}
