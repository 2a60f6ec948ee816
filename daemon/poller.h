/* poller.h — every configured feed on its own timer.
 *
 * The poller decides when each feed is fetched and what a failure costs:
 * first polls spread over the first interval (no thundering herd), jitter
 * on every interval, exponential backoff with jitter on network errors and
 * 5xx starting from the feed's interval (reset on success), Retry-After honoured on 429/503, 410 disables the
 * feed, 301/308 move it (logged once). It fetches through fetch.c (the
 * global and per-host caps live in evcurl) or reads a local file, parses,
 * and hands every outcome to the pipeline, which commits it; only then is
 * the next poll scheduled. One line is logged per poll. */
#ifndef VIGIE_POLLER_H
#define VIGIE_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evcurl.h"
#include "pipeline.h"

struct ev_loop;
typedef struct poller poller;

typedef struct poller_stats {
    size_t feeds, disabled, failing;
    size_t polls, polls_failed; /* in --once mode: of this run */
} poller_stats;

poller *poller_new(struct ev_loop *loop, evcurl *ec, pipeline *pl);
/* Adopts the config's feeds: new ones are scheduled, removed ones stopped,
 * kept ones keep their state, and their timer unless the reload changed
 * how often or how they are fetched (poller_resched_delay: never later,
 * sooner when the change asks for it; one line logged per such feed). A
 * new feed that replaces a removed one (same name, or the same URL but
 * for its scheme or credentials) counts as that feed with its URL changed.
 * `cfg` must outlive the poller or the next poller_configure. In once mode
 * every feed is polled once, now. */
void poller_configure(poller *p, const config *cfg, bool once);
/* No more polls start; in-flight ones finish, or are cut by
 * evcurl_abort_all: a cut poll is dropped, neither committed nor counted as
 * a failure of its feed (nor as a poll in once mode). */
void poller_stop(poller *p);
/* Polls started and not yet committed. */
size_t poller_busy(const poller *p);
/* In once mode: every feed has been polled and committed. */
bool poller_done(const poller *p);
void poller_get_stats(const poller *p, poller_stats *st);
void poller_free(poller *p);

/* Pure scheduling policy, exposed for tests. rnd is any random 64 bits. */
int64_t poller_jitter(int64_t interval_ms, uint64_t rnd);      /* ±10% */
int64_t poller_first_delay(int64_t interval_ms, uint64_t rnd); /* [0, interval) */
/* Seconds: the base of a feed's backoff after failures (backoff.h), its
 * interval but at least a minute. */
int64_t poller_retry_base(int64_t interval_ms);

/* What a reload changed in a feed's settings: its interval, or how it is
 * fetched (any of the others: a change that may fix a failing feed). */
enum {
    POLLER_CH_INTERVAL = 1u << 0,
    POLLER_CH_URL = 1u << 1, /* url or path, or the feed it replaces */
    POLLER_CH_HEADERS = 1u << 2,
    POLLER_CH_TIMEOUT = 1u << 3, /* timeout or connect_timeout */
    POLLER_CH_MAX_BODY = 1u << 4,
    POLLER_CH_PRIVATE = 1u << 5, /* allow_private_networks */
    POLLER_CH_USER_AGENT = 1u << 6,
};
#define POLLER_CH_FETCH (~(unsigned)POLLER_CH_INTERVAL)

typedef struct poller_resched {
    unsigned changed;      /* POLLER_CH_* */
    int64_t current_ms;    /* its timer: ms until the poll planned */
    int64_t interval_ms;   /* the new interval */
    int64_t since_poll_ms; /* since its last poll; -1: never polled */
    uint32_t failures;     /* consecutive, at its last poll */
    bool server_asked;     /* it waits because the server said (429, 503) */
    int64_t soon_ms;       /* the window "soon" spreads over */
} poller_resched;

/* When a feed whose settings a reload changed polls next, ms from now;
 * never later than current_ms. A failing or never polled feed whose
 * fetching changed (the change may fix it) polls soon, within soon_ms. A
 * new interval applies from the last poll, jittered (a failing feed: its
 * backoff from the new base, unless the server asked for the wait); when
 * that is already past, soon. */
int64_t poller_resched_delay(const poller_resched *r, uint64_t rnd);
/* The window for "soon": a few seconds, wider when many feeds go at once
 * (n of them), so that a reload is no thundering herd. */
int64_t poller_soon_window(size_t n);

#endif
