/* webhook.c — see webhook.h. The formats follow each service's documented
 * incoming-webhook body:
 *   Slack       https://api.slack.com/messaging/webhooks  ({"text"}; &<>
 *               escaped, links as <url|label>; text cut at 40,000 chars)
 *   Mattermost  developers.mattermost.com/integrate/webhooks/incoming
 *               ({"text"} in Markdown; posts cut at 16,383 chars)
 *   Discord     discord.com/developers/docs/resources/webhook#execute-webhook
 *               ({"content"} ≤ 2,000 chars; allowed_mentions.parse = [])
 *   ntfy        docs.ntfy.sh/publish  (POST the message as the body to the
 *               topic URL; Title and Click headers; UTF-8 headers may be
 *               RFC 2047 encoded; messages over 4,096 bytes turn into
 *               attachments, so the text is cut there)
 *   Matrix      matrix-hookshot generic webhooks  ({"text","html"}: text is
 *               the plain body, html the formatted one)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "date.h"
#include "jsonw.h"
#include "webhook.h"

enum fmt { F_JSON, F_SLACK, F_DISCORD, F_MATTERMOST, F_NTFY, F_MATRIX };

static const struct {
    const char *name;
    enum fmt f;
} formats[] = {
    {"json", F_JSON},       {"slack", F_SLACK},
    {"discord", F_DISCORD}, {"mattermost", F_MATTERMOST},
    {"ntfy", F_NTFY},       {"matrix", F_MATRIX},
};

#define SLACK_MAX_CHARS 40000
#define MATTERMOST_MAX_CHARS 16383
#define DISCORD_MAX_CHARS 2000
#define NTFY_MAX_BYTES 4096
#define MATRIX_MAX_BYTES 32768 /* events are capped at 64 KiB in all */
#define TITLE_HEADER_MAX 256

static int
find_format(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_LEN(formats); i++)
        if (!strcmp(formats[i].name, name)) return (int)formats[i].f;
    return -1;
}

bool
webhook_format_known(const char *format)
{
    return find_format(format) >= 0;
}

/* ---- text helpers ------------------------------------------------------- */

/* Bytes of the first max_chars code points of s (valid UTF-8). */
static size_t
chars_prefix(const char *s, size_t n, size_t max_chars, bool *cut)
{
    size_t i = 0, chars = 0;
    while (i < n && chars < max_chars) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    *cut = i < n;
    return i;
}

/* s cut to at most max_chars characters, the last being "…" if cut. */
static void
cut_chars(buf *b, size_t max_chars)
{
    bool cut;
    size_t keep = chars_prefix(b->p ? b->p : "", b->len, max_chars, &cut);
    if (!cut) return;
    keep = chars_prefix(b->p, b->len, max_chars - 1, &cut);
    b->len = keep;
    b->p[keep] = '\0';
    buf_adds(b, "\xe2\x80\xa6");
}

/* At most max_bytes, cut on a character boundary, "…" if cut. */
static void
cut_bytes(buf *b, size_t max_bytes)
{
    if (b->len <= max_bytes) return;
    size_t keep = max_bytes - 3;
    while (keep > 0 && ((unsigned char)b->p[keep] & 0xc0) == 0x80)
        keep--;
    b->len = keep;
    b->p[keep] = '\0';
    buf_adds(b, "\xe2\x80\xa6");
}

/* Slack: "&", "<" and ">" are control characters in message text. */
static void
slack_escape(buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            buf_adds(out, "&amp;");
        else if (*s == '<')
            buf_adds(out, "&lt;");
        else if (*s == '>')
            buf_adds(out, "&gt;");
        else
            buf_addc(out, *s);
    }
}

/* Markdown (Mattermost, Discord): item text must not turn into markup. */
static void
md_escape(buf *out, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\*_~`|[]<>#", *s)) buf_addc(out, '\\');
        buf_addc(out, *s);
    }
}

/* A URL inside Markdown's (...) or a header: no spaces, parentheses,
 * controls or raw non-ASCII. */
static void
url_escape(buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '(' || c == ')' || c == '<' ||
            c == '>' || c == '"') {
            buf_addc(out, '%');
            buf_addc(out, hex[c >> 4]);
            buf_addc(out, hex[c & 15]);
        } else {
            buf_addc(out, (char)c);
        }
    }
}

static void
html_escape(buf *out, const char *s, bool newlines)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_adds(out, "&amp;");
            break;
        case '<':
            buf_adds(out, "&lt;");
            break;
        case '>':
            buf_adds(out, "&gt;");
            break;
        case '"':
            buf_adds(out, "&quot;");
            break;
        case '\'':
            buf_adds(out, "&#39;");
            break;
        case '\n':
            if (newlines) {
                buf_adds(out, "<br>");
                break;
            }
            FALLTHROUGH;
        default:
            buf_addc(out, *s);
        }
    }
}

/* A header value: one line, printable. */
static void
header_clean(buf *out, const char *s, size_t max)
{
    size_t start = out->len;
    for (; *s && out->len - start < max; s++) {
        unsigned char c = (unsigned char)*s;
        buf_addc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    /* do not end inside a UTF-8 sequence */
    size_t n = out->len;
    while (n > start && ((unsigned char)out->p[n - 1] & 0xc0) == 0x80)
        n--;
    if (n > start && ((unsigned char)out->p[n - 1] & 0x80)) {
        unsigned char lead = (unsigned char)out->p[n - 1];
        size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
        if (out->len - (n - 1) < want) out->len = n - 1;
    }
    out->p[out->len] = '\0';
}

static bool
is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return false;
    return true;
}

/* RFC 2047 "B" encoded word, which ntfy decodes in any header. */
static void
rfc2047(buf *out, const char *s)
{
    size_t n = strlen(s);
    buf_adds(out, "=?UTF-8?B?");
    buf_grow(out, 4 * (n / 3 + 1) + 3);
    int w = EVP_EncodeBlock((unsigned char *)out->p + out->len,
                            (const unsigned char *)s, (int)n);
    out->len += (size_t)w;
    out->p[out->len] = '\0';
    buf_adds(out, "?=");
}

static void
add_header(webhook_request *req, const char *name, const char *value)
{
    if (req->nheaders == WEBHOOK_MAX_HEADERS) return;
    buf h = {0};
    buf_printf(&h, "%s: %s", name, value);
    req->headers[req->nheaders++] = buf_detach(&h);
}

/* ---- signature ---------------------------------------------------------- */

void
webhook_sign(char out[WEBHOOK_SIG_LEN], const char *secret, const void *body,
             size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret),
         (const unsigned char *)(len ? body : ""), len, md, &mdlen);
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < 32 && i < mdlen; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[71] = '\0';
}

static void
finish(webhook_request *req, const char *content_type, const char *secret,
       const char *key)
{
    req->method = "POST";
    free(req->content_type);
    req->content_type = xstrdup(content_type);
    /* Content-Type and the key first: they matter most if a header cap
     * ever bites. */
    size_t extra = req->nheaders;
    char *saved[WEBHOOK_MAX_HEADERS];
    memcpy(saved, req->headers, extra * sizeof *saved);
    req->nheaders = 0;
    add_header(req, "Content-Type", content_type);
    if (key && *key) add_header(req, "Idempotency-Key", key);
    if (secret && *secret) {
        char sig[WEBHOOK_SIG_LEN];
        webhook_sign(sig, secret, req->body.p, req->body.len);
        add_header(req, "X-Vigie-Signature", sig);
    }
    for (size_t i = 0; i < extra; i++) {
        if (req->nheaders < WEBHOOK_MAX_HEADERS)
            req->headers[req->nheaders++] = saved[i];
        else
            free(saved[i]);
    }
}

void
webhook_build_raw(webhook_request *req, const char *content_type,
                  const void *body, size_t len, const char *secret,
                  const char *key)
{
    buf_reset(&req->body);
    buf_add(&req->body, len ? body : "", len);
    finish(req, content_type ? content_type : "application/json", secret, key);
}

void
webhook_request_free(webhook_request *req)
{
    buf_free(&req->body);
    free(req->content_type);
    for (size_t i = 0; i < req->nheaders; i++)
        free(req->headers[i]);
    memset(req, 0, sizeof *req);
}

/* ---- bodies ------------------------------------------------------------- */

static const char *
str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A value that is already JSON text, after jsonw_key(). */
static void
raw(jsonw *w, const char *s)
{
    buf_adds(w->out, s);
    w->need_comma |= (uint64_t)1 << w->depth;
}

static void
json_body(buf *out, const webhook_alert *a)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "vigie");
    jsonw_int(&w, 1);
    jsonw_key(&w, "id");
    jsonw_str(&w, a->key);
    jsonw_key(&w, "target");
    jsonw_str(&w, a->target);
    jsonw_key(&w, "script");
    jsonw_str(&w, a->script);
    jsonw_key(&w, "created");
    jsonw_date(&w, a->created / 1000);
    jsonw_key(&w, "payload");
    raw(&w, a->payload);
    jsonw_key(&w, "item");
    raw(&w, a->item ? a->item : "null");
    jsonw_key(&w, "feed");
    raw(&w, a->feed ? a->feed : "null");
    jsonw_obj_close(&w);
}

static void
one_key(buf *out, const char *key, const char *text)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    jsonw_key(&w, key);
    jsonw_str(&w, text ? text : "");
    jsonw_obj_close(&w);
}

int
webhook_build(webhook_request *req, const char *format, const char *secret,
              const webhook_alert *a, char *err, size_t errlen)
{
    int f = find_format(format);
    if (f < 0) {
        set_err(err, errlen, "unknown webhook format \"%s\"",
                format ? format : "");
        return -1;
    }
    json_t *payload = a->payload ? json_loads(a->payload, 0, NULL) : NULL;
    if (!json_is_object(payload)) {
        json_decref(payload);
        /* the caller names the alert */
        set_err(err, errlen, "the payload is not a JSON object");
        return -1;
    }
    /* item and feed come from the store: trusted, but may be absent */
    json_t *item = a->item ? json_loads(a->item, 0, NULL) : NULL;
    json_t *feed = a->feed ? json_loads(a->feed, 0, NULL) : NULL;
    if (!json_is_object(item)) {
        json_decref(item);
        item = json_object();
    }
    if (!json_is_object(feed)) {
        json_decref(feed);
        feed = json_object();
    }
    json_t *t = json_object_get(payload, "text");
    const char *ptext = json_is_string(t) && *json_string_value(t)
                            ? json_string_value(t)
                            : NULL;
    const char *title = str_of(item, "title");
    const char *link = str_of(item, "link");
    if (!*title) title = *link ? link : str_of(item, "id");
    const char *feed_label = *str_of(feed, "name")    ? str_of(feed, "name")
                             : *str_of(feed, "title") ? str_of(feed, "title")
                                                      : str_of(feed, "url");

    buf text = {0}, html = {0}, hv = {0};
    buf_reset(&req->body);
    const char *ctype = "application/json";
    switch ((enum fmt)f) {
    case F_JSON:
        json_body(&req->body, a);
        break;
    case F_SLACK:
        if (ptext) {
            slack_escape(&text, ptext);
        } else if (*link) {
            buf_addc(&text, '<');
            slack_escape(&text, link);
            buf_addc(&text, '|');
            slack_escape(&text, title);
            buf_addc(&text, '>');
        } else {
            slack_escape(&text, title);
        }
        cut_chars(&text, SLACK_MAX_CHARS);
        one_key(&req->body, "text", text.p);
        break;
    case F_MATTERMOST:
        if (ptext) {
            buf_adds(&text, ptext);
        } else if (*link) {
            buf_addc(&text, '[');
            md_escape(&text, title);
            buf_adds(&text, "](");
            url_escape(&text, link);
            buf_addc(&text, ')');
        } else {
            md_escape(&text, title);
        }
        cut_chars(&text, MATTERMOST_MAX_CHARS);
        one_key(&req->body, "text", text.p);
        break;
    case F_DISCORD: {
        if (ptext) {
            buf_adds(&text, ptext);
        } else {
            md_escape(&text, title);
            if (*link) {
                buf_addc(&text, '\n');
                url_escape(&text, link);
            }
        }
        cut_chars(&text, DISCORD_MAX_CHARS);
        jsonw w;
        jsonw_init(&w, &req->body);
        jsonw_obj_open(&w);
        jsonw_key(&w, "content");
        jsonw_str(&w, text.p ? text.p : "");
        /* feed text must never ping @everyone, roles or users */
        jsonw_key(&w, "allowed_mentions");
        jsonw_obj_open(&w);
        jsonw_key(&w, "parse");
        jsonw_arr_open(&w);
        jsonw_arr_close(&w);
        jsonw_obj_close(&w);
        jsonw_obj_close(&w);
        break;
    }
    case F_NTFY: {
        ctype = "text/plain; charset=utf-8";
        buf_adds(&req->body, ptext ? ptext : title);
        cut_bytes(&req->body, NTFY_MAX_BYTES);
        const char *htitle = ptext ? title : feed_label;
        if (*htitle) {
            header_clean(&hv, htitle, TITLE_HEADER_MAX);
            if (is_ascii(hv.p)) {
                add_header(req, "Title", hv.p);
            } else {
                buf enc = {0};
                rfc2047(&enc, hv.p);
                add_header(req, "Title", enc.p);
                buf_free(&enc);
            }
        }
        if (*link) {
            buf_reset(&hv);
            url_escape(&hv, link);
            add_header(req, "Click", hv.p);
        }
        break;
    }
    case F_MATRIX: {
        if (ptext) {
            buf_adds(&text, ptext);
            html_escape(&html, ptext, true);
        } else {
            buf_adds(&text, title);
            if (*link) {
                buf_addc(&text, '\n');
                buf_adds(&text, link);
                buf_adds(&html, "<a href=\"");
                html_escape(&html, link, false);
                buf_adds(&html, "\">");
                html_escape(&html, title, false);
                buf_adds(&html, "</a>");
            } else {
                html_escape(&html, title, false);
            }
        }
        cut_bytes(&text, MATRIX_MAX_BYTES / 2);
        if (html.len > MATRIX_MAX_BYTES / 2) {
            /* cutting HTML could leave a broken tag: plain text instead */
            buf_reset(&html);
            html_escape(&html, text.p, true);
            cut_bytes(&html, MATRIX_MAX_BYTES / 2);
        }
        jsonw w;
        jsonw_init(&w, &req->body);
        jsonw_obj_open(&w);
        jsonw_key(&w, "text");
        jsonw_str(&w, text.p ? text.p : "");
        jsonw_key(&w, "html");
        jsonw_str(&w, html.p ? html.p : "");
        jsonw_obj_close(&w);
        break;
    }
    }
    finish(req, ctype, secret, a->key);
    buf_free(&text);
    buf_free(&html);
    buf_free(&hv);
    json_decref(payload);
    json_decref(item);
    json_decref(feed);
    return 0;
}
