/* date.h — the dates feeds write, read as UTC epoch seconds.
 *
 * date_parse() accepts RFC 822/1123/2822 and the variants feeds really use
 * (no day name, one-digit day, two-digit year, named zones such as EST,
 * CEST, UT, Z or military letters, missing seconds, extra whitespace, a
 * comma or not) and RFC 3339/ISO 8601 (fractions, offsets, date only, space
 * instead of 'T'). Anything it cannot read for certain gives DATE_NONE:
 * a wrong date is worse than no date. */
#ifndef VIGIE_DATE_H
#define VIGIE_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_NONE INT64_MIN
#define DATE_RFC3339_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" plus NUL */

int64_t date_parse(const char *s, size_t len);
/* Writes t as "YYYY-MM-DDTHH:MM:SSZ". */
void date_format_rfc3339(int64_t t, char out[DATE_RFC3339_LEN]);
/* Writes t as an HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"), 30 bytes. */
void date_format_http(int64_t t, char out[30]);

#endif
