/* test_poller.c — the scheduling policy: first polls spread over the
 * interval (no thundering herd), ±10% jitter on every interval, backoff
 * from the interval after a failure, and what a reload that changes a
 * feed's settings does to its next poll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"
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

#define S 1000LL
#define H (3600 * S)

/* A feed polled 6 s ago, its next poll in 54 min: the reload makes its
 * interval 3 s (QA: it kept its old timer, an hour). */
static poller_resched
healthy(void)
{
    return (poller_resched){.changed = POLLER_CH_INTERVAL,
                            .current_ms = 54 * 60 * S,
                            .interval_ms = 3 * S,
                            .since_poll_ms = 6 * S,
                            .soon_ms = 5 * S};
}

static void
test_reload_shorter_interval_counts_from_the_last_poll(void **state)
{
    UNUSED(state);
    uint64_t x = 42;
    for (int i = 0; i < 1000; i++) {
        /* due already under the new interval: soon, spread */
        poller_resched r = healthy();
        assert_in_range(poller_resched_delay(&r, rnd(&x)), 0, 5 * S - 1);
        /* polled 10 min ago, now every hour: 50 min from now, jittered */
        r.interval_ms = H;
        r.since_poll_ms = 10 * 60 * S;
        assert_in_range(poller_resched_delay(&r, rnd(&x)), 44 * 60 * S,
                        54 * 60 * S);
        /* never polled: spread over the new interval, as a new feed */
        r.since_poll_ms = -1;
        r.interval_ms = 60 * S;
        assert_in_range(poller_resched_delay(&r, rnd(&x)), 0, 60 * S - 1);
    }
}

static void
test_reload_never_polls_later(void **state)
{
    UNUSED(state);
    uint64_t x = 7;
    for (int i = 0; i < 1000; i++) {
        /* a longer interval waits for the poll already planned */
        poller_resched r = healthy();
        r.current_ms = 20 * S;
        r.interval_ms = 24 * H;
        assert_int_equal(poller_resched_delay(&r, rnd(&x)), 20 * S);
        /* a change of how it is fetched does not move a healthy feed */
        r = healthy();
        r.changed = POLLER_CH_HEADERS | POLLER_CH_USER_AGENT;
        assert_int_equal(poller_resched_delay(&r, rnd(&x)), 54 * 60 * S);
        /* nothing changed: nothing moves */
        r.changed = 0;
        assert_int_equal(poller_resched_delay(&r, rnd(&x)), 54 * 60 * S);
        /* and "soon" never delays a poll due sooner */
        r = healthy();
        r.current_ms = 1 * S;
        r.changed = POLLER_CH_TIMEOUT;
        r.failures = 3;
        assert_in_range(poller_resched_delay(&r, rnd(&x)), 0, 1 * S);
    }
}

static void
test_reload_fix_of_a_failing_feed_polls_soon(void **state)
{
    UNUSED(state);
    static const unsigned fixes[] = {POLLER_CH_URL,      POLLER_CH_HEADERS,
                                     POLLER_CH_TIMEOUT,  POLLER_CH_MAX_BODY,
                                     POLLER_CH_PRIVATE, POLLER_CH_USER_AGENT};
    uint64_t x = 99;
    int64_t lo = 5 * S, hi = 0;
    for (size_t k = 0; k < sizeof fixes / sizeof *fixes; k++) {
        for (int i = 0; i < 200; i++) {
            /* failing, in a backoff of most of a day */
            poller_resched r = {.changed = fixes[k],
                                .current_ms = 20 * H,
                                .interval_ms = H,
                                .since_poll_ms = 60 * S,
                                .failures = 5,
                                .server_asked = i % 2,
                                .soon_ms = 5 * S};
            int64_t d = poller_resched_delay(&r, rnd(&x));
            assert_in_range(d, 0, 5 * S - 1);
            if (d < lo) lo = d;
            if (d > hi) hi = d;
            /* never polled yet: soon too */
            r.failures = 0;
            r.since_poll_ms = -1;
            assert_in_range(poller_resched_delay(&r, rnd(&x)), 0, 5 * S - 1);
        }
    }
    assert_true(hi - lo > 3 * S); /* spread, not all at once */
}

static void
test_reload_interval_of_a_failing_feed(void **state)
{
    UNUSED(state);
    uint64_t x = 5;
    for (int i = 0; i < 1000; i++) {
        /* 3 failures with a 1 h interval: about 4 h of backoff; every
         * minute now: the backoff from a one-minute base, 4 to 5 min
         * after the last poll, which was a minute ago */
        poller_resched r = {.changed = POLLER_CH_INTERVAL,
                            .current_ms = 3 * H,
                            .interval_ms = 60 * S,
                            .since_poll_ms = 60 * S,
                            .failures = 3,
                            .soon_ms = 5 * S};
        int64_t d = poller_resched_delay(&r, rnd(&x));
        assert_in_range(d, 3 * 60 * S, 4 * 60 * S);
        /* a wait the server asked for (429, 503) is kept */
        r.server_asked = true;
        assert_int_equal(poller_resched_delay(&r, rnd(&x)), 3 * H);
    }
}

static void
test_soon_window_grows_with_the_feeds(void **state)
{
    UNUSED(state);
    assert_int_equal(poller_soon_window(0), 5 * S);
    assert_int_equal(poller_soon_window(1), 5 * S);
    /* 10,000 feeds fixed at once: 20 ms each, not a herd in 5 s */
    assert_int_equal(poller_soon_window(10000), 200 * S);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_polls_spread_over_the_interval),
        cmocka_unit_test(test_jitter_within_ten_percent),
        cmocka_unit_test(test_retry_base_is_the_interval),
        cmocka_unit_test(test_reload_shorter_interval_counts_from_the_last_poll),
        cmocka_unit_test(test_reload_never_polls_later),
        cmocka_unit_test(test_reload_fix_of_a_failing_feed_polls_soon),
        cmocka_unit_test(test_reload_interval_of_a_failing_feed),
        cmocka_unit_test(test_soon_window_grows_with_the_feeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
