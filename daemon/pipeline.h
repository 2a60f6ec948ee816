/* pipeline.h — what happens to a feed once it has been polled.
 *
 * The poller hands every poll outcome here, success or failure: the new
 * items go through dedup and the rules, and the items, the actions the
 * rules asked for and the feed's new state (validators, status, failures,
 * next poll) are committed together, in one transaction, before `done`
 * runs. Validators saved without their items would turn the next poll
 * into a 304 and lose them, so the poller adopts new validators only once
 * `done` says the commit happened. */
#ifndef VIGIE_PIPELINE_H
#define VIGIE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "feed.h"
#include "health.h"
#include "store.h"

typedef struct pipeline pipeline;

/* A feed's state as kept across polls (and restarts). */
typedef struct feed_state {
    char *url;           /* current URL (after permanent redirects), or NULL */
    char *etag, *last_modified;
    uint32_t failures;   /* consecutive */
    int64_t last_poll;   /* epoch s, 0 if never */
    int64_t last_ok;     /* epoch s of the last good poll, 0 if never */
    int64_t fail_since;  /* epoch s the current run of failures began, 0 */
    int64_t next_poll;   /* epoch s, 0 if unknown */
    int status;          /* last HTTP status, 0 if none */
    bool disabled;
    char *disabled_why;
} feed_state;

void feed_state_clear(feed_state *s);

typedef struct poll_outcome {
    const config_feed *cf;
    int64_t polled_at;  /* epoch s */
    bool ok;            /* 2xx with a feed, or 304, or an unchanged file */
    bool not_modified;  /* nothing to parse */
    int status;         /* HTTP status, 0 when none */
    char *error;        /* why it failed (owned), NULL when ok */
    uint64_t bytes;
    int64_t elapsed_ms;
    feed *parsed;       /* the feed when there was one, else NULL */
    store_item_key *keys; /* of parsed->items, if computed with the parse */
    feed_state next;    /* the state to commit with it */
    /* a health alert to queue with it (health.h) */
    health_event health;
    int64_t health_since, health_ident;
    health_state *health_st; /* the poller's, for silence ending */
} poll_outcome;

typedef struct pipeline_result {
    bool committed;     /* false: nothing of this poll was kept */
    const char *error;  /* why not */
    size_t items, new_items, alerts;
    const char *parse_note; /* the document was not well-formed: why (the
                               last error), else NULL */
} pipeline_result;

typedef void (*pipeline_done_fn)(void *arg, const pipeline_result *r);

struct ev_loop;
struct evcurl;

/* Opens the store in cfg->state_dir (NULL and a one-line error when it
 * cannot: read-only, full disk, corrupt file), starts the rule worker and
 * the delivery of the outbox, and reruns rule failures left pending. */
pipeline *pipeline_new(struct ev_loop *loop, struct evcurl *ec,
                       const config *cfg, char *err, size_t errlen);
/* A new config (after a reload): dedup settings, webhooks, scripts read
 * again, rule failures rerun. */
void pipeline_configure(pipeline *pl, const config *cfg);
/* The database file at state_dir was deleted or replaced under the daemon
 * (an operator's rm, a restore by mv): the writes go to a file no later
 * start opens. Checked every minute; fn is called once, from the loop. */
typedef void (*pipeline_lost_fn)(void *arg);
void pipeline_on_lost(pipeline *pl, pipeline_lost_fn fn, void *arg);
/* The same check, now: false (and the reason logged) when the file is
 * gone. */
bool pipeline_store_ok(pipeline *pl);
/* Submitted outcomes whose done has not been called yet. */
size_t pipeline_busy(const pipeline *pl);
/* Alerts being sent right now; delivered since start. */
size_t pipeline_sending(const pipeline *pl);
size_t pipeline_delivered(const pipeline *pl);
/* The outbox changed behind the daemon's back (vigie outbox retry). */
void pipeline_outbox_changed(pipeline *pl);
/* No alert in flight and none due within the next `within_ms`. */
bool pipeline_delivery_idle(const pipeline *pl, int64_t within_ms);
void pipeline_counts(pipeline *pl, size_t *pending_alerts, size_t *dead_alerts);
/* Commits the feeds whose rules are done now, without waiting for their
 * group to fill (at shutdown: before the poller goes away). */
void pipeline_flush(pipeline *pl);
/* No more deliveries start. */
void pipeline_stop(pipeline *pl);
/* Drops what is still in flight without calling back (nothing of it was
 * committed). */
void pipeline_free(pipeline *pl);

/* Takes the outcome's parsed feed (freed, and o->parsed set to NULL, before
 * done runs) and calls done exactly once, possibly later from the loop. */
void pipeline_submit(pipeline *pl, poll_outcome *o, pipeline_done_fn done,
                     void *arg);
/* The state last committed for a feed key; 0 if found. */
int pipeline_load_state(pipeline *pl, const char *key, feed_state *out);

#endif
