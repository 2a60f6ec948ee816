/* backoff.h — when to try again after a failure; Retry-After.
 *
 * Pure functions (randomness comes in as an argument) so the scheduler's
 * policy is tested on its own: after n consecutive failures wait about
 * base·2^(n−1), never less than base, capped (one day by default), with
 * jitter (up to a quarter more, or at the cap a quarter less) so that
 * feeds which failed together do not retry together. The poller passes the
 * feed's interval as base: a failing server is never polled more often
 * than a healthy one. A success resets the count. A server's Retry-After
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
 * [max(base_s, h − d/4), h] where d = base_s·2^(failures−1) and
 * h = min(cap_s, d + d/4). base_s >= 1; a cap below base_s is raised to it,
 * so the delay is never below base_s. */
int64_t backoff_delay(uint32_t failures, int64_t base_s, int64_t cap_s,
                      uint64_t rnd);

/* Which figure the delay of backoff_fail() is. */
typedef enum backoff_basis {
    BACKOFF_OWN,                /* our own backoff */
    BACKOFF_RETRY_AFTER,        /* the server's Retry-After, as asked */
    BACKOFF_RETRY_AFTER_CAPPED, /* Retry-After asked for more than the cap */
} backoff_basis;

/* Records one more failure and returns the delay before the next try:
 * the larger of backoff_delay() and retry_after (if >= 0), never more
 * than the cap (cap_s, or base_s if larger). *basis (if not NULL) says
 * which figure it is. */
int64_t backoff_fail(backoff *b, int64_t base_s, int64_t cap_s,
                     int64_t retry_after, uint64_t rnd, backoff_basis *basis);
/* A success: the next failure starts from base again. */
void backoff_reset(backoff *b);

/* Retry-After: delta-seconds ("120") or an HTTP-date (then relative to
 * `now`, epoch seconds; a past date gives 0). Returns seconds, at most
 * RETRY_AFTER_MAX_S, or -1 when the value is neither. */
int64_t retry_after_parse(const char *s, size_t len, int64_t now);

#endif
