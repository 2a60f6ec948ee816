/* fold.c — see fold.h.
 *
 * The fold of one code point is: a direct mapping for the characters whose
 * Unicode decomposition is not what a reader expects (Latin letters with a
 * stroke or hook, apostrophes, dashes, spaces, invisible format characters);
 * otherwise utf8proc's compatibility decomposition with case folding, marks
 * dropped, and the same direct mapping applied to what remains. Composing
 * again (the C of NFKC) would only rebuild letters whose marks we strip, so
 * it is skipped, except for Hangul, which fold_text recomposes. */
#include "fold.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <utf8proc.h>

#define REPLACEMENT 0xFFFD

/* Latin letters that carry no decomposition (or a misleading one, like
 * ŀ → "l·"), derived from the UnicodeData names "LATIN ... LETTER X WITH
 * <stroke, hook, bar, curl, tail...>" → x, small capitals → their letter,
 * ligatures and digraphs → their letters, then reviewed by hand (þ → th,
 * ð → d, ĸ → k, ŋ → n, schwa and open e → e, open o → o, script g → g).
 * Phonetic letters without a Latin base (turned, reversed, esh, ezh, clicks)
 * are left alone: they stay letters. Sorted by code point. */
static const struct latin {
    uint32_t cp;
    char s[3];
} latin[] = {
    {0x00C6, "ae"}, {0x00D0, "d"},  {0x00D8, "o"},  {0x00DE, "th"},
    {0x00DF, "ss"}, {0x00E6, "ae"}, {0x00F0, "d"},  {0x00F8, "o"},
    {0x00FE, "th"}, {0x0110, "d"},  {0x0111, "d"},  {0x0126, "h"},
    {0x0127, "h"},  {0x0131, "i"},  {0x0138, "k"},  {0x013F, "l"},
    {0x0140, "l"},  {0x0141, "l"},  {0x0142, "l"},  {0x014A, "n"},
    {0x014B, "n"},  {0x0152, "oe"}, {0x0153, "oe"}, {0x0166, "t"},
    {0x0167, "t"},  {0x0180, "b"},  {0x0181, "b"},  {0x0182, "b"},
    {0x0183, "b"},  {0x0186, "o"},  {0x0187, "c"},  {0x0188, "c"},
    {0x0189, "d"},  {0x018A, "d"},  {0x018B, "d"},  {0x018C, "d"},
    {0x018F, "e"},  {0x0190, "e"},  {0x0191, "f"},  {0x0192, "f"},
    {0x0193, "g"},  {0x0195, "hv"}, {0x0197, "i"},  {0x0198, "k"},
    {0x0199, "k"},  {0x019A, "l"},  {0x019D, "n"},  {0x019E, "n"},
    {0x019F, "o"},  {0x01A2, "oi"}, {0x01A3, "oi"}, {0x01A4, "p"},
    {0x01A5, "p"},  {0x01A6, "yr"}, {0x01AB, "t"},  {0x01AC, "t"},
    {0x01AD, "t"},  {0x01AE, "t"},  {0x01B2, "v"},  {0x01B3, "y"},
    {0x01B4, "y"},  {0x01B5, "z"},  {0x01B6, "z"},  {0x01E2, "ae"},
    {0x01E3, "ae"}, {0x01E4, "g"},  {0x01E5, "g"},  {0x01F6, "hv"},
    {0x01FC, "ae"}, {0x01FD, "ae"}, {0x01FE, "o"},  {0x01FF, "o"},
    {0x0220, "n"},  {0x0221, "d"},  {0x0222, "ou"}, {0x0223, "ou"},
    {0x0224, "z"},  {0x0225, "z"},  {0x0234, "l"},  {0x0235, "n"},
    {0x0236, "t"},  {0x0237, "j"},  {0x0238, "db"}, {0x0239, "qp"},
    {0x023A, "a"},  {0x023B, "c"},  {0x023C, "c"},  {0x023D, "l"},
    {0x023E, "t"},  {0x023F, "s"},  {0x0240, "z"},  {0x0243, "b"},
    {0x0244, "u"},  {0x0246, "e"},  {0x0247, "e"},  {0x0248, "j"},
    {0x0249, "j"},  {0x024A, "q"},  {0x024B, "q"},  {0x024C, "r"},
    {0x024D, "r"},  {0x024E, "y"},  {0x024F, "y"},  {0x0251, "a"},
    {0x0253, "b"},  {0x0254, "o"},  {0x0255, "c"},  {0x0256, "d"},
    {0x0257, "d"},  {0x0259, "e"},  {0x025B, "e"},  {0x025F, "j"},
    {0x0260, "g"},  {0x0261, "g"},  {0x0262, "g"},  {0x0266, "h"},
    {0x0268, "i"},  {0x026A, "i"},  {0x026B, "l"},  {0x026C, "l"},
    {0x026D, "l"},  {0x0271, "m"},  {0x0272, "n"},  {0x0273, "n"},
    {0x0274, "n"},  {0x0276, "oe"}, {0x027C, "r"},  {0x027D, "r"},
    {0x027E, "r"},  {0x0280, "r"},  {0x0282, "s"},  {0x0284, "j"},
    {0x0288, "t"},  {0x0289, "u"},  {0x028B, "v"},  {0x028F, "y"},
    {0x0290, "z"},  {0x0291, "z"},  {0x0299, "b"},  {0x029B, "g"},
    {0x029C, "h"},  {0x029D, "j"},  {0x029F, "l"},  {0x02A0, "q"},
    {0x02A3, "dz"}, {0x02A5, "dz"}, {0x02A6, "ts"}, {0x02A8, "tc"},
    {0x02AA, "ls"}, {0x02AB, "lz"}, {0x1D00, "a"},  {0x1D01, "ae"},
    {0x1D04, "c"},  {0x1D05, "d"},  {0x1D07, "e"},  {0x1D0A, "j"},
    {0x1D0B, "k"},  {0x1D0C, "l"},  {0x1D0D, "m"},  {0x1D0F, "o"},
    {0x1D15, "ou"}, {0x1D18, "p"},  {0x1D1B, "t"},  {0x1D1C, "u"},
    {0x1D20, "v"},  {0x1D21, "w"},  {0x1D22, "z"},  {0x1D6B, "ue"},
    {0x1D6C, "b"},  {0x1D6D, "d"},  {0x1D6E, "f"},  {0x1D6F, "m"},
    {0x1D70, "n"},  {0x1D71, "p"},  {0x1D72, "r"},  {0x1D73, "r"},
    {0x1D74, "s"},  {0x1D75, "t"},  {0x1D76, "z"},  {0x1D7A, "th"},
    {0x1D7B, "i"},  {0x1D7D, "p"},  {0x1D7E, "u"},  {0x1D80, "b"},
    {0x1D81, "d"},  {0x1D82, "f"},  {0x1D83, "g"},  {0x1D84, "k"},
    {0x1D85, "l"},  {0x1D86, "m"},  {0x1D87, "n"},  {0x1D88, "p"},
    {0x1D89, "r"},  {0x1D8A, "s"},  {0x1D8C, "v"},  {0x1D8D, "x"},
    {0x1D8E, "z"},  {0x1D8F, "a"},  {0x1D91, "d"},  {0x1D92, "e"},
    {0x1D96, "i"},  {0x1D99, "u"},  {0x1E9A, "a"},  {0x1E9C, "s"},
    {0x1E9D, "s"},  {0x1E9E, "ss"}, {0x1EFE, "y"},  {0x1EFF, "y"},
    {0x2C60, "l"},  {0x2C61, "l"},  {0x2C62, "l"},  {0x2C63, "p"},
    {0x2C64, "r"},  {0x2C65, "a"},  {0x2C66, "t"},  {0x2C67, "h"},
    {0x2C68, "h"},  {0x2C69, "k"},  {0x2C6A, "k"},  {0x2C6B, "z"},
    {0x2C6C, "z"},  {0x2C6D, "a"},  {0x2C6E, "m"},  {0x2C71, "v"},
    {0x2C72, "w"},  {0x2C73, "w"},  {0x2C74, "v"},  {0x2C78, "e"},
    {0x2C7A, "o"},  {0x2C7E, "s"},  {0x2C7F, "z"},  {0xA728, "tz"},
    {0xA729, "tz"}, {0xA730, "f"},  {0xA731, "s"},  {0xA732, "aa"},
    {0xA733, "aa"}, {0xA734, "ao"}, {0xA735, "ao"}, {0xA736, "au"},
    {0xA737, "au"}, {0xA738, "av"}, {0xA739, "av"}, {0xA73A, "av"},
    {0xA73B, "av"}, {0xA73C, "ay"}, {0xA73D, "ay"}, {0xA740, "k"},
    {0xA741, "k"},  {0xA742, "k"},  {0xA743, "k"},  {0xA744, "k"},
    {0xA745, "k"},  {0xA748, "l"},  {0xA749, "l"},  {0xA74A, "o"},
    {0xA74B, "o"},  {0xA74C, "o"},  {0xA74D, "o"},  {0xA74E, "oo"},
    {0xA74F, "oo"}, {0xA750, "p"},  {0xA751, "p"},  {0xA752, "p"},
    {0xA753, "p"},  {0xA754, "p"},  {0xA755, "p"},  {0xA756, "q"},
    {0xA757, "q"},  {0xA758, "q"},  {0xA759, "q"},  {0xA75E, "v"},
    {0xA75F, "v"},  {0xA760, "vy"}, {0xA761, "vy"}, {0xA778, "um"},
    {0xA78E, "l"},  {0xA790, "n"},  {0xA791, "n"},  {0xA792, "c"},
    {0xA793, "c"},  {0xA794, "c"},  {0xA795, "h"},  {0xA796, "b"},
    {0xA797, "b"},  {0xA798, "f"},  {0xA799, "f"},  {0xA7A0, "g"},
    {0xA7A1, "g"},  {0xA7A2, "k"},  {0xA7A3, "k"},  {0xA7A4, "n"},
    {0xA7A5, "n"},  {0xA7A6, "r"},  {0xA7A7, "r"},  {0xA7A8, "s"},
    {0xA7A9, "s"},  {0xA7AA, "h"},  {0xA7AC, "g"},  {0xA7AD, "l"},
    {0xA7AE, "i"},  {0xA7AF, "q"},  {0xA7B2, "j"},  {0xA7B8, "u"},
    {0xA7B9, "u"},  {0xA7C4, "c"},  {0xA7C5, "s"},  {0xA7C6, "z"},
    {0xA7C7, "d"},  {0xA7C8, "d"},  {0xA7C9, "s"},  {0xA7CA, "s"},
    {0xAB34, "e"},  {0xAB37, "l"},  {0xAB38, "l"},  {0xAB39, "l"},
    {0xAB3A, "m"},  {0xAB3B, "n"},  {0xAB46, "r"},  {0xAB49, "r"},
    {0xAB4E, "u"},  {0xAB50, "ui"}, {0xAB52, "u"},  {0xAB56, "x"},
    {0xAB57, "x"},  {0xAB58, "x"},  {0xAB59, "x"},  {0xAB5A, "y"},
    {0xAB63, "uo"}, {0xAB66, "dz"}, {0xAB67, "ts"},
};

static int
latin_cmp(const void *key, const void *elem)
{
    uint32_t cp = *(const uint32_t *)key;
    const struct latin *l = elem;
    return cp < l->cp ? -1 : cp > l->cp;
}

const char *
fold_latin_letter(int32_t cp)
{
    if (cp < 0xC6 || cp > 0xAB67) return NULL;
    uint32_t key = (uint32_t)cp;
    const struct latin *l =
        bsearch(&key, latin, ARRAY_LEN(latin), sizeof latin[0], latin_cmp);
    return l ? l->s : NULL;
}

/* The characters folded before (and again after) decomposition. Appends
 * their fold to out and returns true, or returns false to let utf8proc
 * decide. */
static bool
premap(int32_t cp, int32_t *out, size_t *n)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            cp += 'a' - 'A';
        else if (cp == '`')
            cp = '\'';
        out[(*n)++] = cp;
        return true;
    }
    switch (cp) {
    case 0x00B4: /* ´ acute accent (NFKD: space + combining acute) */
    case 0x02B9: /* ʹ modifier prime */
    case 0x02BB: /* ʻ turned comma (okina) */
    case 0x02BC: /* ʼ modifier apostrophe */
    case 0x02BD: /* ʽ reversed comma */
    case 0x02BE: /* ʾ right half ring (hamza in transliterations) */
    case 0x02BF: /* ʿ left half ring (ayin) */
    case 0x2018: /* ‘ */
    case 0x2019: /* ’ */
    case 0x201B: /* ‛ */
    case 0x2032: /* ′ prime */
    case 0x2035: /* ‵ reversed prime */
    case 0xFF07: /* ＇ fullwidth apostrophe */
        out[(*n)++] = '\'';
        return true;
    case 0x2010: /* ‐ hyphen */
    case 0x2011: /* ‑ non-breaking hyphen */
    case 0x2012: /* ‒ figure dash */
    case 0x2013: /* – en dash */
    case 0x2014: /* — em dash */
    case 0x2015: /* ― horizontal bar */
    case 0x2043: /* ⁃ hyphen bullet */
    case 0x2212: /* − minus sign */
    case 0x2E3A: /* ⸺ two-em dash */
    case 0x2E3B: /* ⸻ three-em dash */
    case 0xFE58: /* ﹘ small em dash */
    case 0xFE63: /* ﹣ small hyphen-minus */
    case 0xFF0D: /* － fullwidth hyphen-minus */
        out[(*n)++] = '-';
        return true;
    case 0x0085: /* next line */
    case 0x2028: /* line separator */
    case 0x2029: /* paragraph separator */
        out[(*n)++] = '\n';
        return true;
    case 0x200B: /* zero width space: a break opportunity between words */
        out[(*n)++] = ' ';
        return true;
    default:
        break;
    }
    const char *l = fold_latin_letter(cp);
    if (l) {
        for (; *l; l++)
            out[(*n)++] = (unsigned char)*l;
        return true;
    }
    utf8proc_category_t cat = utf8proc_category(cp);
    if (cat == UTF8PROC_CATEGORY_ZS) {
        out[(*n)++] = ' ';
        return true;
    }
    if (cat == UTF8PROC_CATEGORY_CF) return true; /* invisible: dropped */
    return false;
}

size_t
fold_cp(int32_t cp, int32_t out[FOLD_CP_MAX])
{
    size_t n = 0;
    if (premap(cp, out, &n)) return n;
    /* The longest decomposition in Unicode is 18 code points (U+FDFA), and
     * premap turns one into at most 2: FOLD_CP_MAX leaves room for both. */
    utf8proc_int32_t d[FOLD_CP_MAX / 2];
    int bc = 0;
    utf8proc_ssize_t r = utf8proc_decompose_char(
        cp, d, (utf8proc_ssize_t)ARRAY_LEN(d),
        UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD, &bc);
    if (r < 0 || r > (utf8proc_ssize_t)ARRAY_LEN(d)) {
        out[n++] = cp; /* cannot happen with utf8proc's data; stay total */
        return n;
    }
    for (utf8proc_ssize_t k = 0; k < r; k++) {
        utf8proc_category_t cat = utf8proc_category(d[k]);
        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME)
            continue;
        if (!premap(d[k], out, &n)) out[n++] = d[k];
    }
    return n;
}

bool
fold_is_word(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
               (cp >= '0' && cp <= '9');
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

bool
fold_is_isolate(int32_t cp)
{
    return (cp >= 0x0E00 && cp <= 0x0EFF) || /* Thai, Lao */
           (cp >= 0x1000 && cp <= 0x109F) || /* Myanmar */
           (cp >= 0x1780 && cp <= 0x17FF) || /* Khmer */
           (cp >= 0x2E80 && cp <= 0x2FDF) || /* CJK radicals */
           (cp >= 0x3005 && cp <= 0x3007) || /* 々 〆 〇 */
           (cp >= 0x3021 && cp <= 0x303C) || /* Hangzhou numerals, marks */
           (cp >= 0x3040 && cp <= 0x30FF) || /* Hiragana, Katakana */
           (cp >= 0x31F0 && cp <= 0x31FF) || /* Katakana extension */
           (cp >= 0x3400 && cp <= 0x4DBF) || /* CJK extension A */
           (cp >= 0x4E00 && cp <= 0x9FFF) || /* CJK unified ideographs */
           (cp >= 0xF900 && cp <= 0xFAFF) || /* CJK compatibility */
           (cp >= 0x20000 && cp <= 0x3FFFF); /* CJK extensions B.. */
}

static size_t
encode(int32_t cp, char *o)
{
    return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)o);
}

static void
entry_build(fold_entry *e, int32_t cp)
{
    int32_t f[FOLD_CP_MAX];
    size_t n = fold_cp(cp, f);
    size_t words = 0, iso = 0, len = 0;
    for (size_t k = 0; k < n; k++) {
        if (fold_is_word(f[k])) {
            words++;
            if (fold_is_isolate(f[k])) iso++;
        }
    }
    if (n == 0)
        e->cls = FOLD_NONE;
    else if (words == 0)
        e->cls = FOLD_SEP;
    else if (words == n && iso == 0)
        e->cls = FOLD_WORD;
    else if (n == 1 && iso == 1)
        e->cls = FOLD_ISOLATE;
    else
        e->cls = FOLD_MIXED;
    for (size_t k = 0; k < n; k++) {
        char tmp[4];
        size_t l = encode(f[k], tmp);
        if (len + l > sizeof e->s) {
            e->cls = FOLD_MIXED; /* too long to cache: fold_cp each time */
            len = 0;
            break;
        }
        memcpy(e->s + len, tmp, l);
        len += l;
    }
    e->len = (uint8_t)len;
}

/* One page of 256 entries per 256 code points, built on first use. Pages
 * are never freed: at most 1.1 MiB for the whole BMP, a few KiB in practice.
 * Publication is a compare-and-swap, so concurrent first uses are safe. */
_Atomic(fold_entry *) fold_pages_[0x110000 >> FOLD_PAGE_BITS];

const fold_entry *
fold_lookup_slow(int32_t cp)
{
    size_t pi = (uint32_t)cp >> FOLD_PAGE_BITS;
    fold_entry *p =
        atomic_load_explicit(&fold_pages_[pi], memory_order_acquire);
    if (!p) {
        fold_entry *np = xcalloc((size_t)1 << FOLD_PAGE_BITS, sizeof *np);
        int32_t base = (int32_t)(pi << FOLD_PAGE_BITS);
        for (int32_t k = 0; k < (1 << FOLD_PAGE_BITS); k++) {
            int32_t c = base + k;
            if (c >= 0xD800 && c <= 0xDFFF) c = REPLACEMENT;
            entry_build(&np[k], c);
        }
        fold_entry *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&fold_pages_[pi], &expected,
                                                    np, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            p = np;
        } else {
            free(np);
            p = expected;
        }
    }
    return &p[(uint32_t)cp & ((1u << FOLD_PAGE_BITS) - 1)];
}

/* ---- fold_text ---- */

static void
map_reserve(fold_map *m, size_t extra)
{
    if (m->cap - m->len > extra) return; /* room for the sentinel too */
    size_t cap = m->cap ? m->cap : 64;
    while (cap - m->len <= extra) {
        if (cap > SIZE_MAX / 2 / sizeof *m->src) oom(SIZE_MAX);
        cap *= 2;
    }
    m->src = xrealloc(m->src, cap * sizeof *m->src);
    m->cap = cap;
}

static void
map_add(fold_map *m, size_t src, size_t count)
{
    if (!m) return;
    map_reserve(m, count);
    for (size_t k = 0; k < count; k++)
        m->src[m->len++] = src;
}

void
fold_map_free(fold_map *m)
{
    free(m->src);
    m->src = NULL;
    m->len = m->cap = 0;
}

#define HANGUL_S 0xAC00
#define HANGUL_L 0x1100
#define HANGUL_V 0x1161
#define HANGUL_T 0x11A7
#define HANGUL_SCOUNT 11172

/* Conjoining jamo after the L (or LV) they complete are composed into the
 * syllable, in place: both are 3 bytes, so out and map keep their shape. */
static bool
hangul_compose(buf *out, int32_t *last, int32_t cp)
{
    int32_t s;
    if (*last >= HANGUL_L && *last < HANGUL_L + 19 && cp >= HANGUL_V &&
        cp < HANGUL_V + 21)
        s = HANGUL_S + ((*last - HANGUL_L) * 21 + (cp - HANGUL_V)) * 28;
    else if (*last >= HANGUL_S && *last < HANGUL_S + HANGUL_SCOUNT &&
             (*last - HANGUL_S) % 28 == 0 && cp > HANGUL_T &&
             cp < HANGUL_T + 28)
        s = *last + (cp - HANGUL_T);
    else
        return false;
    encode(s, out->p + out->len - 3);
    *last = s;
    return true;
}

/* Writes one folded code point, composing it with the syllable or
 * leading jamo before it when it completes them. */
static void
put_cp(buf *out, int32_t *last, int32_t cp)
{
    if (*last >= 0 && hangul_compose(out, last, cp)) return;
    char tmp[4];
    buf_add(out, tmp, encode(cp, tmp));
    bool lead = cp >= HANGUL_L && cp < HANGUL_L + 19;
    bool syllable = cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT;
    *last = lead || syllable ? cp : -1;
}

/* A character that folds to several code points, jamo among them (㉮ is
 * ᄀ + ᅡ once its circle is dropped): composed as they are written, so
 * that folding is idempotent and ㉮ folds as 가 does. */
static void
put_expansion(buf *out, int32_t *last, const char *s, size_t n)
{
    for (size_t k = 0; k < n;) {
        int32_t cp;
        k += fold_decode(s + k, n - k, &cp);
        put_cp(out, last, cp);
    }
}

/* ASCII folds to itself, lower-cased, except ` which is an apostrophe. */
#define AF(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c) == '`' ? '\'' : (c))
#define AF8(b)                                                                 \
    AF(b), AF(b + 1), AF(b + 2), AF(b + 3), AF(b + 4), AF(b + 5), AF(b + 6),   \
        AF(b + 7)
static const unsigned char ascii_fold[128] = {
    AF8(0),  AF8(8),  AF8(16), AF8(24), AF8(32), AF8(40),  AF8(48),  AF8(56),
    AF8(64), AF8(72), AF8(80), AF8(88), AF8(96), AF8(104), AF8(112), AF8(120),
};

void
fold_text(buf *out, const char *s, size_t n, fold_map *map)
{
    const unsigned char *u = (const unsigned char *)s;
    int32_t last = -1; /* last code point written, for Hangul */
    buf_grow(out, n);
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            size_t j = i;
            while (j < n && u[j] < 0x80)
                j++;
            buf_grow(out, j - i);
            if (map) map_reserve(map, j - i);
            char *o = out->p + out->len;
            for (size_t k = i; k < j; k++)
                *o++ = (char)ascii_fold[u[k]];
            if (map)
                for (size_t k = i; k < j; k++)
                    map->src[map->len++] = k;
            out->len += j - i;
            last = -1;
            i = j;
            continue;
        }
        int32_t cp;
        size_t l = fold_decode(s + i, n - i, &cp);
        size_t before = out->len;
        if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
            put_cp(out, &last, cp); /* already composed: stays so */
        } else {
            const fold_entry *e = fold_lookup(cp);
            if (e->cls == FOLD_MIXED) {
                int32_t f[FOLD_CP_MAX];
                size_t fn = fold_cp(cp, f);
                last = -1;
                for (size_t k = 0; k < fn; k++)
                    put_cp(out, &last, f[k]);
            } else if (e->len > 3 && (unsigned char)e->s[0] == 0xE1) {
                /* (U+1000-U+1FFF first: maybe jamo) */
                last = -1;
                put_expansion(out, &last, e->s, e->len);
            } else {
                /* A jamo (whichever character folded to it: compatibility
                 * jamo ㄱ folds to ᄀ) may complete the syllable before. */
                int32_t o = -1;
                if (e->len == 3) fold_decode(e->s, 3, &o);
                if (last < 0 || o < 0 || !hangul_compose(out, &last, o)) {
                    buf_add(out, e->s, e->len);
                    last = o >= HANGUL_L && o < HANGUL_L + 19 ? o : -1;
                } /* else merged into the syllable, mapped to its start */
            }
        }
        map_add(map, i, out->len - before);
        i += l;
    }
    if (!out->p) buf_grow(out, 0);
    out->p[out->len] = '\0';
    if (map) {
        map_reserve(map, 0);
        map->src[map->len] = n;
    }
}
