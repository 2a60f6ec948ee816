/* evcurl.c — see evcurl.h.
 *
 * Shape: curl tells us which sockets to watch (socket callback → ev_io)
 * and when to wake it up (timer callback → ev_timer); we tell curl what
 * happened (curl_multi_socket_action), then drain curl_multi_info_read for
 * finished transfers, then start waiting requests while the caps allow. */
#include "evcurl.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"

typedef struct host host;

struct evcurl_req {
    host *h;
    CURL *easy; /* set once started */
    evcurl_start_fn start;
    evcurl_done_fn done;
    void *arg;
    evcurl_req *prev, *next; /* host's wait list, or evcurl's run list */
};

/* A host name within one pool: its cap counter and its FIFO. Freed as soon
 * as it has nothing running, nothing waiting and is not in the ready ring,
 * so memory follows the work, not the history. */
struct host {
    evcurl_pool *pool;
    size_t in_flight;
    evcurl_req *wait_head, *wait_tail;
    bool ready;       /* in evcurl's ready queue */
    host *ready_next; /* ready queue link */
    host *hnext;      /* hash chain */
    uint32_t hash;
    char name[]; /* lower-case */
};

struct evcurl_pool {
    evcurl *ec;
    int per_host;
    host **tab;
    size_t nbuckets, nhosts;
    evcurl_pool *next;
};

typedef struct sockinfo {
    ev_io io;
    evcurl *ec;
    curl_socket_t fd;
    struct sockinfo *prev, *next;
} sockinfo;

struct evcurl {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer; /* curl's own timeout */
    ev_timer kick;  /* deferred start of waiting requests */
    int max;
    size_t in_flight, waiting;
    evcurl_req *run_head; /* transfers in flight */
    host *ready_head, *ready_tail;
    evcurl_pool *pools;
    sockinfo *socks;
};

static int global_users;

/* ---- hosts -------------------------------------------------------------- */

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The cap is per host name: the port and the scheme do not matter to the
 * people running the server. */
static char *
host_key(const char *url)
{
    char *out = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
                 CURLUE_OK) {
        char *h = NULL;
        if (curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) {
            out = xstrdup(h);
            curl_free(h);
        }
    }
    curl_url_cleanup(u);
    if (!out) out = xstrdup("");
    for (char *p = out; *p; p++)
        *p = ascii_tolower(*p);
    return out;
}

static void
pool_rehash(evcurl_pool *p)
{
    size_t n = p->nbuckets ? p->nbuckets * 2 : 64;
    host **tab = xcalloc(n, sizeof *tab);
    for (size_t i = 0; i < p->nbuckets; i++) {
        host *h = p->tab[i];
        while (h) {
            host *next = h->hnext;
            h->hnext = tab[h->hash & (n - 1)];
            tab[h->hash & (n - 1)] = h;
            h = next;
        }
    }
    free(p->tab);
    p->tab = tab;
    p->nbuckets = n;
}

static host *
host_get(evcurl_pool *p, const char *name)
{
    uint32_t hash = fnv1a(name);
    if (p->nbuckets) {
        for (host *h = p->tab[hash & (p->nbuckets - 1)]; h; h = h->hnext)
            if (h->hash == hash && !strcmp(h->name, name)) return h;
    }
    if (p->nhosts >= p->nbuckets) pool_rehash(p);
    size_t len = strlen(name);
    host *h = xcalloc(1, sizeof *h + len + 1);
    memcpy(h->name, name, len + 1);
    h->pool = p;
    h->hash = hash;
    h->hnext = p->tab[hash & (p->nbuckets - 1)];
    p->tab[hash & (p->nbuckets - 1)] = h;
    p->nhosts++;
    return h;
}

static void
host_maybe_free(host *h)
{
    if (h->in_flight || h->wait_head || h->ready) return;
    evcurl_pool *p = h->pool;
    host **pp = &p->tab[h->hash & (p->nbuckets - 1)];
    while (*pp != h)
        pp = &(*pp)->hnext;
    *pp = h->hnext;
    p->nhosts--;
    free(h);
}

/* Frees every idle host of a pool (after evcurl_abort_all emptied them). */
static void
pool_sweep(evcurl_pool *p)
{
    for (size_t i = 0; i < p->nbuckets; i++) {
        host **pp = &p->tab[i];
        while (*pp) {
            host *h = *pp;
            if (!h->in_flight && !h->wait_head && !h->ready) {
                *pp = h->hnext;
                p->nhosts--;
                free(h);
            } else {
                pp = &h->hnext;
            }
        }
    }
}

static void
ready_push(evcurl *ec, host *h)
{
    h->ready = true;
    h->ready_next = NULL;
    if (ec->ready_tail)
        ec->ready_tail->ready_next = h;
    else
        ec->ready_head = h;
    ec->ready_tail = h;
}

/* Puts the host back in line if it has work and room. */
static void
host_settle(evcurl *ec, host *h)
{
    if (!h->ready && h->wait_head && h->in_flight < (size_t)h->pool->per_host)
        ready_push(ec, h);
    else
        host_maybe_free(h);
}

/* ---- lists -------------------------------------------------------------- */

static void
wait_unlink(host *h, evcurl_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->wait_head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        h->wait_tail = r->prev;
    r->prev = r->next = NULL;
}

static void
run_unlink(evcurl *ec, evcurl_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        ec->run_head = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

/* ---- starting and finishing --------------------------------------------- */

static void
kick(evcurl *ec)
{
    if (!ev_is_active(&ec->kick)) {
        ev_timer_set(&ec->kick, 0., 0.);
        ev_timer_start(ec->loop, &ec->kick);
    }
}

/* Starts waiting requests while both caps allow. Requests whose start
 * callback fails are collected and told after the loop, so that a done
 * callback that submits or cancels never runs under our feet. */
static void
pump(evcurl *ec)
{
    evcurl_req *failed = NULL;
    while (ec->in_flight < (size_t)ec->max && ec->ready_head) {
        host *h = ec->ready_head;
        ec->ready_head = h->ready_next;
        if (!ec->ready_head) ec->ready_tail = NULL;
        h->ready = false;
        evcurl_req *r = h->wait_head;
        if (!r || h->in_flight >= (size_t)h->pool->per_host) {
            host_maybe_free(h);
            continue;
        }
        wait_unlink(h, r);
        ec->waiting--;
        CURL *easy = r->start(r->arg);
        CURLMcode mc = CURLM_OK;
        if (easy) {
            curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
            mc = curl_multi_add_handle(ec->multi, easy);
            if (mc != CURLM_OK)
                log_err("evcurl: curl_multi_add_handle: %s",
                        curl_multi_strerror(mc));
        }
        if (!easy || mc != CURLM_OK) {
            r->easy = easy;
            r->h = NULL;
            r->next = failed;
            failed = r;
        } else {
            r->easy = easy;
            r->next = ec->run_head;
            if (ec->run_head) ec->run_head->prev = r;
            ec->run_head = r;
            h->in_flight++;
            ec->in_flight++;
        }
        host_settle(ec, h);
    }
    while (failed) {
        evcurl_req *r = failed;
        failed = r->next;
        CURL *easy = r->easy;
        evcurl_done_fn done = r->done;
        void *arg = r->arg;
        free(r);
        done(easy, CURLE_FAILED_INIT, arg);
    }
}

/* Takes a running request out of the multi and the counters. */
static void
finish(evcurl *ec, evcurl_req *r)
{
    curl_multi_remove_handle(ec->multi, r->easy);
    run_unlink(ec, r);
    host *h = r->h;
    h->in_flight--;
    ec->in_flight--;
    host_settle(ec, h);
}

static void
drain(evcurl *ec)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(ec->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        evcurl_req *r = (evcurl_req *)(void *)priv;
        if (!r) continue; /* not ours: cannot happen */
        finish(ec, r);
        evcurl_done_fn done = r->done;
        void *arg = r->arg;
        free(r);
        done(easy, rc, arg);
    }
    pump(ec);
}

/* ---- libev ↔ libcurl ---------------------------------------------------- */

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    UNUSED(loop);
    sockinfo *si = w->data;
    evcurl *ec = si->ec; /* si may be freed inside socket_action */
    int action = ((revents & EV_READ) ? CURL_CSELECT_IN : 0) |
                 ((revents & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(ec->multi, si->fd, action, &running);
    drain(ec);
}

static void
arm_timer(evcurl *ec, long ms)
{
    ev_timer_stop(ec->loop, &ec->timer);
    if (ms < 0) return;
    /* Milliseconds to seconds as a double: evhiperfifo's integer division
     * turns every sub-second timeout into 0 and spins. */
    ev_timer_set(&ec->timer, (double)ms / 1000.0, 0.);
    ev_timer_start(ec->loop, &ec->timer);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    evcurl *ec = w->data;
    int running;
    curl_multi_socket_action(ec->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(ec);
    /* libev may wake us a little before curl's deadline (its clock is the
     * loop's cached time); curl then expires nothing and, its next
     * deadline being unchanged, does not call the timer callback again.
     * Re-arm from curl's own view so that no transfer is ever stranded. */
    if (!ev_is_active(&ec->timer)) {
        long ms = -1;
        if (curl_multi_timeout(ec->multi, &ms) == CURLM_OK && ms >= 0)
            arm_timer(ec, ms);
    }
}

static int
curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    UNUSED(multi);
    arm_timer(userp, timeout_ms);
    return 0;
}

static int
curl_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
               void *socketp)
{
    UNUSED(easy);
    evcurl *ec = userp;
    sockinfo *si = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (si) {
            ev_io_stop(ec->loop, &si->io);
            if (si->prev)
                si->prev->next = si->next;
            else
                ec->socks = si->next;
            if (si->next) si->next->prev = si->prev;
            free(si);
        }
        return 0;
    }
    if (!si) {
        si = xcalloc(1, sizeof *si);
        si->ec = ec;
        si->fd = s;
        ev_init(&si->io, io_cb);
        si->io.data = si;
        si->next = ec->socks;
        if (ec->socks) ec->socks->prev = si;
        ec->socks = si;
        curl_multi_assign(ec->multi, s, si);
    }
    int events = ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    ev_io_stop(ec->loop, &si->io);
    ev_io_set(&si->io, s, events);
    ev_io_start(ec->loop, &si->io);
    return 0;
}

static void
kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    pump(w->data);
}

/* ---- public ------------------------------------------------------------- */

evcurl *
evcurl_new(struct ev_loop *loop, int max_in_flight)
{
    if (global_users++ == 0) curl_global_init(CURL_GLOBAL_DEFAULT);
    evcurl *ec = xcalloc(1, sizeof *ec);
    ec->loop = loop;
    ec->max = max_in_flight > 0 ? max_in_flight : 1;
    ec->multi = curl_multi_init();
    if (!ec->multi) oom(0);
    curl_multi_setopt(ec->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(ec->multi, CURLMOPT_SOCKETDATA, ec);
    curl_multi_setopt(ec->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(ec->multi, CURLMOPT_TIMERDATA, ec);
    ev_init(&ec->timer, timer_cb);
    ec->timer.data = ec;
    ev_init(&ec->kick, kick_cb);
    ec->kick.data = ec;
    return ec;
}

void
evcurl_set_max(evcurl *ec, int max_in_flight)
{
    ec->max = max_in_flight > 0 ? max_in_flight : 1;
    kick(ec);
}

evcurl_pool *
evcurl_pool_new(evcurl *ec, int per_host)
{
    evcurl_pool *p = xcalloc(1, sizeof *p);
    p->ec = ec;
    p->per_host = per_host > 0 ? per_host : 1;
    p->next = ec->pools;
    ec->pools = p;
    return p;
}

void
evcurl_pool_set_per_host(evcurl_pool *p, int per_host)
{
    p->per_host = per_host > 0 ? per_host : 1;
    for (size_t i = 0; i < p->nbuckets; i++)
        for (host *h = p->tab[i]; h; h = h->hnext)
            if (!h->ready && h->wait_head && h->in_flight < (size_t)p->per_host)
                ready_push(p->ec, h);
    kick(p->ec);
}

evcurl_req *
evcurl_submit(evcurl_pool *p, const char *url, evcurl_start_fn start,
              evcurl_done_fn done, void *arg)
{
    evcurl *ec = p->ec;
    evcurl_req *r = xcalloc(1, sizeof *r);
    r->start = start;
    r->done = done;
    r->arg = arg;
    char *key = host_key(url);
    host *h = host_get(p, key);
    free(key);
    r->h = h;
    r->prev = h->wait_tail;
    if (h->wait_tail)
        h->wait_tail->next = r;
    else
        h->wait_head = r;
    h->wait_tail = r;
    ec->waiting++;
    if (!h->ready && h->in_flight < (size_t)p->per_host) ready_push(ec, h);
    kick(ec);
    return r;
}

CURL *
evcurl_cancel(evcurl_req *r)
{
    host *h = r->h;
    evcurl *ec = h->pool->ec;
    CURL *easy = r->easy;
    if (easy) {
        finish(ec, r);
        kick(ec); /* a slot is free */
    } else {
        wait_unlink(h, r);
        ec->waiting--;
        host_maybe_free(h);
    }
    free(r);
    return easy;
}

void
evcurl_abort_all(evcurl *ec)
{
    /* Detach everything first, then tell: done callbacks may submit
     * again, which the next round aborts (bounded, in case one always
     * does). */
    for (int round = 0; round < 100 && (ec->in_flight || ec->waiting);
         round++) {
        size_t n = ec->in_flight + ec->waiting, k = 0;
        evcurl_req **all = xcalloc(n, sizeof *all);
        while (ec->run_head) {
            evcurl_req *r = ec->run_head;
            finish(ec, r);
            all[k++] = r;
        }
        for (evcurl_pool *p = ec->pools; p; p = p->next)
            for (size_t i = 0; i < p->nbuckets; i++)
                for (host *h = p->tab[i]; h; h = h->hnext)
                    while (h->wait_head && k < n) {
                        evcurl_req *r = h->wait_head;
                        wait_unlink(h, r);
                        ec->waiting--;
                        all[k++] = r;
                    }
        /* Empty the ready queue and the hosts it held. */
        while (ec->ready_head) {
            host *h = ec->ready_head;
            ec->ready_head = h->ready_next;
            h->ready = false;
            host_maybe_free(h);
        }
        ec->ready_tail = NULL;
        for (evcurl_pool *p = ec->pools; p; p = p->next)
            pool_sweep(p);
        for (size_t i = 0; i < k; i++) {
            evcurl_req *r = all[i];
            CURL *easy = r->easy;
            evcurl_done_fn done = r->done;
            void *arg = r->arg;
            free(r);
            done(easy, CURLE_ABORTED_BY_CALLBACK, arg);
        }
        free(all);
    }
}

void
evcurl_free(evcurl *ec)
{
    if (!ec) return;
    evcurl_abort_all(ec);
    ev_timer_stop(ec->loop, &ec->timer);
    ev_timer_stop(ec->loop, &ec->kick);
    /* Closing cached connections may still call the socket callback. */
    curl_multi_cleanup(ec->multi);
    while (ec->socks) {
        sockinfo *si = ec->socks;
        ec->socks = si->next;
        ev_io_stop(ec->loop, &si->io);
        free(si);
    }
    ev_timer_stop(ec->loop, &ec->timer);
    while (ec->pools) {
        evcurl_pool *p = ec->pools;
        ec->pools = p->next;
        for (size_t i = 0; i < p->nbuckets; i++)
            while (p->tab[i]) {
                host *h = p->tab[i];
                p->tab[i] = h->hnext;
                free(h);
            }
        free(p->tab);
        free(p);
    }
    free(ec);
    if (--global_users == 0) curl_global_cleanup();
}

size_t
evcurl_in_flight(const evcurl *ec)
{
    return ec->in_flight;
}

size_t
evcurl_waiting(const evcurl *ec)
{
    return ec->waiting;
}
