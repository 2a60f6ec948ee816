/* scan.h — private to utf8.c, charset.c, text.c and jsonw.c: the inner
 * loops they share. Each scanner returns how many leading bytes need no
 * attention, so callers copy or skip whole runs and only look at the byte that
 * stopped them. With SSE2 (every x86-64) they look at 16 bytes per step;
 * elsewhere at 8 (a uint64_t), then one. Define VIGIE_NO_SIMD to force the
 * portable code; tests compare both. */
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

/* ---- validation, 16 bytes at a time ------------------------------------ *
 *
 * French, German or Serbian text has a multi-byte character every few
 * words. Scanning ASCII runs and decoding each sequence on its own then
 * stops every few dozen bytes at a place no branch predictor guesses, which
 * made the charset pass cost as much as a third of what libxml2 spends on
 * the same text. With SSE2 the validators below check whole blocks without
 * a branch per character: 64 bytes at once when they are plain ASCII, else
 * 16 at a time, turning each byte class into a 16-bit mask. A block is
 * accepted when the continuation bytes its lead bytes call for are exactly
 * the continuation bytes present; what a sequence begun near the end of a
 * block requires of the next one is carried over. The blocks only accept
 * what is certainly valid and common: lead bytes whose second byte has a
 * narrower range (E0, ED, F0..F4), 4-byte sequences, bytes never valid and
 * (for XML) controls and EF (U+FFFE, U+FFFF) stop the block, and the
 * byte-at-a-time decoder takes it from there, exactly, for a few bytes. */

#ifdef SCAN_SSE2
/* What the sequences begun in one block still require of the next: bit k
 * is byte k being a continuation byte (k < 2: only 2- and 3-byte sequences
 * go through the blocks). */
typedef struct scan_carry {
    unsigned need;
} scan_carry;

/* Bytes of v that XML forbids: C0 controls but tab, LF, CR. Bytes from 0x80
 * up are flagged too (signed compare); callers want those as well. */
static inline __m128i
scan_xml_stop(__m128i v)
{
    /* v | 4 is CR for tab and CR, and LF stays apart from the rest */
    __m128i ok = _mm_or_si128(
        _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(4)), _mm_set1_epi8('\r')),
        _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    return _mm_andnot_si128(ok, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
}

/* True when the 64 bytes at s are all ASCII (with xml: none of them a
 * control XML forbids): the common case, one branch for four blocks. */
static inline bool
scan_clean64(const unsigned char *s, bool xml)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s);
    __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(s + 48));
    __m128i any;
    if (xml)
        any = _mm_or_si128(_mm_or_si128(scan_xml_stop(a), scan_xml_stop(b)),
                           _mm_or_si128(scan_xml_stop(c), scan_xml_stop(d)));
    else
        any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
    return !_mm_movemask_epi8(any);
}

/* Bit mask of the bytes of block v in 0x80..0x80+t-1. x is v xor 0x80,
 * which turns the unsigned order of 0x80..0xFF into the signed order of
 * 0x00..0x7F (SSE2 compares are signed) and makes ASCII negative; hi, the
 * mask of the bytes from 0x80 up, takes ASCII out again. */
static inline unsigned
scan_below_mask(__m128i x, int t, unsigned hi)
{
    return (unsigned)_mm_movemask_epi8(
               _mm_cmplt_epi8(x, _mm_set1_epi8((char)t))) &
           hi;
}

/* True when block v, read after what *c says the blocks before it left
 * open, is certainly valid (with xml: holds only characters XML allows);
 * *c is then updated for the next block. False leaves *c alone: the block
 * holds an error, or something the decoder must look at. */
static inline bool
scan_block_utf8(__m128i v, scan_carry *c, bool xml)
{
    __m128i x = _mm_xor_si128(v, _mm_set1_epi8((char)0x80));
    unsigned hi = (unsigned)_mm_movemask_epi8(v);
    /* C0 and C1 (never valid), E0 and ED (narrower second byte), F0..FF */
    __m128i stop =
        _mm_or_si128(_mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xFE)),
                                    _mm_set1_epi8((char)0xC0)),
                     _mm_cmpgt_epi8(x, _mm_set1_epi8(0x6F)));
    stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xE0)));
    stop = _mm_or_si128(stop, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xED)));
    unsigned bad = (unsigned)_mm_movemask_epi8(stop);
    if (xml) {
        /* forbidden controls, and EF, which leads U+FFFE and U+FFFF */
        stop = _mm_or_si128(_mm_andnot_si128(v, scan_xml_stop(v)),
                            _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xEF)));
        bad |= (unsigned)_mm_movemask_epi8(stop);
    }
    unsigned cont = scan_below_mask(x, 0x40, hi);        /* 80..BF */
    unsigned lead3 = hi & ~scan_below_mask(x, 0x60, hi); /* E1..EF left */
    unsigned need = ((hi & ~cont) << 1) | (lead3 << 2) | c->need;
    /* Equality catches both a missing continuation byte and a stray one
     * (a lead byte where a continuation was due included). */
    bad |= (need & 0xFFFF) ^ cont;
    if (bad) return false;
    c->need = need >> 16;
    return true;
}
#endif

/* The exact, byte-at-a-time validator the blocks fall back on: from s[i]
 * (a character boundary) to at least s[stop], or to the first byte that is
 * not valid (with xml: not a character XML allows). Returns where it
 * stopped: a character boundary at or past stop, or the offending byte
 * (then *bad is set). */
static inline size_t
scan_utf8_bytes(const unsigned char *s, size_t n, size_t i, size_t stop,
                bool xml, bool *bad)
{
    while (i < stop) {
        i +=
            xml ? scan_xml_ascii(s + i, stop - i) : scan_ascii(s + i, stop - i);
        if (i >= stop || s[i] < 0x80) break; /* the end, or a control */
        int32_t cp;
        size_t k = scan_utf8(s + i, n - i, &cp);
        if (cp < 0 || (xml && (cp == 0xFFFE || cp == 0xFFFF))) break;
        i += k;
    }
    *bad = i < stop;
    return i;
}

#ifdef SCAN_SSE2
/* Offset of the first block from s[j] on that scan_block_utf8 does not
 * accept, or of the end of the whole blocks; *c says what the accepted
 * ones left open. */
static inline size_t
scan_blocks(const unsigned char *s, size_t n, size_t j, scan_carry *c, bool xml)
{
    while (j + 64 <= n) {
        if (!c->need && scan_clean64(s + j, xml)) {
            j += 64;
            continue;
        }
        for (size_t end = j + 64; j < end; j += 16)
            if (!scan_block_utf8(_mm_loadu_si128((const __m128i *)(s + j)), c,
                                 xml))
                return j;
    }
    for (; j + 16 <= n; j += 16)
        if (!scan_block_utf8(_mm_loadu_si128((const __m128i *)(s + j)), c, xml))
            return j;
    return j;
}
#endif

/* Length of the longest prefix of s[0..n) that is valid UTF-8 (with xml:
 * made only of characters XML allows, so no stray control and no
 * U+FFFE/U+FFFF). */
static inline size_t
scan_utf8_prefix(const unsigned char *s, size_t n, bool xml)
{
    size_t i = 0;
    for (;;) {
        size_t stop = n;
#ifdef SCAN_SSE2
        scan_carry c = {0};
        i = scan_blocks(s, n, i, &c, xml);
        /* Back to the lead byte of a sequence the last accepted block left
         * open: it lies in that block, so not before where we started. */
        if (c.need) {
            while ((s[i - 1] & 0xC0) == 0x80)
                i--;
            i--;
        }
        /* The decoder through the block that stopped us (it ends at most
         * 18 bytes on), then blocks again. */
        if (n - i > 18) stop = i + 18;
#endif
        bool bad;
        i = scan_utf8_bytes(s, n, i, stop, xml, &bad);
        if (bad || i >= n) return i;
    }
}

/* Length of the prefix of s[0..n) that is valid UTF-8 containing only
 * characters XML allows (so no stray control, no U+FFFE/U+FFFF). */
static inline size_t
scan_xml_utf8(const unsigned char *s, size_t n)
{
    return scan_utf8_prefix(s, n, true);
}

#endif
