/* jsonw.c — see jsonw.h. */
#include "jsonw.h"

#include <inttypes.h>
#include <stdio.h>

#include "date.h"
#include "scan.h"

void
jsonw_init(jsonw *w, buf *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma = 0;
}

static void
sep(jsonw *w)
{
    uint64_t bit = (uint64_t)1 << w->depth;
    if (w->need_comma & bit) buf_addc(w->out, ',');
    w->need_comma |= bit;
}

static void
open(jsonw *w, char c)
{
    sep(w);
    buf_addc(w->out, c);
    if (w->depth < 63) w->depth++;
    w->need_comma &= ~((uint64_t)1 << w->depth);
}

static void
close_(jsonw *w, char c)
{
    buf_addc(w->out, c);
    if (w->depth > 0) w->depth--;
}

void jsonw_obj_open(jsonw *w) { open(w, '{'); }
void jsonw_obj_close(jsonw *w) { close_(w, '}'); }
void jsonw_arr_open(jsonw *w) { open(w, '['); }
void jsonw_arr_close(jsonw *w) { close_(w, ']'); }

void
jsonw_keyn(jsonw *w, const char *key, size_t n)
{
    /* An item writes a dozen keys: room for all of ,"key": at once. */
    buf *b = w->out;
    if (UNLIKELY(b->len + n + 5 > b->cap)) buf_grow(b, n + 4);
    char *d = b->p + b->len;
    uint64_t bit = (uint64_t)1 << w->depth;
    if (w->need_comma & bit) *d++ = ',';
    *d++ = '"';
    memcpy(d, key, n);
    d += n;
    *d++ = '"';
    *d++ = ':';
    *d = '\0';
    b->len = (size_t)(d - b->p);
    /* the value that follows must not get a comma of its own */
    w->need_comma &= ~bit;
}

/* Bytes that need escaping: controls, '"', '\\', and '/' (for "</"). */
static const unsigned char needs_escape[256] = {
    [0 ... 31] = 1, ['"'] = 1, ['\\'] = 1, ['/'] = 1,
};

#ifdef SCAN_SSE2
/* Bit mask of the bytes of block v that need escaping; before holds the
 * byte before each. */
static inline unsigned
escape_mask(__m128i v, __m128i before)
{
    __m128i m = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m,
                     _mm_and_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('/')),
                                   _mm_cmpeq_epi8(before, _mm_set1_epi8('<'))));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Copies to d the run at the head of p[0..n) that a JSON string takes as
 * it is (no control, '"' or '\\', no '/' right after '<') and returns its
 * length; prev is the byte before p (0 at the start of the string). With
 * SSE2, 16 bytes per step, each block stored whole (the caller has room
 * for 6 bytes per input byte) and counted as far as the first byte that
 * needs escaping: strings are mostly text, where escapes are rare. */
static inline size_t
copy_plain(char *d, const unsigned char *p, size_t n, unsigned prev)
{
    size_t i = 0;
#ifdef SCAN_SSE2
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
        _mm_storeu_si128((__m128i *)(d + i), v);
        /* each byte's predecessor: the block moved up one byte, the byte
         * before the block in front */
        __m128i before =
            _mm_or_si128(_mm_slli_si128(v, 1), _mm_cvtsi32_si128((int)prev));
        unsigned bits = escape_mask(v, before);
        if (bits) return i + (size_t)__builtin_ctz(bits);
        prev = p[i + 15];
    }
    if (i < n && n > 16) {
        /* The tail as the 16 bytes that end the run, overlapping bytes
         * already found plain (and copying them again) rather than one
         * byte at a time: most strings end with a partial block. */
        size_t j = n - 16;
        __m128i v = _mm_loadu_si128((const __m128i *)(p + j));
        _mm_storeu_si128((__m128i *)(d + j), v);
        __m128i before = _mm_loadu_si128((const __m128i *)(p + j - 1));
        unsigned bits = escape_mask(v, before);
        return bits ? j + (size_t)__builtin_ctz(bits) : n;
    }
#endif
    for (; i < n; i++) {
        unsigned c = p[i];
        if (needs_escape[c] && (c != '/' || prev == '<')) break;
        d[i] = (char)c;
        prev = c;
    }
    return i;
}

void
json_escape(buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case is 6 bytes per input byte; grow once. */
    if (out->len + 6 * n + 3 > out->cap) buf_grow(out, 6 * n + 2);
    char *d = out->p + out->len;
    *d++ = '"';
    const unsigned char *start = (const unsigned char *)s;
    const unsigned char *p = start, *end = p + n;
    while (p < end) {
        size_t k = copy_plain(d, p, (size_t)(end - p), p > start ? p[-1] : 0);
        d += k;
        p += k;
        if (p == end) break;
        unsigned char c = *p++;
        switch (c) {
        case '"': *d++ = '\\'; *d++ = '"'; break;
        case '\\': *d++ = '\\'; *d++ = '\\'; break;
        case '\n': *d++ = '\\'; *d++ = 'n'; break;
        case '\t': *d++ = '\\'; *d++ = 't'; break;
        case '\r': *d++ = '\\'; *d++ = 'r'; break;
        case '/':
            *d++ = '\\';
            *d++ = '/';
            break; /* "</" as "<\/" */
        default:
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        }
    }
    *d++ = '"';
    out->len = (size_t)(d - out->p);
    out->p[out->len] = '\0';
}

void
jsonw_strn(jsonw *w, const char *s, size_t n)
{
    sep(w);
    json_escape(w->out, s, n);
}

void
jsonw_str(jsonw *w, const char *s)
{
    if (!s) {
        jsonw_null(w);
        return;
    }
    jsonw_strn(w, s, strlen(s));
}

void
jsonw_int(jsonw *w, int64_t v)
{
    sep(w);
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    buf_add(w->out, tmp, (size_t)n);
}

void
jsonw_bool(jsonw *w, bool v)
{
    sep(w);
    buf_adds(w->out, v ? "true" : "false");
}

void
jsonw_null(jsonw *w)
{
    sep(w);
    buf_add(w->out, "null", 4);
}

void
jsonw_date(jsonw *w, int64_t t)
{
    if (t == DATE_NONE) {
        jsonw_null(w);
        return;
    }
    char tmp[DATE_RFC3339_LEN];
    date_format_rfc3339(t, tmp);
    sep(w);
    buf_addc(w->out, '"');
    buf_adds(w->out, tmp);
    buf_addc(w->out, '"');
}
