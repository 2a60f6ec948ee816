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
 * returns the length of the maximal invalid subpart (>= 1) and stores -1.
 * (n == 0 returns 0 and stores -1.) */
size_t utf8_decode(const char *s, size_t n, int32_t *cp);
/* Encodes cp (valid scalar value) into out; returns 1..4. Anything else
 * (negative, surrogate, past U+10FFFF) is encoded as U+FFFD. */
size_t utf8_encode(int32_t cp, char out[4]);
static inline void
buf_add_cp(buf *b, int32_t cp)
{
    char tmp[4];
    buf_add(b, tmp, utf8_encode(cp, tmp));
}

/* True if s[0..n) is valid UTF-8 (ASCII fast path). */
bool utf8_valid(const char *s, size_t n);
/* Length of the longest valid UTF-8 prefix of s[0..n) (n when all valid). */
size_t utf8_valid_prefix(const char *s, size_t n);
/* True if s[0..n) is all ASCII. */
bool ascii_only(const char *s, size_t n);
/* Appends s with every maximal invalid subpart replaced by one U+FFFD (the
 * Unicode "best practice": E2 80 41 gives U+FFFD 'A', C0 80 two U+FFFD). */
void utf8_repair(buf *out, const char *s, size_t n);

#endif
