/* health.h — one alert when a feed goes wrong, one when it comes back.
 *
 * A feed that has failed for `alert_after` (config, default 6h), or that
 * has brought no new item for its `silent_after` (per feed, off by
 * default), raises one alert to the `health` webhook (or only a log line
 * when none is configured), and one more when it recovers: never one per
 * poll. The decision is pure (health_check); the pipeline queues the alert
 * in the feed's own transaction, under an id made of the feed and the
 * moment the trouble began, so a restart in the middle of an outage
 * cannot send it twice (the outbox refuses an identical alert). A feed
 * comes back UP only after an outage long enough to have raised DOWN. */
#ifndef VIGIE_HEALTH_H
#define VIGIE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

typedef enum health_event {
    HEALTH_NONE,
    HEALTH_DOWN,      /* failing for alert_after */
    HEALTH_UP,        /* polls fine again after a HEALTH_DOWN */
    HEALTH_SILENT,    /* no new item for silent_after */
    HEALTH_TALKING,   /* new items again after a HEALTH_SILENT */
} health_event;

/* What the poller remembers of a feed's health (seconds since the epoch). */
typedef struct health_state {
    int64_t fail_since; /* first failure of the current streak, 0: healthy */
    int64_t last_fail;  /* latest failure of the streak */
    int64_t last_new;   /* last poll that brought new items (or start) */
    bool down_raised, silent_raised; /* in this process (log once) */
} health_state;

/* The event a poll at `now` that succeeded (`ok`) or not should raise;
 * alert_after_s / silent_after_s < 0 mean off. Updates *st, except
 * silence ending, which only the pipeline sees (health_new_items). *since
 * and *ident receive when the trouble began: the first failed poll of an
 * outage (kept in the store, so the same across restarts), the last new
 * item before a silence. */
health_event health_check(health_state *st, bool ok, int64_t now,
                          int64_t alert_after_s, int64_t silent_after_s,
                          int64_t *since, int64_t *ident);
/* New items arrived at `now`: HEALTH_TALKING if a silence alert was
 * raised (then *since is when the silence began), else HEALTH_NONE. */
health_event health_new_items(health_state *st, int64_t now, int64_t *since);

const char *health_event_name(health_event e); /* "down", "up", ... */

#endif
