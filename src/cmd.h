/* cmd.h: the subcommands (one cmd-<name>.c each) and what they share with main.c.
 * Only cmd-*.c and main.c print or exit. */
#ifndef SC_CMD_H
#define SC_CMD_H

#include <stdint.h>
#include <stdio.h>

/* Exit codes (README.md and starchive(1) list the same table). */
enum {
	EXIT_OK = 0,
	EXIT_FATAL = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,
	EXIT_LOCKED = 75,
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;   /* the synopsis after "starchive NAME" */
	const char *summary; /* one line for --help */
	const char *help;    /* the option list for "starchive NAME --help" */
};

extern const struct command commands[];
extern const char *global_db_path; /* --db, or NULL */

/* Print the command's usage: to stdout (exit 0) when asked for, to stderr (exit 2) on misuse. */
int cmd_usage(const char *name, int requested);
/* Print "starchive: <msg>" to stderr; returns EXIT_FATAL. */
int cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Flush stdout and report a write error; returns code, or EXIT_FATAL when stdout failed. */
int cmd_finish(int code);

int cmd_parse(int argc, char **argv);

#endif
