/* test_log.c — the two line formats (journald prefixes, plain timestamps),
 * when each is chosen, levels, and one line per event. */
#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"

/* stderr goes to a temporary file while a test writes log lines. */
typedef struct capture {
    char path[64];
    int saved; /* the real stderr */
} capture;

static int
setup(void **state)
{
    capture *c = calloc(1, sizeof *c);
    if (!c) return -1;
    strcpy(c->path, "/tmp/vigie-log-XXXXXX");
    int fd = mkstemp(c->path);
    if (fd < 0) return -1;
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    if (c->saved < 0 || dup2(fd, STDERR_FILENO) < 0) return -1;
    close(fd);
    unsetenv("JOURNAL_STREAM");
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    capture *c = *state;
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    /* Whatever was not read (cmocka's message when an assertion failed)
     * goes to the real stderr. */
    FILE *f = fopen(c->path, "rb");
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, n, stderr);
        fclose(f);
    }
    unlink(c->path);
    free(c);
    unsetenv("JOURNAL_STREAM");
    log_init(LOG_INFO);
    return 0;
}

/* Everything written to stderr since the last call. */
static char *
captured(capture *c)
{
    static char out[16384];
    fflush(stderr);
    FILE *f = fopen(c->path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    fclose(f);
    out[n] = '\0';
    assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
    assert_int_equal(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
    return out;
}

/* Sets JOURNAL_STREAM to the device and inode of the current stderr, as
 * systemd does for a service whose stderr is the journal. */
static void
pretend_journal(void)
{
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    char v[64];
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", v, 1);
}

/* "YYYY-MM-DD HH:MM:SS.mmm " then the rest. */
static const char *
skip_timestamp(const char *s)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd ";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            fail_msg("not a timestamp at %zu: '%s'", i, s);
    }
    return s + sizeof shape - 1;
}

static void
test_plain_format(void **state)
{
    capture *c = *state;
    log_init(LOG_INFO);
    log_err("feed %s: %d", "x", 42);
    log_warn("w");
    log_info("i");
    char *out = captured(c);
    char *l2 = strchr(out, '\n');
    assert_non_null(l2);
    *l2++ = '\0';
    assert_string_equal(skip_timestamp(out), "error   feed x: 42");
    char *l3 = strchr(l2, '\n');
    assert_non_null(l3);
    *l3++ = '\0';
    assert_string_equal(skip_timestamp(l2), "warning w");
    assert_string_equal(skip_timestamp(l3), "info    i\n");
}

static void
test_journal_prefixes(void **state)
{
    capture *c = *state;
    pretend_journal();
    log_init(LOG_DEBUG);
    log_err("e %d", 1);
    log_warn("w");
    log_notice("n");
    log_info("i");
    log_debug("d");
    log_write(LOG_CRIT, "c");
    assert_string_equal(captured(c), "<3>e 1\n<4>w\n<5>n\n<6>i\n<7>d\n<2>c\n");
}

static void
test_journal_stream_must_be_stderr(void **state)
{
    capture *c = *state;
    /* Inherited from a parent whose stderr was the journal, but ours is a
     * file: plain lines. */
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    char v[64];
    snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino + 1);
    static const char *const values[] = {
        "", "garbage", "1", "1:", ":2", "1:2x", "-1:2"};
    setenv("JOURNAL_STREAM", v, 1);
    log_init(LOG_INFO);
    log_err("x");
    assert_string_equal(skip_timestamp(captured(c)), "error   x\n");
    for (size_t i = 0; i < ARRAY_LEN(values); i++) {
        setenv("JOURNAL_STREAM", values[i], 1);
        log_init(LOG_INFO);
        log_err("x");
        const char *out = captured(c);
        if (out[0] == '<')
            fail_msg("JOURNAL_STREAM='%s' gave '%s'", values[i], out);
    }
}

static void
test_levels_filter(void **state)
{
    capture *c = *state;
    pretend_journal();
    log_init(LOG_INFO);
    log_debug("hidden");
    log_info("shown");
    log_set_level(LOG_WARNING);
    assert_int_equal(log_level(), LOG_WARNING);
    log_notice("hidden");
    log_err("shown too");
    assert_string_equal(captured(c), "<6>shown\n<3>shown too\n");
}

static void
test_one_event_one_line(void **state)
{
    capture *c = *state;
    pretend_journal();
    log_init(LOG_INFO);
    log_warn("title: %s", "line one\nline two\r\n");
    assert_string_equal(captured(c), "<4>title: line one line two  \n");

    unsetenv("JOURNAL_STREAM");
    log_init(LOG_INFO);
    log_warn("a\nb");
    assert_string_equal(skip_timestamp(captured(c)), "warning a b\n");
}

static void
test_long_line_is_marked_cut(void **state)
{
    capture *c = *state;
    pretend_journal();
    log_init(LOG_INFO);
    char big[10000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_err("%s", big);
    const char *out = captured(c);
    size_t n = strlen(out);
    assert_int_equal(n, 4095);
    assert_memory_equal(out, "<3>zzz", 6);
    assert_string_equal(out + n - 4, "...\n");
    assert_ptr_equal(strchr(out, '\n'), out + n - 1);
}

static void
test_cli_error(void **state)
{
    capture *c = *state;
    log_init(LOG_INFO);
    cli_error("%s: %s", "frob", "unknown command");
    assert_string_equal(captured(c), "vigie: frob: unknown command\n");
    /* ExecStartPre's `vigie check` failing shows as an error in journald. */
    pretend_journal();
    log_init(LOG_INFO);
    cli_error("%s: %s", "/etc/vigie/vigie.lua:3", "bad");
    assert_string_equal(captured(c), "<3>vigie: /etc/vigie/vigie.lua:3: bad\n");
}

static void
test_level_names(void **state)
{
    UNUSED(state);
    assert_int_equal(log_level_from_name("debug"), LOG_DEBUG);
    assert_int_equal(log_level_from_name("info"), LOG_INFO);
    assert_int_equal(log_level_from_name("notice"), LOG_NOTICE);
    assert_int_equal(log_level_from_name("warn"), LOG_WARNING);
    assert_int_equal(log_level_from_name("warning"), LOG_WARNING);
    assert_int_equal(log_level_from_name("err"), LOG_ERR);
    assert_int_equal(log_level_from_name("error"), LOG_ERR);
    assert_int_equal(log_level_from_name("verbose"), -1);
    assert_string_equal(log_level_name(LOG_ERR), "error");
    assert_string_equal(log_level_name(LOG_DEBUG), "debug");
    assert_string_equal(log_level_name(99), "info");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_stream_must_be_stderr,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_event_one_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_line_is_marked_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cli_error, setup, teardown),
        cmocka_unit_test(test_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
