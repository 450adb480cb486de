/* parse-xml.c: safe libxml2 reading and HTML-to-text for the parsers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "normalize.h"
#include "parse-xml.h"
#include "util.h"

static void quiet(void *ctx, const char *msg, ...)
{
}

static void quiet_structured(void *ctx, xmlErrorPtr err)
{
}

static void silence(void)
{
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlSetStructuredErrorFunc(NULL, quiet_structured);
}

static int declares_entities(xmlDoc *doc)
{
	xmlDtd *dtds[2] = { doc->intSubset, doc->extSubset };
	for (int i = 0; i < 2; i++) {
		if (!dtds[i])
			continue;
		for (xmlNode *n = dtds[i]->children; n; n = n->next)
			if (n->type == XML_ENTITY_DECL)
				return 1;
	}
	return 0;
}

static char *last_error(xmlParserCtxt *ctxt)
{
	xmlError *e = xmlCtxtGetLastError(ctxt);
	if (!e || !e->message)
		return xstrdup("malformed XML");
	char *msg = text_squash(e->message);
	char *r = xasprintf("malformed XML at line %d: %s", e->line, msg);
	free(msg);
	return r;
}

xmlDoc *px_read_xml(const char *data, size_t len, char **cause)
{
	silence();
	if (len > INT32_MAX) {
		set_cause(cause, "document too large");
		return NULL;
	}
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		set_cause(cause, "out of memory");
		return NULL;
	}
	/* NOTE: no XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE: entities are never expanded
	 * from outside and the default size limits hold. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDoc *doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, opts);
	if (!doc || !ctxt->wellFormed) {
		char *msg = last_error(ctxt);
		set_cause(cause, "%s", msg);
		free(msg);
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (declares_entities(doc)) {
		xmlFreeDoc(doc);
		set_cause(cause, "the document declares XML entities, which starchive refuses to expand");
		return NULL;
	}
	if (!xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		set_cause(cause, "the document has no root element");
		return NULL;
	}
	return doc;
}

xmlDoc *px_read_html(const char *data, size_t len, char **cause)
{
	silence();
	if (len > INT32_MAX) {
		set_cause(cause, "document too large");
		return NULL;
	}
	int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
	const char *enc = utf8_valid(data, len, NULL) ? "UTF-8" : NULL;
	xmlDoc *doc = htmlReadMemory(data, (int)len, NULL, enc, opts);
	if (!doc || !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		set_cause(cause, "not an HTML document");
		return NULL;
	}
	return doc;
}

int px_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->name && strcasecmp((const char *)n->name, name) == 0;
}

xmlNode *px_child(const xmlNode *n, const char *name)
{
	if (!n)
		return NULL;
	for (xmlNode *c = n->children; c; c = c->next)
		if (px_is(c, name))
			return c;
	return NULL;
}

xmlNode *px_next(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->next : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (!name || px_is(c, name)))
			return c;
	return NULL;
}

char *px_content(const xmlNode *n)
{
	xmlChar *s = n ? xmlNodeGetContent(n) : NULL;
	char *r = xstrdup(s ? (const char *)s : "");
	xmlFree(s);
	return r;
}

char *px_child_content(const xmlNode *n, const char *name)
{
	xmlNode *c = px_child(n, name);
	return c ? px_content(c) : NULL;
}

char *px_attr(const xmlNode *n, const char *name)
{
	if (!n || n->type != XML_ELEMENT_NODE)
		return NULL;
	xmlChar *s = xmlGetProp(n, (const xmlChar *)name);
	if (!s)
		return NULL;
	char *r = xstrdup((const char *)s);
	xmlFree(s);
	return r;
}

int px_has_class(const xmlNode *n, const char *cls)
{
	char *c = px_attr(n, "class");
	if (!c)
		return 0;
	int found = 0;
	size_t cl = strlen(cls);
	for (char *p = c; *p && !found;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		char *e = p;
		while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')
			e++;
		if ((size_t)(e - p) == cl && !memcmp(p, cls, cl))
			found = 1;
		p = e;
	}
	free(c);
	return found;
}

static int matches(const xmlNode *n, const char *tag, const char *cls)
{
	if (n->type != XML_ELEMENT_NODE)
		return 0;
	if (tag && !px_is(n, tag))
		return 0;
	return !cls || px_has_class(n, cls);
}

/* Iterative pre-order walk below root (deep documents cannot exhaust the stack). */
static const xmlNode *walk_next(const xmlNode *n, const xmlNode *root, int descend)
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

xmlNode *px_find(const xmlNode *root, const char *tag, const char *cls)
{
	if (!root)
		return NULL;
	for (const xmlNode *n = root->children; n; n = walk_next(n, root, 1))
		if (matches(n, tag, cls))
			return (xmlNode *)n;
	return NULL;
}

size_t px_find_all(const xmlNode *root, const char *tag, const char *cls, xmlNode ***out)
{
	size_t count = 0;
	*out = NULL;
	if (!root)
		return 0;
	const xmlNode *n = root->children;
	while (n) {
		int m = matches(n, tag, cls);
		if (m) {
			*out = xreallocarray(*out, count + 1, sizeof **out);
			(*out)[count++] = (xmlNode *)n;
		}
		n = walk_next(n, root, !m);
	}
	return count;
}

static int is_block(const xmlNode *n)
{
	static const char *const blocks[] = {
		"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
		"blockquote", "section", "article", "header", "footer", "pre", "dl", "dt", "dd",
		"hr", "main", "aside", "nav", "figure", "details", "summary", "time-block",
	};
	for (size_t i = 0; i < ARRAY_SIZE(blocks); i++)
		if (px_is(n, blocks[i]))
			return 1;
	return 0;
}

int px_is_hidden(const xmlNode *n)
{
	return px_is(n, "script") || px_is(n, "style") || px_is(n, "template") ||
	       px_is(n, "noscript") || px_is(n, "head") || px_is(n, "svg");
}

static int is_heading(const xmlNode *n)
{
	return px_is(n, "h1") || px_is(n, "h2") || px_is(n, "h3") || px_is(n, "h4") || px_is(n, "h5") ||
	       px_is(n, "h6");
}

/* Elements whose typed line breaks show: <pre>, and CSS white-space pre, pre-wrap or pre-line
 * (Tailwind's whitespace-pre-wrap, Statuspage's span.whitespace-pre-wrap, inline styles). */
static int keeps_breaks(const xmlNode *n)
{
	if (px_is(n, "pre"))
		return 1;
	char *cls = px_attr(n, "class"), *style = px_attr(n, "style");
	int pre = cls && (strstr(cls, "whitespace-pre") || strstr(cls, "pre-wrap") || strstr(cls, "pre-line"));
	const char *w = !pre && style ? strcasestr(style, "white-space") : NULL;
	if (w) {
		w += strlen("white-space");
		while (*w == ' ' || *w == ':')
			w++;
		pre = strncasecmp(w, "pre", 3) == 0;
	}
	free(cls);
	free(style);
	return pre;
}

/* End the text so far with at least n line breaks (blocks separate, they do not stack). */
static void ensure_breaks(struct buf *b, int n)
{
	while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
	int have = 0;
	for (size_t i = b->len; i > 0 && b->data[i - 1] == '\n' && have < n; i--)
		have++;
	for (; have < n; have++)
		buf_addc(b, '\n');
}

/* css: honour CSS white-space (keeps_breaks) as well as <pre> */
static void text_walk(const xmlNode *n, struct buf *b, int pre, int css, int depth)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const char *s = (const char *)c->content;
			if (!s)
				continue;
			if (pre) {
				buf_adds(b, s);
				continue;
			}
			for (; *s; s++) {
				if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == '\f')
					buf_addc(b, ' ');
				else
					buf_addc(b, *s);
			}
		} else if (c->type == XML_ELEMENT_NODE) {
			if (px_is_hidden(c))
				continue;
			if (px_is(c, "br")) {
				buf_addc(b, '\n');
				continue;
			}
			int block = is_block(c), para = px_is(c, "p") || px_is(c, "pre") ||
				    px_is(c, "blockquote") || px_is(c, "ul") || px_is(c, "ol") || is_heading(c);
			if (block)
				ensure_breaks(b, para ? 2 : 1);
			if (px_is(c, "li"))
				buf_adds(b, "- ");
			/* NOTE: deeper than this, markup is hostile; its text is still read flat. */
			if (depth < 256)
				text_walk(c, b, pre || (css ? keeps_breaks(c) : px_is(c, "pre")), css, depth + 1);
			else {
				xmlChar *t = xmlNodeGetContent(c);
				if (t)
					buf_adds(b, (const char *)t);
				xmlFree(t);
			}
			if (block)
				ensure_breaks(b, para ? 2 : 1);
		}
	}
}

static char *render(const xmlNode *n, int css)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	if (n && (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE))
		buf_adds(&b, n->content ? (const char *)n->content : "");
	else if (n)
		text_walk(n, &b, css && keeps_breaks(n), css, 0);
	char *r = text_clean(b.data);
	buf_release(&b);
	return r;
}

char *px_text(const xmlNode *n)
{
	return render(n, 0);
}

char *px_text_css(const xmlNode *n)
{
	return render(n, 1);
}

char *px_inner_html(const xmlNode *n)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	xmlBuffer *xb = xmlBufferCreate();
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		xmlBufferEmpty(xb);
		htmlNodeDump(xb, c->doc, (xmlNode *)c);
		buf_add(&b, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	}
	xmlBufferFree(xb);
	char *t = buf_detach(&b);
	/* trim surrounding whitespace */
	char *s = t;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\n' || s[l - 1] == '\t' || s[l - 1] == '\r'))
		l--;
	char *r = xstrndup(s, l);
	free(t);
	return r;
}

xmlDoc *px_read_fragment(const char *html, size_t len)
{
	struct buf b = BUF_INIT;
	buf_adds(&b, "<html><body>");
	buf_add(&b, html, len);
	buf_adds(&b, "</body></html>");
	xmlDoc *doc = px_read_html(b.data, b.len, NULL);
	buf_release(&b);
	return doc;
}

xmlNode *px_fragment_root(xmlDoc *doc)
{
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *body = px_child(root, "body");
	return body ? body : root;
}

char *px_html_fragment_text(const char *html, size_t len)
{
	xmlDoc *doc = px_read_fragment(html, len);
	if (!doc)
		return text_clean("");
	char *r = px_text(px_fragment_root(doc));
	xmlFreeDoc(doc);
	return r;
}
