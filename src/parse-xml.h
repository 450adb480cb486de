/* parse-xml.h: libxml2 helpers shared by the parse-*.c files, and only by them.
 * Documents are read with no network, no entity substitution, no DTD loading and no HUGE option;
 * documents that declare entities are refused. Ownership: returned char * are new strings the caller
 * frees; xmlNode pointers borrow from their document. */
#ifndef SC_PARSE_XML_H
#define SC_PARSE_XML_H

#include <stddef.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* Parse XML (RSS, Atom); NULL with *cause (line and libxml2's message) on error. */
xmlDoc *px_read_xml(const char *data, size_t len, char **cause);
/* Parse an HTML page leniently, as a browser would; NULL only when nothing could be read. */
xmlDoc *px_read_html(const char *data, size_t len, char **cause);

/* Local name equality for an element node (namespace ignored). */
int px_is(const xmlNode *n, const char *name);
/* First element child with that local name, or NULL. */
xmlNode *px_child(const xmlNode *n, const char *name);
/* Next element sibling with that local name (name NULL: any element). */
xmlNode *px_next(const xmlNode *n, const char *name);
/* Text content of the first child with that name (raw, not tidied), or NULL. */
char *px_child_content(const xmlNode *n, const char *name);
/* Raw text content of a node (all descendants), never NULL. */
char *px_content(const xmlNode *n);
/* Attribute value or NULL. */
char *px_attr(const xmlNode *n, const char *name);
int px_has_class(const xmlNode *n, const char *cls);
/* 1 for elements a reader never sees as text: script, style, template, noscript, head, svg. */
int px_is_hidden(const xmlNode *n);
/* First descendant (document order, n itself excluded) with the tag (NULL: any) and class. */
xmlNode *px_find(const xmlNode *n, const char *tag, const char *cls);
/* Every descendant with the tag and class, in document order, not descending into matches. */
size_t px_find_all(const xmlNode *n, const char *tag, const char *cls, xmlNode ***out);

/* Rendered plain text of an HTML subtree: <br> and block ends become line breaks, whitespace
 * collapses as a browser would, then text_clean. Never NULL. */
char *px_text(const xmlNode *n);
/* The same, also keeping the typed line breaks of elements styled white-space: pre, pre-wrap or
 * pre-line (class or inline style), as a browser shows them. */
char *px_text_css(const xmlNode *n);
/* The serialized HTML of n's children. */
char *px_inner_html(const xmlNode *n);
/* Plain text of an HTML fragment given as a string (lenient: bare '&' and '>' are fine). */
char *px_html_fragment_text(const char *html, size_t len);
/* Parse an HTML fragment; the fragment's nodes are the children of the returned doc's <body>
 * (use px_fragment_root). */
xmlDoc *px_read_fragment(const char *html, size_t len);
xmlNode *px_fragment_root(xmlDoc *doc);

#endif
