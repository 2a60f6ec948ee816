/* test_jsonw.c — the JSON writer: string escaping (against a byte-at-a-time
 * reference, since the fast path copies 16 bytes per step), separators,
 * dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "date.h"
#include "jsonw.h"

/* The escaping rules, one byte at a time: controls as \n \t \r or \u00XX,
 * '"' and '\\' escaped, '/' escaped right after '<' only. */
static void
ref_escape(buf *out, const unsigned char *s, size_t n)
{
    buf_addc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == '"' || c == '\\' || (c == '/' && i > 0 && s[i - 1] == '<')) {
            buf_addc(out, '\\');
            buf_addc(out, (char)c);
        } else if (c == '\n') {
            buf_adds(out, "\\n");
        } else if (c == '\t') {
            buf_adds(out, "\\t");
        } else if (c == '\r') {
            buf_adds(out, "\\r");
        } else if (c < 0x20) {
            buf_printf(out, "\\u%04x", c);
        } else {
            buf_addc(out, (char)c);
        }
    }
    buf_addc(out, '"');
}

static void
test_escape_cases(void **state)
{
    UNUSED(state);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"l1\nl2\tx\ry", "\"l1\\nl2\\tx\\ry\""},
        {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
        {"</p> http://x/y", "\"<\\/p> http://x/y\""},
        {"/start", "\"/start\""},
        {"Bosnie-Herzégovine — l’OTAN", "\"Bosnie-Herzégovine — l’OTAN\""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf b = {0};
        buf_adds(&b, ">");
        json_escape(&b, cases[i].in, strlen(cases[i].in));
        assert_string_equal(b.p + 1, cases[i].out);
        buf_free(&b);
    }
}

static uint64_t rng = 88172645463325252ull;
static unsigned
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

/* Escapes anywhere in long strings: at every offset of a 16-byte block,
 * "</" split between two blocks, runs of several escapes. */
static void
test_escape_matches_reference(void **state)
{
    UNUSED(state);
    static const unsigned char pool[] = {'<',  '/',  '"',  '\\', '\n', '\t',
                                         '\r', 0x00, 0x01, 0x1F, 0x20, 0x7F,
                                         0xC3, 0xA9, 'a',  '>',  '&'};
    unsigned char s[200];
    buf got = {0}, want = {0};
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = rnd() % sizeof s;
        for (size_t i = 0; i < n; i++)
            s[i] = (rnd() % 4) ? 'a' + (unsigned char)(rnd() % 26)
                               : pool[rnd() % sizeof pool];
        buf_reset(&got);
        buf_reset(&want);
        buf_adds(&got, "x"); /* escaping appends */
        buf_adds(&want, "x");
        json_escape(&got, (const char *)s, n);
        ref_escape(&want, s, n);
        if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0)
            fail_msg("iteration %d: %s, want %s", iter, got.p, want.p);
    }
    /* '/' after '<' at each position across block boundaries */
    for (size_t pos = 0; pos < 40; pos++) {
        memset(s, 'a', 48);
        s[pos] = '<';
        s[pos + 1] = '/';
        buf_reset(&got);
        buf_reset(&want);
        json_escape(&got, (const char *)s, 48);
        ref_escape(&want, s, 48);
        assert_string_equal(got.p, want.p);
        /* and a '/' at the start of a block whose previous byte is not '<' */
        s[pos] = 'a';
        buf_reset(&got);
        json_escape(&got, (const char *)s + 1, 47);
        assert_null(strstr(got.p, "\\/"));
    }
    buf_free(&got);
    buf_free(&want);
}

static void
test_writer(void **state)
{
    UNUSED(state);
    buf b = {0};
    jsonw w;
    jsonw_init(&w, &b);
    jsonw_obj_open(&w);
    jsonw_key(&w, "a");
    jsonw_arr_open(&w);
    jsonw_str(&w, "x");
    jsonw_str(&w, NULL);
    jsonw_int(&w, -42);
    jsonw_bool(&w, true);
    jsonw_arr_close(&w);
    jsonw_key(&w, "d");
    jsonw_date(&w, 0);
    jsonw_key(&w, "n");
    jsonw_date(&w, DATE_NONE);
    jsonw_obj_close(&w);
    assert_string_equal(b.p, "{\"a\":[\"x\",null,-42,true],\"d\":\"1970-01-"
                             "01T00:00:00Z\",\"n\":null}");
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_cases),
        cmocka_unit_test(test_escape_matches_reference),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
