/* test_health.c — when a feed's trouble raises one alert, and when the
 * recovery does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "health.h"
#include "util.h"

#define OFF (-1)

static void
test_down_once_then_up(void **state)
{
    UNUSED(state);
    health_state st = {0};
    int64_t since, ident;
    assert_int_equal(health_check(&st, false, 100, 3600, OFF, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_check(&st, false, 2000, 3600, OFF, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_check(&st, false, 3700, 3600, OFF, &since, &ident), HEALTH_DOWN);
    assert_int_equal(since, 100);
    assert_int_equal(ident, 100); /* the first failure names the outage */
    /* not one per poll */
    assert_int_equal(health_check(&st, false, 5000, 3600, OFF, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_check(&st, true, 6000, 3600, OFF, &since, &ident), HEALTH_UP);
    assert_int_equal(since, 100);
    assert_int_equal(ident, 100);
    assert_int_equal(health_check(&st, true, 7000, 3600, OFF, &since, &ident), HEALTH_NONE);
    assert_int_equal(st.fail_since, 0);
}

static void
test_short_outage_is_quiet(void **state)
{
    UNUSED(state);
    health_state st = {0};
    int64_t since, ident;
    assert_int_equal(health_check(&st, false, 100, 3600, OFF, &since, &ident), HEALTH_NONE);
    /* recovered before alert_after: neither down nor up */
    assert_int_equal(health_check(&st, true, 3800, 3600, OFF, &since, &ident), HEALTH_NONE);
}

static void
test_off(void **state)
{
    UNUSED(state);
    health_state st = {0};
    int64_t since, ident;
    for (int64_t t = 0; t < 100000; t += 1000)
        assert_int_equal(health_check(&st, false, t, OFF, OFF, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_check(&st, true, 200000, OFF, OFF, &since, &ident), HEALTH_NONE);
}

static void
test_restart_keeps_identity(void **state)
{
    UNUSED(state);
    /* a new process restores fail_since and last_fail from the store: the
     * event it raises is named like the one before the restart */
    health_state before = {0};
    int64_t since, ident1, ident2;
    health_check(&before, false, 100, 0, OFF, &since, &ident1);
    health_state after = {.fail_since = 100, .last_fail = 100};
    assert_int_equal(health_check(&after, false, 200, 0, OFF, &since, &ident2), HEALTH_DOWN);
    assert_int_equal(ident1, ident2);
    assert_int_equal(health_check(&after, true, 300, 0, OFF, &since, &ident2), HEALTH_UP);
}

static void
test_silence(void **state)
{
    UNUSED(state);
    health_state st = {.last_new = 1000};
    int64_t since, ident;
    assert_int_equal(health_check(&st, true, 1500, OFF, 3600, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_check(&st, true, 4700, OFF, 3600, &since, &ident), HEALTH_SILENT);
    assert_int_equal(since, 1000);
    assert_int_equal(health_check(&st, true, 9000, OFF, 3600, &since, &ident), HEALTH_NONE);
    assert_int_equal(health_new_items(&st, 9500, &since), HEALTH_TALKING);
    assert_int_equal(since, 1000);
    assert_int_equal(health_new_items(&st, 9600, &since), HEALTH_NONE);
    assert_int_equal(st.last_new, 9600);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_once_then_up),
        cmocka_unit_test(test_short_outage_is_quiet),
        cmocka_unit_test(test_off),
        cmocka_unit_test(test_restart_keeps_identity),
        cmocka_unit_test(test_silence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
