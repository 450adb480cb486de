/* cmd-alert.c: starchive alert add|list|remove|test: the sinks events are delivered to. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "alert.h"
#include "cmd.h"
#include "db.h"
#include "fetch.h"
#include "lock.h"
#include "term.h"
#include "util.h"

static void push_arg(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

/* Every vendor a filter names must be in the archive: a typo is refused now, not missed later. */
static int check_vendors(struct db *db, const struct alert_filter *f)
{
	for (size_t i = 0; i < f->n_vendors; i++) {
		struct db_vendor v;
		char *cause = NULL;
		int r = db_vendor_load(db, f->vendors[i], &v, &cause);
		db_vendor_clear(&v);
		if (r < 0) {
			cmd_error("%s", cause);
			free(cause);
			return EXIT_FATAL;
		}
		if (r == 0) {
			cmd_error("unknown vendor '%s' (see 'starchive vendor list --all'; add the vendor first)",
				  f->vendors[i]);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static int alert_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "program", required_argument, NULL, 'p' },
		{ "arg", required_argument, NULL, 'a' },
		{ "webhook", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'F' },
		{ "header", required_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "email", required_argument, NULL, 'e' },
		{ "from", required_argument, NULL, 'r' },
		{ "sendmail", required_argument, NULL, 'S' },
		{ "type", required_argument, NULL, 't' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "min-impact", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "replay", no_argument, NULL, 'R' },
		{ "replay-since", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct alert_sink s;
	memset(&s, 0, sizeof s);
	alert_filter_init(&s.filter);
	s.timeout = ALERT_TIMEOUT;
	int kinds = 0, has_now = 0, replay = 0, has_since = 0, rc = EXIT_USAGE;
	int64_t now = 0, since = 0;
	const char *format = NULL;
	char *cause = NULL, *path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "p:w:f:e:t:v:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'w':
		case 'f':
		case 'e':
			kinds++;
			s.kind = c == 'p' ? ALERT_PROGRAM : c == 'w' ? ALERT_WEBHOOK : c == 'f' ? ALERT_FILE : ALERT_EMAIL;
			free(s.target);
			s.target = xstrdup(optarg);
			if (c == 'e') {
				/* a comma list of addresses */
				char *copy = xstrdup(optarg), *save = NULL;
				for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					while (*t == ' ')
						t++;
					size_t n = strlen(t);
					while (n && t[n - 1] == ' ')
						t[--n] = '\0';
					if (*t)
						push_arg(&s.to, &s.n_to, t);
				}
				free(copy);
				free(s.target);
				s.target = xstrdup(s.n_to ? s.to[0] : "");
			}
			break;
		case 'a':
			push_arg(&s.args, &s.n_args, optarg);
			break;
		case 'F':
			format = optarg;
			break;
		case 'H':
			push_arg(&s.headers, &s.n_headers, optarg);
			break;
		case 'r':
			free(s.from);
			s.from = xstrdup(optarg);
			break;
		case 'S':
			free(s.sendmail);
			s.sendmail = xstrdup(optarg);
			break;
		case 't':
			if (alert_filter_types(&s.filter, optarg, &cause) < 0) {
				cmd_error("invalid --type: %s", cause);
				goto out;
			}
			break;
		case 'v':
			if (alert_filter_vendors(&s.filter, optarg, &cause) < 0) {
				cmd_error("invalid --vendor: %s", cause);
				goto out;
			}
			break;
		case 'i':
			if (alert_filter_impact(&s.filter, optarg, &cause) < 0) {
				cmd_error("invalid --min-impact: %s", cause);
				goto out;
			}
			break;
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > ALERT_TIMEOUT_MAX) {
				cmd_error("invalid --timeout '%s': want whole seconds from 1 to %d", optarg, ALERT_TIMEOUT_MAX);
				goto out;
			}
			s.timeout = (int)v;
			break;
		}
		case 'R':
			replay = 1;
			break;
		case 's':
			if (cmd_time_arg("--replay-since", optarg, &since) < 0)
				goto out;
			has_since = 1;
			break;
		case 'n':
			if (cmd_time_arg("--now", optarg, &now) < 0)
				goto out;
			has_now = 1;
			break;
		case 'h':
			rc = cmd_usage("alert", 1);
			goto out;
		default:
			rc = cmd_usage("alert", 0);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		cmd_error("alert add takes one sink NAME (then --program, --webhook, --file or --email)");
		goto out;
	}
	if (kinds != 1) {
		cmd_error("give exactly one of --program, --webhook, --file or --email");
		goto out;
	}
	if (format && s.kind != ALERT_WEBHOOK) {
		cmd_error("--format is for --webhook sinks");
		goto out;
	}
	if (format) {
		if (str_eq(format, "json"))
			s.format = ALERT_FORMAT_JSON;
		else if (str_eq(format, "slack"))
			s.format = ALERT_FORMAT_SLACK;
		else if (str_eq(format, "teams"))
			s.format = ALERT_FORMAT_TEAMS;
		else {
			cmd_error("invalid --format '%s': want json, slack or teams", format);
			goto out;
		}
	}
	if (!format && s.kind == ALERT_WEBHOOK)
		s.format = alert_format_for_url(s.target);
	if (s.n_args && s.kind != ALERT_PROGRAM) {
		cmd_error("--arg is for --program sinks");
		goto out;
	}
	if (s.n_headers && s.kind != ALERT_WEBHOOK) {
		cmd_error("--header is for --webhook sinks");
		goto out;
	}
	if ((s.from || s.sendmail) && s.kind != ALERT_EMAIL) {
		cmd_error("--from and --sendmail are for --email sinks");
		goto out;
	}
	if (s.kind == ALERT_EMAIL && !s.n_to) {
		cmd_error("--email wants at least one address");
		goto out;
	}
	if (replay && has_since) {
		cmd_error("give --replay or --replay-since, not both");
		goto out;
	}
	s.name = xstrdup(argv[optind]);
	if (alert_sink_check(&s, &cause) < 0) {
		cmd_error("cannot add sink '%s': %s", s.name, cause);
		goto out;
	}
	s.created_at = has_now ? now : (int64_t)time(NULL);
	if (has_since && since > s.created_at) {
		cmd_error("invalid --replay-since: it is in the future (it would hold back new events until then)");
		rc = EXIT_USAGE;
		goto out;
	}
	s.hold_before = replay ? 0 : has_since ? since : s.created_at;
	struct db *db;
	rc = cmd_open_archive(1, &db, &path);
	if (rc != EXIT_OK)
		goto out;
	if ((rc = check_vendors(db, &s.filter)) != EXIT_OK) {
		db_close(db);
		goto out;
	}
	struct db_sink row;
	alert_sink_to_row(&s, &row);
	int r = db_sink_add(db, &row, &cause);
	db_sink_clear(&row);
	db_close(db);
	if (r < 0) {
		cmd_error("cannot add sink '%s': %s", s.name, cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		goto out;
	}
	struct stat st;
	if (s.kind == ALERT_WEBHOOK && stat(path, &st) == 0 && (st.st_mode & 044))
		fprintf(stderr, "starchive: warning: the archive '%s' can be read by other users and now holds a "
				"webhook URL (usually a secret): chmod 600 it\n", path);
	char *types = s.filter.all ? xstrdup("all") : alert_join(s.filter.types, s.filter.n_types);
	char *target = alert_target_display(&s);
	term_printf("added sink %s: %s%s%s%s %s, for %s%s\n", s.name, alert_kind_name(s.kind),
		    s.kind == ALERT_WEBHOOK ? " (" : "", s.kind == ALERT_WEBHOOK ? alert_format_name(s.format) : "",
		    s.kind == ALERT_WEBHOOK ? ")" : "", target, types,
		    s.hold_before ? "" : " (with every earlier event: --replay)");
	free(types);
	free(target);
	rc = cmd_finish(EXIT_OK);
out:
	free(cause);
	free(path);
	alert_sink_clear(&s);
	return rc;
}

static int alert_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else
			return cmd_usage("alert", c == 'h');
	}
	if (optind != argc)
		return cmd_usage("alert", 0);
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	struct db_sink *rows;
	size_t n;
	char *cause = NULL;
	if ((rc = db_sinks_load(db, &rows, &n, &cause)) < 0) {
		cmd_error("%s", cause);
		free(cause);
		db_close(db);
		return rc == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	rc = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		struct alert_sink s;
		struct db_sink_counts cnt;
		if (alert_sink_from_row(&rows[i], &s, &cause) < 0 || db_sink_counts(db, rows[i].id, &cnt, &cause) < 0) {
			cmd_error("%s", cause);
			free(cause);
			cause = NULL;
			alert_sink_clear(&s);
			rc = EXIT_FATAL;
			continue;
		}
		char created[40], down[40] = "";
		rec_format_time(s.created_at, created, sizeof created);
		if (rows[i].has_down)
			rec_format_time(rows[i].down_until, down, sizeof down);
		char *target = alert_target_display(&s);
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "name", json_string(s.name));
			json_object_set_new(o, "kind", json_string(alert_kind_name(s.kind)));
			json_object_set_new(o, "target", json_string(target));
			if (s.kind == ALERT_WEBHOOK)
				json_object_set_new(o, "format", json_string(alert_format_name(s.format)));
			json_object_set_new(o, "types", json_string(rows[i].types));
			json_object_set_new(o, "vendors", rows[i].vendors ? json_string(rows[i].vendors) : json_null());
			json_object_set_new(o, "min_impact", rows[i].min_impact ? json_string(rows[i].min_impact) : json_null());
			json_object_set_new(o, "timeout", json_integer(s.timeout));
			json_object_set_new(o, "created_at", json_string(created));
			json_object_set_new(o, "delivered", json_integer((json_int_t)cnt.delivered));
			json_object_set_new(o, "pending", json_integer((json_int_t)cnt.pending));
			json_object_set_new(o, "held", json_integer((json_int_t)cnt.held));
			json_object_set_new(o, "given_up", json_integer((json_int_t)cnt.failed));
			json_object_set_new(o, "down_until", *down ? json_string(down) : json_null());
			char *d = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(o);
			if (d)
				puts(d);
			free(d);
		} else {
			term_printf("%s  %s%s%s  %s\n  types %s", s.name, alert_kind_name(s.kind),
				    s.kind == ALERT_WEBHOOK ? "/" : "", s.kind == ALERT_WEBHOOK ? alert_format_name(s.format) : "",
				    target, rows[i].types);
			if (rows[i].vendors)
				term_printf("; vendors %s", rows[i].vendors);
			if (rows[i].min_impact)
				term_printf("; impact %s or more", rows[i].min_impact);
			term_printf("\n  since %s: %zu delivered, %zu pending, %zu held back", created, cnt.delivered,
				    cnt.pending, cnt.held);
			if (cnt.failed)
				term_printf(", %zu given up", cnt.failed);
			if (rows[i].has_down)
				term_printf("; down, next try %s", down);
			term_printf("\n");
		}
		free(target);
		alert_sink_clear(&s);
	}
	db_sinks_free(rows, n);
	db_close(db);
	return cmd_finish(rc);
}

static int alert_remove(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage("alert", 0);
	struct db *db;
	char *path = NULL, *cause = NULL;
	int rc = cmd_open_archive(0, &db, &path);
	if (rc != EXIT_OK)
		return rc;
	/* not while a notify or sync delivers to it: wait for it, unless we are one of its hooks */
	struct run_lock *lock = NULL;
	int lr = lock_acquire(path, 0, (int64_t)time(NULL), &lock, &cause);
	if (lr == 1 && !getenv("STARCHIVE_SINK")) {
		fprintf(stderr, "starchive: waiting: %s\n", cause);
		rc = cmd_lock(path, 1, (int64_t)time(NULL), &lock);
	} else if (lr != 0) {
		cmd_error("%s", cause);
		rc = lr == 1 ? EXIT_LOCKED : EXIT_FATAL;
	}
	free(cause);
	cause = NULL;
	free(path);
	if (rc != EXIT_OK) {
		db_close(db);
		return rc;
	}
	int r = db_sink_remove(db, argv[1], &cause);
	if (r < 0) {
		cmd_error("cannot remove sink '%s': %s", argv[1], cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	} else if (r == 0) {
		cmd_error("no sink named '%s' (see 'starchive alert list')", argv[1]);
		rc = EXIT_FATAL;
	} else {
		term_printf("removed sink %s\n", argv[1]);
	}
	free(cause);
	lock_release(lock);
	db_close(db);
	return cmd_finish(rc);
}

/* A made-up event that says it is a test, of the first type the sink takes. */
static char *test_payload(int64_t now)
{
	char a[40], b[40];
	rec_format_time(now - 7200, a, sizeof a);
	rec_format_time(now - 3300, b, sizeof b);
	json_t *p = json_object();
	json_object_set_new(p, "title", json_string("Test alert from starchive (no vendor reported this)"));
	json_object_set_new(p, "url", json_string("https://status.example.com/incidents/starchive-test"));
	json_object_set_new(p, "kind", json_string("incident"));
	json_object_set_new(p, "impact", json_string("minor"));
	json_object_set_new(p, "status", json_string("resolved"));
	json_object_set_new(p, "started_at", json_string(a));
	json_object_set_new(p, "resolved_at", json_string(b));
	json_object_set_new(p, "body", json_string("This is a test of the sink, sent by 'starchive alert test'. "
						   "Real postmortems arrive in this shape."));
	json_object_set_new(p, "published_at", json_string(b));
	json_object_set_new(p, "test", json_true());
	char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	return s;
}

/* alert test (send) and alert preview (print what would be sent). */
static int alert_try(int argc, char **argv, int preview)
{
	static const struct option opts[] = {
		{ "event", required_argument, NULL, 'e' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t event_id = 0, now = (int64_t)time(NULL);
	int c;
	while ((c = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
		if (c == 'n') {
			if (cmd_time_arg("--now", optarg, &now) < 0)
				return EXIT_USAGE;
		} else if (c == 'e') {
			char *end;
			long long v = strtoll(optarg, &end, 10);
			if (end == optarg || *end || v < 1) {
				cmd_error("invalid --event '%s': not an event id", optarg);
				return EXIT_USAGE;
			}
			event_id = v;
		} else {
			return cmd_usage("alert", c == 'h');
		}
	}
	if (optind + 1 != argc)
		return cmd_usage("alert", 0);
	const char *name = argv[optind];
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	char *cause = NULL, *archive_id = NULL;
	struct db_sink row;
	struct alert_sink s;
	memset(&s, 0, sizeof s);
	struct db_event_copy f;
	memset(&f, 0, sizeof f);
	int r = db_sink_load(db, name, &row, &cause);
	if (r <= 0) {
		if (r == 0)
			cmd_error("no sink named '%s' (see 'starchive alert list')", name);
		else
			cmd_error("%s", cause);
		rc = EXIT_FATAL;
		goto out;
	}
	if (alert_sink_from_row(&row, &s, &cause) < 0 || db_archive_id(db, &archive_id, &cause) < 0) {
		cmd_error("%s", cause);
		rc = EXIT_FATAL;
		goto out;
	}
	if (event_id) {
		r = db_event_load(db, event_id, &f, &cause);
		if (r < 0) {
			cmd_error("%s", cause);
			rc = EXIT_FATAL;
			goto out;
		}
		if (r == 0) {
			cmd_error("no event %lld (see 'starchive events')", (long long)event_id);
			rc = EXIT_FATAL;
			goto out;
		}
	} else {
		/* the first type the sink takes, so that a test shows what it will get */
		const char *type = "postmortem.published";
		for (size_t i = 0; alert_event_types[i]; i++)
			if (alert_filter_wants_type(&s.filter, alert_event_types[i])) {
				type = alert_event_types[i];
				break;
			}
		f.ev.type = f.type = xstrdup(type);
		f.ev.vendor = f.vendor = xstrdup("example");
		f.ev.incident_key = f.incident_key = xstrdup("starchive-test");
		f.ev.created_at = now;
		f.ev.observed_at = now;
		f.ev.payload = f.payload = test_payload(now);
	}
	if (preview) {
		/* the key the event's real delivery carries */
		char *key = event_id ? alert_key(archive_id, event_id, s.id)
				     : xasprintf("starchive-%.16s-test-%lld", archive_id, (long long)now);
		char *body = alert_render(&s, &f.ev, key, now, &cause);
		free(key);
		if (!body) {
			cmd_error("%s", cause);
			rc = EXIT_FATAL;
			goto out;
		}
		fputs(body, stdout);
		if (*body && body[strlen(body) - 1] != '\n')
			putchar('\n');
		free(body);
		goto out;
	}
	/* a key of its own: a test is not the event's delivery and must not be dropped as its repeat */
	char *key = xasprintf("starchive-%.16s-test-%lld", archive_id, (long long)now);
	struct alert_outcome out;
	alert_deliver(&s, &f.ev, key, NULL, now, &out);
	if (out.result == ALERT_DELIVERED) {
		term_printf("sink %s: delivered %s (key %s)\n", name, f.ev.type, key);
	} else {
		char *e = term_clean(out.error ? out.error : "failed", 0);
		cmd_error("sink '%s': %s", name, e);
		free(e);
		rc = EXIT_FATAL;
	}
	free(key);
	alert_outcome_clear(&out);
	fetch_cleanup();
out:
	db_event_copy_clear(&f);
	free(archive_id);
	free(cause);
	db_sink_clear(&row);
	alert_sink_clear(&s);
	db_close(db);
	return cmd_finish(rc);
}

int cmd_alert(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage("alert", 0);
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h"))
		return cmd_usage("alert", 1);
	argc--;
	argv++;
	optind = 0;
	/* remove takes no options; the others read --help with the rest ("--arg -h" is a value) */
	for (int i = 1; i < argc && !strcmp(sub, "remove"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_usage("alert", 1);
	if (!strcmp(sub, "add"))
		return alert_add(argc, argv);
	if (!strcmp(sub, "list"))
		return alert_list(argc, argv);
	if (!strcmp(sub, "remove"))
		return alert_remove(argc, argv);
	if (!strcmp(sub, "test"))
		return alert_try(argc, argv, 0);
	if (!strcmp(sub, "preview"))
		return alert_try(argc, argv, 1);
	cmd_error("unknown alert command '%s' (add, list, remove, test, preview)", sub);
	return EXIT_USAGE;
}
