/* backoff.h — when to try again after a failure; Retry-After.
 *
 * Pure functions (randomness comes in as an argument) so the scheduler and
 * webhook delivery share one tested policy: after n consecutive failures
 * wait base·2^(n−1), capped (one day by default), with "equal jitter" (a
 * uniform pick in the upper half) so that feeds which failed together do
 * not retry together. A success resets the count. A server's Retry-After
 * wins when it asks for longer, up to the same cap. */
#ifndef VIGIE_BACKOFF_H
#define VIGIE_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#define BACKOFF_CAP_S (24 * 3600)
/* Longest Retry-After taken literally; larger values are clamped. */
#define RETRY_AFTER_MAX_S (365 * 24 * 3600)

typedef struct backoff {
    uint32_t failures; /* consecutive, saturating */
} backoff;

/* The delay after `failures` consecutive failures: 0 for none, else in
 * [d/2, d] where d = min(cap_s, base_s·2^(failures−1)); base_s >= 1. */
int64_t backoff_delay(uint32_t failures, int64_t base_s, int64_t cap_s,
                      uint64_t rnd);

/* Records one more failure and returns the delay before the next try:
 * the larger of backoff_delay() and retry_after (if >= 0), never more
 * than cap_s. */
int64_t backoff_fail(backoff *b, int64_t base_s, int64_t cap_s,
                     int64_t retry_after, uint64_t rnd);
/* A success: the next failure starts from base again. */
void backoff_reset(backoff *b);

/* Retry-After: delta-seconds ("120") or an HTTP-date (then relative to
 * `now`, epoch seconds; a past date gives 0). Returns seconds, at most
 * RETRY_AFTER_MAX_S, or -1 when the value is neither. */
int64_t retry_after_parse(const char *s, size_t len, int64_t now);

#endif
