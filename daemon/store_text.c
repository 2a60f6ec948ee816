/* store_text.c — the text the store keeps and what its full-text index
 * sees of it: an archived item's summary and content packed into one LZ4
 * body; the text of HTML fields (store_index_text) and of tags; the index
 * entries written from them (st_fts_write), the SQL functions that let
 * migrations rebuild the index the same way, and searching it. Apart from
 * the transaction's bookkeeping (store.c), everything that decides which
 * words an item is found by is here: changing any of it needs a migration
 * that rebuilds the index. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lz4.h>
#include <sqlite3.h>
#include <utf8proc.h>

#include "date.h"
#include "fold.h"
#include "store.h"
#include "store_int.h"
#include "text.h"
#include "utf8.h"

/* ---- full-text input --------------------------------------------------- */

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
put_utf8(buf *out, uint32_t cp)
{
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xc0 | cp >> 6);
        t[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xe0 | cp >> 12);
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        t[0] = (char)(0xf0 | cp >> 18);
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        t[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_add(out, t, n);
}

/* A named reference: the few that matter for words as the index should
 * see them (ligatures spelled out: "oeuvre" finds "&oelig;uvre"), then
 * any HTML name as its characters (as text_from_html decodes it, so that a
 * summary and the content it comes from read the same: see fts_write).
 * An unknown name separates words. */
static void
named_ref(buf *out, const char *name, size_t n)
{
    static const struct {
        const char *name, *text;
    } fixed[] = {
        {"amp", "&"},    {"lt", "<"},     {"gt", ">"},     {"quot", "\""},
        {"apos", "'"},   {"szlig", "ss"}, {"aelig", "ae"}, {"AElig", "AE"},
        {"oelig", "oe"}, {"OElig", "OE"}, {"eth", "d"},    {"ETH", "D"},
        {"thorn", "th"}, {"THORN", "TH"}, {"shy", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
        if (strlen(fixed[i].name) == n && !memcmp(fixed[i].name, name, n)) {
            buf_adds(out, fixed[i].text);
            return;
        }
    const char *t = html_entity_lookup(name, n);
    if (t)
        buf_adds(out, t);
    else
        buf_addc(out, ' ');
}

/* Decodes the reference at s[0] == '&'; returns bytes consumed, 0 if it is
 * not a reference (the '&' is then text). */
static size_t
char_ref(buf *out, const char *s, size_t n)
{
    size_t i = 1;
    if (i < n && s[i] == '#') {
        i++;
        bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
        if (hex) i++;
        uint32_t cp = 0;
        size_t digits = 0;
        while (i < n && digits < 8) {
            char c = s[i];
            int v;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
            else
                break;
            cp = cp * (hex ? 16 : 10) + (uint32_t)v;
            digits++;
            i++;
        }
        if (!digits) return 0;
        if (i < n && s[i] == ';') i++;
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            buf_addc(out, ' ');
        else
            put_utf8(out, cp);
        return i;
    }
    size_t start = i;
    while (i < n && i - start < 32 &&
           (is_alpha(s[i]) || (i > start && s[i] >= '0' && s[i] <= '9')))
        i++;
    if (i == start || i >= n || s[i] != ';') return 0;
    named_ref(out, s + start, i - start);
    return i + 1;
}

/* Case-insensitive search for the ASCII needle in s[0..n). */
static size_t
find_ci(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (!ascii_strncasecmp(s + i, needle, m)) return i;
    return n;
}

/* End of the tag opening at s[0] == '<' (index after '>'), quotes
 * respected; n when it never ends. */
static size_t
tag_end(const char *s, size_t n)
{
    char quote = 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            /* a quote only opens a value after '=' (and spaces) */
            size_t j = i;
            while (j > 1 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
                j--;
            if (s[j - 1] == '=') quote = c;
        } else if (c == '>') {
            return i + 1;
        }
    }
    return n;
}

void
store_index_text(buf *out, const char *s, size_t n)
{
    size_t i = 0;
    if (!s) return;
    buf_grow(out, n);
    while (i < n) {
        char c = s[i];
        if (c == '<' && i + 1 < n) {
            const char *t = s + i;
            size_t left = n - i;
            if (left >= 4 && !memcmp(t, "<!--", 4)) {
                size_t e = 4;
                while (e + 3 <= left && memcmp(t + e, "-->", 3))
                    e++;
                i += e + 3 <= left ? e + 3 : left;
                buf_addc(out, ' ');
                continue;
            }
            char d = t[1];
            if (is_alpha(d) || d == '/' || d == '!' || d == '?') {
                size_t e = tag_end(t, left);
                bool script = left > 7 &&
                              !ascii_strncasecmp(t + 1, "script", 6) &&
                              !is_alpha(t[7]);
                bool style = left > 6 &&
                             !ascii_strncasecmp(t + 1, "style", 5) &&
                             !is_alpha(t[6]);
                if (script || style) {
                    const char *close = script ? "</script" : "</style";
                    size_t c2 = e + find_ci(t + e, left - e, close);
                    e = c2 < left ? c2 + tag_end(t + c2, left - c2) : left;
                }
                i += e;
                buf_addc(out, ' ');
                continue;
            }
        } else if (c == '&') {
            size_t used = char_ref(out, s + i, n - i);
            if (used) {
                i += used;
                continue;
            }
        }
        /* copy a run of plain bytes */
        size_t j = i + 1;
        while (j < n && s[j] != '<' && s[j] != '&')
            j++;
        buf_add(out, s + i, j - i);
        i = j;
    }
}

/* Tags as the index sees them: the tags of a JSON array, space separated. */
static void
tags_text(buf *out, const char *tags_json)
{
    if (!tags_json) return;
    json_t *a = json_loads(tags_json, 0, NULL);
    if (json_is_array(a)) {
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
            if (!json_is_string(v)) continue;
            if (out->len) buf_addc(out, ' ');
            buf_add(out, json_string_value(v), json_string_length(v));
        }
    }
    json_decref(a);
}

/* ---- the archived text ------------------------------------------------- */

/* An item's summary and content are stored together in `body`:
 *   byte 0     BODY_RAW or BODY_LZ4
 *   bytes 1-4  n, the size of "summary NUL content", little-endian
 *   then       those n bytes, as they are or as one LZ4 block
 * LZ4 because it costs about a microsecond per item each way (zlib took
 * twenty; the store must take tens of thousands of items a second) and
 * still takes a third off feed text and HTML. */
#define BODY_RAW 0
#define BODY_LZ4 1
#define BODY_HEAD 5
#define BODY_MAX ((size_t)1 << 30)

void
st_body_pack(buf *out, const char *summary, const char *content)
{
    if (!summary) summary = "";
    if (!content) content = "";
    size_t sn = strlen(summary), cn = strlen(content);
    /* (never reached: items are bounded by max_body, far below) */
    if (sn > BODY_MAX / 2) sn = BODY_MAX / 2;
    if (cn > BODY_MAX / 2) cn = BODY_MAX / 2;
    size_t n = sn + 1 + cn;
    buf_reset(out);
    char plain[512], *src = n <= sizeof plain ? plain : xmalloc(n);
    memcpy(src, summary, sn);
    src[sn] = '\0';
    memcpy(src + sn + 1, content, cn);
    int bound = LZ4_compressBound((int)n);
    buf_grow(out, BODY_HEAD + (size_t)bound);
    unsigned char *h = (unsigned char *)out->p;
    for (int i = 0; i < 4; i++)
        h[1 + i] = (unsigned char)(n >> (8 * i));
    /* small bodies gain nothing */
    int c = n >= 64 ? LZ4_compress_default(src, out->p + BODY_HEAD, (int)n, bound)
                    : 0;
    if (c > 0 && (size_t)c < n) {
        h[0] = BODY_LZ4;
        out->len = BODY_HEAD + (size_t)c;
    } else {
        h[0] = BODY_RAW;
        memcpy(out->p + BODY_HEAD, src, n);
        out->len = BODY_HEAD + n;
    }
    if (src != plain) free(src);
}

/* The summary and the content of a body, NUL-terminated, in out (which
 * they point into). -1 if the body is damaged. */
int
st_body_unpack(const void *blob, size_t len, buf *out, const char **summary,
               const char **content)
{
    const unsigned char *h = blob;
    *summary = *content = "";
    if (!blob || len < BODY_HEAD) return -1;
    size_t n = 0;
    for (int i = 0; i < 4; i++)
        n |= (size_t)h[1 + i] << (8 * i);
    if (n > BODY_MAX) return -1;
    buf_reset(out);
    buf_grow(out, n + 1);
    if (h[0] == BODY_RAW && len - BODY_HEAD == n) {
        memcpy(out->p, h + BODY_HEAD, n);
    } else if (h[0] != BODY_LZ4 ||
               LZ4_decompress_safe((const char *)h + BODY_HEAD, out->p,
                                   (int)(len - BODY_HEAD), (int)n) != (int)n) {
        return -1;
    }
    out->p[n] = '\0';
    out->len = n;
    size_t sn = strnlen(out->p, n);
    if (sn == n) return -1; /* no separator */
    *summary = out->p;
    *content = out->p + sn + 1;
    return 0;
}

/* Whitespace as the index sees it (ASCII, and the no-break space that
 * &nbsp; gives): the length of the run at s. */
static size_t
ws_run(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        if (i < n && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')))
            i++;
        else if (i + 1 < n && (unsigned char)s[i] == 0xc2 &&
                 (unsigned char)s[i + 1] == 0xa0)
            i += 2;
        else
            return i;
    }
}

static bool
word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || is_alpha((char)c);
}

/* True when the content's text begins with the summary: the same bytes,
 * whitespace runs aside, and ending where a word ends. Then every word of
 * the summary is in the content column, in the same order: phrases and
 * words find the item as well without the summary indexed again. (Feeds
 * very often give the first paragraph as the summary: a third of the
 * index, and of the time spent indexing.) Whitespace may stand on one side
 * only next to punctuation ("<b>Pristina</b>." is "Pristina ." in the
 * content's text, "Pristina." in the summary): the words are the same.
 * Anything else (other spacing inside words, other references) is simply
 * indexed twice, as before. */
static bool
summary_leads(const char *sum, const char *text, size_t tn)
{
    size_t sn = strlen(sum), i = ws_run(sum, sn), j = ws_run(text, tn);
    unsigned char last = 0; /* the last byte matched */
    if (i == sn) return false;
    while (i < sn) {
        size_t a = ws_run(sum + i, sn - i), b = ws_run(text + j, tn - j);
        if (a && b) {
            i += a;
            j += b;
            last = ' ';
            continue;
        }
        if (a || b) {
            /* on one side only: harmless between a word and punctuation */
            unsigned char next = a ? (i + a < sn ? (unsigned char)sum[i + a] : ' ')
                                   : (j + b < tn ? (unsigned char)text[j + b] : ' ');
            if (word_byte(last) && word_byte(next)) return false;
            i += a;
            j += b;
            continue;
        }
        if (j >= tn || sum[i] != text[j]) return false;
        last = (unsigned char)sum[i];
        i++;
        j++;
    }
    return j >= tn || !word_byte(last) || !word_byte((unsigned char)text[j]) ||
           ws_run(text + j, tn - j) > 0;
}

/* How the index spells a character, when the tokenizer (unicode61,
 * remove_diacritics 2) would not read it as the matcher does: into out
 * (at most 64 bytes), false when it can stay as written. The letters that
 * do not decompose as fold.c's table has them, but Đ as "dj", its usual
 * transliteration (the seed press release writes "Djuric"), and ẞ as
 * "ss"; other scripts as vigie.fold has them, since the tokenizer strips
 * Latin accents only (Greek tonos, ё, final sigma stay otherwise); a
 * letter of a script written without spaces (Han, kana, Thai...) as a
 * word of its own, since the tokenizer would take a whole run of them for
 * one word: "東京" is then found in "東京都で" as the phrase "東 京". */
static bool
index_spelling(int32_t cp, char *out, size_t *n)
{
    const char *as = cp == 0x0110 || cp == 0x0111 ? "dj"
                     : cp == 0x1E9E               ? "ss"
                                                  : fold_latin_letter(cp);
    if (as) {
        *n = strlen(as);
        memcpy(out, as, *n);
        return true;
    }
    if (cp >= 0xAC00 && cp <= 0xD7A3) return false; /* Hangul syllables */
    /* fold.c's cached entry, as the matcher reads it (match.c's
     * char_stream): utf8proc only for what the cache does not hold */
    const fold_entry *e = fold_lookup(cp);
    size_t o = 0;
    switch (e->cls) {
    case FOLD_SEP:
        return false;
    case FOLD_NONE:
        *n = 0;
        return true;
    case FOLD_WORD: {
        char self[4];
        size_t sl = (size_t)utf8proc_encode_char(cp, (uint8_t *)self);
        if (e->len == sl && !memcmp(e->s, self, sl)) return false;
        memcpy(out, e->s, e->len);
        *n = e->len;
        return true;
    }
    case FOLD_ISOLATE:
        out[o++] = ' ';
        memcpy(out + o, e->s, e->len);
        o += e->len;
        out[o++] = ' ';
        *n = o;
        return true;
    default:
        break;
    }
    int32_t f[FOLD_CP_MAX];
    size_t fn = fold_cp(cp, f);
    for (size_t k = 0; k < fn && o + 6 <= 64; k++) {
        bool word = fold_is_word(f[k]), iso = word && fold_is_isolate(f[k]);
        if (!word || iso) out[o++] = ' ';
        if (word) o += (size_t)utf8proc_encode_char(f[k], (uint8_t *)out + o);
        if (iso) out[o++] = ' ';
    }
    *n = o;
    return true;
}

/* Whether the character at s (a lead byte from C3 up) may need spelling:
 * the accented letters of Western text (é is C3 A9) are turned away
 * without decoding; the few C3 letters that need it are these. */
static inline bool
maybe_spelled(const unsigned char *s, size_t left)
{
    if (s[0] != 0xC3) return true;
    if (left < 2) return false;
    unsigned c = s[1]; /* Æ Ð Ø Þ ß æ ð ø þ */
    return c == 0x86 || c == 0x90 || c == 0x98 || c == 0x9E || c == 0x9F ||
           c == 0xA6 || c == 0xB0 || c == 0xB8 || c == 0xBE;
}

void
store_index_letters(buf *out, const char *s, size_t n)
{
    buf_reset(out);
    buf_grow(out, n + 1);
    const unsigned char *u = (const unsigned char *)s;
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < 0xC3 || !maybe_spelled(u + i, n - i)) continue;
        int32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        char as[64];
        size_t an;
        if (cp <= 0 || !index_spelling(cp, as, &an)) continue;
        buf_add(out, s + from, i - from);
        buf_add(out, as, an);
        from = i + len;
        i += len - 1;
    }
    buf_add(out, s + from, n - from);
}

/* As store_index_letters, and a run of letters of a script without spaces
 * outside the query's quotes becomes a quoted phrase: "東京" must find
 * those two words next to each other, not anywhere. */
void
store_index_query(buf *out, const char *s, size_t n)
{
    buf_reset(out);
    buf_grow(out, n + 1);
    const unsigned char *u = (const unsigned char *)s;
    bool quoted = false, run = false;
    for (size_t i = 0; i < n;) {
        int32_t cp = u[i];
        size_t len = u[i] < 0x80 ? 1 : utf8_decode(s + i, n - i, &cp);
        char as[64];
        size_t an = 0;
        bool spelled = u[i] >= 0xC3 && maybe_spelled(u + i, n - i) && cp > 0 &&
                       index_spelling(cp, as, &an);
        bool iso = spelled && !quoted && fold_lookup(cp)->cls == FOLD_ISOLATE;
        if (iso != run) buf_addc(out, '"');
        run = iso;
        if (cp == '"') quoted = !quoted;
        if (spelled)
            buf_add(out, as, an);
        else
            buf_add(out, s + i, len);
        i += len;
    }
    if (run) buf_addc(out, '"');
}

/* Adds (Q_FTS_INSERT) or removes (Q_FTS_DELETE) an index entry; removing
 * needs the values it was indexed with (a contentless table), which this
 * derives the same way both times: the text of the content, and the
 * summary unless the content's text begins with it (summary_leads). So a
 * `summary:` column filter finds only summaries that say something the
 * content does not; plain words and phrases find the item either way. */
int
st_fts_write(store *s, int qi, int64_t rowid, const char *title,
             const char *summary, const char *content, const char *tags_json)
{
    buf text = {0}, tags = {0};
    if (!summary) summary = "";
    store_index_text(&text, content, content ? strlen(content) : 0);
    if (content && *content && summary_leads(summary, text.p ? text.p : "", text.len))
        summary = "";
    tags_text(&tags, tags_json);
    buf v[4] = {{0}};
    if (!title) title = "";
    store_index_letters(&v[0], title, strlen(title));
    store_index_letters(&v[1], summary, strlen(summary));
    store_index_letters(&v[2], text.p ? text.p : "", text.len);
    store_index_letters(&v[3], tags.p ? tags.p : "", tags.len);
    sqlite3_stmt *q = s->q[qi];
    sqlite3_bind_int64(q, 1, rowid);
    for (int k = 0; k < 4; k++) st_bind_textn(q, 2 + k, v[k].p, v[k].len);
    int rc = st_tx_step(s, qi, "indexing an item");
    for (int k = 0; k < 4; k++) buf_free(&v[k]);
    buf_free(&text);
    buf_free(&tags);
    return rc;
}

/* For the rebuilds of the index in migrations: vigie_body_pack(summary,
 * content), vigie_fts_summary(body), vigie_fts_content(body). */
static void
sql_body_pack(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    UNUSED(argc);
    buf b = {0};
    st_body_pack(&b, (const char *)sqlite3_value_text(argv[0]),
                 (const char *)sqlite3_value_text(argv[1]));
    sqlite3_result_blob(ctx, b.p, (int)b.len, SQLITE_TRANSIENT);
    buf_free(&b);
}

static void
sql_fts_body(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    UNUSED(argc);
    bool want_summary = sqlite3_user_data(ctx) != NULL;
    buf body = {0}, text = {0};
    const char *sum, *con;
    if (st_body_unpack(sqlite3_value_blob(argv[0]),
                       (size_t)sqlite3_value_bytes(argv[0]), &body, &sum,
                       &con) < 0) {
        sqlite3_result_error(ctx, "vigie: a damaged item body", -1);
        buf_free(&body);
        return;
    }
    store_index_text(&text, con, strlen(con));
    buf out = {0};
    if (!want_summary)
        store_index_letters(&out, text.p ? text.p : "", text.len);
    else if (*con && summary_leads(sum, text.p ? text.p : "", text.len))
        store_index_letters(&out, "", 0);
    else
        store_index_letters(&out, sum, strlen(sum));
    sqlite3_result_text(ctx, out.p, (int)out.len, SQLITE_TRANSIENT);
    buf_free(&out);
    buf_free(&body);
    buf_free(&text);
}

static void
sql_index_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    UNUSED(argc);
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    buf b = {0};
    if (t) store_index_text(&b, t, (size_t)sqlite3_value_bytes(argv[0]));
    sqlite3_result_text(ctx, b.p ? b.p : "", (int)b.len, SQLITE_TRANSIENT);
    buf_free(&b);
}

static void
sql_tags_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    UNUSED(argc);
    buf b = {0}, out = {0};
    tags_text(&b, (const char *)sqlite3_value_text(argv[0]));
    store_index_letters(&out, b.p ? b.p : "", b.len);
    sqlite3_result_text(ctx, out.p, (int)out.len, SQLITE_TRANSIENT);
    buf_free(&out);
    buf_free(&b);
}

static void
sql_fts_letters(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    UNUSED(argc);
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    buf out = {0};
    store_index_letters(&out, t ? t : "", t ? (size_t)sqlite3_value_bytes(argv[0]) : 0);
    sqlite3_result_text(ctx, out.p, (int)out.len, SQLITE_TRANSIENT);
    buf_free(&out);
}

/* The SQL functions above, on the store's connection. */
void
st_sql_functions(store *s)
{
    sqlite3_create_function(s->db, "vigie_index_text", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_index_text, NULL, NULL);
    sqlite3_create_function(s->db, "vigie_tags_text", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_tags_text, NULL, NULL);
    sqlite3_create_function(s->db, "vigie_body_pack", 2,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_body_pack, NULL, NULL);
    sqlite3_create_function(s->db, "vigie_fts_summary", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, s,
                            sql_fts_body, NULL, NULL);
    sqlite3_create_function(s->db, "vigie_fts_content", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_fts_body, NULL, NULL);
    sqlite3_create_function(s->db, "vigie_fts_letters", 1,
                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            sql_fts_letters, NULL, NULL);
}

/* ---- search ------------------------------------------------------------- */

int
store_search(store *s, const char *query, size_t limit,
             int (*cb)(const store_hit *, void *), void *ud, char *err,
             size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT i.title, i.link, i.item_id,"
            " coalesce(f.name, nullif(f.title, ''), f.url, f.key), f.url,"
            " coalesce(i.tags, '[]'), i.published, i.stored"
            " FROM items_fts JOIN items i ON i.id = items_fts.rowid"
            " JOIN feeds f ON f.id = i.feed"
            " WHERE items_fts MATCH ?1"
            " ORDER BY coalesce(i.published, i.stored / 1000) DESC, i.id DESC"
            " LIMIT ?2",
            -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "searching");
        return -1;
    }
    buf q = {0}; /* spelled as the index is (operators are untouched) */
    store_index_query(&q, query, strlen(query));
    st_bind_textn(st, 1, q.p, q.len); /* bound as is: freed at the end */
    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_hit h = {
            .title = st_col_text(st, 0),
            .link = st_col_text(st, 1),
            .item_id = st_col_text(st, 2),
            .feed = st_col_text(st, 3),
            .feed_url = st_col_text(st, 4),
            .tags_json = st_col_text(st, 5),
            .published = sqlite3_column_type(st, 6) == SQLITE_NULL
                             ? DATE_NONE
                             : sqlite3_column_int64(st, 6),
            .stored = sqlite3_column_int64(st, 7),
        };
        if ((ret = cb(&h, ud)) != 0) break;
    }
    if (!ret && rc != SQLITE_DONE) {
        /* The statement is sound, so an SQLITE_ERROR here is the query's
         * fault: "fts5: syntax error near ...", "no such column: x". */
        if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_ERROR) {
            set_err(err, errlen, "%s", sqlite3_errmsg(s->db));
            ret = STORE_EQUERY;
        } else {
            st_db_err(s, err, errlen, "searching");
            ret = -1;
        }
    }
    sqlite3_finalize(st);
    buf_free(&q);
    return ret;
}
