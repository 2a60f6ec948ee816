/* test_backoff.c — exponential backoff with jitter; Retry-After parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backoff.h"
#include "util.h"

#define RA(s, now) retry_after_parse((s), strlen(s), (now))

static void
test_no_failure_no_delay(void **state)
{
    UNUSED(state);
    assert_int_equal(backoff_delay(0, 60, BACKOFF_CAP_S, 12345), 0);
}

static void
test_doubles_within_jitter_bounds(void **state)
{
    UNUSED(state);
    /* failures n: d = 60·2^(n−1); the delay is in [d/2, d]. */
    for (uint32_t n = 1; n <= 10; n++) {
        int64_t d = 60LL << (n - 1);
        if (d > BACKOFF_CAP_S) d = BACKOFF_CAP_S;
        for (uint64_t rnd = 0; rnd < 2000; rnd += 7) {
            int64_t v = backoff_delay(n, 60, BACKOFF_CAP_S, rnd * 2654435761u);
            assert_true(v >= d / 2);
            assert_true(v <= d);
        }
    }
    /* The extremes of the jitter are reachable. */
    assert_int_equal(backoff_delay(3, 60, BACKOFF_CAP_S, 0), 120);
    assert_int_equal(backoff_delay(3, 60, BACKOFF_CAP_S, 120), 240);
}

static void
test_jitter_spreads(void **state)
{
    UNUSED(state);
    /* Feeds that failed together must not all retry at the same second. */
    int64_t first = backoff_delay(5, 60, BACKOFF_CAP_S, 1);
    int differ = 0;
    for (uint64_t rnd = 2; rnd < 100; rnd++)
        differ += backoff_delay(5, 60, BACKOFF_CAP_S, rnd) != first;
    assert_true(differ > 90);
}

static void
test_capped_at_a_day_even_after_many_failures(void **state)
{
    UNUSED(state);
    uint32_t ns[] = {17, 18, 30, 63, 64, 65, 1000, UINT32_MAX};
    for (size_t i = 0; i < ARRAY_LEN(ns); i++) {
        int64_t v = backoff_delay(ns[i], 60, BACKOFF_CAP_S, UINT64_MAX);
        assert_true(v <= BACKOFF_CAP_S);
        assert_true(v >= BACKOFF_CAP_S / 2);
    }
}

static void
test_fail_counts_and_reset(void **state)
{
    UNUSED(state);
    backoff b = {0};
    /* rnd = 0 picks the lower bound d/2, so the sequence is exact. */
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0), 30);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0), 60);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0), 120);
    assert_int_equal(b.failures, 3);
    backoff_reset(&b);
    assert_int_equal(b.failures, 0);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0), 30);
    /* Saturates instead of wrapping back to short delays. */
    b.failures = UINT32_MAX;
    assert_true(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0) >=
                BACKOFF_CAP_S / 2);
    assert_int_equal(b.failures, UINT32_MAX);
}

static void
test_retry_after_wins_when_longer_but_is_capped(void **state)
{
    UNUSED(state);
    backoff b = {0};
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, 600, 0), 600);
    /* shorter than the backoff: the backoff stands */
    b.failures = 10;
    int64_t v = backoff_fail(&b, 60, BACKOFF_CAP_S, 5, 0);
    assert_true(v > 5);
    /* a week: clamped to the cap */
    backoff_reset(&b);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, 7 * 86400, 0),
                     BACKOFF_CAP_S);
}

static void
test_retry_after_seconds(void **state)
{
    UNUSED(state);
    assert_int_equal(RA("120", 0), 120);
    assert_int_equal(RA("0", 0), 0);
    assert_int_equal(RA("  600 ", 0), 600);
    assert_int_equal(RA("\t7", 0), 7);
    assert_int_equal(RA("99999999999999999999999", 0), RETRY_AFTER_MAX_S);
    assert_int_equal(RA("31536001", 0), RETRY_AFTER_MAX_S);
}

static void
test_retry_after_garbage(void **state)
{
    UNUSED(state);
    assert_int_equal(RA("", 0), -1);
    assert_int_equal(RA("   ", 0), -1);
    assert_int_equal(RA("12abc", 0), -1);
    assert_int_equal(RA("-5", 0), -1);
    assert_int_equal(RA("1.5", 0), -1);
    assert_int_equal(RA("soon", 0), -1);
}

static void
test_retry_after_http_date(void **state)
{
    UNUSED(state);
    /* 1994-11-06T08:49:37Z = 784111777 */
    const int64_t t = 784111777;
    assert_int_equal(RA("Sun, 06 Nov 1994 08:49:37 GMT", t - 600), 600);
    assert_int_equal(RA("Sun, 06 Nov 1994 08:59:37 GMT", t), 600);
    /* in the past: retry now */
    assert_int_equal(RA("Sun, 06 Nov 1994 08:49:37 GMT", t + 5), 0);
    /* far future: clamped */
    assert_int_equal(RA("Fri, 01 Jan 2100 00:00:00 GMT", t), RETRY_AFTER_MAX_S);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_failure_no_delay),
        cmocka_unit_test(test_doubles_within_jitter_bounds),
        cmocka_unit_test(test_jitter_spreads),
        cmocka_unit_test(test_capped_at_a_day_even_after_many_failures),
        cmocka_unit_test(test_fail_counts_and_reset),
        cmocka_unit_test(test_retry_after_wins_when_longer_but_is_capped),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_garbage),
        cmocka_unit_test(test_retry_after_http_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
