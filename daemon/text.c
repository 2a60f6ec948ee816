/* text.c — plain text from feed fields (text.h).
 *
 * One loop (text_core) serves the three public functions, specialised at
 * compile time by a mode: which bytes are markup ('<'), which start a
 * reference ('&'), whether ASCII whitespace collapses. Ordinary bytes are
 * copied 16 at a time (SSE2; 1 at a time elsewhere) straight into the
 * caller's buffer, grown once up front; the loop only stops at '<', '&',
 * control bytes, a second space in a row, and lead bytes of code points
 * from U+0300 up, whose NFC stability is looked up in a generated table
 * (nfc_table.h). utf8proc runs only when an unstable code point was seen,
 * and only from the code point before it. No allocation per character,
 * none per call beyond growing the output. */
#include "text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <utf8proc.h>

#include "charset.h"
#include "entities.h"
#include "scan.h"
#include "utf8.h"

#include "nfc_table.h"

/* ---- NFC ---------------------------------------------------------------- */

/* True when cp has canonical combining class 0 and NFC_Quick_Check=Yes,
 * i.e. NFC neither changes it nor combines it with what precedes it. */
static inline bool
nfc_stable(uint32_t cp)
{
    if (cp < 0x300) return true;
    if (cp < NFC_PLANE_LIMIT) {
        const uint8_t *b = nfc_stage2[nfc_stage1[cp >> NFC_BLOCK_SHIFT]];
        return !((b[(cp & 127) >> 3] >> (cp & 7)) & 1);
    }
    for (size_t i = 0; i < ARRAY_LEN(nfc_high_ranges); i++)
        if (cp >= nfc_high_ranges[i][0] && cp <= nfc_high_ranges[i][1])
            return false;
    return true;
}

/* Length of the prefix of s[0..n) with no byte from 0xCC up (no code point
 * from U+0300 up, if s is valid UTF-8). */
static inline size_t
scan_below_cc(const unsigned char *s, size_t n)
{
    size_t i = 0;
#ifdef SCAN_SSE2
    const __m128i flip = _mm_set1_epi8((char)0x80);
    const __m128i cb = _mm_set1_epi8(0xCB - 0x80);
    for (; i + 16 <= n; i += 16) {
        __m128i x =
            _mm_xor_si128(_mm_loadu_si128((const __m128i *)(s + i)), flip);
        int m = _mm_movemask_epi8(_mm_cmpgt_epi8(x, cb));
        if (m) return i + (size_t)__builtin_ctz((unsigned)m);
    }
#endif
    while (i < n && s[i] < 0xCC)
        i++;
    return i;
}

size_t
text_nfc_quick(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    for (;;) {
        i += scan_below_cc(s + i, n - i);
        if (i >= n) return n;
        int32_t cp;
        size_t k = scan_utf8(s + i, n - i, &cp);
        if (cp < 0 || !nfc_stable((uint32_t)cp)) return i;
        i += k;
    }
}

/* Offset of the end of the unstable run starting at s[i]: the next code
 * point NFC leaves alone and that nothing before it can combine with
 * (nfc_stable), or n. Invalid bytes count as unstable. */
static size_t
unstable_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n) {
        int32_t cp;
        size_t k = scan_utf8(s + i, n - i, &cp);
        if (cp >= 0 && nfc_stable((uint32_t)cp)) break;
        i += k;
    }
    return i;
}

/* Appends the NFC of s[0..n) to out. Invalid UTF-8 is repaired first
 * (utf8proc refuses it). */
static void
nfc_segment(buf *out, const char *s, size_t n)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (r < 0) {
        buf tmp = {0};
        utf8_repair(&tmp, s, n);
        r = utf8proc_map((const utf8proc_uint8_t *)tmp.p,
                         (utf8proc_ssize_t)tmp.len, &dst,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
        if (r < 0) /* cannot happen on valid UTF-8; keep the repair */
            buf_add(out, tmp.p, tmp.len);
        buf_free(&tmp);
        if (r < 0) return;
    }
    buf_add(out, dst, (size_t)r);
    free(dst);
}

/* Normalises out->p[from..len) to NFC, where everything before the code
 * point at `unstable` is stable. Only the segments around unstable code
 * points go through utf8proc: each runs from the stable code point before
 * them (a starter they may compose with) to the next stable one, and NFC
 * of a text cut at stable code points is the NFC of its pieces. A long
 * text with one decomposed "é" costs one short call, not the whole tail.
 * The text from the first segment on is rebuilt in a scratch buffer (NFC
 * may make a segment longer) and copied back. */
#define NFC_GAP 64 /* stable bytes worth a separate utf8proc call */

static void
nfc_tail(buf *out, size_t from, size_t unstable)
{
    size_t seg = unstable;
    if (seg > from) {
        seg--;
        while (seg > from && ((unsigned char)out->p[seg] & 0xC0) == 0x80)
            seg--;
    }
    const unsigned char *s = (const unsigned char *)out->p;
    size_t n = out->len, first = seg;
    buf tail = {0};
    buf_grow(&tail, n - seg + 16);
    for (;;) {
        /* the segment: its starter at seg, the unstable run after it, and
         * the next ones while the stable text between them is short (fully
         * decomposed text would otherwise call utf8proc per letter) */
        size_t end, k;
        for (;;) {
            end = unstable_end(s, n, unstable);
            k = end + text_nfc_quick((const char *)s + end, n - end);
            if (k >= n || k - end >= NFC_GAP) break;
            unstable = k;
        }
        nfc_segment(&tail, (const char *)s + seg, end - seg);
        if (k >= n) {
            buf_add(&tail, s + end, n - end);
            break;
        }
        /* the stable text up to the code point before the next unstable */
        unstable = k;
        seg = k - 1;
        while (seg > end && (s[seg] & 0xC0) == 0x80)
            seg--;
        buf_add(&tail, s + end, seg - end);
    }
    out->len = first;
    buf_add(out, tail.p, tail.len);
    buf_free(&tail);
}

void
text_nfc(buf *out, const char *s, size_t n)
{
    if (n == 0) s = ""; /* may be NULL */
    size_t i = text_nfc_quick(s, n);
    size_t from = out->len;
    buf_add(out, s, n);
    if (i < n) nfc_tail(out, from, from + i);
}

/* ---- byte classes and the run scanner ----------------------------------- */

enum {
    C_LT = 1,        /* '<' */
    C_AMP = 2,       /* '&' */
    C_WS = 4,        /* tab, LF, FF, CR: ASCII whitespace other than space */
    C_CTL = 8,       /* other C0 controls, dropped */
    C_HI = 16,       /* lead bytes of U+0300 and up (and invalid 0xF5..0xFF),
                        and 0xC2: U+0080..U+00BF, C1 controls and NBSP */
    C_SP = 32,       /* space */
    C_ALNUM = 64,    /* ASCII letters and digits: reference names */
    C_NAME_END = 128 /* '/' and '>', which with whitespace end tag names */
};

enum {
    M_TAGS = 1,     /* '<' starts markup */
    M_REFS = 2,     /* '&' starts a character reference */
    M_COLLAPSE = 4, /* ASCII whitespace runs become one space, trimmed */
};
#define MODE_HTML (M_TAGS | M_REFS | M_COLLAPSE)
#define MODE_PLAIN M_COLLAPSE
#define MODE_REFS M_REFS

#define W C_WS
#define K C_CTL
#define H C_HI
#define A C_ALNUM
#define E C_NAME_END
#define H16 H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H
/* clang-format off */
static const uint8_t byte_class[256] = {
    K, K, K, K, K, K, K, K, K, W, W, K, W, W, K, K,         /* 00 */
    K, K, K, K, K, K, K, K, K, K, K, K, K, K, K, K,         /* 10 */
    C_SP, 0, 0, 0, 0, 0, C_AMP, 0, 0, 0, 0, 0, 0, 0, 0, E,  /* 20 */
    A, A, A, A, A, A, A, A, A, A, 0, 0, C_LT, 0, E, 0,      /* 30 */
    0, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,         /* 40 */
    A, A, A, A, A, A, A, A, A, A, A, 0, 0, 0, 0, 0,         /* 50 */
    0, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,         /* 60 */
    A, A, A, A, A, A, A, A, A, A, A, 0, 0, 0, 0, 0,         /* 70 */
    [0xC2] = H,                                             /* C2 */
    [0xCC] = H, H, H, H,                                    /* CC..CF */
    H16, H16, H16,                                          /* D0..FF */
};
/* clang-format on */
#undef W
#undef K
#undef H
#undef A
#undef E
#undef H16

static inline unsigned
mode_stops(int mode)
{
    return C_CTL | C_HI | ((mode & M_TAGS) ? C_LT : 0) |
           ((mode & M_REFS) ? C_AMP : 0) | ((mode & M_COLLAPSE) ? C_WS : 0);
}

/* Copies to o the run of ordinary bytes at the head of p[0..n) and returns
 * its length. In collapse mode a space is ordinary unless it follows a
 * space (prev_sp says whether the byte before p counts as one). Portable. */
static inline size_t
run_scalar(unsigned char *o, const unsigned char *p, size_t n, int mode,
           bool prev_sp)
{
    unsigned stops = mode_stops(mode);
    size_t i = 0;
    for (; i < n; i++) {
        unsigned cl = byte_class[p[i]];
        if (cl & stops) break;
        if (mode & M_COLLAPSE) {
            if ((cl & C_SP) && prev_sp) break;
            prev_sp = cl & C_SP;
        }
        o[i] = p[i];
    }
    return i;
}

/* The same, 16 bytes per step: each block is stored unconditionally (the
 * caller guarantees n bytes of room at o), then the stop mask decides how
 * much of it counts. */
static inline size_t
run_bytes(unsigned char *o, const unsigned char *p, size_t n, int mode,
          bool prev_sp)
{
    size_t i = 0;
#ifdef SCAN_SSE2
    const __m128i flip = _mm_set1_epi8((char)0x80);
    const __m128i lim_ctl = _mm_set1_epi8((char)(0x20 ^ 0x80));
    const __m128i lim_hi = _mm_set1_epi8(0xCB - 0x80);
    unsigned carry = prev_sp;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        _mm_storeu_si128((__m128i *)(o + i), v);
        __m128i x = _mm_xor_si128(v, flip); /* unsigned compares, signed ops */
        __m128i ctl = _mm_cmplt_epi8(x, lim_ctl);
        if (!(mode & M_COLLAPSE)) {
            __m128i ws = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\f')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
            ctl = _mm_andnot_si128(ws, ctl);
        }
        __m128i m = _mm_or_si128(ctl, _mm_cmpgt_epi8(x, lim_hi));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xC2)));
        if (mode & M_TAGS)
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('<')));
        if (mode & M_REFS)
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('&')));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (mode & M_COLLAPSE) {
            unsigned sp = (unsigned)_mm_movemask_epi8(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
            bits |= sp & ((sp << 1) | carry);
            carry = sp >> 15;
        }
        if (bits) return i + (size_t)__builtin_ctz(bits);
    }
    prev_sp = carry;
#endif
    return i + run_scalar(o + i, p + i, n - i, mode, prev_sp);
}

/* For tests: both scanners must agree. */
size_t text_scan_run(int which, unsigned char *o, const unsigned char *p,
                     size_t n, int mode, bool prev_sp);
size_t
text_scan_run(int which, unsigned char *o, const unsigned char *p, size_t n,
              int mode, bool prev_sp)
{
    switch (mode) {
    case MODE_HTML:
        return which ? run_bytes(o, p, n, MODE_HTML, prev_sp)
                     : run_scalar(o, p, n, MODE_HTML, prev_sp);
    case MODE_PLAIN:
        return which ? run_bytes(o, p, n, MODE_PLAIN, prev_sp)
                     : run_scalar(o, p, n, MODE_PLAIN, prev_sp);
    default:
        return which ? run_bytes(o, p, n, MODE_REFS, prev_sp)
                     : run_scalar(o, p, n, MODE_REFS, prev_sp);
    }
}

/* ---- output state ------------------------------------------------------- */

typedef struct unclosed_at {
    uint64_t key; /* tag_name's key of the element */
    const unsigned char *from;
} unclosed_at;

typedef struct tstate {
    buf *out;
    unsigned char *base;      /* where this call's text begins in out->p */
    unsigned char *o;         /* write position; out->len is set at the end */
    unsigned char *lim;       /* out->p + out->cap */
    const unsigned char *end; /* end of the whole input */
    size_t unstable;          /* offset of the first NFC-unstable code point */
    /* raw-text elements (<script>...) known to have no end tag from a
     * place on: a later one of the same name is not searched again, so a
     * field of a thousand unclosed "<script>" stays linear */
    unclosed_at unclosed[8];
    size_t nunclosed;
} tstate;

/* Slack kept beyond the remaining input: every step that writes more than
 * it consumes (a reference like &nGt; gives 6 bytes for 5) reserves first,
 * every other step writes at most what it consumed. */
#define ROOM_SLACK 32

static void
ts_grow(tstate *t, size_t need)
{
    unsigned char *p = (unsigned char *)t->out->p;
    size_t len = (size_t)(t->o - p), start = (size_t)(t->base - p);
    t->out->len = len;
    buf_grow(t->out, need);
    p = (unsigned char *)t->out->p;
    t->base = p + start;
    t->o = p + len;
    t->lim = p + t->out->cap;
}

/* Ensures room for the rest of the input from p, plus extra bytes. */
static inline void
ts_room(tstate *t, const unsigned char *p, size_t extra)
{
    size_t need = (size_t)(t->end - p) + ROOM_SLACK + extra;
    if ((size_t)(t->lim - t->o) < need + 1) ts_grow(t, need);
}

/* A collapsed whitespace run: one space, never leading, never doubled. */
static inline void
ts_space(tstate *t)
{
    if (t->o > t->base && t->o[-1] != ' ') *t->o++ = ' ';
}

static inline void
ts_unstable_at(tstate *t, const unsigned char *at)
{
    size_t off = (size_t)(at - (unsigned char *)t->out->p);
    if (off < t->unstable) t->unstable = off;
}

/* Unicode's other spaces. Line and paragraph separators (and NEL) break
 * lines like '\n' and collapse with ASCII whitespace; the others (NBSP,
 * the typographic spaces of U+2000.., the ideographic space) are kept
 * inside text, where French typography puts them, but never lead or end
 * a field. */
enum { SP_NONE, SP_BREAK, SP_WIDE };

static inline int
unicode_space(uint32_t cp)
{
    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) return SP_BREAK;
    if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return SP_WIDE;
    return SP_NONE;
}

/* Writes code point cp, decoded from a reference or from the text, as
 * the field must show it (room already reserved). C1 controls are what
 * windows-1252 puts at those bytes: a "&#146;" or a mis-decoded ’ of an
 * old CMS is a quote, never an invisible control. */
static void
ts_put_cp(tstate *t, uint32_t cp, int mode)
{
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\f' || cp == '\r') {
        if (mode & M_COLLAPSE)
            ts_space(t);
        else
            *t->o++ = (unsigned char)cp;
        return;
    }
    if (cp < 0x20 || cp == 0x7F) return; /* controls: dropped */
    if (cp >= 0x80 && cp <= 0x9F && cp != 0x85) {
        cp = charset_w1252((unsigned char)cp);
        if (cp <= 0x9F) return; /* the five holes of windows-1252 */
    }
    if (mode & M_COLLAPSE) {
        int sp = unicode_space(cp);
        if (sp == SP_BREAK) {
            ts_space(t);
            return;
        }
        if (sp == SP_WIDE && t->o == t->base) return; /* leading */
    }
    if (!nfc_stable(cp)) ts_unstable_at(t, t->o);
    t->o += scan_put_utf8(t->o, cp);
}

/* ---- character references ----------------------------------------------- */

static inline int
hex_value(unsigned c)
{
    if (c >= '0' && c <= '9') return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    return -1;
}

/* &#233; &#xE9; (the ';' optional, as in HTML5). Returns the position
 * after it, or NULL when it is not a reference ("&#", "&#x;"). */
static const unsigned char *
numeric_ref(tstate *t, const unsigned char *p, const unsigned char *end,
            int mode)
{
    const unsigned char *q = p + 2;
    int base = 10;
    if (q < end && (*q | 0x20) == 'x') {
        base = 16;
        q++;
    }
    const unsigned char *digits = q;
    uint32_t v = 0;
    for (; q < end; q++) {
        int d = base == 16 ? hex_value(*q)
                           : (*q >= '0' && *q <= '9' ? *q - '0' : -1);
        if (d < 0) break;
        if (v <= 0x10FFFF) v = v * (uint32_t)base + (uint32_t)d;
    }
    if (q == digits) return NULL;
    if (q < end && *q == ';') q++;
    /* HTML5: NUL, surrogates and values past Unicode are U+FFFD; 0x80..0x9F
     * are read as windows-1252, as browsers have always done. */
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        v = 0xFFFD;
    else if (v >= 0x80 && v <= 0x9F)
        v = charset_w1252((unsigned char)v);
    ts_room(t, q, 4);
    ts_put_cp(t, v, mode);
    return q;
}

/* &eacute; and the legacy forms HTML5 accepts without ';' (&eacute, &amp),
 * the latter only when not followed by '=' (nor a letter or digit): in
 * text as in attributes, "?a=1&copy=2" is a URL, not a copyright sign.
 * Returns the position after the reference, or NULL (then '&' is text). */
static const unsigned char *
named_ref(tstate *t, const unsigned char *p, const unsigned char *end, int mode)
{
    const unsigned char *name = p + 1, *q = name;
    const unsigned char *lim = (size_t)(end - name) > HTML_ENTITY_NAME_MAX
                                   ? name + HTML_ENTITY_NAME_MAX + 1
                                   : end;
    uint32_t h = HTML_ENTITY_HASH_INIT;
    while (q < lim && (byte_class[*q] & C_ALNUM))
        h = html_entity_hash_step(h, *q++);
    size_t len = (size_t)(q - name);
    if (len > HTML_ENTITY_NAME_MAX) return NULL;
    const struct html_entity *e =
        html_entity_find_hashed((const char *)name, len, h);
    if (!e) return NULL;
    if (q < end && *q == ';')
        q++;
    else if (!(e->flags & ENT_LEGACY) || (q < end && *q == '='))
        return NULL;
    if (e->flags & ENT_SPACE) { /* &Tab; &NewLine; */
        ts_put_cp(t, (unsigned char)e->value[0], mode);
        return q;
    }
    ts_room(t, q, sizeof e->value);
    memcpy(t->o, e->value, sizeof e->value); /* fixed size: two moves */
    if (e->flags & ENT_HIGH) {
        const unsigned char *v = (const unsigned char *)e->value;
        size_t vlen = ENT_VALUE_LEN(e);
        for (size_t i = 0; i < vlen;) {
            int32_t cp;
            i += scan_utf8(v + i, vlen - i, &cp);
            if (cp >= 0 && !nfc_stable((uint32_t)cp)) ts_unstable_at(t, t->o);
        }
    }
    t->o += ENT_VALUE_LEN(e);
    return q;
}

/* At '&': decodes one reference, or writes the '&' as text. */
static const unsigned char *
reference(tstate *t, const unsigned char *p, const unsigned char *end, int mode)
{
    const unsigned char *q = NULL;
    if (p + 1 < end) {
        if (p[1] == '#')
            q = numeric_ref(t, p, end, mode);
        else if (byte_class[p[1]] & C_ALNUM)
            q = named_ref(t, p, end, mode);
    }
    if (q) return q;
    *t->o++ = '&';
    return p + 1;
}

/* ---- markup ------------------------------------------------------------- */

enum tag_kind {
    TAG_TEXT,   /* not an element: the '<' is text ("vector<int>") */
    TAG_INLINE, /* joins the words around it */
    TAG_BLOCK,  /* separates them */
    TAG_SKIP    /* vanishes with its content */
};

/* Up to 8 lower-case name bytes packed little-end first. */
#define K8_(a, b, c, d, e, f, g, h, ...)                                       \
    ((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 |                \
     (uint64_t)(d) << 24 | (uint64_t)(e) << 32 | (uint64_t)(f) << 40 |         \
     (uint64_t)(g) << 48 | (uint64_t)(h) << 56)
#define TK(...) K8_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0, 0)

/* Known elements whose names do not fit the 8-byte switch key. */
static const struct long_tag {
    const char *name;
    enum tag_kind kind;
} long_tags[] = {
    {"blockquote", TAG_BLOCK},   {"figcaption", TAG_BLOCK},
    {"plaintext", TAG_BLOCK},    {"annotation", TAG_INLINE},
    {"malignmark", TAG_INLINE},  {"maligngroup", TAG_INLINE},
    {"mlabeledtr", TAG_INLINE},  {"mmultiscripts", TAG_INLINE},
    {"mprescripts", TAG_INLINE}, {"munderover", TAG_INLINE},
    {"semantics", TAG_INLINE},
};

/* What a known element does to the text around it: the elements of HTML5,
 * the obsolete ones feeds still carry (font, center, big, tt, strike,
 * blink, marquee, nobr, acronym ...) and MathML's, which HTML embeds.
 * Block-level elements (and <br>, table cells, list items, form controls
 * that lay out as blocks) separate words; the others join them. Raw-text
 * and hidden elements vanish with their content. Any other name is
 * TAG_TEXT: a title's "std::vector&lt;int&gt;" or "&lt;boris@nato.int&gt;"
 * reaches us as "<int>" once XML has decoded it, and is text the author
 * wrote, not a tag. (A known name written as text, "Fix <select> on
 * Safari", cannot be told from a tag and goes.) */
static enum tag_kind
known_tag(uint64_t key, const char *name, size_t len)
{
    if (len > 8) {
        for (size_t i = 0; i < ARRAY_LEN(long_tags); i++)
            if (strlen(long_tags[i].name) == len &&
                ascii_strncasecmp(long_tags[i].name, name, len) == 0)
                return long_tags[i].kind;
        return TAG_TEXT;
    }
    switch (key) {
    case TK('s', 'c', 'r', 'i', 'p', 't'):
    case TK('s', 't', 'y', 'l', 'e'):
    case TK('t', 'e', 'm', 'p', 'l', 'a', 't', 'e'):
    case TK('n', 'o', 's', 'c', 'r', 'i', 'p', 't'):
    case TK('i', 'f', 'r', 'a', 'm', 'e'):
    case TK('n', 'o', 'e', 'm', 'b', 'e', 'd'):
    case TK('n', 'o', 'f', 'r', 'a', 'm', 'e', 's'):
    case TK('s', 'v', 'g'):
        return TAG_SKIP;
    case TK('p'):
    case TK('b', 'r'):
    case TK('h', 'r'):
    case TK('d', 'i', 'v'):
    case TK('l', 'i'):
    case TK('u', 'l'):
    case TK('o', 'l'):
    case TK('d', 'l'):
    case TK('d', 't'):
    case TK('d', 'd'):
    case TK('h', '1'):
    case TK('h', '2'):
    case TK('h', '3'):
    case TK('h', '4'):
    case TK('h', '5'):
    case TK('h', '6'):
    case TK('t', 'a', 'b', 'l', 'e'):
    case TK('c', 'a', 'p', 't', 'i', 'o', 'n'):
    case TK('t', 'h', 'e', 'a', 'd'):
    case TK('t', 'b', 'o', 'd', 'y'):
    case TK('t', 'f', 'o', 'o', 't'):
    case TK('t', 'r'):
    case TK('t', 'd'):
    case TK('t', 'h'):
    case TK('c', 'o', 'l'):
    case TK('c', 'o', 'l', 'g', 'r', 'o', 'u', 'p'):
    case TK('p', 'r', 'e'):
    case TK('l', 'i', 's', 't', 'i', 'n', 'g'):
    case TK('x', 'm', 'p'):
    case TK('a', 'd', 'd', 'r', 'e', 's', 's'):
    case TK('a', 'r', 't', 'i', 'c', 'l', 'e'):
    case TK('a', 's', 'i', 'd', 'e'):
    case TK('s', 'e', 'c', 't', 'i', 'o', 'n'):
    case TK('h', 'e', 'a', 'd', 'e', 'r'):
    case TK('f', 'o', 'o', 't', 'e', 'r'):
    case TK('h', 'g', 'r', 'o', 'u', 'p'):
    case TK('n', 'a', 'v'):
    case TK('m', 'a', 'i', 'n'):
    case TK('s', 'e', 'a', 'r', 'c', 'h'):
    case TK('f', 'i', 'g', 'u', 'r', 'e'):
    case TK('d', 'e', 't', 'a', 'i', 'l', 's'):
    case TK('s', 'u', 'm', 'm', 'a', 'r', 'y'):
    case TK('d', 'i', 'a', 'l', 'o', 'g'):
    case TK('m', 'e', 'n', 'u'):
    case TK('d', 'i', 'r'):
    case TK('c', 'e', 'n', 't', 'e', 'r'):
    case TK('f', 'o', 'r', 'm'):
    case TK('f', 'i', 'e', 'l', 'd', 's', 'e', 't'):
    case TK('l', 'e', 'g', 'e', 'n', 'd'):
    case TK('o', 'p', 't', 'i', 'o', 'n'):
    case TK('o', 'p', 't', 'g', 'r', 'o', 'u', 'p'):
    case TK('s', 'e', 'l', 'e', 'c', 't'):
    case TK('t', 'e', 'x', 't', 'a', 'r', 'e', 'a'):
    case TK('b', 'u', 't', 't', 'o', 'n'):
    case TK('h', 't', 'm', 'l'):
    case TK('h', 'e', 'a', 'd'):
    case TK('b', 'o', 'd', 'y'):
    case TK('t', 'i', 't', 'l', 'e'):
    case TK('f', 'r', 'a', 'm', 'e'):
    case TK('f', 'r', 'a', 'm', 'e', 's', 'e', 't'):
    case TK('v', 'i', 'd', 'e', 'o'):
    case TK('a', 'u', 'd', 'i', 'o'):
    case TK('c', 'a', 'n', 'v', 'a', 's'):
        return TAG_BLOCK;
    case TK('a'):
    case TK('a', 'b', 'b', 'r'):
    case TK('a', 'c', 'r', 'o', 'n', 'y', 'm'):
    case TK('a', 'p', 'p', 'l', 'e', 't'):
    case TK('a', 'r', 'e', 'a'):
    case TK('b'):
    case TK('b', 'a', 's', 'e'):
    case TK('b', 'a', 's', 'e', 'f', 'o', 'n', 't'):
    case TK('b', 'd', 'i'):
    case TK('b', 'd', 'o'):
    case TK('b', 'g', 's', 'o', 'u', 'n', 'd'):
    case TK('b', 'i', 'g'):
    case TK('b', 'l', 'i', 'n', 'k'):
    case TK('c', 'i', 't', 'e'):
    case TK('c', 'o', 'd', 'e'):
    case TK('d', 'a', 't', 'a'):
    case TK('d', 'a', 't', 'a', 'l', 'i', 's', 't'):
    case TK('d', 'e', 'l'):
    case TK('d', 'f', 'n'):
    case TK('e', 'm'):
    case TK('e', 'm', 'b', 'e', 'd'):
    case TK('f', 'o', 'n', 't'):
    case TK('i'):
    case TK('i', 'm', 'a', 'g', 'e'):
    case TK('i', 'm', 'g'):
    case TK('i', 'n', 'p', 'u', 't'):
    case TK('i', 'n', 's'):
    case TK('i', 's', 'i', 'n', 'd', 'e', 'x'):
    case TK('k', 'b', 'd'):
    case TK('k', 'e', 'y', 'g', 'e', 'n'):
    case TK('l', 'a', 'b', 'e', 'l'):
    case TK('l', 'i', 'n', 'k'):
    case TK('m', 'a', 'p'):
    case TK('m', 'a', 'r', 'k'):
    case TK('m', 'a', 'r', 'q', 'u', 'e', 'e'):
    case TK('m', 'a', 't', 'h'):
    case TK('m', 'e', 'n', 'u', 'i', 't', 'e', 'm'):
    case TK('m', 'e', 't', 'a'):
    case TK('m', 'e', 't', 'e', 'r'):
    case TK('m', 'u', 'l', 't', 'i', 'c', 'o', 'l'):
    case TK('n', 'e', 'x', 't', 'i', 'd'):
    case TK('n', 'o', 'b', 'r'):
    case TK('o', 'b', 'j', 'e', 'c', 't'):
    case TK('o', 'u', 't', 'p', 'u', 't'):
    case TK('p', 'a', 'r', 'a', 'm'):
    case TK('p', 'i', 'c', 't', 'u', 'r', 'e'):
    case TK('p', 'r', 'o', 'g', 'r', 'e', 's', 's'):
    case TK('q'):
    case TK('r', 'b'):
    case TK('r', 'p'):
    case TK('r', 't'):
    case TK('r', 't', 'c'):
    case TK('r', 'u', 'b', 'y'):
    case TK('s'):
    case TK('s', 'a', 'm', 'p'):
    case TK('s', 'l', 'o', 't'):
    case TK('s', 'm', 'a', 'l', 'l'):
    case TK('s', 'o', 'u', 'r', 'c', 'e'):
    case TK('s', 'p', 'a', 'c', 'e', 'r'):
    case TK('s', 'p', 'a', 'n'):
    case TK('s', 't', 'r', 'i', 'k', 'e'):
    case TK('s', 't', 'r', 'o', 'n', 'g'):
    case TK('s', 'u', 'b'):
    case TK('s', 'u', 'p'):
    case TK('t', 'i', 'm', 'e'):
    case TK('t', 'r', 'a', 'c', 'k'):
    case TK('t', 't'):
    case TK('u'):
    case TK('v', 'a', 'r'):
    case TK('w', 'b', 'r'):
    case TK('m', 'i'):
    case TK('m', 'n'):
    case TK('m', 'o'):
    case TK('m', 's'):
    case TK('m', 't', 'e', 'x', 't'):
    case TK('m', 'r', 'o', 'w'):
    case TK('m', 's', 'u', 'b'):
    case TK('m', 's', 'u', 'p'):
    case TK('m', 's', 'u', 'b', 's', 'u', 'p'):
    case TK('m', 'f', 'r', 'a', 'c'):
    case TK('m', 's', 'q', 'r', 't'):
    case TK('m', 'r', 'o', 'o', 't'):
    case TK('m', 's', 't', 'y', 'l', 'e'):
    case TK('m', 'e', 'r', 'r', 'o', 'r'):
    case TK('m', 'p', 'a', 'd', 'd', 'e', 'd'):
    case TK('m', 'p', 'h', 'a', 'n', 't', 'o', 'm'):
    case TK('m', 'f', 'e', 'n', 'c', 'e', 'd'):
    case TK('m', 'e', 'n', 'c', 'l', 'o', 's', 'e'):
    case TK('m', 'u', 'n', 'd', 'e', 'r'):
    case TK('m', 'o', 'v', 'e', 'r'):
    case TK('m', 't', 'a', 'b', 'l', 'e'):
    case TK('m', 't', 'r'):
    case TK('m', 't', 'd'):
    case TK('m', 's', 'p', 'a', 'c', 'e'):
    case TK('m', 'a', 'c', 't', 'i', 'o', 'n'):
        return TAG_INLINE;
    default:
        return TAG_TEXT;
    }
}

static inline bool
is_alpha(unsigned c)
{
    return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* A byte HTML allows in a custom element's name besides '-':
 * ASCII digits and letters, '.', '_', and anything non-ASCII. */
static inline bool
is_name_byte(unsigned c)
{
    return (byte_class[c] & C_ALNUM) || c == '.' || c == '_' || c >= 0x80;
}

/* A name no list holds that is still an element: a custom element (a
 * letter, then name bytes, at least one of them '-': <my-widget>) or a
 * namespaced one (a prefix, ':' and a local name that starts with a
 * letter: <o:p>, <w:sdt>, <st1:City>, which Word pastes into posts).
 * Custom element names have no upper-case letters (the HTML spec defines
 * none that do, and feeds write them as defined), so "<Kosovo-Metohija>"
 * stays text; an address ('@') or URL ("http:" then '/') is neither. */
static bool
extension_tag(const unsigned char *name, size_t len)
{
    bool dash = false, colon = false, upper = false;
    for (size_t i = 1; i < len; i++) {
        unsigned c = name[i];
        if (c == ':') {
            if (colon || i + 1 >= len || !is_alpha(name[i + 1])) return false;
            colon = true;
        } else if (c == '-') {
            dash = true;
        } else if (!is_name_byte(c)) {
            return false;
        } else if (c >= 'A' && c <= 'Z') {
            upper = true;
        }
    }
    return colon || (dash && !upper && !(name[0] >= 'A' && name[0] <= 'Z'));
}

/* What the element called name does to the text; TAG_TEXT when name
 * (which starts with an ASCII letter) names no element. */
static enum tag_kind
tag_kind(uint64_t key, const unsigned char *name, size_t len)
{
    enum tag_kind k = known_tag(key, (const char *)name, len);
    if (k == TAG_TEXT && extension_tag(name, len)) k = TAG_INLINE;
    return k;
}

/* The tag name at q (a letter): its end, and its first 8 bytes
 * lower-cased into *key for known_tag's switch. */
static const unsigned char *
tag_name(const unsigned char *q, const unsigned char *end, uint64_t *key)
{
    unsigned shift = 0;
    *key = 0;
    for (; q < end && !(byte_class[*q] & (C_WS | C_SP | C_NAME_END)); q++) {
        if (shift < 64)
            *key |= (uint64_t)(unsigned char)ascii_tolower((char)*q) << shift;
        shift += 8;
    }
    return q;
}

bool
text_element_name(const char *name, size_t n)
{
    const unsigned char *n0 = (const unsigned char *)name;
    if (!n || !is_alpha(*n0)) return false;
    uint64_t key;
    const unsigned char *q = tag_name(n0, n0 + n, &key);
    return tag_kind(key, n0, (size_t)(q - n0)) != TAG_TEXT;
}

static inline bool
is_html_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* From just after a tag name to just after the tag's '>'. A '>' inside a
 * quoted attribute value does not end the tag; quotes count only where a
 * value starts (after '='), as in HTML5. NULL when the input ends first
 * (HTML5 then drops the tag and everything after it). */
static const unsigned char *
tag_end(const unsigned char *q, const unsigned char *end)
{
    while (q < end) {
        unsigned c = *q++;
        if (c == '>') return q;
        if (c != '=') continue;
        while (q < end && is_html_space(*q))
            q++;
        if (q < end && (*q == '"' || *q == '\'')) {
            const unsigned char *close =
                memchr(q + 1, *q, (size_t)(end - q - 1));
            if (!close) return NULL;
            q = close + 1;
        }
    }
    return NULL;
}

const unsigned char *
text_raw_end(const unsigned char *p, const unsigned char *end, const char *name,
         size_t len)
{
    while (p < end) {
        const unsigned char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt) break;
        if ((size_t)(end - lt) > len + 2 && lt[1] == '/' &&
            ascii_strncasecmp((const char *)lt + 2, name, len) == 0 &&
            (is_html_space(lt[len + 2]) || lt[len + 2] == '/' ||
             lt[len + 2] == '>')) {
            const unsigned char *e = tag_end(lt + 2 + len, end);
            return e ? e : end;
        }
        p = lt + 1;
    }
    return NULL;
}

/* Past the raw-text element (<script>, <style>...) whose start tag ends
 * at after, or after itself when nothing closes it. A search that found
 * no end tag is remembered: none will be found from further on either. */
static const unsigned char *
skip_element(tstate *t, uint64_t key, const unsigned char *after,
             const unsigned char *end, const unsigned char *name, size_t len)
{
    for (size_t i = 0; i < t->nunclosed; i++)
        if (t->unclosed[i].key == key && after >= t->unclosed[i].from)
            return after;
    const unsigned char *r = text_raw_end(after, end, (const char *)name, len);
    if (r) return r;
    if (t->nunclosed < ARRAY_LEN(t->unclosed))
        t->unclosed[t->nunclosed++] = (unclosed_at){key, after};
    return after;
}

static void text_cdata(tstate *t, const unsigned char *p,
                       const unsigned char *end);

/* At '<' (in HTML mode): one tag, comment, CDATA section or declaration,
 * or a literal '<' when none of those starts here ("a < b"). */
static const unsigned char *
markup(tstate *t, const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p + 1;
    bool closing = false;
    if (q < end && *q == '/' && q + 1 < end && is_alpha(q[1])) {
        closing = true;
        q++;
    }
    if (q < end && is_alpha(*q)) {
        const unsigned char *n0 = q;
        uint64_t key;
        q = tag_name(q, end, &key);
        size_t len = (size_t)(q - n0);
        enum tag_kind kind = tag_kind(key, n0, len);
        if (kind == TAG_TEXT) {
            *t->o++ = '<';
            return p + 1;
        }
        const unsigned char *after = tag_end(q, end);
        if (!after) return end;
        if (kind == TAG_BLOCK) ts_space(t);
        /* <script/> in XHTML content is empty; <script> runs to </script> */
        /* A <script> that nothing closes is a word in a title ("Use
         * <script> tags wisely"), not the rest of the text to drop. */
        if (kind == TAG_SKIP && !closing && after[-2] != '/')
            return skip_element(t, key, after, end, n0, len);
        return after;
    }
    if (q < end && *q == '!') {
        if (end - q >= 3 && q[1] == '-' && q[2] == '-') {
            /* <!-- comment -->, and the abrupt <!--> and <!---> */
            const unsigned char *c = q + 3;
            if (c < end && *c == '>') return c + 1;
            if (end - c >= 2 && c[0] == '-' && c[1] == '>') return c + 2;
            const unsigned char *e = memmem(c, (size_t)(end - c), "-->", 3);
            return e ? e + 3 : end;
        }
        if (end - q >= 8 && memcmp(q, "![CDATA[", 8) == 0) {
            /* CDATA in escaped HTML: its content is text */
            const unsigned char *c = q + 8;
            const unsigned char *e = memmem(c, (size_t)(end - c), "]]>", 3);
            text_cdata(t, c, e ? e : end);
            return e ? e + 3 : end;
        }
    }
    if (q < end && (*q == '!' || *q == '?' || *q == '/')) {
        /* <!DOCTYPE>, <?xml?>, "</3": bogus comments up to '>' ("</>" too) */
        const unsigned char *e = memchr(q, '>', (size_t)(end - q));
        return e ? e + 1 : end;
    }
    *t->o++ = '<';
    return p + 1;
}

/* ---- the loop ----------------------------------------------------------- */

/* Code points that ts_put_cp changes or drops: C1 controls, and in
 * collapsing text the spaces of unicode_space(). */
static inline bool
needs_care(uint32_t cp, int mode)
{
    if (cp < 0xA0) return true; /* C1 (the caller saw a 0xC2 lead) */
    if (!(mode & M_COLLAPSE)) return false;
    return cp == 0xA0 || (cp >= 0x1680 && unicode_space(cp) != SP_NONE);
}

/* Removes the spaces, ASCII or Unicode, that end the text written since
 * base (the text is valid UTF-8 there). */
static void
trim_end(tstate *t)
{
    unsigned char *q = t->o;
    for (;;) {
        while (q > t->base && q[-1] == ' ') q--;
        unsigned char *c = q;
        while (c > t->base && (c[-1] & 0xC0) == 0x80) c--;
        if (c == q || c == t->base) break; /* ASCII last, or nothing */
        c--;                               /* the lead byte */
        int32_t cp;
        size_t len = scan_utf8(c, (size_t)(q - c), &cp);
        if (len != (size_t)(q - c) || cp < 0 ||
            unicode_space((uint32_t)cp) == SP_NONE)
            break;
        q = c;
    }
    t->o = q;
}

static inline __attribute__((always_inline)) void
text_core(tstate *t, const unsigned char *p, const unsigned char *end,
          const int mode)
{
    while (p < end) {
        bool prev_sp = false;
        if (mode & M_COLLAPSE) prev_sp = t->o == t->base || t->o[-1] == ' ';
        size_t k = run_bytes(t->o, p, (size_t)(end - p), mode, prev_sp);
        t->o += k;
        p += k;
        if (p >= end) break;
        unsigned c = *p;
        unsigned cl = byte_class[c];
        if ((mode & M_COLLAPSE) && (cl & (C_WS | C_SP))) {
            do
                p++;
            while (p < end && (byte_class[*p] & (C_WS | C_SP)));
            ts_space(t);
        } else if (cl & C_CTL) {
            p++;
        } else if ((mode & M_TAGS) && c == '<') {
            p = markup(t, p, end);
        } else if ((mode & M_REFS) && c == '&') {
            p = reference(t, p, end, mode);
        } else { /* a lead byte of U+0300 and up, or 0xC2 */
            int32_t cp;
            size_t len = scan_utf8(p, (size_t)(end - p), &cp);
            if (cp < 0) {
                ts_room(t, p + len, 3);
                t->o += scan_put_utf8(t->o, UTF8_REPLACEMENT);
            } else if (UNLIKELY(needs_care((uint32_t)cp, mode))) {
                ts_room(t, p + len, 3);
                ts_put_cp(t, (uint32_t)cp, mode);
            } else {
                if (!nfc_stable((uint32_t)cp)) ts_unstable_at(t, t->o);
                memcpy(t->o, p, len);
                t->o += len;
            }
            p += len;
        }
    }
}

static void
text_cdata(tstate *t, const unsigned char *p, const unsigned char *end)
{
    text_core(t, p, end, MODE_PLAIN);
}

static void
core_html(tstate *t, const unsigned char *p, const unsigned char *end)
{
    text_core(t, p, end, MODE_HTML);
}

static void
core_refs(tstate *t, const unsigned char *p, const unsigned char *end)
{
    text_core(t, p, end, MODE_REFS);
}

static void
text_run(buf *out, const char *s, size_t n, int mode)
{
    const unsigned char *p = (const unsigned char *)s;
    if (out->len + n + ROOM_SLACK + 1 > out->cap) buf_grow(out, n + ROOM_SLACK);
    if (n == 0) { /* s may be NULL */
        out->p[out->len] = '\0';
        return;
    }
    unsigned char *b = (unsigned char *)out->p;
    size_t start = out->len;
    tstate t = {out, b + start, b + start, b + out->cap, p + n, SIZE_MAX, {{0, NULL}}, 0};
    if (mode == MODE_HTML)
        core_html(&t, p, p + n);
    else if (mode == MODE_PLAIN)
        text_cdata(&t, p, p + n);
    else
        core_refs(&t, p, p + n);
    if (mode & M_COLLAPSE) trim_end(&t);
    out->len = (size_t)(t.o - (unsigned char *)out->p);
    out->p[out->len] = '\0';
    if (t.unstable < out->len) /* SIZE_MAX if none; or trimmed away */
        nfc_tail(out, (size_t)(t.base - (unsigned char *)out->p), t.unstable);
}

void
text_from_html(buf *out, const char *s, size_t n)
{
    text_run(out, s, n, MODE_HTML);
}

void
text_from_plain(buf *out, const char *s, size_t n)
{
    text_run(out, s, n, MODE_PLAIN);
}

void
text_decode_entities(buf *out, const char *s, size_t n)
{
    text_run(out, s, n, MODE_REFS);
}
