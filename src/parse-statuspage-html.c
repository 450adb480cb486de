/* parse-statuspage-html.c: Atlassian Statuspage HTML pages: the incident page (/incidents/<code>),
 * the home page (/) and the React history index (/history?page=N). See FORMATS.md 1.3, 1.5, 1.6. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "normalize.h"
#include "parse-xml.h"
#include "parse.h"
#include "util.h"

/* ---- detection ---- */

/* 1 when the document starts like an HTML page rather than JSON, a feed or other XML. */
static int looks_like_html(const char *data, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i == len || data[i] != '<')
		return 0;
	size_t n = len - i < 1024 ? len - i : 1024;
	const char *p = data + i;
	int html = memstr(p, n, "<html") || memstr(p, n, "<HTML") || memstr(p, n, "<!DOCTYPE") ||
		   memstr(p, n, "<!doctype");
	if (!html && (memstr(p, n, "<?xml") || memstr(p, n, "<rss") || memstr(p, n, "<feed")))
		return 0;
	return 1;
}

/* 1 when cls appears as a word of a class attribute, not as a CSS or jQuery selector (".cls"). */
static int has_class_marker(const char *data, size_t len, const char *cls)
{
	size_t cl = strlen(cls);
	const char *p = data, *end = data + len;
	while ((p = memstr(p, (size_t)(end - p), cls))) {
		char before = p > data ? p[-1] : 0;
		char after = p + cl < end ? p[cl] : 0;
		if ((before == '"' || before == '\'' || before == ' ') &&
		    (after == '"' || after == '\'' || after == ' '))
			return 1;
		p += cl;
	}
	return 0;
}

static int has_history_marker(const char *data, size_t len)
{
	return memstr(data, len, "data-react-class=\"HistoryIndex\"") ||
	       memstr(data, len, "data-react-class='HistoryIndex'");
}

/* History index: the HistoryIndex React mount point is unmistakable. */
int sp_history_detect(const char *data, size_t len)
{
	if (!looks_like_html(data, len))
		return 0;
	return has_history_marker(data, len) ? 95 : 0;
}

/* Incident page: the updates container as a class attribute (page CSS mentions it too). */
int sp_incident_detect(const char *data, size_t len)
{
	if (!looks_like_html(data, len))
		return 0;
	return has_class_marker(data, len, "incident-updates-container") ? 90 : 0;
}

/* Home page: component rows, open incidents, the page status banner or the past-incidents list. */
int sp_home_detect(const char *data, size_t len)
{
	if (!looks_like_html(data, len))
		return 0;
	int score = 0;
	if (has_class_marker(data, len, "unresolved-incidents") ||
	    has_class_marker(data, len, "component-inner-container") ||
	    has_class_marker(data, len, "incidents-list") || has_class_marker(data, len, "page-status"))
		score = 75;
	if (score && (memstr(data, len, "atlassian.com/software/statuspage") || memstr(data, len, "statuspage.io")))
		score += 10;
	return score;
}

/* ---- shared helpers ---- */

/* Refuse what is plainly not an HTML page before libxml2 wraps it in one. */
static int check_html(const char *data, size_t len, char **cause)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)data[i]))
		i++;
	if (i < len && (data[i] == '{' || data[i] == '['))
		return set_cause(cause, "expected an HTML page but got JSON");
	if (!looks_like_html(data, len))
		return set_cause(cause, "expected an HTML page but got %s",
				 i < len && data[i] == '<' ? "an XML document (a feed?)" : "plain text");
	return 0;
}

/* Text of n as one line (titles, labels, names). Never NULL. */
static char *squashed_text(const xmlNode *n)
{
	char *t = px_text(n);
	char *r = text_squash(t);
	free(t);
	return r;
}

/* Store s in *dst, or NULL when s is empty. */
static void set_nonempty(char **dst, const char *s)
{
	rec_set(dst, s && *s ? s : NULL);
}

/* Rendered text of an element styled white-space: pre-wrap (Statuspage bodies): raw line breaks
 * count as breaks, as a browser shows them. */
static char *pre_wrap_text(const xmlNode *n)
{
	xmlNode *wrap = xmlNewDocNode(n->doc, NULL, BAD_CAST "div", NULL);
	xmlNode *copy = xmlDocCopyNode((xmlNode *)n, n->doc, 1);
	xmlNodeSetName(copy, BAD_CAST "pre");
	xmlAddChild(wrap, copy);
	char *r = px_text(wrap);
	xmlFreeNode(wrap);
	return r;
}

/* The first element below root (document order) whose attribute name equals value, or NULL. */
static xmlNode *find_by_attr(xmlNode *root, const char *name, const char *value)
{
	xmlNode *n = root ? root->children : NULL;
	while (n) {
		if (n->type == XML_ELEMENT_NODE) {
			xmlChar *v = xmlGetProp(n, BAD_CAST name);
			int hit = v && strcmp((const char *)v, value) == 0;
			xmlFree(v);
			if (hit)
				return n;
		}
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n && n != root && !n->next)
			n = n->parent;
		n = (n && n != root) ? n->next : NULL;
	}
	return NULL;
}

/* content of <meta key="value" content="..."> (key is "name" or "property"), or NULL. */
static char *meta_content(xmlNode *root, const char *key, const char *value)
{
	xmlNode **metas;
	size_t n = px_find_all(root, "meta", NULL, &metas);
	char *r = NULL;
	for (size_t i = 0; i < n && !r; i++) {
		char *k = px_attr(metas[i], key);
		if (str_eq(k, value))
			r = px_attr(metas[i], "content");
		free(k);
	}
	free(metas);
	return r;
}

/* href of the first <link> whose rel is rel (and whose type is type, when type is not NULL). */
static char *link_href(xmlNode *root, const char *rel, const char *type)
{
	xmlNode **links;
	size_t n = px_find_all(root, "link", NULL, &links);
	char *r = NULL;
	for (size_t i = 0; i < n && !r; i++) {
		char *rl = px_attr(links[i], "rel"), *ty = px_attr(links[i], "type");
		if (str_ieq(rl, rel) && (!type || str_ieq(ty, type)))
			r = px_attr(links[i], "href");
		free(rl);
		free(ty);
	}
	free(links);
	return r;
}

/* "https://host" of an absolute URL, or NULL. Caller frees. */
static char *url_origin(const char *url)
{
	if (!url || !(str_starts(url, "http://") || str_starts(url, "https://")))
		return NULL;
	const char *host = strstr(url, "://") + 3;
	size_t n = strcspn(host, "/?#");
	return n ? xstrndup(url, (size_t)(host - url) + n) : NULL;
}

/* The incident code in ".../incidents/<code>" (letters and digits only), or NULL. Caller frees. */
static char *code_from_url(const char *url)
{
	const char *p = url ? strstr(url, "/incidents/") : NULL;
	if (!p)
		return NULL;
	p += strlen("/incidents/");
	size_t n = 0;
	while (isalnum((unsigned char)p[n]))
		n++;
	if (!n || (p[n] && !strchr("/?#", p[n])))
		return NULL;
	return xstrndup(p, n);
}

/* An absolute URL for href as found on a page whose origin is origin, or NULL. Caller frees. */
static char *absolute_url(const char *href, const char *origin)
{
	if (!href || !*href)
		return NULL;
	if (str_starts(href, "http://") || str_starts(href, "https://"))
		return xstrdup(href);
	if (str_starts(href, "//"))
		return xasprintf("https:%s", href);
	if (href[0] == '/' && origin)
		return xasprintf("%s%s", origin, href);
	return NULL;
}

/* The status page's origin: from --url, else the canonical link, og:url or the feed links. */
static char *page_origin(xmlNode *root, const struct parse_opts *o)
{
	char *r = url_origin(o->url);
	const char *rels[][2] = {
		{ "canonical", NULL }, { "alternate", "application/atom+xml" }, { "alternate", "application/rss+xml" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rels) && !r; i++) {
		char *h = link_href(root, rels[i][0], rels[i][1]);
		r = url_origin(h);
		free(h);
	}
	if (!r) {
		char *h = meta_content(root, "property", "og:url");
		r = url_origin(h);
		free(h);
	}
	return r;
}

/* The page name from <title>: "GitHub Status - Incident with Actions" and "GitHub Status" both give
 * "GitHub". suffix (the incident title, "Incident History") is cut first when the title ends with it. */
static char *page_name_from_title(xmlNode *root, const char *suffix)
{
	xmlNode *t = px_find(root, "title", NULL);
	if (!t)
		return NULL;
	char *s = squashed_text(t);
	size_t l = strlen(s);
	if (suffix && *suffix) {
		char *tail = xasprintf(" - %s", suffix);
		size_t tl = strlen(tail);
		if (l > tl && strcmp(s + l - tl, tail) == 0)
			s[l -= tl] = '\0';
		free(tail);
	}
	if (l > 7 && strcmp(s + l - 7, " Status") == 0)
		s[l -= 7] = '\0';
	if (!l) {
		free(s);
		return NULL;
	}
	return s;
}

/* Reference time for dates printed without a year: the page's own render time
 * (<meta name="issued" content="<unix seconds>">), else --now. */
static void page_reference(xmlNode *root, const struct parse_opts *o, struct date_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	char *issued = meta_content(root, "name", "issued");
	char *end = NULL;
	long long v = issued && *issued ? strtoll(issued, &end, 10) : 0;
	if (end && !*end && v > 0 && v < 253402300800LL) {
		ctx->has_ref = 1;
		ctx->ref = v;
	} else if (o->has_now) {
		ctx->has_ref = 1;
		ctx->ref = o->now;
	}
	free(issued);
}

/* The word after "impact-" in n's class list ("minor"), or NULL. Caller frees. */
static char *impact_class(const xmlNode *n)
{
	char *c = px_attr(n, "class");
	char *r = NULL;
	for (char *tok = c ? strtok(c, " \t\r\n") : NULL; tok && !r; tok = strtok(NULL, " \t\r\n"))
		if (str_starts(tok, "impact-") && tok[7])
			r = xstrdup(tok + 7);
	free(c);
	return r;
}

static void set_impact(struct rec_incident *inc, const char *raw)
{
	rec_set(&inc->impact_raw, raw);
	rec_set(&inc->impact, norm_impact(raw));
}

/* Visible time text of a timestamp element: "Posted <span class=ago></span>ago. Sep 19, 2023 -
 * 11:34 CEST" gives "Sep 19, 2023 - 11:34 CEST"; the relative part is dropped however it reads. */
static char *visible_time(const xmlNode *n)
{
	char *t = squashed_text(n);
	const char *s = t;
	const char *ago = strstr(s, "ago.");
	if (ago)
		s = ago + 4;
	else if (str_starts(s, "Posted"))
		s += 6;
	xmlNode *span = px_find(n, NULL, "ago");
	char *rel = span ? squashed_text(span) : NULL;
	if (!ago && rel && *rel && str_starts(s, rel))
		s += strlen(rel);
	free(rel);
	char *r = text_squash(s);
	free(t);
	return r;
}

/* Set t from data-datetime-unix (milliseconds, the one exact time on the page) when present,
 * else from the visible text; text is kept as the time's text either way. */
static void read_time(struct rec_doc *doc, const char *what, const xmlNode *stamp, const char *text,
		      const struct date_ctx *ctx, struct rec_time *t)
{
	xmlNode *span = stamp ? px_find(stamp, NULL, "ago") : NULL;
	char *ms = span ? px_attr(span, "data-datetime-unix") : NULL;
	char *end = NULL;
	long long v = ms && *ms ? strtoll(ms, &end, 10) : -1;
	/* NOTE: beyond year 9999 the attribute is garbage, not a time */
	int exact = end && !*end && v >= 0 && v < 253402300800000LL;
	free(ms);
	if (exact) {
		rec_time_set(t, (int64_t)(v / 1000), text && *text ? text : NULL);
		return;
	}
	if (!text || !*text)
		return;
	int64_t when;
	char *cause = NULL;
	if (date_parse(text, ctx, &when, &cause) == 0) {
		rec_time_set(t, when, text);
	} else {
		rec_set(&t->text, text);
		rec_doc_add_error(doc, "%s: %s", what, cause);
	}
	free(cause);
}

/* Label and canonical status of an update; an unknown label is reported, not dropped. */
static void set_update_status(struct rec_doc *doc, const char *what, struct rec_update *u, const char *label)
{
	if (!label || !*label)
		return;
	rec_set(&u->status_raw, label);
	rec_set(&u->status, norm_status(label));
	if (!u->status)
		rec_doc_add_error(doc, "%s: unknown update label '%s'", what, label);
}

static int has_incident(const struct rec_doc *doc, const char *code)
{
	for (size_t i = 0; code && i < doc->n_incidents; i++)
		if (str_eq(doc->incidents[i].id, code))
			return 1;
	return 0;
}

/* ---- affected components: "This incident affected: A, B (C, D), and E." ---- */

struct span {
	const char *p;
	size_t n;
};

static struct span trim_span(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	struct span s = { p, n };
	return s;
}

/* Split s at ", " outside parentheses; the last item loses a leading "and ". With no comma, "A and
 * B" is split at its last " and ". NOTE: a name containing " and " ("Sign up and Login") or ", "
 * ("Frankfurt, Germany - (FRA)") is indistinguishable from two names here; the page gives nothing
 * better (the home page's component list does). */
static size_t split_list(const char *p, size_t n, struct span **out)
{
	size_t count = 0, start = 0;
	int depth = 0;
	*out = NULL;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] == '(')
			depth++;
		else if (i < n && p[i] == ')' && depth > 0)
			depth--;
		if (i == n || (depth == 0 && p[i] == ',' && i + 1 < n && p[i + 1] == ' ')) {
			struct span s = trim_span(p + start, i - start);
			if (s.n) {
				*out = xreallocarray(*out, count + 1, sizeof **out);
				(*out)[count++] = s;
			}
			start = i + 1;
		}
	}
	if (count > 1) {
		struct span *last = &(*out)[count - 1];
		if (last->n > 4 && !memcmp(last->p, "and ", 4))
			*last = trim_span(last->p + 4, last->n - 4);
	} else if (count == 1) {
		struct span s = (*out)[0];
		size_t cut = 0;
		depth = 0;
		for (size_t i = 0; i + 5 <= s.n; i++) {
			if (s.p[i] == '(')
				depth++;
			else if (s.p[i] == ')' && depth > 0)
				depth--;
			else if (depth == 0 && i > 0 && !memcmp(s.p + i, " and ", 5))
				cut = i;
		}
		if (cut) {
			*out = xreallocarray(*out, 2, sizeof **out);
			(*out)[0] = trim_span(s.p, cut);
			(*out)[1] = trim_span(s.p + cut + 5, s.n - cut - 5);
			count = 2;
		}
	}
	return count;
}

static void add_affected(struct rec_incident *inc, struct span name, const char *group)
{
	if (!name.n)
		return;
	char *nm = xstrndup(name.p, name.n);
	for (size_t i = 0; i < inc->n_components; i++) {
		if (str_eq(inc->components[i].name, nm) && str_eq(inc->components[i].group, group)) {
			free(nm);
			return;
		}
	}
	struct rec_component *c = rec_incident_add_component(inc);
	rec_set(&c->name, nm);
	rec_set(&c->group, group);
	free(nm);
}

/* Read the components sentence. "Group (A, B)" lists children of a group, as grouped pages print
 * them; a name that itself ends in parentheses reads the same way and cannot be told apart. */
static void read_affected(struct rec_incident *inc, const char *sentence)
{
	const char *colon = strchr(sentence, ':');
	if (!colon)
		return;
	struct span all = trim_span(colon + 1, strlen(colon + 1));
	if (all.n && all.p[all.n - 1] == '.')
		all.n--;
	struct span *items;
	size_t n = split_list(all.p, all.n, &items);
	for (size_t i = 0; i < n; i++) {
		struct span it = items[i];
		size_t open = 0;
		if (it.n > 2 && it.p[it.n - 1] == ')') {
			int depth = 0;
			for (size_t j = it.n; j > 0; j--) {
				if (it.p[j - 1] == ')')
					depth++;
				else if (it.p[j - 1] == '(' && --depth == 0) {
					open = j - 1;
					break;
				}
			}
		}
		if (open > 1 && it.p[open - 1] == ' ') {
			struct span g = trim_span(it.p, open);
			char *group = xstrndup(g.p, g.n);
			struct span *kids;
			size_t nk = split_list(it.p + open + 1, it.n - open - 2, &kids);
			for (size_t k = 0; k < nk; k++)
				add_affected(inc, kids[k], group);
			free(kids);
			free(group);
		} else {
			add_affected(inc, it, NULL);
		}
	}
	free(items);
}

/* ---- incident page ---- */

/* One div.row.update-row: label, body (text and HTML) and time. */
static void read_update_row(struct rec_doc *doc, struct rec_incident *inc, xmlNode *row, size_t idx,
			    const struct date_ctx *ctx)
{
	struct rec_update *u = rec_incident_add_update(inc);
	char *what = xasprintf("%s update %zu", inc->id ? inc->id : "incident", idx + 1);
	xmlNode *title = px_find(row, NULL, "update-title");
	char *label = title ? squashed_text(title) : NULL;
	set_update_status(doc, what, u, label);
	free(label);

	xmlNode *body = px_find(row, NULL, "update-body");
	xmlNode *pre = body ? px_find(body, NULL, "whitespace-pre-wrap") : NULL;
	xmlNode *md = body && !pre ? px_find(body, NULL, "markdown-display") : NULL;
	if (pre || md || body) {
		char *text = pre ? pre_wrap_text(pre) : px_text(md ? md : body);
		char *html = px_inner_html(pre ? pre : md ? md : body);
		set_nonempty(&u->body, text);
		set_nonempty(&u->body_html, html);
		free(text);
		free(html);
	}

	xmlNode *stamp = px_find(row, NULL, "update-timestamp");
	char *text = stamp ? visible_time(stamp) : NULL;
	read_time(doc, what, stamp, text, ctx, &u->at);
	free(text);
	free(what);
}

/* The page name from the subheader "Incident Report for <a>GitHub</a>", or NULL. */
static char *subheader_page_name(xmlNode *root)
{
	xmlNode *sub = px_find(root, NULL, "subheader");
	xmlNode *a = sub ? px_find(sub, "a", NULL) : NULL;
	if (!a)
		return NULL;
	char *all = squashed_text(sub);
	char *name = NULL;
	if (strstr(all, "Report for"))
		name = squashed_text(a);
	free(all);
	if (name && !*name) {
		free(name);
		name = NULL;
	}
	return name;
}

/* The incident page: one incident with its whole timeline, postmortem row included. */
int sp_incident_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc,
		      char **cause)
{
	if (check_html(data, len, cause) < 0)
		return -1;
	xmlDoc *x = px_read_html(data, len, cause);
	if (!x)
		return -1;
	xmlNode *root = xmlDocGetRootElement(x);
	xmlNode *box = px_find(root, NULL, "incident-updates-container");
	if (!box) {
		xmlFreeDoc(x);
		return set_cause(cause, "not a Statuspage incident page: no \"incident-updates-container\" element");
	}
	struct date_ctx ctx;
	page_reference(root, o, &ctx);
	char *origin = page_origin(root, o);
	rec_set(&doc->page_url, origin);

	struct rec_incident *inc = rec_doc_add_incident(doc);
	char *code = code_from_url(o->url);
	if (!code) {
		char *u = link_href(root, "canonical", NULL);
		code = code_from_url(u);
		free(u);
	}
	if (!code) {
		char *u = meta_content(root, "property", "og:url");
		code = code_from_url(u);
		free(u);
	}
	if (code) {
		rec_set(&inc->id, code);
		rec_incident_add_id(inc, "code", code);
		char *u = origin ? xasprintf("%s/incidents/%s", origin, code) : NULL;
		rec_set(&inc->url, u);
		free(u);
	} else {
		rec_set(&inc->url, o->url);
		rec_doc_add_error(doc, "no incident code in the page or its URL (give --url)");
	}

	xmlNode *name = px_find(root, NULL, "incident-name");
	char *title = name ? squashed_text(name) : NULL;
	set_nonempty(&inc->title, title);
	char *impact = name ? impact_class(name) : NULL;
	set_impact(inc, impact);
	free(impact);

	char *pname = subheader_page_name(root);
	if (!pname)
		pname = page_name_from_title(root, title);
	rec_set(&doc->page_name, pname);
	free(pname);
	free(title);

	xmlNode **rows;
	size_t n = px_find_all(box, NULL, "update-row", &rows);
	for (size_t i = 0; i < n; i++)
		read_update_row(doc, inc, rows[i], i, &ctx);
	free(rows);
	/* rows run newest first; equal times keep their page order, reversed with the rest */
	rec_incident_reverse_updates(inc);

	xmlNode *aff = px_find(root, NULL, "components-affected");
	if (aff) {
		char *s = squashed_text(aff);
		read_affected(inc, s);
		free(s);
	}
	free(code);
	free(origin);
	xmlFreeDoc(x);
	return 0;
}

/* ---- home page ---- */

/* The class words of an update block other than "update" and "font-regular": the status the
 * page gives it ("resolved", "in progress"), used when the block has no <strong> label. */
static char *class_status(const xmlNode *n)
{
	char *c = px_attr(n, "class");
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	for (char *tok = c ? strtok(c, " \t\r\n") : NULL; tok; tok = strtok(NULL, " \t\r\n")) {
		if (str_eq(tok, "update") || str_starts(tok, "font-"))
			continue;
		if (b.len)
			buf_addc(&b, ' ');
		buf_adds(&b, tok);
	}
	free(c);
	return buf_detach(&b);
}

/* The body of an update block with no whitespace-pre-wrap span (older pages): every child but the
 * <strong> label, the <small> time and the <br> before it, less the " - " after the label. The
 * returned node is not in the tree; free it with xmlFreeNode. */
static xmlNode *loose_body(xmlNode *upd, const xmlNode *strong, const xmlNode *small)
{
	xmlNode *wrap = xmlNewDocNode(upd->doc, NULL, BAD_CAST "div", NULL);
	for (xmlNode *c = upd->children; c; c = c->next) {
		if (c == strong || c == small || c->type == XML_COMMENT_NODE)
			continue;
		if (small && px_is(c, "br") && px_next(c, NULL) == small)
			continue;
		xmlAddChild(wrap, xmlDocCopyNode(c, upd->doc, 1));
	}
	xmlNode *f = wrap->children;
	if (strong && f && f->type == XML_TEXT_NODE && f->content) {
		const char *s = (const char *)f->content;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '-') {
			s++;
			while (isspace((unsigned char)*s))
				s++;
			xmlNode *t = xmlNewDocText(upd->doc, BAD_CAST s);
			xmlReplaceNode(f, t);
			xmlFreeNode(f);
		}
	}
	return wrap;
}

/* One div.update of a home-page block: "<strong>Label</strong> - body <br><small>time</small>". */
static void read_update_block(struct rec_doc *doc, struct rec_incident *inc, xmlNode *upd, size_t idx,
			      const struct date_ctx *ctx)
{
	struct rec_update *u = rec_incident_add_update(inc);
	char *what = xasprintf("%s update %zu", inc->id ? inc->id : "incident", idx + 1);
	xmlNode *strong = px_child(upd, "strong");
	xmlNode *small = NULL;
	for (xmlNode *c = upd->children; c; c = c->next)
		if (px_is(c, "small"))
			small = c;
	char *label = strong ? squashed_text(strong) : class_status(upd);
	set_update_status(doc, what, u, label);
	free(label);

	xmlNode *pre = px_find(upd, "span", "whitespace-pre-wrap");
	char *text, *html;
	if (pre) {
		text = pre_wrap_text(pre);
		html = px_inner_html(pre);
	} else {
		xmlNode *body = loose_body(upd, strong, small);
		text = px_text(body);
		html = px_inner_html(body);
		xmlFreeNode(body);
	}
	set_nonempty(&u->body, text);
	set_nonempty(&u->body_html, html);
	free(text);
	free(html);

	char *when = small ? visible_time(small) : NULL;
	read_time(doc, what, small, when, ctx, &u->at);
	free(when);
	free(what);
}

/* An incident block of the home page (unresolved, scheduled or past): title link, impact class,
 * updates newest first. Skipped when the same code was read already. */
static void read_block(struct rec_doc *doc, xmlNode *block, const char *origin, const struct date_ctx *ctx,
		       const char *kind)
{
	xmlNode *title = px_find(block, NULL, "incident-title");
	xmlNode *a = px_find(title ? title : block, "a", "actual-title");
	if (!a)
		a = px_find(title ? title : block, "a", NULL);
	char *href = a ? px_attr(a, "href") : NULL;
	char *url = absolute_url(href, origin);
	char *code = code_from_url(href);
	free(href);
	if (has_incident(doc, code)) {
		free(url);
		free(code);
		return;
	}
	struct rec_incident *inc = rec_doc_add_incident(doc);
	rec_set(&inc->id, code);
	rec_incident_add_id(inc, "code", code);
	rec_set(&inc->url, url);
	rec_set(&inc->kind, kind);
	char *name = a ? squashed_text(a) : title ? squashed_text(title) : NULL;
	set_nonempty(&inc->title, name);
	free(name);
	char *impact = impact_class(block);
	if (!impact && title)
		impact = impact_class(title);
	set_impact(inc, impact);
	free(impact);

	xmlNode **ups;
	size_t n = px_find_all(block, NULL, "update", &ups);
	for (size_t i = 0; i < n; i++)
		read_update_block(doc, inc, ups[i], i, ctx);
	free(ups);
	rec_incident_reverse_updates(inc);
	free(url);
	free(code);
}

/* A component-inner-container: id, name and status (data-component-status, else the shown words). */
static void read_component(struct rec_doc *doc, xmlNode *n, const char *group)
{
	struct rec_component *c = rec_doc_add_component(doc);
	char *id = px_attr(n, "data-component-id");
	set_nonempty(&c->id, id);
	free(id);
	xmlNode *nm = px_find(n, NULL, "name");
	char *name = nm ? squashed_text(nm) : NULL;
	set_nonempty(&c->name, name);
	free(name);
	char *st = px_attr(n, "data-component-status");
	if (!st || !*st) {
		free(st);
		xmlNode *s = px_find(n, NULL, "component-status");
		st = s ? squashed_text(s) : NULL;
	}
	set_nonempty(&c->status_raw, st);
	rec_set(&c->status, norm_component_status(st));
	if (st && *st && !c->status)
		rec_doc_add_error(doc, "component %s: unknown status '%s'", c->id ? c->id : c->name, st);
	free(st);
	rec_set(&c->group, group);
}

static void read_components(struct rec_doc *doc, xmlNode *root)
{
	xmlNode **boxes;
	size_t n = px_find_all(root, NULL, "component-container", &boxes);
	for (size_t i = 0; i < n; i++) {
		xmlNode *head = px_find(boxes[i], NULL, "component-inner-container");
		if (!head)
			continue;
		xmlNode *kids = px_has_class(boxes[i], "is-group") ? px_find(boxes[i], NULL, "child-components-container") : NULL;
		if (!kids) {
			read_component(doc, head, NULL);
			continue;
		}
		/* the group's own row is a summary; its children are the components (as in the JSON) */
		xmlNode *gn = px_find(head, NULL, "name");
		char *group = gn ? squashed_text(gn) : NULL;
		xmlNode **inner;
		size_t k = px_find_all(kids, NULL, "component-inner-container", &inner);
		for (size_t j = 0; j < k; j++)
			read_component(doc, inner[j], group && *group ? group : NULL);
		free(inner);
		free(group);
	}
	free(boxes);
	if (!n) {
		xmlNode **inner;
		size_t k = px_find_all(root, NULL, "component-inner-container", &inner);
		for (size_t j = 0; j < k; j++)
			read_component(doc, inner[j], NULL);
		free(inner);
	}
}

/* "Jan <var>12</var>, <var>2021</var>" as the end of that day, a reference for the year-less
 * update times below it. */
static int day_reference(const char *text, int64_t *out)
{
	char mon[16];
	int d, y;
	if (sscanf(text, "%15s %d, %d", mon, &d, &y) != 3 || d < 1 || d > 31 || y < 1970)
		return -1;
	int m = month_number(mon, strlen(mon));
	if (!m)
		return -1;
	*out = date_from_civil(y, m, d, 23, 59, 59);
	return 0;
}

/* The home page: components, open incidents and maintenances, and the recent past incidents. */
int sp_home_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause)
{
	if (check_html(data, len, cause) < 0)
		return -1;
	xmlDoc *x = px_read_html(data, len, cause);
	if (!x)
		return -1;
	xmlNode *root = xmlDocGetRootElement(x);
	xmlNode *list = px_find(root, NULL, "incidents-list");
	xmlNode *sched = px_find(root, NULL, "scheduled-incidents-container");
	if (!px_find(root, NULL, "component-inner-container") && !px_find(root, NULL, "unresolved-incidents") &&
	    !px_find(root, NULL, "page-status") && !list && !sched) {
		xmlFreeDoc(x);
		return set_cause(cause, "not a Statuspage home page: no components, page status or incidents");
	}
	struct date_ctx ctx;
	page_reference(root, o, &ctx);
	char *origin = page_origin(root, o);
	rec_set(&doc->page_url, origin);
	char *pname = page_name_from_title(root, NULL);
	rec_set(&doc->page_name, pname);
	free(pname);

	read_components(doc, root);

	xmlNode **blocks;
	size_t n = px_find_all(root, NULL, "unresolved-incident", &blocks);
	for (size_t i = 0; i < n; i++)
		read_block(doc, blocks[i], origin, &ctx, NULL);
	free(blocks);

	/* NOTE: upcoming maintenances: the container class is attested (page CSS), the block inside is
	 * read like the others: whatever holds an .incident-title */
	if (sched) {
		xmlNode **titles;
		n = px_find_all(sched, NULL, "incident-title", &titles);
		for (size_t i = 0; i < n; i++) {
			if (titles[i]->parent == sched) {
				/* titles straight in the container: which updates belong to which is unknown */
				rec_doc_add_error(doc, "scheduled maintenances: unrecognised markup, skipped");
				break;
			}
			read_block(doc, titles[i]->parent, origin, &ctx, "maintenance");
		}
		free(titles);
	}

	if (list) {
		xmlNode **days;
		size_t nd = px_find_all(list, NULL, "status-day", &days);
		for (size_t i = 0; i < nd; i++) {
			struct date_ctx dctx = ctx;
			xmlNode *date = px_find(days[i], NULL, "date");
			char *dt = date ? squashed_text(date) : NULL;
			int64_t ref;
			if (dt && day_reference(dt, &ref) == 0) {
				dctx.has_ref = 1;
				dctx.ref = ref;
			}
			free(dt);
			n = px_find_all(days[i], NULL, "incident-container", &blocks);
			for (size_t j = 0; j < n; j++)
				read_block(doc, blocks[j], origin, &dctx, NULL);
			free(blocks);
		}
		free(days);
	}
	free(origin);
	xmlFreeDoc(x);
	return 0;
}

/* ---- history index ---- */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One end of a history range: "Mar 13, 06:55" or a bare "16:02" (the day of start). */
struct stamp {
	int month, day, hh, mi;
};

static int read_stamp(const char *s, const struct stamp *start, struct stamp *out)
{
	char mon[16];
	int d, h, m, used = 0;
	if (sscanf(s, "%15s %d, %d:%d%n", mon, &d, &h, &m, &used) == 4 && !s[used]) {
		out->month = month_number(mon, strlen(mon));
		out->day = d;
	} else if (start && sscanf(s, "%d:%d%n", &h, &m, &used) == 2 && !s[used]) {
		out->month = start->month;
		out->day = start->day;
	} else {
		return -1;
	}
	out->hh = h;
	out->mi = m;
	return out->month && out->day >= 1 && out->day <= 31 && h >= 0 && h < 24 && m >= 0 && m < 60 ? 0 : -1;
}

/* Read "Feb 25, 23:44 - Feb 26, 20:27 UTC" (or a same-day "- 20:27", or an ongoing start alone).
 * The year comes from the month block; a start in December listed under January (or the reverse)
 * and an end in January after a December start move the year. */
static int read_range(const char *text, int block_month, int64_t year, int64_t *start, int *has_end,
		      int64_t *end, char **cause)
{
	const char *sp = strrchr(text, ' ');
	if (!sp)
		return set_cause(cause, "'%s': no time zone", text);
	int off;
	if (zone_offset(sp + 1, strlen(sp + 1), &off) < 0)
		return set_cause(cause, "'%s': unknown time zone '%s'", text, sp + 1);
	char *body = xstrndup(text, (size_t)(sp - text));
	char *dash = strstr(body, " - ");
	if (dash)
		*dash = '\0';
	struct stamp a, b;
	int rc = 0;
	if (read_stamp(body, NULL, &a) < 0 || (dash && read_stamp(dash + 3, &a, &b) < 0)) {
		rc = set_cause(cause, "'%s': unrecognised time range", text);
		goto out;
	}
	int64_t ya = year;
	if (block_month && a.month - block_month > 6)
		ya--;
	else if (block_month && block_month - a.month > 6)
		ya++;
	*start = date_from_civil(ya, a.month, a.day, a.hh, a.mi, 0) - off;
	*has_end = dash != NULL;
	if (dash) {
		int64_t yb = b.month < a.month ? ya + 1 : ya;
		*end = date_from_civil(yb, b.month, b.day, b.hh, b.mi, 0) - off;
		if (*end < *start)
			rc = set_cause(cause, "'%s': the range ends before it starts", text);
	}
out:
	free(body);
	return rc;
}

static void history_component(struct rec_doc *doc, json_t *c, json_t *all)
{
	struct rec_component *rc = rec_doc_add_component(doc);
	rec_set(&rc->id, jstr(c, "id"));
	rec_set(&rc->name, jstr(c, "name"));
	const char *st = jstr(c, "status");
	rec_set(&rc->status_raw, st);
	rec_set(&rc->status, norm_component_status(st));
	const char *gid = jstr(c, "group_id");
	size_t i;
	json_t *g;
	json_array_foreach(all, i, g) {
		if (gid && str_eq(jstr(g, "id"), gid)) {
			rec_set(&rc->group, jstr(g, "name"));
			break;
		}
	}
}

static void history_incident(struct rec_doc *doc, json_t *o, int month, int64_t year, const char *base)
{
	const char *code = jstr(o, "code");
	struct rec_incident *inc = rec_doc_add_incident(doc);
	rec_set(&inc->id, code);
	rec_incident_add_id(inc, "code", code);
	if (code && base) {
		char *u = xasprintf("%s/incidents/%s", base, code);
		rec_set(&inc->url, u);
		free(u);
	}
	char *title = text_squash(jstr(o, "name") ? jstr(o, "name") : "");
	set_nonempty(&inc->title, title);
	free(title);
	set_impact(inc, jstr(o, "impact"));
	if (str_eq(inc->impact, "maintenance"))
		rec_set(&inc->kind, "maintenance");

	const char *ts = jstr(o, "timestamp");
	if (ts && *ts) {
		char *text = px_html_fragment_text(ts, strlen(ts));
		char *line = text_squash(text);
		free(text);
		int64_t start = 0, end = 0;
		int has_end = 0;
		char *cause = NULL;
		if (read_range(line, month, year, &start, &has_end, &end, &cause) == 0) {
			rec_time_set(&inc->started, start, line);
			if (has_end) {
				rec_time_set(&inc->resolved, end, line);
				/* an end time means closed; the page does not say which closing word applies */
				rec_set(&inc->status, str_eq(inc->kind, "maintenance") ? "completed" : "resolved");
			}
		} else {
			rec_set(&inc->started.text, line);
			rec_doc_add_error(doc, "%s: %s", code ? code : "incident", cause);
		}
		free(cause);
		free(line);
	}

	/* NOTE: "message" is believed to be the latest update's body (FORMATS 1.3, unverified). It is
	 * kept as one update whose label, status and time stay NULL: the text is the vendor's own, and
	 * nothing about it is guessed. Match it to the incident page's timeline by body, not by time. */
	const char *msg = jstr(o, "message");
	if (msg && *msg) {
		xmlDoc *frag = px_read_fragment(msg, strlen(msg));
		char *text = frag ? pre_wrap_text(px_fragment_root(frag)) : xstrdup("");
		if (frag)
			xmlFreeDoc(frag);
		if (*text) {
			struct rec_update *u = rec_incident_add_update(inc);
			rec_set(&u->body, text);
			rec_set(&u->body_html, msg);
		}
		free(text);
	}
}

/* The history index: one quarter of incidents (no timelines) and the page's components. */
int sp_history_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc,
		     char **cause)
{
	if (check_html(data, len, cause) < 0)
		return -1;
	xmlDoc *x = px_read_html(data, len, cause);
	if (!x)
		return -1;
	xmlNode *root = xmlDocGetRootElement(x);
	xmlNode *el = find_by_attr(root, "data-react-class", "HistoryIndex");
	char *props = el ? px_attr(el, "data-react-props") : NULL;
	if (!props) {
		xmlFreeDoc(x);
		return set_cause(cause, el ? "the HistoryIndex element has no data-react-props" :
					     "not a Statuspage history page: no data-react-class=\"HistoryIndex\" element");
	}
	json_error_t err;
	json_t *p = json_loads(props, 0, &err);
	free(props);
	int rc = 0;
	char *origin = NULL;
	if (!p) {
		rc = set_cause(cause, "the HistoryIndex props are not valid JSON (line %d column %d: %s)", err.line,
			       err.column, err.text);
		goto out;
	}
	json_t *months = json_object_get(p, "months");
	if (!json_is_array(months)) {
		rc = set_cause(cause, "the HistoryIndex props have no \"months\" array");
		goto out;
	}
	json_t *page = json_object_get(json_object_get(p, "page_status"), "page");
	const char *domain = jstr(page, "domain");
	const char *sub = jstr(page, "subdomain");
	if (domain && *domain)
		origin = xasprintf("https://%s", domain);
	else if (!(origin = page_origin(root, o)) && sub && *sub)
		origin = xasprintf("https://%s.statuspage.io", sub);
	rec_set(&doc->page_url, origin);
	rec_set(&doc->page_id, jstr(page, "id"));
	rec_set(&doc->time_zone, jstr(page, "time_zone"));
	if (jstr(page, "name"))
		rec_set(&doc->page_name, jstr(page, "name"));
	else {
		char *pname = page_name_from_title(root, "Incident History");
		rec_set(&doc->page_name, pname);
		free(pname);
	}

	json_t *comps = json_object_get(p, "components");
	size_t i;
	json_t *v;
	json_array_foreach(comps, i, v) {
		if (json_is_object(v) && !json_is_true(json_object_get(v, "group")))
			history_component(doc, v, comps);
	}
	json_array_foreach(months, i, v) {
		json_t *year = json_object_get(v, "year");
		const char *mname = jstr(v, "name");
		int month = mname ? month_number(mname, strlen(mname)) : 0;
		json_t *incs = json_object_get(v, "incidents");
		if (!json_is_integer(year) || !month || !json_is_array(incs)) {
			rec_doc_add_error(doc, "months[%zu]: no name, year or incidents", i);
			continue;
		}
		size_t j;
		json_t *w;
		json_array_foreach(incs, j, w) {
			if (json_is_object(w))
				history_incident(doc, w, month, (int64_t)json_integer_value(year), origin);
			else
				rec_doc_add_error(doc, "months[%zu].incidents[%zu] is not an object", i, j);
		}
	}
out:
	free(origin);
	json_decref(p);
	xmlFreeDoc(x);
	return rc;
}
