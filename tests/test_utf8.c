/* test_utf8.c — strict decoding, encoding, validation, repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "scan.h"
#include "utf8.h"

/* A deliberately naive validator to compare the fast one against. */
static size_t
ref_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t v, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, v = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, v = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, v = c & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (i + len > n) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            v = v << 6 | (s[i + k] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return i;
        i += len;
    }
    return n;
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

static void
test_decode_table(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct {
        const char *s;
        size_t n;
        int32_t cp;
        size_t used;
    } cases[] = {
        {"A", 1, 'A', 1},
        {"\xC3\xA9", 2, 0xE9, 2},
        {"\xE2\x82\xAC", 3, 0x20AC, 3},
        {"\xF0\x9F\x98\x80", 4, 0x1F600, 4},
        {"\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4},
        {"\xEF\xBF\xBF", 3, 0xFFFF, 3},
        {"\xED\x9F\xBF", 3, 0xD7FF, 3},
        /* overlong forms */
        {"\xC0\x80", 2, -1, 1},
        {"\xC1\xBF", 2, -1, 1},
        {"\xE0\x80\x80", 3, -1, 1},
        {"\xE0\x9F\xBF", 3, -1, 1},
        {"\xF0\x80\x80\x80", 4, -1, 1},
        {"\xF0\x8F\xBF\xBF", 4, -1, 1},
        /* surrogates */
        {"\xED\xA0\x80", 3, -1, 1},
        {"\xED\xBF\xBF", 3, -1, 1},
        /* past U+10FFFF, and bytes that never appear */
        {"\xF4\x90\x80\x80", 4, -1, 1},
        {"\xF5\x80\x80\x80", 4, -1, 1},
        {"\xFF", 1, -1, 1},
        /* lone continuation byte */
        {"\x80", 1, -1, 1},
        {"\xBF", 1, -1, 1},
        /* truncated: maximal subpart */
        {"\xC3", 1, -1, 1},
        {"\xE2\x82", 2, -1, 2},
        {"\xF0\x9F\x98", 3, -1, 3},
        {"\xE2\x82\x41", 3, -1, 2},
        {"\xF0\x9F\x41\x41", 4, -1, 2},
        {"\xF0\x9F\x98\x41", 4, -1, 3},
        {"\xC3\x41", 2, -1, 1},
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int32_t cp = 0;
        size_t used = utf8_decode(cases[i].s, cases[i].n, &cp);
        if (cp != cases[i].cp || used != cases[i].used)
            fail_msg("case %zu: got cp %d used %zu, want %d %zu", i, cp, used,
                     cases[i].cp, cases[i].used);
    }
    int32_t cp = 0;
    assert_int_equal(utf8_decode("", 0, &cp), 0);
    assert_int_equal(cp, -1);
}

static void
test_encode(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct {
        int32_t cp;
        const char *s;
    } cases[] = {
        {0, "\0"},
        {'z', "z"},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0x2019, "\xE2\x80\x99"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
        /* not scalar values: U+FFFD */
        {0xD800, "\xEF\xBF\xBD"},
        {0xDFFF, "\xEF\xBF\xBD"},
        {0x110000, "\xEF\xBF\xBD"},
        {-5, "\xEF\xBF\xBD"},
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[4];
        size_t n = utf8_encode(cases[i].cp, out);
        size_t want = cases[i].cp == 0 ? 1 : strlen(cases[i].s);
        assert_int_equal(n, want);
        assert_memory_equal(out, cases[i].s, n);
    }
    /* round trip over every scalar value */
    for (int32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char out[4];
        int32_t back;
        size_t n = utf8_encode(c, out);
        if (utf8_decode(out, n, &back) != n || back != c)
            fail_msg("round trip of U+%04X", (unsigned)c);
    }
    buf b = {0};
    buf_add_cp(&b, 0xE9);
    assert_string_equal(b.p, "\xC3\xA9");
    buf_free(&b);
}

static void
test_valid_and_ascii_fast_path(void **state)
{
    UNUSED(state);
    assert_true(utf8_valid("", 0));
    assert_true(ascii_only("", 0));
    const char *fr = "Bosnie-Herzégovine, l’OTAN « réaffirme » — 😀";
    assert_true(utf8_valid(fr, strlen(fr)));
    assert_false(ascii_only(fr, strlen(fr)));
    /* One bad byte at every position of a long ASCII string: the 16- and
     * 8-byte steps must not skip it. */
    char s[80];
    for (size_t pos = 0; pos < sizeof s; pos++) {
        memset(s, 'a', sizeof s);
        s[pos] = '\xFF';
        assert_false(utf8_valid(s, sizeof s));
        assert_int_equal(utf8_valid_prefix(s, sizeof s), pos);
        assert_false(ascii_only(s, sizeof s));
        s[pos] = '\xC3'; /* é cut by the end of the string, or by 'a' */
        assert_false(utf8_valid(s, sizeof s));
        s[pos] = '\x7F';
        assert_true(utf8_valid(s, sizeof s));
        assert_true(ascii_only(s, sizeof s));
    }
    /* an overlong NUL and a surrogate in an otherwise long valid text */
    assert_false(utf8_valid("0123456789abcdefghij\xC0\x80", 22));
    assert_false(utf8_valid("0123456789abcdefghij\xED\xA0\x80", 23));
    assert_false(utf8_valid("0123456789abcdefghij\xF4\x90\x80\x80", 24));
}

static void
test_valid_matches_reference(void **state)
{
    UNUSED(state);
    /* Random strings biased towards UTF-8-looking bytes. */
    static const unsigned char pool[] = {
        'a',  ' ',  0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xC3, 0xDF,
        0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x00, 0x7F};
    unsigned char s[64];
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = rnd() % sizeof s;
        for (size_t i = 0; i < n; i++)
            s[i] =
                (rnd() & 1) ? pool[rnd() % sizeof pool] : (unsigned char)rnd();
        size_t want = ref_valid_prefix(s, n);
        size_t got = utf8_valid_prefix((const char *)s, n);
        if (got != want)
            fail_msg("iteration %d: prefix %zu, want %zu", iter, got, want);
    }
}

/* The reference with XML's rules on top: no C0 control but tab, LF, CR,
 * no U+FFFE or U+FFFF. */
static size_t
ref_xml_prefix(const unsigned char *s, size_t n)
{
    size_t valid = ref_valid_prefix(s, n);
    for (size_t i = 0; i < valid;) {
        unsigned c = s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return i;
        if (c == 0xEF && s[i + 1] == 0xBF && (s[i + 2] | 1) == 0xBF) return i;
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    return valid;
}

/* Long texts of valid characters with, now and then, a wrong byte: the
 * 16- and 64-byte block validators (scan.h) must agree with the reference
 * wherever the fault falls, a sequence split between two blocks included,
 * and hand the cases they leave to the decoder (E0, ED, F0..F4, EF) back
 * and forth without losing their place. */
static void
test_block_validator_matches_reference(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const char *const chars[] = {
        "a", "b", " ", "<", "\n", "\t", "\r", "\xC3\xA9", "\xC2\xAB", "\xDF\xBF",
        "\xE2\x80\x99", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEF\xBF\xBD",
        "\xEF\xBF\xBE", "\xEF\xBF\xBF", "\xEF\xBC\x81", "\xF0\x9F\x98\x80",
        "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xE4\xB8\xAD", "\x01",
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv"};
    static const unsigned char faults[] = {
        0x80, 0xBF, 0xC0, 0xC1, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
        0x9F, 0xA0, 0x8F, 0x90, 0x00, 0x1B};
    /* clang-format on */
    unsigned char s[400];
    for (int iter = 0; iter < 100000; iter++) {
        size_t n = 0, want = 1 + rnd() % 300;
        while (n < want) {
            const char *c = chars[rnd() % ARRAY_LEN(chars)];
            size_t len = strlen(c);
            memcpy(s + n, c, len);
            n += len;
        }
        for (unsigned f = rnd() % 4; f > 0; f--)
            s[rnd() % n] = faults[rnd() % sizeof faults];
        size_t a = scan_utf8_prefix(s, n, false), b = ref_valid_prefix(s, n);
        if (a != b)
            fail_msg("iteration %d: valid prefix %zu, reference %zu", iter, a,
                     b);
        assert_int_equal(utf8_valid_prefix((const char *)s, n), b);
        a = scan_xml_utf8(s, n), b = ref_xml_prefix(s, n);
        if (a != b)
            fail_msg("iteration %d: XML prefix %zu, reference %zu", iter, a, b);
    }
    /* Each sequence the narrower second-byte rules are about, valid or
     * not, at every offset of an ASCII text: split between blocks every
     * way, inside and after a 64-byte run. */
    static const char *const seqs[] = {"\xE0\x9F\xBF",
                                       "\xE0\xA0\x80",
                                       "\xED\xA0\x80",
                                       "\xED\x9F\xBF",
                                       "\xF0\x8F\xBF\xBF",
                                       "\xF0\x90\x80\x80",
                                       "\xF4\x90\x80\x80",
                                       "\xF4\x8F\xBF\xBF",
                                       "\xEF\xBF\xBE",
                                       "\xEF\xBF\xBF",
                                       "\xEF\xBF\xBD",
                                       "\xC3\xA9",
                                       "\xC3",
                                       "\xE2\x80",
                                       "\x80",
                                       "\x0B",
                                       "\t"};
    for (size_t k = 0; k < ARRAY_LEN(seqs); k++) {
        size_t len = strlen(seqs[k]);
        for (size_t pos = 0; pos + len <= 160; pos++) {
            memset(s, 'a', 160);
            memcpy(s + pos, seqs[k], len);
            /* the sequence at the very end (cut there), then inside */
            const size_t lens[] = {pos + len, 160};
            for (size_t l = 0; l < ARRAY_LEN(lens); l++) {
                assert_int_equal(scan_utf8_prefix(s, lens[l], false),
                                 ref_valid_prefix(s, lens[l]));
                assert_int_equal(scan_xml_utf8(s, lens[l]),
                                 ref_xml_prefix(s, lens[l]));
            }
        }
    }
}

static void
test_repair(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"caf\xC3\xA9", 5, "café"},
        /* Unicode 15, table 3-8: one U+FFFD per maximal subpart */
        {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13,
         "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD"
         "c\xEF\xBF\xBD\xEF\xBF\xBD" "d"},
        {"\xC0\x80", 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\xED\xA0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"x\xE2\x80", 3, "x\xEF\xBF\xBD"},
        {"\x92quote", 6, "\xEF\xBF\xBDquote"},
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf b = {0};
        buf_adds(&b, ">");
        utf8_repair(&b, cases[i].in, cases[i].n);
        assert_string_equal(b.p + 1, cases[i].out);
        assert_int_equal(b.p[0], '>');
        buf_free(&b);
    }
}

static void
test_repair_random_is_valid(void **state)
{
    UNUSED(state);
    unsigned char s[200];
    buf b = {0};
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd() % sizeof s;
        for (size_t i = 0; i < n; i++)
            s[i] = (unsigned char)rnd();
        buf_reset(&b);
        utf8_repair(&b, (const char *)s, n);
        assert_true(utf8_valid(b.p, b.len));
        if (utf8_valid((const char *)s, n)) {
            assert_int_equal(b.len, n);
            assert_memory_equal(b.p, s, n);
        }
        /* utf8_decode always makes progress and never reads past n */
        for (size_t i = 0; i < n;) {
            int32_t cp;
            size_t k = utf8_decode((const char *)s + i, n - i, &cp);
            assert_true(k >= 1 && k <= n - i);
            i += k;
        }
    }
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_valid_and_ascii_fast_path),
        cmocka_unit_test(test_valid_matches_reference),
        cmocka_unit_test(test_block_validator_matches_reference),
        cmocka_unit_test(test_repair),
        cmocka_unit_test(test_repair_random_is_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
