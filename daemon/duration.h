/* duration.h — durations ("90s", "1h30m", "500ms") and sizes ("16MiB").
 *
 * Durations are milliseconds in an int64_t. A string is one or more
 * <number><unit> parts, largest unit first ("1h30m", "1h 30m"); a number may
 * have a decimal fraction ("1.5h"); units are ms, s, m, h, d (24h) and w
 * (7d), lower case. A bare number in a string ("90") is refused: numbers
 * given as Lua numbers are seconds, and a string without a unit is more often
 * a mistake than a choice.
 *
 * Sizes are bytes in an int64_t. Units are case-insensitive: B, KB/MB/GB/TB
 * are powers of 1000 and KiB/MiB/GiB/TiB powers of 1024, exactly as they
 * say; "16M" or "16K" is refused as ambiguous. A bare number is bytes.
 *
 * Negative values, unknown units and overflow are errors; `why` receives a
 * short reason ("unknown unit \"x\" (use ms, s, m, h, d or w)"). */
#ifndef VIGIE_DURATION_H
#define VIGIE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* "never"/"forever"/"off" where a key allows it: a duration longer than any
 * other, so "older than forever" is simply never true. */
#define DURATION_FOREVER INT64_MAX

/* 0 and *ms set, or -1 with a reason in why. */
int duration_parse(const char *s, int64_t *ms, char *why, size_t whylen);
int size_parse(const char *s, int64_t *bytes, char *why, size_t whylen);

/* Lua-number forms: seconds (may be fractional) and bytes (whole). */
int duration_from_seconds(double secs, int64_t *ms, char *why, size_t whylen);
int size_from_number(double n, int64_t *bytes, char *why, size_t whylen);

/* Compact forms for messages: "1h30m", "500ms", "0s", "forever";
 * "16MiB", "64KB", "1234B". Always NUL-terminated (truncated if out is
 * too small; 32 bytes is always enough). */
void duration_format(int64_t ms, char *out, size_t outlen);
void size_format(int64_t bytes, char *out, size_t outlen);

#endif
