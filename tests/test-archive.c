/* test-archive.c: the archive's pure parts (reader-visible text, line diffs, key normalization,
 * terminal cleaning, the merge rules) and the db module (migrations, documents, refusal of a newer
 * schema). With "--check DB" it prints the archive's integrity report instead (tests/archive-case.sh
 * runs it after every step); with "--sql DB QUERY" it prints the rows of a query, '|' between columns. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "db.h"
#include "diff.h"
#include "normalize.h"
#include "record.h"
#include "sha256.h"
#include "term.h"
#include "unit.h"
#include "util.h"

static void check_reader(const char *in, const char *want)
{
	char *got = diff_reader_text(in);
	CHECK_STR(got, want);
	free(got);
}

static void check_norm(const char *in, const char *want)
{
	char *got = archive_key_norm(in);
	CHECK_STR(got, want);
	free(got);
}

static void check_term(const char *in, const char *want)
{
	char *got = term_clean(in, 1);
	CHECK_STR(got, want);
	free(got);
}

static void check_diff(const char *a, const char *b, const char *want)
{
	char *got = diff_lines(a, b, 1);
	CHECK_STR(got, want);
	free(got);
}

static struct rec_update *add_update(struct rec_incident *inc, const char *id, const char *status, int64_t at,
				     const char *body)
{
	struct rec_update *u = rec_incident_add_update(inc);
	rec_set(&u->id, id);
	rec_set(&u->status, status);
	rec_set(&u->status_raw, status);
	if (at)
		rec_time_set(&u->at, at, NULL);
	rec_set(&u->body, body);
	return u;
}

static void base(struct rec_incident *inc, const char *title)
{
	memset(inc, 0, sizeof *inc);
	rec_set(&inc->id, "0rq8l2yb1v9s");
	rec_set(&inc->title, title);
	rec_set(&inc->impact, "major");
}

#define T0 1737030218 /* 2025-01-16T12:23:38Z */

static void test_merge(void)
{
	struct rec_incident s, o, m;
	struct archive_merge_info mi;

	/* the API's full timeline, then a feed that shows only the newest update, in minutes, labelled
	 * "Update", with its text marked up differently: nothing is lost, nothing is new */
	base(&s, "Partial Outage of the API");
	add_update(&s, "hb6m0s2kq8wz", "investigating", T0 + 3, "We are investigating elevated error rates.");
	add_update(&s, "v1q7c4n9rj2e", "identified", T0 + 5139, "The cause has been identified: a database node.");
	rec_set(&s.status, "identified");
	rec_incident_finish(&s);
	base(&o, "Partial  Outage of the API");
	add_update(&o, NULL, "update", T0 + 5100, "The cause has been identified:\n a database&nbsp;node.");
	rec_set(&o.status, "identified");
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK(m.n_updates == 2, "a partial view keeps every update (%zu)", m.n_updates);
	CHECK(mi.origin[0] == 0 && mi.origin[1] == 1, "both updates matched");
	CHECK(!mi.old_body[1], "markup and whitespace are no edit");
	CHECK_STR(m.updates[1].status, "identified");
	CHECK(m.updates[1].at.t == T0 + 5139, "the API's exact time stays");
	CHECK_STR(m.title, "Partial Outage of the API");
	char *a = rec_incident_to_json(&s, 0), *b = rec_incident_to_json(&m, 0);
	CHECK_STR(b, a);
	free(a);
	free(b);
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	rec_incident_clear(&o);

	/* an older view never overwrites: its title stays out, its unknown update fills a gap */
	base(&o, "Elevated errors");
	add_update(&o, NULL, "investigating", T0 + 3, "We are investigating elevated error rates.");
	add_update(&o, NULL, "update", T0 + 60, "Still investigating.");
	archive_merge(&s, &o, 0, &m, &mi);
	CHECK_STR(m.title, "Partial Outage of the API");
	CHECK(m.n_updates == 3 && mi.origin[1] == -1, "the gap is filled in time order");
	CHECK_STR(m.updates[1].body, "Still investigating.");
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);

	/* a newer view with the same update ids edits a text and renames the incident */
	rec_incident_clear(&o);
	base(&o, "Partial Outage of API group 03");
	add_update(&o, "v1q7c4n9rj2e", "identified", T0 + 5139, "The cause has been identified: a connection pool limit.");
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK_STR(m.title, "Partial Outage of API group 03");
	CHECK(m.n_updates == 2 && mi.old_body[1] && !mi.old_body[0], "update 2 edited");
	CHECK_STR(mi.old_body[1], "The cause has been identified: a database node.");
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	rec_incident_clear(&o);

	/* an excerpt (an index page's message) is no edit, and a whole text replaces an excerpt */
	base(&o, NULL);
	add_update(&o, NULL, "identified", T0 + 5139, "The cause has been identified: a dat...");
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK(m.n_updates == 2 && !mi.old_body[1], "an excerpt matches and changes nothing");
	CHECK_STR(m.updates[1].body, "The cause has been identified: a database node.");
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	rec_incident_clear(&o);

	/* postmortem: known without text, then its text (one "filled"), then a revision (one "changed") */
	rec_set(&s.status, "postmortem");
	s.postmortem = xcalloc(1, sizeof *s.postmortem);
	base(&o, NULL);
	rec_set(&o.status, "resolved");
	o.postmortem = xcalloc(1, sizeof *o.postmortem);
	rec_set(&o.postmortem->body, "What happened?\nThe pool ran dry.");
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK(mi.pm_filled && !mi.pm_published && !mi.pm_changed, "a text for a known postmortem is a fill");
	CHECK_STR(m.status, "postmortem");
	rec_incident_clear(&s);
	s = m;
	memset(&m, 0, sizeof m);
	archive_merge_info_clear(&mi);
	rec_set(&o.postmortem->body, "What happened?\nThe pool ran dry.\nWhat will we improve?\nLoad tests.");
	archive_merge(&s, &o, 0, &m, &mi);
	CHECK(!mi.pm_changed, "an older view does not change the postmortem");
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK(mi.pm_changed && !mi.pm_filled, "a newer text is a change");
	CHECK_STR(mi.pm_old, "What happened?\nThe pool ran dry.");
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	rec_incident_clear(&o);
	rec_incident_clear(&s);

	/* components: the page's names fill in ids, and their state at one moment is not kept */
	base(&s, "A");
	struct rec_component *c = rec_incident_add_component(&s);
	rec_set(&c->id, "c3lh7q2m9x0t");
	rec_set(&c->name, "API (group 03)");
	base(&o, "A");
	c = rec_incident_add_component(&o);
	rec_set(&c->name, "api (Group 03)");
	rec_set(&c->status, "major_outage");
	archive_merge(&s, &o, 1, &m, &mi);
	CHECK(m.n_components == 1, "one component");
	CHECK_STR(m.components[0].id, "c3lh7q2m9x0t");
	CHECK_STR(m.components[0].status, NULL);
	rec_incident_clear(&m);
	archive_merge_info_clear(&mi);
	rec_incident_clear(&o);
	rec_incident_clear(&s);
}

static int count_rows(int n, const char *const *cols, void *arg)
{
	(void)n;
	(void)cols;
	(*(int *)arg)++;
	return 0;
}

static void test_db(void)
{
	char dir[] = "/tmp/starchive-test-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	char *path = xasprintf("%s/sub/dir/archive.db", dir);
	char *cause = NULL;
	struct db *db;
	CHECK(db_open(path, DB_OPEN_EXISTING, &db, &cause) < 0, "a missing archive is not created");
	CHECK(cause && strstr(cause, "starchive init"), "and the message says what to do: %s", cause);
	free(cause);
	cause = NULL;
	CHECK(db_open(path, DB_OPEN_CREATE, &db, &cause) == 0, "create: %s", cause ? cause : "");
	if (!db)
		goto out;
	CHECK(db_schema_version(db) == db_schema_latest(), "migrated to the latest version");
	CHECK(db_migrations_applied(db) == db_schema_latest(), "every migration applied once");

	/* a document goes in compressed and comes back byte for byte */
	struct buf page = BUF_INIT;
	for (int i = 0; i < 200; i++)
		buf_addf(&page, "{\"id\":\"%04d\",\"name\":\"Partial Outage of the API\"},\n", i);
	char hex[SHA256_HEX_LEN];
	sha256_hex(page.data, page.len, hex);
	int64_t vid = 0, doc = 0, again = 0;
	struct db_source src;
	CHECK(db_begin(db, &cause) == 0, "begin");
	CHECK(db_vendor_id(db, "dracoon", 1, T0, &vid, &cause) == 1, "vendor");
	CHECK(db_source_get(db, vid, "statuspage-json", NULL, 1, T0, &src, &cause) == 1, "source");
	struct db_document d = { 0 };
	d.source_id = src.id;
	d.sha256 = hex;
	d.data = page.data;
	d.len = page.len;
	d.kind = "statuspage-json";
	d.fetched_at = d.ingested_at = T0;
	CHECK(db_document_add(db, &d, &doc, &cause) == 0, "add a document: %s", cause ? cause : "");
	CHECK(db_commit(db, &cause) == 0, "commit");
	CHECK(db_document_known(db, src.id, hex, &again, &cause) == 1 && again == doc, "known by digest");
	int rows = 0;
	CHECK(db_query(db, "SELECT 1 FROM blobs WHERE encoding = 'zlib' AND length(data) < size", count_rows, &rows,
		       &cause) == 0 && rows == 1, "stored compressed");
	struct buf back;
	buf_init(&back, 0);
	char *kind = NULL;
	CHECK(db_document_read(db, doc, &back, &kind, NULL, &cause) == 0, "read back: %s", cause ? cause : "");
	CHECK(back.len == page.len && memcmp(back.data, page.data, page.len) == 0, "same bytes");
	CHECK_STR(kind, "statuspage-json");
	free(kind);
	buf_release(&back);
	buf_release(&page);
	char *report = db_check(db, &cause);
	CHECK_STR(report, "ok");
	free(report);

	/* an archive from a newer starchive is refused, not "upgraded" */
	rows = 0;
	CHECK(db_query(db, "PRAGMA user_version = 999", count_rows, &rows, &cause) == 0, "set a future version");
	db_close(db);
	db = NULL;
	CHECK(db_open(path, DB_OPEN_EXISTING, &db, &cause) < 0, "a newer schema is refused");
	CHECK(cause && strstr(cause, "newer than this starchive"), "%s", cause ? cause : "");
	db_close(db);
out:
	free(cause);
	char *rm = xasprintf("rm -rf '%s'", dir);
	CHECK(system(rm) == 0, "clean up");
	free(rm);
	free(path);
}

static int print_row(int n, const char *const *cols, void *arg)
{
	(void)arg;
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? "|" : "", cols[i] ? cols[i] : "");
	putchar('\n');
	return 0;
}

static int tool(int argc, char **argv)
{
	struct db *db;
	char *cause = NULL;
	if (db_open(argv[2], DB_OPEN_EXISTING, &db, &cause) < 0) {
		fprintf(stderr, "test-archive: %s\n", cause);
		free(cause);
		return 1;
	}
	int rc = 0;
	if (strcmp(argv[1], "--check") == 0) {
		char *r = db_check(db, &cause);
		printf("%s\n", r ? r : cause);
		rc = !r || strcmp(r, "ok") != 0;
		free(r);
	} else if (argc > 3 && db_query(db, argv[3], print_row, NULL, &cause) < 0) {
		fprintf(stderr, "test-archive: %s\n", cause);
		rc = 1;
	}
	free(cause);
	db_close(db);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && (strcmp(argv[1], "--check") == 0 || strcmp(argv[1], "--sql") == 0))
		return tool(argc, argv);

	check_reader("  We are\n investigating&nbsp;the\xc2\xa0issue.  ", "We are investigating the issue.");
	check_reader("## What happened?\n* The **pool** ran `dry`.\n1. See [the report](https://x.example/r).",
		     "What happened? The pool ran dry. See the report.");
	check_reader("snake_case stays", "snake_case stays");
	check_reader(NULL, "");
	CHECK(diff_same_text("Q&amp;A is back", "Q&A is back"), "entities change nothing");
	CHECK(!diff_same_text("API group 03", "API group 04"), "a digit does");
	CHECK(diff_is_truncation("The cause has been identif...", "The cause has been identified."), "excerpt");
	CHECK(diff_is_truncation("The cause has been\xe2\x80\xa6", "The cause has been identified."), "ellipsis");
	CHECK(!diff_is_truncation("The cause has been identified.", "The cause has been identified."), "same");
	CHECK(diff_is_prefix("This incident has been resolved.", "This incident has been resolved. We will publish"),
	      "a summary begins the update");
	CHECK(diff_is_prefix("We are investigating", "We are investigating reports of errors"), "ends at a word");
	CHECK(!diff_is_prefix("We are investiga", "We are investigating reports"), "not inside a word");
	CHECK(!diff_is_prefix("Resolved.", "Resolved. All good"), "too short to say");
	CHECK(!diff_is_prefix("This incident has been resolved.", "This incident has been resolved."), "same is not a prefix");

	check_diff("a\nb\nc\nd\ne\n", "a\nb\nC\nd\ne\n", "@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n");
	check_diff("a\n", "a\nb", "@@ -1 +1,2 @@\n a\n+b\n");
	check_diff(NULL, "x", "@@ -0,0 +1 @@\n+x\n");
	check_diff("same\ntext", "same\ntext\n", "");
	check_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n2\n3\n4\n5\n6\n7\n9\n",
		   "@@ -1,2 +1,2 @@\n-1\n+0\n 2\n@@ -7,2 +7,2 @@\n 7\n-8\n+9\n");
	size_t rm, add;
	diff_count("a\nb\nc", "a\nc\nd\ne", &rm, &add);
	CHECK(rm == 1 && add == 2, "counted -%zu +%zu", rm, add);

	check_norm("HTTP://Status.Dracoon.com/incidents/0rq8l2yb1v9s/", "https://status.dracoon.com/incidents/0rq8l2yb1v9s");
	check_norm("https://status.dracoon.com/incidents/0rq8l2yb1v9s#update-3",
		   "https://status.dracoon.com/incidents/0rq8l2yb1v9s");
	check_norm("0rq8l2yb1v9s", NULL);
	check_norm("tag:status.example.com,2005:Incident/1234", NULL);

	check_term("plain \xe2\x80\x94 text\n\tnext", "plain \xe2\x80\x94 text\n\tnext");
	check_term("a\x1b[2J\x1b[1;31mred\x1b[0m b", "ared b");
	check_term("title\x1b]0;owned\x07 after", "title after");
	check_term("osc\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ end", "osclink end");
	check_term("c1\xc2\x9b""31mx\xc2\x85y", "c1xy");
	check_term("bidi \xe2\x80\xae" "evil\xe2\x80\xac \xe2\x81\xa6" "x\xe2\x81\xa9", "bidi evil x");
	check_term("bell\x07 del\x7f back\bspace\rcr", "bell del backspacecr");

	test_merge();
	test_db();
	return unit_summary();
}
