/* notify.c — see notify.h. The protocol is small enough to speak directly:
 * a datagram of "VAR=value" lines to a Unix socket, nothing to read back. */
#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Fills *sa from $NOTIFY_SOCKET. Returns the address length, 0 if the
 * variable is unset or empty, or -errno if it names nothing we can reach. */
static int
notify_address(struct sockaddr_un *sa)
{
    const char *e = getenv("NOTIFY_SOCKET");
    if (!e || !*e) return 0;
    size_t n = strlen(e);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (e[0] == '/') {
        /* A path: keep room for its terminating NUL. */
        if (n >= sizeof sa->sun_path) return -ENAMETOOLONG;
        memcpy(sa->sun_path, e, n);
        return (int)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    }
    if (e[0] == '@') {
        /* Abstract: a leading NUL, and the length says where it ends. */
        if (n > sizeof sa->sun_path) return -ENAMETOOLONG;
        sa->sun_path[0] = '\0';
        memcpy(sa->sun_path + 1, e + 1, n - 1);
        return (int)(offsetof(struct sockaddr_un, sun_path) + n);
    }
    /* "vsock:..." and anything newer: not spoken here. */
    return -EAFNOSUPPORT;
}

int
notify_send(const char *state)
{
    struct sockaddr_un sa;
    int salen = notify_address(&sa);
    if (salen <= 0) return salen;

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    size_t len = strlen(state);
    ssize_t w;
    do {
        /* MSG_NOSIGNAL: a vanished receiver must not kill us with SIGPIPE. */
        w = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                   (socklen_t)salen);
    } while (w < 0 && errno == EINTR);
    int err = w < 0 ? -errno : 0;
    close(fd);
    if (err) return err;
    /* A datagram is sent whole or not at all. */
    return (size_t)w == len ? 1 : -EMSGSIZE;
}

int
notify_ready(void)
{
    return notify_send("READY=1");
}

int
notify_reloading(void)
{
    /* MONOTONIC_USEC lets systemd (253+) match this reload to the SIGHUP it
     * sent; older versions ignore it. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t usec =
        (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    char msg[64];
    snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)usec);
    return notify_send(msg);
}

int
notify_stopping(void)
{
    return notify_send("STOPPING=1");
}

int
notify_watchdog(void)
{
    return notify_send("WATCHDOG=1");
}

/* The length of s[0..len) without a trailing incomplete UTF-8 sequence
 * (left by cutting a longer text at len). */
static size_t
utf8_cut(char *s, size_t len)
{
    size_t j = len;
    while (j > 0 && ((unsigned char)s[j - 1] & 0xC0) == 0x80)
        j--;
    if (j == 0) return len; /* only continuation bytes: not UTF-8 anyway */
    unsigned char lead = (unsigned char)s[j - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (lead >= 0x80 && len - (j - 1) < need) len = j - 1;
    s[len] = '\0';
    return len;
}

int
notify_status(const char *fmt, ...)
{
    char text[NOTIFY_STATUS_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0) return -EINVAL;
    size_t len = strlen(text);
    if ((size_t)n >= sizeof text) len = utf8_cut(text, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) text[i] = ' ';

    char msg[sizeof "STATUS=" + NOTIFY_STATUS_MAX];
    snprintf(msg, sizeof msg, "STATUS=%s", text);
    return notify_send(msg);
}

/* A positive decimal number that fits in 64 bits, and nothing else. */
static int
parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

uint64_t
notify_watchdog_usec(void)
{
    uint64_t usec, pid;
    if (parse_u64(getenv("WATCHDOG_USEC"), &usec) < 0 || usec == 0) return 0;
    /* WATCHDOG_PID names the process systemd watches; a child that
     * inherited the environment is not it. */
    const char *p = getenv("WATCHDOG_PID");
    if (p) {
        if (parse_u64(p, &pid) < 0 || pid != (uint64_t)getpid()) return 0;
    }
    return usec;
}

void
notify_forget(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}
