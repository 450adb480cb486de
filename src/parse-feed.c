/* parse-feed.c: RSS 2.0 / RSS 1.0 and Atom 1.0 feeds. Two kinds share the reading:
 * statuspage-feed, Atlassian Statuspage's /history.rss and /history.atom (one item per incident, its
 * timeline as entity-encoded HTML blocks, newest first, dates without a year), and feed, the generic
 * reader for other status feeds (incident.io, Better Stack, AWS, Azure, Google Cloud, cState...). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include "normalize.h"
#include "parse-xml.h"
#include "parse.h"
#include "util.h"

#define ATOM_NS "http://www.w3.org/2005/Atom"
#define SNIFF_BYTES 65536
#define MARKER_BYTES (256u << 10)
#define SCHEDULED_EVENT "THIS IS A SCHEDULED EVENT"

/* ---- sniffing ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The first element's name (prefix included) into out, after the prolog (declaration, comments,
 * processing instructions, doctype); "" when there is none in the first SNIFF_BYTES. */
static void sniff_root(const char *data, size_t len, char *out, size_t outlen, int *html_doctype)
{
	size_t n = len < SNIFF_BYTES ? len : SNIFF_BYTES, i = 0;
	out[0] = '\0';
	*html_doctype = 0;
	while (i < n) {
		while (i < n && is_space(data[i]))
			i++;
		if (i >= n || data[i] != '<')
			return;
		if (i + 1 < n && data[i + 1] == '?') {
			const char *e = memstr(data + i, n - i, "?>");
			if (!e)
				return;
			i = (size_t)(e - data) + 2;
		} else if (n - i >= 4 && !memcmp(data + i, "<!--", 4)) {
			const char *e = memstr(data + i, n - i, "-->");
			if (!e)
				return;
			i = (size_t)(e - data) + 3;
		} else if (i + 1 < n && data[i + 1] == '!') {
			if (n - i >= 14 && !strncasecmp(data + i, "<!DOCTYPE html", 14))
				*html_doctype = 1;
			int depth = 0;
			for (i += 2; i < n; i++) {
				if (data[i] == '[')
					depth++;
				else if (data[i] == ']')
					depth--;
				else if (data[i] == '>' && depth <= 0)
					break;
			}
			i++;
		} else {
			size_t k = 0;
			for (i++; i < n && k + 1 < outlen && !is_space(data[i]) && data[i] != '>' && data[i] != '/'; i++)
				out[k++] = data[i];
			out[k] = '\0';
			return;
		}
	}
}

static int feed_root_name(const char *name)
{
	const char *colon = strchr(name, ':');
	const char *local = colon ? colon + 1 : name;
	return !strcmp(local, "rss") || !strcmp(local, "feed") || !strcmp(local, "RDF");
}

static int looks_like_feed(const char *data, size_t len)
{
	char name[64];
	int html;
	sniff_root(data, len, name, sizeof name, &html);
	return !html && feed_root_name(name);
}

/* Statuspage feeds: a feed root plus Statuspage's tag ids, block markup or channel description. */
int sp_feed_detect(const char *data, size_t len)
{
	if (!looks_like_feed(data, len))
		return 0;
	size_t n = len < MARKER_BYTES ? len : MARKER_BYTES;
	if (memstr(data, n, ",2005:/history") || memstr(data, n, ",2005:Incident/"))
		return 95;
	if (memstr(data, n, "data-var=") ||
	    (memstr(data, n, "&lt;small&gt;") && memstr(data, n, "&lt;strong&gt;")) ||
	    (memstr(data, n, "<small>") && memstr(data, n, "<strong>")))
		return 90;
	if (memstr(data, n, "<description>Statuspage</description>"))
		return 85;
	return 0;
}

/* Any RSS or Atom root, scored below every more specific kind. */
int feed_detect(const char *data, size_t len)
{
	return looks_like_feed(data, len) ? 50 : 0;
}

/* ---- reading the XML layer ---- */

struct feed {
	xmlDoc *doc;
	int atom;
	xmlNode *head;    /* the RSS channel or the Atom feed element */
	xmlNode *items;   /* the parent of the items (channel, feed, or rdf:RDF) */
};

static xmlDoc *read_feed(const char *data, size_t len, struct feed *f, char **cause)
{
	memset(f, 0, sizeof *f);
	char name[64];
	int html;
	size_t i = 0;
	while (i < len && is_space(data[i]))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '[')) {
		set_cause(cause, "not an RSS or Atom feed: the document is JSON");
		return NULL;
	}
	sniff_root(data, len, name, sizeof name, &html);
	if (html || str_ieq(name, "html")) {
		set_cause(cause, "not an RSS or Atom feed: the document is an HTML page");
		return NULL;
	}
	xmlDoc *doc = px_read_xml(data, len, cause);
	if (!doc)
		return NULL;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (px_is(root, "feed")) {
		f->atom = 1;
		f->head = f->items = root;
	} else if (px_is(root, "rss")) {
		f->head = f->items = px_child(root, "channel");
		if (!f->head) {
			set_cause(cause, "RSS document without a <channel> element");
			xmlFreeDoc(doc);
			return NULL;
		}
	} else if (px_is(root, "RDF")) {
		f->head = px_child(root, "channel");
		f->items = root;
	} else {
		set_cause(cause, "not an RSS or Atom feed: the root element is <%s>", (const char *)root->name);
		xmlFreeDoc(doc);
		return NULL;
	}
	f->doc = doc;
	return doc;
}

static int in_atom_ns(const xmlNode *n)
{
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ATOM_NS);
}

/* First child element with that local name; an RSS channel's atom:link is not its link. */
static xmlNode *el(const xmlNode *n, const char *name, int atom)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (px_is(c, name) && (atom || !in_atom_ns(c)))
			return c;
	return NULL;
}

/* The element's text, whitespace squashed; NULL when missing or empty. */
static char *el_text(const xmlNode *n, const char *name, int atom)
{
	xmlNode *c = el(n, name, atom);
	if (!c)
		return NULL;
	char *raw = px_content(c);
	char *s = text_squash(raw);
	free(raw);
	if (!*s) {
		free(s);
		return NULL;
	}
	return s;
}

/* Plain text of an Atom text construct (type text, html or xhtml), squashed. */
static char *atom_text(const xmlNode *n)
{
	if (!n)
		return NULL;
	char *type = px_attr(n, "type");
	char *t;
	if (str_eq(type, "html")) {
		char *s = px_content(n);
		t = px_html_fragment_text(s, strlen(s));
		free(s);
	} else if (str_eq(type, "xhtml")) {
		xmlNode *div = px_child(n, "div");
		t = px_text(div ? div : n);
	} else {
		t = px_content(n);
	}
	free(type);
	char *r = text_squash(t);
	free(t);
	if (!*r) {
		free(r);
		return NULL;
	}
	return r;
}

static char *atom_link(const xmlNode *n)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (!px_is(c, "link"))
			continue;
		char *rel = px_attr(c, "rel");
		int alt = !rel || str_eq(rel, "alternate");
		free(rel);
		if (!alt)
			continue;
		char *href = px_attr(c, "href");
		if (href && *href)
			return href;
		free(href);
	}
	return NULL;
}

struct item {
	xmlNode *content;  /* content, summary, content:encoded or description, or NULL */
	int atom;
	char *title;
	char *link;
	char *guid;        /* RSS guid or Atom id */
	char *published;   /* RSS pubDate (or dc:date), Atom published */
	char *updated;     /* Atom updated */
	char *maint_end;   /* Statuspage RSS maintenanceEndDate */
};

static void item_read(struct item *it, xmlNode *n, int atom)
{
	memset(it, 0, sizeof *it);
	it->atom = atom;
	if (atom) {
		it->title = atom_text(el(n, "title", 1));
		it->link = atom_link(n);
		it->guid = el_text(n, "id", 1);
		it->published = el_text(n, "published", 1);
		if (!it->published)
			it->published = el_text(n, "issued", 1);
		it->updated = el_text(n, "updated", 1);
		if (!it->updated)
			it->updated = el_text(n, "modified", 1);
		it->content = el(n, "content", 1);
		if (!it->content)
			it->content = el(n, "summary", 1);
		return;
	}
	it->title = el_text(n, "title", 0);
	it->link = el_text(n, "link", 0);
	it->guid = el_text(n, "guid", 0);
	if (!it->link && it->guid && str_starts(it->guid, "http")) {
		char *perma = px_attr(el(n, "guid", 0), "isPermaLink");
		if (!str_eq(perma, "false"))
			it->link = xstrdup(it->guid);
		free(perma);
	}
	if (!it->link) {
		xmlNode *al = el(n, "link", 1);
		it->link = al ? px_attr(al, "href") : NULL;
	}
	it->published = el_text(n, "pubDate", 0);
	if (!it->published)
		it->published = el_text(n, "date", 0);
	it->maint_end = el_text(n, "maintenanceEndDate", 0);
	it->content = el(n, "encoded", 0);
	if (!it->content)
		it->content = el(n, "description", 0);
}

static void item_release(struct item *it)
{
	free(it->title);
	free(it->link);
	free(it->guid);
	free(it->published);
	free(it->updated);
	free(it->maint_end);
}

/* ---- the HTML layer ---- */

/* 1 when s holds a tag (it is HTML, not plain text). */
static int has_markup(const char *s)
{
	for (const char *p = strchr(s, '<'); p; p = strchr(p + 1, '<')) {
		char c = p[1];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!')
			return 1;
	}
	return 0;
}

/* The item's content as an HTML tree: *root's children are the fragment. Returns NULL for plain text
 * (then *text is set, or stays NULL when there is no content at all). *own tells whether the returned
 * document must be freed (an xhtml div lives in the feed's own document). */
static xmlDoc *item_html(const struct item *it, xmlNode **root, char **text, int *own)
{
	*root = NULL;
	*text = NULL;
	*own = 0;
	if (!it->content)
		return NULL;
	char *type = it->atom ? px_attr(it->content, "type") : NULL;
	xmlDoc *doc = NULL;
	if (str_eq(type, "xhtml")) {
		xmlNode *div = px_child(it->content, "div");
		*root = div ? div : it->content;
		doc = it->content->doc;
	} else {
		char *s = px_content(it->content);
		int html = it->atom ? str_eq(type, "html") || str_eq(type, "text/html") : has_markup(s);
		if (html) {
			doc = px_read_fragment(s, strlen(s));
			*root = px_fragment_root(doc);
			*own = 1;
			free(s);
		} else if (!it->atom) {
			/* RSS descriptions are HTML even without tags: character references still apply */
			*text = html_unescape(s, strlen(s));
			free(s);
		} else {
			*text = s;
		}
	}
	free(type);
	return doc;
}

static void dump_node(struct buf *b, xmlNode *n)
{
	xmlBuffer *xb = xmlBufferCreate();
	htmlNodeDump(xb, n->doc, n);
	buf_add(b, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	xmlBufferFree(xb);
}

static int is_blank_text(const xmlNode *n)
{
	if (n->type != XML_TEXT_NODE)
		return 0;
	for (const char *s = (const char *)n->content; s && *s; s++)
		if (!is_space(*s))
			return 0;
	return 1;
}

static int is_filler(const xmlNode *n)
{
	return px_is(n, "br") || is_blank_text(n) || n->type == XML_COMMENT_NODE;
}

/* Serialized HTML of the siblings from..to (inclusive; to NULL: to the end), trimmed; NULL when empty.
 * With dash set, a leading "-" separator (Statuspage's "<strong>Label</strong> - body") goes. */
static char *range_html(xmlNode *from, xmlNode *to, int dash)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	for (xmlNode *c = from; c; c = c->next) {
		dump_node(&b, c);
		if (c == to)
			break;
	}
	char *s = b.data;
	while (is_space(*s))
		s++;
	if (dash) {
		if (*s == '-')
			s++;
		else if (!strncmp(s, "\xe2\x80\x93", 3) || !strncmp(s, "\xe2\x80\x94", 3))
			s += 3;
		while (is_space(*s))
			s++;
		/* "&nbsp;-" and friends are not separators; leave them */
	}
	size_t l = strlen(s);
	while (l && is_space(s[l - 1]))
		l--;
	char *r = l ? xstrndup(s, l) : NULL;
	buf_release(&b);
	return r;
}

/* Body text and HTML from an HTML string (NULL: both stay NULL). */
static void set_body(struct rec_update *u, char *html)
{
	if (!html)
		return;
	char *text = px_html_fragment_text(html, strlen(html));
	rec_set(&u->body, *text ? text : NULL);
	rec_set(&u->body_html, html);
	free(text);
	free(html);
}

/* ---- dates ---- */

/* Parse text into t (recording a per-item error when it fails); 0 when t is set. */
static int read_date(struct rec_doc *doc, const char *text, const struct date_ctx *ctx, struct rec_time *t,
		     const char *what)
{
	if (!text || !*text)
		return -1;
	int64_t v;
	char *cause = NULL;
	if (date_parse(text, ctx, &v, &cause) == 0) {
		rec_time_set(t, v, text);
		return 0;
	}
	rec_set(&t->text, text);
	rec_doc_add_error(doc, "%s: %s", what, cause);
	free(cause);
	return -1;
}

static void copy_time(struct rec_time *dst, const struct rec_time *src)
{
	rec_time_clear(dst);
	if (src->ok)
		rec_time_set(dst, src->t, src->text);
	else
		rec_set(&dst->text, src->text);
}

/* ---- identifiers ---- */

/* The id after "/incidents/" in a URL (Statuspage code, incident.io ULID), or NULL. */
static char *incident_code(const char *url)
{
	const char *p = url ? strstr(url, "/incidents/") : NULL;
	if (!p)
		return NULL;
	p += strlen("/incidents/");
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9'))
		n++;
	if (!n || (p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#'))
		return NULL;
	return xstrndup(p, n);
}

static void add_code_id(struct rec_incident *inc, const char *code)
{
	if (code)
		rec_incident_add_id(inc, strlen(code) == 26 ? "ulid" : "code", code);
}

/* Page name from a Statuspage feed title: "GitHub Status - Incident History" is "GitHub". */
static char *page_name(const char *title)
{
	if (!title)
		return NULL;
	static const char *const suffixes[] = { " - Incident History", " Incident History" };
	char *s = xstrdup(title);
	size_t l = strlen(s);
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]);
		if (l > sl && !strcasecmp(s + l - sl, suffixes[i])) {
			l -= sl;
			s[l] = '\0';
			break;
		}
	}
	if (l > 7 && !strcasecmp(s + l - 7, " Status"))
		s[l - 7] = '\0';
	if (!*s || !strcasecmp(s, "status")) {
		free(s);
		return xstrdup(title);
	}
	return s;
}

static void read_page(struct rec_doc *doc, const struct feed *f, int statuspage)
{
	char *title = f->atom ? atom_text(el(f->head, "title", 1)) : el_text(f->head, "title", 0);
	char *link = f->atom ? atom_link(f->head) : el_text(f->head, "link", 0);
	char *name = statuspage ? page_name(title) : (title ? xstrdup(title) : NULL);
	if (!name && f->atom) {
		xmlNode *author = el(f->head, "author", 1);
		name = el_text(author, "name", 1);
	}
	rec_set(&doc->page_name, name);
	rec_set(&doc->page_url, link);
	free(title);
	free(link);
	free(name);
}

/* ---- statuspage-feed ---- */

static int is_bold(const xmlNode *n)
{
	return px_is(n, "strong") || px_is(n, "b");
}

/* The first element child, skipping text. */
static xmlNode *first_element(const xmlNode *n)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

static char *node_words(const xmlNode *n)
{
	char *t = px_text(n);
	char *r = text_squash(t);
	free(t);
	return r;
}

/* 1 for <p><strong>THIS IS A SCHEDULED EVENT Jan 16, 12:00 - 16:00 GMT</strong></p>. */
static int is_schedule(const xmlNode *p, char **window)
{
	if (!px_is(p, "p") || px_child(p, "small"))
		return 0;
	xmlNode *s = px_child(p, "strong");
	if (!s)
		return 0;
	char *t = node_words(s);
	size_t l = strlen(SCHEDULED_EVENT);
	if (strncasecmp(t, SCHEDULED_EVENT, l)) {
		free(t);
		return 0;
	}
	char *w = t + l;
	while (*w == ' ')
		w++;
	*window = xstrdup(w);
	free(t);
	return 1;
}

static int is_block(const xmlNode *p)
{
	return px_is(p, "p") && (px_child(p, "small") || px_child(p, "strong"));
}

/* "Jan 16, 12:00 - 16:00 GMT" or "Mar 16, 22:00 - Mar 17, 02:00 UTC": the maintenance window. Its year
 * comes from the oldest update (the announcement), which is never much later than the window start. */
static void read_window(struct rec_doc *doc, struct rec_incident *inc, const char *w, const struct date_ctx *ctx,
			const char *what)
{
	const char *dash = strstr(w, " - ");
	const char *zone = strrchr(w, ' ');
	if (!dash || !zone || zone < dash + 3) {
		rec_doc_add_error(doc, "%s: unrecognised maintenance window '%s'", what, w);
		return;
	}
	char *left = xstrndup(w, (size_t)(dash - w));
	char *right = xstrndup(dash + 3, (size_t)(zone - dash - 3));
	char *start = xasprintf("%s%s", left, zone);
	char *end;
	const char *comma = strchr(left, ',');
	if ((right[0] >= 'A' && right[0] <= 'Z') || (right[0] >= 'a' && right[0] <= 'z') || !comma)
		end = xasprintf("%s%s", right, zone);
	else
		end = xasprintf("%.*s, %s%s", (int)(comma - left), left, right, zone);
	/* NOTE: year-less dates land on or before ref + 7 days, so ref = t + 351 days picks the first
	 * occurrence after t - 7 days, and ref = start + 358 days the first one after the start */
	struct date_ctx sctx = *ctx;
	int found = 0;
	int64_t oldest = 0;
	for (size_t i = 0; i < inc->n_updates; i++) {
		if (inc->updates[i].at.ok && (!found || inc->updates[i].at.t < oldest)) {
			oldest = inc->updates[i].at.t;
			found = 1;
		}
	}
	if (found)
		sctx = (struct date_ctx){ 1, oldest + 351 * 86400 };
	if (read_date(doc, start, &sctx, &inc->scheduled_for, what) == 0) {
		struct date_ctx after = { 1, inc->scheduled_for.t + 358 * 86400 };
		read_date(doc, end, &after, &inc->scheduled_until, what);
	} else {
		read_date(doc, end, &sctx, &inc->scheduled_until, what);
	}
	free(left);
	free(right);
	free(start);
	free(end);
}

/* One block: <p><small>DATE</small><br><strong>LABEL</strong> - BODY</p>, plus any stray siblings the
 * HTML parser pushed out of the paragraph (up to but excluding stop). */
static void read_block(struct rec_doc *doc, struct rec_incident *inc, xmlNode *p, xmlNode *stop,
		       const struct date_ctx *ctx, const char *what)
{
	struct rec_update *u = rec_incident_add_update(inc);
	xmlNode *small = px_child(p, "small");
	xmlNode *label = NULL;
	for (xmlNode *c = small ? small->next : p->children; c; c = c->next) {
		if (is_bold(c)) {
			label = c;
			break;
		}
	}
	if (small) {
		char *date = node_words(small);
		if (*date)
			read_date(doc, date, ctx, &u->at, what);
		free(date);
	}
	if (label) {
		char *l = node_words(label);
		rec_set(&u->status_raw, *l ? l : NULL);
		rec_set(&u->status, norm_status(l));
		if (*l && !u->status)
			rec_doc_add_error(doc, "%s: unknown update label '%s'", what, l);
		free(l);
	}
	xmlNode *from = label ? label->next : small ? small->next : p->children;
	while (from && is_filler(from))
		from = from->next;
	/* the body inside the paragraph, then what follows it outside */
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	char *in = from ? range_html(from, NULL, label != NULL) : NULL;
	if (in)
		buf_adds(&b, in);
	free(in);
	if (p->next && p->next != stop) {
		xmlNode *last = p->next;
		while (last->next && last->next != stop)
			last = last->next;
		char *out = range_html(p->next, last, 0);
		if (out)
			buf_adds(&b, out);
		free(out);
	}
	set_body(u, b.len ? buf_detach(&b) : NULL);
	buf_release(&b);
}

/* Reads the blocks under root into inc (newest first, as served); returns how many there were. */
static size_t read_blocks(struct rec_doc *doc, struct rec_incident *inc, xmlNode *root, const struct date_ctx *ctx,
			  const char *what)
{
	size_t n = 0;
	char *window = NULL;
	xmlNode *c = root ? root->children : NULL;
	while (c) {
		char *w = NULL;
		if (is_schedule(c, &w)) {
			free(window);
			window = w;
			c = c->next;
			continue;
		}
		if (!is_block(c)) {
			c = c->next;
			continue;
		}
		xmlNode *next = c->next;
		while (next && !is_block(next))
			next = next->next;
		read_block(doc, inc, c, next, ctx, what);
		n++;
		c = next;
	}
	if (window)
		read_window(doc, inc, window, ctx, what);
	free(window);
	return n;
}

static void generic_update(struct rec_doc *doc, struct rec_incident *inc, const struct item *it,
			   const struct rec_time *at, const char *what, int *maintenance);

static void sp_item(struct rec_doc *doc, const struct item *it, const struct parse_opts *o)
{
	struct rec_incident *inc = rec_doc_add_incident(doc);
	char *code = incident_code(it->link);
	add_code_id(inc, code);
	rec_incident_add_id(inc, it->atom ? "atom" : "guid", it->guid);
	rec_set(&inc->url, it->link);
	rec_set(&inc->title, it->title);
	char *what = xasprintf("incident %s", code ? code : it->guid ? it->guid : it->title ? it->title : "?");
	free(code);

	/* pubDate/published is the latest update's time: the reference for year-less block dates */
	struct rec_time pub = { 0 }, upd = { 0 };
	read_date(doc, it->published, NULL, &pub, what);
	read_date(doc, it->updated, NULL, &upd, what);
	struct date_ctx ctx = { 0 };
	if (pub.ok)
		ctx = (struct date_ctx){ 1, pub.t };
	else if (upd.ok)
		ctx = (struct date_ctx){ 1, upd.t };
	else if (o->has_now)
		ctx = (struct date_ctx){ 1, o->now };
	if (it->atom)
		copy_time(&inc->updated, upd.ok || upd.text ? &upd : &pub);
	else if (!it->maint_end)
		copy_time(&inc->updated, &pub);

	xmlNode *root;
	char *text;
	int own;
	xmlDoc *hdoc = item_html(it, &root, &text, &own);
	size_t n = hdoc ? read_blocks(doc, inc, root, &ctx, what) : 0;
	/* an RSS maintenance also carries its window: maintenanceEndDate (with a year) is the end, and
	 * pubDate is the start, which the year-less "THIS IS A SCHEDULED EVENT" line states too */
	if (it->maint_end) {
		rec_time_clear(&inc->scheduled_until);
		read_date(doc, it->maint_end, NULL, &inc->scheduled_until, what);
		if (!inc->scheduled_for.ok)
			copy_time(&inc->scheduled_for, &pub);
	}
	if (n)
		rec_incident_reverse_updates(inc);
	else {
		/* not Statuspage's block markup after all: the item is its one update */
		int maint = 0;
		generic_update(doc, inc, it, pub.ok || pub.text ? &pub : &upd, what, &maint);
		if (maint)
			rec_set(&inc->kind, "maintenance");
	}
	if (own)
		xmlFreeDoc(hdoc);
	free(text);
	rec_time_clear(&pub);
	rec_time_clear(&upd);
	free(what);
}

/* One incident per item; its blocks become the timeline, oldest first. */
int sp_feed_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause)
{
	struct feed f;
	if (!read_feed(data, len, &f, cause))
		return -1;
	read_page(doc, &f, 1);
	for (xmlNode *c = f.items->children; c; c = c->next) {
		if (!px_is(c, f.atom ? "entry" : "item"))
			continue;
		struct item it;
		item_read(&it, c, f.atom);
		sp_item(doc, &it, o);
		item_release(&it);
	}
	xmlFreeDoc(f.doc);
	return 0;
}

/* ---- feed (generic) ---- */

struct aws_prefix {
	const char *text;
	const char *status;
	const char *impact;
};

/* AWS Service Health Dashboard item titles: the prefix is the event's state or severity. */
static const struct aws_prefix aws_prefixes[] = {
	{ "Service is operating normally", "resolved", NULL },
	{ "Informational message", "investigating", "none" },
	{ "Performance issues", "investigating", "minor" },
	{ "Service degradation", "investigating", "minor" },
	{ "Service disruption", "investigating", "major" },
	{ "Service impact", "investigating", "major" },
};

struct title_info {
	char *title;            /* without the state prefix */
	const char *status;
	char *status_raw;
	const char *impact;
	char *impact_raw;
	int maintenance;
};

static const char *skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* "[Resolved] Title" (Better Stack, cState), "RESOLVED: Title" (Google Cloud), "Service is operating
 * normally: [RESOLVED] Title" (AWS): the state moves out of the title. */
static void title_prefix(const char *title, struct title_info *ti)
{
	memset(ti, 0, sizeof *ti);
	if (!title)
		return;
	const char *s = title;
	for (size_t i = 0; i < ARRAY_SIZE(aws_prefixes); i++) {
		size_t l = strlen(aws_prefixes[i].text);
		if (!strncasecmp(s, aws_prefixes[i].text, l) && s[l] == ':') {
			ti->status = aws_prefixes[i].status;
			rec_setn(&ti->status_raw, s, l);
			ti->impact = aws_prefixes[i].impact;
			if (ti->impact)
				rec_setn(&ti->impact_raw, s, l);
			s = skip_spaces(s + l + 1);
			break;
		}
	}
	const char *close = *s == '[' ? strchr(s, ']') : NULL;
	if (close && close - s <= 40) {
		char *word = xstrndup(s + 1, (size_t)(close - s - 1));
		const char *st = norm_status(word);
		if (st || str_ieq(word, "maintenance") || str_ieq(word, "scheduled maintenance")) {
			ti->status = st;
			rec_set(&ti->status_raw, word);
			if (!st || norm_status_is_maintenance(st))
				ti->maintenance = 1;
			s = skip_spaces(close + 1);
		}
		free(word);
	} else if (!ti->status) {
		const char *colon = strchr(s, ':');
		if (colon && colon - s <= 30 && colon[1] == ' ') {
			char *word = xstrndup(s, (size_t)(colon - s));
			const char *st = norm_status(word);
			if (st) {
				ti->status = st;
				rec_set(&ti->status_raw, word);
				s = skip_spaces(colon + 1);
			}
			free(word);
		}
	}
	ti->title = *s ? xstrdup(s) : NULL;
}

static void title_info_release(struct title_info *ti)
{
	free(ti->title);
	free(ti->status_raw);
	free(ti->impact_raw);
}

static int has_component(const struct rec_incident *inc, const char *name)
{
	for (size_t i = 0; i < inc->n_components; i++)
		if (str_eq(inc->components[i].name, name))
			return 1;
	return 0;
}

/* incident.io: <b>Status: Resolved</b><br/><br/>{body}<br/><br/><b>Affected components</b><ul><li>Login
 * (Operational)</li></ul>. Returns 1 when the markup was there. */
static int incidentio_body(struct rec_doc *doc, struct rec_incident *inc, struct rec_update *u, xmlNode *root,
			   const char *what)
{
	xmlNode *first = first_element(root);
	xmlNode *comps = NULL, *status = NULL;
	for (xmlNode *c = root ? root->children : NULL; c; c = c->next) {
		if (!is_bold(c))
			continue;
		char *t = node_words(c);
		if (c == first && !strncasecmp(t, "Status:", 7))
			status = c;
		else if (!strcasecmp(t, "Affected components"))
			comps = c;
		free(t);
		if (comps)
			break;
	}
	if (!status && !(comps && comps == first))
		return 0;
	if (status) {
		char *t = node_words(status);
		const char *raw = skip_spaces(t + 7);
		rec_set(&u->status_raw, *raw ? raw : NULL);
		rec_set(&u->status, norm_status(raw));
		if (*raw && !u->status)
			rec_doc_add_error(doc, "%s: unknown status '%s'", what, raw);
		free(t);
		xmlNode *from = status->next, *to = NULL;
		while (from && from != comps && is_filler(from))
			from = from->next;
		for (xmlNode *c = from; c && c != comps; c = c->next)
			to = c;
		while (to && to != from && is_filler(to))
			to = to->prev;
		if (from && from != comps && to)
			set_body(u, range_html(from, to, 0));
	}
	xmlNode *ul = comps ? px_next(comps, NULL) : NULL;
	for (xmlNode *li = px_is(ul, "ul") ? ul->children : NULL; li; li = li->next) {
		if (!px_is(li, "li"))
			continue;
		char *t = node_words(li);
		size_t l = strlen(t);
		char *open = l && t[l - 1] == ')' ? strrchr(t, '(') : NULL;
		char *st = NULL;
		if (open && open > t) {
			st = xstrndup(open + 1, (size_t)(t + l - 1 - open - 1));
			while (open > t && open[-1] == ' ')
				open--;
			*open = '\0';
		}
		if (*t && !has_component(inc, t)) {
			struct rec_component *c = rec_incident_add_component(inc);
			rec_set(&c->name, t);
			rec_set(&c->status_raw, st);
			rec_set(&c->status, norm_component_status(st));
		}
		free(st);
		free(t);
	}
	return 1;
}

/* The item as one update: its time, its body, and the state its title or incident.io markup gives. */
static void generic_update(struct rec_doc *doc, struct rec_incident *inc, const struct item *it,
			   const struct rec_time *at, const char *what, int *maintenance)
{
	struct rec_update *u = rec_incident_add_update(inc);
	copy_time(&u->at, at);
	xmlNode *root;
	char *text;
	int own;
	xmlDoc *hdoc = item_html(it, &root, &text, &own);
	if (hdoc) {
		if (!incidentio_body(doc, inc, u, root, what))
			set_body(u, range_html(root->children, NULL, 0));
		if (own)
			xmlFreeDoc(hdoc);
	} else if (text) {
		char *t = text_clean(text);
		rec_set(&u->body, *t ? t : NULL);
		free(t);
		free(text);
	}
	struct title_info ti;
	title_prefix(it->title, &ti);
	if (ti.status_raw && !u->status_raw) {
		rec_set(&u->status, ti.status);
		rec_set(&u->status_raw, ti.status_raw);
	}
	*maintenance = ti.maintenance || norm_status_is_maintenance(u->status);
	title_info_release(&ti);
}

/* 1 when two URLs name the same page, trailing slashes aside. */
static int same_url(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	while (la && a[la - 1] == '/')
		la--;
	while (lb && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

/* A link with a path of its own (not the site root nor the feed's page) names one incident. */
static int incident_link(const char *link, const char *page)
{
	if (!link || same_url(link, page))
		return 0;
	const char *p = strstr(link, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p && p[1] && p[1] != '#' && p[1] != '?';
}

/* Updates in time order: reverse the newest-first feed order, then sort when every time is known. */
static void order_updates(struct rec_incident *inc)
{
	rec_incident_reverse_updates(inc);
	for (size_t i = 0; i < inc->n_updates; i++)
		if (!inc->updates[i].at.ok)
			return;
	for (size_t i = 1; i < inc->n_updates; i++) {
		struct rec_update tmp = inc->updates[i];
		size_t j = i;
		for (; j > 0 && inc->updates[j - 1].at.t > tmp.at.t; j--)
			inc->updates[j] = inc->updates[j - 1];
		inc->updates[j] = tmp;
	}
}

struct slot {
	char *key;
	int has_latest;
	int64_t latest;
};

/* One incident per item, or per incident page when several items point at the same one. */
int feed_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause)
{
	struct feed f;
	if (!read_feed(data, len, &f, cause))
		return -1;
	read_page(doc, &f, 0);
	struct slot *slots = NULL;
	struct date_ctx now = { o->has_now, o->now };
	for (xmlNode *c = f.items->children; c; c = c->next) {
		if (!px_is(c, f.atom ? "entry" : "item"))
			continue;
		struct item it;
		item_read(&it, c, f.atom);
		/* items that point at the same incident page are that incident's updates (Better Stack, Google
		 * Cloud); otherwise each item is an incident of its own */
		int by_link = incident_link(it.link, doc->page_url);
		const char *key = by_link ? it.link : it.guid;
		size_t idx = doc->n_incidents;
		for (size_t i = 0; key && i < doc->n_incidents; i++) {
			if (str_eq(slots[i].key, key)) {
				idx = i;
				break;
			}
		}
		char *code = incident_code(it.link);
		char *what = xasprintf("item %s", key ? key : it.link ? it.link : it.title ? it.title : "?");
		if (idx == doc->n_incidents) {
			struct rec_incident *inc = rec_doc_add_incident(doc);
			slots = xreallocarray(slots, doc->n_incidents, sizeof *slots);
			slots[idx] = (struct slot){ key ? xstrdup(key) : NULL, 0, 0 };
			if (by_link)
				add_code_id(inc, code);
			else
				rec_incident_add_id(inc, f.atom ? "atom" : "guid", it.guid);
			rec_incident_add_id(inc, "url", by_link || !it.guid ? it.link : NULL);
			rec_set(&inc->url, it.link);
		}
		struct rec_incident *inc = &doc->incidents[idx];
		struct rec_time pub = { 0 }, upd = { 0 };
		read_date(doc, it.published, &now, &pub, what);
		read_date(doc, it.updated, &now, &upd, what);
		const struct rec_time *at = pub.ok || pub.text ? &pub : &upd;
		const struct rec_time *stamp = upd.ok ? &upd : &pub;
		int maint = 0;
		generic_update(doc, inc, &it, at, what, &maint);
		struct rec_update *u = &inc->updates[inc->n_updates - 1];
		if (it.guid && !str_eq(it.guid, it.link) && !str_eq(it.guid, slots[idx].key))
			rec_set(&u->id, it.guid);
		if (maint)
			rec_set(&inc->kind, "maintenance");
		if (stamp->ok && (!inc->updated.ok || stamp->t > inc->updated.t))
			copy_time(&inc->updated, stamp);
		/* the newest item names the incident */
		int newest = !inc->title || (stamp->ok && (!slots[idx].has_latest || stamp->t > slots[idx].latest));
		if (newest) {
			struct title_info ti;
			title_prefix(it.title, &ti);
			rec_set(&inc->title, ti.title ? ti.title : it.title);
			if (ti.impact_raw) {
				rec_set(&inc->impact, ti.impact);
				rec_set(&inc->impact_raw, ti.impact_raw);
			}
			title_info_release(&ti);
			if (stamp->ok) {
				slots[idx].has_latest = 1;
				slots[idx].latest = stamp->t;
			}
		}
		rec_time_clear(&pub);
		rec_time_clear(&upd);
		free(what);
		free(code);
		item_release(&it);
	}
	for (size_t i = 0; i < doc->n_incidents; i++) {
		order_updates(&doc->incidents[i]);
		free(slots[i].key);
	}
	free(slots);
	xmlFreeDoc(f.doc);
	return 0;
}
