/* util.h: allocation that never fails (it aborts), capped growable buffers, small string helpers.
 * Ownership: a struct buf owns its bytes; buf_release frees them, buf_detach hands them to the caller. */
#ifndef SC_UTIL_H
#define SC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure is fatal: these print one line and exit 1. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Set *cause (when cause is not NULL) to a formatted message; returns -1 for tail calls. */
int set_cause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Growable byte buffer, always NUL-terminated, with an optional hard cap (0 = unlimited). */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap;
};
#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t cap);
/* Make room for at least n bytes in all (a hint; the cap still rules appends). */
void buf_grow_to(struct buf *b, size_t n);
/* Append n bytes; returns -1 (appending nothing) when the cap would be exceeded. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
char *buf_detach(struct buf *b);
void buf_release(struct buf *b);
/* Read a whole file ("-" is stdin) into b, honouring b's cap. */
int buf_read_file(struct buf *b, const char *path, char **cause);

/* Find needle in the first hlen bytes of hay. */
const char *memstr(const char *hay, size_t hlen, const char *needle);
int str_starts(const char *s, const char *prefix);
int str_ends(const char *s, const char *suffix);
/* Case-insensitive ASCII compare, NULL-safe equality. */
int str_ieq(const char *a, const char *b);
int str_eq(const char *a, const char *b);

#endif
