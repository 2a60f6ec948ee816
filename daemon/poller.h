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
 * kept ones keep their state and timer. `cfg` must outlive the poller or
 * the next poller_configure. In once mode every feed is polled once, now. */
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

#endif
