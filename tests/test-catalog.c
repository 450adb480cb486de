/* test-catalog.c: the built-in vendor catalog loads, and malformed catalogs are refused. */
#include "config.h"

#include <stdlib.h>

#include "catalog.h"
#include "unit.h"

int main(void)
{
	struct catalog c;
	char *cause = NULL;
	CHECK(catalog_load(NULL, &c, &cause) == 0, "built-in catalog loads: %s", cause ? cause : "");
	CHECK(c.n >= 100, "at least 100 vendors, got %zu", c.n);
	const struct catalog_entry *gh = catalog_find(&c, "github");
	CHECK(gh != NULL, "github is in the catalog");
	if (gh) {
		CHECK_STR(gh->url, "https://www.githubstatus.com");
		CHECK_STR(gh->platform, "statuspage");
	}
	CHECK(catalog_find(&c, "no-such-vendor") == NULL, "unknown name");
	catalog_free(&c);

	CHECK(catalog_load("name\ttitle\n", &c, &cause) < 0 && strstr(cause, "line 1"), "bad header");
	free(cause);
	cause = NULL;
	CHECK(catalog_load("name\ttitle\turl\tplatform\tsources\tnote\nonly\ttwo\n", &c, &cause) < 0 &&
	      strstr(cause, "line 2"), "short line");
	free(cause);
	cause = NULL;
	CHECK(catalog_load("name\ttitle\turl\tplatform\tsources\tnote\nx\tX\thttps://x\tstatuspage\t/a\t\n", &c,
			   &cause) == 0 && c.n == 1 && c.entries[0].note[0] == '\0', "empty note");
	catalog_free(&c);
	return unit_summary();
}
