/* poller.c — see poller.h. */
#include "poller.h"

#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backoff.h"
#include "duration.h"
#include "fetch.h"
#include "log.h"
#include "parsepool.h"
#include "url.h"

/* The first retry after a failure waits at least the feed's interval (a
 * failing server is not polled more often than a healthy one), and at
 * least this: a feed polled every few seconds does not hammer a server
 * that is down. */
#define FAILURE_BASE_S 60

/* A reload's "soon": polls spread over at least this, and this much more
 * per feed that goes (10,000 feeds whose user_agent changed before their
 * first poll: over 200 s, not at once). */
#define SOON_MS 5000
#define SOON_PER_FEED_MS 20

typedef enum feed_phase {
    PH_IDLE,     /* waiting for its timer */
    PH_FETCHING, /* fetch or read in progress */
    PH_PARSING,  /* fetched, on the parse thread */
    PH_COMMITTING,
} feed_phase;

/* What a fetch said, kept while its document is parsed. */
typedef struct fetched {
    bool ok, document; /* the fetch's own verdict; a body came */
    bool gone;
    int64_t retry_after;
    char *etag, *last_modified, *permanent_url;
} fetched;

typedef struct feed_rt {
    poller *p;
    char *key;
    const config_feed *cf;
    feed_state st;
    backoff bo;
    ev_timer timer;
    fetch *inflight;
    parse_job *parsing;
    fetched fx;
    feed_phase phase;
    bool removed;     /* dropped by a reload while busy: free when done */
    char **headers; /* "Name: value" lines for fetch, NULL-ended */
    poll_outcome out;
    int64_t started_ms;
    int64_t next_delay_ms; /* planned with the outcome */
    health_state health;
    struct feed_rt *next_deferred; /* waiting for a free slot */
    bool deferred;
    unsigned resched; /* POLLER_CH_*: a reload changed it while it was
                         polled; its next poll is decided at the commit */
} feed_rt;

struct poller {
    struct ev_loop *loop;
    evcurl_pool *pool;
    parsepool *pp;
    pipeline *pl;
    const config *cfg;
    feed_rt **feeds; /* sorted by key */
    size_t nfeeds;
    bool once, stopped;
    size_t busy;
    /* polls due while `busy` was at its cap, in order */
    feed_rt *deferred_head, *deferred_tail;
    ev_timer kick; /* starts deferred polls from the loop, not from a
                      commit's callback (no recursion) */
    size_t once_done, polls, polls_failed;
    uint64_t rng;
    int64_t soon_ms; /* the last reload's "soon" window */
};

/* ---- policy ---- */

int64_t
poller_jitter(int64_t interval_ms, uint64_t rnd)
{
    int64_t spread = interval_ms / 5; /* ±10% */
    if (spread <= 0) return interval_ms;
    return interval_ms - spread / 2 + (int64_t)(rnd % (uint64_t)spread);
}

int64_t
poller_first_delay(int64_t interval_ms, uint64_t rnd)
{
    if (interval_ms <= 0) return 0;
    return (int64_t)(rnd % (uint64_t)interval_ms);
}

int64_t
poller_retry_base(int64_t interval_ms)
{
    int64_t s = interval_ms / 1000 + (interval_ms % 1000 > 0); /* rounded up */
    return s > FAILURE_BASE_S ? s : FAILURE_BASE_S;
}

int64_t
poller_resched_delay(const poller_resched *r, uint64_t rnd)
{
    int64_t d = r->current_ms;
    bool never = r->since_poll_ms < 0;
    if ((r->changed & POLLER_CH_FETCH) && (r->failures || never)) {
        /* the change may fix what failed (or would have): try it soon,
         * rather than wait out a backoff of up to a day */
        d = poller_first_delay(r->soon_ms, rnd);
    } else if (r->changed & POLLER_CH_INTERVAL) {
        if (never)
            d = poller_first_delay(r->interval_ms, rnd); /* as a new feed */
        else if (!r->failures)
            d = poller_jitter(r->interval_ms, rnd) - r->since_poll_ms;
        else if (!r->server_asked)
            d = backoff_delay(r->failures, poller_retry_base(r->interval_ms),
                              BACKOFF_CAP_S, rnd) * 1000 -
                r->since_poll_ms;
        /* due already under the new interval: soon, spread as the rest */
        if (d < 0) d = poller_first_delay(r->soon_ms, rnd);
    }
    if (d > r->current_ms) d = r->current_ms;
    return d > 0 ? d : 0;
}

int64_t
poller_soon_window(size_t n)
{
    int64_t w = (int64_t)n * SOON_PER_FEED_MS;
    return w > SOON_MS ? w : SOON_MS;
}

static uint64_t
next_rand(poller *p)
{
    /* xorshift64*: scheduling jitter needs spread, not secrecy */
    uint64_t x = p->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    p->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- feeds table ---- */

static int
cmp_rt(const void *a, const void *b)
{
    return strcmp((*(feed_rt *const *)a)->key, (*(feed_rt *const *)b)->key);
}

static int
cmp_key_rt(const void *key, const void *e)
{
    return strcmp(key, (*(feed_rt *const *)e)->key);
}

static feed_rt *
find_rt(poller *p, const char *key)
{
    if (!p->nfeeds) return NULL;
    feed_rt **r = bsearch(key, p->feeds, p->nfeeds, sizeof *p->feeds, cmp_key_rt);
    return r ? *r : NULL;
}

static void
free_headers(feed_rt *f)
{
    if (!f->headers) return;
    for (char **h = f->headers; *h; h++) free(*h);
    free(f->headers);
    f->headers = NULL;
}

static void
build_headers(feed_rt *f)
{
    free_headers(f);
    const config_headers *hs = &f->cf->headers;
    if (!hs->n) return;
    f->headers = xcalloc(hs->n + 1, sizeof *f->headers);
    for (size_t i = 0; i < hs->n; i++) {
        buf b = {0};
        buf_printf(&b, "%s: %s", hs->v[i].name, hs->v[i].value);
        f->headers[i] = buf_detach(&b);
    }
}

static void
fetched_clear(fetched *x)
{
    free(x->etag);
    free(x->last_modified);
    free(x->permanent_url);
    memset(x, 0, sizeof *x);
}

static void
rt_free(feed_rt *f)
{
    fetched_clear(&f->fx);
    feed_state_clear(&f->st);
    free_headers(f);
    free(f->key);
    free(f);
}

static const char *
label(const feed_rt *f)
{
    return f->cf ? f->cf->label : f->key;
}

/* ---- polling ---- */

static void poll_now(feed_rt *f);
static void start_deferred(poller *p);
static int64_t resched(feed_rt *f, unsigned changed, int64_t current_ms);

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    poll_now(w->data);
}

static void
schedule(feed_rt *f, int64_t delay_ms)
{
    poller *p = f->p;
    ev_timer_stop(p->loop, &f->timer);
    if (p->stopped || p->once || f->st.disabled) return;
    if (delay_ms < 0) delay_ms = 0;
    ev_timer_set(&f->timer, (double)delay_ms / 1000.0, 0.0);
    ev_timer_start(p->loop, &f->timer);
    f->st.next_poll = now_wall() + delay_ms / 1000;
}

/* Polls started and not yet committed hold a document or a parsed feed
 * each (about 0.3 MiB for a 95 KB feed): when the rules and the store fall
 * behind the network, later polls wait here rather than pile up in memory.
 * As many as max_concurrent; the pipeline commits a group once three
 * quarters of them wait for it (pipeline.c, group_size), so the rest keep
 * fetching, parsing and running rules meanwhile. 10,000 local feeds, first
 * poll, paired runs: half again max_concurrent with groups of
 * max_concurrent, 12.9-16.9 s and 85-87 MB peak RSS; this, 13.5-17.0 s and
 * 74-76 MB. */
static size_t
busy_cap(const poller *p)
{
    size_t cap = (size_t)(p->cfg ? p->cfg->max_concurrent : 16);
    return cap < 8 ? 8 : cap;
}

static void
defer(poller *p, feed_rt *f)
{
    if (f->deferred) return;
    f->deferred = true;
    f->next_deferred = NULL;
    if (p->deferred_tail) p->deferred_tail->next_deferred = f;
    else p->deferred_head = f;
    p->deferred_tail = f;
}

static void
undefer(poller *p, feed_rt *f)
{
    if (!f->deferred) return;
    for (feed_rt **q = &p->deferred_head, *prev = NULL; *q;
         prev = *q, q = &(*q)->next_deferred) {
        if (*q == f) {
            *q = f->next_deferred;
            if (p->deferred_tail == f) p->deferred_tail = prev;
            break;
        }
    }
    f->deferred = false;
}

static void
kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    poller *p = w->data;
    while (p->deferred_head && p->busy < busy_cap(p) && !p->stopped) {
        feed_rt *f = p->deferred_head;
        p->deferred_head = f->next_deferred;
        if (!p->deferred_head) p->deferred_tail = NULL;
        f->deferred = false;
        poll_now(f);
    }
}

/* A slot was freed: the oldest waiting polls start, from the loop. */
static void
start_deferred(poller *p)
{
    if (p->deferred_head && !ev_is_active(&p->kick)) {
        ev_timer_set(&p->kick, 0.0, 0.0);
        ev_timer_start(p->loop, &p->kick);
    }
}

static void
log_outcome(const feed_rt *f, const poll_outcome *o, const pipeline_result *r)
{
    char size[32], status[16];
    fetch_format_size(size, sizeof size, o->bytes);
    /* a local file has no HTTP status: say what happened to it */
    if (o->status) snprintf(status, sizeof status, "%d", o->status);
    else snprintf(status, sizeof status, "%s", o->not_modified ? "file" : "read");
    if (!r->committed) {
        log_err("feed %s: not saved: %s; retry in %" PRId64 "s", label(f),
                r->error ? r->error : "unknown error",
                f->st.next_poll - now_wall());
    } else if (o->ok && o->not_modified) {
        log_info("feed %s: %s not modified, %" PRId64 " ms", label(f), status,
                 o->elapsed_ms);
    } else if (o->ok) {
        /* a document that needed repair says so: it may have lost text */
        log_info("feed %s: %s, %s, %zu items, %zu new, %zu alerts, %" PRId64
                 " ms%s%s",
                 label(f), status, size, r->items, r->new_items, r->alerts,
                 o->elapsed_ms, r->parse_note ? "; not well-formed: " : "",
                 r->parse_note ? r->parse_note : "");
    } else if (f->st.disabled) {
        log_err("feed %s: %s: disabled (%s)", label(f), o->error,
                f->st.disabled_why ? f->st.disabled_why : "");
    } else {
        /* The delay as decided (counted from the poll's start, as the
         * next poll is), not what is left of it now: the figure a
         * Retry-After asked for, or the cap, reads as such. */
        log_warn("feed %s: %s; retry in %" PRId64 "s (failure %" PRIu32 ")",
                 label(f), o->error ? o->error : "failed",
                 f->next_delay_ms / 1000, f->st.failures);
    }
}

static void
adopt(char **dst, char **src)
{
    free(*dst);
    *dst = *src;
    *src = NULL;
}

/* The pipeline committed (or failed to commit) this poll. */
static void
committed_cb(void *arg, const pipeline_result *r)
{
    feed_rt *f = arg;
    poller *p = f->p;
    poll_outcome *o = &f->out;
    p->busy--;
    p->polls++;
    if (!o->ok || !r->committed) p->polls_failed++;
    if (f->removed) {
        feed_state_clear(&o->next);
        free(o->error);
        rt_free(f);
        start_deferred(p);
        return;
    }
    int64_t delay;
    if (r->committed) {
        /* The state is safe on disk: only now is it ours. */
        adopt(&f->st.url, &o->next.url);
        adopt(&f->st.etag, &o->next.etag);
        adopt(&f->st.last_modified, &o->next.last_modified);
        adopt(&f->st.disabled_why, &o->next.disabled_why);
        f->st.failures = o->next.failures;
        f->st.last_poll = o->next.last_poll;
        f->st.status = o->next.status;
        f->st.disabled = o->next.disabled;
        f->st.next_poll = o->next.next_poll;
        delay = f->next_delay_ms - (now_ms() - f->started_ms);
    } else {
        /* Nothing was kept, not even the validators: the next poll fetches
         * the whole feed again. A local failure (disk full, I/O error) is
         * no reason to poll later than this poll planned: backing off up
         * to a day would leave the feed unpolled long after the disk was
         * fixed, while its items scroll out of it. Sooner, with backoff,
         * when the planned interval is long. */
        delay = backoff_fail(&f->bo, FAILURE_BASE_S, BACKOFF_CAP_S, -1,
                             next_rand(p), NULL) * 1000;
        int64_t planned = f->next_delay_ms - (now_ms() - f->started_ms);
        if (planned < delay) delay = planned > 0 ? planned : 0;
        f->st.next_poll = now_wall() + delay / 1000;
    }
    feed_state_clear(&o->next);
    f->phase = PH_IDLE;
    log_outcome(f, o, r);
    free(o->error);
    o->error = NULL;
    if (f->resched && !p->once && !f->st.disabled) {
        /* a reload changed it during this poll: now that the poll's
         * outcome is known, as it would have been then */
        delay = resched(f, f->resched, delay);
    }
    f->resched = 0;
    if (p->once) p->once_done++;
    else schedule(f, delay);
    start_deferred(p);
}

static char *
dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* The error of a 429 or 503 that came with a Retry-After. fetch says the
 * server's figure ("429, retry in 31536000s"), which the log line's own
 * "retry in" contradicts whenever the cap or our backoff decides: say
 * instead which of them the one figure logged (and the next poll shown by
 * `vigie status`) comes from. */
static void
say_retry_after(poll_outcome *o, backoff_basis why, int64_t cap_s)
{
    buf b = {0};
    buf_printf(&b, "HTTP %d", o->status);
    if (why == BACKOFF_RETRY_AFTER) {
        buf_printf(&b, ", Retry-After honoured");
    } else if (why == BACKOFF_RETRY_AFTER_CAPPED) {
        char cap[32];
        duration_format(cap_s * 1000, cap, sizeof cap);
        buf_printf(&b, ", Retry-After capped at %s", cap);
    }
    free(o->error);
    o->error = buf_detach(&b);
}

/* Fills o->next from the current state and what this poll learned. */
static void
plan_next(feed_rt *f, poll_outcome *o, int64_t retry_after, bool gone)
{
    poller *p = f->p;
    feed_state *n = &o->next;
    n->url = dup_or_null(f->st.url);
    n->etag = dup_or_null(f->st.etag);
    n->last_modified = dup_or_null(f->st.last_modified);
    n->last_poll = o->polled_at;
    n->status = o->status;
    n->disabled = false;
    /* health: judged on this poll, queued with its commit */
    const config *c = p->cfg;
    int64_t alert_after = c->alert_after == DURATION_FOREVER ? -1 : c->alert_after / 1000;
    int64_t silent_after =
        f->cf->silent_after == DURATION_FOREVER || f->cf->silent_after <= 0
            ? -1
            : f->cf->silent_after / 1000;
    o->health = health_check(&f->health, o->ok, o->polled_at, alert_after,
                             silent_after, &o->health_since, &o->health_ident);
    o->health_st = &f->health;
    int64_t delay_s;
    if (o->ok) {
        backoff_reset(&f->bo);
        n->failures = 0;
        f->next_delay_ms = poller_jitter(f->cf->interval, next_rand(p));
        n->next_poll = o->polled_at + f->next_delay_ms / 1000;
        return;
    } else if (gone) {
        n->failures = f->st.failures + 1;
        n->disabled = true;
        n->disabled_why = xstrdup("410 Gone: fix or remove the feed, then reload");
        delay_s = 0;
    } else {
        int64_t base = poller_retry_base(f->cf->interval);
        backoff_basis why;
        f->bo.failures = f->st.failures;
        delay_s = backoff_fail(&f->bo, base, BACKOFF_CAP_S, retry_after,
                               next_rand(p), &why);
        n->failures = f->bo.failures;
        if (retry_after >= 0)
            say_retry_after(o, why, base > BACKOFF_CAP_S ? base : BACKOFF_CAP_S);
    }
    f->next_delay_ms = delay_s * 1000;
    n->next_poll = o->polled_at + delay_s;
}

static void
hand_over(feed_rt *f)
{
    poller *p = f->p;
    f->phase = PH_COMMITTING;
    f->out.elapsed_ms = now_ms() - f->started_ms;
    pipeline_submit(p->pl, &f->out, committed_cb, f);
}

static void
parse_into(feed_rt *f, poll_outcome *o, const char *data, size_t len,
           const char *base, const char *charset)
{
    feed_options opt = {.base_url = base, .charset = charset};
    opt.limits.max_input = (size_t)f->p->cfg->max_body;
    o->parsed = xmalloc(sizeof *o->parsed);
    feed_parse(data, len, &opt, o->parsed);
    if (!feed_is_feed(o->parsed)) {
        o->ok = false;
        free(o->error);
        o->error = xstrdup(o->parsed->nerrors ? o->parsed->errors[0] : "not a feed");
    }
}

/* The fetch and (for a document) its parse are done: plan the next poll,
 * keep the response's validators and moved URL with the outcome, commit. */
static void
fetch_settled(feed_rt *f)
{
    poll_outcome *o = &f->out;
    fetched *x = &f->fx;
    plan_next(f, o, x->retry_after, x->gone);
    if (x->ok) {
        /* validators of this response go to the store with its items */
        if (x->document) {
            adopt(&o->next.etag, &x->etag);
            adopt(&o->next.last_modified, &x->last_modified);
        }
        if (x->permanent_url &&
            (!f->st.url || strcmp(x->permanent_url, f->st.url))) {
            char *shown = url_redact(x->permanent_url); /* no password */
            log_notice("feed %s: moved permanently to %s", label(f), shown);
            free(shown);
            adopt(&o->next.url, &x->permanent_url);
        }
    }
    fetched_clear(x);
    hand_over(f);
}

static void
parsed_cb(feed *parsed, store_item_key *keys, void *arg)
{
    feed_rt *f = arg;
    poll_outcome *o = &f->out;
    f->parsing = NULL;
    f->phase = PH_FETCHING;
    o->parsed = parsed;
    o->keys = keys;
    if (!feed_is_feed(parsed)) {
        o->ok = false;
        free(o->error);
        o->error = xstrdup(parsed->nerrors ? parsed->errors[0] : "not a feed");
    }
    fetch_settled(f);
}

/* A transfer cut by our own stop (evcurl_abort_all once the stop's grace
 * is over) says nothing about the feed: it is not a failure and nothing of
 * it is committed, so the feed keeps the state of its last real poll (its
 * failure count, its backoff, its health) and is polled again after the
 * next start as any feed whose poll is due. */
static void
poll_cut(feed_rt *f)
{
    poller *p = f->p;
    log_info("feed %s: poll cut by shutdown; not counted as a failure",
             label(f));
    free(f->out.error);
    f->out.error = NULL;
    f->phase = PH_IDLE;
    p->busy--;
    /* (only when not stopping: an abort that was not ours) */
    schedule(f, poller_jitter(f->cf->interval, next_rand(p)));
    start_deferred(p);
}

static void
fetch_done(fetch_result *res, void *arg)
{
    feed_rt *f = arg;
    poll_outcome *o = &f->out;
    f->inflight = NULL;
    if (res->outcome == FETCH_ABORTED) {
        poll_cut(f);
        return;
    }
    o->status = (int)res->status;
    o->bytes = res->bytes;
    o->ok = res->ok;
    o->not_modified = res->outcome == FETCH_NOT_MODIFIED;
    if (res->error) adopt(&o->error, &res->error);
    fetched *x = &f->fx;
    fetched_clear(x);
    x->ok = res->ok;
    x->document = res->outcome == FETCH_OK;
    x->gone = res->outcome == FETCH_GONE;
    x->retry_after = res->retry_after;
    if (res->ok) {
        adopt(&x->etag, &res->etag);
        adopt(&x->last_modified, &res->last_modified);
        adopt(&x->permanent_url, &res->permanent_url);
    }
    if (res->outcome == FETCH_OK) {
        /* the loop goes on while the document is parsed */
        f->phase = PH_PARSING;
        f->parsing = parsepool_submit(f->p->pp, &res->body, res->final_url,
                                      res->charset,
                                      (size_t)f->p->cfg->max_body, parsed_cb, f);
        return;
    }
    fetch_settled(f);
}

static void
read_local(feed_rt *f)
{
    poll_outcome *o = &f->out;
    const char *path = f->cf->path;
    struct stat st;
    char stamp[64] = "";
    if (stat(path, &st) == 0)
        snprintf(stamp, sizeof stamp, "%lld-%lld", (long long)st.st_mtime,
                 (long long)st.st_size);
    if (*stamp && f->st.etag && !strcmp(stamp, f->st.etag)) {
        /* unchanged since it was last read: as good as a 304 */
        o->ok = o->not_modified = true;
        plan_next(f, o, -1, false);
        hand_over(f);
        return;
    }
    buf b = {0};
    if (read_file(path, (size_t)f->p->cfg->max_body, &b) < 0) {
        buf e = {0};
        buf_printf(&e, "%s: %s", path,
                   errno == EFBIG ? "file over max_body" : strerror(errno));
        o->error = buf_detach(&e);
        plan_next(f, o, -1, false);
    } else {
        o->ok = true;
        o->bytes = b.len;
        parse_into(f, o, b.p ? b.p : "", b.len, NULL, NULL);
        plan_next(f, o, -1, false);
        if (o->ok) {
            free(o->next.etag);
            o->next.etag = *stamp ? xstrdup(stamp) : NULL;
        }
    }
    buf_free(&b);
    hand_over(f);
}

static void
poll_now(feed_rt *f)
{
    poller *p = f->p;
    if (p->stopped || f->phase != PH_IDLE || f->st.disabled) return;
    if (p->busy >= busy_cap(p)) {
        defer(p, f);
        return;
    }
    memset(&f->out, 0, sizeof f->out);
    f->out.cf = f->cf;
    f->out.polled_at = now_wall();
    f->started_ms = now_ms();
    f->phase = PH_FETCHING;
    p->busy++;
    if (f->cf->path) {
        read_local(f);
        return;
    }
    const config *c = p->cfg;
    /* The configured headers are for the feed's own origin. A feed moved
     * elsewhere (a 301 taken before it had headers, or by an older vigie)
     * is polled there without them. */
    bool home = !f->st.url || !f->cf->url || url_same_origin(f->st.url, f->cf->url);
    fetch_request req = {
        .url = f->st.url ? f->st.url : f->cf->url,
        .etag = f->st.etag,
        .last_modified = f->st.last_modified,
        .headers = home ? (const char *const *)f->headers : NULL,
        .user_agent = c->user_agent,
        .connect_timeout_s = (int)(c->connect_timeout / 1000),
        .timeout_s = (int)((f->cf->timeout ? f->cf->timeout : c->timeout) / 1000),
        .max_body = (size_t)c->max_body,
        .allow_private = f->cf->allow_private_networks,
    };
    f->inflight = fetch_start(p->pool, &req, fetch_done, f);
}

/* ---- lifecycle ---- */

poller *
poller_new(struct ev_loop *loop, evcurl *ec, pipeline *pl)
{
    poller *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->pool = evcurl_pool_new(ec, 4);
    p->soon_ms = SOON_MS;
    p->pp = parsepool_new(loop);
    p->pl = pl;
    ev_timer_init(&p->kick, kick_cb, 0.0, 0.0);
    p->kick.data = p;
    p->rng = (uint64_t)now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
    if (!p->rng) p->rng = 1;
    return p;
}

static feed_rt *
rt_new(poller *p, const config_feed *cf)
{
    feed_rt *f = xcalloc(1, sizeof *f);
    f->p = p;
    f->key = xstrdup(cf->key);
    f->cf = cf;
    ev_timer_init(&f->timer, timer_cb, 0.0, 0.0);
    f->timer.data = f;
    f->health.last_new = now_wall();
    if (pipeline_load_state(p->pl, f->key, &f->st) == 0) {
        f->bo.failures = f->st.failures;
        if (f->st.failures) {
            f->health.fail_since = f->st.fail_since ? f->st.fail_since : f->st.last_poll;
            f->health.last_fail = f->st.last_poll;
        }
        /* a URL moved by a 301 in an earlier run, unless the config now
         * names another one */
        if (f->st.url && cf->url && !strcmp(f->st.url, cf->url)) {
            free(f->st.url);
            f->st.url = NULL;
        }
    }
    build_headers(f);
    return f;
}

/* When a feed (new, or from an earlier run) polls first. */
static int64_t
first_delay(poller *p, feed_rt *f)
{
    /* Spreading is politeness towards servers; a local file is read at
     * once (the offline demo shows its alerts within seconds). */
    if (f->cf->path) return 0;
    if (f->st.next_poll > 0) {
        int64_t wait_ms = (f->st.next_poll - now_wall()) * 1000;
        if (wait_ms > 0 && wait_ms <= f->cf->interval + BACKOFF_CAP_S * 1000LL)
            return wait_ms;
        if (wait_ms <= 0 && f->st.last_poll > 0)
            return poller_first_delay(f->cf->interval / 10 + 1, next_rand(p));
    }
    return poller_first_delay(f->cf->interval, next_rand(p));
}

/* ---- reload ---- */

static bool
str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

static bool
headers_differ(const config_headers *a, const config_headers *b)
{
    if (a->n != b->n) return true;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) ||
            strcmp(a->v[i].value, b->v[i].value))
            return true;
    return false;
}

/* What changed between a feed's old settings (o, in oc) and its new ones:
 * what poll_now and parsing read. Its name, scripts or silence alert are
 * not the poller's business. */
static unsigned
settings_changed(const config *oc, const config_feed *o, const config *nc,
                 const config_feed *n)
{
    unsigned ch = 0;
    if (o->interval != n->interval) ch |= POLLER_CH_INTERVAL;
    if (str_differs(o->url, n->url) || str_differs(o->path, n->path))
        ch |= POLLER_CH_URL;
    if (headers_differ(&o->headers, &n->headers)) ch |= POLLER_CH_HEADERS;
    if ((o->timeout ? o->timeout : oc->timeout) !=
            (n->timeout ? n->timeout : nc->timeout) ||
        oc->connect_timeout != nc->connect_timeout)
        ch |= POLLER_CH_TIMEOUT;
    if (oc->max_body != nc->max_body) ch |= POLLER_CH_MAX_BODY;
    if (o->allow_private_networks != n->allow_private_networks)
        ch |= POLLER_CH_PRIVATE;
    if (str_differs(oc->user_agent, nc->user_agent)) ch |= POLLER_CH_USER_AGENT;
    return ch;
}

static void
changes_text(unsigned ch, char *out, size_t n)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {POLLER_CH_INTERVAL, "interval"},
        {POLLER_CH_URL, "url"},
        {POLLER_CH_HEADERS, "headers"},
        {POLLER_CH_TIMEOUT, "timeout"},
        {POLLER_CH_MAX_BODY, "max_body"},
        {POLLER_CH_PRIVATE, "allow_private_networks"},
        {POLLER_CH_USER_AGENT, "user_agent"},
    };
    buf b = {0};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (ch & names[i].bit)
            buf_printf(&b, "%s%s", b.len ? ", " : "", names[i].name);
    snprintf(out, n, "%s", b.len ? b.p : "settings");
    buf_free(&b);
}

/* Whole seconds, rounded up: "in 0s" would read as "now". */
static void
format_delay(int64_t ms, char *out, size_t n)
{
    duration_format((ms + 999) / 1000 * 1000, out, n);
}

static bool
wants_soon(const feed_rt *f, unsigned changed)
{
    return (changed & POLLER_CH_FETCH) && (f->st.failures || !f->st.last_poll);
}

/* The delay of the next poll of a feed the reload changed (current_ms: as
 * planned before), with its one log line: info when it moved, debug when
 * it stays (a global change touches every feed). */
static int64_t
resched(feed_rt *f, unsigned changed, int64_t current_ms)
{
    poller *p = f->p;
    poller_resched r = {
        .changed = changed,
        .current_ms = current_ms,
        .interval_ms = f->cf->interval,
        .since_poll_ms =
            f->st.last_poll ? (now_wall() - f->st.last_poll) * 1000 : -1,
        .failures = f->st.failures,
        .server_asked = f->st.status == 429 || f->st.status == 503,
        .soon_ms = p->soon_ms,
    };
    int64_t d = poller_resched_delay(&r, next_rand(p));
    char what[160], in[32], was[32];
    changes_text(changed, what, sizeof what);
    format_delay(d, in, sizeof in);
    format_delay(current_ms, was, sizeof was);
    if (d < current_ms)
        log_info("feed %s: %s changed: next poll in %s (was in %s)", label(f),
                 what, in, was);
    else
        log_debug("feed %s: %s changed: next poll unchanged, in %s", label(f),
                  what, in);
    return d;
}

/* A kept feed's new settings: its timer moves if they ask for it. */
static void
resched_kept(feed_rt *f, unsigned changed)
{
    poller *p = f->p;
    if (f->phase != PH_IDLE) {
        f->resched |= changed; /* decided when this poll is committed */
        return;
    }
    /* waiting for a free slot: due now whatever changed */
    if (f->deferred || !ev_is_active(&f->timer)) return;
    int64_t current = (int64_t)(ev_timer_remaining(p->loop, &f->timer) * 1000);
    int64_t d = resched(f, changed, current);
    if (d < current) schedule(f, d);
}

/* Feeds the reload drops: a new one may take the place of one of them. */
typedef struct dropped {
    feed_rt **v;
    size_t n;
} dropped;

static void
find_dropped(poller *p, const config *cfg, dropped *out)
{
    out->v = xcalloc(p->nfeeds + 1, sizeof *out->v);
    out->n = 0;
    for (size_t i = 0; i < p->nfeeds; i++)
        if (p->feeds[i]->cf && !config_find_feed(cfg, p->feeds[i]->key))
            out->v[out->n++] = p->feeds[i];
}

/* A URL key past its scheme and credentials: "host/path?query". */
static const char *
key_location(const char *key)
{
    const char *a = strstr(key, "://");
    if (!a) return key;
    a += 3;
    size_t n = strcspn(a, "/?#");
    const char *at = memrchr(a, '@', n);
    return at ? at + 1 : a;
}

/* The dropped feed a new one replaces, or NULL: the same name (its URL
 * or path fixed), or the same place but for the scheme or credentials
 * (http to https, a new password): the operator fixed a feed rather than
 * added one. */
static feed_rt *
replaced_feed(const dropped *d, const config_feed *cf)
{
    for (size_t i = 0; i < d->n; i++) {
        const config_feed *o = d->v[i]->cf;
        if ((cf->name && o->name && !strcmp(cf->name, o->name)) ||
            (cf->url && o->url &&
             !strcmp(key_location(cf->key), key_location(o->key))))
            return d->v[i];
    }
    return NULL;
}

/* Before anything moves: what changed for each feed of the new config
 * (ch[i], POLLER_CH_*), and so how many polls go "soon", which decides
 * how widely they are spread. */
static void
plan_reload(poller *p, const config *old, const config *cfg, unsigned *ch)
{
    dropped d;
    find_dropped(p, cfg, &d);
    size_t soon = 0;
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        const config_feed *cf = &cfg->feeds[i];
        feed_rt *f = find_rt(p, cf->key);
        if (f) {
            ch[i] = settings_changed(old, f->cf, cfg, cf);
            soon += wants_soon(f, ch[i]);
        } else if (replaced_feed(&d, cf)) {
            ch[i] = POLLER_CH_URL;
            soon++;
        }
    }
    free(d.v);
    p->soon_ms = poller_soon_window(soon);
}

void
poller_configure(poller *p, const config *cfg, bool once)
{
    const config *prev = p->cfg;
    unsigned *ch = xcalloc(cfg->nfeeds + 1, sizeof *ch);
    if (prev && !once) plan_reload(p, prev, cfg, ch);
    p->cfg = cfg;
    p->once = once;
    evcurl_pool_set_per_host(p->pool, (int)cfg->per_host);
    feed_rt **next = xcalloc(cfg->nfeeds + 1, sizeof *next);
    size_t n = 0;
    for (size_t i = 0; i < cfg->nfeeds; i++) {
        const config_feed *cf = &cfg->feeds[i];
        feed_rt *f = find_rt(p, cf->key);
        if (f) {
            f->cf = cf; /* same feed, new config: keep its state */
            build_headers(f);
            /* a reload gives a disabled feed one more try */
            if (f->st.disabled) {
                f->st.disabled = false;
                schedule(f, 0);
            } else if (ch[i]) {
                resched_kept(f, ch[i]);
            }
        } else {
            f = rt_new(p, cf);
            f->st.disabled = false;
            if (once) poll_now(f);
            else if (ch[i]) schedule(f, resched(f, ch[i], first_delay(p, f)));
            else schedule(f, first_delay(p, f));
        }
        next[n++] = f;
    }
    free(ch);
    qsort(next, n, sizeof *next, cmp_rt);
    /* feeds the new config no longer has */
    for (size_t i = 0; i < p->nfeeds; i++) {
        feed_rt *old = p->feeds[i];
        feed_rt **kept = n ? bsearch(&old, next, n, sizeof *next, cmp_rt) : NULL;
        if (kept && *kept == old) continue;
        ev_timer_stop(p->loop, &old->timer);
        undefer(p, old);
        if (old->inflight) {
            fetch_cancel(old->inflight);
            old->inflight = NULL;
            p->busy--;
            old->phase = PH_IDLE;
        }
        if (old->phase == PH_PARSING) {
            parsepool_cancel(p->pp, old->parsing);
            old->parsing = NULL;
            free(old->out.error);
            old->out.error = NULL;
            p->busy--;
            old->phase = PH_IDLE;
        }
        if (old->phase == PH_COMMITTING) {
            old->removed = true; /* freed when its commit returns */
            old->cf = NULL;
        } else {
            rt_free(old);
        }
    }
    free(p->feeds);
    p->feeds = next;
    p->nfeeds = n;
}

void
poller_stop(poller *p)
{
    p->stopped = true;
    ev_timer_stop(p->loop, &p->kick);
    for (size_t i = 0; i < p->nfeeds; i++) ev_timer_stop(p->loop, &p->feeds[i]->timer);
}

size_t
poller_busy(const poller *p)
{
    return p->busy;
}

bool
poller_done(const poller *p)
{
    return p->busy == 0 && p->once_done >= p->nfeeds;
}

void
poller_get_stats(const poller *p, poller_stats *st)
{
    memset(st, 0, sizeof *st);
    st->feeds = p->nfeeds;
    for (size_t i = 0; i < p->nfeeds; i++) {
        const feed_rt *f = p->feeds[i];
        if (f->st.disabled) st->disabled++;
        else if (f->st.failures) st->failing++;
    }
    st->polls = p->polls;
    st->polls_failed = p->polls_failed;
}

void
poller_free(poller *p)
{
    if (!p) return;
    /* first: no parse may call back into feeds freed below */
    parsepool_free(p->pp);
    ev_timer_stop(p->loop, &p->kick);
    for (size_t i = 0; i < p->nfeeds; i++) {
        feed_rt *f = p->feeds[i];
        ev_timer_stop(p->loop, &f->timer);
        if (f->inflight) fetch_cancel(f->inflight);
        /* the pipeline is gone (daemon.c frees it first): whatever a
         * commit in flight held is ours to free */
        if (f->out.parsed) {
            feed_free(f->out.parsed);
            free(f->out.parsed);
        }
        free(f->out.keys);
        feed_state_clear(&f->out.next);
        free(f->out.error);
        rt_free(f);
    }
    free(p->feeds);
    free(p);
}
