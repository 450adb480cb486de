/* parse.c: the table of source kinds, detection and the common decode-parse-finish path. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "parse.h"
#include "util.h"

/* Adding a format: write parse-<kind>.c with a detect and a parse function, declare them in
 * parse.h and add one line here. Detection picks the highest score; ties go to the earlier line. */
const struct source_kind source_kinds[] = {
	{ "statuspage-json", "Statuspage / incident.io API v2 JSON (summary, incidents, maintenances, components)",
	  sp_json_detect, sp_json_parse },
	{ "statuspage-feed", "Statuspage /history.rss and /history.atom (incident timelines as HTML blocks)",
	  sp_feed_detect, sp_feed_parse },
	{ "feed", "Any RSS 2.0 or Atom 1.0 status feed (incident.io, Better Stack, AWS, Azure, Google Cloud)",
	  feed_detect, feed_parse },
	{ "statuspage-incident", "Statuspage incident page /incidents/<code> (HTML: timeline, impact, components)",
	  sp_incident_detect, sp_incident_parse },
	{ "statuspage-home", "Statuspage home page / (HTML: components, open and recent incidents, maintenances)",
	  sp_home_detect, sp_home_parse },
	{ "statuspage-history", "Statuspage history index /history?page=N (HTML with HistoryIndex React props)",
	  sp_history_detect, sp_history_parse },
	{ "aggregator-incident", "Status aggregator incident page (Pingoru, IsDown-like: one vendor incident, HTML)",
	  agg_detect, agg_parse },
};
const size_t n_source_kinds = ARRAY_SIZE(source_kinds);

const struct source_kind *parse_kind_find(const char *name)
{
	for (size_t i = 0; i < n_source_kinds; i++)
		if (strcmp(source_kinds[i].name, name) == 0)
			return &source_kinds[i];
	return NULL;
}

const struct source_kind *parse_detect(const char *data, size_t len)
{
	const struct source_kind *best = NULL;
	int score = 0;
	for (size_t i = 0; i < n_source_kinds; i++) {
		int s = source_kinds[i].detect(data, len);
		if (s > score) {
			score = s;
			best = &source_kinds[i];
		}
	}
	return best;
}

/* UTF-16 with a BOM (AWS serves it) becomes UTF-8; unpaired surrogates become U+FFFD. */
static char *utf16_to_utf8(const unsigned char *p, size_t n, int big, size_t *outlen)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t u = big ? (uint32_t)(p[i] << 8 | p[i + 1]) : (uint32_t)(p[i + 1] << 8 | p[i]);
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < n) {
			uint32_t lo = big ? (uint32_t)(p[i + 2] << 8 | p[i + 3]) : (uint32_t)(p[i + 3] << 8 | p[i + 2]);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		char enc[4];
		buf_add(&b, enc, utf8_encode(u, enc));
	}
	*outlen = b.len;
	return buf_detach(&b);
}

/* 1 when the first kilobyte declares a character set other than UTF-8 (libxml2 converts those). */
static int declares_other_charset(const char *data, size_t len)
{
	size_t n = len < 1024 ? len : 1024;
	char *head = xstrndup(data, n);
	for (char *p = head; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	int other = 0;
	const char *keys[] = { "charset=", "encoding=" };
	for (size_t k = 0; k < 2 && !other; k++) {
		const char *p = strstr(head, keys[k]);
		if (!p)
			continue;
		p += strlen(keys[k]);
		while (*p == '"' || *p == '\'' || *p == ' ')
			p++;
		other = *p && strncmp(p, "utf-8", 5) != 0 && strncmp(p, "utf8", 4) != 0;
	}
	free(head);
	return other;
}

int parse_buffer(const char *data, size_t len, const char *kind, const struct parse_opts *o,
		 struct rec_doc **out, char **cause)
{
	*out = NULL;
	const unsigned char *u = (const unsigned char *)data;
	char *conv = NULL;
	if (len >= 2 && ((u[0] == 0xfe && u[1] == 0xff) || (u[0] == 0xff && u[1] == 0xfe))) {
		conv = utf16_to_utf8(u + 2, len - 2, u[0] == 0xfe, &len);
		data = conv;
	} else if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
		data += 3;
		len -= 3;
	}
	int rc = -1;
	size_t bad;
	size_t i = 0;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
		i++;
	const struct source_kind *k = NULL;
	if (i == len) {
		set_cause(cause, "the document is empty");
		goto out;
	}
	if (!utf8_valid(data, len, &bad) && !declares_other_charset(data, len)) {
		set_cause(cause, "not valid UTF-8 (first bad byte at offset %zu)", bad);
		goto out;
	}
	if (kind) {
		k = parse_kind_find(kind);
		if (!k) {
			set_cause(cause, "unknown kind '%s' (see 'starchive parse --list-kinds')", kind);
			goto out;
		}
	} else {
		k = parse_detect(data, len);
		if (!k) {
			set_cause(cause, "not a status page document starchive recognises (give --kind)");
			goto out;
		}
	}
	struct rec_doc *doc = rec_doc_new(k->name);
	rec_set(&doc->url, o ? o->url : NULL);
	struct parse_opts none = { 0 };
	if (k->parse(data, len, o ? o : &none, doc, cause) < 0) {
		rec_doc_free(doc);
		goto out;
	}
	for (size_t j = 0; j < doc->n_incidents; j++)
		rec_incident_finish(&doc->incidents[j]);
	*out = doc;
	rc = 0;
out:
	free(conv);
	return rc;
}
