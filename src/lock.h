/* lock.h: the run lock beside the archive ("ARCHIVE.lock"), so two syncs never overlap. The holder
 * writes its pid and start time into the file for the one-line message the other one prints.
 * Ownership: lock_release closes and frees. */
#ifndef SC_LOCK_H
#define SC_LOCK_H

#include <stdint.h>

struct run_lock;

/* Take the lock: 0 taken, 1 held by another process (*cause names the holder), -1 error (*cause).
 * With wait set, block until the holder is done instead of returning 1. */
int lock_acquire(const char *archive_path, int wait, int64_t now, struct run_lock **out, char **cause);
void lock_release(struct run_lock *l);

#endif
