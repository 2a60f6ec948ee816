/* test_poller.c — the scheduling policy: first polls spread over the
 * interval (no thundering herd), ±10% jitter on every interval, backoff
 * from the interval after a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poller.h"

static uint64_t
rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void
test_first_polls_spread_over_the_interval(void **state)
{
    UNUSED(state);
    const int64_t interval = 15 * 60 * 1000;
    uint64_t x = 88172645463325252ULL;
    int buckets[10] = {0};
    for (int i = 0; i < 10000; i++) {
        int64_t d = poller_first_delay(interval, rnd(&x));
        assert_true(d >= 0 && d < interval);
        buckets[d * 10 / interval]++;
    }
    /* 10,000 feeds: every tenth of the interval gets about 1,000 */
    for (int b = 0; b < 10; b++) assert_in_range(buckets[b], 800, 1200);
    assert_int_equal(poller_first_delay(0, 123), 0);
}

static void
test_jitter_within_ten_percent(void **state)
{
    UNUSED(state);
    const int64_t interval = 60 * 1000;
    uint64_t x = 1234567;
    int64_t lo = interval, hi = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t d = poller_jitter(interval, rnd(&x));
        assert_in_range(d, interval - interval / 10, interval + interval / 10);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
    }
    /* and it really varies: feeds polled together drift apart */
    assert_true(hi - lo > interval / 10);
    assert_int_equal(poller_jitter(3, 99), 3); /* too small to jitter */
}

static void
test_retry_base_is_the_interval(void **state)
{
    UNUSED(state);
    /* A failing feed is never polled more often than its interval... */
    assert_int_equal(poller_retry_base(3600 * 1000), 3600);
    assert_int_equal(poller_retry_base(2 * 86400 * 1000LL), 2 * 86400);
    assert_int_equal(poller_retry_base(60500), 61); /* rounded up */
    /* ... nor more often than once a minute, whatever the interval. */
    assert_int_equal(poller_retry_base(1000), 60);
    assert_int_equal(poller_retry_base(0), 60);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_polls_spread_over_the_interval),
        cmocka_unit_test(test_jitter_within_ten_percent),
        cmocka_unit_test(test_retry_base_is_the_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
