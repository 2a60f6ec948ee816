/* test_fold.c — Unicode folding: the table of what folds to what, the
 * offset map, invalid UTF-8, and the per-character building blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <utf8proc.h>

#include "fold.h"
#include "util.h"

static const struct {
    const char *in, *out;
} cases[] = {
    /* case, and what ASCII keeps */
    {"", ""},
    {"ABC xyz 123", "abc xyz 123"},
    {"a,b;c!(d)\t\n", "a,b;c!(d)\t\n"},
    /* accents, precomposed and decomposed */
    {"Vučić", "vucic"},
    {"VUČIĆ", "vucic"},
    {"Vuc\xCC\x8C"
     "ic\xCC\x81",
     "vucic"},
    {"Bosnie-Herzégovine", "bosnie-herzegovine"},
    {"ÀÉÎÕÜ àéîõü ç Ç", "aeiou aeiou c c"},
    {"Ελλάδα ΣΟΦΟΣ σοφός", "ελλαδα σοφοσ σοφοσ"},
    {"Москва Ёлка", "москва елка"},
    /* Latin letters that do not decompose */
    {"Straße STRAẞE", "strasse strasse"},
    {"Đurić ĐURIĆ đ", "duric duric d"},
    {"Łódź ł", "lodz l"},
    {"Øresund ø Ǿ", "oresund o o"},
    {"Æsir æ Œuvre œ", "aesir ae oeuvre oe"},
    {"Þór þ Ðe ð", "thor th de d"},
    {"ıi İstanbul", "ii istanbul"},
    {"Ħal ħ Ŧ ŧ ĸ", "hal h t t k"},
    {"Ŀl ŀ", "ll l"},
    /* enclosed Hangul: jamo once the circle goes, composed again */
    {"㉮ 가 ㈜", "가 가 (주)"},
    {"Ŋ ŋ Ə ə Ɛ ɛ", "n n e e e e"},
    {"ƒ ɓ ƙ ȿ ʐ", "f b k s z"},
    {"Ǆ ǅ ǆ Ĳ", "dz dz dz ij"},
    /* apostrophes */
    {"l’OTAN l‘x ‛y", "l'otan l'x 'y"},
    {"lʼOTAN ʻokina", "l'otan 'okina"},
    {"′ ` ´ ＇", "' ' ' '"},
    /* dashes */
    {"a‐b‑c‒d–e—f―g−h", "a-b-c-d-e-f-g-h"},
    {"x⁃y⸺z﹘w－v", "x-y-z-w-v"},
    /* spaces and invisible characters */
    {"a\xC2\xA0"
     "b\xE2\x80\xAF"
     "c\xE2\x80\x89"
     "d\xE3\x80\x80"
     "e",
     "a b c d e"},
    {"a\xE2\x80\x8B"
     "b",
     "a b"}, /* zero width space */
    {"Vu\xC2\xAD"
     "cic",
     "vucic"}, /* soft hyphen */
    {"\xEF\xBB\xBF"
     "x\xE2\x80\x8D"
     "y",
     "xy"}, /* BOM, ZWJ */
    {"a\xE2\x80\xA8"
     "b",
     "a\nb"}, /* line separator */
    /* compatibility forms */
    {"ﬁnance ﬂ", "finance fl"},
    {"ＯＴＡＮ ２０２４", "otan 2024"},
    {"① Ⅻ ²", "1 xii 2"},
    {"½", "1\xE2\x81\x84"
          "2"},
    /* Hangul stays composed, conjoining jamo compose */
    {"한국", "한국"},
    {"\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", "한"},
    {"ㄱㅏ", "가"}, /* compatibility jamo, as NFKC */
    /* invalid UTF-8: one U+FFFD per maximal invalid subpart */
    {"\xFF", "\xEF\xBF\xBD"},
    {"a\xC3", "a\xEF\xBF\xBD"},
    {"\xE2\x82"
     "x",
     "\xEF\xBF\xBD"
     "x"},
    {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
    {"\xC3\xC3\xA9", "\xEF\xBF\xBD"
                     "e"},
};

static void
test_fold_table(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf b = {0};
        fold_text(&b, cases[i].in, strlen(cases[i].in), NULL);
        if (b.len != strlen(cases[i].out) ||
            memcmp(b.p, cases[i].out, b.len) != 0)
            fail_msg("case %zu: fold(\"%s\") = \"%s\", want \"%s\"", i,
                     cases[i].in, b.p, cases[i].out);
        /* Folding is idempotent: the folded form folds to itself. */
        buf again = {0};
        fold_text(&again, b.p, b.len, NULL);
        if (again.len != b.len || memcmp(again.p, b.p, b.len) != 0)
            fail_msg("case %zu: fold(fold(x)) != fold(x)", i);
        buf_free(&again);
        buf_free(&b);
    }
}

static void
check_map(const char *in, const char *out, const size_t *want, size_t n)
{
    buf b = {0};
    fold_map m = {0};
    fold_text(&b, in, strlen(in), &m);
    assert_string_equal(b.p, out);
    assert_int_equal(m.len, b.len);
    assert_int_equal(m.len, n);
    for (size_t i = 0; i < n; i++)
        if (m.src[i] != want[i])
            fail_msg("fold(\"%s\"): map[%zu] = %zu, want %zu", in, i, m.src[i],
                     want[i]);
    assert_int_equal(m.src[m.len], strlen(in)); /* the sentinel */
    fold_map_free(&m);
    buf_free(&b);
}

static void
test_fold_map(void **state)
{
    UNUSED(state);
    check_map("aé", "ae", (size_t[]){0, 1}, 2);
    check_map("éa", "ea", (size_t[]){0, 2}, 2);
    check_map("Vuc\xCC\x8C"
              "ic",
              "vucic", (size_t[]){0, 1, 2, 5, 6}, 5);
    check_map("ß!", "ss!", (size_t[]){0, 0, 2}, 3);
    check_map("ﬁx", "fix", (size_t[]){0, 0, 3}, 3);
    check_map("l’O", "l'o", (size_t[]){0, 1, 4}, 3);
    check_map("Ω", "ω", (size_t[]){0, 0}, 2);
    check_map("\xFF"
              "a",
              "\xEF\xBF\xBD"
              "a",
              (size_t[]){0, 0, 0, 1}, 4);
    check_map("x\xC2\xAD"
              "y",
              "xy", (size_t[]){0, 3}, 2);
    check_map("\xE1\x84\x92\xE1\x85\xA1", "하", (size_t[]){0, 0, 0}, 3);
}

static void
test_fold_map_appends(void **state)
{
    UNUSED(state);
    /* out and map grow in step across calls: entries are offsets into
     * each call's own input. */
    buf b = {0};
    fold_map m = {0};
    fold_text(&b, "AB", 2, &m);
    fold_text(&b, "éC", 3, &m);
    assert_string_equal(b.p, "abec");
    assert_int_equal(m.len, 4);
    assert_int_equal(m.src[0], 0);
    assert_int_equal(m.src[1], 1);
    assert_int_equal(m.src[2], 0);
    assert_int_equal(m.src[3], 2);
    assert_int_equal(m.src[4], 3);
    fold_map_free(&m);
    buf_free(&b);
}

/* Every map entry points at the start of a character, and the folded text
 * of a long, messy input is what folding its characters one by one gives. */
static void
test_fold_map_random(void **state)
{
    UNUSED(state);
    static const char *pieces[] = {
        "a",        "Z", " ", "é",  "ß",        "\xCC\x81", "’", "\xFF",
        "\xE2\x82", "ﬁ", "Đ", "한", "\xC2\xA0", "\xC2\xAD", "½", "-"};
    uint32_t r = 12345;
    for (int round = 0; round < 200; round++) {
        buf in = {0};
        for (int k = 0; k < 40; k++) {
            r = r * 1103515245 + 12345;
            buf_adds(&in, pieces[(r >> 16) % ARRAY_LEN(pieces)]);
        }
        buf whole = {0}, parts = {0};
        fold_map m = {0};
        fold_text(&whole, in.p, in.len, &m);
        assert_int_equal(m.len, whole.len);
        for (size_t i = 0; i < m.len; i++) {
            assert_true(m.src[i] < in.len);
            if (i) assert_true(m.src[i] >= m.src[i - 1]);
        }
        /* Fold character by character (as the decoder cuts them). */
        for (size_t i = 0; i < in.len;) {
            int32_t cp;
            size_t l = fold_decode(in.p + i, in.len - i, &cp);
            assert_true(l >= 1 && l <= 4);
            fold_text(&parts, in.p + i, l, NULL);
            i += l;
        }
        /* Only Hangul composes across characters, and 한 is precomposed. */
        assert_int_equal(parts.len, whole.len);
        assert_memory_equal(parts.p, whole.p, whole.len);
        fold_map_free(&m);
        buf_free(&whole);
        buf_free(&parts);
        buf_free(&in);
    }
}

static void
test_fold_decode(void **state)
{
    UNUSED(state);
    int32_t cp;
    assert_int_equal(fold_decode("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(fold_decode("é", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(fold_decode("€", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(fold_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    /* truncated by n, not by the bytes */
    assert_int_equal(fold_decode("é", 1, &cp), 1);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(fold_decode("\xE2\x82\xAC", 2, &cp), 2);
    assert_int_equal(cp, 0xFFFD);
    /* stray continuation, overlong, surrogate, too large */
    assert_int_equal(fold_decode("\x80", 1, &cp), 1);
    assert_int_equal(fold_decode("\xE0\x80\x80", 3, &cp), 1);
    assert_int_equal(fold_decode("\xED\xB0\x80", 3, &cp), 1);
    assert_int_equal(fold_decode("\xF5\x80\x80\x80", 4, &cp), 1);
    assert_int_equal(cp, 0xFFFD);
}

static void
test_fold_classes(void **state)
{
    UNUSED(state);
    assert_int_equal(fold_lookup(0xE9)->cls, FOLD_WORD);      /* é */
    assert_int_equal(fold_lookup(0x2019)->cls, FOLD_SEP);     /* ’ */
    assert_int_equal(fold_lookup(0xA0)->cls, FOLD_SEP);       /* NBSP */
    assert_int_equal(fold_lookup(0x301)->cls, FOLD_NONE);     /* acute */
    assert_int_equal(fold_lookup(0xAD)->cls, FOLD_NONE);      /* soft hyphen */
    assert_int_equal(fold_lookup(0x4EAC)->cls, FOLD_ISOLATE); /* 京 */
    assert_int_equal(fold_lookup(0x30AB)->cls, FOLD_ISOLATE); /* カ */
    assert_int_equal(fold_lookup(0xBD)->cls, FOLD_MIXED);     /* ½ */
    assert_int_equal(fold_lookup(0xFFFD)->cls, FOLD_SEP);
    assert_int_equal(fold_lookup(0x10FFFF)->cls, FOLD_SEP); /* unassigned */
    assert_true(fold_is_word('a') && fold_is_word('7') && fold_is_word(0x3B1));
    assert_false(fold_is_word('-') || fold_is_word('\'') || fold_is_word(0xA0));
    int32_t f[FOLD_CP_MAX];
    assert_int_equal(fold_cp(0xFDFA, f), 18); /* the longest decomposition */
    assert_int_equal(fold_cp(0x1E9E, f), 2);  /* ẞ → ss */
    assert_int_equal(f[0], 's');
}

/* fold(fold(x)) == fold(x) for every code point, alone and after a
 * letter and a syllable (which a following jamo may complete). */
static void
test_fold_idempotent(void **state)
{
    (void)state;
    buf a = {0}, b = {0}, in = {0};
    size_t bad = 0;
    for (int32_t cp = 1; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        static const char *const before[] = {"", "x", "\xEA\xB0\x80" /* 가 */};
        for (size_t k = 0; k < 3; k++) {
            char tmp[8];
            size_t n = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)tmp);
            buf_reset(&in);
            buf_adds(&in, before[k]);
            buf_add(&in, tmp, n);
            buf_reset(&a);
            buf_reset(&b);
            fold_text(&a, in.p, in.len, NULL);
            fold_text(&b, a.p, a.len, NULL);
            if (a.len != b.len || memcmp(a.p, b.p, a.len)) {
                if (bad++ < 5) print_message("not idempotent: U+%04X after \"%s\"\n", (unsigned)cp, before[k]);
            }
        }
    }
    assert_int_equal(bad, 0);
    buf_free(&a);
    buf_free(&b);
    buf_free(&in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_table),
        cmocka_unit_test(test_fold_map),
        cmocka_unit_test(test_fold_map_appends),
        cmocka_unit_test(test_fold_map_random),
        cmocka_unit_test(test_fold_decode),
        cmocka_unit_test(test_fold_classes),
        cmocka_unit_test(test_fold_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
