/* test_notify.c — the sd_notify datagrams, byte for byte, on a real Unix
 * datagram socket (a path and an abstract name), and WATCHDOG_USEC. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"

typedef struct listener {
    int fd;
    char dir[64];
    char path[128];
} listener;

/* Binds a datagram socket at `name` ("@x" = abstract, else a file in a
 * fresh temporary directory) and points NOTIFY_SOCKET at it. */
static listener *
listen_on(const char *name)
{
    listener *l = calloc(1, sizeof *l);
    assert_non_null(l);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t salen;
    if (name[0] == '@') {
        snprintf(l->path, sizeof l->path, "%s", name);
        size_t n = strlen(name);
        memcpy(sa.sun_path + 1, name + 1, n - 1);
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        strcpy(l->dir, "/tmp/vigie-notify-XXXXXX");
        assert_non_null(mkdtemp(l->dir));
        snprintf(l->path, sizeof l->path, "%s/%s", l->dir, name);
        strcpy(sa.sun_path, l->path);
        salen = (socklen_t)sizeof sa;
    }
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, salen), 0);
    assert_int_equal(setenv("NOTIFY_SOCKET", l->path, 1), 0);
    return l;
}

static void
listener_close(listener *l)
{
    close(l->fd);
    if (l->dir[0]) {
        unlink(l->path);
        rmdir(l->dir);
    }
    free(l);
    unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, as a string; "" if none is queued. */
static const char *
next_message(listener *l)
{
    static char msg[4096];
    ssize_t n = recv(l->fd, msg, sizeof msg - 1, MSG_DONTWAIT);
    if (n < 0) {
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        n = 0;
    }
    msg[n] = '\0';
    return msg;
}

static uint64_t
monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
check_every_message(listener *l)
{
    assert_int_equal(notify_ready(), 1);
    assert_string_equal(next_message(l), "READY=1");
    assert_int_equal(notify_stopping(), 1);
    assert_string_equal(next_message(l), "STOPPING=1");
    assert_int_equal(notify_watchdog(), 1);
    assert_string_equal(next_message(l), "WATCHDOG=1");
    assert_int_equal(notify_status("%d feeds, %s", 12, "3 failing"), 1);
    assert_string_equal(next_message(l), "STATUS=12 feeds, 3 failing");
    assert_int_equal(notify_send("READY=1\nSTATUS=reloaded"), 1);
    assert_string_equal(next_message(l), "READY=1\nSTATUS=reloaded");

    uint64_t before = monotonic_usec();
    assert_int_equal(notify_reloading(), 1);
    uint64_t after = monotonic_usec();
    const char *m = next_message(l);
    const char *prefix = "RELOADING=1\nMONOTONIC_USEC=";
    assert_memory_equal(m, prefix, strlen(prefix));
    const char *digits = m + strlen(prefix);
    assert_true(*digits >= '1' && *digits <= '9');
    char *end;
    unsigned long long usec = strtoull(digits, &end, 10);
    assert_int_equal(*end, '\0');
    assert_true(usec >= before && usec <= after);

    /* Nothing else was sent. */
    assert_string_equal(next_message(l), "");
}

static void
test_path_socket(void **state)
{
    UNUSED(state);
    listener *l = listen_on("notify");
    check_every_message(l);
    listener_close(l);
}

static void
test_abstract_socket(void **state)
{
    UNUSED(state);
    char name[64];
    snprintf(name, sizeof name, "@vigie-test-notify-%ld", (long)getpid());
    listener *l = listen_on(name);
    check_every_message(l);
    listener_close(l);
}

static void
test_unset_is_a_no_op(void **state)
{
    UNUSED(state);
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notify_ready(), 0);
    assert_int_equal(notify_reloading(), 0);
    assert_int_equal(notify_stopping(), 0);
    assert_int_equal(notify_watchdog(), 0);
    assert_int_equal(notify_status("x"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(notify_ready(), 0);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_unreachable_socket_is_an_error(void **state)
{
    UNUSED(state);
    setenv("NOTIFY_SOCKET", "/nonexistent/vigie/notify", 1);
    assert_int_equal(notify_ready(), -ENOENT);
    setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
    assert_int_equal(notify_ready(), -EAFNOSUPPORT);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    setenv("NOTIFY_SOCKET", longpath, 1);
    assert_int_equal(notify_ready(), -ENAMETOOLONG);
    longpath[0] = '@';
    setenv("NOTIFY_SOCKET", longpath, 1);
    assert_int_equal(notify_ready(), -ENAMETOOLONG);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_status_is_one_line(void **state)
{
    UNUSED(state);
    listener *l = listen_on("notify");
    /* A feed title with a newline must not become a READY=1 assignment. */
    assert_int_equal(notify_status("feed %s", "evil\nREADY=1\r\tx"), 1);
    assert_string_equal(next_message(l), "STATUS=feed evil READY=1  x");
    listener_close(l);
}

static void
test_status_is_cut_at_a_character(void **state)
{
    UNUSED(state);
    listener *l = listen_on("notify");
    /* "x" then 2-byte characters: byte NOTIFY_STATUS_MAX falls inside one. */
    char text[2 * NOTIFY_STATUS_MAX];
    size_t n = 0;
    text[n++] = 'x';
    while (n + 2 < sizeof text) {
        text[n++] = (char)0xc3;
        text[n++] = (char)0xa9; /* é */
    }
    text[n] = '\0';
    assert_int_equal(notify_status("%s", text), 1);
    const char *m = next_message(l);
    size_t len = strlen(m);
    assert_int_equal(len, strlen("STATUS=") + NOTIFY_STATUS_MAX - 1);
    assert_memory_equal(m + 7, text, NOTIFY_STATUS_MAX - 1);
    assert_int_equal((unsigned char)m[len - 1], 0xa9);

    /* A 3-byte character cut after its second byte loses both. */
    memset(text, 'a', NOTIFY_STATUS_MAX - 2);
    memcpy(text + NOTIFY_STATUS_MAX - 2, "\xe2\x82\xac tail", 9); /* € */
    assert_int_equal(notify_status("%s", text), 1);
    m = next_message(l);
    assert_int_equal(strlen(m), strlen("STATUS=") + NOTIFY_STATUS_MAX - 2);

    /* Exactly NOTIFY_STATUS_MAX bytes is kept whole. */
    memset(text, 'b', NOTIFY_STATUS_MAX);
    text[NOTIFY_STATUS_MAX] = '\0';
    assert_int_equal(notify_status("%s", text), 1);
    assert_int_equal(strlen(next_message(l)),
                     strlen("STATUS=") + NOTIFY_STATUS_MAX);
    listener_close(l);
}

static void
test_watchdog_usec(void **state)
{
    UNUSED(state);
    char pid[32], other[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(other, sizeof other, "%ld", (long)getpid() + 1);

    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(notify_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "60000000", 1);
    assert_int_equal(notify_watchdog_usec(), 60000000);
    setenv("WATCHDOG_USEC", "18446744073709551615", 1);
    assert_true(notify_watchdog_usec() == UINT64_MAX);

    static const char *const bad[] = {
        "",
        "0",
        "-5",
        "+5",
        " 5",
        "5 ",
        "12abc",
        "abc",
        "1e6",
        "18446744073709551616",
        "99999999999999999999999",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        if (notify_watchdog_usec() != 0) fail_msg("accepted '%s'", bad[i]);
    }

    setenv("WATCHDOG_USEC", "30000000", 1);
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(notify_watchdog_usec(), 30000000);
    setenv("WATCHDOG_PID", other, 1);
    assert_int_equal(notify_watchdog_usec(), 0);
    setenv("WATCHDOG_PID", "garbage", 1);
    assert_int_equal(notify_watchdog_usec(), 0);

    setenv("WATCHDOG_PID", pid, 1);
    setenv("NOTIFY_SOCKET", "/nonexistent/vigie/notify", 1);
    notify_forget();
    assert_null(getenv("NOTIFY_SOCKET"));
    assert_null(getenv("WATCHDOG_PID"));
    assert_int_equal(notify_watchdog_usec(), 0);
    assert_int_equal(notify_ready(), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_unset_is_a_no_op),
        cmocka_unit_test(test_unreachable_socket_is_an_error),
        cmocka_unit_test(test_status_is_one_line),
        cmocka_unit_test(test_status_is_cut_at_a_character),
        cmocka_unit_test(test_watchdog_usec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
