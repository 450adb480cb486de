/* catalog.c: reading the vendor catalog. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "util.h"

extern const char catalog_tsv[];

#define CATALOG_HEADER "name\ttitle\turl\tplatform\tsources\tnote"

int catalog_load(const char *text, struct catalog *out, char **cause)
{
	memset(out, 0, sizeof *out);
	out->text = xstrdup(text ? text : catalog_tsv);
	char *save = NULL;
	size_t lineno = 0;
	for (char *line = strtok_r(out->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, CATALOG_HEADER) != 0) {
				catalog_free(out);
				return set_cause(cause, "catalog line 1: not the header '%s'", CATALOG_HEADER);
			}
			continue;
		}
		if (!*line || *line == '#')
			continue;
		char *f[6] = { 0 };
		size_t nf = 0;
		for (char *p = line; nf < 6;) {
			f[nf++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (nf < 5 || !*f[0] || !*f[2]) {
			catalog_free(out);
			return set_cause(cause, "catalog line %zu: expected name, title, url, platform, sources", lineno);
		}
		out->entries = xreallocarray(out->entries, out->n + 1, sizeof *out->entries);
		struct catalog_entry *e = &out->entries[out->n++];
		e->name = f[0];
		e->title = f[1];
		e->url = f[2];
		e->platform = f[3];
		e->sources = f[4];
		e->note = nf > 5 ? f[5] : "";
	}
	return 0;
}

const struct catalog_entry *catalog_find(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->entries[i].name, name) == 0)
			return &c->entries[i];
	return NULL;
}

void catalog_free(struct catalog *c)
{
	free(c->text);
	free(c->entries);
	memset(c, 0, sizeof *c);
}
