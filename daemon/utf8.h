/* utf8.h — small, fast UTF-8 primitives used on every byte of every feed. */
#ifndef VIGIE_UTF8_H
#define VIGIE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define UTF8_REPLACEMENT 0xFFFD

/* Decodes one code point at s (n > 0 bytes available). Returns the number of
 * bytes it used (1..4) and stores the code point in *cp; on an invalid or
 * truncated sequence (overlong forms, surrogates, > U+10FFFF included)
 * returns the length of the maximal invalid subpart (>= 1) and stores -1. */
size_t utf8_decode(const char *s, size_t n, int32_t *cp);
/* Encodes cp (valid scalar value) into out; returns 1..4. */
size_t utf8_encode(int32_t cp, char out[4]);
static inline void
buf_add_cp(buf *b, int32_t cp)
{
    char tmp[4];
    buf_add(b, tmp, utf8_encode(cp, tmp));
}

/* True if s[0..n) is valid UTF-8 (ASCII fast path). */
bool utf8_valid(const char *s, size_t n);
/* True if s[0..n) is all ASCII. */
bool ascii_only(const char *s, size_t n);
/* Appends s with every invalid sequence replaced by U+FFFD. */
void utf8_repair(buf *out, const char *s, size_t n);

#endif
