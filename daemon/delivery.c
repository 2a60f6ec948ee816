/* delivery.c — see delivery.h. */
#include "delivery.h"

#include <ev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetch.h"
#include "log.h"
#include "url.h"
#include "webhook.h"

#define MAX_IN_FLIGHT 16
/* Rows retried by `vigie outbox` are noticed at once (it sends SIGUSR1),
 * or, when it may not signal the daemon (another user), at this look. */
#define POLL_EVERY_S (OUTBOX_LOOK_EVERY_MIN * 60.0)
#define RESPONSE_KEEP 512   /* bytes of an error answer kept for the log */
#define RESPONSE_CAP (64u << 10) /* bytes of an answer read; the rest ignored */
/* After the outbox refused a write (disk full, database locked...), the
 * next try; `vigie outbox retry` (SIGUSR1) or a new alert tries sooner. */
#define RECORD_AGAIN_MS 5000

typedef struct sending {
    delivery *d;
    outbox_msg msg;
    fetch *f;
    struct sending *next;
} sending;

/* Outcomes the outbox has not recorded yet: the transaction that was to
 * record them failed (disk full, database locked...). They are passed
 * again, first, with every later claim (outbox_report_next), so that an
 * alert whose 2xx is known here is never sent again (its lease may run
 * out meanwhile: the outcome is recorded before anything is claimed) and
 * the alerts queued behind it go as soon as the database takes writes,
 * not when the lease runs out. Each one came from a claimed row, and
 * nothing is claimed while any is held: at most MAX_IN_FLIGHT. */
typedef struct held {
    outbox_msg msg[MAX_IN_FLIGHT];
    outbox_outcome o[MAX_IN_FLIGHT];
    char *own[MAX_IN_FLIGHT][4]; /* o[i]'s strings */
    bool said[MAX_IN_FLIGHT];    /* its "not recorded yet" line is out */
    size_t n;
} held;

struct delivery {
    struct ev_loop *loop;
    evcurl_pool *pool;
    outbox *ob;
    const config *cfg;
    ev_timer wake;
    sending *inflight;
    size_t ninflight, delivered;
    held held;
    int64_t next_due; /* ms; INT64_MAX: nothing waiting */
    bool stopped, kicking;
    bool failing; /* the outbox's last transaction failed: said once */
};

/* Wall-clock epoch milliseconds, the outbox's unit. Whole seconds
 * (now_wall() * 1000) made a row due up to a second early: a
 * "Retry-After: 2" could be answered by a POST barely one second later
 * whenever something else woke the delivery up. */
static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
wake_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    delivery_kick(w->data);
}

delivery *
delivery_new(struct ev_loop *loop, evcurl *ec, outbox *ob)
{
    delivery *d = xcalloc(1, sizeof *d);
    d->loop = loop;
    d->pool = evcurl_pool_new(ec, 4);
    d->ob = ob;
    d->next_due = 0;
    ev_timer_init(&d->wake, wake_cb, 0.0, 0.0);
    d->wake.data = d;
    return d;
}

void
delivery_configure(delivery *d, const config *cfg)
{
    d->cfg = cfg;
    outbox_clear_targets(d->ob);
    for (size_t i = 0; i < cfg->nwebhooks; i++) {
        const config_webhook *w = &cfg->webhooks[i];
        outbox_set_target(d->ob, w->name, w->max_per_minute, w->give_up_after);
    }
    evcurl_pool_set_per_host(d->pool, (int)cfg->per_host);
}

static void
unlink_sending(delivery *d, sending *s)
{
    for (sending **p = &d->inflight; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            d->ninflight--;
            return;
        }
    }
}

static const char *
keep(char **slot, const char *s, size_t n)
{
    *slot = s ? xstrndup(s, n) : NULL;
    return *slot;
}

/* Takes the claimed message m (left empty) and a copy of its outcome, to
 * be recorded by the next kick. */
static void
hold(delivery *d, outbox_msg *m, const outbox_outcome *o)
{
    held *h = &d->held;
    if (h->n == MAX_IN_FLIGHT) { /* cannot happen: see held */
        log_err(OUTBOX_ALERT_FMT ": outcome lost; sent again after its lease",
                m->id, m->alert.key, m->alert.target);
        outbox_msg_clear(m);
        return;
    }
    size_t i = h->n++;
    h->msg[i] = *m;
    memset(m, 0, sizeof *m);
    outbox_outcome *c = &h->o[i];
    *c = *o;
    char **own = h->own[i];
    c->error = keep(&own[0], o->error, o->error ? strlen(o->error) : 0);
    c->retry_after = keep(&own[1], o->retry_after,
                          o->retry_after ? strlen(o->retry_after) : 0);
    c->response = keep(&own[2], o->response, o->response_len);
    c->location =
        keep(&own[3], o->location, o->location ? strlen(o->location) : 0);
    if (!c->at) c->at = wall_ms();
    h->said[i] = false;
}

static void
forget_held(delivery *d)
{
    held *h = &d->held;
    for (size_t i = 0; i < h->n; i++) {
        outbox_msg_clear(&h->msg[i]);
        for (size_t k = 0; k < ARRAY_LEN(h->own[i]); k++)
            free(h->own[i][k]);
    }
    h->n = 0;
}

/* "delivered (HTTP 200)", "HTTP 503", "Connection refused": the outcome
 * in a few words, for the lines about recording it. */
static void
outcome_words(const outbox_outcome *o, char *out, size_t outlen)
{
    if (o->status >= 200 && o->status <= 299)
        snprintf(out, outlen, "delivered (HTTP %d)", o->status);
    else if (o->status)
        snprintf(out, outlen, "HTTP %d", o->status);
    else
        snprintf(out, outlen, "%s", o->error ? o->error : "no answer");
}

/* The outbox refused the transaction: every held outcome is said once,
 * with why; a failure with nothing held (a claim), once until writes work
 * again. */
static void
not_recorded(delivery *d, const char *err)
{
    held *h = &d->held;
    bool said = false;
    for (size_t i = 0; i < h->n; i++) {
        if (h->said[i]) continue;
        const outbox_msg *m = &h->msg[i];
        char what[160];
        outcome_words(&h->o[i], what, sizeof what);
        log_warn(OUTBOX_ALERT_FMT ": %s, not recorded yet (%s); kept in "
                 "memory and recorded before any other alert is sent",
                 m->id, m->alert.key, m->alert.target, what, err);
        h->said[i] = said = true;
    }
    if (!said && !d->failing)
        log_err("outbox: %s; trying again in %ds", err, RECORD_AGAIN_MS / 1000);
    d->failing = true;
}

/* The outbox took the transaction: the held outcomes are in it. */
static void
recorded(delivery *d)
{
    if (d->failing) {
        if (d->held.n)
            log_notice("outbox: %zu outcome(s) kept in memory are recorded",
                       d->held.n);
        else
            log_notice("outbox: the database takes writes again");
        d->failing = false;
    }
    forget_held(d);
}

static void kick(delivery *d);

static void
sent_cb(fetch_result *res, void *arg)
{
    sending *s = arg;
    delivery *d = s->d;
    const webhook_alert *a = &s->msg.alert;
    char retry_after[32] = "";
    if (res->retry_after >= 0)
        snprintf(retry_after, sizeof retry_after, "%" PRId64, res->retry_after);
    size_t rlen = res->body.len < RESPONSE_KEEP ? res->body.len : RESPONSE_KEEP;
    /* a redirect is not followed: its Location, absolute, goes in the
     * dead letter */
    const config_webhook *w =
        res->location ? config_find_webhook(d->cfg, a->target) : NULL;
    arena ar = {0};
    outbox_outcome o = {
        .status = (int)res->status,
        .error = res->outcome == FETCH_NET_ERROR || res->outcome == FETCH_REFUSED ||
                         res->outcome == FETCH_TOO_BIG || res->outcome == FETCH_ABORTED
                     ? res->error
                     : NULL,
        .retry_after = *retry_after ? retry_after : NULL,
        .response = rlen ? res->body.p : NULL,
        .response_len = rlen,
        /* refused by policy (private address, bad URL): no retry helps */
        .permanent = res->outcome == FETCH_REFUSED,
        .location = res->location
                        ? url_resolve(&ar, w ? w->url : NULL, res->location)
                        : NULL,
    };
    /* Delivered is the outbox's rule: the receiver answered 2xx, whatever
     * happened to the rest of its answer. An abort at shutdown is not
     * reported at all (the lease runs out, the alert goes again), so it
     * is not counted either. */
    bool reported = res->outcome != FETCH_ABORTED;
    bool ok = reported && res->status >= 200 && res->status < 300;
    if (ok) {
        d->delivered++;
        log_info(OUTBOX_ALERT_FMT ": delivered (HTTP %ld, attempt %" PRId64
                                  ")",
                 s->msg.id, a->key, a->target, res->status, s->msg.attempt);
    } /* failures: the outbox logs them, with what happens next */
    s->f = NULL;
    unlink_sending(d, s);
    /* the outcome and the next claims: one transaction */
    if (reported) hold(d, &s->msg, &o);
    arena_free(&ar);
    outbox_msg_clear(&s->msg);
    free(s);
    kick(d);
}

/* Fails a claimed row without sending it (the kick in progress records
 * it; the outbox's dead-letter line says why). */
static void
fail_now(delivery *d, outbox_msg *m, const char *why)
{
    outbox_outcome o = {.error = why, .permanent = true};
    hold(d, m, &o);
}

/* Whether the header line "Name: value" has a name the configuration sets
 * for this webhook (names are case-insensitive). */
static bool
configured(const config_headers *h, const char *line)
{
    size_t n = strcspn(line, ":");
    for (size_t i = 0; i < h->n; i++)
        if (strlen(h->v[i].name) == n && !ascii_strncasecmp(h->v[i].name, line, n))
            return true;
    return false;
}

static void
send_one(delivery *d, outbox_msg *m)
{
    const config_webhook *w = config_find_webhook(d->cfg, m->alert.target);
    char err[512];
    if (!w) {
        snprintf(err, sizeof err,
                 "no webhook named \"%s\" in the configuration (add it, reload, "
                 "then: vigie outbox retry --all)", m->alert.target);
        fail_now(d, m, err);
        return;
    }
    webhook_request req = {0};
    int rc = 0;
    if (w->format == WEBHOOK_LUA) {
        char *body = NULL, *ctype = NULL;
        size_t blen = 0;
        rc = config_format_call(d->cfg, w, m->alert.payload, m->alert.item, &body,
                                &blen, &ctype, err, sizeof err);
        if (rc == 0) webhook_build_raw(&req, ctype, body, blen, w->secret, m->alert.key);
        free(body);
        free(ctype);
    } else {
        rc = webhook_build(&req, webhook_format_name(w->format), w->secret,
                           &m->alert, err, sizeof err);
    }
    if (rc < 0) {
        webhook_request_free(&req);
        fail_now(d, m, err);
        return;
    }
    /* headers: the request's own (Content-Type among them), then the
     * configured ones, which replace a request header of the same name
     * (a webhook's own Content-Type) rather than repeat it */
    const char *headers[WEBHOOK_MAX_HEADERS + CONFIG_MAX_HEADERS + 2];
    size_t nh = 0;
    for (size_t i = 0; i < req.nheaders; i++)
        if (!configured(&w->headers, req.headers[i]))
            headers[nh++] = req.headers[i];
    buf extra = {0};
    size_t *offs = xcalloc(w->headers.n + 1, sizeof *offs);
    for (size_t i = 0; i < w->headers.n; i++) {
        offs[i] = extra.len;
        buf_printf(&extra, "%s: %s", w->headers.v[i].name, w->headers.v[i].value);
        buf_addc(&extra, '\0');
    }
    for (size_t i = 0; i < w->headers.n; i++) headers[nh++] = extra.p + offs[i];
    headers[nh] = NULL;

    sending *s = xcalloc(1, sizeof *s);
    s->d = d;
    s->msg = *m;
    s->next = d->inflight;
    d->inflight = s;
    d->ninflight++;
    fetch_request fr = {
        .url = w->url,
        .headers = headers,
        .user_agent = d->cfg->user_agent,
        .connect_timeout_s = (int)(d->cfg->connect_timeout / 1000),
        .timeout_s = (int)(w->timeout / 1000),
        .max_body = RESPONSE_CAP,
        .allow_private = w->allow_private_networks,
        .post_body = req.body.p ? req.body.p : "",
        .post_len = req.body.len,
        .no_redirects = true,
        .keep_error_body = true,
        .cut_body = true, /* a long answer is still an answer */
    };
    s->f = fetch_start(d->pool, &fr, sent_cb, s);
    buf_free(&extra);
    free(offs);
    webhook_request_free(&req);
}

static void
arm(delivery *d, int64_t now)
{
    ev_timer_stop(d->loop, &d->wake);
    if (d->stopped) return;
    double after = POLL_EVERY_S;
    if (d->next_due != INT64_MAX && d->next_due - now < after * 1000)
        after = d->next_due > now ? (double)(d->next_due - now) / 1000.0 : 0.0;
    ev_timer_set(&d->wake, after, 0.0);
    ev_timer_start(d->loop, &d->wake);
}

/* Records the held outcomes and claims what is due (one transaction),
 * then sends it. Stopped, it only records. */
static void
kick(delivery *d)
{
    if (d->kicking) return; /* the loop below records what was held */
    if ((d->stopped || !d->cfg) && !d->held.n) return;
    d->kicking = true; /* fail_now holds synchronously: no recursion */
    int64_t now = wall_ms();
    for (;;) {
        bool claim = !d->stopped && d->cfg;
        outbox_msg msgs[MAX_IN_FLIGHT];
        /* the held outcomes are recorded before these claims, or neither
         * happens: the in-flight count bounds both together */
        size_t room = claim ? MAX_IN_FLIGHT - d->ninflight : 0;
        int64_t wake_at = INT64_MAX;
        char err[512];
        long n = outbox_report_next(d->ob, d->held.msg, d->held.o, d->held.n,
                                    now, msgs, room, &wake_at, err, sizeof err);
        if (n < 0) {
            not_recorded(d, err);
            d->next_due = now + RECORD_AGAIN_MS;
            break;
        }
        recorded(d);
        d->next_due = n > 0 ? now : wake_at;
        for (long i = 0; i < n; i++) send_one(d, &msgs[i]);
        if (d->held.n) continue; /* refused before sending: record it now */
        /* fewer than there was room for: nothing else is due */
        if (!claim || (size_t)n < room || d->ninflight >= MAX_IN_FLIGHT) break;
    }
    d->kicking = false;
    arm(d, now);
}

void
delivery_kick(delivery *d)
{
    kick(d);
}

bool
delivery_idle(const delivery *d, int64_t within_ms)
{
    return d->ninflight == 0 && d->held.n == 0 &&
           d->next_due > wall_ms() + within_ms;
}

size_t
delivery_in_flight(const delivery *d)
{
    return d->ninflight;
}

size_t
delivery_delivered(const delivery *d)
{
    return d->delivered;
}

void
delivery_stop(delivery *d)
{
    d->stopped = true;
    ev_timer_stop(d->loop, &d->wake);
}

/* At exit, a last try at the held outcomes; what still cannot be
 * recorded is said: those rows stay "sending", and the next start sends
 * them again (same key). */
static void
record_at_exit(delivery *d)
{
    held *h = &d->held;
    if (!h->n) return;
    outbox_msg none[1];
    int64_t wake_at;
    char err[512];
    if (outbox_report_next(d->ob, h->msg, h->o, h->n, wall_ms(), none, 0,
                           &wake_at, err, sizeof err) < 0) {
        for (size_t i = 0; i < h->n; i++) {
            char what[160];
            outcome_words(&h->o[i], what, sizeof what);
            log_err(OUTBOX_ALERT_FMT ": %s, not recorded (%s); the next start "
                    "sends it again (same key)",
                    h->msg[i].id, h->msg[i].alert.key, h->msg[i].alert.target,
                    what, err);
        }
    }
    forget_held(d);
}

void
delivery_free(delivery *d)
{
    if (!d) return;
    ev_timer_stop(d->loop, &d->wake);
    while (d->inflight) {
        sending *s = d->inflight;
        d->inflight = s->next;
        if (s->f) fetch_cancel(s->f);
        outbox_msg_clear(&s->msg);
        free(s);
    }
    record_at_exit(d);
    free(d);
}
