/* backoff.c — see backoff.h. */
#include "backoff.h"

#include "date.h"

int64_t
backoff_delay(uint32_t failures, int64_t base_s, int64_t cap_s, uint64_t rnd)
{
    if (failures == 0) return 0;
    if (base_s < 1) base_s = 1;
    if (cap_s < 1) cap_s = 1;
    /* Double until the cap; never shift into overflow. */
    int64_t d = base_s;
    for (uint32_t i = 1; i < failures && d < cap_s; i++)
        d *= 2;
    if (d > cap_s) d = cap_s;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}

int64_t
backoff_fail(backoff *b, int64_t base_s, int64_t cap_s, int64_t retry_after,
             uint64_t rnd)
{
    if (b->failures < UINT32_MAX) b->failures++;
    int64_t d = backoff_delay(b->failures, base_s, cap_s, rnd);
    if (retry_after > d) d = retry_after;
    if (d > cap_s) d = cap_s;
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
