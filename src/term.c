/* term.c: cleaning scraped text before it reaches a terminal. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"
#include "util.h"

static int tty = -1;

void term_init(void)
{
	const char *force = getenv("STARCHIVE_TERM");
	if (force && *force)
		tty = strcmp(force, "0") != 0;
	else
		tty = isatty(STDOUT_FILENO);
}

int term_is_tty(void)
{
	if (tty < 0)
		term_init();
	return tty;
}

/* Skip an escape sequence that starts after its introducer: CSI runs to a final byte 0x40-0x7e,
 * OSC/DCS/APC/PM/SOS run to BEL or ST (ESC \ or U+009C). */
static const unsigned char *skip_csi(const unsigned char *p)
{
	while (*p && !(*p >= 0x40 && *p <= 0x7e))
		p++;
	return *p ? p + 1 : p;
}

static const unsigned char *skip_string(const unsigned char *p)
{
	while (*p) {
		if (*p == 0x07)
			return p + 1;
		if (p[0] == 0x1b && p[1] == '\\')
			return p + 2;
		if (p[0] == 0xc2 && p[1] == 0x9c)
			return p + 2;
		p++;
	}
	return p;
}

char *term_clean(const char *s, int keep_tab)
{
	if (!s)
		return NULL;
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p == 0x1b) {
			p++;
			if (*p == '[')
				p = skip_csi(p + 1);
			else if (*p == ']' || *p == 'P' || *p == '_' || *p == '^' || *p == 'X')
				p = skip_string(p + 1);
			else if (*p)
				p++;
			continue;
		}
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* C1 controls: U+009B is CSI, U+009D OSC, U+0090 DCS */
			unsigned char c = p[1];
			p += 2;
			if (c == 0x9b)
				p = skip_csi(p);
			else if (c == 0x9d || c == 0x90 || c == 0x9e || c == 0x9f || c == 0x98)
				p = skip_string(p);
			continue;
		}
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) {
			p += 3; /* U+202A..U+202E bidi embeddings and overrides */
			continue;
		}
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) {
			p += 3; /* U+2066..U+2069 bidi isolates */
			continue;
		}
		if ((*p < 0x20 && *p != '\n' && !(*p == '\t' && keep_tab)) || *p == 0x7f) {
			if (*p == '\t')
				buf_addc(&b, ' ');
			p++;
			continue;
		}
		buf_addc(&b, (char)*p++);
	}
	return buf_detach(&b);
}

void term_puts(const char *s)
{
	if (!s)
		return;
	if (!term_is_tty()) {
		fputs(s, stdout);
		return;
	}
	char *c = term_clean(s, 1);
	fputs(c, stdout);
	free(c);
}

void term_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	term_puts(s);
	free(s);
}
