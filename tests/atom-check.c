/* atom-check.c: checks that a file is an Atom feed as RFC 4287 has it, parsed by libxml2 (not by
 * the code that wrote it): well-formed XML; root atom:feed; the feed's one id, title and updated; an
 * author on the feed or on every entry; each entry's one id, title and updated, at most one content
 * and summary, an alternate link when it has no content; ids that are absolute IRIs and unique among
 * entries; dates in RFC 3339; links with an href (absolute for alternate and self); text and content
 * types text, html or xhtml; persons with one name; categories with a term; no unknown Atom element.
 *   atom-check FILE             one line per problem on stderr; exit 0 valid, 1 not, 2 misuse
 *   atom-check --ids FILE       also print each entry's id, one a line, in feed order
 *   atom-check --entries FILE   also print each entry: id, updated, categories, link, title (tabs;
 *                               the title's control characters and backslashes as C escapes) */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#define ATOM_NS "http://www.w3.org/2005/Atom"

static const char *file;
static int problems;

static void problem(const xmlNode *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(const xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%ld: ", file, n ? (long)xmlGetLineNo(n) : 0L);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	problems++;
}

/* libxml2 2.12 made the error const */
#if LIBXML_VERSION >= 21200
static void xml_error(void *ctx, const xmlError *e)
#else
static void xml_error(void *ctx, xmlError *e)
#endif
{
	(void)ctx;
	if (e->level < XML_ERR_ERROR)
		return;
	size_t n = e->message ? strlen(e->message) : 0;
	while (n && e->message[n - 1] == '\n')
		n--;
	fprintf(stderr, "%s:%d: not well-formed: %.*s\n", file, e->line, (int)n, e->message ? e->message : "");
	problems++;
}

static int is_atom(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && strcmp((const char *)n->ns->href, ATOM_NS) == 0 &&
	       (!name || strcmp((const char *)n->name, name) == 0);
}

static int count(const xmlNode *parent, const char *name)
{
	int k = 0;
	for (const xmlNode *c = parent->children; c; c = c->next)
		k += is_atom(c, name);
	return k;
}

static const xmlNode *child(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent->children; c; c = c->next)
		if (is_atom(c, name))
			return c;
	return NULL;
}

/* The element's text (caller frees), or an empty string. */
static char *text_of(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = strdup(t ? (const char *)t : "");
	xmlFree(t);
	if (!s)
		abort();
	return s;
}

static char *attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = strdup((const char *)v);
	xmlFree(v);
	if (!s)
		abort();
	return s;
}

static int in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* RFC 3339 date-time, with the upper-case T and Z RFC 4287 (3.3) requires. */
static int rfc3339(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
	    s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' ||
	    !digits(s + 17, 2))
		return 0;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return 0;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 0;
	if (num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return 0;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (!digits(p, 1))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z')
		return p[1] == '\0';
	if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) && p[6] == '\0')
		return num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
	return 0;
}

/* An absolute IRI (RFC 3987): a scheme, a colon and something, with no space, control or character
 * that IRIs exclude; a urn:uuid: one must hold a UUID. */
static const char *iri_problem(const char *s)
{
	const char *p = s;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return "not an absolute IRI (no scheme)";
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
	       *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !p[1])
		return "not an absolute IRI (no scheme)";
	for (const unsigned char *q = (const unsigned char *)p; *q; q++)
		if (*q <= 0x20 || *q == 0x7f || strchr("<>\"{}|\\^`", *q))
			return "not an IRI (a space or a character IRIs exclude)";
	if (strncmp(s, "urn:uuid:", 9) == 0) {
		const char *u = s + 9;
		if (strlen(u) != 36)
			return "a urn:uuid: that is not a UUID";
		for (int i = 0; i < 36; i++) {
			int dash = i == 8 || i == 13 || i == 18 || i == 23;
			if (dash ? u[i] != '-' : !strchr("0123456789abcdefABCDEF", u[i]))
				return "a urn:uuid: that is not a UUID";
		}
	}
	return NULL;
}

static void check_iri(const xmlNode *n, const char *what, const char *v)
{
	const char *why = iri_problem(v);
	if (why)
		problem(n, "%s '%s': %s", what, v, why);
}

static void check_date(const xmlNode *n)
{
	char *t = text_of(n);
	if (!rfc3339(t))
		problem(n, "atom:%s '%s' is not an RFC 3339 date-time", (const char *)n->name, t);
	free(t);
}

static void check_text_type(const xmlNode *n, int content)
{
	static const char *const types[] = { "text", "html", "xhtml", NULL };
	char *t = attr(n, "type");
	if (t && !in(t, types))
		problem(n, "atom:%s type '%s' is not text, html or xhtml", (const char *)n->name, t);
	if (t && strcmp(t, "xhtml") == 0) {
		/* xhtml: exactly one xhtml:div child */
		int divs = 0;
		for (const xmlNode *c = n->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				divs += c->ns && strcmp((const char *)c->ns->href, "http://www.w3.org/1999/xhtml") == 0 &&
					strcmp((const char *)c->name, "div") == 0 ? 1 : 100;
		if (divs != 1)
			problem(n, "atom:%s of type xhtml must hold one xhtml:div", (const char *)n->name);
	}
	if (content) {
		char *src = attr(n, "src");
		if (src)
			check_iri(n, "atom:content src", src);
		free(src);
	}
	free(t);
}

static void check_person(const xmlNode *n)
{
	if (count(n, "name") != 1)
		problem(n, "atom:%s has %d atom:name (one is required)", (const char *)n->name, count(n, "name"));
	const xmlNode *uri = child(n, "uri");
	if (uri) {
		char *u = text_of(uri);
		check_iri(uri, "atom:uri", u);
		free(u);
	}
}

/* Links: an href, absolute for alternate and self; one alternate link per type and hreflang. */
static void check_links(const xmlNode *parent)
{
	struct seen {
		char *type, *lang;
	} seen[64];
	int n_seen = 0;
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!is_atom(c, "link"))
			continue;
		char *href = attr(c, "href"), *rel = attr(c, "rel");
		const char *r = rel ? rel : "alternate";
		if (!href)
			problem(c, "atom:link without an href");
		else if (strcmp(r, "alternate") == 0 || strcmp(r, "self") == 0)
			check_iri(c, "atom:link href", href);
		if (strcmp(r, "alternate") == 0 && n_seen < 64) {
			char *type = attr(c, "type"), *lang = attr(c, "hreflang");
			for (int i = 0; i < n_seen; i++)
				if (!strcmp(seen[i].type ? seen[i].type : "", type ? type : "") &&
				    !strcmp(seen[i].lang ? seen[i].lang : "", lang ? lang : ""))
					problem(c, "two alternate links with the same type and hreflang");
			seen[n_seen].type = type;
			seen[n_seen++].lang = lang;
		}
		free(href);
		free(rel);
	}
	for (int i = 0; i < n_seen; i++) {
		free(seen[i].type);
		free(seen[i].lang);
	}
}

static int has_alternate(const xmlNode *parent)
{
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (!is_atom(c, "link"))
			continue;
		char *rel = attr(c, "rel");
		int alt = !rel || strcmp(rel, "alternate") == 0;
		free(rel);
		if (alt)
			return 1;
	}
	return 0;
}

/* The elements RFC 4287 allows under feed and entry, each with at most one (1) or any number (0). */
struct allowed {
	const char *name;
	int once;
};
static const struct allowed feed_children[] = {
	{ "author", 0 }, { "category", 0 }, { "contributor", 0 }, { "generator", 1 }, { "icon", 1 },
	{ "id", 1 }, { "link", 0 }, { "logo", 1 }, { "rights", 1 }, { "subtitle", 1 }, { "title", 1 },
	{ "updated", 1 }, { "entry", 0 }, { NULL, 0 },
};
static const struct allowed entry_children[] = {
	{ "author", 0 }, { "category", 0 }, { "content", 1 }, { "contributor", 0 }, { "id", 1 }, { "link", 0 },
	{ "published", 1 }, { "rights", 1 }, { "source", 1 }, { "summary", 1 }, { "title", 1 }, { "updated", 1 },
	{ NULL, 0 },
};

/* What every element of a feed or an entry must be, beyond its own kind. */
static void check_children(const xmlNode *parent, const struct allowed *allowed)
{
	for (const struct allowed *a = allowed; a->name; a++)
		if (a->once && count(parent, a->name) > 1)
			problem(parent, "atom:%s has %d atom:%s (at most one)", (const char *)parent->name,
				count(parent, a->name), a->name);
	for (const char *const *req = (const char *const[]){ "id", "title", "updated", NULL }; *req; req++)
		if (count(parent, *req) == 0)
			problem(parent, "atom:%s has no atom:%s", (const char *)parent->name, *req);
	for (const xmlNode *c = parent->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!c->ns)
			problem(c, "element '%s' in no namespace", (const char *)c->name);
		if (!is_atom(c, NULL))
			continue;
		const struct allowed *a = allowed;
		while (a->name && strcmp(a->name, (const char *)c->name) != 0)
			a++;
		if (!a->name) {
			problem(c, "atom:%s is not an element of atom:%s", (const char *)c->name, (const char *)parent->name);
			continue;
		}
		const char *name = (const char *)c->name;
		if (strcmp(name, "updated") == 0 || strcmp(name, "published") == 0) {
			check_date(c);
		} else if (strcmp(name, "id") == 0) {
			char *id = text_of(c);
			check_iri(c, "atom:id", id);
			free(id);
		} else if (strcmp(name, "title") == 0 || strcmp(name, "subtitle") == 0 || strcmp(name, "summary") == 0 ||
			   strcmp(name, "rights") == 0) {
			check_text_type(c, 0);
		} else if (strcmp(name, "content") == 0) {
			check_text_type(c, 1);
		} else if (strcmp(name, "author") == 0 || strcmp(name, "contributor") == 0) {
			check_person(c);
		} else if (strcmp(name, "category") == 0) {
			char *term = attr(c, "term");
			if (!term || !*term)
				problem(c, "atom:category without a term");
			free(term);
		}
	}
	check_links(parent);
}

enum mode { CHECK, IDS, ENTRIES };

static void print_entry(const xmlNode *e, enum mode mode)
{
	char *id = text_of(child(e, "id"));
	if (mode == IDS) {
		printf("%s\n", id);
		free(id);
		return;
	}
	char *updated = text_of(child(e, "updated")), *title = text_of(child(e, "title"));
	printf("%s\t%s\t", id, updated);
	int first = 1;
	for (const xmlNode *c = e->children; c; c = c->next) {
		if (!is_atom(c, "category"))
			continue;
		char *term = attr(c, "term");
		printf("%s%s", first ? "" : ",", term ? term : "");
		first = 0;
		free(term);
	}
	char *href = NULL;
	for (const xmlNode *c = e->children; c && !href; c = c->next) {
		if (!is_atom(c, "link"))
			continue;
		char *rel = attr(c, "rel");
		if (!rel || strcmp(rel, "alternate") == 0)
			href = attr(c, "href");
		free(rel);
	}
	printf("\t%s\t", href ? href : "-");
	/* one entry, one line: control characters as C escapes */
	for (const unsigned char *p = (const unsigned char *)title; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '\r')
			fputs("\\r", stdout);
		else if (*p < 0x20 || *p == '\\')
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	putchar('\n');
	free(href);
	free(id);
	free(updated);
	free(title);
}

int main(int argc, char **argv)
{
	enum mode mode = CHECK;
	int i = 1;
	if (i < argc && strcmp(argv[i], "--ids") == 0) {
		mode = IDS;
		i++;
	} else if (i < argc && strcmp(argv[i], "--entries") == 0) {
		mode = ENTRIES;
		i++;
	}
	if (i + 1 != argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: atom-check [--ids | --entries] FILE\n");
		return 2;
	}
	file = argv[i];
	xmlSetStructuredErrorFunc(NULL, xml_error);
	xmlDoc *doc = xmlReadFile(file, NULL, XML_PARSE_NONET);
	if (!doc) {
		if (!problems)
			problem(NULL, "cannot parse the file");
		return 1;
	}
	const xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_atom(root, "feed")) {
		problem(root, "the root element is not atom:feed (%s in %s)", root ? (const char *)root->name : "none",
			root && root->ns ? (const char *)root->ns->href : "no namespace");
		xmlFreeDoc(doc);
		return 1;
	}
	check_children(root, feed_children);
	int feed_author = count(root, "author") > 0;
	char **ids = NULL;
	size_t n_ids = 0;
	for (const xmlNode *e = root->children; e; e = e->next) {
		if (!is_atom(e, "entry"))
			continue;
		check_children(e, entry_children);
		if (!feed_author && count(e, "author") == 0)
			problem(e, "an atom:entry without an atom:author in a feed without one");
		if (count(e, "content") == 0 && !has_alternate(e))
			problem(e, "an atom:entry with no atom:content and no alternate link");
		const xmlNode *idn = child(e, "id");
		if (idn) {
			char *id = text_of(idn);
			for (size_t k = 0; k < n_ids; k++)
				if (strcmp(ids[k], id) == 0)
					problem(idn, "entry id '%s' is not unique", id);
			char **grown = realloc(ids, (n_ids + 1) * sizeof *ids);
			if (!grown)
				abort();
			ids = grown;
			ids[n_ids++] = id;
		}
		if (mode != CHECK)
			print_entry(e, mode);
	}
	for (size_t k = 0; k < n_ids; k++)
		free(ids[k]);
	free(ids);
	xmlFreeDoc(doc);
	xmlCleanupParser();
	if (fflush(stdout) != 0)
		return 1;
	return problems ? 1 : 0;
}
