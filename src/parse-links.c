/* parse-links.c: the feeds a status page announces (<link rel="alternate" type="application/atom+xml">
 * and RSS), for 'vendor add' discovery. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse-xml.h"
#include "parse.h"
#include "url.h"
#include "util.h"

int parse_feed_links(const char *html, size_t len, const char *base, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	xmlDoc *doc = px_read_html(html, len, NULL);
	if (!doc)
		return 0;
	xmlNode **links = NULL;
	size_t nl = px_find_all(xmlDocGetRootElement(doc), "link", NULL, &links);
	for (size_t i = 0; i < nl; i++) {
		char *rel = px_attr(links[i], "rel");
		char *type = px_attr(links[i], "type");
		char *href = px_attr(links[i], "href");
		int feed = rel && strcasestr(rel, "alternate") && type &&
			   (strcasecmp(type, "application/atom+xml") == 0 || strcasecmp(type, "application/rss+xml") == 0);
		char *abs = feed && href ? url_join(base, href) : NULL;
		if (abs && url_is_http(abs)) {
			int dup = 0;
			for (size_t j = 0; j < *n && !dup; j++)
				dup = strcmp((*out)[j], abs) == 0;
			if (!dup) {
				*out = xreallocarray(*out, *n + 1, sizeof **out);
				(*out)[(*n)++] = abs;
				abs = NULL;
			}
		}
		free(abs);
		free(rel);
		free(type);
		free(href);
	}
	free(links);
	xmlFreeDoc(doc);
	return 0;
}
