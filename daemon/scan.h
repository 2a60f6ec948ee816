/* scan.h — private to utf8.c, charset.c, text.c and jsonw.c: the inner
 * loops they share. Each scanner returns how many leading bytes need no attention, so
 * callers copy or skip whole runs and only look at the byte that stopped
 * them. With SSE2 (every x86-64) they look at 16 bytes per step; elsewhere
 * at 8 (a uint64_t), then one. Define VIGIE_NO_SIMD to force the portable
 * code; tests compare both. */
#ifndef VIGIE_SCAN_H
#define VIGIE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(VIGIE_NO_SIMD)
#include <emmintrin.h>
#define SCAN_SSE2 1
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SCAN_LE 1
#endif

#define SCAN_ONES UINT64_C(0x0101010101010101)
#define SCAN_HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t
scan_load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Index of the lowest flagged byte of a mask whose flags are the bytes' high
 * bits (little-endian); 8 when none. Exact only for the lowest flag. */
static inline size_t
scan_first_flag(uint64_t m)
{
    return m ? (size_t)__builtin_ctzll(m) >> 3 : 8;
}

/* Length of the ASCII prefix of s[0..n). */
static inline size_t
scan_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;
#ifdef SCAN_SSE2
    for (; i + 16 <= n; i += 16) {
        int m = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + i)));
        if (m) return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t m = scan_load64(s + i) & SCAN_HIGHS;
#ifdef SCAN_LE
        if (m) return i + scan_first_flag(m);
#else
        if (m) break;
#endif
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/* Decodes one code point (see utf8_decode in utf8.h); inline for the loops
 * that meet a multi-byte sequence every few words of French text. */
static inline size_t
scan_utf8(const unsigned char *u, size_t n, int32_t *cp)
{
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    /* Second-byte bounds per lead byte (Unicode Table 3-7) rule out
     * overlongs, surrogates and values past U+10FFFF at the first
     * continuation byte, which is what the maximal-subpart rule needs. */
    unsigned lo = 0x80, hi = 0xBF;
    size_t len;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) {
        if (n >= 2 && u[1] >= 0x80 && u[1] <= 0xBF) {
            *cp = (int32_t)(((c & 0x1Fu) << 6) | (u[1] & 0x3Fu));
            return 2;
        }
        *cp = -1;
        return 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n || u[i] < lo || u[i] > hi) {
            *cp = -1;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (u[i] & 0x3Fu);
    }
    *cp = (int32_t)v;
    return len;
}

static inline size_t
scan_put_utf8(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* XML 1.0 forbids these ASCII bytes: C0 controls other than tab, LF, CR. */
static inline bool
scan_xml_forbidden_ascii(unsigned c)
{
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

/* Length of the prefix of s[0..n) made of ASCII bytes XML allows. */
static inline size_t
scan_xml_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;
#ifdef SCAN_SSE2
    const __m128i sp = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t');
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        /* signed compare: below 0x20, or 0x80 and up (negative) */
        __m128i bad = _mm_cmplt_epi8(v, sp);
        __m128i ok = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, lf)),
            _mm_cmpeq_epi8(v, cr));
        int m = _mm_movemask_epi8(_mm_andnot_si128(ok, bad));
        if (m) return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w = scan_load64(s + i);
        /* Zero iff every byte is in 0x20..0x7F: no byte borrows, none has
         * its high bit. Tab, LF and CR also stop it; check those bytes. */
        if (((w - SCAN_ONES * 0x20) | w) & SCAN_HIGHS) {
            for (size_t j = 0; j < 8; j++) {
                unsigned c = s[i + j];
                if (c >= 0x80 || scan_xml_forbidden_ascii(c)) return i + j;
            }
        }
    }
    while (i < n && s[i] < 0x80 && !scan_xml_forbidden_ascii(s[i]))
        i++;
    return i;
}

/* Length of the prefix of s[0..n) that is valid UTF-8 containing only
 * characters XML allows (so no stray control, no U+FFFE/U+FFFF). */
static inline size_t
scan_xml_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        i += scan_xml_ascii(s + i, n - i);
        if (i >= n || s[i] < 0x80) return i;
        int32_t cp;
        size_t k = scan_utf8(s + i, n - i, &cp);
        if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF) return i;
        i += k;
    }
}

#endif
