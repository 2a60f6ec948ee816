/* test_webhook.c — request bodies per format, headers, signature, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "outbox.h"
#include "webhook.h"

#define ITEM                                                                   \
    "{\"id\":\"urn:nato:1\",\"title\":\"Vučić & Kurti <meet> [EU]\","        \
    "\"link\":\"https://example.org/a b(1)\",\"summary\":\"s\","               \
    "\"content\":\"<p>c</p>\",\"author\":\"\",\"categories\":[],"              \
    "\"published\":\"2024-08-23T13:27:00Z\",\"updated\":null,"                 \
    "\"enclosures\":[]}"
#define FEED                                                                   \
    "{\"key\":\"https://example.org/feed\",\"url\":\"https://example.org/"     \
    "feed\",\"name\":\"NATO FR\",\"title\":\"NATO\",\"link\":null}"
#define KEY "0f9225ea8391b06eff35da5c8b4bc10940d2ae60bc66f04ab8d6c2a4f17f3de9"

static webhook_alert
alert(const char *payload)
{
    return (webhook_alert){.target = "ops",
                           .key = KEY,
                           .script = "balkans.lua",
                           .payload = payload,
                           .item = ITEM,
                           .feed = FEED,
                           .created = 1724419620000LL};
}

static json_t *
build(webhook_request *req, const char *format, const char *secret,
      const char *payload)
{
    webhook_alert a = alert(payload);
    char err[256];
    memset(req, 0, sizeof *req);
    if (webhook_build(req, format, secret, &a, err, sizeof err) < 0)
        fail_msg("%s: %s", format, err);
    if (!strcmp(format, "ntfy")) return NULL;
    json_error_t je;
    json_t *o = json_loadb(req->body.p, req->body.len, 0, &je);
    if (!o) fail_msg("%s: invalid JSON: %s: %s", format, je.text, req->body.p);
    return o;
}

static const char *
header(const webhook_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strncmp(req->headers[i], name, n) && req->headers[i][n] == ':')
            return req->headers[i] + n + 2;
    return NULL;
}

static const char *
str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void
test_json_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    json_t *o = build(&req, "json", NULL,
                      "{\"text\":\"[Vučić] hi\",\"level\":2,\"x\":[1]}");
    assert_int_equal(json_integer_value(json_object_get(o, "vigie")), 1);
    assert_string_equal(str(o, "id"), KEY);
    assert_string_equal(str(o, "target"), "ops");
    assert_string_equal(str(o, "script"), "balkans.lua");
    assert_string_equal(str(o, "created"), "2024-08-23T13:27:00Z");
    json_t *p = json_object_get(o, "payload");
    assert_string_equal(str(p, "text"), "[Vučić] hi");
    assert_int_equal(json_integer_value(json_object_get(p, "level")), 2);
    json_t *it = json_object_get(o, "item");
    assert_string_equal(str(it, "id"), "urn:nato:1");
    assert_string_equal(str(it, "published"), "2024-08-23T13:27:00Z");
    assert_string_equal(str(json_object_get(o, "feed"), "name"), "NATO FR");
    assert_int_equal(json_object_size(o), 8);
    assert_string_equal(header(&req, "Content-Type"), "application/json");
    assert_string_equal(header(&req, "Idempotency-Key"), KEY);
    assert_null(header(&req, "X-Vigie-Signature"));
    assert_string_equal(req.method, "POST");
    json_decref(o);
    webhook_request_free(&req);

    /* no item (an alert from a script's top level) */
    webhook_alert a = alert("{}");
    a.item = a.feed = NULL;
    char err[128];
    memset(&req, 0, sizeof req);
    assert_int_equal(webhook_build(&req, "json", NULL, &a, err, sizeof err), 0);
    o = json_loads(req.body.p, 0, NULL);
    assert_true(json_is_null(json_object_get(o, "item")));
    assert_true(json_is_null(json_object_get(o, "feed")));
    json_decref(o);
    webhook_request_free(&req);
}

static void
test_slack_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    json_t *o = build(&req, "slack", NULL, "{}");
    assert_int_equal(json_object_size(o), 1);
    assert_string_equal(str(o, "text"), "<https://example.org/a b(1)|Vučić "
                                        "&amp; Kurti &lt;meet&gt; [EU]>");
    json_decref(o);
    webhook_request_free(&req);
    o = build(&req, "slack", NULL, "{\"text\":\"a <!channel> & b\"}");
    assert_string_equal(str(o, "text"), "a &lt;!channel&gt; &amp; b");
    json_decref(o);
    webhook_request_free(&req);
}

static void
test_mattermost_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    json_t *o = build(&req, "mattermost", NULL, "{\"text\":\"\"}");
    assert_int_equal(json_object_size(o), 1);
    assert_string_equal(str(o, "text"), "[Vučić & Kurti \\<meet\\> \\[EU\\]]"
                                        "(https://example.org/a%20b%281%29)");
    json_decref(o);
    webhook_request_free(&req);
    o = build(&req, "mattermost", NULL, "{\"text\":\"**bold** rule text\"}");
    assert_string_equal(str(o, "text"), "**bold** rule text");
    json_decref(o);
    webhook_request_free(&req);
}

static void
test_discord_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    json_t *o = build(&req, "discord", NULL, "{\"text\":42}");
    assert_string_equal(str(o, "content"), "Vučić & Kurti \\<meet\\> \\[EU\\]\n"
                                           "https://example.org/a%20b%281%29");
    json_t *am = json_object_get(o, "allowed_mentions");
    assert_true(json_is_array(json_object_get(am, "parse")));
    assert_int_equal(json_array_size(json_object_get(am, "parse")), 0);
    json_decref(o);
    webhook_request_free(&req);

    /* 3000 characters (not bytes) cut to Discord's 2000 */
    buf p = {0};
    buf_adds(&p, "{\"text\":\"");
    for (int i = 0; i < 3000; i++)
        buf_adds(&p, "é");
    buf_adds(&p, "\"}");
    o = build(&req, "discord", NULL, p.p);
    const char *c = str(o, "content");
    size_t chars = 0;
    for (const char *q = c; *q; q++)
        if (((unsigned char)*q & 0xc0) != 0x80) chars++;
    assert_int_equal(chars, 2000);
    assert_string_equal(c + strlen(c) - 3, "…");
    json_decref(o);
    webhook_request_free(&req);
    buf_free(&p);
}

static void
test_ntfy_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    build(&req, "ntfy", NULL, "{\"text\":\"Vučić à Pristina\"}");
    assert_string_equal(req.body.p, "Vučić à Pristina");
    assert_string_equal(header(&req, "Content-Type"),
                        "text/plain; charset=utf-8");
    /* the item title, not ASCII: RFC 2047 (ntfy decodes it) */
    const char *t = header(&req, "Title");
    assert_non_null(t);
    assert_true(!strncmp(t, "=?UTF-8?B?", 10));
    assert_string_equal(header(&req, "Click"),
                        "https://example.org/a%20b%281%29");
    assert_string_equal(header(&req, "Idempotency-Key"), KEY);
    webhook_request_free(&req);

    /* without payload text: the title is the message, the feed the title */
    build(&req, "ntfy", NULL, "{}");
    assert_string_equal(req.body.p, "Vučić & Kurti <meet> [EU]");
    assert_string_equal(header(&req, "Title"), "NATO FR");
    webhook_request_free(&req);

    /* a known encoded word */
    webhook_alert a = alert("{\"text\":\"x\"}");
    a.item = "{\"id\":\"1\",\"title\":\"Vučić à Pristina\",\"link\":\"\"}";
    char err[64];
    memset(&req, 0, sizeof req);
    assert_int_equal(webhook_build(&req, "ntfy", NULL, &a, err, sizeof err), 0);
    assert_string_equal(header(&req, "Title"),
                        "=?UTF-8?B?VnXEjWnEhyDDoCBQcmlzdGluYQ==?=");
    assert_null(header(&req, "Click"));
    webhook_request_free(&req);
}

static void
test_matrix_format(void **state)
{
    UNUSED(state);
    webhook_request req;
    json_t *o = build(&req, "matrix", NULL, "{}");
    assert_int_equal(json_object_size(o), 2);
    assert_string_equal(str(o, "text"), "Vučić & Kurti <meet> [EU]\n"
                                        "https://example.org/a b(1)");
    assert_string_equal(str(o, "html"),
                        "<a href=\"https://example.org/a b(1)\">Vučić &amp; "
                        "Kurti &lt;meet&gt; [EU]</a>");
    json_decref(o);
    webhook_request_free(&req);
    o = build(&req, "matrix", NULL, "{\"text\":\"line <1>\\nline 2\"}");
    assert_string_equal(str(o, "text"), "line <1>\nline 2");
    assert_string_equal(str(o, "html"), "line &lt;1&gt;<br>line 2");
    json_decref(o);
    webhook_request_free(&req);
}

/* The expected value comes from Python:
 *   hmac.new(b"s3cret", body, hashlib.sha256).hexdigest() */
static void
test_signature_known_vector(void **state)
{
    UNUSED(state);
    const char *body = "{\"text\":\"Vučić in Pristina\"}";
    char sig[WEBHOOK_SIG_LEN];
    webhook_sign(sig, "s3cret", body, strlen(body));
    assert_string_equal(
        sig, "sha256=b2251598d3d1639d4c23272ff34015641877e5786fc71a26e30ae2f3"
             "378385f2");

    /* the header signs the exact bytes sent */
    webhook_request req = {0};
    webhook_build_raw(&req, "application/json", body, strlen(body), "s3cret",
                      KEY);
    assert_string_equal(header(&req, "X-Vigie-Signature"), sig);
    assert_string_equal(header(&req, "Content-Type"), "application/json");
    webhook_request_free(&req);
    json_t *o = build(&req, "slack", "another", "{}");
    char sig2[WEBHOOK_SIG_LEN];
    webhook_sign(sig2, "another", req.body.p, req.body.len);
    assert_string_equal(header(&req, "X-Vigie-Signature"), sig2);
    json_decref(o);
    webhook_request_free(&req);
}

/* Keys must not change between versions: a changed derivation would
 * re-send every pending alert as new. Expected from Python:
 *   sha256(b"".join(p + b"\0" for p in [b"vigie-alert-1", feed_key,
 *          item_id, b"0123456789abcdef/0", target, script])) */
static void
test_idempotency_key_stable(void **state)
{
    UNUSED(state);
    char k[OUTBOX_KEY_LEN], k2[OUTBOX_KEY_LEN];
    outbox_key(k, "https://example.org/feed.xml", "urn:item:1",
               0x0123456789abcdefLL, "ops", "balkans.lua", 0);
    assert_string_equal(k, KEY);
    outbox_key(k2, "https://example.org/feed.xml", "urn:item:1",
               0x0123456789abcdefLL, "ops", "balkans.lua", 0);
    assert_string_equal(k, k2);
    outbox_key(k2, "https://example.org/feed.xml", "urn:item:1",
               0x0123456789abcdefLL, "chat", "balkans.lua", 0);
    assert_string_not_equal(k, k2);
    outbox_key(k2, "https://example.org/feed.xml", "urn:item:1",
               0x0123456789abcdefLL, "ops", "balkans.lua", 1);
    assert_string_not_equal(k, k2);
    outbox_key(k2, "https://example.org/feed.xml", "urn:item:2",
               0x0123456789abcdefLL, "ops", "balkans.lua", 0);
    assert_string_not_equal(k, k2);
    /* fields cannot run into each other */
    outbox_key(k, "ab", "c", 0, "t", "s", 0);
    outbox_key(k2, "a", "bc", 0, "t", "s", 0);
    assert_string_not_equal(k, k2);
}

static void
test_errors(void **state)
{
    UNUSED(state);
    webhook_request req = {0};
    char err[256];
    webhook_alert a = alert("{}");
    assert_int_equal(webhook_build(&req, "telegram", NULL, &a, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "telegram"));
    a.payload = "[1,2]";
    assert_int_equal(webhook_build(&req, "json", NULL, &a, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "not a JSON object"));
    webhook_request_free(&req);
    assert_true(webhook_format_known("matrix"));
    assert_false(webhook_format_known("lua"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_format),
        cmocka_unit_test(test_slack_format),
        cmocka_unit_test(test_mattermost_format),
        cmocka_unit_test(test_discord_format),
        cmocka_unit_test(test_ntfy_format),
        cmocka_unit_test(test_matrix_format),
        cmocka_unit_test(test_signature_known_vector),
        cmocka_unit_test(test_idempotency_key_stable),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
