/* term.h: text for people. When standard output is a terminal, text that came from scraped pages
 * loses control characters and escape sequences (C0, DEL, C1, ESC/CSI/OSC sequences, bidi overrides)
 * so a page cannot move the cursor, retitle the window or hide text. Piped output is left as it is.
 * Ownership: term_clean returns a new string the caller frees. */
#ifndef SC_TERM_H
#define SC_TERM_H

#include <stdio.h>

/* Decide once whether stdout is a terminal (call before printing; STARCHIVE_TERM=1 forces it). */
void term_init(void);
int term_is_tty(void);
/* A copy of s without control characters (LF and, unless keep_tab is 0, TAB stay) and escape sequences. */
char *term_clean(const char *s, int keep_tab);
/* Print s to stdout, cleaned when stdout is a terminal; NULL prints nothing. */
void term_puts(const char *s);
/* printf to stdout whose %s arguments are cleaned when stdout is a terminal. */
void term_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
