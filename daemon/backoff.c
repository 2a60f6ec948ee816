/* backoff.c — see backoff.h. */
#include "backoff.h"

#include "date.h"

int64_t
backoff_delay(uint32_t failures, int64_t base_s, int64_t cap_s, uint64_t rnd)
{
    if (failures == 0) return 0;
    if (base_s < 1) base_s = 1;
    /* A feed polled less often than the cap is still never retried
     * sooner than its own interval. */
    if (cap_s < base_s) cap_s = base_s;
    /* Double until the cap; never shift into overflow. */
    int64_t d = base_s;
    for (uint32_t i = 1; i < failures && d < cap_s; i++)
        d *= 2;
    if (d > cap_s) d = cap_s;
    /* Jitter above d, not below it: the delay after a failure must never
     * be shorter than the base (the feed's interval). At the cap there is
     * no room above, so the window slides below it, still not past base. */
    int64_t span = d / 4;
    int64_t hi = span < cap_s - d ? d + span : cap_s;
    int64_t lo = hi - span > base_s ? hi - span : base_s;
    return lo + (int64_t)(rnd % (uint64_t)(hi - lo + 1));
}

int64_t
backoff_fail(backoff *b, int64_t base_s, int64_t cap_s, int64_t retry_after,
             uint64_t rnd, backoff_basis *basis)
{
    if (b->failures < UINT32_MAX) b->failures++;
    if (base_s < 1) base_s = 1;
    if (cap_s < base_s) cap_s = base_s;
    backoff_basis why = BACKOFF_OWN;
    int64_t d = backoff_delay(b->failures, base_s, cap_s, rnd);
    if (retry_after > d) {
        d = retry_after;
        why = BACKOFF_RETRY_AFTER;
    }
    if (d > cap_s) {
        d = cap_s;
        if (why == BACKOFF_RETRY_AFTER) why = BACKOFF_RETRY_AFTER_CAPPED;
    }
    if (basis) *basis = why;
    return d;
}

void
backoff_reset(backoff *b)
{
    b->failures = 0;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

int64_t
retry_after_parse(const char *s, size_t len, int64_t now)
{
    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
    if (!len) return -1;
    if (s[0] >= '0' && s[0] <= '9') {
        int64_t v = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') return -1;
            if (v <= RETRY_AFTER_MAX_S) v = v * 10 + (s[i] - '0');
        }
        return v > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : v;
    }
    int64_t t = date_parse(s, len);
    if (t == DATE_NONE) return -1;
    if (t <= now) return 0;
    return t - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : t - now;
}
