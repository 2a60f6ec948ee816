/* duration.c — parsing and printing of durations and sizes. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "util.h"

typedef struct unit {
    const char *name;
    int64_t mult;
} unit;

/* Largest first: the order a compound duration must follow. */
static const unit duration_units[] = {
    {"w", 7 * 86400000LL}, {"d", 86400000LL}, {"h", 3600000LL},
    {"m", 60000LL},        {"s", 1000LL},     {"ms", 1LL},
};

static const unit size_units[] = {
    {"b", 1LL},
    {"kb", 1000LL},
    {"mb", 1000LL * 1000},
    {"gb", 1000LL * 1000 * 1000},
    {"tb", 1000LL * 1000 * 1000 * 1000},
    {"kib", 1LL << 10},
    {"mib", 1LL << 20},
    {"gib", 1LL << 30},
    {"tib", 1LL << 40},
};

static int PRINTF_LIKE(3, 4)
    fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number with an optional fraction: whole part (at most 10^15,
 * far above any sensible value, so later multiplications are checked
 * against INT64_MAX only once) and up to 9 fraction digits as a fraction
 * of 10^9. Returns the number of bytes read, 0 if there is no number, -1
 * if it is too large. */
static int
read_number(const char *s, uint64_t *whole, uint64_t *frac_e9)
{
    const char *p = s;
    uint64_t w = 0, f = 0, scale = 100000000;
    if (!is_digit(*p)) return 0;
    while (is_digit(*p)) {
        w = w * 10 + (uint64_t)(*p - '0');
        if (w > 1000000000000000ULL) return -1;
        p++;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p)) return 0;
        while (is_digit(*p)) {
            f += (uint64_t)(*p - '0') * scale;
            scale /= 10; /* digits past the ninth add nothing */
            p++;
        }
    }
    *whole = w;
    *frac_e9 = f;
    return (int)(p - s);
}

/* whole.frac * mult, added to *total; -1 on overflow. */
static int
scale_add(uint64_t whole, uint64_t frac_e9, int64_t mult, int64_t *total)
{
    uint64_t m = (uint64_t)mult;
    if (whole != 0 && m > (uint64_t)INT64_MAX / whole) return -1;
    uint64_t v = whole * m;
    /* frac_e9 < 10^9 and mult <= 2^40, so the product fits in 64 bits
     * only for the smaller units; split to stay exact and in range. */
    uint64_t fv = (frac_e9 * (m % 1000000000ULL)) / 1000000000ULL +
                  frac_e9 * (m / 1000000000ULL);
    if (v > (uint64_t)INT64_MAX - fv) return -1;
    v += fv;
    if (v > (uint64_t)(INT64_MAX - *total)) return -1;
    *total += (int64_t)v;
    return 0;
}

int
duration_parse(const char *s, int64_t *ms, char *why, size_t whylen)
{
    const char *p = s;
    int64_t total = 0;
    size_t last = (size_t)-1; /* index of the previous unit */

    while (is_space(*p))
        p++;
    if (*p == '\0') return fail(why, whylen, "empty duration");
    if (*p == '-') return fail(why, whylen, "negative duration");
    while (*p) {
        uint64_t whole, frac;
        int n = read_number(p, &whole, &frac);
        if (n < 0) return fail(why, whylen, "duration too large");
        if (n == 0 && total == 0 && last == (size_t)-1)
            return fail(why, whylen,
                        "not a duration (write e.g. \"90s\", \"15m\" or "
                        "\"1h30m\")");
        if (n == 0) {
            char c[2] = {*p, 0};
            return fail(why, whylen, "expected a number at \"%s\"", c);
        }
        p += n;
        while (is_space(*p))
            p++;
        const char *u = p;
        while (is_alpha(*p))
            p++;
        size_t ulen = (size_t)(p - u);
        if (ulen == 0) {
            if (*p == '\0')
                return fail(why, whylen,
                            "missing unit (write e.g. \"%ss\"; units: ms, s, "
                            "m, h, d, w)",
                            s);
            char c[2] = {*p, 0};
            return fail(why, whylen, "unexpected \"%s\"", c);
        }
        size_t i;
        for (i = 0; i < ARRAY_LEN(duration_units); i++)
            if (strlen(duration_units[i].name) == ulen &&
                !memcmp(duration_units[i].name, u, ulen))
                break;
        if (i == ARRAY_LEN(duration_units)) {
            char name[16];
            snprintf(name, sizeof name, "%.*s", (int)(ulen < 15 ? ulen : 15),
                     u);
            return fail(why, whylen,
                        "unknown unit \"%s\" (use ms, s, m, h, d or w)", name);
        }
        if (last != (size_t)-1 && i <= last)
            return fail(why, whylen,
                        "units must go from largest to smallest, each once "
                        "(e.g. \"1h30m\")");
        last = i;
        if (scale_add(whole, frac, duration_units[i].mult, &total) < 0)
            return fail(why, whylen, "duration too large");
        while (is_space(*p))
            p++;
    }
    *ms = total;
    return 0;
}

int
size_parse(const char *s, int64_t *bytes, char *why, size_t whylen)
{
    const char *p = s;
    int64_t total = 0;
    uint64_t whole, frac;

    while (is_space(*p))
        p++;
    if (*p == '\0') return fail(why, whylen, "empty size");
    if (*p == '-') return fail(why, whylen, "negative size");
    int n = read_number(p, &whole, &frac);
    if (n < 0) return fail(why, whylen, "size too large");
    if (n == 0) return fail(why, whylen, "expected a number");
    p += n;
    while (is_space(*p))
        p++;
    const char *u = p;
    while (is_alpha(*p))
        p++;
    size_t ulen = (size_t)(p - u);
    while (is_space(*p))
        p++;
    if (*p != '\0') {
        char c[2] = {*p, 0};
        return fail(why, whylen, "unexpected \"%s\"", c);
    }
    int64_t mult = 1;
    if (ulen) {
        size_t i;
        char name[8] = {0};
        for (size_t k = 0; k < ulen && k < sizeof name - 1; k++)
            name[k] = ascii_tolower(u[k]);
        for (i = 0; i < ARRAY_LEN(size_units); i++)
            if (ulen < sizeof name && !strcmp(size_units[i].name, name)) break;
        if (i == ARRAY_LEN(size_units)) {
            char shown[16];
            snprintf(shown, sizeof shown, "%.*s", (int)(ulen < 15 ? ulen : 15),
                     u);
            if (ulen == 1 && strchr("kmgtKMGT", u[0]))
                return fail(why, whylen,
                            "ambiguous unit \"%s\" (write e.g. MB for 10^6 "
                            "or MiB for 2^20 bytes)",
                            shown);
            return fail(why, whylen,
                        "unknown unit \"%s\" (use B, KB, MB, GB, TB, KiB, "
                        "MiB, GiB or TiB)",
                        shown);
        }
        mult = size_units[i].mult;
    }
    if (scale_add(whole, frac, mult, &total) < 0)
        return fail(why, whylen, "size too large");
    *bytes = total;
    return 0;
}

int
duration_from_seconds(double secs, int64_t *ms, char *why, size_t whylen)
{
    if (isnan(secs)) return fail(why, whylen, "not a number");
    if (secs < 0) return fail(why, whylen, "negative duration");
    /* 9.2e15 seconds is the int64 millisecond range; stay well inside it
     * so the conversion below is exact enough and never undefined. */
    if (secs > 9.0e15) return fail(why, whylen, "duration too large");
    *ms = (int64_t)llround(secs * 1000.0);
    return 0;
}

int
size_from_number(double n, int64_t *bytes, char *why, size_t whylen)
{
    if (isnan(n)) return fail(why, whylen, "not a number");
    if (n < 0) return fail(why, whylen, "negative size");
    if (n > 9.0e18) return fail(why, whylen, "size too large");
    if (n != floor(n))
        return fail(why, whylen, "a size in bytes must be whole");
    *bytes = (int64_t)n;
    return 0;
}

void
duration_format(int64_t ms, char *out, size_t outlen)
{
    if (!outlen) return;
    if (ms == DURATION_FOREVER) {
        snprintf(out, outlen, "forever");
        return;
    }
    if (ms <= 0) {
        snprintf(out, outlen, "0s");
        return;
    }
    static const unit parts[] = {{"d", 86400000LL},
                                 {"h", 3600000LL},
                                 {"m", 60000LL},
                                 {"s", 1000LL},
                                 {"ms", 1LL}};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
        int64_t n = ms / parts[i].mult;
        ms %= parts[i].mult;
        if (n == 0) continue;
        int w = snprintf(out + len, outlen - len, "%lld%s", (long long)n,
                         parts[i].name);
        if (w < 0 || (size_t)w >= outlen - len) return;
        len += (size_t)w;
    }
}

void
size_format(int64_t bytes, char *out, size_t outlen)
{
    if (!outlen) return;
    static const unit bin[] = {{"TiB", 1LL << 40},
                               {"GiB", 1LL << 30},
                               {"MiB", 1LL << 20},
                               {"KiB", 1LL << 10}};
    static const unit dec[] = {{"TB", 1000000000000LL},
                               {"GB", 1000000000LL},
                               {"MB", 1000000LL},
                               {"KB", 1000LL}};
    if (bytes > 0) {
        for (size_t i = 0; i < ARRAY_LEN(bin); i++)
            if (bytes % bin[i].mult == 0) {
                snprintf(out, outlen, "%lld%s",
                         (long long)(bytes / bin[i].mult), bin[i].name);
                return;
            }
        for (size_t i = 0; i < ARRAY_LEN(dec); i++)
            if (bytes % dec[i].mult == 0) {
                snprintf(out, outlen, "%lld%s",
                         (long long)(bytes / dec[i].mult), dec[i].name);
                return;
            }
    }
    snprintf(out, outlen, "%lldB", (long long)bytes);
}
