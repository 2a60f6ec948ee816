/* test_parsepool.c — feed_parse on the helper thread: results come back on
 * the loop, in order, once each; a cancelled job never calls back; freeing
 * the pool with jobs pending loses nothing to leaks (ASan checks). */
#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "feed.h"
#include "parsepool.h"

#define N 40

typedef struct got {
    int order[N];
    char titles[N][64];
    size_t n;
    struct ev_loop *loop;
    size_t want;
} got;

typedef struct slot {
    got *g;
    int i;
} slot;

static void
done(feed *f, store_item_key *keys, void *arg)
{
    slot *s = arg;
    /* the store's keys come with the document */
    assert_non_null(keys);
    store_item_key k;
    store_item_keys(&f->items[0], 1, &k);
    assert_memory_equal(k.idh, keys[0].idh, sizeof k.idh);
    assert_true(k.hash == keys[0].hash && k.lt == keys[0].lt &&
                k.has_lt == keys[0].has_lt);
    free(keys);
    got *g = s->g;
    assert_true(g->n < N);
    g->order[g->n] = s->i;
    snprintf(g->titles[g->n], sizeof g->titles[g->n], "%s",
             f->nitems ? f->items[0].title : "(none)");
    g->n++;
    feed_free(f);
    free(f);
    if (g->n == g->want) ev_break(g->loop, EVBREAK_ALL);
}

static void
doc(buf *b, int i)
{
    buf_reset(b);
    buf_printf(b,
               "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
               "<title>t</title><item><title>item %d</title>"
               "<guid>g%d</guid></item></channel></rss>",
               i, i);
}

static void
test_results_in_order_once(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    parsepool *pp = parsepool_new(loop);
    got g = {.loop = loop, .want = N - 1};
    slot s[N];
    parse_job *jobs[N];
    buf b = {0};
    for (int i = 0; i < N; i++) {
        doc(&b, i);
        s[i] = (slot){&g, i};
        jobs[i] = parsepool_submit(pp, &b, "https://example.org/feed", NULL,
                                   1 << 20, done, &s[i]);
        assert_int_equal(b.len, 0); /* the bytes are the pool's now */
    }
    parsepool_cancel(pp, jobs[7]);
    ev_run(loop, 0);
    assert_int_equal(g.n, N - 1);
    for (size_t k = 0, i = 0; k < g.n; k++, i++) {
        if (i == 7) i++;
        assert_int_equal(g.order[k], (int)i);
        char want[64];
        snprintf(want, sizeof want, "item %zu", i);
        assert_string_equal(g.titles[k], want);
    }
    buf_free(&b);
    parsepool_free(pp);
    ev_loop_destroy(loop);
}

static void
test_free_with_jobs_pending(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    parsepool *pp = parsepool_new(loop);
    got g = {.loop = loop, .want = N + 1};
    slot s[N];
    buf b = {0};
    for (int i = 0; i < N; i++) {
        doc(&b, i);
        s[i] = (slot){&g, i};
        parsepool_submit(pp, &b, NULL, NULL, 1 << 20, done, &s[i]);
    }
    /* no ev_run: nothing is delivered, everything is freed */
    parsepool_free(pp);
    assert_int_equal(g.n, 0);
    buf_free(&b);
    ev_loop_destroy(loop);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_in_order_once),
        cmocka_unit_test(test_free_with_jobs_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
