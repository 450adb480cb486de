/* cmd-show.c: starchive show: one incident as a person reads it (the layout of an aggregator page:
 * title, vendor, impact and state, the times, components, the numbered timeline, the postmortem). */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "normalize.h"
#include "term.h"
#include "util.h"

static void when(const struct rec_time *t, char *out, size_t n)
{
	if (!t->ok) {
		snprintf(out, n, "unknown");
		return;
	}
	int64_t y;
	int mo, d, h, mi, s;
	date_to_civil(t->t, &y, &mo, &d, &h, &mi, &s);
	snprintf(out, n, "%04lld-%02d-%02d %02d:%02d UTC", (long long)y, mo, d, h, mi);
}

static void when_t(int64_t t, char *out, size_t n)
{
	struct rec_time rt = { 1, t, NULL };
	when(&rt, out, n);
}

/* Print text indented, each line of it. */
static void indented(const char *text, const char *pad)
{
	if (!text || !*text) {
		term_printf("%s(no text)\n", pad);
		return;
	}
	const char *p = text;
	while (*p) {
		size_t n = strcspn(p, "\n");
		if (n)
			term_printf("%s%.*s\n", pad, (int)n, p);
		else
			putchar('\n');
		p += n;
		if (*p == '\n')
			p++;
	}
}

static void row(const char *label, const char *value)
{
	term_printf("%-11s %s\n", label, value);
}

static void show(const struct db_incident *inc)
{
	const struct rec_incident *r = &inc->rec;
	char buf[64];
	term_printf("%s\n", r->title ? r->title : "(untitled)");
	const char *state = r->status ? r->status : r->status_raw ? r->status_raw : "status unknown";
	term_printf("%s %s · %s impact · %s\n\n", inc->vendor, r->kind ? r->kind : "incident",
		    r->impact ? r->impact : "unknown", state);
	if (str_eq(r->kind, "maintenance") && r->scheduled_for.ok) {
		when(&r->scheduled_for, buf, sizeof buf);
		row("Scheduled", buf);
		if (r->scheduled_until.ok) {
			when(&r->scheduled_until, buf, sizeof buf);
			row("Until", buf);
		}
	}
	when(&r->started, buf, sizeof buf);
	row("Started", buf);
	if (r->resolved.ok) {
		when(&r->resolved, buf, sizeof buf);
		row("Resolved", buf);
	} else {
		row("Resolved", norm_status_is_closed(r->status) ? "unknown" : "not yet");
	}
	if (r->started.ok && r->resolved.ok && r->resolved.t >= r->started.t) {
		duration_format(r->resolved.t - r->started.t, buf, sizeof buf);
		row("Duration", buf);
	}
	when_t(inc->first_seen_at, buf, sizeof buf);
	row("First seen", buf);
	if (inc->has_vanished) {
		when_t(inc->vanished_at, buf, sizeof buf);
		term_printf("%-11s %s, from %s\n", "Vanished", buf, inc->vanished_from ? inc->vanished_from : "its source");
	}
	if (r->url)
		row("URL", r->url);
	if (r->source_url && !str_eq(r->source_url, r->url))
		row("Source", r->source_url);

	term_printf("\nAffected components\n");
	if (!r->n_components)
		term_printf("  (none listed)\n");
	for (size_t i = 0; i < r->n_components; i++) {
		const struct rec_component *c = &r->components[i];
		if (c->group)
			term_printf("  %s (%s)\n", c->name ? c->name : c->id, c->group);
		else
			term_printf("  %s\n", c->name ? c->name : c->id ? c->id : "?");
	}

	term_printf("\nUpdate timeline\n");
	if (!r->n_updates)
		term_printf("  (no updates)\n");
	for (size_t i = 0; i < r->n_updates; i++) {
		const struct rec_update *u = &r->updates[i];
		when(&u->at, buf, sizeof buf);
		const char *label = u->status ? u->status : u->status_raw ? u->status_raw : "update";
		term_printf("%s%3zu. %s  %s\n", i ? "\n" : "", i + 1, label, buf);
		if (str_eq(u->status, "postmortem") && r->postmortem && r->postmortem->body &&
		    str_eq(u->body, r->postmortem->body))
			term_printf("       (the postmortem, below)\n");
		else
			indented(u->body, "       ");
	}

	const struct rec_postmortem *pm = r->postmortem;
	if (pm) {
		term_printf("\nPostmortem\n");
		const struct rec_time *pt = &pm->published;
		struct rec_time seen = { 1, inc->has_pm_seen ? inc->pm_seen_at : 0, NULL };
		if (pt->ok) {
			when(pt, buf, sizeof buf);
			term_printf("  published %s", buf);
		} else if (inc->has_pm_seen) {
			when(&seen, buf, sizeof buf);
			term_printf("  known since %s", buf);
			pt = &seen;
		}
		/* the archive's first sight is a publication time only when it came after the incident's */
		int dated = pm->published.ok || (inc->has_pm_seen && inc->pm_seen_at > inc->first_seen_at);
		if (dated && r->resolved.ok && pt->t >= r->resolved.t) {
			char d[48];
			duration_format(pt->t - r->resolved.t, d, sizeof d);
			term_printf(", %s after resolution", d);
		}
		term_printf("\n\n");
		if (pm->body)
			indented(pm->body, "  ");
		else
			term_printf("  (the vendor marked a postmortem; its text is not in the archive yet)\n");
	}
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0;
	int c;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return cmd_usage("show", 1);
		default:
			return cmd_usage("show", 0);
		}
	}
	if (optind != argc - 2)
		return cmd_usage("show", 0);
	const char *vendor = argv[optind], *key = argv[optind + 1];
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	term_init();
	char *cause = NULL;
	int64_t id;
	struct db_incident inc = { 0 };
	if ((rc = cmd_find_incident(db, vendor, key, &id)) != EXIT_OK) {
		/* said */
	} else if (db_incident_load(db, id, &inc, &cause) < 0) {
		cmd_error("%s", cause);
		rc = EXIT_FATAL;
	} else if (json) {
		char *s = rec_incident_to_json(&inc.rec, 1);
		fputs(s, stdout);
		free(s);
	} else {
		show(&inc);
	}
	db_incident_clear(&inc);
	free(cause);
	db_close(db);
	return cmd_finish(rc);
}
