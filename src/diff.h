/* diff.h: line diffs (for postmortem.changed) and "what changed" summaries between two versions of an
 * incident (for revisions and 'starchive log'), and the reader-visible text used to compare bodies.
 * Ownership: every char * returned is a new string the caller frees. */
#ifndef SC_DIFF_H
#define SC_DIFF_H

#include "record.h"

/* The text as a reader sees it, for comparisons: character references decoded, light Markdown
 * syntax (headings, bullets, emphasis, [text](url) links, backticks) dropped, every run of
 * whitespace (no-break and zero-width spaces too) one space, trimmed. NULL reads as "". */
char *diff_reader_text(const char *s);
/* 1 when a and b read the same (see diff_reader_text). */
int diff_same_text(const char *a, const char *b);
/* 1 when a reads as a shortened copy of b: a prefix of it ending in "..." or an ellipsis. */
int diff_is_truncation(const char *a, const char *b);
/* 1 when a, as read (diff_reader_text), begins b and stops where a word of b ends: a history
 * index's one-line summary of an update whose page has the whole text. */
int diff_is_prefix(const char *a, const char *b);

/* A unified diff of the lines of old and new ("@@ -a,b +c,d @@" hunks with context lines around
 * each change, "-", "+" and " " prefixes); "" when the lines are the same. NULL reads as "". */
char *diff_lines(const char *old, const char *new, int context);
/* Count the lines diff_lines would mark removed and added. */
void diff_count(const char *old, const char *new, size_t *removed, size_t *added);

/* What differs between two versions of an incident, one change a line (no trailing newline on the
 * last); old NULL describes a new incident. "" when nothing a reader sees differs. */
char *diff_incident_summary(const struct rec_incident *old, const struct rec_incident *new);

#endif
