/* cmd-init.c: starchive init: create the archive (or upgrade an old one in place); and the helper
 * every archive command opens it with. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "archive.h"
#include "cmd.h"
#include "lock.h"
#include "db.h"
#include "util.h"

int cmd_open_archive(int create, struct db **out, char **path_out)
{
	char *cause = NULL;
	*out = NULL;
	char *path = db_resolve_path(global_db_path, &cause);
	if (!path) {
		cmd_error("%s", cause);
		free(cause);
		return EXIT_FATAL;
	}
	int rc = db_open(path, create ? DB_OPEN_CREATE : DB_OPEN_EXISTING, out, &cause);
	if (rc < 0) {
		cmd_error("%s", cause);
		free(cause);
		free(path);
		return rc == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	if (path_out)
		*path_out = path;
	else
		free(path);
	return EXIT_OK;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h')
			return cmd_usage("init", 1);
		return cmd_usage("init", 0);
	}
	if (optind != argc)
		return cmd_usage("init", 0);
	char *cause = NULL;
	char *path = db_resolve_path(global_db_path, &cause);
	if (!path) {
		cmd_error("%s", cause);
		free(cause);
		return EXIT_FATAL;
	}
	struct stat sb;
	int existed = stat(path, &sb) == 0;
	free(path);
	struct db *db;
	int rc = cmd_open_archive(1, &db, &path);
	if (rc != EXIT_OK)
		return rc;
	if (!existed)
		printf("initialized archive '%s' (schema version %d)\n", path, db_schema_version(db));
	else if (db_migrations_applied(db))
		printf("upgraded archive '%s' to schema version %d\n", path, db_schema_version(db));
	else
		printf("archive '%s' is up to date (schema version %d)\n", path, db_schema_version(db));
	db_close(db);
	free(path);
	return cmd_finish(EXIT_OK);
}

int cmd_find_incident(struct db *db, const char *vendor, const char *key, int64_t *id)
{
	char *cause = NULL;
	int r = db_incident_find(db, vendor, key, id, &cause);
	if (r == 0) {
		char *norm = archive_key_norm(key);
		if (norm)
			r = db_incident_find(db, vendor, norm, id, &cause);
		free(norm);
	}
	if (r < 0) {
		cmd_error("%s", cause);
		free(cause);
		return r == DB_LOCKED ? EXIT_LOCKED : EXIT_FATAL;
	}
	if (r == 0) {
		cmd_error("no incident '%s' of vendor '%s' in the archive", key, vendor);
		return EXIT_FATAL;
	}
	return EXIT_OK;
}

int cmd_lock(const char *archive_path, int wait, int64_t now, struct run_lock **out)
{
	char *cause = NULL;
	int lr = lock_acquire(archive_path, wait, now, out, &cause);
	if (lr != 0)
		cmd_error("%s", cause);
	free(cause);
	return lr == 0 ? EXIT_OK : lr == 1 ? EXIT_LOCKED : EXIT_FATAL;
}
