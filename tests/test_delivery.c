/* test_delivery.c — the outbox, sent: a real libev loop, libcurl POSTs to
 * a small HTTP receiver on 127.0.0.1 in this process, and the outcomes
 * recorded in a real state database. The receiver can do something (take
 * the database's write lock, say) at the moment a request arrives, before
 * it answers: that is how an outcome meets a database that refuses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "helpers/tmptree.h"

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include "config.h"
#include "date.h"
#include "delivery.h"
#include "evcurl.h"
#include "feed.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "helpers/capture.h"

/* ---- a receiver --------------------------------------------------------- */

#define MAX_REQ 16

typedef struct conn {
    ev_io io;
    struct receiver *r;
    buf in;
} conn;

typedef struct receiver {
    struct ev_loop *loop;
    int fd, port;
    ev_io accept_io;
    char keys[MAX_REQ][OUTBOX_KEY_LEN]; /* Idempotency-Key of each POST */
    int n;                              /* POSTs answered */
    void (*on_request)(struct receiver *r, void *ud); /* before answering */
    void *ud;
    const char *answer; /* the whole HTTP answer; NULL: 200 */
} receiver;

/* The request in c->in is whole: headers and Content-Length body bytes. */
static bool
request_whole(const buf *in)
{
    if (!in->p) return false;
    const char *end = strstr(in->p, "\r\n\r\n");
    if (!end) return false;
    size_t len = 0;
    const char *cl = strcasestr(in->p, "\r\ncontent-length:");
    if (cl && cl < end) len = (size_t)strtoul(cl + 17, NULL, 10);
    return in->len >= (size_t)(end + 4 - in->p) + len;
}

static void
header_value(const char *req, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *p = strcasestr(req, name);
    if (!p) return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    if (n >= outlen) n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void
conn_close(conn *c)
{
    ev_io_stop(c->r->loop, &c->io);
    close(c->io.fd);
    buf_free(&c->in);
    free(c);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    conn *c = (conn *)w;
    char chunk[4096];
    ssize_t got = read(w->fd, chunk, sizeof chunk);
    if (got <= 0) {
        conn_close(c);
        return;
    }
    buf_add(&c->in, chunk, (size_t)got);
    if (!request_whole(&c->in)) return;
    receiver *r = c->r;
    assert_true(r->n < MAX_REQ);
    header_value(c->in.p, "\r\nidempotency-key:", r->keys[r->n],
                 sizeof r->keys[r->n]);
    if (r->on_request) r->on_request(r, r->ud);
    const char *answer = r->answer ? r->answer
                                   : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                     "Connection: close\r\n\r\nok";
    assert_int_equal(write(w->fd, answer, strlen(answer)),
                     (ssize_t)strlen(answer));
    r->n++;
    conn_close(c);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    UNUSED(revents);
    receiver *r = w->data;
    int fd = accept(w->fd, NULL, NULL);
    if (fd < 0) return;
    conn *c = xcalloc(1, sizeof *c);
    c->r = r;
    ev_io_init(&c->io, read_cb, fd, EV_READ);
    ev_io_start(loop, &c->io);
}

static void
receiver_start(receiver *r, struct ev_loop *loop)
{
    r->loop = loop;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->fd, 16), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &alen), 0);
    r->port = ntohs(a.sin_port);
    ev_io_init(&r->accept_io, accept_cb, r->fd, EV_READ);
    r->accept_io.data = r;
    ev_io_start(loop, &r->accept_io);
}

static void
receiver_stop(receiver *r)
{
    ev_io_stop(r->loop, &r->accept_io);
    close(r->fd);
}

/* ---- the fixture: state, outbox, delivery on one loop ------------------- */

typedef struct fx {
    char dir[64];
    struct ev_loop *loop;
    evcurl *ec;
    config *cfg;
    store *s;
    outbox *ob;
    delivery *d;
    receiver rcv;
    sqlite3 *other; /* a second connection, to take the write lock */
    ev_timer guard;
    char err[1024];
} fx;

/* Not a timing assertion: a hang (a bug) ends the test instead of the run. */
static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(w);
    UNUSED(revents);
    fail_msg("the loop never reached the state the test waits for");
}

static int
setup(void **state)
{
    fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/vigie-test-delivery-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->loop = ev_loop_new(EVFLAG_AUTO);
    receiver_start(&f->rcv, f->loop);
    char path[128];
    snprintf(path, sizeof path, "%s/vigie.lua", f->dir);
    FILE *cf = fopen(path, "w");
    assert_non_null(cf);
    fprintf(cf,
            "state_dir = \"state\"\n"
            "feeds = {}\n"
            "webhooks = { hook = { url = \"http://127.0.0.1:%d/hook\",\n"
            "                      allow_private_networks = true } }\n",
            f->rcv.port);
    assert_int_equal(fclose(cf), 0);
    f->cfg = config_load(path, f->err, sizeof f->err);
    if (!f->cfg) fail_msg("%s", f->err);
    f->s = store_open(f->cfg->state_dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("%s", f->err);
    /* a locked database answers at once, not after the daemon's 5 s */
    sqlite3_busy_timeout(store_db(f->s), 1);
    f->ob = outbox_new(f->s, NULL);
    assert_non_null(f->ob);
    f->ec = evcurl_new(f->loop, 16);
    f->d = delivery_new(f->loop, f->ec, f->ob);
    delivery_configure(f->d, f->cfg);
    snprintf(path, sizeof path, "%s/state/vigie.db", f->dir);
    assert_int_equal(sqlite3_open(path, &f->other), SQLITE_OK);
    ev_timer_init(&f->guard, guard_cb, 30.0, 0.0);
    ev_timer_start(f->loop, &f->guard);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    sqlite3_close(f->other);
    delivery_free(f->d);
    outbox_free(f->ob);
    store_close(f->s);
    evcurl_free(f->ec);
    receiver_stop(&f->rcv);
    ev_timer_stop(f->loop, &f->guard);
    ev_loop_destroy(f->loop);
    config_free(f->cfg);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* Queues one alert per id to target, in order, as a feed's commit does. */
static void
enqueue(fx *f, const char *const *ids, size_t n, const char *target)
{
    store_feed sf = {.key = "https://x/feed", .url = "https://x/feed"};
    assert_int_equal(store_begin(f->s, &sf, now_wall() * 1000), 0);
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
        assert_int_equal(store_enqueue_alert(f->s, &it, "r.lua", target,
                                             payload, strlen(payload)),
                         0);
    }
    if (store_commit(f->s, NULL, f->err, sizeof f->err) < 0)
        fail_msg("%s", f->err);
}

/* Runs the loop until done(f) (the guard timer fails a test that hangs). */
static void
run_until(fx *f, bool (*done)(fx *))
{
    while (!done(f))
        ev_run(f->loop, EVRUN_ONCE);
}

static const char *
text(fx *f, const char *sql)
{
    static char out[256];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->other, sql, -1, &st, NULL),
                     SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, sizeof out, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static void
exec(fx *f, const char *sql)
{
    char *e = NULL;
    if (sqlite3_exec(f->other, sql, NULL, NULL, &e) != SQLITE_OK)
        fail_msg("%s: %s", sql, e ? e : "?");
}

/* ---- stderr, captured ---------------------------------------------------- */


/* ---- tests --------------------------------------------------------------- */

/* The receiver takes the write lock from a second connection before it
 * answers 200: the delivery's outcome meets a database that refuses it
 * (as a full disk would). */
static void
lock_database(receiver *r, void *ud)
{
    fx *f = ud;
    if (r->n == 0) exec(f, "BEGIN EXCLUSIVE");
}

static bool
first_answered(fx *f)
{
    return f->rcv.n == 1 && delivery_in_flight(f->d) == 0;
}

static bool
all_delivered(fx *f)
{
    return delivery_in_flight(f->d) == 0 &&
           !strcmp(text(f, "SELECT count(*) FROM outbox WHERE state != 2"),
                   "0");
}

/* QA: disk full while recording a 200: the alert stayed "sending" for its
 * whole 2-minute lease, every alert behind it waited, and then it was
 * POSTed again. The outcome is now kept and recorded first thing once the
 * database takes writes: the queue goes on at once, and the delivered
 * alert is not sent again even if its lease ran out meanwhile. */
static void
test_unrecorded_outcome_kept_and_recorded_first(void **state)
{
    fx *f = *state;
    log_init(LOG_INFO);
    const char *ids[] = {"a1", "a2"};
    enqueue(f, ids, 2, "hook");
    f->rcv.on_request = lock_database;
    f->rcv.ud = f;
    capture cap;
    capture_start(&cap, -1);
    delivery_kick(f->d);
    run_until(f, first_answered);
    /* the 200 could not be recorded: the row is still "sending", but the
     * delivery knows better and is not idle */
    assert_string_equal(text(f, "SELECT state FROM outbox WHERE id = 1"), "1");
    assert_false(delivery_idle(f->d, 0));
    delivery_kick(f->d); /* another try, still locked: said once only */
    /* the lease runs out while the database still refuses writes */
    exec(f, "UPDATE outbox SET lease_until = 1 WHERE id = 1");
    exec(f, "COMMIT");
    delivery_kick(f->d); /* the next kick (or the timer) */
    run_until(f, all_delivered);
    char *log = capture_end(&cap);

    assert_int_equal(f->rcv.n, 2);
    assert_string_equal(f->rcv.keys[0],
                        text(f, "SELECT key FROM outbox WHERE id = 1"));
    assert_string_equal(f->rcv.keys[1],
                        text(f, "SELECT key FROM outbox WHERE id = 2"));
    assert_int_equal(count_in(log, "not recorded yet"), 1);
    assert_non_null(strstr(log, "alert 1 ("));
    assert_non_null(strstr(log, "locked"));
    assert_int_equal(count_in(log, "are recorded"), 1);
    assert_true(delivery_idle(f->d, 0));
    free(log);
}

static bool
nothing_in_flight(fx *f)
{
    return delivery_in_flight(f->d) == 0 &&
           !strcmp(text(f, "SELECT count(*) FROM outbox WHERE state < 2"),
                   "0");
}

/* An alert to a webhook the configuration does not have is dead at once:
 * one error line for it, which says why and how to send it again. */
static void
test_unknown_target_one_line(void **state)
{
    fx *f = *state;
    log_init(LOG_INFO);
    const char *ids[] = {"n1"};
    enqueue(f, ids, 1, "nosuch");
    capture cap;
    capture_start(&cap, -1);
    delivery_kick(f->d);
    run_until(f, nothing_in_flight);
    char *log = capture_end(&cap);
    assert_string_equal(text(f, "SELECT state FROM outbox WHERE id = 1"), "3");
    assert_int_equal(count_in(log, "\n"), 1);
    assert_int_equal(count_in(log, "no webhook named \"nosuch\""), 1);
    assert_non_null(strstr(log, "dead-lettered"));
    assert_int_equal(f->rcv.n, 0);
    free(log);
}

/* A webhook answering 308 is not followed: the dead letter says where it
 * pointed, made absolute against the webhook's URL. */
static void
test_redirect_dead_letter_names_location(void **state)
{
    fx *f = *state;
    const char *ids[] = {"r1"};
    enqueue(f, ids, 1, "hook");
    f->rcv.answer = "HTTP/1.1 308 Permanent Redirect\r\n"
                    "Location: /v2/hook\r\nContent-Length: 22\r\n"
                    "Connection: close\r\n\r\nnope: receiver said no";
    delivery_kick(f->d);
    run_until(f, nothing_in_flight);
    assert_int_equal(f->rcv.n, 1);
    assert_string_equal(text(f, "SELECT state FROM outbox WHERE id = 1"), "3");
    char want[256];
    snprintf(want, sizeof want,
             "HTTP 308: redirected to http://127.0.0.1:%d/v2/hook (webhook "
             "redirects are not followed: update its url)",
             f->rcv.port);
    assert_string_equal(text(f, "SELECT error FROM outbox WHERE id = 1"),
                        want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_unrecorded_outcome_kept_and_recorded_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_target_one_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_redirect_dead_letter_names_location, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
