/* test_util.c — buffers, arena, ASCII helpers, file reading. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"

static void
test_buf_grows_and_terminates(void **state)
{
    UNUSED(state);
    buf b = {0};
    for (int i = 0; i < 1000; i++) buf_adds(&b, "abc");
    assert_int_equal(b.len, 3000);
    assert_int_equal(b.p[3000], '\0');
    buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.p + 3000, "42-x");
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    buf_free(&b);
}

static void
test_buf_printf_long(void **state)
{
    UNUSED(state);
    buf b = {0};
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_printf(&b, "<%s>", big);
    assert_int_equal(b.len, sizeof big + 1);
    assert_int_equal(b.p[0], '<');
    assert_int_equal(b.p[b.len - 1], '>');
    char *p = buf_detach(&b);
    assert_null(b.p);
    free(p);
}

static void
test_arena_many_and_large(void **state)
{
    UNUSED(state);
    arena a = {0};
    char *s[100];
    for (int i = 0; i < 100; i++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "s%d", i);
        s[i] = arena_strdup(&a, tmp);
    }
    char *big = arena_alloc(&a, 100000);
    memset(big, 1, 100000);
    for (int i = 0; i < 100; i++) {
        char tmp[16];
        snprintf(tmp, sizeof tmp, "s%d", i);
        assert_string_equal(s[i], tmp);
    }
    assert_true(((uintptr_t)arena_alloc(&a, 3) & 15) == 0);
    arena_free(&a);
}

static void
test_ascii_case(void **state)
{
    UNUSED(state);
    assert_int_equal(ascii_strcasecmp("Content-Type", "content-type"), 0);
    assert_true(ascii_strcasecmp("a", "b") < 0);
    assert_int_equal(ascii_strncasecmp("ETagX", "etagY", 4), 0);
}

static void
test_read_file_cap(void **state)
{
    UNUSED(state);
    char path[] = "/tmp/vigie-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    buf b = {0};
    assert_int_equal(read_file(path, 10, &b), 0);
    assert_int_equal(b.len, 10);
    assert_int_equal(read_file(path, 9, &b), -1);
    assert_int_equal(errno, EFBIG);
    assert_int_equal(read_file("/nonexistent/x", 9, &b), -1);
    assert_int_equal(errno, ENOENT);
    unlink(path);
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_buf_printf_long),
        cmocka_unit_test(test_arena_many_and_large),
        cmocka_unit_test(test_ascii_case),
        cmocka_unit_test(test_read_file_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
