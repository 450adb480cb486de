/* catalog.h: the bundled catalog of real vendors (data/catalog.tsv, built into the binary) that
 * 'vendor add --catalog NAME' uses. Ownership: entries point into the catalog, which lives until
 * catalog_free. */
#ifndef SC_CATALOG_H
#define SC_CATALOG_H

#include <stddef.h>

struct catalog_entry {
	const char *name;     /* slug, e.g. "github" */
	const char *title;    /* display name */
	const char *url;      /* the status page root */
	const char *platform; /* statuspage, incident.io, instatus, ... */
	const char *sources;  /* comma-separated paths or URLs of the best sources */
	const char *note;     /* may be "" */
};

struct catalog {
	char *text;
	struct catalog_entry *entries;
	size_t n;
};

/* Read the built-in catalog (or, when text is not NULL, that TSV text). -1 with *cause when a line
 * is malformed. */
int catalog_load(const char *text, struct catalog *out, char **cause);
const struct catalog_entry *catalog_find(const struct catalog *c, const char *name);
void catalog_free(struct catalog *c);

#endif
