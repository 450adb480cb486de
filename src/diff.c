/* diff.c: line diffs (longest common subsequence over lines after trimming the common ends) and
 * "what changed" summaries between two versions of an incident. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "normalize.h"
#include "util.h"

/* ---- reader-visible text ---- */

/* Bytes of a whitespace-like code point at p (no-break, typographic and zero-width spaces), or 0. */
static size_t space_len(const unsigned char *p, int *zero_width)
{
	*zero_width = 0;
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		return 1;
	if (p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x80 && p[2] <= 0x8a)
		return 3; /* U+2000..U+200A */
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xaf))
		return 3; /* U+202F */
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3; /* U+3000 */
	if ((p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x8b && p[2] <= 0x8d) ||
	    (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)) {
		*zero_width = 1; /* U+200B..U+200D, U+FEFF */
		return 3;
	}
	return 0;
}

/* Drop the Markdown marker at the start of a line: "#"s, "> ", "* ", "- ", "+ ", "1. ". */
static const char *skip_line_marker(const char *p)
{
	const char *q = p;
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '#') {
		while (*q == '#')
			q++;
		return *q == ' ' ? q + 1 : p;
	}
	if ((*q == '>' || *q == '*' || *q == '-' || *q == '+') && q[1] == ' ')
		return q + 2;
	if (*q >= '0' && *q <= '9') {
		while (*q >= '0' && *q <= '9')
			q++;
		if ((*q == '.' || *q == ')') && q[1] == ' ')
			return q + 2;
	}
	return p;
}

char *diff_reader_text(const char *s)
{
	char *dec = html_unescape(s ? s : "", s ? strlen(s) : 0);
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	int pending_space = 0, line_start = 1;
	const char *p = dec;
	while (*p) {
		if (line_start) {
			p = skip_line_marker(p);
			line_start = 0;
			continue;
		}
		int zw;
		size_t sl = space_len((const unsigned char *)p, &zw);
		if (sl) {
			if (*p == '\n')
				line_start = 1;
			if (!zw)
				pending_space = 1;
			p += sl;
			continue;
		}
		if (*p == '*' || *p == '`' || (p[0] == '_' && p[1] == '_')) {
			p += (*p == '_') ? 2 : 1;
			continue;
		}
		if (*p == '[') {
			/* [text](url) reads as text */
			const char *close = strchr(p, ']');
			if (close && close[1] == '(' && strchr(close, ')') && !memchr(p, '\n', (size_t)(close - p))) {
				const char *end = strchr(close, ')');
				if (pending_space && b.len)
					buf_addc(&b, ' ');
				pending_space = 0;
				char *inner = xstrndup(p + 1, (size_t)(close - p - 1));
				char *t = diff_reader_text(inner);
				buf_adds(&b, t);
				free(t);
				free(inner);
				p = end + 1;
				continue;
			}
		}
		if (pending_space && b.len)
			buf_addc(&b, ' ');
		pending_space = 0;
		buf_addc(&b, *p++);
	}
	free(dec);
	return buf_detach(&b);
}

int diff_same_text(const char *a, const char *b)
{
	if (str_eq(a, b))
		return 1;
	char *x = diff_reader_text(a), *y = diff_reader_text(b);
	int same = strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

int diff_is_truncation(const char *a, const char *b)
{
	char *x = diff_reader_text(a), *y = diff_reader_text(b);
	size_t n = strlen(x);
	/* only a marked cut: a text that merely grew (a paragraph added) is an edit */
	int marked = n >= 3 && (strcmp(x + n - 3, "...") == 0 || strcmp(x + n - 3, "\xe2\x80\xa6") == 0);
	if (marked)
		n -= 3;
	else
		n = 0;
	while (n && x[n - 1] == ' ')
		n--;
	int r = n > 0 && n < strlen(y) && strncmp(x, y, n) == 0;
	free(x);
	free(y);
	return r;
}

int diff_is_prefix(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	char *x = diff_reader_text(a), *y = diff_reader_text(b);
	size_t n = strlen(x);
	int r = n >= 10 && n < strlen(y) && strncmp(x, y, n) == 0 &&
		(y[n] == ' ' || y[n] == '.' || y[n] == ',' || y[n] == ';' || y[n] == ':' || y[n] == '!' || y[n] == '?' ||
		 x[n - 1] == '.' || x[n - 1] == '!' || x[n - 1] == '?');
	free(x);
	free(y);
	return r;
}

/* ---- line diff ---- */

struct lines {
	char **v;
	size_t n;
};

static void split_lines(const char *s, struct lines *l)
{
	l->v = NULL;
	l->n = 0;
	if (!s || !*s)
		return;
	const char *p = s;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (!nl && len == 0)
			break;
		l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
		l->v[l->n++] = xstrndup(p, len);
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void free_lines(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* One step of the edit script: ' ' keeps old line i (= new line j), '-' drops old i, '+' adds new j. */
struct op {
	char kind;
	size_t i, j;
};

/* Largest LCS table (cells) before falling back to "everything between the common ends changed". */
#define DIFF_MAX_CELLS (4u << 20)

static struct op *edit_script(const struct lines *a, const struct lines *b, size_t *nops)
{
	size_t pre = 0, suf = 0;
	while (pre < a->n && pre < b->n && strcmp(a->v[pre], b->v[pre]) == 0)
		pre++;
	while (suf < a->n - pre && suf < b->n - pre && strcmp(a->v[a->n - 1 - suf], b->v[b->n - 1 - suf]) == 0)
		suf++;
	size_t n = a->n - pre - suf, m = b->n - pre - suf;
	struct op *ops = xreallocarray(NULL, a->n + b->n + 1, sizeof *ops);
	size_t k = 0;
	for (size_t x = 0; x < pre; x++)
		ops[k++] = (struct op){ ' ', x, x };
	if (n && m && (n + 1) <= DIFF_MAX_CELLS / (m + 1)) {
		/* L[x][y] = LCS length of a[pre+x..] and b[pre+y..] */
		uint32_t *L = xcalloc((n + 1) * (m + 1), sizeof *L);
#define AT(x, y) L[(x) * (m + 1) + (y)]
		for (size_t x = n; x-- > 0;)
			for (size_t y = m; y-- > 0;)
				AT(x, y) = strcmp(a->v[pre + x], b->v[pre + y]) == 0 ? AT(x + 1, y + 1) + 1
					   : (AT(x + 1, y) >= AT(x, y + 1) ? AT(x + 1, y) : AT(x, y + 1));
		size_t x = 0, y = 0;
		while (x < n || y < m) {
			if (x < n && y < m && strcmp(a->v[pre + x], b->v[pre + y]) == 0) {
				ops[k++] = (struct op){ ' ', pre + x, pre + y };
				x++;
				y++;
			} else if (x < n && (y == m || AT(x + 1, y) >= AT(x, y + 1))) {
				ops[k++] = (struct op){ '-', pre + x, pre + y };
				x++;
			} else {
				ops[k++] = (struct op){ '+', pre + x, pre + y };
				y++;
			}
		}
#undef AT
		free(L);
	} else {
		for (size_t x = 0; x < n; x++)
			ops[k++] = (struct op){ '-', pre + x, pre };
		for (size_t y = 0; y < m; y++)
			ops[k++] = (struct op){ '+', pre + n, pre + y };
	}
	for (size_t x = 0; x < suf; x++)
		ops[k++] = (struct op){ ' ', pre + n + x, pre + m + x };
	*nops = k;
	return ops;
}

static void hunk_range(struct buf *b, char sign, size_t start, size_t count)
{
	/* as diff -u writes it: a 1-based start, ",count" unless it is 1, an empty range names the line before */
	if (count == 0)
		buf_addf(b, "%c%zu,0", sign, start);
	else if (count == 1)
		buf_addf(b, "%c%zu", sign, start + 1);
	else
		buf_addf(b, "%c%zu,%zu", sign, start + 1, count);
}

char *diff_lines(const char *old, const char *new, int context)
{
	struct lines a, b;
	split_lines(old, &a);
	split_lines(new, &b);
	size_t nops;
	struct op *ops = edit_script(&a, &b, &nops);
	struct buf out = BUF_INIT;
	buf_add(&out, "", 0);
	size_t ctx = context < 0 ? 0 : (size_t)context;
	size_t k = 0;
	while (k < nops) {
		if (ops[k].kind == ' ') {
			k++;
			continue;
		}
		/* a hunk: from ctx lines before this change to ctx lines after the last change within reach */
		size_t start = k > ctx ? k - ctx : 0;
		size_t end = k;
		for (;;) {
			while (end < nops && ops[end].kind != ' ')
				end++;
			size_t next = end;
			while (next < nops && ops[next].kind == ' ' && next - end < 2 * ctx + 1)
				next++;
			if (next < nops && ops[next].kind != ' ' && next - end <= 2 * ctx) {
				end = next;
				continue;
			}
			break;
		}
		size_t stop = end + ctx < nops ? end + ctx : nops;
		size_t ca = 0, cb = 0;
		for (size_t x = start; x < stop; x++) {
			if (ops[x].kind != '+')
				ca++;
			if (ops[x].kind != '-')
				cb++;
		}
		buf_adds(&out, "@@ ");
		hunk_range(&out, '-', ops[start].i, ca);
		buf_addc(&out, ' ');
		hunk_range(&out, '+', ops[start].j, cb);
		buf_adds(&out, " @@\n");
		for (size_t x = start; x < stop; x++) {
			const char *line = ops[x].kind == '+' ? b.v[ops[x].j] : a.v[ops[x].i];
			buf_addf(&out, "%c%s\n", ops[x].kind, line);
		}
		k = stop;
	}
	free(ops);
	free_lines(&a);
	free_lines(&b);
	return buf_detach(&out);
}

void diff_count(const char *old, const char *new, size_t *removed, size_t *added)
{
	struct lines a, b;
	split_lines(old, &a);
	split_lines(new, &b);
	size_t nops;
	struct op *ops = edit_script(&a, &b, &nops);
	*removed = *added = 0;
	for (size_t k = 0; k < nops; k++) {
		if (ops[k].kind == '-')
			(*removed)++;
		else if (ops[k].kind == '+')
			(*added)++;
	}
	free(ops);
	free_lines(&a);
	free_lines(&b);
}

/* ---- incident summaries ---- */

static void line(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(struct buf *b, const char *fmt, ...)
{
	if (b->len)
		buf_addc(b, '\n');
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	buf_adds(b, s);
	free(s);
}

static const char *or_none(const char *s)
{
	return s ? s : "(none)";
}

static void time_text(const struct rec_time *t, char *out, size_t n)
{
	if (t->ok)
		rec_format_time(t->t, out, n);
	else
		snprintf(out, n, "(none)");
}

static void field(struct buf *b, const char *name, const char *o, const char *n, int quote)
{
	if (str_eq(o, n))
		return;
	if (quote)
		line(b, "%s: %s%s%s -> %s%s%s", name, o ? "\"" : "", or_none(o), o ? "\"" : "", n ? "\"" : "",
		     or_none(n), n ? "\"" : "");
	else
		line(b, "%s: %s -> %s", name, or_none(o), or_none(n));
}

static void time_field(struct buf *b, const char *name, const struct rec_time *o, const struct rec_time *n)
{
	if (o->ok == n->ok && (!o->ok || o->t == n->t))
		return;
	char x[40], y[40];
	time_text(o, x, sizeof x);
	time_text(n, y, sizeof y);
	line(b, "%s: %s -> %s", name, x, y);
}

static const char *comp_label(const struct rec_component *c)
{
	return c->name ? c->name : c->id ? c->id : "?";
}

static int same_component(const struct rec_component *a, const struct rec_component *b)
{
	if (a->id && b->id)
		return strcmp(a->id, b->id) == 0;
	return str_ieq(a->name, b->name);
}

static int same_update(const struct rec_update *a, const struct rec_update *b)
{
	if (a->id && b->id)
		return strcmp(a->id, b->id) == 0;
	return a->at.ok == b->at.ok && (!a->at.ok || a->at.t / 60 == b->at.t / 60) &&
	       (str_eq(a->status, b->status) || diff_same_text(a->body, b->body));
}

char *diff_incident_summary(const struct rec_incident *old, const struct rec_incident *new)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	if (!old) {
		line(&b, "first seen: %s, %s, %zu update%s%s", or_none(new->kind), or_none(new->status),
		     new->n_updates, new->n_updates == 1 ? "" : "s",
		     new->postmortem ? (new->postmortem->body ? ", postmortem" : ", postmortem (no text)") : "");
		return buf_detach(&b);
	}
	if (!diff_same_text(old->title, new->title))
		field(&b, "title", old->title, new->title, 1);
	field(&b, "kind", old->kind, new->kind, 0);
	field(&b, "impact", old->impact, new->impact, 0);
	field(&b, "status", old->status, new->status, 0);
	time_field(&b, "started", &old->started, &new->started);
	time_field(&b, "resolved", &old->resolved, &new->resolved);
	time_field(&b, "scheduled for", &old->scheduled_for, &new->scheduled_for);
	time_field(&b, "scheduled until", &old->scheduled_until, &new->scheduled_until);
	field(&b, "url", old->url, new->url, 0);
	for (size_t i = 0; i < new->n_components; i++) {
		size_t j = 0;
		while (j < old->n_components && !same_component(&old->components[j], &new->components[i]))
			j++;
		if (j == old->n_components)
			line(&b, "component added: %s", comp_label(&new->components[i]));
		else if (!str_eq(old->components[j].name, new->components[i].name))
			field(&b, "component renamed", old->components[j].name, new->components[i].name, 1);
	}
	for (size_t j = 0; j < old->n_components; j++) {
		size_t i = 0;
		while (i < new->n_components && !same_component(&old->components[j], &new->components[i]))
			i++;
		if (i == new->n_components)
			line(&b, "component removed: %s", comp_label(&old->components[j]));
	}
	unsigned char *used = xcalloc(old->n_updates + 1, 1);
	for (size_t i = 0; i < new->n_updates; i++) {
		const struct rec_update *u = &new->updates[i];
		char at[40];
		time_text(&u->at, at, sizeof at);
		size_t j = 0;
		while (j < old->n_updates && (used[j] || !same_update(&old->updates[j], u)))
			j++;
		if (j == old->n_updates) {
			line(&b, "update %zu added: %s at %s", i + 1, or_none(u->status), at);
			continue;
		}
		used[j] = 1;
		const struct rec_update *o = &old->updates[j];
		if (!diff_same_text(o->body, u->body))
			line(&b, "update %zu edited (%s at %s)", i + 1, or_none(u->status), at);
		if (!str_eq(o->status, u->status))
			line(&b, "update %zu status: %s -> %s", i + 1, or_none(o->status), or_none(u->status));
		if (o->at.ok != u->at.ok || (o->at.ok && o->at.t != u->at.t)) {
			char was[40];
			time_text(&o->at, was, sizeof was);
			line(&b, "update %zu time: %s -> %s", i + 1, was, at);
		}
		if (!o->id && u->id)
			line(&b, "update %zu id: %s", i + 1, u->id);
	}
	for (size_t j = 0; j < old->n_updates; j++)
		if (!used[j])
			line(&b, "update removed: %s", or_none(old->updates[j].status));
	free(used);
	const struct rec_postmortem *op = old->postmortem, *np = new->postmortem;
	if (!op && np) {
		line(&b, "postmortem published%s", np->body ? "" : " (no text yet)");
	} else if (op && !np) {
		line(&b, "postmortem removed");
	} else if (op && np) {
		if (!op->body && np->body) {
			line(&b, "postmortem text added");
		} else if (op->body && np->body && !diff_same_text(op->body, np->body)) {
			size_t rm, add;
			diff_count(op->body, np->body, &rm, &add);
			line(&b, "postmortem text changed (-%zu +%zu lines)", rm, add);
		}
		time_field(&b, "postmortem published", &op->published, &np->published);
	}
	return buf_detach(&b);
}
