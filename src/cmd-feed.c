/* cmd-feed.c: starchive feed: the newest events (postmortems by default) as an Atom feed that a feed
 * reader can poll, replaced whole on disk so that it is never seen half written. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "atom.h"
#include "cmd.h"
#include "db.h"
#include "message.h"
#include "normalize.h"
#include "url.h"
#include "util.h"

#define FEED_LIMIT 100

/* An event kept for the feed: newest first is by creation time, then id. */
struct pick {
	int64_t at;
	int64_t id;
};

static int pick_older(const struct pick *a, const struct pick *b)
{
	return a->at != b->at ? a->at < b->at : a->id < b->id;
}

static int pick_cmp_newest(const void *x, const void *y)
{
	const struct pick *a = x, *b = y;
	return pick_older(a, b) ? 1 : pick_older(b, a) ? -1 : 0;
}

struct scan {
	const struct alert_filter *filter;
	int has_since;
	int64_t since;
	size_t limit;              /* 0: all */
	struct pick *picks;        /* with a limit, a min-heap of the newest seen so far */
	size_t n, alloc;
	int has_newest;
	int64_t newest;            /* the newest event of the archive, matching or not */
};

static void heap_down(struct pick *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && pick_older(&h[l], &h[m]))
			m = l;
		if (r < n && pick_older(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		struct pick t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_up(struct pick *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!pick_older(&h[i], &h[p]))
			return;
		struct pick t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static int scan_event(const struct db_event *ev, void *arg)
{
	struct scan *s = arg;
	if (!s->has_newest || ev->created_at > s->newest) {
		s->has_newest = 1;
		s->newest = ev->created_at;
	}
	if ((s->has_since && ev->created_at < s->since) || !alert_filter_match(s->filter, ev))
		return 0;
	struct pick p = { ev->created_at, ev->id };
	if (s->limit && s->n == s->limit) {
		if (pick_older(&p, &s->picks[0]))
			return 0;
		s->picks[0] = p;
		heap_down(s->picks, s->n, 0);
		return 0;
	}
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 64;
		s->picks = xreallocarray(s->picks, s->alloc, sizeof *s->picks);
	}
	s->picks[s->n++] = p;
	if (s->limit)
		heap_up(s->picks, s->n - 1);
	return 0;
}

struct emit {
	struct buf *out;
	const char *archive_id;
	char *cause;
};

/* One entry from one event. */
static int emit_entry(const struct db_event *ev, void *arg)
{
	struct emit *e = arg;
	struct message m;
	if (message_build(ev, 0, &m, &e->cause) < 0) {
		message_clear(&m);
		return -1;
	}
	char num[32], id[ATOM_UUID_URN_LEN];
	snprintf(num, sizeof num, "%lld", (long long)ev->id);
	const char *parts[] = { "starchive event", e->archive_id, num };
	atom_uuid_urn(parts, ARRAY_SIZE(parts), id);
	struct atom_category cats[] = {
		{ ev->type, m.headline },
		{ ev->vendor, NULL },
	};
	struct atom_entry a = {
		.id = id,
		.title = m.subject,
		.updated = ev->created_at,
		.has_published = 1,
		/* when the vendor says it happened (a backfilled 2019 postmortem is not from today) */
		.published = alert_event_time(ev),
		.author = m.vendor_name,
		.link = m.url && url_is_http(m.url) ? m.url : NULL,
		.categories = cats,
		.n_categories = ARRAY_SIZE(cats),
		.content = m.text,
	};
	int rc = atom_feed_entry(e->out, &a);
	message_clear(&m);
	if (rc < 0)
		return set_cause(&e->cause, "the feed is too large");
	return 0;
}

/* Write data to path whole or not at all: a temporary file beside it, synced, renamed over it. */
static int write_replace(const char *path, const char *data, size_t len, char **cause)
{
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		set_cause(cause, "cannot write '%s': %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	/* a feed replaced keeps the permissions it was given */
	struct stat sb;
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		(void)fchmod(fd, sb.st_mode & 07777);
	size_t off = 0;
	int err = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err) {
		unlink(tmp);
		free(tmp);
		return set_cause(cause, "cannot write '%s': %s", path, strerror(err));
	}
	free(tmp);
	/* the rename itself reaches the disk with the folder (best effort: not every system allows it) */
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The feed's identity: the types it selects (expanded, in table order), its vendors (sorted) and
 * its lowest impact. The window (--since, --limit) and the presentation (--title, --self) are not
 * part of it. */
static void feed_id(const char *archive_id, const struct alert_filter *f, char out[ATOM_UUID_URN_LEN])
{
	struct buf types = BUF_INIT, vendors = BUF_INIT;
	buf_adds(&types, "");
	buf_adds(&vendors, "");
	for (size_t i = 0; alert_event_types[i]; i++) {
		struct db_event ev = { .type = alert_event_types[i], .vendor = "" };
		struct alert_filter t = *f;
		t.n_vendors = 0;
		t.min_impact = -1;
		if (alert_filter_match(&t, &ev))
			buf_addf(&types, "%s%s", types.len ? "," : "", alert_event_types[i]);
	}
	char **v = xreallocarray(NULL, f->n_vendors + 1, sizeof *v);
	for (size_t i = 0; i < f->n_vendors; i++)
		v[i] = f->vendors[i];
	qsort(v, f->n_vendors, sizeof *v, str_cmp);
	for (size_t i = 0; i < f->n_vendors; i++)
		buf_addf(&vendors, "%s%s", i ? "," : "", v[i]);
	free(v);
	char impact[16];
	snprintf(impact, sizeof impact, "%d", f->min_impact);
	const char *parts[] = { "starchive feed", archive_id, types.data, vendors.data, impact };
	atom_uuid_urn(parts, ARRAY_SIZE(parts), out);
	buf_release(&types);
	buf_release(&vendors);
}

/* "starchive: postmortems", "starchive: all events from dracoon", "starchive: incident.*, ..." */
static char *feed_title(const struct alert_filter *f)
{
	size_t all = 0, matched = 0, pm = 0;
	for (; alert_event_types[all]; all++) {
		struct db_event ev = { .type = alert_event_types[all], .vendor = "" };
		struct alert_filter t = *f;
		t.n_vendors = 0;
		t.min_impact = -1;
		if (alert_filter_match(&t, &ev)) {
			matched++;
			pm += str_starts(alert_event_types[all], "postmortem.");
		}
	}
	struct buf b = BUF_INIT;
	buf_adds(&b, "starchive: ");
	if (matched == all) {
		buf_adds(&b, "all events");
	} else if (matched == pm) {
		buf_adds(&b, "postmortems");
	} else {
		for (size_t i = 0; i < f->n_types; i++) {
			const char *t = f->types[i];
			buf_addf(&b, "%s%s%s", i ? ", " : "", t, str_ends(t, ".") ? "*" : "");
		}
	}
	for (size_t i = 0; i < f->n_vendors; i++)
		buf_addf(&b, "%s%s", i ? ", " : " from ", f->vendors[i]);
	return buf_detach(&b);
}

/* Replace each vendor the filter names by its name in the archive; an unknown one is misuse. */
static int canonical_vendors(struct db *db, struct alert_filter *f)
{
	for (size_t i = 0; i < f->n_vendors; i++) {
		struct db_vendor v;
		char *cause = NULL;
		int r = db_vendor_load(db, f->vendors[i], &v, &cause);
		if (r < 0) {
			db_vendor_clear(&v);
			cmd_error("%s", cause);
			free(cause);
			return r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		}
		if (r == 0) {
			db_vendor_clear(&v);
			cmd_error("unknown vendor '%s' (not in the archive; see 'starchive vendor list --all')",
				  f->vendors[i]);
			return EXIT_USAGE;
		}
		free(f->vendors[i]);
		f->vendors[i] = v.name;
		v.name = NULL;
		db_vendor_clear(&v);
	}
	/* "a,A" named one vendor twice */
	size_t n = 0;
	for (size_t i = 0; i < f->n_vendors; i++) {
		size_t j = 0;
		while (j < n && strcmp(f->vendors[j], f->vendors[i]) != 0)
			j++;
		if (j < n)
			free(f->vendors[i]);
		else
			f->vendors[n++] = f->vendors[i];
	}
	f->n_vendors = n;
	return EXIT_OK;
}

struct opts {
	const char *out;
	const char *since;
	int has_since;
	int64_t since_at;
	const char *title;
	const char *self;
	size_t limit;
	int has_now;
	int64_t now;
};

static int run(struct opts *o, struct alert_filter *f)
{
	struct db *db;
	int rc = cmd_open_archive(0, &db, NULL);
	if (rc != EXIT_OK)
		return rc;
	char *cause = NULL, *archive_id = NULL, *title = NULL;
	struct scan s = { .filter = f, .has_since = o->has_since, .since = o->since_at, .limit = o->limit };
	struct buf out = BUF_INIT;
	if ((rc = canonical_vendors(db, f)) != EXIT_OK)
		goto done;
	struct db_event_filter all = { 0 };
	int r = db_archive_id(db, &archive_id, &cause);
	if (r == 0)
		r = db_events_each(db, &all, scan_event, &s, &cause);
	if (r < 0) {
		cmd_error("%s", cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		goto done;
	}
	if (s.n)
		qsort(s.picks, s.n, sizeof *s.picks, pick_cmp_newest);

	char id[ATOM_UUID_URN_LEN];
	feed_id(archive_id, f, id);
	title = o->title ? xstrdup(o->title) : feed_title(f);
	struct atom_feed head = {
		.id = id,
		.title = title,
		/* an empty feed still says when the archive last changed */
		.updated = s.n ? s.picks[0].at : s.has_newest ? s.newest : o->has_now ? o->now : (int64_t)time(NULL),
		.author = "starchive",
		.generator = "starchive",
		.generator_version = PACKAGE_VERSION,
		.self = o->self,
	};
	atom_feed_begin(&out, &head);
	struct emit e = { &out, archive_id, NULL };
	for (size_t i = 0; i < s.n; i++) {
		struct db_event_filter one = { .id = s.picks[i].id };
		if ((r = db_events_each(db, &one, emit_entry, &e, &e.cause)) != 0)
			break;
	}
	if (r != 0) {
		cmd_error("%s", e.cause ? e.cause : "cannot read events");
		free(e.cause);
		rc = r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
		goto done;
	}
	atom_feed_end(&out);
	if (str_eq(o->out, "-")) {
		fwrite(out.data, 1, out.len, stdout);
		rc = cmd_finish(EXIT_OK);
	} else if (write_replace(o->out, out.data, out.len, &cause) < 0) {
		cmd_error("%s", cause);
		rc = EXIT_FATAL;
	}
done:
	free(cause);
	free(archive_id);
	free(title);
	free(s.picks);
	buf_release(&out);
	db_close(db);
	return rc;
}

int cmd_feed(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "type", required_argument, NULL, 't' },
		{ "vendor", required_argument, NULL, 'v' },
		{ "min-impact", required_argument, NULL, 'i' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "title", required_argument, NULL, 'T' },
		{ "self", required_argument, NULL, 'S' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .limit = FEED_LIMIT };
	struct alert_filter f;
	alert_filter_init(&f);
	char *cause = NULL;
	int rc = EXIT_USAGE, c;
	while ((c = getopt_long(argc, argv, "o:t:v:s:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case 't':
			if (alert_filter_types(&f, optarg, &cause) < 0) {
				cmd_error("invalid --type: %s", cause);
				goto out;
			}
			break;
		case 'v':
			if (alert_filter_vendors(&f, optarg, &cause) < 0) {
				cmd_error("invalid --vendor: %s", cause);
				goto out;
			}
			break;
		case 'i':
			if (alert_filter_impact(&f, optarg, &cause) < 0) {
				cmd_error("invalid --min-impact: %s", cause);
				goto out;
			}
			break;
		case 's':
			o.since = optarg;
			break;
		case 'n': {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (end == optarg || *end || v < 0 || errno) {
				cmd_error("invalid --limit '%s': not a number of entries", optarg);
				goto out;
			}
			o.limit = (size_t)v;
			break;
		}
		case 'T':
			o.title = optarg;
			break;
		case 'S':
			if (!url_is_http(optarg)) {
				cmd_error("invalid --self '%s': not an absolute http or https URL", optarg);
				goto out;
			}
			o.self = optarg;
			break;
		case 'N':
			if (cmd_time_arg("--now", optarg, &o.now) < 0)
				goto out;
			o.has_now = 1;
			break;
		case 'h':
			rc = cmd_usage("feed", 1);
			goto out;
		default:
			rc = cmd_usage("feed", 0);
			goto out;
		}
	}
	if (optind != argc || !o.out) {
		if (!o.out && optind == argc)
			cmd_error("feed needs --out FILE ('-' for standard output)");
		rc = cmd_usage("feed", 0);
		goto out;
	}
	if (!*o.out) {
		cmd_error("invalid --out '': an empty file name");
		goto out;
	}
	if (o.since) {
		/* a time, or how long ago ("36h", "7 days") */
		if (date_parse(o.since, NULL, &o.since_at, &cause) < 0) {
			int64_t ago = duration_parse(o.since);
			if (ago < 0) {
				cmd_error("invalid --since '%s': %s", o.since, cause);
				goto out;
			}
			o.since_at = (o.has_now ? o.now : (int64_t)time(NULL)) - ago;
		}
		o.has_since = 1;
		free(cause);
		cause = NULL;
	}
	if (f.n_types == 0 && alert_filter_types(&f, ALERT_DEFAULT_TYPES, &cause) < 0) {
		cmd_error("%s", cause);
		rc = EXIT_FATAL;
		goto out;
	}
	rc = run(&o, &f);
out:
	free(cause);
	alert_filter_clear(&f);
	return rc;
}
