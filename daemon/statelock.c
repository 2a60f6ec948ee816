/* statelock.c — see statelock.h. */
#include "statelock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

/* The pid the holder wrote, or 0 if it has not yet (or the file is not
 * ours to understand): for the message, and for statelock_wake_holder,
 * which signals it only while the lock is held. */
static long
holder_pid(int fd)
{
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0) return 0;
    b[n] = '\0';
    char *end;
    long pid = strtol(b, &end, 10);
    return end != b && (*end == '\n' || !*end) && pid > 0 ? pid : 0;
}

/* The pid goes in the file for the next one's message and for
 * statelock_wake_holder; whether a daemon runs is the lock's to say. */
static void
write_pid(int fd)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, b, (size_t)n, 0) == n) return;
    /* a full disk: the lock holds all the same */
}

int
statelock_take(const char *state_dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", state_dir,
                         STATELOCK_NAME) >= sizeof path) {
        set_err(err, errlen, "%s: path too long", state_dir);
        return -1;
    }
    /* O_CLOEXEC: a child that outlived us must not keep it (the rule
     * worker closes everything anyway). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        long pid = e == EWOULDBLOCK ? holder_pid(fd) : 0;
        char who[48] = "";
        if (pid) snprintf(who, sizeof who, " (pid %ld)", pid);
        if (e == EWOULDBLOCK)
            set_err(err, errlen,
                    "%s: in use by another vigie run%s; stop it first, or "
                    "give this one another state_dir",
                    state_dir, who);
        else
            set_err(err, errlen, "%s: cannot lock: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    write_pid(fd);
    return fd;
}

void
statelock_release(int fd)
{
    if (fd >= 0) close(fd); /* closing drops the flock */
}

/* Whether pid runs a program called vigie: the lock says a daemon holds
 * it, this that the pid in the file is still that daemon's. */
static bool
is_vigie(long pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *f = fopen(path, "re");
    if (!f) return false;
    bool ok = fgets(comm, sizeof comm, f) && !strcmp(comm, "vigie\n");
    fclose(f);
    return ok;
}

bool
statelock_wake_holder(const char *state_dir)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", state_dir,
                         STATELOCK_NAME) >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    long pid = held ? holder_pid(fd) : 0;
    close(fd); /* drops the shared lock if we got it */
    return pid > 0 && is_vigie(pid) && kill((pid_t)pid, SIGUSR1) == 0;
}
