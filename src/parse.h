/* parse.h: the table of source kinds, detection, and the entry point that turns bytes into a
 * normalized record set. Parsers are pure filters: bytes in, records out; no network, no clock
 * (the caller passes "now"). Ownership: parse_buffer hands the caller a rec_doc to rec_doc_free. */
#ifndef SC_PARSE_H
#define SC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct parse_opts {
	const char *url;  /* where the document came from; resolves relative links; may be NULL */
	int has_now;
	int64_t now;      /* the fixed clock: reference for texts without a year when nothing better */
};

typedef int (*detect_fn)(const char *data, size_t len);
typedef int (*parse_fn)(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc,
			char **cause);

struct source_kind {
	const char *name;
	const char *summary;
	detect_fn detect; /* 0 = not this kind, higher = more sure (at most 100) */
	parse_fn parse;   /* 0, or -1 with *cause describing the problem (without the file name) */
};

extern const struct source_kind source_kinds[];
extern const size_t n_source_kinds;

const struct source_kind *parse_kind_find(const char *name);
/* The most likely kind for a document, or NULL when nothing recognises it. */
const struct source_kind *parse_detect(const char *data, size_t len);
/* Decode (BOM, UTF-16, UTF-8 check), detect unless kind is given, parse and finish the records. */
int parse_buffer(const char *data, size_t len, const char *kind, const struct parse_opts *o,
		 struct rec_doc **out, char **cause);

/* The absolute URLs of the RSS and Atom feeds an HTML page announces with <link rel="alternate">,
 * in page order without duplicates; the caller frees each and the array. Always 0. */
int parse_feed_links(const char *html, size_t len, const char *base, char ***out, size_t *n);

/* ---- the parsers (one parse-*.c file each) ---- */
int sp_json_detect(const char *data, size_t len);
int sp_json_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int sp_feed_detect(const char *data, size_t len);
int sp_feed_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int feed_detect(const char *data, size_t len);
int feed_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int sp_incident_detect(const char *data, size_t len);
int sp_incident_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int sp_home_detect(const char *data, size_t len);
int sp_home_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int sp_history_detect(const char *data, size_t len);
int sp_history_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);
int agg_detect(const char *data, size_t len);
int agg_parse(const char *data, size_t len, const struct parse_opts *o, struct rec_doc *doc, char **cause);

#endif
