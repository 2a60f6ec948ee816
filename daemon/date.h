/* date.h — the dates feeds write, read as UTC epoch seconds.
 *
 * date_parse() accepts RFC 822/1123/2822 and the variants feeds really use
 * (no day name, one-digit day, two-digit year, named zones such as EST,
 * CEST, UT, Z or military letters, missing seconds, extra whitespace, a
 * comma or not) and RFC 3339/ISO 8601 (fractions, offsets, date only, space
 * instead of 'T'), in English, French or German. Anything it cannot read
 * for certain, or whose instant falls outside the years 0000-9999 in UTC
 * (which the formatters would clamp), gives DATE_NONE: a wrong date is
 * worse than no date. The input is any bytes, not NUL-terminated; no
 * locale, no allocation, no global state (thread-safe). date.c lists the
 * exact grammar and zones. */
#ifndef VIGIE_DATE_H
#define VIGIE_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_NONE INT64_MIN
#define DATE_RFC3339_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */

int64_t date_parse(const char *s, size_t len);
/* Writes t as "YYYY-MM-DDTHH:MM:SSZ". Like date_format_http(), it clamps t
 * to years 0000-9999 (so DATE_NONE writes 0000-01-01: check it first). */
void date_format_rfc3339(int64_t t, char out[DATE_RFC3339_LEN]);
/* An epoch-milliseconds time of the state (last poll, next try...) as
 * date_format_rfc3339 writes it, or "-" for 0 or less: never. */
void date_format_ms(int64_t ms, char out[DATE_RFC3339_LEN]);
/* Writes t as an HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"), 30 bytes. */
void date_format_http(int64_t t, char out[30]);

#endif
