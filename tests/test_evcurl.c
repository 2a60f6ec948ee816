/* test_evcurl.c — caps, FIFO order, round robin between hosts, cancel and
 * abort, on a real libev loop. No network: the per-host key comes from the
 * submitted URL, while the transfer itself reads a local file (instant) or
 * talks to a listening socket that never answers (hangs until cut). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evcurl.h"
#include "util.h"

#define MAXJ 64

typedef struct ctx ctx;
typedef struct job {
    ctx *c;
    int id;
    char host; /* 'a', 'b', ... */
    bool hang, fail_start;
    bool started, finished;
    CURL *easy_seen;
    CURLcode rc;
    evcurl_req *req;
} job;

struct ctx {
    struct ev_loop *loop;
    evcurl *ec;
    evcurl_pool *pool;
    job jobs[MAXJ];
    int njobs;
    int order[MAXJ], norder; /* ids in completion order */
    int active[26], max_active[26], active_all, max_active_all;
    int pending; /* ev_break when it reaches 0 */
    char hang_url[64];
};

static size_t
discard(char *p, size_t s, size_t n, void *u)
{
    UNUSED(p);
    UNUSED(u);
    return s * n;
}

static CURL *
start(void *arg)
{
    job *j = arg;
    ctx *c = j->c;
    if (j->fail_start) return NULL;
    j->started = true;
    int h = j->host - 'a';
    if (++c->active[h] > c->max_active[h]) c->max_active[h] = c->active[h];
    if (++c->active_all > c->max_active_all) c->max_active_all = c->active_all;
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL,
                     j->hang ? c->hang_url : "file:///dev/null");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

static void
done(CURL *easy, CURLcode rc, void *arg)
{
    job *j = arg;
    ctx *c = j->c;
    j->finished = true;
    j->rc = rc;
    j->easy_seen = easy;
    j->req = NULL;
    if (j->started) {
        c->active[j->host - 'a']--;
        c->active_all--;
    }
    c->order[c->norder++] = j->id;
    if (easy) curl_easy_cleanup(easy);
    if (--c->pending == 0) ev_break(c->loop, EVBREAK_ALL);
}

static job *
add(ctx *c, char host)
{
    job *j = &c->jobs[c->njobs];
    j->c = c;
    j->id = c->njobs++;
    j->host = host;
    char url[64];
    snprintf(url, sizeof url, "http://%c.example:8080/feed/%d", host, j->id);
    /* Case and port never split a host. */
    if (j->id % 2) url[7] = (char)(url[7] - 32);
    c->pending++;
    j->req = evcurl_submit(c->pool, url, start, done, j);
    return j;
}

static int listen_fd = -1;

static int
setup(void **state)
{
    ctx *c = xcalloc(1, sizeof *c);
    c->loop = ev_loop_new(EVFLAG_AUTO);
    c->ec = evcurl_new(c->loop, 100);
    c->pool = evcurl_pool_new(c->ec, 2);
    /* A socket that listens but never accepts: the kernel completes the
     * handshake, curl sends its request and waits forever. */
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(listen_fd, 16), 0);
    socklen_t len = sizeof sa;
    getsockname(listen_fd, (struct sockaddr *)&sa, &len);
    snprintf(c->hang_url, sizeof c->hang_url, "http://127.0.0.1:%d/",
             ntohs(sa.sin_port));
    *state = c;
    return 0;
}

static int
teardown(void **state)
{
    ctx *c = *state;
    evcurl_free(c->ec);
    ev_loop_destroy(c->loop);
    close(listen_fd);
    free(c);
    return 0;
}

static void
run_until_done(ctx *c)
{
    ev_run(c->loop, 0);
    assert_int_equal(c->pending, 0);
}

static void
test_per_host_cap_and_fifo(void **state)
{
    ctx *c = *state;
    for (int i = 0; i < 10; i++)
        add(c, 'a');
    run_until_done(c);
    assert_int_equal(c->max_active[0], 2); /* reached, never passed */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(c->jobs[i].rc, CURLE_OK);
        assert_int_equal(c->order[i], i); /* FIFO within the host */
    }
    assert_int_equal(evcurl_in_flight(c->ec), 0);
    assert_int_equal(evcurl_waiting(c->ec), 0);
}

static void
test_global_cap(void **state)
{
    ctx *c = *state;
    evcurl_set_max(c->ec, 3);
    for (int i = 0; i < 6; i++)
        add(c, 'a');
    for (int i = 0; i < 6; i++)
        add(c, 'b');
    for (int i = 0; i < 6; i++)
        add(c, 'c');
    run_until_done(c);
    assert_int_equal(c->max_active_all, 3);
    for (int h = 0; h < 3; h++)
        assert_true(c->max_active[h] <= 2);
}

static void
test_hosts_take_turns(void **state)
{
    ctx *c = *state;
    /* One slot in all, one per host: a long queue on host a must not
     * hold back host b. */
    evcurl_set_max(c->ec, 1);
    evcurl_pool_set_per_host(c->pool, 1);
    add(c, 'a'); /* 0 */
    add(c, 'a'); /* 1 */
    add(c, 'a'); /* 2 */
    add(c, 'b'); /* 3 */
    run_until_done(c);
    int want[] = {0, 3, 1, 2};
    for (int i = 0; i < 4; i++)
        assert_int_equal(c->order[i], want[i]);
}

static void
test_cancel_waiting(void **state)
{
    ctx *c = *state;
    job *j0 = add(c, 'a');
    job *j1 = add(c, 'a');
    job *j2 = add(c, 'a');
    assert_null(evcurl_cancel(j1->req)); /* had not started */
    c->pending--;
    run_until_done(c);
    assert_true(j0->finished && j2->finished);
    assert_false(j1->finished || j1->started);
    assert_int_equal(c->norder, 2);
}

static void
cancel_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(revents);
    job *j = w->data;
    CURL *easy = evcurl_cancel(j->req);
    assert_non_null(easy); /* it was running: ours to clean up */
    curl_easy_cleanup(easy);
    j->c->pending--;
    j->c->active[0]--;
    j->c->active_all--;
    if (j->c->pending == 0) ev_break(loop, EVBREAK_ALL);
}

static void
test_cancel_running(void **state)
{
    ctx *c = *state;
    evcurl_pool_set_per_host(c->pool, 1);
    job *hang = add(c, 'a');
    hang->hang = true;
    job *next = add(c, 'a'); /* waits for the slot */
    ev_timer t;
    ev_timer_init(&t, cancel_cb, 0.2, 0.);
    t.data = hang;
    ev_timer_start(c->loop, &t);
    run_until_done(c);
    assert_true(hang->started);
    assert_false(hang->finished); /* done is not called after cancel */
    assert_true(next->finished);  /* and the freed slot was used */
    assert_int_equal(next->rc, CURLE_OK);
}

static void
abort_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    evcurl_abort_all(w->data);
}

static void
test_abort_all(void **state)
{
    ctx *c = *state;
    job *j[5];
    for (int i = 0; i < 5; i++) {
        j[i] = add(c, 'a');
        j[i]->hang = true;
    }
    ev_timer t;
    ev_timer_init(&t, abort_cb, 0.2, 0.);
    t.data = c->ec;
    ev_timer_start(c->loop, &t);
    run_until_done(c);
    for (int i = 0; i < 5; i++) {
        assert_true(j[i]->finished);
        assert_int_equal(j[i]->rc, CURLE_ABORTED_BY_CALLBACK);
        /* two were running (cap 2), three still waiting */
        if (i < 2)
            assert_non_null(j[i]->easy_seen);
        else
            assert_null(j[i]->easy_seen);
    }
    assert_int_equal(evcurl_in_flight(c->ec), 0);
    assert_int_equal(evcurl_waiting(c->ec), 0);
}

static void
test_start_failure_reported(void **state)
{
    ctx *c = *state;
    job *j = add(c, 'a');
    j->fail_start = true;
    job *k = add(c, 'a');
    run_until_done(c);
    assert_int_equal(j->rc, CURLE_FAILED_INIT);
    assert_null(j->easy_seen);
    assert_int_equal(k->rc, CURLE_OK);
}

static CURL *
start_with_timeout(void *arg)
{
    CURL *e = start(arg);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
    return e;
}

static void
test_sub_second_timeout_fires(void **state)
{
    ctx *c = *state;
    /* A transfer that never gets an answer ends by curl's own 300 ms
     * timeout, which only the ev_timer path can deliver. */
    job *j = &c->jobs[c->njobs];
    j->c = c;
    j->id = c->njobs++;
    j->host = 'a';
    j->hang = true;
    c->pending++;
    evcurl_submit(c->pool, "http://a/", start_with_timeout, done, j);
    run_until_done(c);
    assert_int_equal(j->rc, CURLE_OPERATION_TIMEDOUT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_per_host_cap_and_fifo, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_global_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts_take_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_failure_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sub_second_timeout_fires, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
