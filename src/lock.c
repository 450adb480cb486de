/* lock.c: an flock(2) lock file next to the archive; the kernel drops it when the holder dies. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "record.h"
#include "util.h"

struct run_lock {
	int fd;
	char *path;
};

int lock_acquire(const char *archive_path, int wait, int64_t now, struct run_lock **out, char **cause)
{
	*out = NULL;
	char *path = xasprintf("%s.lock", archive_path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		set_cause(cause, "cannot open the lock '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			char holder[128] = "";
			ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			set_cause(cause, "the archive '%s' is in use by another run (%s)", archive_path,
				  *holder ? holder : "holder unknown");
			close(fd);
			free(path);
			return 1;
		}
		set_cause(cause, "cannot lock '%s': %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	char when[40];
	rec_format_time(now, when, sizeof when);
	char line[128];
	int len = snprintf(line, sizeof line, "pid %ld since %s\n", (long)getpid(), when);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)len, 0) < 0) {
		/* the lock holds without the note; the message will just say less */
	}
	struct run_lock *l = xmalloc(sizeof *l);
	l->fd = fd;
	l->path = path;
	*out = l;
	return 0;
}

void lock_release(struct run_lock *l)
{
	if (!l)
		return;
	if (ftruncate(l->fd, 0) < 0) {
		/* a stale note is harmless: the lock itself is what counts */
	}
	close(l->fd); /* closing drops the flock */
	free(l->path);
	free(l);
}
