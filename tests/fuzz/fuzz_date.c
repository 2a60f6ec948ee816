/* fuzz_date.c — libFuzzer target for date_parse(): no crash, no read past
 * the given length, and whatever is accepted reads back the same from our
 * own RFC 3339 and HTTP forms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t t = date_parse((const char *)data, size);
    if (t == DATE_NONE) return 0;
    /* A zone can carry a year-1000 date just below the parseable range. */
    if (t < INT64_C(-30610224000) || t > INT64_C(253402300799)) return 0;
    char r[DATE_RFC3339_LEN], h[30];
    date_format_rfc3339(t, r);
    date_format_http(t, h);
    if (date_parse(r, strlen(r)) != t || date_parse(h, strlen(h)) != t) abort();
    return 0;
}
