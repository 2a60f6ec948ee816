/* feed_jsonfeed.c — JSON Feed 1.0 and 1.1 (https://jsonfeed.org) through
 * jansson. The document is bounded before jansson sees it: jansson caps
 * nesting itself, and we refuse documents with more values than any feed
 * needs, so a small input cannot make a huge tree.
 *
 * One odd value never costs the whole feed: duplicate keys are taken (the
 * last wins), numbers too big for jansson are read as their text, lone
 * surrogate escapes become U+FFFD and \u0000 is dropped, each repair noted
 * in the feed's errors. */
#include <jansson.h>

#include "feedbuild.h"

#define MAX_JSON_VALUES (1u << 20)

void feed_parse_jsonfeed(feed_builder *b, const char *data, size_t len);

/* The text of a string value, or NULL. A "\u0000" (kept by jansson with
 * JSON_ALLOW_NUL) would cut the C string short and lose what follows it,
 * so NULs are dropped: "a\u0000b" reads "ab". */
static const char *
sval(feed_builder *b, json_t *v)
{
    if (!json_is_string(v)) return NULL;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (LIKELY(!memchr(s, '\0', n))) return s;
    char *t = arena_alloc(&b->f->mem, n), *p = t; /* n > the text left */
    for (size_t i = 0; i < n; i++)
        if (s[i]) *p++ = s[i];
    *p = '\0';
    fb_note(b, "NUL characters (\\u0000) dropped from strings");
    return t;
}

static const char *
str(feed_builder *b, json_t *obj, const char *key)
{
    return sval(b, json_object_get(obj, key));
}

static void
offer(feed_builder *b, field_kind k, int prio, text_mode mode, const char *s)
{
    if (s) fb_offer(b, k, prio, mode, s, strlen(s), NULL);
}

static void
offer_date(feed_builder *b, field_kind k, const char *s)
{
    if (s) fb_offer_date(b, k, 3, s, strlen(s));
}

static void
offer_author_name(feed_builder *b, json_t *a)
{
    if (json_is_object(a)) offer(b, FK_AUTHOR, 3, TM_TEXT, str(b, a, "name"));
}

/* 1.1 has "authors": [{name}, ...], each kept; 1.0 "author": {name}. */
static void
offer_author(feed_builder *b, json_t *obj)
{
    json_t *authors = json_object_get(obj, "authors");
    if (!json_is_array(authors)) {
        offer_author_name(b, json_object_get(obj, "author"));
        return;
    }
    size_t i;
    json_t *a;
    json_array_foreach(authors, i, a) offer_author_name(b, a);
}

static void
read_item(feed_builder *b, json_t *it)
{
    if (!json_is_object(it) || !fb_item_begin(b)) return;
    json_t *id = json_object_get(it, "id");
    if (json_is_string(id)) {
        offer(b, FK_ID, 3, TM_RAW, sval(b, id));
    } else if (json_is_integer(id)) {
        /* 1.0 feeds in the wild use numbers; the spec says string. */
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        offer(b, FK_ID, 3, TM_RAW, tmp);
    }
    offer(b, FK_LINK, 3, TM_RAW, str(b, it, "url"));
    offer(b, FK_LINK, 2, TM_RAW, str(b, it, "external_url"));
    offer(b, FK_TITLE, 3, TM_TEXT, str(b, it, "title"));
    offer(b, FK_SUMMARY, 3, TM_TEXT, str(b, it, "summary"));
    offer(b, FK_CONTENT, 3, TM_HTML, str(b, it, "content_html"));
    offer(b, FK_CONTENT, 2, TM_TEXT, str(b, it, "content_text"));
    offer(b, FK_SUMMARY, 2, TM_TEXT, str(b, it, "content_text"));
    offer_date(b, FK_PUBLISHED, str(b, it, "date_published"));
    offer_date(b, FK_UPDATED, str(b, it, "date_modified"));
    offer_author(b, it);
    json_t *tags = json_object_get(it, "tags");
    size_t i;
    json_t *v;
    if (json_is_array(tags))
        json_array_foreach(tags, i, v) if (json_is_string(v))
            offer(b, FK_CATEGORY, 1, TM_TEXT, sval(b, v));
    json_t *att = json_object_get(it, "attachments");
    if (json_is_array(att)) {
        json_array_foreach(att, i, v)
        {
            if (!json_is_object(v)) continue;
            char size[32] = "";
            json_t *sz = json_object_get(v, "size_in_bytes");
            if (json_is_integer(sz))
                snprintf(size, sizeof size, "%" JSON_INTEGER_FORMAT, json_integer_value(sz));
            fb_add_enclosure(b, str(b, v, "url"), str(b, v, "mime_type"), size, NULL);
        }
    }
    fb_item_end(b);
}

/* An upper bound on the number of values: every value but the first
 * follows a ',' '[' or ':' outside strings. Cheap and conservative. */
static size_t
count_values(const char *s, size_t n)
{
    size_t count = 1;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == ',' || c == '[' || c == ':') {
            count++;
        }
    }
    return count;
}

/* ---- numbers jansson cannot hold ----
 *
 * jansson refuses the whole document over one integer beyond int64 or one
 * real beyond double. Only "id" and "size_in_bytes" read numbers, and an id
 * is better kept as its digits than rounded into a double (which
 * JSON_DECODE_INT_AS_REAL would do, merging distinct large ids), so when
 * jansson says a number overflowed, every such number is turned into a
 * string of its own text and the document is read again. */

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_number_byte(char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' ||
           c == 'E';
}

/* The exponent of a real ("e-12"), saturated far beyond any double. */
static int64_t
exponent(const char *s, size_t n)
{
    const char *e = memchr(s, 'e', n);
    if (!e) e = memchr(s, 'E', n);
    if (!e) return 0;
    size_t i = (size_t)(e - s) + 1;
    bool neg = i < n && s[i] == '-';
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    int64_t v = 0;
    for (; i < n && is_digit(s[i]); i++)
        if (v < 1000000) v = v * 10 + (s[i] - '0');
    return neg ? -v : v;
}

/* Whether the number s[0..n) is beyond what jansson holds: an integer
 * outside int64, or a real of magnitude 1e308 or more (which also takes a
 * few reals a double could hold: no field reads reals). Decided from the
 * text alone, so no locale or strtod is involved. */
static bool
number_too_big(const char *s, size_t n)
{
    bool neg = s[0] == '-';
    size_t i = neg, lead;
    while (i < n && s[i] == '0') i++;
    lead = i;
    while (i < n && is_digit(s[i])) i++;
    size_t digits = i - lead;
    if (i == n) { /* an integer */
        if (digits != 19) return digits > 19;
        return memcmp(s + lead, neg ? "9223372036854775808"
                                    : "9223372036854775807", 19) > 0;
    }
    /* a real: the decimal exponent of its first significant digit */
    int64_t mag;
    if (digits) {
        mag = (int64_t)digits - 1;
    } else {
        if (s[i] == '.') i++;
        size_t zeros = i;
        while (i < n && s[i] == '0') i++;
        if (i == n || !is_digit(s[i])) return false; /* zero */
        mag = -(int64_t)(i - zeros) - 1;
    }
    return mag + exponent(s, n) >= 308;
}

/* Copies the JSON text s into out with every number too big for jansson
 * written as a string ("18446744073709551616"); returns how many. Strings
 * are copied as they are, escapes included. */
static size_t
quote_big_numbers(buf *out, const char *s, size_t n)
{
    size_t count = 0, from = 0, i = 0;
    while (i < n) {
        size_t j = i + 1;
        if (s[i] == '"') {
            while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
            i = j + 1;
            continue;
        }
        if (s[i] != '-' && !is_digit(s[i])) {
            i = j;
            continue;
        }
        while (j < n && is_number_byte(s[j])) j++;
        if (number_too_big(s + i, j - i)) {
            buf_add(out, s + from, i - from);
            buf_addc(out, '"');
            buf_add(out, s + i, j - i);
            buf_addc(out, '"');
            from = j;
            count++;
        }
        i = j;
    }
    buf_add(out, s + from, n - from);
    return count;
}

/* The document as jansson reads it, or NULL after an error. *quoted says
 * how many numbers had to be read as text. */
static json_t *
load(feed_builder *b, const char *data, size_t len, size_t *quoted)
{
    json_error_t err;
    /* Duplicate keys are allowed by RFC 8259 and written by careless
     * generators: the last one wins (jansson's way) rather than the feed
     * being lost. */
    json_t *root = json_loadb(data, len, JSON_ALLOW_NUL, &err);
    *quoted = 0;
    if (!root && json_error_code(&err) == json_error_numeric_overflow) {
        buf text = {0};
        *quoted = quote_big_numbers(&text, data, len);
        if (*quoted) root = json_loadb(text.p, text.len, JSON_ALLOW_NUL, &err);
        buf_free(&text);
    }
    if (!root)
        fb_error(b, "not a feed: JSON error at line %d: %s", err.line, err.text);
    return root;
}

/* ---- lone surrogates ----
 *
 * JavaScript strings are UTF-16, and generators that cut one mid-emoji
 * write half of a surrogate pair ("cut \ud83d"), which jansson refuses for
 * the whole document. Such escapes become \uFFFD: the same length, so the
 * fix is a copy patched in place, made only when there is one to fix. */

static int
hex_digit(char c)
{
    if (is_digit(c)) return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value of the \uXXXX escape at s[i], or -1 if there is none. */
static int
u_escape(const char *s, size_t n, size_t i)
{
    if (i > n || n - i < 6 || s[i] != '\\' || s[i + 1] != 'u') return -1;
    int v = 0;
    for (size_t k = i + 2; k < i + 6; k++) {
        int d = hex_digit(s[k]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Whether s holds "\u" then d/D and 8-F anywhere: the cheap test that
 * spares the common document the scan below. (It also matches an escaped
 * backslash followed by such text, which the scan then leaves alone.) */
static bool
may_have_surrogates(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    while (end - p > 3 && (p = memchr(p, '\\', (size_t)(end - p - 3)))) {
        if (p[1] == 'u' && (p[2] | 0x20) == 'd' &&
            (p[3] == '8' || p[3] == '9' || hex_digit(p[3]) >= 10))
            return true;
        p++;
    }
    return false;
}

/* Copies s into out with every surrogate escape that is not a high one
 * followed by a low one replaced by \uFFFD; returns how many were (out is
 * left empty when none). Escapes are read in sequence, so the "\\" of an
 * escaped backslash never starts one. */
static size_t
replace_lone_surrogates(buf *out, const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\') continue;
        int v = u_escape(s, n, i);
        if (v < 0xD800 || v > 0xDFFF) {
            i++; /* the escaped character, whatever it is */
            continue;
        }
        int low = v <= 0xDBFF ? u_escape(s, n, i + 6) : -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
            i += 11; /* a valid pair */
            continue;
        }
        if (!count) buf_add(out, s, n);
        memcpy(out->p + i + 2, "FFFD", 4);
        count++;
        i += 5;
    }
    return count;
}

/* ---- the feed ---- */

/* Reads the feed in root; false if it is not a JSON Feed. */
static bool
read_feed(feed_builder *b, json_t *root)
{
    const char *version = str(b, root, "version");
    json_t *items = json_object_get(root, "items");
    if (!json_is_object(root) || (!json_is_array(items) &&
                                  !(version && strstr(version, "jsonfeed.org")))) {
        fb_error(b, "not a feed: JSON without a JSON Feed \"version\" or \"items\"");
        return false;
    }
    b->f->format = FEED_JSONFEED;
    if (!version || !strstr(version, "jsonfeed.org/version/"))
        fb_error(b, "JSON Feed without a jsonfeed.org \"version\"");
    offer(b, FK_TITLE, 3, TM_TEXT, str(b, root, "title"));
    offer(b, FK_LINK, 3, TM_RAW, str(b, root, "home_page_url"));
    offer(b, FK_SUBTITLE, 3, TM_TEXT, str(b, root, "description"));
    offer(b, FK_LANGUAGE, 3, TM_RAW, str(b, root, "language"));
    offer_author(b, root);
    if (json_is_array(items)) {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            if (b->stop) break;
            read_item(b, it);
        }
    } else {
        fb_error(b, "JSON Feed without an \"items\" array");
    }
    return true;
}

void
feed_parse_jsonfeed(feed_builder *b, const char *data, size_t len)
{
    if (count_values(data, len) > MAX_JSON_VALUES) {
        fb_error(b, "not a feed: JSON with more than %u values", MAX_JSON_VALUES);
        return;
    }
    buf fixed = {0};
    size_t lone = 0, quoted = 0;
    if (may_have_surrogates(data, len) &&
        (lone = replace_lone_surrogates(&fixed, data, len)) > 0)
        data = fixed.p;
    json_t *root = load(b, data, len, &quoted);
    buf_free(&fixed); /* jansson keeps copies of what it read */
    if (root && read_feed(b, root)) {
        if (lone)
            fb_note(b, "%zu lone surrogate escape%s replaced by U+FFFD", lone,
                    lone == 1 ? "" : "s");
        if (quoted)
            fb_note(b, "%zu out-of-range number%s read as text", quoted,
                    quoted == 1 ? "" : "s");
    }
    json_decref(root);
}
