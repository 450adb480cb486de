/* alert.c: sinks and their filters, checks and deliveries. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "db.h"
#include "fetch.h"
#include "message.h"
#include "normalize.h"
#include "url.h"
#include "util.h"

extern char **environ;

const char *const alert_event_types[] = {
	"incident.new",
	"incident.changed",
	"incident.resolved",
	"incident.reopened",
	"incident.vanished",
	"update.new",
	"update.edited",
	"postmortem.published",
	"postmortem.changed",
	"source.broken",
	"source.recovered",
	NULL,
};

/* The impact scale, lowest first; maintenance ranks with none. */
static const char *const impact_scale[] = { "none", "minor", "major", "critical" };

static int impact_rank(const char *s)
{
	if (str_eq(s, "maintenance"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(impact_scale); i++)
		if (str_eq(s, impact_scale[i]))
			return (int)i;
	return -1;
}

/* ---- filters ---- */

void alert_filter_init(struct alert_filter *f)
{
	memset(f, 0, sizeof *f);
	f->min_impact = -1;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void alert_filter_clear(struct alert_filter *f)
{
	free_list(f->types, f->n_types);
	free_list(f->vendors, f->n_vendors);
	alert_filter_init(f);
}

static void push(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (str_eq((*v)[i], s))
			return;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

/* Call fn for each trimmed, non-empty item of a comma list. */
static int each_item(const char *list, int (*fn)(const char *item, void *arg, char **cause), void *arg,
		     char **cause)
{
	const char *p = list;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			char *item = xstrndup(p, n);
			int rc = fn(item, arg, cause);
			free(item);
			if (rc < 0)
				return rc;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static int known_type(const char *t)
{
	for (size_t i = 0; alert_event_types[i]; i++)
		if (str_eq(t, alert_event_types[i]) ||
		    (str_ends(t, ".") && str_starts(alert_event_types[i], t)))
			return 1;
	return 0;
}

static int add_type(const char *item, void *arg, char **cause)
{
	struct alert_filter *f = arg;
	if (str_eq(item, "all") || str_eq(item, "*")) {
		f->all = 1;
		for (size_t i = 0; alert_event_types[i]; i++)
			push(&f->types, &f->n_types, alert_event_types[i]);
		return 0;
	}
	if (!known_type(item)) {
		char *known = alert_join((char *const *)alert_event_types, ARRAY_SIZE(alert_event_types) - 1);
		set_cause(cause, "unknown event type '%s' (known: %s, a prefix such as 'incident.', or all)", item, known);
		free(known);
		return -1;
	}
	push(&f->types, &f->n_types, item);
	return 0;
}

int alert_filter_types(struct alert_filter *f, const char *list, char **cause)
{
	size_t before = f->n_types;
	if (each_item(list, add_type, f, cause) < 0)
		return -1;
	if (f->n_types == before && !*list)
		return set_cause(cause, "an empty list of event types");
	return 0;
}

static int add_vendor(const char *item, void *arg, char **cause)
{
	struct alert_filter *f = arg;
	for (const char *c = item; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == ' ')
			return set_cause(cause, "invalid vendor name '%s'", item);
	push(&f->vendors, &f->n_vendors, item);
	return 0;
}

int alert_filter_vendors(struct alert_filter *f, const char *list, char **cause)
{
	return each_item(list, add_vendor, f, cause);
}

int alert_filter_impact(struct alert_filter *f, const char *name, char **cause)
{
	int r = impact_rank(name);
	if (r < 0 || str_eq(name, "maintenance"))
		return set_cause(cause, "unknown impact '%s' (known: none, minor, major, critical)", name);
	f->min_impact = r;
	return 0;
}

static int type_match(const char *pattern, const char *type)
{
	return str_ends(pattern, ".") ? str_starts(type, pattern) : str_eq(pattern, type);
}

int alert_filter_wants_type(const struct alert_filter *f, const char *type)
{
	int ok = f->n_types == 0 || f->all;
	for (size_t i = 0; !ok && i < f->n_types; i++)
		ok = type_match(f->types[i], type);
	return ok;
}

int alert_filter_match(const struct alert_filter *f, const struct db_event *ev)
{
	int ok;
	if (!alert_filter_wants_type(f, ev->type))
		return 0;
	if (f->n_vendors) {
		ok = 0;
		for (size_t i = 0; !ok && i < f->n_vendors; i++)
			ok = strcasecmp(f->vendors[i], ev->vendor) == 0;
		if (!ok)
			return 0;
	}
	if (f->min_impact < 0)
		return 1;
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	json_t *imp = json_object_get(p, "impact");
	int r = json_is_string(imp) ? impact_rank(json_string_value(imp)) : -1;
	json_decref(p);
	return r >= f->min_impact;
}

char *alert_join(char *const *v, size_t n)
{
	if (!n)
		return NULL;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? "," : "", v[i]);
	return buf_detach(&b);
}

/* ---- sinks ---- */

static const char *const kind_names[] = { "program", "webhook", "file", "email" };
static const char *const format_names[] = { "json", "slack", "teams" };

const char *alert_kind_name(enum alert_kind k)
{
	return kind_names[k];
}

const char *alert_format_name(enum alert_format f)
{
	return format_names[f];
}

enum alert_format alert_format_for_url(const char *url)
{
	char *host = url_host(url);
	enum alert_format f = ALERT_FORMAT_JSON;
	if (host && str_eq(host, "hooks.slack.com"))
		f = ALERT_FORMAT_SLACK;
	else if (host && (str_ends(host, ".webhook.office.com") || str_ends(host, ".logic.azure.com") ||
			  str_ends(host, ".api.powerplatform.com")))
		f = ALERT_FORMAT_TEAMS;
	free(host);
	return f;
}

void alert_sink_clear(struct alert_sink *s)
{
	free(s->name);
	free(s->target);
	free_list(s->args, s->n_args);
	free_list(s->headers, s->n_headers);
	free_list(s->to, s->n_to);
	free(s->from);
	free(s->sendmail);
	alert_filter_clear(&s->filter);
	memset(s, 0, sizeof *s);
	alert_filter_init(&s->filter);
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* name made absolute against the working folder, symbolic links kept (a virtualenv's python and
 * busybox's applets are what their path says). */
static char *absolute(const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	char *cwd = getcwd(NULL, 0);
	char *abs = xasprintf("%s/%s", cwd ? cwd : ".", str_starts(name, "./") ? name + 2 : name);
	free(cwd);
	return abs;
}

/* The absolute path of an executable: as given when it has a '/', else the first in $PATH (cron
 * runs with a short $PATH, so the path found now is the one kept). */
static char *find_program(const char *name, char **cause)
{
	if (strchr(name, '/')) {
		char *abs = absolute(name);
		struct stat st;
		if (stat(abs, &st) != 0) {
			set_cause(cause, "cannot find program '%s': %s", name, strerror(errno));
			free(abs);
			return NULL;
		}
		if (!executable(abs)) {
			set_cause(cause, "program '%s' is not an executable file", name);
			free(abs);
			return NULL;
		}
		return abs;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	const char *p = path;
	while (1) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *cand = n ? xasprintf("%.*s/%s", (int)n, p, name) : xstrdup(name);
		if (executable(cand)) {
			char *abs = absolute(cand);
			free(cand);
			return abs;
		}
		free(cand);
		if (!e)
			break;
		p = e + 1;
	}
	set_cause(cause, "cannot find program '%s' in $PATH (give its full path)", name);
	return NULL;
}

/* A simple check of an address: local@domain, printable, no spaces, commas or angle brackets. */
static int address_ok(const char *a)
{
	const char *at = strrchr(a, '@');
	if (!at || at == a || !at[1] || strlen(a) > 254)
		return 0;
	for (const char *c = a; *c; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("<>,;()[]\\\"", *c))
			return 0;
	return strchr(at + 1, '.') != NULL || str_eq(at + 1, "localhost");
}

static const char *const sendmail_paths[] = { "/usr/sbin/sendmail", "/usr/lib/sendmail" };

static int check_file(struct alert_sink *s, char **cause)
{
	char *t = s->target;
	char *slash = strrchr(t, '/');
	char *dir = slash ? (slash == t ? xstrdup("/") : xstrndup(t, (size_t)(slash - t))) : xstrdup(".");
	const char *base = slash ? slash + 1 : t;
	if (!*base) {
		free(dir);
		return set_cause(cause, "file '%s' names a folder, not a file", t);
	}
	char *absdir = realpath(dir, NULL);
	if (!absdir) {
		set_cause(cause, "cannot use file '%s': folder '%s': %s", t, dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	char *abs = xasprintf("%s%s%s", absdir, str_eq(absdir, "/") ? "" : "/", base);
	free(absdir);
	struct stat st;
	if (stat(abs, &st) == 0 && !S_ISREG(st.st_mode)) {
		set_cause(cause, "file '%s' is not a regular file", t);
		free(abs);
		return -1;
	}
	int existed = stat(abs, &st) == 0;
	int fd = open(abs, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		set_cause(cause, "cannot append to file '%s': %s", t, strerror(errno));
		free(abs);
		return -1;
	}
	close(fd);
	if (!existed)
		unlink(abs);
	free(s->target);
	s->target = abs;
	return 0;
}

int alert_sink_check(struct alert_sink *s, char **cause)
{
	if (!s->name || !*s->name || strlen(s->name) > 64)
		return set_cause(cause, "a sink name is 1 to 64 characters");
	for (const char *c = s->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '_' || *c == '.'))
			return set_cause(cause, "invalid sink name '%s': use letters, digits, '-', '_' and '.'", s->name);
	if (s->timeout < 1 || s->timeout > ALERT_TIMEOUT_MAX)
		return set_cause(cause, "invalid timeout %d: want 1 to %d seconds", s->timeout, ALERT_TIMEOUT_MAX);
	if (!s->target || !*s->target)
		return set_cause(cause, "sink '%s' has no target", s->name);
	if (has_ctl(s->target))
		return set_cause(cause, "the target of sink '%s' contains control characters", s->name);
	switch (s->kind) {
	case ALERT_PROGRAM: {
		char *abs = find_program(s->target, cause);
		if (!abs)
			return -1;
		free(s->target);
		s->target = abs;
		for (size_t i = 0; i < s->n_args; i++)
			if (strchr(s->args[i], '\n'))
				return set_cause(cause, "argument %zu of the program contains a newline", i + 1);
		break;
	}
	case ALERT_WEBHOOK: {
		if (!url_is_http(s->target))
			return set_cause(cause, "invalid webhook URL '%s': want an absolute http:// or https:// URL",
					 s->target);
		char *host = url_host(s->target);
		int bad = !host || !*host;
		free(host);
		if (bad || strchr(s->target, ' '))
			return set_cause(cause, "invalid webhook URL '%s'", s->target);
		for (size_t i = 0; i < s->n_headers; i++) {
			const char *h = s->headers[i], *colon = strchr(h, ':');
			if (!colon || colon == h || has_ctl(h))
				return set_cause(cause, "invalid header '%s': want 'Name: value' on one line", h);
			for (const char *c = h; c < colon; c++)
				if (*c <= ' ' || *c >= 0x7f)
					return set_cause(cause, "invalid header name in '%s'", h);
			if ((size_t)(colon - h) == 12 && strncasecmp(h, "Content-Type", 12) == 0)
				return set_cause(cause, "header '%s': the Content-Type is set by --format", h);
		}
		break;
	}
	case ALERT_FILE:
		if (check_file(s, cause) < 0)
			return -1;
		break;
	case ALERT_EMAIL:
		for (size_t i = 0; i < s->n_to; i++)
			if (!address_ok(s->to[i]))
				return set_cause(cause, "invalid email address '%s'", s->to[i]);
		if (s->from && (has_ctl(s->from) || !strchr(s->from, '@')))
			return set_cause(cause, "invalid --from '%s': want an address such as alerts@example.com", s->from);
		if (!s->sendmail) {
			for (size_t i = 0; i < ARRAY_SIZE(sendmail_paths) && !s->sendmail; i++)
				if (access(sendmail_paths[i], X_OK) == 0)
					s->sendmail = xstrdup(sendmail_paths[i]);
			if (!s->sendmail)
				return set_cause(cause, "no sendmail program (looked for /usr/sbin/sendmail and "
							"/usr/lib/sendmail): install a mail transfer agent such as Debian's "
							"msmtp-mta, or give --sendmail PATH");
		} else {
			char *abs = find_program(s->sendmail, cause);
			if (!abs)
				return -1;
			free(s->sendmail);
			s->sendmail = abs;
		}
		break;
	}
	if (!s->filter.n_types && alert_filter_types(&s->filter, ALERT_DEFAULT_TYPES, cause) < 0)
		return -1;
	return 0;
}

static json_t *jlist(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void alert_sink_to_row(const struct alert_sink *s, struct db_sink *row)
{
	memset(row, 0, sizeof *row);
	row->id = s->id;
	row->name = xstrdup(s->name);
	row->kind = xstrdup(kind_names[s->kind]);
	row->target = xstrdup(s->target);
	json_t *c = json_object();
	json_object_set_new(c, "timeout", json_integer(s->timeout));
	if (s->hold_before != s->created_at)
		json_object_set_new(c, "hold_before", json_integer((json_int_t)s->hold_before));
	switch (s->kind) {
	case ALERT_PROGRAM:
		json_object_set_new(c, "args", jlist(s->args, s->n_args));
		break;
	case ALERT_WEBHOOK:
		json_object_set_new(c, "format", json_string(format_names[s->format]));
		json_object_set_new(c, "headers", jlist(s->headers, s->n_headers));
		break;
	case ALERT_FILE:
		break;
	case ALERT_EMAIL:
		json_object_set_new(c, "to", jlist(s->to, s->n_to));
		if (s->from)
			json_object_set_new(c, "from", json_string(s->from));
		json_object_set_new(c, "sendmail", json_string(s->sendmail));
		break;
	}
	row->config = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(c);
	row->types = s->filter.all ? xstrdup("all") : alert_join(s->filter.types, s->filter.n_types);
	row->vendors = alert_join(s->filter.vendors, s->filter.n_vendors);
	row->min_impact = s->filter.min_impact >= 0 ? xstrdup(impact_scale[s->filter.min_impact]) : NULL;
	row->created_at = s->created_at;
	row->cursor = s->cursor;
}

static int read_list(json_t *a, char ***v, size_t *n)
{
	size_t i;
	json_t *e;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e))
			return -1;
		push(v, n, json_string_value(e));
	}
	return 0;
}

int alert_sink_from_row(const struct db_sink *row, struct alert_sink *s, char **cause)
{
	memset(s, 0, sizeof *s);
	alert_filter_init(&s->filter);
	s->id = row->id;
	s->name = xstrdup(row->name);
	s->target = xstrdup(row->target);
	s->created_at = row->created_at;
	s->cursor = row->cursor;
	size_t k = 0;
	while (k < ARRAY_SIZE(kind_names) && !str_eq(row->kind, kind_names[k]))
		k++;
	if (k == ARRAY_SIZE(kind_names))
		return set_cause(cause, "sink '%s' has an unknown kind '%s'", row->name, row->kind);
	s->kind = (enum alert_kind)k;
	json_error_t err;
	json_t *c = json_loads(row->config ? row->config : "{}", 0, &err);
	int bad = !json_is_object(c);
	json_t *t = json_object_get(c, "timeout");
	s->timeout = json_is_integer(t) ? (int)json_integer_value(t) : ALERT_TIMEOUT;
	if (s->timeout < 1 || s->timeout > ALERT_TIMEOUT_MAX)
		s->timeout = ALERT_TIMEOUT;
	json_t *hb = json_object_get(c, "hold_before");
	s->hold_before = json_is_integer(hb) ? (int64_t)json_integer_value(hb) : s->created_at;
	if (!bad && s->kind == ALERT_WEBHOOK) {
		const char *f = json_string_value(json_object_get(c, "format"));
		size_t i = 0;
		while (f && i < ARRAY_SIZE(format_names) && !str_eq(f, format_names[i]))
			i++;
		bad = f && i == ARRAY_SIZE(format_names);
		s->format = f && !bad ? (enum alert_format)i : ALERT_FORMAT_JSON;
	}
	if (!bad)
		bad = read_list(json_object_get(c, "args"), &s->args, &s->n_args) < 0 ||
		      read_list(json_object_get(c, "headers"), &s->headers, &s->n_headers) < 0 ||
		      read_list(json_object_get(c, "to"), &s->to, &s->n_to) < 0;
	if (!bad && s->kind == ALERT_EMAIL) {
		const char *f = json_string_value(json_object_get(c, "from"));
		const char *sm = json_string_value(json_object_get(c, "sendmail"));
		s->from = f ? xstrdup(f) : NULL;
		s->sendmail = xstrdup(sm ? sm : sendmail_paths[0]);
		if (!s->n_to)
			push(&s->to, &s->n_to, s->target);
	}
	json_decref(c);
	if (bad)
		return set_cause(cause, "sink '%s' has an invalid configuration", row->name);
	if (alert_filter_types(&s->filter, row->types ? row->types : ALERT_DEFAULT_TYPES, cause) < 0 ||
	    (row->vendors && alert_filter_vendors(&s->filter, row->vendors, cause) < 0) ||
	    (row->min_impact && alert_filter_impact(&s->filter, row->min_impact, cause) < 0))
		return -1;
	return 0;
}

char *alert_target_display(const struct alert_sink *s)
{
	if (s->kind == ALERT_WEBHOOK) {
		char *o = url_origin(s->target);
		if (o && strlen(o) < strlen(s->target)) {
			char *d = xasprintf("%s/…", o);
			free(o);
			return d;
		}
		free(o);
	}
	if (s->kind == ALERT_EMAIL)
		return alert_join(s->to, s->n_to);
	return xstrdup(s->target);
}

/* ---- which events a new sink holds back ---- */

static int payload_time(json_t *o, const char *key, int64_t *t)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) && date_parse(json_string_value(v), NULL, t, NULL) == 0;
}

/* When the vendor says the event's subject happened: 1 and *t, or 0 when it does not say. */
static int vendor_time(const char *type, json_t *p, int64_t *t)
{
	if (str_starts(type, "postmortem."))
		return payload_time(p, "published_at", t) || payload_time(p, "resolved_at", t) ||
		       payload_time(p, "started_at", t);
	if (str_starts(type, "update."))
		return payload_time(json_object_get(p, "update"), "at", t);
	if (str_eq(type, "incident.resolved"))
		return payload_time(p, "resolved_at", t);
	return payload_time(p, "started_at", t) || payload_time(p, "resolved_at", t) ||
	       payload_time(json_object_get(p, "latest_update"), "at", t);
}

/* An incident still going on where the vendor says so: a status that is not a closed one, no
 * resolution, and a date at most a week before the capture (a feed's "investigating" from 2022 is
 * not going on). */
static int is_open(const char *type, json_t *p, int64_t observed)
{
	const char *st = json_string_value(json_object_get(p, "status"));
	int64_t at;
	if (!st || str_eq(st, "resolved") || str_eq(st, "postmortem") || str_eq(st, "completed") ||
	    !json_is_null(json_object_get(p, "resolved_at")) || !vendor_time(type, p, &at))
		return 0;
	return observed - at <= ALERT_OPEN_RECENT;
}

int64_t alert_event_time(const struct db_event *ev)
{
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	int64_t t;
	if (!vendor_time(ev->type, p, &t))
		t = ev->created_at;
	json_decref(p);
	return t;
}

int alert_event_is_old(const struct db_event *ev, int64_t t, int asked)
{
	if (t <= 0)
		return 0;
	/* recorded before the sink, or learnt from a capture older than the sink (an import of saved pages) */
	if (ev->created_at < t || (ev->observed_at && ev->observed_at < t))
		return 1;
	json_error_t err;
	json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, &err);
	int64_t at;
	int dated = vendor_time(ev->type, p, &at);
	int open = is_open(ev->type, p, ev->observed_at ? ev->observed_at : ev->created_at);
	int old = 0;
	if (json_is_true(json_object_get(p, "baseline"))) {
		/* a source's first page lists its past: only what is going on there is news, unless a
		 * --replay-since asked for the past from t on */
		old = !open && !(asked && dated && at >= t);
	} else if (json_is_true(json_object_get(p, "backfill"))) {
		/* a walk back: by the vendor's date; undated is old */
		old = !(dated && at >= t);
	} else if (str_eq(ev->type, "incident.new") || json_is_true(json_object_get(p, "new_incident"))) {
		/* an incident first seen now: news when it is going on or undated, else by its date */
		old = !open && dated && at < t;
	}
	json_decref(p);
	return old;
}

char *alert_key(const char *archive_id, int64_t event_id, int64_t sink_id)
{
	return xasprintf("starchive-%.16s-e%lld-s%lld", archive_id, (long long)event_id, (long long)sink_id);
}

void alert_outcome_clear(struct alert_outcome *o)
{
	free(o->error);
	memset(o, 0, sizeof *o);
}

/* ---- running a program (hooks and sendmail) ---- */

#define OUTPUT_KEEP 2048   /* bytes of a program's output kept for the error line */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The last non-empty line of a program's output, cleaned for one line. */
static char *last_line(const struct buf *b)
{
	if (!b->len)
		return xstrdup("");
	size_t e = b->len;
	while (e && (b->data[e - 1] == '\n' || b->data[e - 1] == '\r' || b->data[e - 1] == ' '))
		e--;
	size_t s = e;
	while (s && b->data[s - 1] != '\n')
		s--;
	char *l = xstrndup(b->data + s, e - s);
	for (char *c = l; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	char *clean = utf8_sanitize(l, strlen(l));
	free(l);
	return clean;
}

static void keep_tail(struct buf *b, const char *data, size_t n)
{
	buf_add(b, data, n);
	if (b->len > OUTPUT_KEEP) {
		memmove(b->data, b->data + b->len - OUTPUT_KEEP, OUTPUT_KEEP);
		b->len = OUTPUT_KEEP;
		b->data[b->len] = '\0';
	}
}

/* Run argv[0] (an absolute path) with env, input on its stdin, stdout and stderr captured; kill it
 * (its whole process group) after timeout seconds. Sets *out and returns the result. */
static void run_program(char *const *argv, char *const *env, const char *input, size_t len, int timeout,
			const char *what, struct alert_outcome *out)
{
	/* stdin, stdout+stderr, and a pipe that only an exec failure writes to */
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int k = 0;
	while (k < 3 && pipe2(p[k], O_CLOEXEC) == 0)
		k++;
	pid_t pid = k == 3 ? fork() : -1;
	if (pid < 0) {
		int e = errno;
		for (int i = 0; i < k; i++) {
			close(p[i][0]);
			close(p[i][1]);
		}
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("cannot run %s: %s", what, strerror(e));
		return;
	}
	int *in = p[0], *outp = p[1], *errp = p[2];
	if (pid == 0) {
		/* the child: only async-signal-safe calls until exec */
		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		/* the archive, the lock and libcurl's kept connections stay ours (the error pipe is
		 * close-on-exec already) */
		int marked = -1;
#ifdef CLOSE_RANGE_CLOEXEC
		marked = close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
		if (marked != 0) {
			long max = sysconf(_SC_OPEN_MAX);
			for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0 || dup2(outp[1], 2) < 0)
			_exit(127);
		execve(argv[0], argv, env);
		int e = errno;
		ssize_t w = write(errp[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(outp[1]);
	close(errp[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct buf output = BUF_INIT;
	size_t sent = 0;
	int in_open = 1, out_open = 1, timed_out = 0, status = 0, exited = 0;
	int64_t deadline = now_ms() + (int64_t)timeout * 1000;
	if (len == 0) {
		close(in[1]);
		in_open = 0;
	}
	while (!exited) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd fds[2];
		int nf = 0;
		if (in_open)
			fds[nf++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (out_open)
			fds[nf++] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		if (nf == 0) {
			/* both pipes are done: wait for the exit in small steps */
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				exited = 1;
				break;
			}
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			continue;
		}
		int r = poll(fds, (nfds_t)nf, left > 200 ? 200 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; i < nf && r > 0; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == in[1]) {
				ssize_t w = write(in[1], input + sent, len - sent);
				if (w > 0)
					sent += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == len ||
				    (fds[i].revents & (POLLERR | POLLHUP))) {
					close(in[1]);
					in_open = 0;
				}
			} else {
				char chunk[4096];
				ssize_t n = read(outp[0], chunk, sizeof chunk);
				if (n > 0)
					keep_tail(&output, chunk, (size_t)n);
				else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
					close(outp[0]);
					out_open = 0;
				}
			}
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid)
			exited = 1;
	}
	if (in_open)
		close(in[1]);
	if (!exited) {
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
		int64_t grace = now_ms() + 2000;
		while (waitpid(pid, &status, WNOHANG) != pid) {
			if (now_ms() > grace) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				break;
			}
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	/* what is left of the output (a program that exited with its pipe still full) */
	if (out_open) {
		fcntl(outp[0], F_SETFL, O_NONBLOCK);
		char chunk[4096];
		ssize_t n;
		while ((n = read(outp[0], chunk, sizeof chunk)) > 0)
			keep_tail(&output, chunk, (size_t)n);
		close(outp[0]);
	}
	int exec_errno = 0;
	ssize_t got = read(errp[0], &exec_errno, sizeof exec_errno);
	close(errp[0]);
	char *line = last_line(&output);
	if (got == (ssize_t)sizeof exec_errno) {
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("cannot run %s '%s': %s", what, argv[0], strerror(exec_errno));
	} else if (timed_out) {
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("%s timed out after %d s and was killed%s%s", what, timeout, *line ? ": " : "", line);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		out->result = ALERT_DELIVERED;
	} else if (WIFEXITED(status)) {
		/* 75 (EX_TEMPFAIL, as sendmail uses it): what is behind the program is down, not this event */
		out->result = WEXITSTATUS(status) == ALERT_EXIT_TEMPFAIL ? ALERT_SINK_DOWN : ALERT_FAILED;
		out->error = xasprintf("%s exited with status %d%s%s", what, WEXITSTATUS(status), *line ? ": " : "", line);
	} else {
		out->result = ALERT_FAILED;
		out->error = xasprintf("%s was killed by signal %d%s%s", what, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
				       *line ? ": " : "", line);
	}
	free(line);
	buf_release(&output);
}

/* The environment of a hook: ours plus the event's key fields. */
static char **hook_env(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
		       const char *key, size_t *n_out)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 16, sizeof *env);
	size_t k = 0;
	/* ours replace any the environment has (STARCHIVE_DB and the rest pass through) */
	static const char *const ours[] = { "STARCHIVE_SINK=", "STARCHIVE_EVENT_ID=", "STARCHIVE_EVENT_TYPE=",
					    "STARCHIVE_IDEMPOTENCY_KEY=", "STARCHIVE_VENDOR=", "STARCHIVE_VENDOR_NAME=",
					    "STARCHIVE_INCIDENT=",
					    "STARCHIVE_TITLE=", "STARCHIVE_IMPACT=", "STARCHIVE_URL=",
					    "STARCHIVE_SUBJECT=" };
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < ARRAY_SIZE(ours) && !str_starts(environ[i], ours[j]))
			j++;
		if (j == ARRAY_SIZE(ours))
			env[k++] = xstrdup(environ[i]);
	}
	env[k++] = xasprintf("STARCHIVE_SINK=%s", s->name);
	env[k++] = xasprintf("STARCHIVE_EVENT_ID=%lld", (long long)ev->id);
	env[k++] = xasprintf("STARCHIVE_EVENT_TYPE=%s", ev->type);
	env[k++] = xasprintf("STARCHIVE_IDEMPOTENCY_KEY=%s", key);
	env[k++] = xasprintf("STARCHIVE_VENDOR=%s", ev->vendor);
	env[k++] = xasprintf("STARCHIVE_VENDOR_NAME=%s", m->vendor_name);
	env[k++] = xasprintf("STARCHIVE_INCIDENT=%s", ev->incident_key ? ev->incident_key : "");
	env[k++] = xasprintf("STARCHIVE_TITLE=%s", m->title ? m->title : "");
	env[k++] = xasprintf("STARCHIVE_IMPACT=%s", m->impact ? m->impact : "");
	env[k++] = xasprintf("STARCHIVE_URL=%s", m->url ? m->url : "");
	env[k++] = xasprintf("STARCHIVE_SUBJECT=%s", m->subject);
	env[k] = NULL;
	/* a value with a newline would be one variable all the same; titles are one line already */
	*n_out = k;
	return env;
}


static void deliver_program(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
			    const char *key, struct alert_outcome *out)
{
	char *body = message_json(ev, m, s->name, key);
	if (!body) {
		out->result = ALERT_FAILED;
		out->error = xstrdup("cannot encode the event");
		return;
	}
	size_t n_env;
	char **env = hook_env(s, ev, m, key, &n_env);
	char **argv = xcalloc(s->n_args + 2, sizeof *argv);
	argv[0] = s->target;
	for (size_t i = 0; i < s->n_args; i++)
		argv[i + 1] = s->args[i];
	size_t len = strlen(body);
	body = xrealloc(body, len + 2);
	body[len++] = '\n';
	body[len] = '\0';
	run_program(argv, env, body, len, s->timeout, "hook", out);
	free(argv);
	free_list(env, n_env);
	free(body);
}

/* What the sink is sent for ev: the JSON, Slack or Teams body, the JSON line, or the mail. */
static char *render(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
		    const char *key, int64_t now)
{
	if (s->kind == ALERT_WEBHOOK && s->format == ALERT_FORMAT_SLACK)
		return message_slack(m, key);
	if (s->kind == ALERT_WEBHOOK && s->format == ALERT_FORMAT_TEAMS)
		return message_teams(m, key);
	if (s->kind != ALERT_EMAIL)
		return message_json(ev, m, s->name, key);
	char host[256] = "localhost";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	const char *user = getenv("LOGNAME");
	if (!user || !*user || has_ctl(user) || strchr(user, ' '))
		user = "starchive";
	char *from = s->from ? xasprintf("starchive <%s>", s->from) : xasprintf("starchive <%s@%s>", user, host);
	char *mail = message_email(m, from, (const char *const *)s->to, s->n_to, key, now);
	free(from);
	return mail;
}

/* Chat sinks get the text trimmed; the others all of it. */
static size_t trim_for(const struct alert_sink *s)
{
	return s->kind == ALERT_WEBHOOK && s->format != ALERT_FORMAT_JSON ? MESSAGE_CHAT_TRIM : 0;
}

char *alert_render(const struct alert_sink *s, const struct db_event *ev, const char *key, int64_t now,
		   char **cause)
{
	struct message m;
	if (message_build(ev, trim_for(s), &m, cause) < 0)
		return NULL;
	char *body = render(s, ev, &m, key, now);
	if (body && s->kind == ALERT_PROGRAM) {
		size_t n_env;
		char **env = hook_env(s, ev, &m, key, &n_env);
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < n_env; i++)
			if (str_starts(env[i], "STARCHIVE_"))
				buf_addf(&b, "%s\n", env[i]);
		buf_addf(&b, "\n%s", body);
		free(body);
		body = buf_detach(&b);
		free_list(env, n_env);
	}
	message_clear(&m);
	if (!body)
		set_cause(cause, "cannot encode the event");
	return body;
}

static void deliver_email(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
			  const char *key, int64_t now, struct alert_outcome *out)
{
	char *mail = render(s, ev, m, key, now);
	/* sendmail -oi: a lone '.' line is text; -f: the envelope sender; "--": then recipients only */
	char **argv = xcalloc(s->n_to + 6, sizeof *argv);
	size_t a = 0;
	argv[a++] = s->sendmail;
	argv[a++] = (char *)"-oi";
	if (s->from) {
		argv[a++] = (char *)"-f";
		argv[a++] = s->from;
	}
	argv[a++] = (char *)"--";
	for (size_t i = 0; i < s->n_to; i++)
		argv[a++] = s->to[i];
	argv[a] = NULL;
	run_program(argv, environ, mail, strlen(mail), s->timeout, "sendmail", out);
	free(argv);
	free(mail);
}

static void deliver_file(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
			 const char *key, struct alert_outcome *out)
{
	char *line = message_json(ev, m, s->name, key);
	if (!line) {
		out->result = ALERT_FAILED;
		out->error = xstrdup("cannot encode the event");
		return;
	}
	size_t len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	int fd = open(s->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("cannot append to '%s': %s", s->target, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(line);
		return;
	}
	/* a line cut short by an earlier failure is ended first, so every line stays JSON on its own */
	char last = '\n';
	if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	int err = 0;
	if (last != '\n' && write(fd, "\n", 1) != 1)
		err = errno ? errno : EIO;
	size_t done = 0;
	while (!err && done < len) {
		ssize_t w = write(fd, line + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			err = w < 0 ? errno : EIO;
		else
			done += (size_t)w;
	}
	if (!err && fsync(fd) != 0)
		err = errno;
	if (err && done > 0 && done < len && ftruncate(fd, st.st_size + (last != '\n')) != 0) {
		/* the newline guard above ends the partial line next time */
	}
	if (close(fd) != 0 && !err)
		err = errno;
	if (err) {
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("cannot append to '%s': %s", s->target, strerror(err));
	} else {
		out->result = ALERT_DELIVERED;
	}
	free(line);
}

/* Replace in line every piece of url's path and query of 6 characters or more with "…": a receiver
 * that echoes the URL ("no hook at /T0001/B0002/XyzSecret") must not put its secret in logs. */
static char *redact(const char *line, const char *url)
{
	char *out = xstrdup(line);
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	while (p && *p) {
		size_t n = strcspn(p, "/?&=#");
		if (n >= 6) {
			char *piece = xstrndup(p, n), *hit;
			while ((hit = strstr(out, piece)) != NULL) {
				char *next = xasprintf("%.*s…%s", (int)(hit - out), out, hit + n);
				free(out);
				out = next;
			}
			free(piece);
		}
		p += n;
		if (*p)
			p++;
	}
	return out;
}

/* The first line of a reply, cleaned, without url's secrets and cut to 200 characters. */
static char *reply_line(const struct buf *b, const char *url)
{
	size_t n = 0;
	while (n < b->len && b->data[n] != '\n' && b->data[n] != '\r')
		n++;
	char *raw = xstrndup(b->data, n);
	for (char *c = raw; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	char *clean = utf8_sanitize(raw, strlen(raw));
	free(raw);
	char *safe = redact(clean, url);
	free(clean);
	int cut = 0;
	char *line = message_prefix(safe, 200, &cut);
	free(safe);
	return line;
}

static void deliver_webhook(const struct alert_sink *s, const struct db_event *ev, const struct message *m,
			    const char *key, const char *contact, int64_t now, struct alert_outcome *out)
{
	char *body = render(s, ev, m, key, now);
	if (!body) {
		out->result = ALERT_FAILED;
		out->error = xstrdup("cannot encode the event");
		return;
	}
	char **headers = xcalloc(s->n_headers + 3, sizeof *headers);
	size_t nh = 0;
	headers[nh++] = xasprintf("Idempotency-Key: %s", key);
	headers[nh++] = xasprintf("X-Starchive-Event: %s", ev->type);
	for (size_t i = 0; i < s->n_headers; i++)
		headers[nh++] = xstrdup(s->headers[i]);
	struct fetch_limits lim;
	fetch_limits_init(&lim);
	lim.timeout_ms = (long)s->timeout * 1000;
	if (lim.connect_timeout_ms > lim.timeout_ms)
		lim.connect_timeout_ms = lim.timeout_ms;
	struct fetch_post_request req = { 0 };
	req.url = s->target;
	req.body = body;
	req.body_len = strlen(body);
	req.content_type = "application/json; charset=utf-8";
	req.headers = (const char *const *)headers;
	req.n_headers = nh;
	req.limits = &lim;
	req.contact = contact;
	req.has_now = 1;
	req.now = now;
	struct fetch_result res;
	memset(&res, 0, sizeof res);
	char *cause = NULL;
	if (fetch_post(&req, &res, &cause) < 0) {
		out->result = ALERT_SINK_DOWN;
		out->error = xasprintf("cannot post: %s", cause ? cause : "unknown error");
	} else if (res.outcome == FETCH_OK) {
		out->result = ALERT_DELIVERED;
	} else {
		/* a 4xx refuses this event (400 invalid_payload, 413, 422...); 401, 403, 404, 408, 410 and 429
		 * (no such hook, archived channel, revoked token, slow down) and the rest say the sink is down */
		long st = res.status;
		int event_fault = res.outcome == FETCH_HTTP_ERROR && st >= 400 && st < 500 && st != 401 && st != 403 &&
				  st != 404 && st != 408 && st != 410 && st != 429;
		out->result = event_fault ? ALERT_FAILED : ALERT_SINK_DOWN;
		out->has_retry_after = res.has_retry_after;
		out->retry_after = res.retry_after;
		const char *why = res.cause ? res.cause : fetch_outcome_name(res.outcome);
		/* a receiver's own words ("invalid_payload", "channel_is_archived") say what to fix */
		char *said = res.outcome == FETCH_HTTP_ERROR && res.body.len ? reply_line(&res.body, s->target) : NULL;
		out->error = said && *said ? xasprintf("%s: %s", why, said) : xstrdup(why);
		free(said);
	}
	free(cause);
	fetch_result_release(&res);
	free_list(headers, nh);
	free(body);
}

void alert_deliver(const struct alert_sink *s, const struct db_event *ev, const char *key, const char *contact,
		   int64_t now, struct alert_outcome *out)
{
	memset(out, 0, sizeof *out);
	struct message m;
	char *cause = NULL;
	if (message_build(ev, trim_for(s), &m, &cause) < 0) {
		out->result = ALERT_FAILED;
		out->error = cause;
		return;
	}
	switch (s->kind) {
	case ALERT_PROGRAM:
		deliver_program(s, ev, &m, key, out);
		break;
	case ALERT_WEBHOOK:
		deliver_webhook(s, ev, &m, key, contact, now, out);
		break;
	case ALERT_FILE:
		deliver_file(s, ev, &m, key, out);
		break;
	case ALERT_EMAIL:
		deliver_email(s, ev, &m, key, now, out);
		break;
	}
	message_clear(&m);
}
