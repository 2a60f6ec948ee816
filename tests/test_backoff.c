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

/* The window backoff.h promises for failure n with base b. */
static void
window(uint32_t n, int64_t b, int64_t cap, int64_t *lo, int64_t *hi)
{
    int64_t d = b;
    for (uint32_t i = 1; i < n && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    *hi = d + d / 4 < cap ? d + d / 4 : cap;
    *lo = *hi - d / 4 > b ? *hi - d / 4 : b;
}

static void
test_doubles_within_jitter_bounds(void **state)
{
    UNUSED(state);
    /* failures n: d = 60·2^(n−1); the delay is in [d, d + d/4], below the
     * cap. */
    for (uint32_t n = 1; n <= 20; n++) {
        int64_t lo, hi;
        window(n, 60, BACKOFF_CAP_S, &lo, &hi);
        for (uint64_t rnd = 0; rnd < 2000; rnd += 7) {
            int64_t v = backoff_delay(n, 60, BACKOFF_CAP_S, rnd * 2654435761u);
            assert_in_range(v, lo, hi);
        }
    }
    /* The extremes of the jitter are reachable. */
    assert_int_equal(backoff_delay(3, 60, BACKOFF_CAP_S, 0), 240);
    assert_int_equal(backoff_delay(3, 60, BACKOFF_CAP_S, 60), 300);
}

static void
test_never_sooner_than_base(void **state)
{
    UNUSED(state);
    /* The poller's base is the feed's interval: whatever the jitter, a
     * failing feed waits at least that long (QA: a 1h feed answering 429
     * or 500 was retried after 53 s, then 90 s, 190 s). */
    const int64_t hour = 3600;
    for (uint32_t n = 1; n <= 40; n++)
        for (uint64_t rnd = 0; rnd < 5000; rnd += 3) {
            int64_t v = backoff_delay(n, hour, BACKOFF_CAP_S, rnd * 2654435761u);
            assert_in_range(v, hour, BACKOFF_CAP_S);
        }
    assert_int_equal(backoff_delay(1, hour, BACKOFF_CAP_S, 0), hour);
    assert_int_equal(backoff_delay(2, hour, BACKOFF_CAP_S, 0), 2 * hour);
    backoff b = {0};
    for (int i = 0; i < 10; i++)
        assert_true(backoff_fail(&b, hour, BACKOFF_CAP_S, 0, 0, NULL) >= hour);
}

static void
test_cap_below_base_is_raised(void **state)
{
    UNUSED(state);
    /* A feed polled every two days retries after two days, not after the
     * one-day cap: still never more often than its interval. */
    const int64_t two_days = 2 * 86400;
    for (uint32_t n = 1; n <= 10; n++)
        assert_int_equal(backoff_delay(n, two_days, BACKOFF_CAP_S, 12345), two_days);
    backoff b = {0};
    backoff_basis why;
    assert_int_equal(backoff_fail(&b, two_days, BACKOFF_CAP_S, 7 * 86400, 0, &why),
                     two_days);
    assert_int_equal(why, BACKOFF_RETRY_AFTER_CAPPED);
}

static void
test_jitter_spreads(void **state)
{
    UNUSED(state);
    /* Feeds that failed together must not all retry at the same second,
     * below the cap or at it. */
    uint32_t ns[] = {1, 5, 40};
    for (size_t i = 0; i < ARRAY_LEN(ns); i++) {
        int64_t first = backoff_delay(ns[i], 60, BACKOFF_CAP_S, 1);
        int differ = 0;
        for (uint64_t rnd = 2; rnd < 100; rnd++)
            differ += backoff_delay(ns[i], 60, BACKOFF_CAP_S, rnd) != first;
        assert_true(differ > 90);
    }
}

static void
test_capped_at_a_day_even_after_many_failures(void **state)
{
    UNUSED(state);
    uint32_t ns[] = {17, 18, 30, 63, 64, 65, 1000, UINT32_MAX};
    for (size_t i = 0; i < ARRAY_LEN(ns); i++) {
        int64_t v = backoff_delay(ns[i], 60, BACKOFF_CAP_S, UINT64_MAX);
        assert_true(v <= BACKOFF_CAP_S);
        assert_true(v >= BACKOFF_CAP_S * 3 / 4);
    }
}

static void
test_fail_counts_and_reset(void **state)
{
    UNUSED(state);
    backoff b = {0};
    /* rnd = 0 picks the lower bound, so the sequence is exact. */
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0, NULL), 60);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0, NULL), 120);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0, NULL), 240);
    assert_int_equal(b.failures, 3);
    backoff_reset(&b);
    assert_int_equal(b.failures, 0);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0, NULL), 60);
    /* Saturates instead of wrapping back to short delays. */
    b.failures = UINT32_MAX;
    assert_true(backoff_fail(&b, 60, BACKOFF_CAP_S, -1, 0, NULL) >=
                BACKOFF_CAP_S * 3 / 4);
    assert_int_equal(b.failures, UINT32_MAX);
}

static void
test_retry_after_wins_when_longer_but_is_capped(void **state)
{
    UNUSED(state);
    backoff b = {0};
    backoff_basis why;
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, 600, 0, &why), 600);
    assert_int_equal(why, BACKOFF_RETRY_AFTER);
    /* shorter than the backoff: the backoff stands */
    b.failures = 10;
    int64_t v = backoff_fail(&b, 60, BACKOFF_CAP_S, 5, 0, &why);
    assert_true(v > 5);
    assert_int_equal(why, BACKOFF_OWN);
    /* a week: clamped to the cap, and said so */
    backoff_reset(&b);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, 7 * 86400, 0, &why),
                     BACKOFF_CAP_S);
    assert_int_equal(why, BACKOFF_RETRY_AFTER_CAPPED);
    /* exactly the cap is what the server asked */
    backoff_reset(&b);
    assert_int_equal(backoff_fail(&b, 60, BACKOFF_CAP_S, BACKOFF_CAP_S, 0, &why),
                     BACKOFF_CAP_S);
    assert_int_equal(why, BACKOFF_RETRY_AFTER);
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
        cmocka_unit_test(test_never_sooner_than_base),
        cmocka_unit_test(test_cap_below_base_is_raised),
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
