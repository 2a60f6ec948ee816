/* pipeline.c — see pipeline.h.
 *
 *   poll outcome ─► classify (store: new, seen, updated, duplicate, old)
 *                ─► rules (the worker process, new items only)
 *                ─► one transaction: every item marked seen, stored items,
 *                   alerts into the outbox, rule failures, feed state
 *                ─► delivery kicked
 *
 * Feeds with items go through classify → commit one at a time: a story
 * syndicated in two feeds must be classified after the first feed's commit
 * or it would alert twice. Outcomes without items (304s, failures) commit
 * their state at once. */
#include "pipeline.h"

#include <ev.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "date.h"
#include "delivery.h"
#include "jsonw.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "worker.h"

#define RERUN_MAX 1000 /* rule failures rerun per reload */

typedef struct job {
    pipeline *pl;
    poll_outcome *o; /* NULL for a rerun of rule failures */
    pipeline_done_fn done;
    void *arg;
    /* a snapshot of the feed's config: a reload may free it meanwhile */
    char *key, *url, *name, *label;
    char **scripts;
    size_t nscripts;
    /* the items the rules see */
    feed_item *items;
    const feed_item **olds; /* stored copies, for on_update (NULL: new) */
    size_t nitems, nnew;
    store_failure *failures; /* rerun: one per item */
    arena mem;
    struct job *next;
} job;

struct pipeline {
    struct ev_loop *loop;
    const config *cfg;
    store *st;
    outbox *ob;
    worker *wk;
    delivery *dl;
    ev_io wk_io;
    ev_timer wk_timer, maintain;
    job *queue, *queue_tail, *active;
    bool in_worker_cb; /* worker_step must not be re-entered from its callback */
    size_t waiting; /* submitted, done not yet called */
};

void
feed_state_clear(feed_state *s)
{
    free(s->url);
    free(s->etag);
    free(s->last_modified);
    free(s->disabled_why);
    memset(s, 0, sizeof *s);
}

/* ---- the worker on the loop ---- */

static void wk_rearm(pipeline *pl);

static void
wk_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    pipeline *pl = w->data;
    worker_step(pl->wk);
    wk_rearm(pl);
}

static void
wk_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    pipeline *pl = w->data;
    worker_step(pl->wk);
    wk_rearm(pl);
}

/* The worker's descriptor changes when it is restarted, and it only wants
 * to write while a job is being sent: look again after every step. */
static void
wk_rearm(pipeline *pl)
{
    ev_io_stop(pl->loop, &pl->wk_io);
    ev_timer_stop(pl->loop, &pl->wk_timer);
    int fd = worker_fd(pl->wk);
    if (fd >= 0) {
        int ev = EV_READ | (worker_wants_write(pl->wk) ? EV_WRITE : 0);
        ev_io_set(&pl->wk_io, fd, ev);
        ev_io_start(pl->loop, &pl->wk_io);
    }
    int64_t dl = worker_deadline(pl->wk);
    if (dl >= 0) {
        int64_t wait = dl - now_ms();
        ev_timer_set(&pl->wk_timer, wait > 0 ? (double)wait / 1000.0 : 0.0, 0.0);
        ev_timer_start(pl->loop, &pl->wk_timer);
    }
}

/* ---- feed state <-> store ---- */

int
pipeline_load_state(pipeline *pl, const char *key, feed_state *out)
{
    memset(out, 0, sizeof *out);
    arena mem = {0};
    store_feed_state st;
    char err[512];
    int rc = store_feed_get(pl->st, key, &st, &mem, err, sizeof err);
    if (rc < 0) log_err("%s", err);
    if (rc == 1) {
        out->url = st.url ? xstrdup(st.url) : NULL;
        out->etag = st.etag ? xstrdup(st.etag) : NULL;
        out->last_modified = st.last_modified ? xstrdup(st.last_modified) : NULL;
        out->failures = (uint32_t)st.failures;
        out->last_poll = st.last_poll / 1000;
        out->last_ok = st.last_ok / 1000;
        out->fail_since = st.fail_since / 1000;
        out->next_poll = st.next_poll / 1000;
        out->status = st.status;
        out->disabled = st.disabled;
        out->disabled_why = st.disabled_why ? xstrdup(st.disabled_why) : NULL;
    }
    arena_free(&mem);
    return rc == 1 ? 0 : -1;
}

static void
to_store_state(const poll_outcome *o, store_feed_state *st)
{
    const feed_state *n = &o->next;
    memset(st, 0, sizeof *st);
    st->etag = n->etag;
    st->last_modified = n->last_modified;
    st->status = o->status;
    st->error = o->ok ? NULL : o->error;
    st->failures = n->failures;
    st->last_poll = n->last_poll * 1000;
    st->next_poll = n->next_poll * 1000;
    st->disabled = n->disabled;
    st->disabled_why = n->disabled_why;
    st->parsed = o->ok && o->parsed && feed_is_feed(o->parsed);
}

/* ---- jobs ---- */

static job *
job_new(pipeline *pl, const config_feed *cf, const char *url)
{
    job *j = xcalloc(1, sizeof *j);
    j->pl = pl;
    j->key = arena_strdup(&j->mem, cf->key);
    j->url = arena_strdup(&j->mem, url ? url : cf->url ? cf->url : cf->path);
    j->name = cf->name ? arena_strdup(&j->mem, cf->name) : NULL;
    j->label = arena_strdup(&j->mem, cf->label);
    const config *c = pl->cfg;
    const size_t *idx = cf->nscripts ? cf->scripts : c->default_scripts;
    j->nscripts = cf->nscripts ? cf->nscripts : c->ndefault_scripts;
    j->scripts = arena_alloc(&j->mem, (j->nscripts + 1) * sizeof *j->scripts);
    for (size_t i = 0; i < j->nscripts; i++)
        j->scripts[i] = arena_strdup(&j->mem, c->scripts[idx[i]]);
    return j;
}

static void
job_free(job *j)
{
    arena_free(&j->mem);
    free(j);
}

static void
finish(job *j, const pipeline_result *r)
{
    pipeline *pl = j->pl;
    poll_outcome *o = j->o;
    if (o && o->parsed) {
        feed_free(o->parsed);
        free(o->parsed);
        o->parsed = NULL;
    }
    pl->waiting--;
    if (j->done) j->done(j->arg, r);
    job_free(j);
}

static bool
begin(pipeline *pl, job *j)
{
    const feed *f = j->o ? j->o->parsed : NULL;
    store_feed sf = {
        .key = j->key,
        .url = j->url,
        .name = j->name,
        .title = f && *f->title ? f->title : NULL,
        .link = f && *f->link ? f->link : NULL,
    };
    return store_begin(pl->st, &sf, now_wall() * 1000) == 0;
}

/* A health event: one log line, and one alert to the `health` webhook in
 * this transaction, identified by the feed and the moment the trouble
 * began so that it is never queued twice. */
static void
queue_health(pipeline *pl, job *j, health_event e, int64_t since, int64_t ident)
{
    if (e == HEALTH_NONE) return;
    char when[DATE_RFC3339_LEN], text[1024];
    date_format_rfc3339(since, when);
    const char *err = j->o && j->o->error ? j->o->error : "";
    switch (e) {
    case HEALTH_DOWN:
        snprintf(text, sizeof text, "feed %s has been failing since %s: %s",
                 j->label, when, err);
        break;
    case HEALTH_UP:
        snprintf(text, sizeof text, "feed %s works again (failing since %s)",
                 j->label, when);
        break;
    case HEALTH_SILENT:
        snprintf(text, sizeof text, "feed %s has brought no new item since %s",
                 j->label, when);
        break;
    default:
        snprintf(text, sizeof text, "feed %s has new items again (silent since %s)",
                 j->label, when);
        break;
    }
    log_write(e == HEALTH_DOWN || e == HEALTH_SILENT ? LOG_WARNING : LOG_NOTICE,
              "health: %s", text);
    const char *target = pl->cfg->health;
    if (!target) return;
    char id[600];
    snprintf(id, sizeof id, "vigie:health:%s:%s:%" PRId64, health_event_name(e),
             j->key, ident);
    /* the item is what the idempotency key hashes: only what names the
     * event goes in it, the details (which vary) go in the payload */
    char title[300];
    snprintf(title, sizeof title, "vigie health: %s %s", j->label,
             health_event_name(e));
    feed_item it = {.id = id, .title = title, .link = j->url, .summary = "",
                    .content = "", .author = "", .published = DATE_NONE,
                    .updated = DATE_NONE};
    buf payload = {0};
    jsonw w;
    jsonw_init(&w, &payload);
    jsonw_obj_open(&w);
    jsonw_key(&w, "text");
    jsonw_str(&w, text);
    jsonw_key(&w, "event");
    jsonw_str(&w, health_event_name(e));
    jsonw_key(&w, "feed");
    jsonw_str(&w, j->label);
    jsonw_key(&w, "url");
    jsonw_str(&w, j->url);
    jsonw_key(&w, "since");
    jsonw_str(&w, when);
    jsonw_key(&w, "error");
    jsonw_str(&w, *err ? err : NULL);
    jsonw_obj_close(&w);
    store_enqueue_alert(pl->st, &it, "health", target, payload.p, payload.len);
    buf_free(&payload);
}

/* Commits a poll that has nothing for the rules. */
static void
commit_plain(pipeline *pl, job *j, size_t items)
{
    pipeline_result r = {.items = items};
    char err[512] = "";
    store_feed_state st;
    to_store_state(j->o, &st);
    bool ok = begin(pl, j);
    const feed *f = j->o->parsed;
    for (size_t i = 0; ok && f && i < f->nitems; i++)
        ok = store_mark_seen(pl->st, &f->items[i]) == 0;
    queue_health(pl, j, j->o->health, j->o->health_since, j->o->health_ident);
    int64_t since = 0;
    if (j->nnew && j->o->health_st) { /* new items, no scripts to run */
        health_event e = health_new_items(j->o->health_st, now_wall(), &since);
        queue_health(pl, j, e, since, since);
    }
    r.committed = store_commit(pl->st, &st, err, sizeof err) == 0;
    if (!r.committed) r.error = err;
    finish(j, &r);
}

/* Applies what the rules asked for, inside the open transaction. Returns
 * the number of alerts queued. */
static size_t
apply_actions(pipeline *pl, job *j, const action_list *al, bool *failed)
{
    size_t alerts = 0;
    for (size_t i = 0; i < al->len; i++) {
        const action *a = &al->v[i];
        const feed_item *it =
            a->item >= 0 && (size_t)a->item < j->nitems ? &j->items[a->item] : NULL;
        switch (a->kind) {
        case ACTION_STORE:
            if (it) store_put_item(pl->st, it, a->tags, a->ntags);
            break;
        case ACTION_ALERT:
            store_enqueue_alert(pl->st, it, a->script, a->target, a->payload,
                                a->payload_len);
            alerts++;
            break;
        case ACTION_LOG:
            log_write(a->level, "rule %s: %s%s%s", a->script,
                      it ? it->id : "", it ? ": " : "", a->message);
            break;
        case ACTION_ERROR:
            log_err("rule %s failed%s%s: %s", a->script, it ? " on item " : "",
                    it ? it->id : "", a->message);
            if (it) {
                store_add_rule_failure(pl->st, it, a->script, a->message);
                if (failed) failed[a->item] = true;
            }
            break;
        }
    }
    return alerts;
}

/* One log line per alert, once it is safely in the outbox. */
static void
log_alerts(const job *j, const action_list *al)
{
    for (size_t i = 0; i < al->len; i++) {
        const action *a = &al->v[i];
        if (a->kind != ACTION_ALERT) continue;
        const feed_item *it =
            a->item >= 0 && (size_t)a->item < j->nitems ? &j->items[a->item] : NULL;
        if (it && *it->link)
            log_notice("alert to %s from %s: %s <%s>", a->target, a->script,
                       it->title, it->link);
        else
            log_notice("alert to %s from %s: %s", a->target, a->script,
                       it ? it->title : "(no item)");
    }
}

static void start_next(pipeline *pl);

static void
rules_done(void *ud, worker_result *r)
{
    job *j = ud;
    pipeline *pl = j->pl;
    pl->active = NULL;
    pl->in_worker_cb = true;
    pipeline_result res = {.items = j->o ? j->o->parsed->nitems : j->nitems,
                           .new_items = j->o ? j->nnew : 0};
    char err[512] = "";
    bool ok = begin(pl, j);
    if (j->o) {
        const feed *f = j->o->parsed;
        for (size_t i = 0; ok && i < f->nitems; i++)
            ok = store_mark_seen(pl->st, &f->items[i]) == 0;
    }
    bool *failed = xcalloc(j->nitems + 1, sizeof *failed);
    res.alerts = apply_actions(pl, j, r->actions, failed);
    for (size_t i = 0; j->failures && i < j->nitems; i++)
        if (!failed[i])
            store_clear_rule_failure(pl->st, j->items[i].id, j->failures[i].script);
    free(failed);
    if (j->o) {
        queue_health(pl, j, j->o->health, j->o->health_since, j->o->health_ident);
        int64_t since = 0;
        if (j->nnew && j->o->health_st) {
            health_event e = health_new_items(j->o->health_st, now_wall(), &since);
            queue_health(pl, j, e, since, since);
        }
        store_feed_state st;
        to_store_state(j->o, &st);
        res.committed = store_commit(pl->st, &st, err, sizeof err) == 0;
    } else {
        res.committed = store_commit(pl->st, NULL, err, sizeof err) == 0;
    }
    if (res.committed) {
        log_alerts(j, r->actions);
        if (res.alerts) delivery_kick(pl->dl);
    } else {
        res.error = err;
        res.alerts = 0;
    }
    if (!j->o && res.committed)
        log_notice("rules rerun on %zu items of %s after a reload", j->nitems,
                   j->label);
    finish(j, &res);
    start_next(pl);
    pl->in_worker_cb = false;
}

static void
rule_feed_for(const job *j, rule_feed *rf)
{
    static const feed empty = {.title = "", .link = "", .subtitle = "",
                               .language = "", .updated = DATE_NONE};
    rule_feed_from(rf, j->o ? j->o->parsed : &empty, j->url, j->name);
}

/* Classifies the next queued feed and hands its new items to the worker. */
static void
start_next(pipeline *pl)
{
    while (!pl->active && pl->queue) {
        job *j = pl->queue;
        pl->queue = j->next;
        if (!pl->queue) pl->queue_tail = NULL;
        if (j->o) {
            const feed *f = j->o->parsed;
            store_verdict *v = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *v);
            char err[512];
            if (store_classify(pl->st, j->key, f->items, f->nitems,
                               now_wall() * 1000, v, err, sizeof err) < 0) {
                pipeline_result r = {.items = f->nitems, .error = err};
                finish(j, &r);
                continue;
            }
            j->items = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->items);
            j->olds = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->olds);
            for (size_t i = 0; i < f->nitems; i++) {
                const feed_item *old = NULL;
                if (v[i] == STORE_UPDATED) {
                    /* content changed under the same id: on_update(item,
                     * old) decides, if a script defines it and the item was
                     * stored (else there is no old copy to show) */
                    char *js = store_item_json(pl->st, j->key, f->items[i].id);
                    feed_item *o = js ? arena_alloc(&j->mem, sizeof *o) : NULL;
                    if (o && store_item_from_json(js, o, &j->mem) == 0) old = o;
                    free(js);
                    if (!old) continue;
                } else if (v[i] != STORE_NEW) {
                    continue;
                }
                j->olds[j->nitems] = old;
                j->items[j->nitems++] = f->items[i];
                if (!old) j->nnew++;
            }
            if (!j->nitems || !j->nscripts) {
                commit_plain(pl, j, f->nitems);
                continue;
            }
        }
        rule_feed rf;
        rule_feed_for(j, &rf);
        pl->active = j;
        worker_submit_updates(pl->wk, &rf, j->items, j->olds, j->nitems,
                              (const char *const *)j->scripts, j->nscripts,
                              rules_done, j);
        /* from inside a job's callback, the step in progress goes on to
         * this job by itself */
        if (!pl->in_worker_cb) {
            worker_step(pl->wk);
            wk_rearm(pl);
        }
    }
}

void
pipeline_submit(pipeline *pl, poll_outcome *o, pipeline_done_fn done, void *arg)
{
    job *j = job_new(pl, o->cf, o->next.url);
    j->o = o;
    j->done = done;
    j->arg = arg;
    pl->waiting++;
    if (!o->parsed || !feed_is_feed(o->parsed) || !o->parsed->nitems) {
        commit_plain(pl, j, o->parsed ? o->parsed->nitems : 0);
        return;
    }
    if (pl->queue_tail) pl->queue_tail->next = j;
    else pl->queue = j;
    pl->queue_tail = j;
    start_next(pl);
}

/* After a reload: items whose rule failed run again, per feed and script. */
static void
rerun_failures(pipeline *pl)
{
    arena mem = {0};
    store_failure *fs = NULL;
    char err[512];
    long n = store_failures_load(pl->st, NULL, RERUN_MAX, &fs, &mem, err, sizeof err);
    if (n < 0) log_err("%s", err);
    for (long i = 0; i < n;) {
        const config_feed *cf = config_find_feed(pl->cfg, fs[i].feed_key);
        long k = i + 1;
        while (k < n && !strcmp(fs[k].feed_key, fs[i].feed_key) &&
               !strcmp(fs[k].script, fs[i].script))
            k++;
        if (cf) {
            job *j = job_new(pl, cf, NULL);
            j->nscripts = 1;
            j->scripts[0] = arena_strdup(&j->mem, fs[i].script);
            j->nitems = (size_t)(k - i);
            j->items = arena_alloc(&j->mem, j->nitems * sizeof *j->items);
            j->failures = arena_alloc(&j->mem, j->nitems * sizeof *j->failures);
            for (long m = i; m < k; m++) {
                /* copies: the failures' arena goes away below */
                feed_item *it = &j->items[m - i];
                buf js = {0};
                store_item_write_json(&js, fs[m].item);
                store_item_from_json(js.p, it, &j->mem);
                buf_free(&js);
                j->failures[m - i] = fs[m];
                j->failures[m - i].script = j->scripts[0];
            }
            pl->waiting++;
            if (pl->queue_tail) pl->queue_tail->next = j;
            else pl->queue = j;
            pl->queue_tail = j;
        }
        i = k;
    }
    arena_free(&mem);
    start_next(pl);
}

static void
maintain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    pipeline *pl = w->data;
    char err[512];
    if (store_maintain(pl->st, now_wall() * 1000, 1000, err, sizeof err) < 0)
        log_err("%s", err);
}

static void
apply_config(pipeline *pl, const config *cfg)
{
    pl->cfg = cfg;
    store_params sp;
    store_params_default(&sp);
    sp.catch_up = cfg->catch_up;
    sp.dedup = cfg->dedup;
    sp.dedup_window = cfg->dedup_window;
    sp.keep_seen = cfg->keep_seen;
    sp.keep_items = cfg->keep_items;
    store_set_params(pl->st, &sp);
    delivery_configure(pl->dl, cfg);
}

pipeline *
pipeline_new(struct ev_loop *loop, evcurl *ec, const config *cfg, char *err,
             size_t errlen)
{
    store *st = store_open(cfg->state_dir, STORE_CREATE, err, errlen);
    if (!st) return NULL;
    pipeline *pl = xcalloc(1, sizeof *pl);
    pl->loop = loop;
    pl->st = st;
    outbox_params op;
    outbox_params_default(&op);
    pl->ob = outbox_new(st, &op);
    long recovered = outbox_recover(pl->ob, now_wall() * 1000, err, errlen);
    if (recovered > 0)
        log_notice("outbox: %ld alerts interrupted by the last stop will be sent again",
                   recovered);
    worker_opts wo;
    worker_opts_default(&wo);
    wo.limits.call_ms = cfg->rule_timeout;
    wo.limits.mem = (size_t)cfg->rule_memory;
    pl->wk = worker_new(&wo);
    pl->dl = delivery_new(loop, ec, pl->ob);
    ev_io_init(&pl->wk_io, wk_io_cb, -1, EV_READ);
    pl->wk_io.data = pl;
    ev_timer_init(&pl->wk_timer, wk_timer_cb, 0.0, 0.0);
    pl->wk_timer.data = pl;
    ev_timer_init(&pl->maintain, maintain_cb, 60.0, 600.0);
    pl->maintain.data = pl;
    ev_timer_start(loop, &pl->maintain);
    apply_config(pl, cfg);
    rerun_failures(pl);
    delivery_kick(pl->dl);
    return pl;
}

void
pipeline_configure(pipeline *pl, const config *cfg)
{
    apply_config(pl, cfg);
    worker_reload(pl->wk);
    rerun_failures(pl);
    delivery_kick(pl->dl);
}

size_t
pipeline_busy(const pipeline *pl)
{
    return pl->waiting;
}

size_t
pipeline_sending(const pipeline *pl)
{
    return delivery_in_flight(pl->dl);
}

size_t
pipeline_delivered(const pipeline *pl)
{
    return delivery_delivered(pl->dl);
}

bool
pipeline_delivery_idle(const pipeline *pl)
{
    return delivery_idle(pl->dl);
}

void
pipeline_counts(pipeline *pl, size_t *pending_alerts, size_t *dead_alerts)
{
    outbox_counts c;
    char err[256];
    *pending_alerts = *dead_alerts = 0;
    if (outbox_count(pl->st, &c, err, sizeof err) == 0) {
        *pending_alerts = (size_t)(c.pending + c.sending);
        *dead_alerts = (size_t)c.dead;
    }
}

void
pipeline_stop(pipeline *pl)
{
    delivery_stop(pl->dl);
}

void
pipeline_free(pipeline *pl)
{
    if (!pl) return;
    ev_io_stop(pl->loop, &pl->wk_io);
    ev_timer_stop(pl->loop, &pl->wk_timer);
    ev_timer_stop(pl->loop, &pl->maintain);
    delivery_free(pl->dl);
    worker_free(pl->wk);
    while (pl->queue) {
        job *j = pl->queue;
        pl->queue = j->next;
        job_free(j);
    }
    if (pl->active) job_free(pl->active);
    outbox_free(pl->ob);
    store_close(pl->st);
    free(pl);
}
