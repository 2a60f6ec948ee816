/* pipeline.c — see pipeline.h.
 *
 *   poll outcome ─► classify (store: new, seen, updated, duplicate, old)
 *                ─► rules (the worker process, new items only)
 *                ─► one transaction: every item marked seen, stored items,
 *                   alerts into the outbox, rule failures, feed state
 *                ─► delivery kicked
 *
 * Feeds are classified as they come (each reserves its new stories, so
 * the same story in two feeds in flight alerts once), their rules run in
 * the worker one job after another, and the finished feeds are committed
 * in groups: each feed's writes are its own savepoint, the group is one
 * transaction and one fsync. Only after the group commit are the feeds
 * done (the poller adopts their validators) and the alerts delivered. A
 * group closes when it is full, when nothing else is in flight, or
 * GROUP_WAIT_MS after its first feed. */
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
#include "statelock.h"
#include "store.h"
#include "url.h"
#include "worker.h"

#define RERUN_MAX 1000 /* rule failures rerun per reload */
#define GROUP_MAX 64       /* feeds per commit, at most */
#define GROUP_WAIT_MS 100  /* a finished feed waits at most this for others */
/* Upkeep: the database file is checked every minute (one stat), the
 * retention and index merges run every tenth time. */
#define UPKEEP_S 60.0
#define MAINTAIN_EVERY 10

typedef struct job {
    pipeline *pl;
    poll_outcome *o; /* NULL for a rerun of rule failures */
    pipeline_done_fn done;
    void *arg;
    /* a snapshot of the feed's config: a reload may free it meanwhile */
    char *key, *url, *name, *label;
    /* key and url as alerts and rules may see them: no password (url.h);
     * key and url themselves go to the database only */
    char *shown_key, *shown_url;
    char **scripts;
    size_t nscripts;
    /* the items the rules see */
    feed_item *items;
    const feed_item **olds; /* stored copies, for on_update (NULL: new) */
    /* the store's hashes of the document's items (o->parsed->items) and
     * of those the rules see (items), computed once by classify; NULL for
     * a rerun (the store hashes them) */
    store_item_key *doc_keys, *keys;
    size_t nitems, nnew;
    store_failure *failures; /* rerun: one per item */
    action_list actions;     /* what the rules asked for */
    bool ran;                /* went through the worker */
    arena mem;
    struct job *next;
} job;

struct pipeline {
    struct ev_loop *loop;
    const config *cfg;
    store *st;
    int lock; /* statelock.h: held while st is open */
    bool health_queued; /* a health alert in the group being written */
    outbox *ob;
    worker *wk;
    delivery *dl;
    ev_io wk_io;
    ev_timer wk_timer, maintain;
    unsigned upkeeps; /* maintain timer runs so far */
    pipeline_lost_fn lost; /* the database file is gone: stop */
    void *lost_arg;
    job *queue, *queue_tail; /* waiting to be classified */
    job *ready, *ready_tail; /* rules done: waiting for the group commit */
    size_t nready, in_worker;
    ev_timer flush_timer;
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
    action_list_init(&j->actions);
    j->pl = pl;
    j->key = arena_strdup(&j->mem, cf->key);
    j->url = arena_strdup(&j->mem, url ? url : cf->url ? cf->url : cf->path);
    j->shown_key = url_redact_in(&j->mem, j->key);
    j->shown_url = url_redact_in(&j->mem, j->url);
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
    action_list_free(&j->actions);
    arena_free(&j->mem);
    free(j);
}

static void
finish(job *j, const pipeline_result *r)
{
    pipeline *pl = j->pl;
    poll_outcome *o = j->o;
    pipeline_result res = *r;
    char note[300];
    if (o && o->parsed) {
        const feed *f = o->parsed;
        if (!f->wellformed && f->nerrors) {
            /* the last: vigie's own conclusion (an item left out, '&'s
                     escaped) comes after libxml2's details */
            snprintf(note, sizeof note, "%s%s", f->errors[f->nerrors - 1],
                     f->nerrors > 1 ? " (and more)" : "");
            res.parse_note = note;
        }
        feed_free(o->parsed);
        free(o->parsed);
        o->parsed = NULL;
    }
    if (o) {
        free(o->keys);
        o->keys = NULL;
    }
    pl->waiting--;
    if (j->done) j->done(j->arg, &res);
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
    /* the key as shown: the id goes out with the alert's item */
    snprintf(id, sizeof id, "vigie:health:%s:%s:%" PRId64, health_event_name(e),
             j->shown_key, ident);
    /* the item is what the idempotency key hashes: only what names the
     * event goes in it, the details (which vary) go in the payload */
    char title[300];
    snprintf(title, sizeof title, "vigie health: %s %s", j->label,
             health_event_name(e));
    feed_item it = {.id = id, .title = title, .link = j->shown_url,
                    .summary = "", .content = "", .author = "",
                    .published = DATE_NONE,
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
    jsonw_str(&w, j->shown_url);
    jsonw_key(&w, "since");
    jsonw_str(&w, when);
    jsonw_key(&w, "error");
    jsonw_str(&w, *err ? err : NULL);
    jsonw_obj_close(&w);
    store_enqueue_alert(pl->st, &it, "health", target, payload.p, payload.len);
    pl->health_queued = true; /* the delivery is told after the commit */
    buf_free(&payload);
}

/* Applies what the rules asked for, inside the feed's transaction. Returns
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
            if (it)
                store_put_item_key(pl->st, it, j->keys ? &j->keys[a->item] : NULL,
                                   a->tags, a->ntags);
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

/* One feed's writes, as a savepoint of the open group. */
static void
write_job(pipeline *pl, job *j, pipeline_result *res, char *err, size_t errlen)
{
    bool ok = begin(pl, j);
    const feed *f = j->o ? j->o->parsed : NULL;
    for (size_t i = 0; ok && f && i < f->nitems; i++)
        ok = store_mark_seen_key(pl->st, &f->items[i],
                                 j->doc_keys ? &j->doc_keys[i] : NULL) == 0;
    bool *failed = xcalloc(j->nitems + 1, sizeof *failed);
    res->alerts = apply_actions(pl, j, &j->actions, failed);
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
        res->committed = store_commit(pl->st, &st, err, errlen) == 0;
    } else {
        res->committed = store_commit(pl->st, NULL, err, errlen) == 0;
    }
}

/* Commits every finished feed in one transaction, then tells each. */
static void
flush(pipeline *pl)
{
    ev_timer_stop(pl->loop, &pl->flush_timer);
    if (!pl->ready) return;
    job *list = pl->ready;
    size_t n = pl->nready;
    pl->ready = pl->ready_tail = NULL;
    pl->nready = 0;
    pipeline_result *res = xcalloc(n, sizeof *res);
    char (*errs)[512] = xcalloc(n, sizeof *errs);
    char gerr[512] = "";
    /* only what ran rules on new items (or reran failures) needs an fsync */
    bool durable = false;
    for (job *j = list; j; j = j->next)
        if (j->nnew || !j->o || j->actions.len) durable = true;
    bool group = store_group_begin(pl->st, durable, gerr, sizeof gerr) == 0;
    size_t i = 0;
    for (job *j = list; j; j = j->next, i++) {
        res[i].items = j->o ? (j->o->parsed ? j->o->parsed->nitems : 0) : j->nitems;
        res[i].new_items = j->nnew;
        if (!group) continue;
        write_job(pl, j, &res[i], errs[i], sizeof errs[i]);
    }
    if (group && store_group_commit(pl->st, gerr, sizeof gerr) < 0) group = false;
    size_t alerts = 0;
    i = 0;
    for (job *j = list, *next; j; j = next, i++) {
        next = j->next;
        if (!group) {
            res[i].committed = false;
            res[i].error = gerr;
        } else if (!res[i].committed) {
            res[i].error = errs[i];
        }
        if (res[i].committed) {
            log_alerts(j, &j->actions);
            alerts += res[i].alerts;
            if (!j->o)
                log_notice("rules rerun on %zu items of %s after a reload",
                           j->nitems, j->label);
        } else {
            res[i].alerts = 0;
        }
        finish(j, &res[i]);
    }
    free(res);
    free(errs);
    /* the outbox is not looked at on a timer often: say there is work */
    if (alerts || (group && pl->health_queued)) delivery_kick(pl->dl);
    pl->health_queued = false;
}

static void
flush_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    flush(w->data);
}

static void
make_ready(pipeline *pl, job *j)
{
    j->next = NULL;
    if (pl->ready_tail) pl->ready_tail->next = j;
    else pl->ready = j;
    pl->ready_tail = j;
    pl->nready++;
}

static void pump(pipeline *pl);

/* A group closes when three quarters of the polls the poller keeps in
 * flight (max_concurrent, poller.c busy_cap) wait for it: the others go on
 * fetching, parsing and running rules while it commits. A fixed size above
 * what can ever be in flight at once would make every group wait for the
 * timer instead: 10,000 local feeds with max_concurrent = 32 took 31 s
 * rather than 16 s that way. */
static size_t
group_size(const pipeline *pl)
{
    size_t n = pl->cfg && pl->cfg->max_concurrent > 0
                   ? (size_t)pl->cfg->max_concurrent * 3 / 4
                   : GROUP_MAX;
    if (n < 1) n = 1;
    return n > GROUP_MAX ? GROUP_MAX : n;
}

static void
rules_done(void *ud, worker_result *r)
{
    job *j = ud;
    pipeline *pl = j->pl;
    pl->in_worker--;
    /* the actions are ours now */
    j->actions = *r->actions;
    action_list_init(r->actions);
    j->ran = true;
    make_ready(pl, j);
    pl->in_worker_cb = true;
    pump(pl);
    pl->in_worker_cb = false;
}

static void
rule_feed_for(const job *j, rule_feed *rf)
{
    static const feed empty = {.title = "", .link = "", .subtitle = "",
                               .language = "", .updated = DATE_NONE};
    rule_feed_from(rf, j->o ? j->o->parsed : &empty, j->shown_url, j->name);
}

/* Which of a fetched feed's items the rules see: the new ones, and the
 * updated ones a script may want through on_update. False when the
 * classification failed (the job is then finished, not committed). */
static bool
classify(pipeline *pl, job *j)
{
    const feed *f = j->o->parsed;
    store_verdict *v = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *v);
    char err[512];
    int64_t now = now_wall() * 1000;
    int rc;
    if (j->o->keys) { /* hashed on the parse thread */
        j->doc_keys = j->o->keys;
        rc = store_classify_given(pl->st, j->key, f->items, f->nitems, now, v,
                                  j->doc_keys, err, sizeof err);
    } else {
        j->doc_keys = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->doc_keys);
        rc = store_classify_keys(pl->st, j->key, f->items, f->nitems, now, v,
                                 j->doc_keys, err, sizeof err);
    }
    if (rc < 0) {
        pipeline_result r = {.items = f->nitems, .error = err};
        finish(j, &r);
        return false;
    }
    store_reserve_keys(pl->st, j->doc_keys, v, f->nitems, now);
    j->items = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->items);
    j->olds = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->olds);
    j->keys = arena_alloc(&j->mem, (f->nitems + 1) * sizeof *j->keys);
    for (size_t i = 0; i < f->nitems; i++) {
        const feed_item *old = NULL;
        if (v[i] == STORE_UPDATED) {
            /* content changed under the same id: on_update(item, old)
             * decides, if a script defines it and the item was stored
             * (else there is no old copy to show) */
            char *js = store_item_json(pl->st, j->key, f->items[i].id);
            feed_item *o = js ? arena_alloc(&j->mem, sizeof *o) : NULL;
            if (o && store_item_from_json(js, o, &j->mem) == 0) old = o;
            free(js);
            if (!old) continue;
        } else if (v[i] != STORE_NEW) {
            continue;
        }
        j->olds[j->nitems] = old;
        j->keys[j->nitems] = j->doc_keys[i];
        j->items[j->nitems++] = f->items[i];
        if (!old) j->nnew++;
    }
    return true;
}

/* Moves work along: classifies what came in, hands it to the worker,
 * and commits a group when it is time. */
static void
pump(pipeline *pl)
{
    bool submitted = false;
    while (pl->queue) {
        job *j = pl->queue;
        pl->queue = j->next;
        if (!pl->queue) pl->queue_tail = NULL;
        if (j->o && !classify(pl, j)) continue;
        if (!j->nitems || !j->nscripts) {
            make_ready(pl, j); /* nothing for the rules: just commit */
            continue;
        }
        rule_feed rf;
        rule_feed_for(j, &rf);
        pl->in_worker++;
        worker_submit_updates(pl->wk, &rf, j->items, j->olds, j->nitems,
                              (const char *const *)j->scripts, j->nscripts,
                              rules_done, j);
        submitted = true;
    }
    if (pl->nready >= group_size(pl)) {
        flush(pl);
    } else if (pl->nready && !ev_is_active(&pl->flush_timer)) {
        ev_timer_set(&pl->flush_timer, GROUP_WAIT_MS / 1000.0, 0.0);
        ev_timer_start(pl->loop, &pl->flush_timer);
    }
    /* from inside a job's callback, the step in progress goes on to the
     * new jobs by itself */
    if (submitted && !pl->in_worker_cb) {
        worker_step(pl->wk);
        wk_rearm(pl);
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
        make_ready(pl, j); /* a 304, a failure: only the feed's state */
    } else {
        j->next = NULL;
        if (pl->queue_tail) pl->queue_tail->next = j;
        else pl->queue = j;
        pl->queue_tail = j;
    }
    pump(pl);
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
            j->next = NULL;
            if (pl->queue_tail) pl->queue_tail->next = j;
            else pl->queue = j;
            pl->queue_tail = j;
        }
        i = k;
    }
    arena_free(&mem);
    pump(pl);
}

bool
pipeline_store_ok(pipeline *pl)
{
    if (store_file_moved(pl->st) != 1) return true;
    log_err("%s was deleted or replaced while the daemon ran: stopping, so "
            "that a restart opens the file there now rather than write on "
            "into one no start would read",
            store_path(pl->st));
    return false;
}

static void
maintain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    pipeline *pl = w->data;
    char err[512];
    /* An unlinked file takes writes without complaint (WAL mode), and
     * the next start would alert on every item anew: notice it within a
     * minute, and let the daemon stop (systemd restarts it). */
    if (!pipeline_store_ok(pl)) {
        ev_timer_stop(pl->loop, &pl->maintain);
        if (pl->lost) pl->lost(pl->lost_arg);
        return;
    }
    if (pl->upkeeps++ % MAINTAIN_EVERY) return;
    if (store_in_transaction(pl->st)) {
        pl->upkeeps = 0; /* busy: try again at the next minute */
        return;
    }
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
    /* Before the outbox is recovered: a second daemon would take the
     * first one's alerts in flight for interrupted ones and send them
     * again. After store_open, which creates the directory (or says why
     * it cannot). */
    int lock = statelock_take(cfg->state_dir, err, errlen);
    if (lock < 0) {
        store_close(st);
        return NULL;
    }
    char cerr[512];
    if (store_checkpoint_in_background(st, cerr, sizeof cerr) < 0)
        log_warn("%s (checkpoints stay in the commits)", cerr);
    pipeline *pl = xcalloc(1, sizeof *pl);
    pl->loop = loop;
    pl->st = st;
    pl->lock = lock;
    outbox_params op;
    outbox_params_default(&op);
    pl->ob = outbox_new(st, &op);
    /* it says which alerts go again, one line each */
    if (outbox_recover(pl->ob, now_wall() * 1000, cerr, sizeof cerr) < 0)
        log_err("%s", cerr);
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
    ev_timer_init(&pl->flush_timer, flush_cb, 0.0, 0.0);
    pl->flush_timer.data = pl;
    ev_timer_init(&pl->maintain, maintain_cb, UPKEEP_S, UPKEEP_S);
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

void
pipeline_on_lost(pipeline *pl, pipeline_lost_fn fn, void *arg)
{
    pl->lost = fn;
    pl->lost_arg = arg;
}

void
pipeline_flush(pipeline *pl)
{
    flush(pl);
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

void
pipeline_outbox_changed(pipeline *pl)
{
    delivery_kick(pl->dl);
}

bool
pipeline_delivery_idle(const pipeline *pl, int64_t within_ms)
{
    return delivery_idle(pl->dl, within_ms);
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
    ev_timer_stop(pl->loop, &pl->flush_timer);
    delivery_free(pl->dl);
    worker_free(pl->wk);
    /* what is left is dropped without callbacks: nothing of it was
     * committed, so the next start polls those feeds again */
    job *lists[] = {pl->queue, pl->ready};
    for (size_t k = 0; k < ARRAY_LEN(lists); k++) {
        for (job *j = lists[k], *next; j; j = next) {
            next = j->next;
            job_free(j);
        }
    }
    outbox_free(pl->ob);
    /* bounded: 8192 pages (128 MB) move in well under a second */
    store_compact(pl->st, 8192);
    store_close(pl->st);
    statelock_release(pl->lock); /* the database is closed: next one may */
    free(pl);
}
