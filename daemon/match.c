/* match.c — see match.h.
 *
 * Keywords are folded (fold.h) into patterns over a "stream" alphabet:
 * folded word bytes, and SEP standing for any run of non-word characters.
 * A keyword becomes " w1 w2 ... wn " (or " w1 ... wn" for a prefix), so
 * whole-word and phrase matching are plain substring search: one
 * Aho-Corasick automaton, no boundary checks at hit time.
 *
 * The text is never copied. ASCII bytes go straight into the automaton
 * through a byte-class table that also lower-cases them and maps every
 * non-word byte to SEP's class; runs of SEP collapse inside the automaton
 * itself (a state reached by SEP stays put on SEP, without reporting
 * again). Other characters are folded one by one (cached) and their bytes
 * fed the same way; so are '<' and '&', which may start an HTML tag (fed
 * as one SEP) or a character reference (fed as its character). The hot
 * loop is two table loads per byte and no branch that depends on the
 * text, but for those bytes, non-ASCII characters and hits.
 *
 * Offsets: a hit is found by its end. Its start is the start of its first
 * word, taken from a ring of the most recent word starts (a pattern of k
 * words started k word starts ago); its stop is where the character that
 * ended it begins (whole words: marks after the last letter included,
 * invisible format characters before the separator not) or ends (a
 * prefix, with the marks after it). Hits are buffered in order of start and delivered once
 * no hit still to come can start before them: a hit has at most maxwords
 * words, so nothing starts before the maxwords-th most recent word start.
 *
 * Transliterations are more patterns of the same keyword ("Đurić" is also
 * " djuric "). The one exception to "no checks at hit time": a keyword's
 * dj stands for đ, which the text folds to d like a plain d, so the pattern
 * that writes it "d" is marked, and a hit of it counts only if the text
 * has đ or Đ there (check_dj reads the hit's few bytes again). Hits are
 * rare next to bytes, and those of such patterns rarer still: the scan
 * loop does not change. */
#include "match.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "charset.h"
#include "fold.h"
#include "text.h"
#include "util.h"

#define SEP ' '
/* Input bytes between two deliveries of hits, and how many may wait. */
#define BLOCK 16384
#define PENDING_FLUSH 4096
/* The stream bytes of one character: FOLD_CP_MAX code points of up to 4
 * bytes, each possibly between separators (isolated letters). */
#define CHAR_STREAM_MAX (FOLD_CP_MAX * 6)
/* State ids times the row stride (<= 256) must stay below FLAG. */
#define MAX_PATTERN_TOTAL ((size_t)4 << 20)
#define MAX_WORDS 100
#define RING 128 /* > MAX_WORDS, a power of two */
#define MAX_SPECIALS 3
#define FLAG 0x80000000u
#define NO_STATE 0xFFFFFFFFu
#define ESC 255 /* raw byte class of a non-ASCII lead: fold it first */

#define MARKUP_MAX 1024  /* the longest tag read as markup */
#define CHAR_CPS_MAX 4   /* code points of one character (a reference) */
#define HTML_NAME_MAX 32 /* above the longest reference name (31 bytes) */
/* Bytes of full-DFA rows, given to the shallowest states (BFS order). */
#define DENSE_BUDGET ((size_t)1 << 20)

/* A pattern in which a "dj" of the keyword was written "d": it may match
 * only where the text has đ there, which the text folds to d like a plain
 * d. Pattern positions pos[0..npos) (ascending, pattern[0] being the
 * leading SEP) must come from a đ or Đ; bytes holds pattern[1..nbytes],
 * nbytes being the last such position. */
typedef struct dj_check {
    uint32_t pos0, npos;     /* in cpos */
    uint32_t bytes0, nbytes; /* in cbytes */
} dj_check;

struct matcher {
    size_t nkw;
    char **kw; /* as written */
    uint32_t nstates, ndense, ncls;
    uint32_t stride;      /* rows are ncls entries; a state is named by
                             id * stride (its row) in the scan loop */
    uint8_t cls[256];     /* stream byte → class (0: in no pattern) */
    uint8_t cls_raw[256]; /* input byte → class of its fold, or ESC */
    uint32_t *dense;      /* ndense rows: (next id * stride) | FLAG */
    uint32_t *fail;       /* Aho-Corasick failure link */
    uint32_t *first;      /* children are first .. first + nchild - 1 */
    uint16_t *nchild;
    uint8_t *byte;   /* the byte leading to each state */
    uint8_t *flags;  /* 1 if the state or its dict chain has output */
    uint16_t *words; /* words in the string of the state */
    uint32_t *dict;  /* next state on the fail chain with output */
    uint32_t *out;   /* own outputs: okw[out[s] .. out[s + 1]) */
    uint32_t *okw;   /* keyword indices (first spelling) */
    uint32_t *ochk;  /* per output: 0, or 1 + its entry in checks */
    dj_check *checks;
    uint32_t *cpos;        /* checks' positions */
    unsigned char *cbytes; /* checks' pattern bytes */
    uint32_t start;        /* the state after the virtual SEP before a text */
    uint32_t maxwords;
    bool prefix_variants; /* several patterns of one keyword may match at
                             one start: hits are deduplicated */
};

/* Bytes in the stream: ASCII letters lower-cased, digits kept, other ASCII
 * SEP; 0 marks the lead of a non-ASCII character. */
#define SA(c)                                                                  \
    ((c) >= 0x80                                                ? 0            \
     : (c) >= 'A' && (c) <= 'Z'                                 ? ((c) + 32) & 0xff \
     : ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ? (c)          \
                                                                : SEP)
#define SA8(b)                                                                 \
    SA(b), SA(b + 1), SA(b + 2), SA(b + 3), SA(b + 4), SA(b + 5), SA(b + 6),   \
        SA(b + 7)
#define SA64(b)                                                                \
    SA8(b), SA8(b + 8), SA8(b + 16), SA8(b + 24), SA8(b + 32), SA8(b + 40),    \
        SA8(b + 48), SA8(b + 56)
static const unsigned char stream_byte[256] = {SA64(0), SA64(64), SA64(128),
                                               SA64(192)};

/* The stream bytes of one non-ASCII character: its folded bytes, a SEP for
 * each non-word code point and around each isolated letter. The consumer
 * collapses runs of SEP. */
static size_t
char_stream(int32_t cp, const fold_entry *e, unsigned char *out)
{
    size_t o = 0;
    switch (e->cls) {
    case FOLD_WORD:
        memcpy(out, e->s, e->len);
        return e->len;
    case FOLD_SEP:
        out[0] = SEP;
        return 1;
    case FOLD_NONE:
        return 0;
    case FOLD_ISOLATE:
        out[o++] = SEP;
        memcpy(out + o, e->s, e->len);
        o += e->len;
        out[o++] = SEP;
        return o;
    default:
        break;
    }
    int32_t f[FOLD_CP_MAX];
    size_t fn = fold_cp(cp, f);
    for (size_t k = 0; k < fn; k++) {
        if (!fold_is_word(f[k])) {
            out[o++] = SEP;
            continue;
        }
        bool iso = fold_is_isolate(f[k]);
        if (iso) out[o++] = SEP;
        o += (size_t)utf8proc_encode_char(f[k], out + o);
        if (iso) out[o++] = SEP;
    }
    return o;
}

/* The length of the HTML tag, comment or declaration at s[0] == '<', or 0
 * if none starts there ("a < b", "<3", "vector<int>": a name that is no
 * element, see text_element_name). Text given to rules has its markup
 * removed, but a rule may match an item's content, which keeps it: a tag
 * is read as a space, its name and attributes are not words of the text.
 * A tag starts with '<' and a letter, "</" and a letter, "<!" or "<?",
 * and ends at the first '>' outside a quoted attribute value (a comment at
 * "-->"). It is at most MARKUP_MAX bytes and never holds another '<':
 * that is text, not a tag, and the cost stays linear, each byte being
 * looked at by one such attempt at most. */
static size_t
markup_len(const unsigned char *s, size_t n)
{
    if (n < 3) return 0;
    unsigned c = s[1];
    bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    bool close = c == '/' && (s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'z';
    if (!alpha && !close && c != '!' && c != '?') return 0;
    /* as the parser reads tags: "Vec<Kosovo>", "<boris@nato.int>" are
     * text a title keeps, and their words are words */
    if ((alpha || close) &&
        !text_element_name((const char *)s + (close ? 2 : 1), n - (close ? 2 : 1)))
        return 0;
    bool comment = c == '!' && n >= 4 && s[2] == '-' && s[3] == '-';
    bool eq = false; /* the last byte but spaces was '=': a value starts */
    size_t lim = n < MARKUP_MAX ? n : MARKUP_MAX;
    for (size_t k = 2; k < lim; k++) {
        c = s[k];
        if (c == '<') return 0;
        if (comment) {
            if (c == '>' && k >= 4 && s[k - 1] == '-' && s[k - 2] == '-')
                return k + 1;
            continue;
        }
        if (c == '>') return k + 1;
        if ((c == '"' || c == '\'') && eq) {
            while (++k < lim && s[k] != c)
                if (s[k] == '<') return 0;
            if (k == lim) return 0;
        }
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') eq = c == '=';
    }
    return 0;
}

/* The length of the character reference at s[0] == '&' and the code points
 * it stands for, or 0 if there is none. Text given to rules has them
 * decoded, but an item's content is HTML: "Boris&nbsp;Ruge",
 * "Vu&#269;i&#263;". Decimal and hex references as HTML reads them (';'
 * optional; 0, surrogates and values past Unicode are U+FFFD, 128 to 159
 * windows-1252); named ones only with their ';' ("AT&T", "?a=1&copy=2"
 * are text). */
static size_t
charref_len(const unsigned char *s, size_t n, int32_t *cps, size_t *ncp)
{
    size_t k = 1;
    if (n > 2 && s[1] == '#') {
        bool hex = (s[2] | 0x20) == 'x';
        uint32_t v = 0;
        size_t d0 = k = hex ? 3 : 2;
        for (; k < n; k++) {
            unsigned c = s[k], d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                d = (c | 0x20) - 'a' + 10;
            else
                break;
            if (v <= 0x10FFFF) v = v * (hex ? 16 : 10) + d;
        }
        if (k == d0) return 0;
        if (k < n && s[k] == ';') k++;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        else if (v >= 0x80 && v <= 0x9F)
            v = charset_w1252((unsigned char)v);
        cps[0] = (int32_t)v;
        *ncp = 1;
        return k;
    }
    while (k < n && k <= HTML_NAME_MAX &&
           (((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z') ||
            (s[k] >= '0' && s[k] <= '9')))
        k++;
    if (k == 1 || k >= n || s[k] != ';') return 0;
    const char *v = html_entity_lookup((const char *)s + 1, k - 1);
    if (!v) return 0;
    *ncp = 0;
    for (size_t vl = strlen(v), j = 0; j < vl && *ncp < CHAR_CPS_MAX;)
        j += fold_decode(v + j, vl - j, &cps[(*ncp)++]);
    return k + 1;
}

/* Where, in one text, a <script> or <style> is known to have no end tag
 * any more: from absent[i] on (SIZE_MAX: not known). A search that found
 * none from p finds none from any later place either; remembering it keeps
 * a text full of unclosed "<script>" linear. */
typedef struct raw_memo {
    const unsigned char *text;
    size_t absent[2];
} raw_memo;

static const char *const raw_names[2] = {"script", "style"};

/* The length of a whole <script> or <style> element whose start tag,
 * tag bytes long, is at s; tag itself for any other tag. What is inside
 * them is code, not text a reader sees (a recipe's JSON-LD that names
 * "Kosovo"), so the element reads as one space, as the parser's text of a
 * summary leaves it out. Without its end tag only the start tag is
 * markup. memo may be NULL (a keyword: short). */
static size_t
raw_element_len(const unsigned char *s, size_t n, size_t tag, raw_memo *memo)
{
    for (size_t i = 0; i < ARRAY_LEN(raw_names); i++) {
        size_t nl = strlen(raw_names[i]);
        if (tag < nl + 2 || strncasecmp((const char *)s + 1, raw_names[i], nl))
            continue;
        unsigned c = s[1 + nl];
        if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\n' &&
            c != '\r')
            continue;
        if (s[tag - 2] == '/') return tag; /* <script/> */
        size_t at = memo ? (size_t)(s - memo->text) : 0;
        if (memo && at >= memo->absent[i]) return tag;
        const unsigned char *r = text_raw_end(s + tag, s + n, raw_names[i], nl);
        if (r) return (size_t)(r - s);
        if (memo) memo->absent[i] = at;
        return tag;
    }
    return tag;
}

/* The character at s[0] (n > 0) as the matcher reads it: its length, and
 * the code points it stands for (a tag is one ' '). */
static size_t
read_char(const unsigned char *s, size_t n, int32_t *cps, size_t *ncp,
          raw_memo *memo)
{
    size_t l = 0;
    *ncp = 1;
    if (s[0] == '<' && (l = markup_len(s, n))) {
        cps[0] = ' ';
        return raw_element_len(s, n, l, memo);
    }
    if (s[0] == '&' && (l = charref_len(s, n, cps, ncp))) return l;
    if (s[0] < 0x80) {
        cps[0] = s[0];
        return 1;
    }
    return fold_decode((const char *)s, n, &cps[0]);
}

/* The stream bytes of code points cps[0..ncp), at most CHAR_STREAM_MAX
 * each. */
static size_t
cps_stream(const int32_t *cps, size_t ncp, unsigned char *out)
{
    size_t o = 0;
    for (size_t k = 0; k < ncp; k++) {
        if (cps[k] < 0x80)
            out[o++] = stream_byte[cps[k]];
        else
            o += char_stream(cps[k], fold_lookup(cps[k]), out + o);
    }
    return o;
}

/* The stream form of a keyword: " w1 w2 ... wn ", runs of SEP collapsed.
 * at[0..nat), ascending, are offsets in s of ASCII letters whose place in
 * the stream goes to pos[]. */
static void
kw_stream(const char *s, size_t n, buf *out, const size_t *at, size_t nat,
          uint32_t *pos)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char tmp[CHAR_STREAM_MAX];
    bool sep = true;
    size_t base = out->len, next = 0;
    buf_addc(out, SEP);
    for (size_t i = 0; i < n;) {
        if (next < nat && at[next] == i)
            pos[next++] = (uint32_t)(out->len - base);
        size_t l = 1, nb = 1;
        const unsigned char *b = &stream_byte[u[i]];
        if (u[i] >= 0x80) {
            int32_t cp;
            l = fold_decode(s + i, n - i, &cp);
            nb = char_stream(cp, fold_lookup(cp), tmp);
            b = tmp;
        }
        for (size_t k = 0; k < nb; k++) {
            if (b[k] == SEP && sep) continue;
            buf_addc(out, (char)b[k]);
            sep = b[k] == SEP;
        }
        i += l;
    }
    if (!sep) buf_addc(out, SEP);
}

/* ---- compiling ---- */

typedef struct pat {
    const unsigned char *b; /* set once all patterns are in the buffer */
    size_t off;             /* in the pattern byte buffer */
    uint32_t len, kw;
    uint32_t chk; /* 0, or 1 + its dj_check */
    bool primary; /* the keyword as written, not a transliteration */
} pat;

typedef struct build {
    buf bytes; /* all patterns */
    pat *p;
    size_t np, cap;
    bool prefix_variants;
    dj_check *chk; /* the checks, and their positions and bytes */
    size_t nchk, capchk;
    uint32_t *cpos;
    size_t ncpos, capcpos;
    buf cbytes;
} build;

static int
pat_cmp(const void *a, const void *b)
{
    const pat *x = a, *y = b;
    size_t l = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->b, y->b, l);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    if (x->kw != y->kw) return x->kw < y->kw ? -1 : 1;
    return (int)y->primary - (int)x->primary;
}

static void
kw_error(char *err, size_t errlen, size_t idx, const char *kw, const char *why)
{
    if (!err || !errlen) return;
    if (!kw) {
        snprintf(err, errlen, "keyword %zu: %s", idx + 1, why);
        return;
    }
    size_t show = strlen(kw);
    bool cut = show > 48;
    if (cut) {
        show = 48;
        while (show > 0 && ((unsigned char)kw[show] & 0xC0) == 0x80)
            show--;
    }
    snprintf(err, errlen, "keyword %zu \"%.*s%s\": %s", idx + 1, (int)show, kw,
             cut ? "..." : "", why);
}

static bool
valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        int32_t cp;
        size_t l = fold_decode(s + i, n - i, &cp);
        if (cp == 0xFFFD && !(l == 3 && memcmp(s + i, "\xEF\xBF\xBD", 3) == 0))
            return false;
        i += l;
    }
    return true;
}

/* A letter with a common transliteration: its bytes in the NFC keyword and
 * the spelling that also has to match; checked if that spelling matches
 * only where the text has đ. */
typedef struct special {
    size_t off, len;
    const char *alt;
    bool checked;
} special;

static size_t
find_specials(const char *s, size_t n, special *sp, size_t max)
{
    static const struct {
        const char *utf8, *alt;
    } letters[] = {
        {"\xC4\x91", "dj"}, {"\xC4\x90", "Dj"}, /* đ Đ */
        {"\xC3\xA4", "ae"}, {"\xC3\x84", "Ae"}, /* ä Ä */
        {"\xC3\xB6", "oe"}, {"\xC3\x96", "Oe"}, /* ö Ö */
        {"\xC3\xBC", "ue"}, {"\xC3\x9C", "Ue"}, /* ü Ü */
    };
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == 'd' || s[i] == 'D') && i + 1 < n &&
            (s[i + 1] == 'j' || s[i + 1] == 'J')) {
            /* dj stands for đ, which the text folds to d like any d: the
             * "d" spelling must be checked to come from a đ. */
            if (k < max) sp[k] = (special){i, 2, s[i] == 'd' ? "d" : "D", true};
            k++;
            i++;
            continue;
        }
        if ((unsigned char)s[i] != 0xC3 && (unsigned char)s[i] != 0xC4)
            continue;
        for (size_t l = 0; l < ARRAY_LEN(letters); l++) {
            if (i + 1 < n && memcmp(s + i, letters[l].utf8, 2) == 0) {
                if (k < max) sp[k] = (special){i, 2, letters[l].alt, false};
                k++;
                break;
            }
        }
    }
    return k;
}

/* Whether the last character of s[0..n) that folds to something is a letter
 * or digit ("Vuc\u030C" ends with c). */
static bool
ends_in_word(const char *s, size_t n)
{
    while (n > 0) {
        size_t start = n - 1;
        while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80)
            start--;
        int32_t cp;
        fold_decode(s + start, n - start, &cp);
        const fold_entry *e = fold_lookup(cp);
        if (e->cls == FOLD_SEP) return false;
        if (e->cls != FOLD_NONE) return true;
        n = start;
    }
    return false;
}

/* Records the check of a pattern whose positions pos[0..n) (ascending) are
 * a "d" written for a "dj"; returns 1 + its index. */
static uint32_t
add_check(build *b, const buf *pattern, const uint32_t *pos, size_t n)
{
    if (b->nchk == b->capchk) {
        b->capchk = b->capchk ? b->capchk * 2 : 16;
        b->chk = xrealloc(b->chk, b->capchk * sizeof *b->chk);
    }
    if (b->capcpos - b->ncpos < n) {
        b->capcpos = b->capcpos * 2 + n;
        b->cpos = xrealloc(b->cpos, b->capcpos * sizeof *b->cpos);
    }
    uint32_t last = pos[n - 1];
    b->chk[b->nchk] = (dj_check){(uint32_t)b->ncpos, (uint32_t)n,
                                 (uint32_t)b->cbytes.len, last};
    memcpy(b->cpos + b->ncpos, pos, n * sizeof *pos);
    b->ncpos += n;
    buf_add(&b->cbytes, pattern->p + 1, last);
    return (uint32_t)++b->nchk;
}

/* Compiles keyword idx into its patterns; returns false and fills err. */
/* A symbol that gives the keyword its meaning but that the matcher cannot
 * see, as symbols only separate words: '+' or '#' right after a word
 * ("C++", "C#", "Disney+") or a '.' right before one at the start
 * (".NET"). Such a keyword would match the bare word ("C", "NET"): it is
 * refused rather than alert on every "Vitamin C". 0 when there is none. */
static char
meaningful_symbol(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    if (i + 1 < n && s[i] == '.' && ends_in_word(s + i + 1, 1)) return '.';
    for (size_t k = 1; k < n; k++)
        if ((s[k] == '+' || s[k] == '#') && ends_in_word(s, k)) return s[k];
    return 0;
}

static bool
add_keyword(build *b, const char *kw, size_t idx, char *err, size_t errlen)
{
    if (!kw) {
        kw_error(err, errlen, idx, NULL, "is NULL");
        return false;
    }
    size_t n = strlen(kw);
    if (n > MATCH_MAX_KEYWORD_BYTES) {
        kw_error(err, errlen, idx, kw, "longer than 1024 bytes");
        return false;
    }
    if (!valid_utf8(kw, n)) {
        kw_error(err, errlen, idx, NULL, "not valid UTF-8");
        return false;
    }
    size_t body = n;
    while (body > 0 && (kw[body - 1] == ' ' || kw[body - 1] == '\t' ||
                        kw[body - 1] == '\n' || kw[body - 1] == '\r'))
        body--;
    bool prefix = body > 0 && kw[body - 1] == '*';
    if (prefix) body--;
    if (memchr(kw, '*', body)) {
        kw_error(err, errlen, idx, kw,
                 "'*' is only allowed at the end, for a prefix (\"serb*\")");
        return false;
    }
    if (prefix && !ends_in_word(kw, body)) {
        kw_error(err, errlen, idx, kw, "'*' must follow a letter or digit");
        return false;
    }
    char sym = meaningful_symbol(kw, body);
    if (sym) {
        char why[160];
        snprintf(why, sizeof why,
                 "'%c' cannot be matched (symbols only separate words): it "
                 "would match the word without it; write it without the '%c' "
                 "if that is what you mean",
                 sym, sym);
        kw_error(err, errlen, idx, kw, why);
        return false;
    }

    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t nl =
        utf8proc_map((const utf8proc_uint8_t *)kw, (utf8proc_ssize_t)body, &nfc,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (nl < 0) {
        kw_error(err, errlen, idx, kw, utf8proc_errmsg(nl));
        return false;
    }
    const char *s = (const char *)nfc;
    /* A special takes at least 2 bytes. */
    size_t maxsp = (size_t)nl / 2 + 1;
    special *sp = xmalloc(maxsp * sizeof *sp);
    size_t nsp = find_specials(s, (size_t)nl, sp, maxsp);
    /* Every combination of up to MAX_SPECIALS letters; beyond that, all as
     * written and all transliterated. */
    size_t nvar = nsp <= MAX_SPECIALS ? (size_t)1 << nsp : 2;
    bool ok = true;
    buf var = {0}, folded = {0};
    size_t *chk_at = xmalloc((nsp ? nsp : 1) * sizeof *chk_at);
    uint32_t *chk_pos = xmalloc((nsp ? nsp : 1) * sizeof *chk_pos);
    for (size_t v = 0; v < nvar && ok; v++) {
        buf_reset(&var);
        size_t at = 0, nchk = 0;
        for (size_t j = 0; j < nsp; j++) {
            bool alt = nsp <= MAX_SPECIALS ? (v >> j) & 1 : v == 1;
            if (!alt) continue;
            buf_add(&var, s + at, sp[j].off - at);
            if (sp[j].checked) chk_at[nchk++] = var.len;
            buf_adds(&var, sp[j].alt);
            at = sp[j].off + sp[j].len;
        }
        buf_add(&var, s + at, (size_t)nl - at);

        buf_reset(&folded);
        kw_stream(var.p, var.len, &folded, chk_at, nchk, chk_pos);
        /* folded is " w1 w2 ... wn " or " " when there is no word. */
        if (folded.len <= 2) {
            kw_error(err, errlen, idx, kw,
                     "has no letter or digit once folded");
            ok = false;
            break;
        }
        if (prefix) {
            folded.len--; /* a prefix does not end the word */
            b->prefix_variants |= nvar > 1;
        }
        size_t words = 0;
        for (size_t q = 1; q < folded.len; q++)
            words += folded.p[q] != SEP && folded.p[q - 1] == SEP;
        if (words > MAX_WORDS) {
            kw_error(err, errlen, idx, kw, "more than 100 words");
            ok = false;
            break;
        }
        if (b->bytes.len + folded.len > MAX_PATTERN_TOTAL) {
            kw_error(err, errlen, idx, kw,
                     "keywords too large in all (4 MiB once folded)");
            ok = false;
            break;
        }
        if (b->np == b->cap) {
            b->cap = b->cap ? b->cap * 2 : 256;
            b->p = xrealloc(b->p, b->cap * sizeof *b->p);
        }
        uint32_t chk = nchk ? add_check(b, &folded, chk_pos, nchk) : 0;
        b->p[b->np++] = (pat){NULL, b->bytes.len, (uint32_t)folded.len,
                              (uint32_t)idx, chk, v == 0};
        buf_add(&b->bytes, folded.p, folded.len);
    }
    buf_free(&var);
    buf_free(&folded);
    free(chk_at);
    free(chk_pos);
    free(sp);
    free(nfc);
    return ok;
}

/* Child of s by byte c, or NO_STATE (children are sorted by byte). */
static uint32_t
child_of(const matcher *m, uint32_t s, unsigned c)
{
    uint32_t lo = m->first[s], hi = lo + m->nchild[s];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->byte[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->first[s] + m->nchild[s] && m->byte[lo] == c ? lo : NO_STATE;
}

/* Whether checks x and y (1 + index, non-zero) ask for the same places. */
static bool
same_check(const build *b, uint32_t x, uint32_t y)
{
    const dj_check *cx = &b->chk[x - 1], *cy = &b->chk[y - 1];
    return cx->npos == cy->npos &&
           memcmp(b->cpos + cx->pos0, b->cpos + cy->pos0,
                  cx->npos * sizeof *b->cpos) == 0;
}

/* A trie node while building: children as a sorted sibling list. */
typedef struct tnode {
    uint32_t first, last, next; /* first/last child, next sibling */
    uint32_t out0, nout;        /* range in the output list being built */
    uint8_t byte;
} tnode;

static void
build_automaton(matcher *m, build *b)
{
    for (size_t k = 0; k < b->np; k++)
        b->p[k].b = (const unsigned char *)b->bytes.p + b->p[k].off;
    if (b->np) qsort(b->p, b->np, sizeof *b->p, pat_cmp);

    /* Keywords with the same primary pattern are one keyword: the first. */
    uint32_t *canon = xmalloc((m->nkw ? m->nkw : 1) * sizeof *canon);
    for (size_t i = 0; i < m->nkw; i++)
        canon[i] = (uint32_t)i;
    for (size_t r = 0; r < b->np;) {
        size_t e = r + 1;
        while (e < b->np && b->p[e].len == b->p[r].len &&
               memcmp(b->p[e].b, b->p[r].b, b->p[r].len) == 0)
            e++;
        uint32_t first = NO_STATE;
        for (size_t k = r; k < e; k++) {
            if (!b->p[k].primary) continue;
            if (first == NO_STATE)
                first = b->p[k].kw;
            else
                canon[b->p[k].kw] = first;
        }
        r = e;
    }

    /* The trie, from the sorted patterns: each new child sorts last. */
    size_t total = b->bytes.len;
    tnode *t = xmalloc((total + 1) * sizeof *t);
    uint32_t *okw = xmalloc((b->np ? b->np : 1) * sizeof *okw);
    uint32_t *ochk = xmalloc((b->np ? b->np : 1) * sizeof *ochk);
    size_t nt = 1, nokw = 0, maxlen = 0;
    t[0] = (tnode){NO_STATE, NO_STATE, NO_STATE, 0, 0, 0};
    for (size_t k = 0; k < b->np; k++)
        if (b->p[k].len > maxlen) maxlen = b->p[k].len;
    uint32_t *path = xmalloc((maxlen + 1) * sizeof *path);
    path[0] = 0;
    const pat *prev = NULL;
    for (size_t r = 0; r < b->np;) {
        const pat *p = &b->p[r];
        const unsigned char *pb = p->b;
        size_t lcp = 0;
        if (prev) {
            const unsigned char *qb = prev->b;
            while (lcp < p->len && lcp < prev->len && pb[lcp] == qb[lcp])
                lcp++;
        }
        for (size_t d = lcp; d < p->len; d++) {
            uint32_t parent = path[d], id = (uint32_t)nt++;
            t[id] = (tnode){NO_STATE, NO_STATE, NO_STATE, 0, 0, pb[d]};
            if (t[parent].last == NO_STATE)
                t[parent].first = id;
            else
                t[t[parent].last].next = id;
            t[parent].last = id;
            path[d + 1] = id;
        }
        /* Outputs of this pattern: the distinct first spellings. */
        tnode *term = &t[path[p->len]];
        term->out0 = (uint32_t)nokw;
        size_t e = r;
        for (; e < b->np && b->p[e].len == p->len &&
               memcmp(b->p[e].b, pb, p->len) == 0;
             e++) {
            uint32_t c = canon[b->p[e].kw], chk = b->p[e].chk;
            bool dup = false, again = false;
            for (size_t q = term->out0; q < nokw; q++) {
                if (okw[q] != c) continue;
                again = true;
                /* Unchecked wins over checked; equal checks are one. */
                if (!chk) ochk[q] = 0;
                dup |= !ochk[q] || same_check(b, ochk[q], chk);
            }
            if (!dup) {
                okw[nokw] = c;
                ochk[nokw++] = chk;
                /* Two checked outputs of one keyword: both may pass. */
                b->prefix_variants |= again;
            }
        }
        term->nout = (uint32_t)nokw - term->out0;
        prev = p;
        r = e;
    }
    free(path);
    free(canon);

    /* Renumber breadth first: children of a state get consecutive ids,
     * and shallow states (the hot ones) come first. */
    uint32_t *queue = xmalloc(nt * sizeof *queue);
    size_t head = 0, tail = 0;
    queue[tail++] = 0;
    m->nstates = (uint32_t)nt;
    m->first = xmalloc(nt * sizeof *m->first);
    m->nchild = xmalloc(nt * sizeof *m->nchild);
    m->byte = xmalloc(nt * sizeof *m->byte);
    m->words = xmalloc(nt * sizeof *m->words);
    m->out = xmalloc((nt + 1) * sizeof *m->out);
    m->okw = xmalloc((nokw ? nokw : 1) * sizeof *m->okw);
    m->ochk = xmalloc((nokw ? nokw : 1) * sizeof *m->ochk);
    size_t no = 0;
    m->words[0] = 0;
    m->maxwords = 0;
    while (head < tail) {
        uint32_t s = (uint32_t)head, old = queue[head++];
        m->byte[s] = t[old].byte;
        m->out[s] = (uint32_t)no;
        if (t[old].nout && m->words[s] > m->maxwords) m->maxwords = m->words[s];
        for (uint32_t q = 0; q < t[old].nout; q++) {
            m->okw[no] = okw[t[old].out0 + q];
            m->ochk[no++] = ochk[t[old].out0 + q];
        }
        m->first[s] = (uint32_t)tail;
        uint32_t nc = 0;
        for (uint32_t c = t[old].first; c != NO_STATE; c = t[c].next) {
            /* A word starts where a word byte follows SEP. */
            m->words[tail] = (uint16_t)(m->words[s] + (t[c].byte != SEP &&
                                                       t[old].byte == SEP));
            queue[tail++] = c;
            nc++;
        }
        m->nchild[s] = (uint16_t)nc; /* at most 256 distinct bytes */
    }
    m->out[nt] = (uint32_t)no;
    free(queue);
    free(okw);
    free(ochk);
    free(t);

    /* Failure and dictionary links, breadth first. */
    m->fail = xmalloc(nt * sizeof *m->fail);
    m->dict = xmalloc(nt * sizeof *m->dict);
    m->flags = xmalloc(nt * sizeof *m->flags);
    m->fail[0] = 0;
    m->dict[0] = NO_STATE;
    m->flags[0] = 0;
    for (uint32_t s = 0; s < nt; s++) {
        for (uint32_t c = m->first[s]; c < m->first[s] + m->nchild[s]; c++) {
            uint32_t f = 0;
            if (s != 0) {
                for (uint32_t g = m->fail[s];; g = m->fail[g]) {
                    uint32_t x = child_of(m, g, m->byte[c]);
                    if (x != NO_STATE) {
                        f = x;
                        break;
                    }
                    if (g == 0) break;
                }
            }
            m->fail[c] = f;
            m->dict[c] = m->out[f + 1] > m->out[f] ? f : m->dict[f];
            m->flags[c] = m->out[c + 1] > m->out[c] || m->dict[c] != NO_STATE;
        }
    }

    /* Byte classes: bytes on no edge all behave alike (back to the root). */
    unsigned char rep[256];
    bool used[256] = {false};
    for (uint32_t s = 1; s < nt; s++)
        used[m->byte[s]] = true;
    m->ncls = 1;
    rep[0] = 0;
    for (unsigned c = 0; c < 256; c++) {
        m->cls[c] = 0;
        if (used[c]) {
            m->cls[c] = (uint8_t)m->ncls;
            rep[m->ncls++] = (unsigned char)c;
        }
    }
    for (unsigned c = 0; c < 256; c++)
        m->cls_raw[c] = c < 0x80 ? m->cls[stream_byte[c]] : ESC;
    /* may start a tag or a character reference: see read_char */
    m->cls_raw['<'] = m->cls_raw['&'] = ESC;
    m->start = child_of(m, 0, SEP);

    /* Full rows for the first states, which name their targets by row
     * offset (id * stride): one add and one load from a state to the next.
     * A state reached by SEP stays on SEP, unflagged: a run of non-word
     * characters is one SEP and reports once. */
    m->stride = m->ncls;
    size_t stride = m->stride;
    size_t nd = DENSE_BUDGET / (stride * sizeof(uint32_t));
    m->ndense = (uint32_t)(nd < 1 ? 1 : nd > nt ? nt : nd);
    m->dense = xcalloc((size_t)m->ndense * stride, sizeof *m->dense);
    for (uint32_t s = 0; s < m->ndense; s++) {
        uint32_t *row = m->dense + (size_t)s * stride;
        for (uint32_t k = 1; k < m->ncls; k++) {
            if (rep[k] == SEP && m->byte[s] == SEP && s != 0) {
                row[k] = s * m->stride;
                continue;
            }
            uint32_t x = child_of(m, s, rep[k]);
            if (x == NO_STATE)
                x = s == 0
                        ? 0
                        : (m->dense[(size_t)m->fail[s] * stride + k] & ~FLAG) /
                              m->stride;
            row[k] = (x * m->stride) | ((uint32_t)m->flags[x] << 31);
        }
        row[0] = 0; /* a byte in no pattern: back to the root */
    }
}

matcher *
matcher_new(const char *const *keywords, size_t n, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (n > MATCH_MAX_KEYWORDS) {
        if (err && errlen)
            snprintf(err, errlen, "too many keywords: %zu (limit %d)", n,
                     MATCH_MAX_KEYWORDS);
        return NULL;
    }
    build b = {0};
    for (size_t i = 0; i < n; i++) {
        if (!add_keyword(&b, keywords[i], i, err, errlen)) {
            buf_free(&b.bytes);
            free(b.p);
            free(b.chk);
            free(b.cpos);
            buf_free(&b.cbytes);
            return NULL;
        }
    }
    matcher *m = xcalloc(1, sizeof *m);
    m->nkw = n;
    m->kw = xmalloc((n ? n : 1) * sizeof *m->kw);
    for (size_t i = 0; i < n; i++)
        m->kw[i] = xstrdup(keywords[i]);
    build_automaton(m, &b);
    m->prefix_variants = b.prefix_variants;
    m->checks = b.chk;
    m->cpos = b.cpos;
    m->cbytes = (unsigned char *)buf_detach(&b.cbytes);
    buf_free(&b.bytes);
    free(b.p);
    return m;
}

void
matcher_free(matcher *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nkw; i++)
        free(m->kw[i]);
    free(m->kw);
    free(m->dense);
    free(m->fail);
    free(m->first);
    free(m->nchild);
    free(m->byte);
    free(m->flags);
    free(m->words);
    free(m->dict);
    free(m->out);
    free(m->okw);
    free(m->ochk);
    free(m->checks);
    free(m->cpos);
    free(m->cbytes);
    free(m);
}

size_t
matcher_count(const matcher *m)
{
    return m ? m->nkw : 0;
}

const char *
matcher_keyword(const matcher *m, uint32_t i)
{
    return m && i < m->nkw ? m->kw[i] : NULL;
}

/* ---- scanning ---- */

typedef struct pending {
    size_t start, stop;
    uint32_t kw;
} pending;

typedef struct scan {
    const matcher *m;
    const unsigned char *text;
    size_t len;
    size_t ring[RING]; /* input offsets of the last word starts */
    pending *h, *inl;  /* by start, stop descending, kw, unless unsorted */
    size_t nh, cap, flush_at;
    bool unsorted;
    match_cb cb;
    void *ud;
    bool stopped;
    raw_memo raw;
} scan;

static inline bool
pending_before(const pending *x, const pending *y)
{
    if (x->start != y->start) return x->start < y->start;
    if (x->stop != y->stop) return x->stop > y->stop;
    return x->kw < y->kw;
}

static void
hit_push(scan *sc, size_t start, size_t stop, uint32_t kw)
{
    if (sc->nh == sc->cap) {
        size_t cap = sc->cap * 2;
        if (sc->h == sc->inl) {
            pending *h = xmalloc(cap * sizeof *h);
            memcpy(h, sc->h, sc->nh * sizeof *h);
            sc->h = h;
        } else {
            sc->h = xrealloc(sc->h, cap * sizeof *sc->h);
        }
        sc->cap = cap;
    }
    /* Found by their end, hits mostly come in order of start already;
     * phrases and overlaps are sorted before delivery. */
    pending h = {start, stop, kw};
    if (sc->nh && !pending_before(&sc->h[sc->nh - 1], &h)) sc->unsorted = true;
    sc->h[sc->nh++] = h;
}

static int
pending_cmp(const void *a, const void *b)
{
    return pending_before(a, b) ? -1 : pending_before(b, a) ? 1 : 0;
}

/* The text's stream again, from a character on, as the scan reads it: runs
 * of SEP collapsed (and any SEP before the first word byte dropped), each
 * byte with the code point it comes from. */
typedef struct reader {
    const unsigned char *u;
    size_t i, len; /* the next character */
    size_t at;     /* where the character of the buffered bytes starts */
    unsigned char b[CHAR_STREAM_MAX * CHAR_CPS_MAX];
    int32_t cp; /* the character's code point, -1 if it has several */
    size_t nb, k;
    bool sep; /* the last byte given was SEP */
    raw_memo *memo;
} reader;

/* The next stream byte, or -1 at the end of the text. */
static int
reader_next(reader *r)
{
    for (;;) {
        while (r->k < r->nb) {
            unsigned c = r->b[r->k++];
            if (c == SEP && r->sep) continue;
            r->sep = c == SEP;
            return (int)c;
        }
        if (r->i >= r->len) return -1;
        r->at = r->i;
        int32_t cps[CHAR_CPS_MAX];
        size_t ncp;
        r->i += read_char(r->u + r->i, r->len - r->i, cps, &ncp, r->memo);
        r->cp = ncp == 1 ? cps[0] : -1;
        r->nb = cps_stream(cps, ncp, r->b);
        r->k = 0;
    }
}

/* Whether the text from start reads as the pattern of c with a đ or Đ at
 * each of its places. The pattern's first word starts at a word start of
 * the character at start: usually its first byte, but a character may
 * hold several words ("½" is "1 2"), so each is tried. */
static bool
check_dj(scan *sc, const dj_check *c, size_t start)
{
    const uint32_t *pos = sc->m->cpos + c->pos0;
    const unsigned char *want = sc->m->cbytes + c->bytes0;
    for (unsigned skip = 0;; skip++) {
        reader r = {.u = sc->text, .i = start, .len = sc->len, .sep = true,
                    .memo = &sc->raw};
        /* the skip-th word start in the character at start */
        int x = 0;
        bool prev_sep = true;
        for (unsigned seen = 0;;) {
            x = reader_next(&r);
            if (x < 0 || r.at != start) return false;
            bool word = x != SEP;
            if (word && prev_sep && seen++ == skip) break;
            prev_sep = !word;
        }
        uint32_t p = 1, next = 0;
        for (;; p++) {
            if ((unsigned)x != want[p - 1]) break;
            if (p == pos[next]) {
                if (r.cp != 0x0110 && r.cp != 0x0111) break;
                if (++next == c->npos) return true;
            }
            x = reader_next(&r);
            if (x < 0) break;
        }
    }
}

static bool
is_mark(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
           c == UTF8PROC_CATEGORY_ME;
}

/* A hit ends after its last letter and the marks on it, whichever way it
 * was found. A prefix hit is found at the letter that completes it: the
 * combining marks after that letter are taken in ("Vuč*" in a decomposed
 * "Vuc\u030Cic" ends after the caron, not between c and caron). */
static size_t
take_marks(const unsigned char *t, size_t len, size_t stop)
{
    while (stop < len && t[stop] >= 0x80) {
        int32_t cp;
        size_t l = fold_decode((const char *)t + stop, len - stop, &cp);
        if (!is_mark(cp)) break;
        stop += l;
    }
    return stop;
}

/* A whole-word hit is found at the separator after it: invisible
 * characters between the last letter (and its marks) and that separator
 * are not part of it ("Ruge" in "\u202BRuge\u202C" is the 4 letters). */
static size_t
drop_invisibles(const unsigned char *t, size_t stop)
{
    while (stop > 0) {
        size_t b = stop - 1;
        while (b > 0 && (t[b] & 0xC0) == 0x80)
            b--;
        if (t[b] < 0x80) break;
        int32_t cp;
        fold_decode((const char *)t + b, stop - b, &cp);
        if (is_mark(cp) || fold_lookup(cp)->cls != FOLD_NONE) break;
        stop = b;
    }
    return stop;
}

/* Records the hits of state s (its outputs, its dict chain). sep_stop is
 * where a whole-word hit stops (the start of the character that ended the
 * word), word_stop where a prefix hit does (the end of its last one). */
static void
report(scan *sc, size_t nw, uint32_t s, size_t sep_stop, size_t word_stop)
{
    const matcher *m = sc->m;
    uint32_t t = m->out[s + 1] > m->out[s] ? s : m->dict[s];
    for (; t != NO_STATE; t = m->dict[t]) {
        size_t start = sc->ring[(nw - m->words[t]) % RING];
        size_t stop = m->byte[t] == SEP
                          ? drop_invisibles(sc->text, sep_stop)
                          : take_marks(sc->text, sc->len, word_stop);
        for (uint32_t k = m->out[t]; k < m->out[t + 1]; k++) {
            if (UNLIKELY(m->ochk[k]) &&
                !check_dj(sc, &m->checks[m->ochk[k] - 1], start))
                continue;
            hit_push(sc, start, stop, m->okw[k]);
        }
    }
}

/* Delivers, in order, the pending hits that start before limit. */
static void
flush(scan *sc, size_t limit)
{
    if (sc->unsorted) {
        qsort(sc->h, sc->nh, sizeof *sc->h, pending_cmp);
        sc->unsorted = false;
    }
    size_t k = 0;
    for (; k < sc->nh && sc->h[k].start < limit; k++) {
        const pending *p = &sc->h[k];
        if (sc->stopped) continue;
        /* One hit per keyword and start: the longest, sorted first. Only
         * two variants of a prefix can both match at one start. */
        bool dup = false;
        if (sc->m->prefix_variants)
            for (size_t q = k; q-- > 0 && sc->h[q].start == p->start;)
                dup |= sc->h[q].kw == p->kw;
        if (dup) continue;
        match_hit hit = {p->kw, p->start, p->stop};
        if (sc->cb(sc->ud, &hit)) sc->stopped = true;
    }
    memmove(sc->h, sc->h + k, (sc->nh - k) * sizeof *sc->h);
    sc->nh -= k;
}

/* The transition from a state without a full row (or any state, slowly):
 * its children, else its failure link, until a state with a row. Takes
 * and returns states as id * stride (| FLAG). */
static uint32_t
step_slow(const matcher *m, uint32_t so, unsigned c)
{
    uint32_t s = so / m->stride;
    if (c == SEP && m->byte[s] == SEP && s != 0) return so;
    for (;;) {
        if (s < m->ndense) return m->dense[(size_t)s * m->stride + m->cls[c]];
        uint32_t f = m->first[s], e = f + m->nchild[s];
        for (uint32_t k = f; k < e; k++)
            if (m->byte[k] == c)
                return (k * m->stride) | ((uint32_t)m->flags[k] << 31);
        s = m->fail[s];
    }
}

/* Where the scan is: automaton state (id * stride), word starts so far,
 * and whether the last stream byte was a word's. */
typedef struct cursor {
    uint32_t s;
    bool prevw;
    size_t nw; /* ring[nw % RING] is scratch, the RING - 1 before it valid */
} cursor;

/* Feeds one stream byte c, which comes from the input character at i whose
 * whole-word hits stop at sep_stop and prefix hits at word_stop. */
static void
feed(scan *sc, cursor *cu, unsigned c, size_t i, size_t sep_stop,
     size_t word_stop)
{
    const matcher *m = sc->m;
    bool w = c != SEP;
    if (w && !cu->prevw) sc->ring[cu->nw++ % RING] = i;
    cu->prevw = w;
    uint32_t s = cu->s;
    s = s < m->ndense * m->stride ? m->dense[s + m->cls[c]]
                                  : step_slow(m, s, c);
    if (s & FLAG) {
        s &= ~FLAG;
        report(sc, cu->nw, s / m->stride, sep_stop, word_stop);
    }
    cu->s = s;
}

/* Feeds the stream bytes b[0..nb) of the input character at i, l bytes
 * long. A whole word ended by this character stops where it starts,
 * unless the word is (partly) made of this character. */
static void
feed_char(scan *sc, cursor *cu, const unsigned char *b, size_t nb, size_t i,
          size_t l)
{
    bool wrote_word = false;
    for (size_t q = 0; q < nb; q++) {
        feed(sc, cu, b[q], i, wrote_word ? i + l : i, i + l);
        wrote_word |= b[q] != SEP;
    }
}

/* The hot loop: ASCII bytes from i, through full rows only. Stops before a
 * non-ASCII byte, before leaving a state without a full row, at end, or
 * just after a byte that reached a state with output (left flagged in
 * cu->s). Returns the next input offset. Kept apart so that everything it
 * touches stays in registers. */
static size_t
run_ascii(const matcher *m, const unsigned char *u, size_t i, size_t end,
          cursor *cu, size_t *ring)
{
    const uint32_t *dense = m->dense;
    const uint8_t *craw = m->cls_raw;
    const uint32_t dlim = m->ndense * m->stride;
    const unsigned ksep = m->cls[SEP];
    uint32_t s = cu->s;
    size_t nw = cu->nw;
    bool prevw = cu->prevw;
    while (i < end) {
        unsigned k = craw[u[i]];
        if (UNLIKELY(k == ESC || s >= dlim)) break;
        bool w = k != ksep;
        ring[nw % RING] = i; /* kept only if a word starts here */
        nw += w & !prevw;
        prevw = w;
        s = dense[s + k];
        i++;
        if (UNLIKELY(s & FLAG)) break;
    }
    cu->s = s;
    cu->nw = nw;
    cu->prevw = prevw;
    return i;
}

void
matcher_scan(const matcher *m, const char *text, size_t len, match_cb cb,
             void *ud)
{
    if (!m || m->nstates <= 1 || !cb || (!text && len)) return;
    pending inl[64];
    scan sc = {.m = m,
               .text = (const unsigned char *)text,
               .len = len,
               .cb = cb,
               .ud = ud,
               .h = inl,
               .inl = inl,
               .cap = ARRAY_LEN(inl),
               .flush_at = PENDING_FLUSH,
               .raw = {(const unsigned char *)text, {SIZE_MAX, SIZE_MAX}}};
    const unsigned char *u = (const unsigned char *)text;
    cursor cu = {m->start * m->stride, false, 0}; /* after the virtual SEP */
    size_t i = 0;

    while (i < len && !sc.stopped) {
        size_t end = len - i > BLOCK ? i + BLOCK : len;
        while (i < end) {
            if (UNLIKELY(sc.nh > sc.flush_at) && cu.nw >= m->maxwords) {
                flush(&sc, sc.ring[(cu.nw - m->maxwords) % RING]);
                /* Not again before the backlog doubles (hits that cannot
                 * go yet stay). */
                sc.flush_at =
                    sc.nh * 2 > PENDING_FLUSH ? sc.nh * 2 : PENDING_FLUSH;
            }
            i = run_ascii(m, u, i, end, &cu, sc.ring);
            if (cu.s & FLAG) {
                cu.s &= ~FLAG;
                report(&sc, cu.nw, cu.s / m->stride, i - 1, i);
                continue;
            }
            if (i >= end) break;
            if (u[i] < 0x80 && u[i] != '<' && u[i] != '&') {
                /* A state without a full row: the slow way. */
                feed(&sc, &cu, stream_byte[u[i]], i, i, i + 1);
                i++;
                continue;
            }
            unsigned char tmp[CHAR_STREAM_MAX * CHAR_CPS_MAX];
            if (u[i] < 0x80) {
                /* A tag, a character reference, or just '<' or '&'. */
                int32_t cps[CHAR_CPS_MAX];
                size_t ncp, l = read_char(u + i, len - i, cps, &ncp, &sc.raw);
                feed_char(&sc, &cu, tmp, cps_stream(cps, ncp, tmp), i, l);
                i += l;
                continue;
            }
            /* Anything else, folded; its bytes go the same way. */
            int32_t cp;
            size_t l = fold_decode((const char *)u + i, len - i, &cp);
            const fold_entry *e = fold_lookup(cp);
            const unsigned char *b = (const unsigned char *)e->s;
            size_t nb = e->len;
            if (e->cls != FOLD_WORD) {
                nb = char_stream(cp, e, tmp);
                b = tmp;
            }
            feed_char(&sc, &cu, b, nb, i, l);
            i += l;
        }
        /* Hits still to come start at one of the last maxwords word
         * starts or later. */
        if (cu.nw >= m->maxwords && i < len)
            flush(&sc, sc.ring[(cu.nw - m->maxwords) % RING]);
    }
    if (!sc.stopped) feed(&sc, &cu, SEP, len, len, len); /* virtual SEP */
    flush(&sc, SIZE_MAX);
    if (sc.h != sc.inl) free(sc.h);
}

typedef struct distinct {
    uint32_t *out;
    size_t cap, n;
    uint64_t *seen; /* one bit per keyword, allocated at the first hit */
    size_t nkw;
} distinct;

static int
distinct_cb(void *ud, const match_hit *hit)
{
    distinct *d = ud;
    if (!d->seen) d->seen = xcalloc((d->nkw + 63) / 64, sizeof *d->seen);
    uint64_t bit = (uint64_t)1 << (hit->keyword % 64);
    if (d->seen[hit->keyword / 64] & bit) return 0;
    d->seen[hit->keyword / 64] |= bit;
    if (d->n < d->cap) d->out[d->n] = hit->keyword;
    d->n++;
    return 0;
}

size_t
matcher_match(const matcher *m, const char *text, size_t len, uint32_t *out,
              size_t outcap)
{
    distinct d = {out, out ? outcap : 0, 0, NULL, m ? m->nkw : 0};
    matcher_scan(m, text, len, distinct_cb, &d);
    free(d.seen);
    return d.n;
}
