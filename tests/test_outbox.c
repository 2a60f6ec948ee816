/* test_outbox.c — the delivery state machine: leases, order per target,
 * backoff, Retry-After, dead letters, give-up, retry/drop, rate limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "helpers/tmptree.h"

#include <sqlite3.h>

#include "date.h"
#include "feed.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "helpers/capture.h"

#define T0 1724419620000LL
#define MIN 60000LL

typedef struct fx {
    char dir[64];
    store *s;
    outbox *ob;
    outbox_params p;
    char err[1024];
} fx;

static int
setup(void **state)
{
    fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/vigie-test-outbox-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("%s", f->err);
    outbox_params_default(&f->p);
    f->ob = outbox_new(f->s, &f->p);
    assert_non_null(f->ob);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    outbox_free(f->ob);
    store_close(f->s);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* Queues one alert per (id, target) pair, in order, in one transaction. */
static void
enqueue(fx *f, const char *const *ids, const char *const *targets, size_t n,
        int64_t now)
{
    store_feed sf = {.key = "https://x/feed", .url = "https://x/feed"};
    assert_int_equal(store_begin(f->s, &sf, now), 0);
    for (size_t i = 0; i < n; i++) {
        feed_item it = {.id = ids[i],
                        .title = ids[i],
                        .link = "https://x/",
                        .summary = "",
                        .content = "",
                        .author = "",
                        .published = DATE_NONE,
                        .updated = DATE_NONE};
        char payload[64];
        snprintf(payload, sizeof payload, "{\"text\":\"%s\"}", ids[i]);
        assert_int_equal(store_enqueue_alert(f->s, &it, "r.lua", targets[i],
                                             payload, strlen(payload)),
                         0);
    }
    if (store_commit(f->s, NULL, f->err, sizeof f->err) < 0)
        fail_msg("%s", f->err);
}

static long
next(fx *f, int64_t now, outbox_msg *m, size_t max, int64_t *wake)
{
    int64_t w;
    long n = outbox_next(f->ob, now, m, max, wake ? wake : &w, f->err,
                         sizeof f->err);
    if (n < 0) fail_msg("outbox_next: %s", f->err);
    return n;
}

static void
report(fx *f, outbox_msg *m, int status, const char *retry_after, int64_t now)
{
    outbox_outcome o = {.status = status, .retry_after = retry_after};
    if (!status) o.error = "Connection refused";
    assert_int_equal(outbox_report(f->ob, m, &o, now, f->err, sizeof f->err),
                     0);
}

static int64_t
col(fx *f, int64_t id, const char *column)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM outbox WHERE id = %lld", column,
             (long long)id);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st, NULL),
                     SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void
clear(outbox_msg *m, long n)
{
    for (long i = 0; i < n; i++)
        outbox_msg_clear(&m[i]);
}

static void
test_lease_expiry_resends_same_key(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    outbox_msg m[4], again[4];
    int64_t wake;
    assert_int_equal(next(f, T0, m, 4, &wake), 1);
    assert_int_equal(m[0].attempt, 1);
    assert_string_equal(m[0].alert.target, "ops");
    assert_string_equal(m[0].alert.payload, "{\"text\":\"a\"}");
    assert_non_null(strstr(m[0].alert.item, "\"id\":\"a\""));
    assert_non_null(strstr(m[0].alert.feed, "\"key\":\"https://x/feed\""));
    assert_int_equal(m[0].alert.created, T0);
    /* in flight: nothing more, wake up when the lease ends */
    assert_int_equal(next(f, T0 + 1000, again, 4, &wake), 0);
    assert_int_equal(wake, T0 + f->p.lease);
    /* the process vanished: after the lease, the same row, the same key */
    assert_int_equal(next(f, T0 + f->p.lease, again, 4, &wake), 1);
    assert_int_equal(again[0].id, m[0].id);
    assert_int_equal(again[0].attempt, 2);
    assert_string_equal(again[0].alert.key, m[0].alert.key);
    /* the first attempt's late failure is stale and ignored */
    report(f, &m[0], 500, NULL, T0 + f->p.lease + 10);
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_SENDING);
    /* ...but a late success counts: the receiver has it */
    report(f, &m[0], 200, NULL, T0 + f->p.lease + 20);
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_DELIVERED);
    clear(m, 1);
    clear(again, 1);
}

static void
test_recover_after_restart(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    outbox_msg m[2], again[2];
    assert_int_equal(next(f, T0, m, 2, NULL), 1);
    /* a new process: it does not wait for the lease */
    outbox_free(f->ob);
    f->ob = outbox_new(f->s, &f->p);
    assert_int_equal(outbox_recover(f->ob, T0 + 5, f->err, sizeof f->err), 1);
    assert_int_equal(next(f, T0 + 5, again, 2, NULL), 1);
    assert_string_equal(again[0].alert.key, m[0].alert.key);
    clear(m, 1);
    clear(again, 1);
}

static void
test_in_order_per_target(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a1", "a2", "b1", "a3"};
    const char *tg[] = {"a", "a", "b", "a"};
    enqueue(f, ids, tg, 4, T0);
    outbox_msg m[8];
    int64_t wake;
    assert_int_equal(next(f, T0, m, 8, &wake), 2); /* a1 and b1 */
    outbox_msg *a1 = !strcmp(m[0].alert.target, "a") ? &m[0] : &m[1];
    outbox_msg *b1 = a1 == &m[0] ? &m[1] : &m[0];
    assert_non_null(strstr(a1->alert.payload, "a1"));
    report(f, a1, 503, NULL, T0 + 10);
    report(f, b1, 200, NULL, T0 + 10);
    int64_t due = col(f, a1->id, "due");
    assert_true(due > T0 + 10);
    /* a2 is due but waits behind a1 */
    outbox_msg n[8];
    assert_int_equal(next(f, T0 + 20, n, 8, &wake), 0);
    assert_int_equal(wake, due);
    assert_int_equal(next(f, due, n, 8, &wake), 1);
    assert_int_equal(n[0].id, a1->id);
    report(f, &n[0], 200, NULL, due + 1);
    clear(n, 1);
    const char *expect[] = {"a2", "a3"};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(next(f, due + 2, n, 8, &wake), 1);
        assert_non_null(strstr(n[0].alert.payload, expect[k]));
        report(f, &n[0], 204, NULL, due + 3);
        clear(n, 1);
    }
    assert_int_equal(next(f, due + 4, n, 8, &wake), 0);
    assert_int_equal(wake, INT64_MAX);
    clear(m, 2);
    /* the outbox commits its own changes without an fsync each, but the
     * feeds' transactions that follow must be FULL again */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s), "PRAGMA synchronous", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
}

static void
test_backoff_grows_and_caps(void **state)
{
    fx *f = *state;
    outbox_params p = f->p; /* base 1s, cap 10m */
    for (int64_t a = 1; a <= 30; a++) {
        int64_t d = p.backoff_base << (a - 1 < 20 ? a - 1 : 20);
        if (d > p.backoff_cap || a > 20) d = p.backoff_cap;
        int64_t lo = outbox_backoff(&p, a, 0);
        int64_t hi = outbox_backoff(&p, a, UINT32_MAX);
        assert_int_equal(lo, d / 2);
        assert_true(hi < d && hi >= d - d / 1000 - 1);
    }
    assert_int_equal(outbox_backoff(&p, 1000000, 0), p.backoff_cap / 2);

    /* through the machine: each failure waits longer, up to the cap */
    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    int64_t now = T0, prev = 0;
    for (int i = 1; i <= 14; i++) {
        outbox_msg m[1];
        int64_t wake;
        assert_int_equal(next(f, now, m, 1, &wake), 1);
        report(f, &m[0], i % 2 ? 0 : 502, NULL, now);
        int64_t delay = col(f, m[0].id, "due") - now;
        int64_t d = p.backoff_base << (i - 1);
        if (d > p.backoff_cap) d = p.backoff_cap;
        assert_true(delay >= d / 2 && delay < d + 1);
        if (d < p.backoff_cap / 2) assert_true(delay >= prev);
        prev = delay;
        now += delay;
        clear(m, 1);
    }
    assert_int_equal(col(f, 1, "state"), OUTBOX_PENDING);
    assert_int_equal(col(f, 1, "attempts"), 14);
}

static void
test_retry_after_honoured(void **state)
{
    fx *f = *state;
    assert_int_equal(outbox_parse_retry_after("2", T0), 2000);
    assert_int_equal(outbox_parse_retry_after(" 120 ", T0), 120000);
    assert_int_equal(
        outbox_parse_retry_after("Fri, 23 Aug 2024 13:28:00 GMT", T0), 60000);
    assert_int_equal(
        outbox_parse_retry_after("Fri, 23 Aug 2024 13:00:00 GMT", T0), 0);
    assert_int_equal(outbox_parse_retry_after("soon", T0), -1);
    assert_int_equal(outbox_parse_retry_after("", T0), -1);
    assert_int_equal(outbox_parse_retry_after(NULL, T0), -1);

    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    outbox_msg m[1];
    assert_int_equal(next(f, T0, m, 1, NULL), 1);
    report(f, &m[0], 429, "7", T0 + 5);
    assert_int_equal(col(f, m[0].id, "due"), T0 + 5 + 7000);
    assert_int_equal(col(f, m[0].id, "status"), 429);
    clear(m, 1);
    outbox_msg n[1];
    int64_t wake;
    assert_int_equal(next(f, T0 + 5 + 6999, n, 1, &wake), 0);
    assert_int_equal(wake, T0 + 5 + 7000);
    assert_int_equal(next(f, T0 + 5 + 7000, n, 1, &wake), 1);
    /* a 503 may carry one too, as an HTTP-date */
    report(f, &n[0], 503, "Fri, 23 Aug 2024 13:37:00 GMT", T0 + 7005);
    assert_int_equal(col(f, n[0].id, "due"), T0 + 10 * MIN);
    clear(n, 1);
}

static void
test_permanent_failures_dead_at_once(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b", "c", "d", "e"};
    const char *tg[] = {"t400", "t404", "t301", "t408", "tperm"};
    enqueue(f, ids, tg, 5, T0);
    outbox_msg m[8];
    assert_int_equal(next(f, T0, m, 8, NULL), 5);
    for (int i = 0; i < 5; i++) {
        const char *t = m[i].alert.target;
        outbox_outcome o = {0};
        if (!strcmp(t, "t400")) {
            o.status = 400;
            o.response = "{\"error\":\"invalid_payload\"}\n\x01tail";
            o.response_len = strlen(o.response);
        } else if (!strcmp(t, "t404")) {
            o.status = 404;
        } else if (!strcmp(t, "t301")) {
            o.status = 301;
        } else if (!strcmp(t, "t408")) {
            o.status = 408;
        } else {
            o.error = "address refused by policy: 10.0.0.1";
            o.permanent = true;
        }
        assert_int_equal(
            outbox_report(f->ob, &m[i], &o, T0 + 1, f->err, sizeof f->err), 0);
        int64_t state_ = col(f, m[i].id, "state");
        if (!strcmp(t, "t408"))
            assert_int_equal(state_, OUTBOX_PENDING); /* timeout: retry */
        else
            assert_int_equal(state_, OUTBOX_DEAD);
    }
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s),
                       "SELECT status, error, response FROM outbox"
                       " WHERE target = 't400'",
                       -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 400);
    assert_string_equal(sqlite3_column_text(st, 1), "HTTP 400");
    assert_string_equal(sqlite3_column_text(st, 2),
                        "{\"error\":\"invalid_payload\"}  tail");
    sqlite3_finalize(st);
    /* dead rows do not block their target's queue */
    const char *more[] = {"f"}, *mt[] = {"t400"};
    enqueue(f, more, mt, 1, T0 + 2);
    outbox_msg n[8];
    assert_int_equal(next(f, T0 + 3, n, 8, NULL), 1);
    assert_string_equal(n[0].alert.target, "t400");
    clear(n, 1);
    clear(m, 5);
}

/* QA: a webhook answering 308 was dead-lettered as "HTTP 308: nope:
 * receiver said no", without where it pointed. Redirects are not followed
 * (a POST is not replayed to wherever the answer says), so the dead
 * letter names the Location, without its credentials. */
static void
test_redirect_dead_with_its_location(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"}, *tg[] = {"moved", "gone"};
    enqueue(f, ids, tg, 2, T0);
    outbox_msg m[2];
    assert_int_equal(next(f, T0, m, 2, NULL), 2);
    outbox_outcome o = {.status = 308,
                        .location = "https://user:pw@new.example/hook",
                        .response = "nope: receiver said no",
                        .response_len = 22};
    assert_int_equal(
        outbox_report(f->ob, &m[0], &o, T0 + 1, f->err, sizeof f->err), 0);
    outbox_outcome bare = {.status = 302}; /* no Location seen */
    assert_int_equal(
        outbox_report(f->ob, &m[1], &bare, T0 + 1, f->err, sizeof f->err), 0);
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_DEAD);
    assert_int_equal(col(f, m[1].id, "state"), OUTBOX_DEAD);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s),
                       "SELECT error, response FROM outbox ORDER BY id", -1,
                       &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0),
                        "HTTP 308: redirected to https://user:***@new.example/"
                        "hook (webhook redirects are not followed: update its "
                        "url)");
    assert_null(sqlite3_column_text(st, 1));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0),
                        "HTTP 302: redirected (webhook redirects are not "
                        "followed: check its url)");
    sqlite3_finalize(st);
    clear(m, 2);
}

static void
test_give_up_after(void **state)
{
    fx *f = *state;
    outbox_set_target(f->ob, "ops", 0, 10 * MIN);
    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    int64_t now = T0;
    int tries = 0;
    for (;;) {
        outbox_msg m[1];
        int64_t wake;
        long n = next(f, now, m, 1, &wake);
        if (n == 0) {
            assert_int_equal(wake, INT64_MAX); /* nothing left waiting */
            break;
        }
        tries++;
        report(f, &m[0], 500, NULL, now);
        clear(m, 1);
        int64_t st = col(f, 1, "state");
        if (now - T0 < 10 * MIN) assert_int_equal(st, OUTBOX_PENDING);
        if (st == OUTBOX_DEAD) break;
        now = col(f, 1, "due");
        assert_true(tries < 100);
    }
    assert_int_equal(col(f, 1, "state"), OUTBOX_DEAD);
    assert_true(now - T0 >= 10 * MIN);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s), "SELECT error FROM outbox", -1, &st,
                       NULL);
    sqlite3_step(st);
    assert_non_null(
        strstr((const char *)sqlite3_column_text(st, 0), "gave up after 10m"));
    sqlite3_finalize(st);
}

typedef struct listing {
    int64_t ids[16];
    int states[16];
    int n;
} listing;

static int
collect(const outbox_row *r, void *ud)
{
    listing *l = ud;
    l->ids[l->n] = r->id;
    l->states[l->n++] = r->state;
    return 0;
}

static void
test_retry_and_drop(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b", "c"}, *tg[] = {"x", "y", "z"};
    enqueue(f, ids, tg, 3, T0);
    outbox_msg m[4];
    assert_int_equal(next(f, T0, m, 4, NULL), 3);
    report(f, &m[0], 400, NULL, T0 + 1); /* x: dead */
    report(f, &m[1], 200, NULL, T0 + 1); /* y: delivered */
    report(f, &m[2], 500, NULL, T0 + 1); /* z: waiting */
    int64_t dead = m[0].id, done = m[1].id, waiting = m[2].id;
    clear(m, 3);

    listing l = {0};
    assert_int_equal(
        outbox_list(f->s, OUTBOX_LIST_DEAD, collect, &l, f->err, sizeof f->err),
        0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.ids[0], dead);
    l.n = 0;
    outbox_list(f->s, OUTBOX_LIST_UNDELIVERED, collect, &l, f->err,
                sizeof f->err);
    assert_int_equal(l.n, 2);
    outbox_counts c;
    assert_int_equal(outbox_count(f->s, &c, f->err, sizeof f->err), 0);
    assert_int_equal(c.dead, 1);
    assert_int_equal(c.delivered, 1);
    assert_int_equal(c.pending, 1);

    /* retry: due now, fresh attempts; the daemon's next poll takes it */
    assert_int_equal(outbox_retry(f->s, dead, T0 + 100, f->err, sizeof f->err),
                     1);
    assert_int_equal(col(f, dead, "state"), OUTBOX_PENDING);
    assert_int_equal(col(f, dead, "attempts"), 0);
    assert_int_equal(col(f, dead, "since"), T0 + 100);
    assert_int_equal(outbox_retry(f->s, done, T0, f->err, sizeof f->err),
                     OUTBOX_ACT_DELIVERED);
    assert_int_equal(outbox_retry(f->s, 999, T0, f->err, sizeof f->err),
                     OUTBOX_ACT_NONE);
    assert_int_equal(next(f, T0 + 100, m, 4, NULL), 1);
    assert_int_equal(m[0].id, dead);
    /* a row being sent cannot be retried under the sender's feet */
    assert_int_equal(outbox_retry(f->s, dead, T0 + 100, f->err, sizeof f->err),
                     OUTBOX_ACT_SENDING);
    assert_int_equal(col(f, dead, "attempts"), 1);
    report(f, &m[0], 400, NULL, T0 + 101);
    clear(m, 1);

    assert_int_equal(outbox_retry_all(f->s, T0 + 200, f->err, sizeof f->err),
                     2); /* the dead one and the waiting one */
    assert_int_equal(col(f, waiting, "due"), T0 + 200);
    assert_int_equal(outbox_drop(f->s, waiting, T0 + 200, f->err, sizeof f->err),
                     OUTBOX_ACT_DONE);
    assert_int_equal(col(f, waiting, "state"), -1);
    assert_int_equal(outbox_drop(f->s, done, T0 + 200, f->err, sizeof f->err),
                     OUTBOX_ACT_DELIVERED);
    assert_int_equal(col(f, done, "state"), OUTBOX_DELIVERED);
    assert_int_equal(outbox_drop(f->s, 999, T0 + 200, f->err, sizeof f->err),
                     OUTBOX_ACT_NONE);
}

/* QA: `vigie outbox drop` on an alert being sent said "dropped", and the
 * receiver got it anyway. A row in flight is left alone (the POST may
 * have arrived: its outcome decides); once its lease has run out nobody
 * is sending it, and it may be dropped or retried. */
static void
test_drop_refuses_an_alert_in_flight(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"}, *tg[] = {"x", "y"};
    enqueue(f, ids, tg, 2, T0);
    outbox_msg m[2];
    assert_int_equal(next(f, T0, m, 2, NULL), 2);
    int64_t a = m[0].id, b = m[1].id;
    assert_int_equal(outbox_drop(f->s, a, T0 + 1, f->err, sizeof f->err),
                     OUTBOX_ACT_SENDING);
    assert_int_equal(col(f, a, "state"), OUTBOX_SENDING);
    assert_int_equal(outbox_retry_all(f->s, T0 + 1, f->err, sizeof f->err), 0);
    /* delivered meanwhile: the outcome lands on the row, still there */
    report(f, &m[0], 200, NULL, T0 + 2);
    assert_int_equal(col(f, a, "state"), OUTBOX_DELIVERED);
    /* b's sender vanished: after the lease, b is nobody's */
    int64_t later = T0 + f->p.lease;
    assert_int_equal(outbox_drop(f->s, b, later, f->err, sizeof f->err),
                     OUTBOX_ACT_DONE);
    assert_int_equal(col(f, b, "state"), -1);
    clear(m, 2);
}

static void
test_rate_limit_queues_not_drops(void **state)
{
    fx *f = *state;
    outbox_set_target(f->ob, "slow", 2, 24 * 60 * MIN);
    const char *ids[] = {"1", "2", "3", "4", "5"};
    const char *tg[] = {"slow", "slow", "slow", "slow", "slow"};
    enqueue(f, ids, tg, 5, T0);
    int64_t now = T0, sent_at[5];
    int sent = 0;
    while (sent < 5) {
        outbox_msg m[4];
        int64_t wake;
        long n = next(f, now, m, 4, &wake);
        if (n == 0) {
            assert_true(wake > now && wake != INT64_MAX);
            now = wake;
            continue;
        }
        assert_int_equal(n, 1);
        assert_non_null(strstr(m[0].alert.payload, ids[sent]));
        report(f, &m[0], 200, NULL, now);
        sent_at[sent++] = now;
        clear(m, 1);
        now += 10;
    }
    /* never more than 2 in any minute, and nothing dead */
    for (int i = 2; i < 5; i++)
        assert_true(sent_at[i] - sent_at[i - 2] > MIN);
    assert_true(sent_at[4] - T0 < 3 * MIN);
    outbox_counts c;
    outbox_count(f->s, &c, f->err, sizeof f->err);
    assert_int_equal(c.delivered, 5);
    assert_int_equal(c.dead, 0);
}

static void
test_delivered_pruned_after_keep_delivered(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"}, *tg[] = {"x", "y"};
    enqueue(f, ids, tg, 2, T0);
    outbox_msg m[2];
    assert_int_equal(next(f, T0, m, 2, NULL), 2);
    report(f, &m[0], 200, NULL, T0);
    report(f, &m[1], 400, NULL, T0);
    clear(m, 2);
    store_params p;
    store_params_default(&p);
    p.keep_delivered = 60 * MIN;
    store_set_params(f->s, &p);
    assert_int_equal(
        store_maintain(f->s, T0 + 61 * MIN, 100, f->err, sizeof f->err), 1);
    outbox_counts c;
    outbox_count(f->s, &c, f->err, sizeof f->err);
    assert_int_equal(c.delivered, 0);
    assert_int_equal(c.dead, 1); /* dead letters stay until acted on */
}

/* The delivery loop records an outcome and claims what is next in one
 * transaction: a delivered head makes room for the following row at
 * once, a failed one holds its target back (in order) until its retry. */
static void
test_report_and_claim_together(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b", "c"};
    const char *targets[] = {"t", "t", "t"};
    enqueue(f, ids, targets, 3, T0);
    outbox_msg m[4], m2[4];
    assert_int_equal(next(f, T0, m, 4, NULL), 1);
    outbox_outcome ok = {.status = 200};
    int64_t wake;
    long n = outbox_report_next(f->ob, &m[0], &ok, 1, T0 + 1, m2, 4, &wake,
                                f->err, sizeof f->err);
    assert_int_equal(n, 1);
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_DELIVERED);
    assert_int_equal(m2[0].id, m[0].id + 1); /* b, right behind a */
    assert_int_equal(col(f, m2[0].id, "state"), OUTBOX_SENDING);
    clear(m, 1);
    outbox_outcome down = {.status = 503};
    n = outbox_report_next(f->ob, &m2[0], &down, 1, T0 + 2, m, 4, &wake,
                           f->err, sizeof f->err);
    assert_int_equal(n, 0); /* c waits behind b's retry */
    assert_int_equal(col(f, m2[0].id, "state"), OUTBOX_PENDING);
    assert_true(wake > T0 + 2 && wake != INT64_MAX);
    clear(m2, 1);
    /* nothing to report: outbox_next */
    assert_int_equal(outbox_report_next(f->ob, NULL, NULL, 0, wake, m, 4,
                                        &wake, f->err, sizeof f->err),
                     1);
    clear(m, 1);
}

/* ---- log lines ------------------------------------------------------------ */


/* "alert ID (KEY12) to TARGET", as every line names the alert. */
static void
name_of(char *out, size_t outlen, const outbox_msg *m)
{
    snprintf(out, outlen, "alert %lld (%.12s) to %s", (long long)m->id,
             m->alert.key, m->alert.target);
}

/* QA: one alert had two names in the log (the row id in failure lines, a
 * key prefix in delivered ones), and durations read "3000ms". Every line
 * names it "alert ID (KEY12) to TARGET": the id `vigie outbox retry`
 * takes and the key the receiver sees. */
static void
test_log_lines_name_the_alert(void **state)
{
    fx *f = *state;
    outbox_set_target(f->ob, "ops", 0, 3000);
    const char *ids[] = {"a"}, *tg[] = {"ops"};
    enqueue(f, ids, tg, 1, T0);
    outbox_msg m[1], again[1];
    char name[128], want[512];
    capture c;
    capture_start(&c, LOG_INFO);
    assert_int_equal(next(f, T0, m, 1, NULL), 1);
    outbox_outcome o = {.status = 500, .response = "nope", .response_len = 4};
    assert_int_equal(outbox_report(f->ob, m, &o, T0 + 1, f->err, sizeof f->err),
                     0);
    int64_t due = col(f, m[0].id, "due");
    assert_int_equal(next(f, due > T0 + 3001 ? due : T0 + 3001, again, 1, NULL),
                     1);
    assert_int_equal(outbox_report(f->ob, again, &o, T0 + 3001, f->err,
                                   sizeof f->err),
                     0);
    char *log = capture_end(&c);
    name_of(name, sizeof name, m);
    assert_int_equal(count_in(log, "\n"), 2);
    snprintf(want, sizeof want, "%s: HTTP 500: nope; retry 2 in ", name);
    assert_non_null(strstr(log, want));
    assert_null(strstr(log, " ms\n"));
    snprintf(want, sizeof want,
             "%s: dead-lettered (item \"a\"): gave up after 3s (2 attempts): "
             "HTTP 500: nope; see 'vigie outbox list --dead', then 'vigie "
             "outbox retry %lld'\n",
             name, (long long)m[0].id);
    assert_non_null(strstr(log, want));
    free(log);
    clear(m, 1);
    clear(again, 1);
}

/* After a kill -9, the alerts that were being sent are said once each
 * (the daemon said it twice, in two ways), by the name the other lines
 * use. */
static void
test_recover_says_each_alert_once(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b", "c"}, *tg[] = {"x", "y", "y"};
    enqueue(f, ids, tg, 3, T0);
    outbox_msg m[4];
    assert_int_equal(next(f, T0, m, 4, NULL), 2); /* a, and b before c */
    outbox_free(f->ob);
    f->ob = outbox_new(f->s, &f->p);
    capture c;
    capture_start(&c, LOG_INFO);
    assert_int_equal(outbox_recover(f->ob, T0 + 5, f->err, sizeof f->err), 2);
    char *log = capture_end(&c);
    assert_int_equal(count_in(log, "\n"), 2);
    for (int i = 0; i < 2; i++) {
        char name[128];
        name_of(name, sizeof name, &m[i]);
        assert_non_null(strstr(log, name));
    }
    assert_int_equal(count_in(log, "was being sent when vigie stopped"), 2);
    free(log);
    clear(m, 2);
}

/* A transaction that fails after an outcome was recorded in it (here a
 * claim refused, as a full disk would refuse the commit) is tried again
 * with the same outcome: its line is said once, when it holds. */
static void
test_rolled_back_outcome_not_said(void **state)
{
    fx *f = *state;
    const char *ids[] = {"a", "b"}, *tg[] = {"x", "y"};
    enqueue(f, ids, tg, 2, T0);
    outbox_msg m[2], n[2];
    assert_int_equal(next(f, T0, m, 1, NULL), 1); /* a only */
    sqlite3 *db = store_db(f->s);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TEMP TRIGGER refuse BEFORE UPDATE OF lease_until"
                     " ON outbox WHEN NEW.state = 1"
                     " BEGIN SELECT RAISE(ABORT, 'database or disk is full');"
                     " END",
                     NULL, NULL, NULL),
        SQLITE_OK);
    outbox_outcome down = {.status = 503};
    int64_t wake;
    capture c;
    capture_start(&c, LOG_INFO);
    assert_int_equal(outbox_report_next(f->ob, m, &down, 1, T0 + 1, n, 2, &wake,
                                        f->err, sizeof f->err),
                     -1);
    assert_non_null(strstr(f->err, "disk is full"));
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_SENDING);
    sqlite3_exec(db, "DROP TRIGGER refuse", NULL, NULL, NULL);
    long got = outbox_report_next(f->ob, m, &down, 1, T0 + 2, n, 2, &wake,
                                  f->err, sizeof f->err);
    char *log = capture_end(&c);
    assert_int_equal(got, 1); /* b */
    assert_int_equal(col(f, m[0].id, "state"), OUTBOX_PENDING);
    assert_int_equal(count_in(log, "\n"), 1);
    assert_int_equal(count_in(log, "HTTP 503; retry 2 in"), 1);
    free(log);
    clear(m, 1);
    clear(n, 1);
}

int
main(void)
{
    log_init(LOG_CRIT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lease_expiry_resends_same_key,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_recover_after_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_in_order_per_target, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backoff_grows_and_caps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failures_dead_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_dead_with_its_location,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_give_up_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_refuses_an_alert_in_flight,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_and_claim_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_queues_not_drops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_delivered_pruned_after_keep_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_lines_name_the_alert, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_recover_says_each_alert_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_outcome_not_said,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
