/* outbox.h — durable alert delivery: the outbox's state machine.
 *
 * Alerts are rows written in their feed's transaction (store_enqueue_alert)
 * and delivered after commit, at least once, each with a stable
 * Idempotency-Key. The states:
 *
 *   pending ──outbox_next()──► sending (a lease) ──2xx──► delivered
 *      ▲                          │  ├─ network error, timeout, 408, 429,
 *      │                          │  │  5xx: pending again after a backoff
 *      └──── lease expired ───────┘  │  (or Retry-After), in order
 *      └──── vigie outbox retry ──┐  └─ other 4xx/3xx, or a failure the
 *                                 │     transport calls permanent: dead
 *                               dead ◄── still failing give_up_after after
 *                                        it was queued (or retried by hand)
 *
 * A process that dies between the POST and outbox_report() leaves the row
 * "sending": outbox_recover() at start (or the lease expiring) sends it
 * again with the same key. Per target, rows go strictly in order: only the
 * oldest undelivered row of a target is ever in flight, and a row waiting
 * for its retry holds back the ones behind it. A per-target max_per_minute
 * delays (never drops) the excess. Nothing leaves the outbox but by
 * delivery, or by `vigie outbox drop`; delivered rows are pruned after
 * keep_delivered by store_maintain().
 *
 * The loop calls outbox_next() when it has capacity (after a feed's commit,
 * at the wake-up time it returned, and at least every few seconds so rows
 * retried or dropped by `vigie outbox` are noticed), posts each message
 * (webhook_build), and hands the HTTP outcome to outbox_report(). Times are
 * wall-clock epoch ms. */
#ifndef VIGIE_OUTBOX_H
#define VIGIE_OUTBOX_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"
#include "webhook.h"

typedef struct outbox outbox;

typedef enum outbox_state {
    OUTBOX_PENDING = 0,
    OUTBOX_SENDING = 1,
    OUTBOX_DELIVERED = 2,
    OUTBOX_DEAD = 3,
} outbox_state;

const char *outbox_state_name(int state);

/* How long a claim lasts by default. A webhook's timeout (config.c
 * refuses one over OUTBOX_LEASE_MS / 2) must end well before, or a POST
 * still in flight would count as lost and be sent again. */
#define OUTBOX_LEASE_MS (2 * 60000)
/* The daemon looks at the outbox every this many minutes when nothing
 * woke it (`vigie outbox retry` sends SIGUSR1, when it may): what that
 * command says a retried alert may wait. */
#define OUTBOX_LOOK_EVERY_MIN 5
#define OUTBOX_STR_(x) #x
#define OUTBOX_STR(x) OUTBOX_STR_(x)

typedef struct outbox_params {
    int64_t backoff_base;    /* first retry after ~this (default 1s) */
    int64_t backoff_cap;     /* retries at most this far apart (default 10m) */
    int64_t lease;           /* a claim lasts this long: above the webhook
                                timeout (default 2m) */
    int64_t retry_after_max; /* a longer Retry-After is cut to this (1d) */
} outbox_params;

void outbox_params_default(outbox_params *p);

/* An outbox bound to the store's connection (use it from the daemon only:
 * the CLI helpers below take the store). */
outbox *outbox_new(store *s, const outbox_params *p);
void outbox_free(outbox *ob);

/* Per-target policy from the config (call again after each reload; a
 * target without a policy gets no rate limit and give_up_after 24h). */
void outbox_set_target(outbox *ob, const char *target, int64_t max_per_minute,
                       int64_t give_up_after);
void outbox_clear_targets(outbox *ob);

/* At daemon start: rows left "sending" by a previous process become
 * pending at once (they may have been delivered: same key). Returns how
 * many, or -1. */
long outbox_recover(outbox *ob, int64_t now, char *err, size_t errlen);

/* How a log line names an alert: its row id (what `vigie outbox retry`
 * takes), the start of its Idempotency-Key (what the receiver sees) and
 * its target. Arguments: int64_t id, const char *key, const char *target. */
#define OUTBOX_ALERT_FMT "alert %" PRId64 " (%.12s) to %s"

/* A claimed row: what to send. */
typedef struct outbox_msg {
    int64_t id;
    int64_t attempt; /* 1 for the first try; the claim's token */
    webhook_alert alert;
    char *mem_; /* owns the strings */
} outbox_msg;

void outbox_msg_clear(outbox_msg *m);

/* Claims up to `max` deliverable rows (at most one per target: its oldest)
 * as of `now`, and sets *wake_at to the earliest time another row may
 * become deliverable (INT64_MAX: nothing waiting). Returns the count or -1.
 * Each claimed message must be reported, or its lease runs out. */
long outbox_next(outbox *ob, int64_t now, outbox_msg *out, size_t max,
                 int64_t *wake_at, char *err, size_t errlen);

/* What the transport saw. */
typedef struct outbox_outcome {
    int status;              /* HTTP status; 0 when there was no response */
    const char *error;       /* transport error (timeout, refused...) */
    const char *retry_after; /* the Retry-After header as sent, or NULL */
    const char *response;    /* first bytes of the response body, or NULL */
    size_t response_len;
    const char *location; /* a 3xx answer's Location, as sent, or NULL:
                             webhook redirects are not followed (a POST
                             is not replayed elsewhere), the alert is
                             dead-lettered saying where it was sent */
    bool permanent; /* a failure no retry can fix (URL refused by policy,
                       unknown webhook): dead-letter at once */
    int64_t at;     /* when the transport saw it (ms); 0: the report's now.
                       An outcome recorded late (the database refused the
                       first try) still counts from when it happened. */
} outbox_outcome;

/* Records the outcome of message m's attempt: delivered, retry later, or
 * dead (logged at error level with the status and first response bytes).
 * A late report for a claim that was since given up (lease expired and
 * reclaimed, or dropped) is ignored unless it says delivered. 0 or -1. */
int outbox_report(outbox *ob, const outbox_msg *m, const outbox_outcome *o,
                  int64_t now, char *err, size_t errlen);

/* outbox_report() for each of done[0..ndone), then outbox_next(), in one
 * transaction. On -1 none of it happened (the claims in out are not
 * made, the outcomes not recorded: those rows keep their lease, and the
 * caller keeps the outcomes to pass them again: recorded first, in the
 * same transaction as any claim, they are never overtaken by a claim of
 * the same row, so an alert known delivered is not sent again). */
long outbox_report_next(outbox *ob, const outbox_msg *done,
                        const outbox_outcome *outcomes, size_t ndone,
                        int64_t now, outbox_msg *out, size_t max,
                        int64_t *wake_at, char *err, size_t errlen);

/* Delay before retry number `attempt` (1-based): min(cap, base*2^(a-1)),
 * with "equal jitter": half fixed, half from r (uniform over uint32). */
int64_t outbox_backoff(const outbox_params *p, int64_t attempt, uint32_t r);
/* Retry-After (delta-seconds or an HTTP-date) as ms from now, or -1. */
int64_t outbox_parse_retry_after(const char *v, int64_t now);

/* The Idempotency-Key: hex SHA-256 over the feed key, item id, item
 * content hash, target, script and sequence number. 65 bytes with NUL. */
#define OUTBOX_KEY_LEN 65
void outbox_key(char out[OUTBOX_KEY_LEN], const char *feed_key,
                const char *item_id, int64_t content_hash, const char *target,
                const char *script, unsigned seq);

/* ---- inspection and repair (also from `vigie outbox`) ------------------ */

typedef struct outbox_row {
    int64_t id;
    int state;
    const char *target, *key, *script, *feed_key, *item_id, *title;
    int64_t created, since, due, done_at; /* ms; 0 unset */
    int64_t attempts;
    int status; /* last HTTP status, 0 none */
    const char *error, *response;
} outbox_row;

#define OUTBOX_LIST_ALL 0
#define OUTBOX_LIST_DEAD 1        /* dead only */
#define OUTBOX_LIST_UNDELIVERED 2 /* pending, sending and dead */

int outbox_list(store *s, int which, int (*cb)(const outbox_row *, void *),
                void *ud, char *err, size_t errlen);

typedef struct outbox_counts {
    int64_t pending, sending, delivered, dead;
    int64_t oldest_pending; /* created, ms; 0 none */
} outbox_counts;

int outbox_count(store *s, outbox_counts *c, char *err, size_t errlen);

/* What outbox_retry() and outbox_drop() did, or why not. An alert is
 * being sent while it is "sending" and its lease runs: the POST may have
 * arrived already, and its outcome will say. Once the lease has run out
 * (a daemon killed mid-POST, not restarted) nobody is sending it. */
enum {
    OUTBOX_ACT_NONE = 0,      /* no such alert */
    OUTBOX_ACT_DONE = 1,      /* retried, or dropped */
    OUTBOX_ACT_SENDING = 2,   /* being sent right now: left alone */
    OUTBOX_ACT_DELIVERED = 3, /* delivered already: left alone */
};

/* Makes a dead or pending row due now, with a fresh give-up clock and
 * backoff. An OUTBOX_ACT_ value, or -1 with err. */
int outbox_retry(store *s, int64_t id, int64_t now, char *err, size_t errlen);
/* Every dead and pending row (none being sent). Returns how many, or -1. */
long outbox_retry_all(store *s, int64_t now, char *err, size_t errlen);
/* Deletes a row that is neither delivered nor being sent. An OUTBOX_ACT_
 * value, or -1 with err. */
int outbox_drop(store *s, int64_t id, int64_t now, char *err, size_t errlen);

#endif
