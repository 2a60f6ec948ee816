/* charset.c — any feed body to clean UTF-8 (charset.h).
 *
 * The common case, a clean UTF-8 body, costs one read-only pass
 * (scan_xml_utf8: 16 ASCII bytes per step, multi-byte sequences decoded
 * inline) and returns the input itself. Everything else is converted once
 * into the caller's buffer: UTF-16/32 and windows-1252 by hand, mixed
 * UTF-8/windows-1252 by the repair loop below, the rest through iconv. */
#include "charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scan.h"
#include "utf8.h"

static const char fffd[3] = {'\xEF', '\xBF', '\xBD'};

/* windows-1252 0x80..0x9F as the WHATWG Encoding Standard decodes them (the
 * five holes map to the C1 control of the same value). 0xA0..0xFF are
 * Latin-1, i.e. the byte value. */
static const uint16_t w1252_c1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

uint32_t
charset_w1252(unsigned char c)
{
    return (c >= 0x80 && c <= 0x9F) ? w1252_c1[c - 0x80] : c;
}

static inline void
reserve(buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap) buf_grow(b, n);
}

/* Appends cp unless XML forbids it (then counts it as dropped). */
static inline void
put_cp(buf *out, uint32_t cp, charset_result *res)
{
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE ||
        cp == 0xFFFF) {
        res->dropped++;
        return;
    }
    reserve(out, 4);
    out->len += scan_put_utf8((unsigned char *)out->p + out->len, cp);
    out->p[out->len] = '\0';
}

static inline void
put_fffd(buf *out, charset_result *res)
{
    buf_add(out, fffd, sizeof fffd);
    res->repaired++;
}

/* UTF-8 with repairs, from s[i] on (s[0..i) is known clean): valid
 * sequences are kept, a lone byte is read as windows-1252 (the usual
 * cause: a CMS pasting cp1252 text into a UTF-8 page), a broken
 * multi-byte sequence (lead byte, continuation bytes, then something else)
 * becomes one U+FFFD, forbidden characters are dropped. */
static void
from_utf8_mixed(buf *out, const unsigned char *s, size_t n, size_t i,
                charset_result *res)
{
    reserve(out, n + n / 8 + 16);
    buf_add(out, s, i);
    while (i < n) {
        size_t k = scan_xml_utf8(s + i, n - i);
        buf_add(out, s + i, k);
        i += k;
        if (i >= n) break;
        if (s[i] < 0x80) { /* a forbidden control */
            res->dropped++;
            i++;
            continue;
        }
        int32_t cp;
        size_t len = scan_utf8(s + i, n - i, &cp);
        if (cp >= 0) { /* U+FFFE or U+FFFF */
            res->dropped++;
        } else if (len == 1) {
            put_cp(out, charset_w1252(s[i]), res);
            res->repaired++;
        } else {
            put_fffd(out, res);
        }
        i += len;
    }
}

/* The multi-byte sequences of a body that is not valid UTF-8: how many
 * are valid UTF-8 and how many are not (a lone byte, a broken sequence).
 * What the body is written in shows in the proportion. */
typedef struct utf8_tally {
    size_t valid, invalid;
} utf8_tally;

static utf8_tally
tally_utf8(const unsigned char *s, size_t n)
{
    utf8_tally t = {0, 0};
    size_t i = 0;
    for (;;) {
        i += scan_ascii(s + i, n - i);
        if (i >= n) break;
        int32_t cp;
        i += scan_utf8(s + i, n - i, &cp);
        if (cp >= 0)
            t.valid++;
        else
            t.invalid++;
    }
    return t;
}

/* Whether a body that is not valid UTF-8 is rather windows-1252 with a few
 * accidental UTF-8 sequences than UTF-8 with a few stray bytes. French
 * cp1252 text makes valid-looking sequences by chance ("é" NBSP "»" is
 * E9 A0 BB, U+983B) and broken ones ("à" NBSP "j" is E0 A0 6A), so a
 * byte-by-byte repair would mangle it; a document with more than 8 invalid
 * sequences for every valid multi-byte one is read as cp1252 throughout. */
static bool
mostly_w1252(utf8_tally t)
{
    return t.invalid > 8 * t.valid;
}

/* Whether it is rather UTF-8 with a few stray bytes than text in another
 * encoding. Text in another encoding makes at most one valid-looking
 * sequence for every 3 invalid ones (Shift_JIS, GB18030, EUC-KR, cp866;
 * windows-1251, KOI8-R, ISO-8859-2/7 make almost none), while UTF-8 a CMS
 * pasted a few cp1252 bytes into has more valid sequences than stray
 * bytes. Decides whether the caller's charset is believed over UTF-8. */
static bool
mostly_utf8(utf8_tally t)
{
    return t.valid > t.invalid;
}

static void
from_w1252(buf *out, const unsigned char *s, size_t n, charset_result *res)
{
    reserve(out, n + n / 4 + 16);
    size_t i = 0;
    while (i < n) {
        size_t k = scan_xml_ascii(s + i, n - i);
        buf_add(out, s + i, k);
        i += k;
        if (i >= n) break;
        unsigned char c = s[i++];
        if (c < 0x80)
            res->dropped++;
        else
            put_cp(out, charset_w1252(c), res);
    }
}

/* UTF-16 (unit == 2) or UTF-32 (unit == 4), either byte order. Unpaired
 * surrogates, values past U+10FFFF and a trailing partial unit become
 * U+FFFD. */
static void
from_utf16_32(buf *out, const unsigned char *s, size_t n, int unit, bool be,
              charset_result *res)
{
    reserve(out, n + n / 2 + 16);
    size_t i = 0;
    while (i + (size_t)unit <= n) {
        uint32_t u;
        if (unit == 4) {
            u = be ? (uint32_t)s[i] << 24 | (uint32_t)s[i + 1] << 16 |
                         (uint32_t)s[i + 2] << 8 | s[i + 3]
                   : (uint32_t)s[i + 3] << 24 | (uint32_t)s[i + 2] << 16 |
                         (uint32_t)s[i + 1] << 8 | s[i];
            i += 4;
            if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF)) {
                put_fffd(out, res);
                continue;
            }
        } else {
            u = be ? (uint32_t)s[i] << 8 | s[i + 1]
                   : (uint32_t)s[i + 1] << 8 | s[i];
            i += 2;
            if (u >= 0xD800 && u <= 0xDFFF) {
                uint32_t lo = 0;
                if (u <= 0xDBFF && i + 2 <= n)
                    lo = be ? (uint32_t)s[i] << 8 | s[i + 1]
                            : (uint32_t)s[i + 1] << 8 | s[i];
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                } else {
                    put_fffd(out, res);
                    continue;
                }
            }
        }
        put_cp(out, u, res);
    }
    if (i < n) put_fffd(out, res);
}

/* Drops what XML forbids from out->p[start..len), in place (the output of
 * iconv, valid UTF-8 but not necessarily XML characters). */
static void
filter_xml(buf *out, size_t start, charset_result *res)
{
    unsigned char *p = (unsigned char *)out->p + start;
    size_t n = out->len - start;
    size_t i = scan_xml_utf8(p, n), w = i;
    while (i < n) {
        if (p[i] < 0x80) {
            res->dropped++;
            i++;
        } else {
            int32_t cp;
            i += scan_utf8(p + i, n - i, &cp);
            if (cp >= 0)
                res->dropped++;
            else
                res->repaired++; /* iconv should never leave these */
        }
        size_t k = scan_xml_utf8(p + i, n - i);
        memmove(p + w, p + i, k);
        w += k;
        i += k;
    }
    out->len = start + w;
    out->p[out->len] = '\0';
}

/* Converts with iconv; input it cannot decode becomes U+FFFD and the
 * conversion goes on. Returns -1 (out untouched) if iconv does not know
 * the encoding. */
static int
from_iconv(buf *out, const char *name, const char *s, size_t n,
           charset_result *res)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return -1;
    size_t start = out->len;
    reserve(out, 2 * n + 16);
    char *in = (char *)(uintptr_t)s; /* iconv's prototype lacks const */
    size_t inleft = n;
    for (;;) {
        char *o = out->p + out->len;
        size_t oleft = out->cap - out->len - 1;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int err = errno;
        out->len = (size_t)(o - out->p);
        out->p[out->len] = '\0';
        if (r != (size_t)-1) break; /* all input converted */
        if (err == E2BIG) {
            reserve(out, 2 * inleft + 64);
        } else if (err == EILSEQ) {
            put_fffd(out, res);
            in++;
            inleft--;
        } else { /* EINVAL: a sequence cut by the end of the input */
            put_fffd(out, res);
            break;
        }
    }
    /* Back to the initial shift state (writes nothing for UTF-8 output,
     * but that is iconv's business). */
    reserve(out, 64);
    char *o = out->p + out->len;
    size_t oleft = out->cap - out->len - 1;
    if (iconv(cd, NULL, NULL, &o, &oleft) != (size_t)-1)
        out->len = (size_t)(o - out->p);
    iconv_close(cd);
    out->p[out->len] = '\0';
    filter_xml(out, start, res);
    return 0;
}

static bool
xml_space(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Characters allowed in an encoding name we hand to iconv: no '/', which
 * glibc reads as a conversion suffix ("//IGNORE"). */
static bool
name_char(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == ':' || c == '+';
}

/* Copies a lower-cased encoding name of exactly len bytes; false when it is
 * empty, too long or has characters no encoding name has. */
static bool
copy_name(char *dst, size_t cap, const char *src, size_t len)
{
    if (len == 0 || len >= cap) return false;
    for (size_t i = 0; i < len; i++) {
        if (!name_char((unsigned char)src[i])) return false;
        dst[i] = ascii_tolower(src[i]);
    }
    dst[len] = '\0';
    return true;
}

/* The encoding named in the XML declaration, lower-cased, or false. */
static bool
xml_decl_encoding(const unsigned char *s, size_t n, char *name, size_t cap)
{
    size_t i = 0;
    while (i < n && i < 256 && xml_space(s[i]))
        i++; /* lenient */
    if (n - i < 6 || memcmp(s + i, "<?xml", 5) != 0 || !xml_space(s[i + 5]))
        return false;
    size_t lim = n - i > 512 ? i + 512 : n;
    const unsigned char *q = memmem(s + i, lim - i, "?>", 2);
    if (q) lim = (size_t)(q - s);
    for (size_t j = i + 6; j + 8 <= lim; j++) {
        if (memcmp(s + j, "encoding", 8) != 0 || !xml_space(s[j - 1])) continue;
        size_t k = j + 8;
        while (k < lim && xml_space(s[k]))
            k++;
        if (k >= lim || s[k] != '=') return false;
        k++;
        while (k < lim && xml_space(s[k]))
            k++;
        if (k >= lim || (s[k] != '"' && s[k] != '\'')) return false;
        const unsigned char *v = s + k + 1;
        const unsigned char *e = memchr(v, s[k], lim - k - 1);
        if (!e) return false;
        return copy_name(name, cap, (const char *)v, (size_t)(e - v));
    }
    return false;
}

enum cs_kind { CS_UTF8, CS_W1252, CS_ICONV };

/* Names whose meaning is not simply "ask iconv": what browsers (the WHATWG
 * Encoding Standard) do, since feeds are written for browsers. */
static const struct cs_alias {
    const char *name;
    enum cs_kind kind;
    const char *iconv;
} aliases[] = {
    {"utf-8", CS_UTF8, NULL},
    {"utf8", CS_UTF8, NULL},
    {"unicode-1-1-utf-8", CS_UTF8, NULL},
    {"x-unicode20utf8", CS_UTF8, NULL},
    /* A declaration we could read as ASCII is not in UTF-16/32: those are
     * recognised by BOM or by the encoding of '<', never by name. */
    {"utf-16", CS_UTF8, NULL},
    {"utf-16le", CS_UTF8, NULL},
    {"utf-16be", CS_UTF8, NULL},
    {"utf-32", CS_UTF8, NULL},
    {"utf-32le", CS_UTF8, NULL},
    {"utf-32be", CS_UTF8, NULL},
    {"ucs-2", CS_UTF8, NULL},
    {"ucs-4", CS_UTF8, NULL},
    {"iso-10646-ucs-2", CS_UTF8, NULL},
    {"unicode", CS_UTF8, NULL},
    /* Latin-1 and ASCII labels mean windows-1252 in practice. */
    {"iso-8859-1", CS_W1252, NULL},
    {"iso8859-1", CS_W1252, NULL},
    {"iso_8859-1", CS_W1252, NULL},
    {"iso_8859-1:1987", CS_W1252, NULL},
    {"iso88591", CS_W1252, NULL},
    {"latin1", CS_W1252, NULL},
    {"latin-1", CS_W1252, NULL},
    {"l1", CS_W1252, NULL},
    {"cp819", CS_W1252, NULL},
    {"ibm819", CS_W1252, NULL},
    {"iso-ir-100", CS_W1252, NULL},
    {"csisolatin1", CS_W1252, NULL},
    {"us-ascii", CS_W1252, NULL},
    {"ascii", CS_W1252, NULL},
    {"ansi_x3.4-1968", CS_W1252, NULL},
    {"iso646-us", CS_W1252, NULL},
    {"windows-1252", CS_W1252, NULL},
    {"cp1252", CS_W1252, NULL},
    {"x-cp1252", CS_W1252, NULL},
    /* Supersets browsers use in place of the declared encoding. */
    {"iso-8859-9", CS_ICONV, "WINDOWS-1254"},
    {"latin5", CS_ICONV, "WINDOWS-1254"},
    {"iso-8859-11", CS_ICONV, "WINDOWS-874"},
    {"tis-620", CS_ICONV, "WINDOWS-874"},
    {"gb2312", CS_ICONV, "GB18030"},
    {"gbk", CS_ICONV, "GB18030"},
    {"x-gbk", CS_ICONV, "GB18030"},
    {"csgb2312", CS_ICONV, "GB18030"},
    {"chinese", CS_ICONV, "GB18030"},
    {"gb_2312-80", CS_ICONV, "GB18030"},
    {"shift_jis", CS_ICONV, "WINDOWS-31J"},
    {"shift-jis", CS_ICONV, "WINDOWS-31J"},
    {"sjis", CS_ICONV, "WINDOWS-31J"},
    {"x-sjis", CS_ICONV, "WINDOWS-31J"},
    {"ms_kanji", CS_ICONV, "WINDOWS-31J"},
    {"csshiftjis", CS_ICONV, "WINDOWS-31J"},
    {"ms932", CS_ICONV, "WINDOWS-31J"},
    {"euc-kr", CS_ICONV, "CP949"},
    {"ks_c_5601-1987", CS_ICONV, "CP949"},
    {"ksc5601", CS_ICONV, "CP949"},
    {"windows-949", CS_ICONV, "CP949"},
    {"big5", CS_ICONV, "BIG5-HKSCS"},
    {"x-x-big5", CS_ICONV, "BIG5-HKSCS"},
    {"cn-big5", CS_ICONV, "BIG5-HKSCS"},
    {"csbig5", CS_ICONV, "BIG5-HKSCS"},
    {"x-euc-jp", CS_ICONV, "EUC-JP"},
    {"iso-8859-8-i", CS_ICONV, "ISO-8859-8"},
    {"macintosh", CS_ICONV, "MACINTOSH"},
    {"x-mac-roman", CS_ICONV, "MACINTOSH"},
};

static const struct cs_alias *
find_alias(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(aliases); i++)
        if (strcmp(aliases[i].name, name) == 0) return &aliases[i];
    return NULL;
}

/* A body that a UTF-8 label or the lack of any other calls UTF-8 but that
 * is not: windows-1252 throughout when it looks like it, else UTF-8 with
 * its stray bytes repaired. Returns 0. */
static int
from_broken_utf8(const unsigned char *s, size_t n, size_t clean, utf8_tally t,
                 buf *out, charset_result *res)
{
    if (mostly_w1252(t)) {
        res->encoding = "windows-1252";
        from_w1252(out, s, n, res);
    } else {
        res->encoding = "UTF-8";
        from_utf8_mixed(out, s, n, clean, res);
    }
    return 0;
}

static bool
names_utf8(const char *name)
{
    const struct cs_alias *a = find_alias(name);
    return a && a->kind == CS_UTF8;
}

/* Converts s with the encoding called name (lower case). Returns -1 when
 * neither the alias table nor iconv knows the name. */
static int
convert_named(const char *name, const unsigned char *s, size_t n, size_t clean,
              buf *out, charset_result *res)
{
    const struct cs_alias *a = find_alias(name);
    const char *iconv_name = name;
    if (a && a->kind == CS_UTF8) /* the callers decide these (rule 5) */
        return from_broken_utf8(s, n, clean, tally_utf8(s, n), out, res);
    if (a && a->kind == CS_W1252) {
        res->encoding = "windows-1252";
        from_w1252(out, s, n, res);
        return 0;
    }
    if (a) iconv_name = a->iconv;
    if (from_iconv(out, iconv_name, (const char *)s, n, res) < 0) return -1;
    snprintf(res->name, sizeof res->name, "%s", iconv_name);
    res->encoding = res->name;
    return 0;
}

static bool
is_iso2022(const char *name)
{
    return strncmp(name, "iso-2022-", 9) == 0 ||
           strncmp(name, "csiso2022", 9) == 0;
}

/* The ASCII character the code unit at u encodes in UTF-16 (unit 2) or
 * UTF-32 (unit 4), or -1 when it encodes something else. */
static int
wide_ascii(const unsigned char *u, int unit, bool be)
{
    const unsigned char *lo = be ? u + unit - 1 : u;
    const unsigned char *hi = be ? u : u + 1; /* the rest, all NUL */
    if (*lo >= 0x80) return -1;
    for (int k = 0; k < unit - 1; k++)
        if (hi[k]) return -1;
    return *lo;
}

/* Whether s starts, in that encoding, with whitespace (servers send blank
 * lines before the declaration) then '<', followed in UTF-16 by another
 * ASCII character ("<\0\0\0" is UTF-32). Stops at the first unit that
 * is not ASCII whitespace, so an ASCII document costs a byte or two. */
static bool
starts_wide(const unsigned char *s, size_t n, int unit, bool be)
{
    size_t i = 0, u = (size_t)unit;
    int c;
    while (i + u <= n && (c = wide_ascii(s + i, unit, be)) >= 0 &&
           xml_space((unsigned)c))
        i += u;
    if (i + u > n || wide_ascii(s + i, unit, be) != '<') return false;
    if (unit == 4) return true;
    i += u;
    c = i + u <= n ? wide_ascii(s + i, unit, be) : -1;
    return c > 0x20 && c < 0x7F;
}

/* What the first bytes say when there is no BOM (XML 1.0 appendix F):
 * '<' as UTF-32 or UTF-16, after any whitespace in the same encoding.
 * (Appendix F's unusual UCS-4 octet orders and EBCDIC are not read.) */
static int
sniff_wide(const unsigned char *s, size_t n, bool *be)
{
    if (n < 4) return 0;
    for (int unit = 4; unit >= 2; unit -= 2) {
        for (int big = 0; big < 2; big++) {
            if (starts_wide(s, n, unit, big)) {
                *be = big;
                return unit;
            }
        }
    }
    return 0;
}

static void
finish_copy(buf *out, size_t start, charset_result *res)
{
    if (!out->p) buf_grow(out, 0);
    res->data = out->p + start;
    res->len = out->len - start;
}

void
charset_to_utf8(const char *in, size_t n, const char *hint, buf *out,
                charset_result *res)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t start = out->len;
    memset(res, 0, sizeof *res);
    if (n == 0) { /* in may be NULL */
        res->data = in ? in : "";
        res->encoding = "UTF-8";
        return;
    }

    /* 1. a byte order mark, or '<' in UTF-16/32 */
    bool utf8_bom = false, be = false;
    int unit = 0;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        utf8_bom = true;
        s += 3;
        n -= 3;
    } else if (n >= 4 && s[0] == 0xFF && s[1] == 0xFE && !s[2] && !s[3]) {
        unit = 4, s += 4, n -= 4;
    } else if (n >= 4 && !s[0] && !s[1] && s[2] == 0xFE && s[3] == 0xFF) {
        unit = 4, be = true, s += 4, n -= 4;
    } else if (n >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        unit = 2, s += 2, n -= 2;
    } else if (n >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        unit = 2, be = true, s += 2, n -= 2;
    } else {
        unit = sniff_wide(s, n, &be);
    }
    if (unit) {
        res->encoding = unit == 2 ? (be ? "UTF-16BE" : "UTF-16LE")
                                  : (be ? "UTF-32BE" : "UTF-32LE");
        from_utf16_32(out, s, n, unit, be, res);
        finish_copy(out, start, res);
        return;
    }

    /* 2. valid UTF-8 is UTF-8: the one pass the common case costs */
    res->encoding = "UTF-8";
    size_t clean = scan_xml_utf8(s, n);
    if (clean == n) {
        res->data = (const char *)s;
        res->len = n;
        return;
    }

    char decl[sizeof res->name], hname[sizeof res->name];
    bool has_decl = xml_decl_encoding(s, n, decl, sizeof decl);
    bool has_hint = hint && copy_name(hname, sizeof hname, hint, strlen(hint));
    if (utf8_bom ||
        utf8_valid_prefix((const char *)s + clean, n - clean) == n - clean) {
        /* Valid but for forbidden characters, which are dropped. Except
         * that an ESC, SO or SI in a 7-bit ISO-2022 document is its
         * shifting, not a stray control. */
        const char *nm = has_decl ? decl : has_hint ? hname : "";
        if (!utf8_bom &&
            (s[clean] == 0x1B || s[clean] == 0x0E || s[clean] == 0x0F) &&
            is_iso2022(nm) && convert_named(nm, s, n, clean, out, res) == 0) {
            finish_copy(out, start, res);
            return;
        }
        from_utf8_mixed(out, s, n, clean, res);
        finish_copy(out, start, res);
        return;
    }

    /* 3. the XML declaration, unless it names UTF-8, which the body has
     * just shown it is not; an unknown name falls through to the next rule
     * and is reported. */
    bool decl_utf8 = has_decl && names_utf8(decl);
    bool hint_utf8 = has_hint && names_utf8(hname);
    if (has_decl && !decl_utf8) {
        if (convert_named(decl, s, n, clean, out, res) == 0) {
            finish_copy(out, start, res);
            return;
        }
        res->unsupported = 1;
    }
    /* 4. the caller's charset. A declaration of UTF-8 is often a template's
     * (a windows-1251 or Shift_JIS site copying an English one); what the
     * server says beats it once the body proves it wrong. But servers' own
     * defaults are often wrong too (AddDefaultCharset windows-1251), so a
     * body that is mostly valid UTF-8 stays UTF-8 with its stray bytes
     * repaired. */
    utf8_tally t = tally_utf8(s, n);
    bool hint_ignored = false;
    if (has_hint && !hint_utf8) {
        if (mostly_utf8(t)) {
            hint_ignored = true;
            snprintf(res->note, sizeof res->note,
                     "the HTTP charset %s ignored: the document is mostly "
                     "valid UTF-8",
                     hname);
        } else if (convert_named(hname, s, n, clean, out, res) == 0) {
            if (decl_utf8)
                snprintf(res->note, sizeof res->note,
                         "not UTF-8 as declared: read as %s, from the HTTP "
                         "charset %s",
                         res->encoding, hname);
            finish_copy(out, start, res);
            return;
        } else {
            res->unsupported = 1;
        }
    }
    /* 5. windows-1252: throughout, or for the stray bytes of a body that
     * is otherwise UTF-8 (mixed documents are common). A body some label
     * calls UTF-8, or that mostly is, gets the choice; one declared in an
     * encoding we do not know is plain windows-1252. */
    if (decl_utf8 || hint_utf8 || hint_ignored) {
        from_broken_utf8(s, n, clean, t, out, res);
    } else {
        res->encoding = "windows-1252";
        if (res->unsupported || mostly_w1252(t))
            from_w1252(out, s, n, res);
        else
            from_utf8_mixed(out, s, n, clean, res);
    }
    /* A guess (an unknown name is reported on its own): say which and why,
     * since nothing in the document says windows-1252. */
    if (!res->unsupported && !hint_ignored && mostly_w1252(t))
        snprintf(res->note, sizeof res->note,
                 "not UTF-8%s and no other charset given: read as "
                 "windows-1252",
                 decl_utf8   ? " as declared,"
                 : hint_utf8 ? " as the HTTP charset says,"
                             : ",");
    finish_copy(out, start, res);
}

/* Skips a quoted-string (RFC 9110) starting at the opening quote; returns
 * the position after the closing quote (or the end). */
static const char *
skip_quoted(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : p;
}

int
charset_from_content_type(const char *ctype, char *out, size_t outlen)
{
    if (!ctype || outlen == 0) return -1;
    const char *p = ctype;
    for (;;) {
        /* to the next parameter, over quoted strings that may hold ';' */
        while (*p && *p != ';')
            p = *p == '"' ? skip_quoted(p) : p + 1;
        if (!*p) return -1;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=') continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (nlen != 7 || ascii_strncasecmp(name, "charset", 7) != 0) {
            if (*p == '"') p = skip_quoted(p);
            continue;
        }
        char tmp[128];
        size_t len = 0;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            for (; *p && *p != q; p++) {
                if (q == '"' && *p == '\\' && p[1]) p++;
                if (len + 1 >= sizeof tmp) return -1;
                tmp[len++] = *p;
            }
        } else {
            for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
                if (len + 1 >= sizeof tmp) return -1;
                tmp[len++] = *p;
            }
        }
        while (len && (tmp[len - 1] == ' ' || tmp[len - 1] == '\t'))
            len--;
        size_t lead = 0;
        while (lead < len && (tmp[lead] == ' ' || tmp[lead] == '\t'))
            lead++;
        if (len - lead == 0 || len - lead >= outlen) return -1;
        for (size_t i = lead; i < len; i++)
            out[i - lead] = ascii_tolower(tmp[i]);
        out[len - lead] = '\0';
        return 0;
    }
}
