/* atom.c: an Atom feed (RFC 4287) written as text, without an XML library: the few elements a feed
 * of events needs, escaped by hand for XML 1.0. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "atom.h"
#include "record.h"
#include "sha256.h"
#include "util.h"

/* The length of the valid UTF-8 sequence at s (its code point in *cp), or 0 when it is not one:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const struct {
		unsigned char mask, lead;
		size_t n;
		uint32_t min;
	} forms[] = {
		{ 0x80, 0x00, 1, 0 }, { 0xe0, 0xc0, 2, 0x80 }, { 0xf0, 0xe0, 3, 0x800 }, { 0xf8, 0xf0, 4, 0x10000 },
	};
	size_t f = 0;
	while (f < ARRAY_SIZE(forms) && (s[0] & forms[f].mask) != forms[f].lead)
		f++;
	if (f == ARRAY_SIZE(forms))
		return 0;
	size_t n = forms[f].n;
	uint32_t min = forms[f].min, c = s[0] & (unsigned char)~forms[f].mask & 0x7f;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int atom_escape(struct buf *b, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int r = 0;
	while (*p) {
		/* the run of bytes that go out as they are */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p < 0x80 && *p != '&' && *p != '<' && *p != '>' && *p != '"')
			p++;
		if (p > run)
			r |= buf_add(b, run, (size_t)(p - run));
		if (!*p)
			break;
		uint32_t cp;
		size_t n = utf8_seq(p, &cp);
		if (n == 0) {
			r |= buf_adds(b, "\xef\xbf\xbd"); /* U+FFFD for a byte that starts no valid sequence */
			p++;
			continue;
		}
		switch (cp) {
		case '&':
			r |= buf_adds(b, "&amp;");
			break;
		case '<':
			r |= buf_adds(b, "&lt;");
			break;
		case '>':
			r |= buf_adds(b, "&gt;");
			break;
		case '"':
			r |= buf_adds(b, "&quot;");
			break;
		case '\r':
			/* a parser folds a literal CR (and CR LF) into LF */
			r |= buf_adds(b, "&#13;");
			break;
		case '\t':
		case '\n':
			/* attribute-value normalization would turn them into spaces */
			if (attr)
				r |= buf_addf(b, "&#%u;", (unsigned)cp);
			else
				r |= buf_addc(b, (char)cp);
			break;
		default:
			if (cp < 0x20 || cp == 0xfffe || cp == 0xffff)
				break; /* not a character XML 1.0 allows, even as a reference */
			r |= buf_add(b, p, n);
		}
		p += n;
	}
	return r < 0 ? -1 : 0;
}

/* <name>text</name> on its own line at the given indent. */
static int element(struct buf *b, const char *indent, const char *name, const char *text)
{
	int r = buf_addf(b, "%s<%s>", indent, name);
	r |= atom_escape(b, text, 0);
	r |= buf_addf(b, "</%s>\n", name);
	return r;
}

static int date_element(struct buf *b, const char *indent, const char *name, int64_t t)
{
	char when[40];
	rec_format_time(t, when, sizeof when);
	return buf_addf(b, "%s<%s>%s</%s>\n", indent, name, when, name);
}

static int person(struct buf *b, const char *indent, const char *name)
{
	int r = buf_addf(b, "%s<author>\n", indent);
	r |= buf_addf(b, "%s  ", indent);
	r |= element(b, "", "name", name);
	r |= buf_addf(b, "%s</author>\n", indent);
	return r;
}

/* An IRI as an attribute value: what IRIs exclude (controls, space, '"', '<', '>', '\\', '^', '`',
 * '{', '|', '}') percent-encoded, the rest escaped for XML. */
static int iri(struct buf *b, const char *s)
{
	struct buf t = BUF_INIT;
	buf_adds(&t, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("\"<>\\^`{|}", *p))
			buf_addf(&t, "%%%02X", *p);
		else
			buf_addc(&t, (char)*p);
	}
	int r = atom_escape(b, t.data, 1);
	buf_release(&t);
	return r;
}

/* <link rel="REL" href="HREF"[ type="TYPE"]/> */
static int link(struct buf *b, const char *indent, const char *rel, const char *href, const char *type)
{
	int r = buf_addf(b, "%s<link rel=\"%s\" href=\"", indent, rel);
	r |= iri(b, href);
	if (type)
		r |= buf_addf(b, "\" type=\"%s", type);
	r |= buf_adds(b, "\"/>\n");
	return r;
}

int atom_feed_begin(struct buf *b, const struct atom_feed *f)
{
	int r = buf_adds(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"" ATOM_NS "\">\n");
	r |= element(b, "  ", "id", f->id);
	r |= buf_adds(b, "  <title type=\"text\">");
	r |= atom_escape(b, f->title, 0);
	r |= buf_adds(b, "</title>\n");
	r |= date_element(b, "  ", "updated", f->updated);
	if (f->author)
		r |= person(b, "  ", f->author);
	if (f->generator) {
		r |= buf_adds(b, "  <generator");
		if (f->generator_uri) {
			r |= buf_adds(b, " uri=\"");
			r |= iri(b, f->generator_uri);
			r |= buf_addc(b, '"');
		}
		if (f->generator_version) {
			r |= buf_adds(b, " version=\"");
			r |= atom_escape(b, f->generator_version, 1);
			r |= buf_addc(b, '"');
		}
		r |= buf_addc(b, '>');
		r |= atom_escape(b, f->generator, 0);
		r |= buf_adds(b, "</generator>\n");
	}
	if (f->self)
		r |= link(b, "  ", "self", f->self, "application/atom+xml");
	return r < 0 ? -1 : 0;
}

int atom_feed_entry(struct buf *b, const struct atom_entry *e)
{
	int r = buf_adds(b, "  <entry>\n");
	r |= element(b, "    ", "id", e->id);
	r |= buf_adds(b, "    <title type=\"text\">");
	r |= atom_escape(b, e->title, 0);
	r |= buf_adds(b, "</title>\n");
	if (e->link)
		r |= link(b, "    ", "alternate", e->link, NULL);
	if (e->has_published)
		r |= date_element(b, "    ", "published", e->published);
	r |= date_element(b, "    ", "updated", e->updated);
	if (e->author)
		r |= person(b, "    ", e->author);
	for (size_t i = 0; i < e->n_categories; i++) {
		r |= buf_adds(b, "    <category term=\"");
		r |= atom_escape(b, e->categories[i].term, 1);
		if (e->categories[i].label) {
			r |= buf_adds(b, "\" label=\"");
			r |= atom_escape(b, e->categories[i].label, 1);
		}
		r |= buf_adds(b, "\"/>\n");
	}
	if (e->content) {
		r |= buf_adds(b, "    <content type=\"text\">");
		r |= atom_escape(b, e->content, 0);
		r |= buf_adds(b, "</content>\n");
	}
	r |= buf_adds(b, "  </entry>\n");
	return r < 0 ? -1 : 0;
}

int atom_feed_end(struct buf *b)
{
	return buf_adds(b, "</feed>\n");
}

void atom_uuid_urn(const char *const *parts, size_t n, char out[ATOM_UUID_URN_LEN])
{
	struct sha256 c;
	unsigned char d[SHA256_LEN];
	sha256_init(&c);
	for (size_t i = 0; i < n; i++)
		sha256_update(&c, parts[i], strlen(parts[i]) + 1);
	sha256_final(&c, d);
	d[6] = (unsigned char)((d[6] & 0x0f) | 0x80); /* version 8: custom */
	d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* variant 10: RFC 9562 */
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "urn:uuid:", 9);
	char *o = out + 9;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[d[i] >> 4];
		*o++ = hex[d[i] & 15];
	}
	*o = '\0';
}
