/* fold.h — the folded form of text that keyword matching compares.
 *
 * Folding makes "Vučić", "VUCIC", "Vuc\u030Cic\u0301" and "vucic" the same
 * bytes: NFKC, Unicode case folding, marks (Mn, Me) stripped, Latin letters
 * that do not decompose mapped to ASCII (đ→d, ł→l, ø→o, ß→ss, æ→ae, œ→oe,
 * þ→th, ð→d, ı→i, ħ→h, ŀ→l, ŧ→t, ĸ→k, ŋ→n, ə→e and ~330 others),
 * typographic apostrophes (’ ‘ ‛ ʼ ʻ ʾ ʿ ′ ` ´) to ', dashes (‐ ‑ ‒ – — ―
 * − ⁃ ⸺) to -, every Unicode space (Zs: NBSP, U+202F, thin, ideographic...)
 * to ' ', line and paragraph separators to '\n'; invisible format characters
 * (soft hyphen, ZWJ, bidi controls, BOM) vanish and U+200B becomes ' '.
 * Invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart, so any byte
 * string folds in one pass and never loops. ASCII is folded without utf8proc;
 * other code points go through utf8proc once and are then cached. */
#ifndef VIGIE_FOLD_H
#define VIGIE_FOLD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One entry per output byte: src[i] is the offset in the input of the start
 * of the character output byte i came from. fold_text appends to it in step
 * with the bytes it appends to out (start both empty and src[i] describes
 * out->p[i]); src[len] is then a sentinel holding n, the end of the input. */
typedef struct fold_map {
    size_t *src;
    size_t len, cap;
} fold_map;

/* Appends the folded form of s[0..n) to out; fills map when non-NULL. */
void fold_text(buf *out, const char *s, size_t n, fold_map *map);
void fold_map_free(fold_map *m);

/* The ASCII a Latin letter without a decomposition folds to ("d" for đ,
 * "ss" for ß, "ae" for æ), or NULL for any other code point. */
const char *fold_latin_letter(int32_t cp);

/* ---- Building blocks shared with the matcher (match.c). ---- */

/* How the matcher treats one input character once folded. */
enum fold_class {
    FOLD_WORD = 0, /* letters/digits only: part of a word */
    FOLD_SEP,      /* no letter or digit: a word boundary */
    FOLD_NONE,     /* folds to nothing (a mark, a format character) */
    FOLD_ISOLATE,  /* a letter of a script written without spaces (Han,
                      kana, Thai, Lao, Khmer, Myanmar): a word by itself */
    FOLD_MIXED     /* anything else (½ → "1⁄2"): use fold_cp() */
};

/* The cached fold of one code point: cls, and the folded UTF-8 (len bytes,
 * at most 14; longer folds are FOLD_MIXED with len 0). */
typedef struct fold_entry {
    uint8_t cls, len;
    char s[14];
} fold_entry;

/* Valid for the life of the process (a lazily built, lock-free cache).
 * cp must be a Unicode scalar value (not a surrogate, <= U+10FFFF). */
static inline const fold_entry *fold_lookup(int32_t cp);

/* The folded code points of cp (at most FOLD_CP_MAX), uncached. */
#define FOLD_CP_MAX 40
size_t fold_cp(int32_t cp, int32_t out[FOLD_CP_MAX]);
/* Whether a folded code point is a letter or digit (Unicode L*, N*). */
bool fold_is_word(int32_t cp);
/* Whether a folded letter belongs to a script written without spaces. */
bool fold_is_isolate(int32_t cp);

/* Decodes one character at s (n > 0). Returns its length (>= 1) and stores
 * the code point, or U+FFFD for the maximal invalid subpart (so invalid
 * input advances by at least one byte and never loops). */
static inline size_t
fold_decode(const char *s, size_t n, int32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    size_t k = 1;
    for (; k <= need; k++) {
        if (k >= n) break;
        unsigned b = u[k];
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
        v = (v << 6) | (b & 0x3F);
    }
    if (k <= need) {
        *cp = 0xFFFD; /* the maximal invalid subpart: k bytes */
        return k;
    }
    *cp = (int32_t)v;
    return need + 1;
}

/* The cache behind fold_lookup: pages of 256 entries, NULL until used. */
#define FOLD_PAGE_BITS 8
extern _Atomic(fold_entry *) fold_pages_[0x110000 >> FOLD_PAGE_BITS];
const fold_entry *fold_lookup_slow(int32_t cp);

static inline const fold_entry *
fold_lookup(int32_t cp)
{
    fold_entry *p = atomic_load_explicit(
        &fold_pages_[(uint32_t)cp >> FOLD_PAGE_BITS], memory_order_acquire);
    if (UNLIKELY(!p)) return fold_lookup_slow(cp);
    return &p[(uint32_t)cp & ((1u << FOLD_PAGE_BITS) - 1)];
}

#endif
