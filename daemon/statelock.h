/* statelock.h — one daemon per state directory.
 *
 * `vigie run` holds an exclusive flock(2) on STATE_DIR/vigie.lock, which
 * holds its pid, for as long as it runs: a second daemon on the same
 * directory would poll every feed and send every alert twice, and take
 * over the first one's alerts in flight. The kernel drops the lock with
 * the process, however it ends (no stale lock after a crash). The
 * commands meant to run beside the daemon (check, status, search,
 * outbox) do not take it. */
#ifndef VIGIE_STATELOCK_H
#define VIGIE_STATELOCK_H

#include <stdbool.h>
#include <stddef.h>

#define STATELOCK_NAME "vigie.lock"

/* The lock on state_dir (which must exist): its descriptor, or -1 with
 * why ("in use by another vigie run (pid 123); ..."). */
int statelock_take(const char *state_dir, char *err, size_t errlen);
/* Lets it go (-1: nothing to do). */
void statelock_release(int fd);

/* Tells the daemon holding the lock on state_dir, if one does, that the
 * outbox changed (SIGUSR1: it looks at the outbox at once, rather than at
 * its next periodic look). False when no daemon holds it, or it may not
 * be signalled (another user). */
bool statelock_wake_holder(const char *state_dir);

#endif
