/* atom.h: writing an Atom feed (RFC 4287) into a struct buf: the feed's head, its entries, its end,
 * with text escaped for XML 1.0, and the name-based UUIDs that give feeds and entries stable ids.
 * Ownership: every struct and string passed in is only read; the buffer is the caller's. */
#ifndef SC_ATOM_H
#define SC_ATOM_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ATOM_NS "http://www.w3.org/2005/Atom"
#define ATOM_UUID_URN_LEN 46 /* "urn:uuid:" and 36 characters, with the NUL */

/* The feed's own elements. Strings may be NULL unless said otherwise. */
struct atom_feed {
	const char *id;            /* an absolute IRI (not NULL) */
	const char *title;         /* not NULL */
	int64_t updated;           /* UTC seconds */
	const char *author;        /* the feed's author name (not NULL: entries then need none) */
	const char *generator;     /* the generator's name */
	const char *generator_uri;
	const char *generator_version;
	const char *self;          /* link rel="self": where the feed is served */
};

struct atom_category {
	const char *term;          /* not NULL */
	const char *label;
};

/* One entry. Text fields are plain text (type="text"); strings may be NULL unless said otherwise. */
struct atom_entry {
	const char *id;            /* an absolute IRI, unique in the feed and stable (not NULL) */
	const char *title;         /* not NULL */
	int64_t updated;
	int has_published;
	int64_t published;
	const char *author;        /* the entry's author name */
	const char *link;          /* link rel="alternate": the page the entry is about */
	const struct atom_category *categories;
	size_t n_categories;
	const char *content;       /* plain text */
};

/* Each returns 0, or -1 when b's cap was reached (the output is then incomplete). */
/* The XML declaration, <feed> and the feed's elements. */
int atom_feed_begin(struct buf *b, const struct atom_feed *f);
/* One <entry>. */
int atom_feed_entry(struct buf *b, const struct atom_entry *e);
/* </feed> and a final newline. */
int atom_feed_end(struct buf *b);

/* Append UTF-8 text s escaped for XML 1.0 character data, or for a double-quoted attribute when
 * attr is set: & < > " become references; characters XML 1.0 forbids (C0 controls other than tab,
 * line feed and carriage return, U+FFFE, U+FFFF) are dropped; invalid UTF-8 becomes U+FFFD; a
 * carriage return (and in attributes a tab or line feed) becomes a character reference so that a
 * parser hands it back unchanged. */
int atom_escape(struct buf *b, const char *s, int attr);

/* "urn:uuid:" and a version 8 UUID (RFC 9562: the layout, version and variant bits) made from the
 * first 16 bytes of the SHA-256 of the parts in order, each followed by a NUL byte. */
void atom_uuid_urn(const char *const *parts, size_t n, char out[ATOM_UUID_URN_LEN]);

#endif
