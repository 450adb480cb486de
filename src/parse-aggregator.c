/* parse-aggregator.c: the incident page of a status aggregator (Pingoru, IsDown-like sites): one
 * vendor's incident as the aggregator shows it. Such pages are server-rendered HTML whose markup
 * changes with every redesign, so the parser reads them by their visible labels (Started, Resolved,
 * Duration, Detected by, Affected components, Update timeline, Postmortem), never by class names.
 * <time datetime> gives the exact time where the page has it; the visible text is kept beside it. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize.h"
#include "parse-xml.h"
#include "parse.h"
#include "url.h"
#include "util.h"

/* ---- detection ---- */

/* Case-insensitive search for an ASCII needle in hay[0..n). */
static const char *memcase(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	if (!m || m > n)
		return NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

/* 1 when some text node reads exactly label (spaces around it and a trailing colon allowed). */
static int has_label(const char *data, size_t n, const char *label)
{
	size_t m = strlen(label);
	const char *p = data, *end = data + n;
	while ((p = memchr(p, '>', (size_t)(end - p))) != NULL) {
		p++;
		const char *q = p;
		while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
			q++;
		if ((size_t)(end - q) < m || strncasecmp(q, label, m) != 0)
			continue;
		q += m;
		while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r' || *q == ':'))
			q++;
		if (q < end && *q == '<')
			return 1;
	}
	return 0;
}

/* An HTML page with an update timeline and Started or Detected-by fields scores 70 to 100. */
int agg_detect(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i == len || data[i] != '<')
		return 0;
	size_t n = len < (4u << 20) ? len : (4u << 20);
	size_t head = n < 4096 ? n : 4096;
	if (!memcase(data, head, "<html") && !memcase(data, head, "<!doctype html"))
		return 0;
	/* Statuspage's own incident and history pages, and feeds, belong to other kinds */
	if (memstr(data, n, "incident-updates-container") || memstr(data, n, "HistoryIndex") ||
	    memcase(data, head, "<rss") || memcase(data, head, "<feed"))
		return 0;
	int timeline = has_label(data, n, "update timeline") || has_label(data, n, "incident timeline");
	int updates = has_label(data, n, "updates") || has_label(data, n, "timeline") ||
		      has_label(data, n, "incident updates");
	int comps = has_label(data, n, "affected components") || has_label(data, n, "affected services");
	int started = has_label(data, n, "started"), resolved = has_label(data, n, "resolved");
	int detected = memcase(data, n, ">detected by") != NULL;
	if (!timeline && !(updates && comps))
		return 0;
	if (!started && !detected)
		return 0;
	int score = 70;
	score += comps ? 10 : 0;
	score += detected ? 10 : 0;
	score += resolved ? 5 : 0;
	score += has_label(data, n, "duration") ? 5 : 0;
	return score;
}

/* ---- text ---- */

/* Rendered text of a node, honouring pre-wrap line breaks (aggregators show vendor bodies, typed
 * as plain text, that way). */
static char *node_text(const xmlNode *n)
{
	return px_text_css(n);
}

/* The same, on one line: for labels, titles and times. */
static char *node_line(const xmlNode *n)
{
	char *t = node_text(n);
	char *r = text_squash(t);
	free(t);
	return r;
}

static int has_direct_text(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE || !c->content)
			continue;
		for (const unsigned char *s = c->content; *s; s++)
			if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r' && *s != 0xc2 && *s != 0xa0)
				return 1;
	}
	return 0;
}

static int has_digit(const char *s)
{
	for (; s && *s; s++)
		if (*s >= '0' && *s <= '9')
			return 1;
	return 0;
}

/* ---- walking ---- */

/* Pre-order successor of n below root; descend = 0 skips n's subtree. */
static xmlNode *walk(xmlNode *n, const xmlNode *root, int descend)
{
	if (descend && n->children)
		return n->children;
	while (n && n != root) {
		if (n->next)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static int inside(const xmlNode *n, const xmlNode *anc)
{
	for (; n && anc; n = n->parent)
		if (n == anc)
			return 1;
	return 0;
}

/* In site chrome (navigation, footer) or in one of the excluded subtrees. */
static int excluded(const xmlNode *n, xmlNode *const *ex, size_t nex)
{
	for (const xmlNode *p = n; p; p = p->parent)
		if (px_is(p, "nav") || px_is(p, "footer"))
			return 1;
	for (size_t i = 0; i < nex; i++)
		if (inside(n, ex[i]))
			return 1;
	return 0;
}

static int is_heading(const xmlNode *n)
{
	return px_is(n, "h1") || px_is(n, "h2") || px_is(n, "h3") || px_is(n, "h4") || px_is(n, "h5") ||
	       px_is(n, "h6");
}

/* Outermost elements below root that carry text of their own: badges, labels, list entries. */
static size_t chips(xmlNode *root, xmlNode ***out)
{
	size_t count = 0;
	*out = NULL;
	if (!root)
		return 0;
	if (root->type == XML_ELEMENT_NODE && has_direct_text(root)) {
		*out = xmalloc(sizeof **out);
		(*out)[count++] = root;
		return count;
	}
	for (xmlNode *n = root->children; n;) {
		int take = n->type == XML_ELEMENT_NODE && !px_is_hidden(n) && has_direct_text(n);
		if (take) {
			*out = xreallocarray(*out, count + 1, sizeof **out);
			(*out)[count++] = n;
		}
		n = walk(n, root, !take && n->type == XML_ELEMENT_NODE && !px_is_hidden(n));
	}
	return count;
}

/* ---- labels ---- */

enum field {
	F_STARTED, F_RESOLVED, F_DURATION, F_DETECTED, F_SCHED_FOR, F_SCHED_UNTIL, F_UPDATED,
	F_COMPONENTS, F_TIMELINE, F_POSTMORTEM, F_COUNT
};

static const struct label {
	const char *text;
	enum field field;
	int prefix; /* "Detected by Pingoru": the label goes on with a name */
} labels[] = {
	{ "started", F_STARTED, 0 }, { "started at", F_STARTED, 0 }, { "start time", F_STARTED, 0 },
	{ "began", F_STARTED, 0 }, { "start", F_STARTED, 0 },
	{ "resolved", F_RESOLVED, 0 }, { "resolved at", F_RESOLVED, 0 }, { "ended", F_RESOLVED, 0 },
	{ "end time", F_RESOLVED, 0 }, { "ended at", F_RESOLVED, 0 }, { "completed", F_RESOLVED, 0 },
	{ "duration", F_DURATION, 0 }, { "lasted", F_DURATION, 0 },
	{ "detected by", F_DETECTED, 1 }, { "detected", F_DETECTED, 0 }, { "first detected", F_DETECTED, 0 },
	{ "scheduled for", F_SCHED_FOR, 0 }, { "scheduled start", F_SCHED_FOR, 0 },
	{ "window start", F_SCHED_FOR, 0 },
	{ "scheduled until", F_SCHED_UNTIL, 0 }, { "scheduled end", F_SCHED_UNTIL, 0 },
	{ "window end", F_SCHED_UNTIL, 0 },
	{ "last updated", F_UPDATED, 0 }, { "updated", F_UPDATED, 0 },
	{ "affected components", F_COMPONENTS, 0 }, { "affected component", F_COMPONENTS, 0 },
	{ "affected services", F_COMPONENTS, 0 }, { "components affected", F_COMPONENTS, 0 },
	{ "impacted components", F_COMPONENTS, 0 },
	{ "update timeline", F_TIMELINE, 0 }, { "incident timeline", F_TIMELINE, 0 },
	{ "timeline", F_TIMELINE, 0 }, { "updates", F_TIMELINE, 0 }, { "incident updates", F_TIMELINE, 0 },
	{ "status updates", F_TIMELINE, 0 }, { "incident history", F_TIMELINE, 0 },
	{ "postmortem", F_POSTMORTEM, 0 }, { "post-mortem", F_POSTMORTEM, 0 },
	{ "post mortem", F_POSTMORTEM, 0 }, { "post-incident review", F_POSTMORTEM, 0 },
	{ "incident report", F_POSTMORTEM, 0 }, { "root cause analysis", F_POSTMORTEM, 0 },
};

/* The field a label text names, or F_COUNT. A trailing colon or "(5)" count is allowed. */
static enum field label_field(const char *text)
{
	size_t n = strlen(text);
	if (n > 60)
		return F_COUNT;
	while (n && (text[n - 1] == ':' || text[n - 1] == ' '))
		n--;
	if (n && text[n - 1] == ')') {
		size_t k = n - 1;
		while (k && text[k - 1] >= '0' && text[k - 1] <= '9')
			k--;
		if (k && text[k - 1] == '(' && k < n - 1) {
			n = k - 1;
			while (n && text[n - 1] == ' ')
				n--;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		size_t m = strlen(labels[i].text);
		if (strncasecmp(text, labels[i].text, m) != 0)
			continue;
		if (m == n || (labels[i].prefix && n > m && text[m] == ' '))
			return labels[i].field;
	}
	return F_COUNT;
}

struct cand {
	xmlNode *label;
	enum field field;
};

static xmlNode *next_node(xmlNode *n)
{
	for (xmlNode *c = n ? n->next : NULL; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE && !px_is_hidden(c))
			return c;
		if (c->type == XML_TEXT_NODE && c->content) {
			char *t = text_squash((const char *)c->content);
			int blank = !*t || (t[0] == ':' && !t[1]);
			free(t);
			if (!blank)
				return c;
		}
	}
	return NULL;
}

/* Every element whose own text is a known label, innermost first, in document order. */
static size_t find_labels(xmlNode *root, struct cand **out)
{
	size_t count = 0;
	*out = NULL;
	for (xmlNode *n = root->children; n;) {
		if (n->type == XML_ELEMENT_NODE && !px_is_hidden(n) && has_direct_text(n)) {
			char *t = node_line(n);
			enum field f = label_field(t);
			free(t);
			if (f != F_COUNT) {
				*out = xreallocarray(*out, count + 1, sizeof **out);
				(*out)[count].label = n;
				(*out)[count++].field = f;
				n = walk(n, root, 0);
				continue;
			}
			/* "Started: <time>": a text of the element labels what follows it */
			for (xmlNode *c = n->children; c; c = c->next) {
				if (c->type != XML_TEXT_NODE || !c->content || !next_node(c))
					continue;
				char *ct = node_line(c);
				f = label_field(ct);
				free(ct);
				if (f != F_COUNT) {
					*out = xreallocarray(*out, count + 1, sizeof **out);
					(*out)[count].label = c;
					(*out)[count++].field = f;
				}
			}
		}
		n = walk(n, root, n->type == XML_ELEMENT_NODE && !px_is_hidden(n));
	}
	return count;
}

/* What a label labels: the <dd> after a <dt>, the <td> after a <th>, else the next sibling (text
 * or element) of the label or of the smallest ancestor that is nothing but the label. */
static xmlNode *label_value(xmlNode *label, const xmlNode *root)
{
	if (px_is(label, "dt"))
		return px_next(label, "dd");
	if (px_is(label, "th"))
		return px_next(label, "td");
	xmlNode *cur = label;
	char *want = node_line(label);
	for (;;) {
		xmlNode *v = next_node(cur);
		if (v)
			return free(want), v;
		xmlNode *p = cur->parent;
		if (!p || p == root || p->type != XML_ELEMENT_NODE)
			break;
		char *pt = node_line(p);
		int same = strcmp(pt, want) == 0;
		free(pt);
		if (!same)
			break;
		cur = p;
	}
	free(want);
	return NULL;
}

/* ---- the parse ---- */

struct agg {
	const struct parse_opts *o;
	struct rec_doc *doc;
	struct rec_incident *inc;
	xmlDoc *html;
	xmlNode *root;     /* <main>, else <body> */
	xmlNode *h1;
	xmlNode *timeline; /* the list or container of updates */
	xmlNode *excl[4];
	size_t nexcl;
	struct cand *cands;
	size_t ncands;
	char *base;        /* canonical URL, else --url */
	struct date_ctx dctx;
};

/* An href made absolute against the page; NULL when it cannot be. */
static char *resolve(const struct agg *a, const char *href)
{
	if (!href || !*href)
		return NULL;
	if (url_is_http(href))
		return xstrdup(href);
	return a->base ? url_join(a->base, href) : NULL;
}

/* The host without a leading "www.", so that example.com and www.example.com are one site. */
static char *site_host(const char *url)
{
	char *h = url_host(url);
	if (h && strncmp(h, "www.", 4) == 0 && h[4])
		memmove(h, h + 4, strlen(h + 4) + 1);
	return h;
}

/* Read a time from a value: <time datetime> when present, else the visible text. With report set,
 * a value that looks like a date but cannot be read is listed in the errors. Returns 1 when read. */
static int value_time(struct agg *a, xmlNode *v, const char *what, struct rec_time *out, int report)
{
	xmlNode *tn = NULL;
	if (v && v->type == XML_ELEMENT_NODE)
		tn = px_is(v, "time") ? v : px_find(v, "time", NULL);
	char *text = node_line(tn ? tn : v);
	char *dt = tn ? px_attr(tn, "datetime") : NULL;
	int64_t t;
	char *cause = NULL;
	int ok = 0;
	if (dt && date_parse(dt, &a->dctx, &t, NULL) == 0)
		ok = 1;
	else if (*text && date_parse(text, &a->dctx, &t, &cause) == 0)
		ok = 1;
	if (ok) {
		rec_time_clear(out);
		rec_time_set(out, t, *text ? text : dt);
	} else if (report && (has_digit(text) || (dt && *dt))) {
		rec_time_clear(out);
		rec_set(&out->text, *text ? text : dt);
		if (!cause)
			cause = xasprintf("unrecognised date '%s'", dt);
		rec_doc_add_error(a->doc, "%s: %s", what, cause);
	}
	free(cause);
	free(dt);
	free(text);
	return ok;
}

static const char *const field_names[F_COUNT] = {
	"started", "resolved", "duration", "detected", "scheduled for", "scheduled until", "updated",
	"affected components", "update timeline", "postmortem",
};

/* The first label of a field (outside the excluded parts) whose value reads as a time. */
static int field_time(struct agg *a, enum field f, struct rec_time *out)
{
	xmlNode *first = NULL;
	for (size_t i = 0; i < a->ncands; i++) {
		struct cand *c = &a->cands[i];
		if (c->field != f || excluded(c->label, a->excl, a->nexcl))
			continue;
		xmlNode *v = label_value(c->label, a->root);
		if (!v)
			continue;
		if (value_time(a, v, field_names[f], out, 0))
			return 1;
		if (!first)
			first = v;
	}
	/* nothing readable: say so when the first value looked like a date */
	if (first) {
		char *what = xasprintf("%s %s", a->inc->id ? a->inc->id : "incident", field_names[f]);
		value_time(a, first, what, out, 1);
		free(what);
	}
	return 0;
}

static xmlNode *field_value(struct agg *a, enum field f)
{
	for (size_t i = 0; i < a->ncands; i++) {
		struct cand *c = &a->cands[i];
		if (c->field != f || excluded(c->label, a->excl, a->nexcl))
			continue;
		xmlNode *v = label_value(c->label, a->root);
		if (v)
			return v;
	}
	return NULL;
}

/* ---- identity ---- */

static void read_identity(struct agg *a)
{
	struct rec_incident *inc = a->inc;
	xmlNode *top = xmlDocGetRootElement(a->html);
	xmlNode *head = px_child(top, "head");
	char *canon = NULL, *ogurl = NULL;
	for (xmlNode *n = head ? head->children : NULL; n; n = n->next) {
		char *rel = px_is(n, "link") ? px_attr(n, "rel") : NULL;
		if (rel && str_ieq(rel, "canonical") && !canon)
			canon = px_attr(n, "href");
		free(rel);
		char *prop = px_is(n, "meta") ? px_attr(n, "property") : NULL;
		if (prop && str_ieq(prop, "og:url") && !ogurl)
			ogurl = px_attr(n, "content");
		free(prop);
	}
	a->base = a->o->url ? xstrdup(a->o->url) : NULL;
	char *url = resolve(a, canon ? canon : ogurl);
	if (!url && a->o->url)
		url = xstrdup(a->o->url);
	if (url) {
		free(a->base);
		a->base = xstrdup(url);
	}
	free(canon);
	free(ogurl);

	/* a data attribute names the incident on some pages */
	for (xmlNode *n = a->root; n; n = walk(n, a->root, 1)) {
		char *v = n->type == XML_ELEMENT_NODE ? px_attr(n, "data-incident-id") : NULL;
		if (v && *v) {
			rec_incident_add_id(inc, "id", v);
			free(v);
			break;
		}
		free(v);
	}
	/* .../providers/<vendor>/incidents/<id> or .../incidents/<id>-<slug> */
	if (url) {
		char *path = xstrdup(url);
		path[strcspn(path, "?#")] = '\0';
		size_t l = strlen(path);
		while (l && path[l - 1] == '/')
			path[--l] = '\0';
		char *seg = strrchr(path, '/');
		const char *scheme_end = strstr(path, "://");
		if (seg && (!scheme_end || seg > scheme_end + 2) && seg[1]) {
			seg++;
			size_t digits = strspn(seg, "0123456789");
			if (digits && (!seg[digits] || seg[digits] == '-')) {
				char *id = xstrndup(seg, digits);
				rec_incident_add_id(inc, "id", id);
				free(id);
			}
			if (seg[digits])
				rec_incident_add_id(inc, "slug", seg);
			/* the vendor's page on the aggregator: the path before /incidents/ */
			char *inc_seg = strstr(path, "/incidents/");
			if (inc_seg && inc_seg + strlen("/incidents/") == seg) {
				rec_setn(&a->doc->page_url, path, (size_t)(inc_seg - path));
			}
		}
		free(path);
		rec_incident_add_id(inc, "url", url);
		rec_set(&inc->url, url);
	}
	free(url);
}

/* ---- title, vendor, badges ---- */

static const char *const open_words[] = { "ongoing", "active", "open", "unresolved", "live" };

static int is_open_word(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(open_words); i++)
		if (str_ieq(s, open_words[i]))
			return 1;
	return 0;
}

/* Strip "<vendor> incident" down to the vendor. */
static char *eyebrow_vendor(const char *t)
{
	static const char *const suffixes[] = { " incident", " maintenance", " outage", " status" };
	size_t n = strlen(t);
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t m = strlen(suffixes[i]);
		if (n > m && n - m <= 60 && strcasecmp(t + n - m, suffixes[i]) == 0)
			return xstrndup(t, n - m);
	}
	return NULL;
}

static void read_header(struct agg *a)
{
	struct rec_incident *inc = a->inc;
	a->h1 = px_find(a->root, "h1", NULL);
	if (a->h1 && excluded(a->h1, NULL, 0))
		a->h1 = NULL;
	char *title = a->h1 ? node_line(a->h1) : NULL;
	if (!title || !*title) {
		free(title);
		xmlNode *head = px_child(xmlDocGetRootElement(a->html), "head");
		title = node_line(px_child(head, "title"));
	}
	rec_set(&inc->title, *title ? title : NULL);
	free(title);

	/* the vendor: an eyebrow just before the title ("DRACOON incident") */
	char *vendor = NULL;
	int depth = 0;
	for (xmlNode *up = a->h1; up && up != a->root && !vendor && depth < 3; up = up->parent, depth++) {
		for (xmlNode *p = up->prev; p && !vendor; p = p->prev) {
			if (p->type != XML_ELEMENT_NODE || px_is_hidden(p) || excluded(p, NULL, 0) ||
			    px_is(p, "nav") || px_find(p, "nav", NULL) || px_find(p, "li", NULL))
				continue;
			char *t = node_line(p);
			vendor = eyebrow_vendor(t);
			free(t);
		}
	}
	/* else the breadcrumb: its last link that is neither the title nor a section of the site */
	if (!vendor) {
		xmlNode *top = xmlDocGetRootElement(a->html);
		for (xmlNode *n = top; n && !vendor; n = walk(n, top, 1)) {
			char *al = px_is(n, "nav") ? px_attr(n, "aria-label") : NULL;
			int crumbs = al && memcase(al, strlen(al), "breadcrumb");
			free(al);
			if (!crumbs)
				continue;
			xmlNode **links;
			size_t nl = px_find_all(n, "a", NULL, &links);
			for (size_t i = nl; i > 0 && !vendor; i--) {
				char *t = node_line(links[i - 1]);
				static const char *const generic[] = { "home", "providers", "integrations", "services",
								       "incidents", "status", "vendors" };
				int skip = !*t || str_eq(t, inc->title);
				for (size_t g = 0; g < ARRAY_SIZE(generic) && !skip; g++)
					skip = str_ieq(t, generic[g]);
				if (!skip)
					vendor = xstrdup(t);
				free(t);
			}
			free(links);
		}
	}
	rec_set(&inc->vendor, vendor);
	free(vendor);
	rec_set(&a->doc->page_name, inc->vendor);
}

/* Impact and state badges: short texts between the title and the first field or section. */
static void read_badges(struct agg *a, char **open_raw)
{
	struct rec_incident *inc = a->inc;
	/* NOTE: "Resolved" is both a state badge and a field label, so it does not end the header */
	xmlNode *stop = NULL;
	for (size_t i = 0; i < a->ncands && !stop; i++)
		if (a->cands[i].field != F_RESOLVED && !excluded(a->cands[i].label, a->excl, a->nexcl))
			stop = a->cands[i].label;
	xmlNode **cs;
	size_t n = chips(a->root, &cs);
	int after_h1 = a->h1 == NULL;
	for (size_t i = 0; i < n; i++) {
		xmlNode *c = cs[i];
		if (stop && (c == stop || inside(stop, c) || inside(c, stop)))
			break;
		if (a->h1 && inside(c, a->h1)) {
			after_h1 = 1;
			continue;
		}
		if (!after_h1 || excluded(c, a->excl, a->nexcl))
			continue;
		char *t = node_line(c);
		if (strlen(t) <= 32) {
			const char *imp = norm_impact(t), *st = norm_status(t);
			if (!inc->impact_raw && imp && !st) {
				rec_set(&inc->impact_raw, t);
				rec_set(&inc->impact, imp);
			} else if (!inc->status_raw && !*open_raw && is_open_word(t)) {
				*open_raw = xstrdup(t);
			} else if (!inc->status_raw && !*open_raw && st && !str_eq(st, "update")) {
				rec_set(&inc->status_raw, t);
				rec_set(&inc->status, st);
			}
		}
		free(t);
	}
	free(cs);
}

/* The link to the vendor's own page: an external link whose text speaks of the source. */
static void read_source(struct agg *a)
{
	static const char *const words[] = { "vendor source", "view source", "original", "source", "view on",
					     "official status", "status page", "vendor" };
	char *host = site_host(a->base);
	xmlNode **links;
	size_t n = px_find_all(a->root, "a", NULL, &links);
	int best = 0;
	char *found = NULL;
	for (size_t i = 0; i < n; i++) {
		if (excluded(links[i], a->excl, a->nexcl))
			continue;
		char *href = px_attr(links[i], "href");
		char *abs = resolve(a, href);
		char *h = url_is_http(abs) ? site_host(abs) : NULL;
		char *t = node_line(links[i]);
		int score = 0;
		for (size_t w = 0; w < ARRAY_SIZE(words) && !score; w++)
			if (memcase(t, strlen(t), words[w]))
				score = (int)(ARRAY_SIZE(words) - w);
		if (!h || (host && str_eq(h, host)))
			score = 0;
		if (score > best) {
			best = score;
			free(found);
			found = abs;
			abs = NULL;
		}
		free(href);
		free(abs);
		free(h);
		free(t);
	}
	free(links);
	free(host);
	if (!found)
		return;
	rec_set(&a->inc->source_url, found);
	/* a Statuspage incident link carries the vendor's 12-character incident code */
	char *code = url_incident_code(found);
	size_t ok = 0;
	for (size_t i = 0; code && code[i]; i++)
		ok += (code[i] >= 'a' && code[i] <= 'z') || (code[i] >= '0' && code[i] <= '9');
	if (code && strlen(code) == 12 && ok == 12)
		rec_incident_add_id(a->inc, "code", code);
	free(code);
	free(found);
}

/* ---- components ---- */

static void add_component(struct rec_incident *inc, const char *name)
{
	char *t = text_squash(name);
	size_t n = strlen(t);
	while (n && (t[n - 1] == ',' || t[n - 1] == '.'))
		t[--n] = '\0';
	char *s = t;
	if (strncasecmp(s, "and ", 4) == 0)
		s += 4;
	int dup = !*s;
	for (size_t i = 0; i < inc->n_components && !dup; i++)
		dup = str_eq(inc->components[i].name, s);
	if (!dup)
		rec_set(&rec_incident_add_component(inc)->name, s);
	free(t);
}

static void read_components(struct agg *a)
{
	xmlNode *v = field_value(a, F_COMPONENTS);
	if (!v)
		return;
	if (v->type == XML_TEXT_NODE) {
		char *t = node_line(v);
		for (char *p = t, *q; p; p = q) {
			q = strstr(p, ", ");
			if (q) {
				*q = '\0';
				q += 2;
			}
			add_component(a->inc, p);
		}
		free(t);
		return;
	}
	xmlNode **items;
	size_t n = px_find_all(v, "li", NULL, &items);
	if (px_is(v, "li")) {
		free(items);
		items = xmalloc(sizeof *items);
		items[0] = v;
		n = 1;
	}
	if (!n)
		n = chips(v, &items);
	for (size_t i = 0; i < n; i++) {
		char *t = node_line(items[i]);
		/* a single sentence lists them with commas: "API, Webhooks, and Dashboard" */
		if (n == 1 && strstr(t, ", ")) {
			for (char *p = t, *q; p; p = q) {
				q = strstr(p, ", ");
				if (q) {
					*q = '\0';
					q += 2;
				}
				add_component(a->inc, p);
			}
		} else {
			add_component(a->inc, t);
		}
		free(t);
	}
	free(items);
}

/* ---- the timeline ---- */

static int precedes(const xmlNode *a, const xmlNode *b, const xmlNode *root)
{
	for (const xmlNode *n = a; n; n = walk((xmlNode *)n, root, 1))
		if (n == b)
			return 1;
	return 0;
}

static xmlNode *first_child_el(xmlNode *n)
{
	for (xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !px_is_hidden(c))
			return c;
	return NULL;
}

/* The items of the timeline: the list's entries, else the container's child elements. */
static size_t timeline_items(xmlNode *t, xmlNode ***out)
{
	size_t count = 0;
	*out = NULL;
	int list = px_is(t, "ol") || px_is(t, "ul");
	for (xmlNode *c = t->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || px_is_hidden(c) || (list && !px_is(c, "li")))
			continue;
		*out = xreallocarray(*out, count + 1, sizeof **out);
		(*out)[count++] = c;
	}
	return count;
}

/* How many entries of a would-be timeline carry a date (<time> or a text that reads as one). */
static size_t dated_items(struct agg *a, xmlNode *t)
{
	xmlNode **items;
	size_t n = timeline_items(t, &items), dated = 0;
	for (size_t i = 0; i < n; i++) {
		int ok = px_find(items[i], "time", NULL) != NULL;
		xmlNode **cs = NULL;
		size_t nc = ok ? 0 : chips(items[i], &cs);
		for (size_t j = 0; j < nc && !ok; j++) {
			char *txt = node_line(cs[j]);
			int64_t v;
			ok = strlen(txt) <= 64 && has_digit(txt) && date_parse(txt, &a->dctx, &v, NULL) == 0;
			free(txt);
		}
		free(cs);
		dated += ok;
	}
	free(items);
	return dated;
}

static void add_lists(xmlNode *s, const char *tag, xmlNode ***lists, size_t *nl)
{
	xmlNode **found;
	size_t n = px_find_all(s, tag, NULL, &found);
	for (size_t i = 0; i < n; i++) {
		*lists = xreallocarray(*lists, *nl + 1, sizeof **lists);
		(*lists)[(*nl)++] = found[i];
	}
	free(found);
}

/* The best timeline inside s: s itself or one of its lists, whichever has the most dated entries
 * (a list inside an update's body has none). */
static xmlNode *best_container(struct agg *a, xmlNode *s, xmlNode **first_list)
{
	xmlNode *best = NULL;
	size_t best_n = 0;
	xmlNode **lists = NULL;
	size_t nl = 0;
	if (px_is(s, "ol") || px_is(s, "ul")) {
		lists = xmalloc(sizeof *lists);
		lists[nl++] = s;
	} else {
		add_lists(s, "ol", &lists, &nl);
		add_lists(s, "ul", &lists, &nl);
		best_n = dated_items(a, s);
		best = best_n ? s : NULL;
	}
	for (size_t i = 0; i < nl; i++) {
		if (!*first_list)
			*first_list = lists[i];
		size_t d = dated_items(a, lists[i]);
		if (d > best_n) {
			best = lists[i];
			best_n = d;
		}
	}
	free(lists);
	return best;
}

/* The list (or container) of updates after the timeline heading. A "Timeline" heading inside a
 * postmortem labels a list without dates, so every label is tried for dated entries first. */
static xmlNode *find_timeline(struct agg *a)
{
	xmlNode *first_list = NULL, *fallback = NULL;
	for (size_t i = 0; i < a->ncands; i++) {
		struct cand *c = &a->cands[i];
		if (c->field != F_TIMELINE || excluded(c->label, NULL, 0))
			continue;
		/* among the following siblings, at the label's level or up to three above, before the
		 * next heading (a "More incidents" list is not the timeline) */
		xmlNode *cur = c->label;
		int stop = 0;
		for (int up = 0; up < 4 && cur && cur != a->root && !stop; up++, cur = cur->parent) {
			for (xmlNode *s = cur->next; s && !stop; s = s->next) {
				if (s->type != XML_ELEMENT_NODE || px_is_hidden(s))
					continue;
				/* a new section begins with its heading */
				for (xmlNode *x = s; x && !stop; x = first_child_el(x))
					stop = is_heading(x);
				if (stop)
					break;
				xmlNode *t = best_container(a, s, &first_list);
				if (t)
					return t;
			}
		}
		if (!fallback) {
			xmlNode *v = label_value(c->label, a->root);
			if (v && v->type == XML_ELEMENT_NODE)
				fallback = v;
		}
	}
	/* entries without dates: the first list, else whatever the first label labels */
	return first_list ? first_list : fallback;
}

/* Remove x and y (either may be NULL or inside the other) and the wrappers they leave empty, up to
 * (not including) stop. NOTE: everything is unlinked before anything is freed, because emptying one
 * wrapper can take the other node with it. */
static void remove_nodes(xmlNode *x, xmlNode *y, xmlNode *stop)
{
	xmlNode *n[2] = { x, y }, *parent[2] = { NULL, NULL }, *top[2] = { NULL, NULL };
	if (x && y && inside(y, x))
		n[1] = NULL;
	else if (x && y && inside(x, y))
		n[0] = NULL;
	for (int i = 0; i < 2; i++) {
		if (n[i] == stop)
			n[i] = NULL;
		if (n[i]) {
			parent[i] = n[i]->parent;
			xmlUnlinkNode(n[i]);
		}
	}
	for (int i = 0; i < 2; i++) {
		for (xmlNode *p = parent[i]; p && p != stop && p->type == XML_ELEMENT_NODE; p = p->parent) {
			char *t = node_line(p);
			int empty = !*t;
			free(t);
			if (!empty)
				break;
			top[i] = p;
		}
	}
	if (top[0] && top[1] && (inside(top[1], top[0]) || inside(top[0], top[1]))) {
		if (inside(top[0], top[1]))
			top[0] = top[1];
		top[1] = NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (top[i]) {
			xmlUnlinkNode(top[i]);
			xmlFreeNode(top[i]);
		}
		xmlFreeNode(n[i]);
	}
}

static void read_update(struct agg *a, xmlNode *it, size_t idx)
{
	struct rec_incident *inc = a->inc;
	struct rec_update *u = rec_incident_add_update(inc);
	char *what = xasprintf("%s update %zu", inc->id ? inc->id : "incident", idx + 1);
	char *did = px_attr(it, "data-update-id");
	rec_set(&u->id, did);
	free(did);

	/* the time: a <time> element, else the first short text that reads as a date */
	xmlNode *tn = px_find(it, "time", NULL);
	xmlNode **cs;
	size_t n = chips(it, &cs);
	if (!tn) {
		for (size_t i = 0; i < n && !tn; i++) {
			char *t = node_line(cs[i]);
			int64_t v;
			if (strlen(t) <= 64 && has_digit(t) && date_parse(t, &a->dctx, &v, NULL) == 0)
				tn = cs[i];
			free(t);
		}
	}
	if (tn)
		value_time(a, tn, what, &u->at, 1);

	/* the status: a known word before the time or beside it */
	xmlNode *sn = NULL, *unknown = NULL;
	for (size_t i = 0; i < n && !sn; i++) {
		xmlNode *c = cs[i];
		if (tn && (c == tn || inside(c, tn) || inside(tn, c)))
			continue;
		int header = !tn || c->parent == tn->parent || precedes(c, tn, it);
		if (!header)
			continue;
		char *t = node_line(c);
		if (strlen(t) <= 40 && norm_status(t))
			sn = c;
		else if (!unknown && strlen(t) <= 24 && !strchr(t, '.') && tn && precedes(c, tn, it))
			unknown = c;
		free(t);
	}
	free(cs);
	if (!sn)
		sn = unknown;
	if (sn) {
		char *t = node_line(sn);
		rec_set(&u->status_raw, t);
		rec_set(&u->status, norm_status(t));
		if (!u->status)
			rec_doc_add_error(a->doc, "%s: unknown status '%s'", what, t);
		free(t);
	}

	/* the body: what is left once the status and the time are taken out */
	remove_nodes(sn, tn, it);
	char *body = node_text(it);
	rec_set(&u->body, *body ? body : NULL);
	free(body);
	xmlNode *br = it;
	for (;;) {
		xmlNode *only = NULL;
		int elements = 0;
		for (xmlNode *c = br->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE && !px_is_hidden(c)) {
				char *t = node_line(c);
				if (*t) {
					only = c;
					elements++;
				}
				free(t);
			}
		if (elements != 1 || has_direct_text(br))
			break;
		br = only;
	}
	char *html = px_inner_html(br);
	if (strchr(html, '<') && u->body)
		rec_set(&u->body_html, html);
	free(html);
	free(what);
}

static void read_timeline(struct agg *a)
{
	xmlNode **items;
	size_t n = timeline_items(a->timeline, &items);
	for (size_t i = 0; i < n; i++)
		read_update(a, items[i], i);
	free(items);
	struct rec_incident *inc = a->inc;
	/* aggregators list oldest first; a newest-first page shows in the times */
	if (inc->n_updates > 1) {
		struct rec_time *f = &inc->updates[0].at, *l = &inc->updates[inc->n_updates - 1].at;
		if (f->ok && l->ok && f->t > l->t)
			rec_incident_reverse_updates(inc);
	}
}

/* A postmortem shown in its own section rather than as the timeline's last entry. */
static void read_postmortem_section(struct agg *a)
{
	struct rec_incident *inc = a->inc;
	for (size_t i = 0; i < inc->n_updates; i++)
		if (str_eq(inc->updates[i].status, "postmortem"))
			return;
	for (size_t i = 0; i < a->ncands; i++) {
		struct cand *c = &a->cands[i];
		if (c->field != F_POSTMORTEM || !is_heading(c->label) || excluded(c->label, a->excl, a->nexcl))
			continue;
		xmlNode *v = label_value(c->label, a->root);
		if (!v || v->type != XML_ELEMENT_NODE)
			continue;
		struct rec_postmortem *pm = xcalloc(1, sizeof *pm);
		xmlNode *tn = px_find(v, "time", NULL);
		if (tn) {
			value_time(a, tn, "postmortem", &pm->published, 1);
			/* "Published <time>": the line goes with its time */
			xmlNode *line = tn;
			if (tn->parent && tn->parent != v) {
				char *pt = node_line(tn->parent), *tt = node_line(tn);
				if (strlen(pt) <= strlen(tt) + 20)
					line = tn->parent;
				free(pt);
				free(tt);
			}
			remove_nodes(line, NULL, v);
		}
		char *body = node_text(v);
		rec_set(&pm->body, *body ? body : NULL);
		free(body);
		char *html = px_inner_html(v);
		if (strchr(html, '<'))
			rec_set(&pm->body_html, html);
		free(html);
		inc->postmortem = pm;
		return;
	}
}

static void check_duration(struct agg *a)
{
	struct rec_incident *inc = a->inc;
	xmlNode *v = field_value(a, F_DURATION);
	char *t = v ? node_line(v) : NULL;
	int64_t d = t ? duration_parse(t) : -1;
	if (t && d < 0 && has_digit(t))
		rec_doc_add_error(a->doc, "%s: unrecognised duration '%s'", inc->id ? inc->id : "incident", t);
	if (d >= 0 && inc->started.ok && inc->resolved.ok && inc->resolved.t >= inc->started.t) {
		/* the page rounds from seconds the text does not show: allow a minute either way */
		int64_t diff = inc->resolved.t - inc->started.t - d;
		if (diff <= -120 || diff >= 120)
			rec_doc_add_error(a->doc, "%s: the duration '%s' disagrees with the start and "
					  "resolution times", inc->id ? inc->id : "incident", t);
	}
	if (inc->started.ok && inc->resolved.ok && inc->resolved.t < inc->started.t)
		rec_doc_add_error(a->doc, "%s: resolved (%s) before it started (%s)",
				  inc->id ? inc->id : "incident", inc->resolved.text ? inc->resolved.text : "?",
				  inc->started.text ? inc->started.text : "?");
	free(t);
}

static int looks_like(const char *data, size_t len, char **cause)
{
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return set_cause(cause, "expected an HTML page but got JSON");
	size_t head = len < 4096 ? len : 4096;
	if (i < len && data[i] == '<' && !memcase(data, head, "<html") && !memcase(data, head, "<!doctype html") &&
	    (memcase(data, head, "<?xml") || memcase(data, head, "<rss") || memcase(data, head, "<feed")))
		return set_cause(cause, "expected an HTML page but got XML (a feed?)");
	if (i == len || data[i] != '<')
		return set_cause(cause, "not an HTML page");
	return 0;
}

/* One incident from the page; -1 when the page has no timeline (not an aggregator page, or cut short). */
int agg_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause)
{
	if (looks_like(data, len, cause) < 0)
		return -1;
	xmlDoc *html = px_read_html(data, len, cause);
	if (!html)
		return -1;
	struct agg a = { 0 };
	a.o = o;
	a.doc = doc;
	a.html = html;
	if (o->has_now) {
		a.dctx.has_ref = 1;
		a.dctx.ref = o->now;
	}
	xmlNode *top = xmlDocGetRootElement(html);
	a.root = px_find(top, "main", NULL);
	if (!a.root)
		a.root = px_child(top, "body");
	if (!a.root)
		a.root = top;
	int rc = 0;
	a.ncands = find_labels(a.root, &a.cands);
	a.timeline = find_timeline(&a);
	int fields = 0;
	for (size_t i = 0; i < a.ncands; i++)
		fields += a.cands[i].field == F_STARTED || a.cands[i].field == F_DETECTED;
	if (!a.timeline && !fields) {
		rc = set_cause(cause, "not an aggregator incident page: no update timeline and no "
				      "Started or Detected by field");
		goto out;
	}
	if (!a.timeline) {
		rc = set_cause(cause, "no update timeline on the page (truncated?)");
		goto out;
	}
	xmlNode **items;
	size_t nitems = timeline_items(a.timeline, &items);
	free(items);
	if (!nitems) {
		rc = set_cause(cause, "the update timeline is empty (truncated page?)");
		goto out;
	}
	a.excl[a.nexcl++] = a.timeline;

	a.inc = rec_doc_add_incident(doc);
	read_identity(&a);
	if (a.inc->n_ids)
		rec_set(&a.inc->id, a.inc->ids[0].value);
	read_header(&a);
	/* "Ongoing" says less than the timeline's latest status: it only stands in for a missing one */
	char *open_raw = NULL;
	read_badges(&a, &open_raw);
	read_source(&a);
	field_time(&a, F_STARTED, &a.inc->started);
	field_time(&a, F_RESOLVED, &a.inc->resolved);
	field_time(&a, F_SCHED_FOR, &a.inc->scheduled_for);
	field_time(&a, F_SCHED_UNTIL, &a.inc->scheduled_until);
	field_time(&a, F_UPDATED, &a.inc->updated);
	if (!a.inc->started.ok) {
		struct rec_time det = { 0 };
		if (field_time(&a, F_DETECTED, &det))
			rec_time_set(&a.inc->started, det.t, det.text);
		rec_time_clear(&det);
	}
	read_components(&a);
	read_postmortem_section(&a);
	read_timeline(&a);
	int told = 0;
	for (size_t i = 0; i < a.inc->n_updates; i++)
		told |= a.inc->updates[i].status && !str_eq(a.inc->updates[i].status, "update");
	if (!a.inc->status && open_raw && !told) {
		rec_set(&a.inc->status_raw, open_raw);
		rec_set(&a.inc->status, norm_status(open_raw));
	}
	free(open_raw);
	if (!a.inc->title)
		rec_doc_add_error(doc, "%s: no title", a.inc->id ? a.inc->id : "incident");
	check_duration(&a);
	if (!memcase(data + (len > 2048 ? len - 2048 : 0), len > 2048 ? 2048 : len, "</html>"))
		rec_doc_add_error(doc, "the page ends before </html>: it may be truncated");
out:
	free(a.cands);
	free(a.base);
	xmlFreeDoc(html);
	return rc;
}
