/* test_charset.c — every rule of charset_to_utf8, in order, and the
 * Content-Type charset parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "charset.h"
#include "utf8.h"

#define DECL(enc) "<?xml version=\"1.0\" encoding=\"" enc "\"?>"
#define S(lit) lit, sizeof(lit) - 1

/* clang-format off */
static const struct ccase {
    const char *what;
    const char *in;
    size_t n;
    const char *hint;
    const char *out; /* expected UTF-8 */
    const char *encoding;
    int zero_copy;
    size_t repaired, dropped;
    int unsupported;
} rule_cases[] = {
    /* rule 2: clean UTF-8 is returned as is */
    {"clean utf-8", S("<r>Vučić « l’OTAN »</r>"), NULL,
     "<r>Vučić « l’OTAN »</r>", "UTF-8", 1, 0, 0, 0},
    {"empty", S(""), NULL, "", "UTF-8", 1, 0, 0, 0},
    {"valid utf-8 wins over a latin-1 declaration",
     S(DECL("ISO-8859-1") "<r>été</r>"), NULL,
     DECL("ISO-8859-1") "<r>été</r>", "UTF-8", 1, 0, 0, 0},
    {"valid utf-8 wins over the hint", S("<r>été</r>"), "iso-8859-2",
     "<r>été</r>", "UTF-8", 1, 0, 0, 0},
    /* rule 1: BOMs and '<' in UTF-16/32 */
    {"utf-8 bom skipped", S("\xEF\xBB\xBF<r>é</r>"), NULL, "<r>é</r>",
     "UTF-8", 1, 0, 0, 0},
    {"utf-8 bom with stray bytes", S("\xEF\xBB\xBF<r>\x92</r>"), NULL,
     "<r>’</r>", "UTF-8", 0, 1, 0, 0},
    {"utf-16le bom", S("\xFF\xFE<\0r\0>\0\xE9\0\x19\x20"), NULL, "<r>é’",
     "UTF-16LE", 0, 0, 0, 0},
    {"utf-16be bom and a surrogate pair",
     S("\xFE\xFF\0<\0r\0>\xD8\x3D\xDE\x00"), NULL, "<r>😀", "UTF-16BE", 0, 0,
     0, 0},
    {"utf-32le bom", S("\xFF\xFE\0\0<\0\0\0\xE9\0\0\0\x00\xF6\x01\0"), NULL,
     "<é😀", "UTF-32LE", 0, 0, 0, 0},
    {"utf-32be bom", S("\0\0\xFE\xFF\0\0\0<\0\0\0\xE9"), NULL, "<é",
     "UTF-32BE", 0, 0, 0, 0},
    {"utf-16le without bom", S("<\0?\0x\0m\0l\0 \0?\0>\0\xE9\0"), NULL,
     "<?xml ?>é", "UTF-16LE", 0, 0, 0, 0},
    {"utf-16be without bom", S("\0<\0?\0x\0m\0l\0 \0?\0>\0\xE9"), NULL,
     "<?xml ?>é", "UTF-16BE", 0, 0, 0, 0},
    {"utf-32le without bom", S("<\0\0\0r\0\0\0"), NULL, "<r", "UTF-32LE", 0,
     0, 0, 0},
    /* ... also after whitespace in the same encoding */
    {"utf-16le without bom, after whitespace",
     S("\n\0 \0\t\0<\0r\0>\0\xE9\0"), NULL, "\n \t<r>é", "UTF-16LE", 0, 0,
     0, 0},
    {"utf-16be without bom, after whitespace",
     S("\0\r\0\n\0<\0?\0x\0m\0l"), NULL, "\r\n<?xml", "UTF-16BE", 0, 0, 0,
     0},
    {"utf-32le without bom, after whitespace", S(" \0\0\0<\0\0\0r\0\0\0"),
     NULL, " <r", "UTF-32LE", 0, 0, 0, 0},
    {"utf-32be without bom, after whitespace", S("\0\0\0\n\0\0\0<"), NULL,
     "\n<", "UTF-32BE", 0, 0, 0, 0},
    {"wide whitespace without '<' is not utf-16", S("\n\0x\0"), NULL, "\nx",
     "UTF-8", 0, 0, 2, 0},
    {"ascii whitespace before '<' is utf-8", S(" \n\t<r/>"), NULL,
     " \n\t<r/>", "UTF-8", 1, 0, 0, 0},
    {"utf-16: unpaired surrogates and an odd byte",
     S("\xFF\xFE<\0\x00\xD8x\0\x00\xDCy\0z"), NULL,
     "<\xEF\xBF\xBDx\xEF\xBF\xBDy\xEF\xBF\xBD", "UTF-16LE", 0, 3, 0, 0},
    {"utf-16: forbidden characters dropped", S("\xFF\xFE" "a\0\x1B\0b\0\xFF\xFF"),
     NULL, "ab", "UTF-16LE", 0, 0, 2, 0},
    /* declared (or assumed) UTF-8 with stray bytes: windows-1252 lone
     * bytes, U+FFFD for broken sequences */
    {"utf-8 declared, cp1252 quotes among utf-8",
     S(DECL("UTF-8") "<r>été à l\x92OTAN \xAB x \xBB \x96 caf\xE9 ok</r>"),
     NULL, DECL("UTF-8") "<r>été à l’OTAN « x » – café ok</r>", "UTF-8", 0, 5,
     0, 0},
    {"utf-8 declared, é at the very end", S(DECL("utf-8") "été caf\xE9"), NULL,
     DECL("utf-8") "été café", "UTF-8", 0, 1, 0, 0},
    {"utf-8 declared, mixed with real utf-8",
     S(DECL("utf8") "été \x92 l’OTAN"), NULL, DECL("utf8") "été ’ l’OTAN",
     "UTF-8", 0, 1, 0, 0},
    {"broken multi-byte sequences become U+FFFD",
     S(DECL("UTF-8") "été l’OTAN a\xE2\x80x b\xF0\x9F\x98 c\xE9\x92x"), NULL,
     DECL("UTF-8") "été l’OTAN a\xEF\xBF\xBDx b\xEF\xBF\xBD c\xEF\xBF\xBDx",
     "UTF-8", 0, 3, 0, 0},
    {"overlong and surrogate bytes are lone bytes",
     S(DECL("UTF-8") "é \xC0\x80 \xED\xA0"), NULL,
     DECL("UTF-8") "é À€ í\xC2\xA0", "UTF-8", 0, 4, 0, 0},
    {"english smart quotes from cp1252 next to utf-8 dashes",
     S("It\x92s \x93" "fine\x94 — really — yes"), NULL,
     "It’s “fine” — really — yes", "windows-1252", 0, 3, 0, 0},
    {"cp1252 declared utf-8, with accidental utf-8 sequences",
     S(DECL("UTF-8") "l'\xE9t\xE9 \xE0\xA0Paris, caf\xE9 cr\xE8me, "
       "\xE9l\xE8ve, d\xE9j\xE0 \xAB\xA0oui\xA0\xBB, \xE9\xA0\xBB"),
     NULL, DECL("UTF-8") "l'été à\xC2\xA0Paris, café crème, élève, déjà "
     "«\xC2\xA0oui\xC2\xA0», é\xC2\xA0»", "windows-1252", 0, 0, 0, 0},
    {"undeclared with stray bytes: mixed repair", S("<r>l\x92OTAN été</r>"),
     NULL, "<r>l’OTAN été</r>", "windows-1252", 0, 1, 0, 0},
    {"declared utf-16 but readable as ASCII: utf-8",
     S(DECL("UTF-16") "é\x92"), NULL, DECL("UTF-16") "é’", "UTF-8", 0, 1, 0, 0},
    /* rule 3 and its aliases */
    {"iso-8859-1 is windows-1252",
     S(DECL("ISO-8859-1") "\x91\x92\x93\x94\x96\x97\x85\x80\xE9\xA0"), NULL,
     DECL("ISO-8859-1") "‘’“”–—…€é\xC2\xA0", "windows-1252", 0, 0, 0, 0},
    {"latin1 single-quoted, spaces", S("<?xml version='1.0' encoding = 'latin1' ?>\xE9"),
     NULL, "<?xml version='1.0' encoding = 'latin1' ?>é", "windows-1252", 0, 0,
     0, 0},
    {"us-ascii is windows-1252", S(DECL("US-ASCII") "\xE9\x9C"), NULL,
     DECL("US-ASCII") "éœ", "windows-1252", 0, 0, 0, 0},
    {"windows-1252 holes are C1 controls", S(DECL("windows-1252") "\x81\x8D"),
     NULL, DECL("windows-1252") "\xC2\x81\xC2\x8D", "windows-1252", 0, 0, 0,
     0},
    {"leading whitespace before the declaration",
     S("\n  <?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\xE9"), NULL,
     "\n  <?xml version=\"1.0\" encoding=\"iso-8859-1\"?>é", "windows-1252", 0,
     0, 0, 0},
    {"iso-8859-2 via iconv", S(DECL("ISO-8859-2") "Vu\xE8i\xE6 \xB9"), NULL,
     DECL("ISO-8859-2") "Vučić š", "iso-8859-2", 0, 0, 0, 0},
    {"windows-1250 via iconv", S(DECL("windows-1250") "Vu\xE8i\xE6 \x9A"), NULL,
     DECL("windows-1250") "Vučić š", "windows-1250", 0, 0, 0, 0},
    {"koi8-r", S(DECL("KOI8-R") "\xF0\xD2\xC9\xD7\xC5\xD4"), NULL,
     DECL("KOI8-R") "Привет", "koi8-r", 0, 0, 0, 0},
    {"shift_jis (as windows-31j)", S(DECL("Shift_JIS") "\x93\xFA\x96\x7B"),
     NULL, DECL("Shift_JIS") "日本", "WINDOWS-31J", 0, 0, 0, 0},
    {"gb2312 (as gb18030)", S(DECL("GB2312") "\xD6\xD0\xCE\xC4"), NULL,
     DECL("GB2312") "中文", "GB18030", 0, 0, 0, 0},
    {"shift_jis with an invalid byte: repaired, not fatal",
     S(DECL("Shift_JIS") "\x93\xFA\xA0\x96\x7B"), NULL,
     DECL("Shift_JIS") "日\xEF\xBF\xBD本", "WINDOWS-31J", 0, 1, 0, 0},
    {"shift_jis cut in the middle of a character",
     S(DECL("Shift_JIS") "\x93\xFA\x96"), NULL,
     DECL("Shift_JIS") "日\xEF\xBF\xBD", "WINDOWS-31J", 0, 1, 0, 0},
    {"iconv output filtered", S(DECL("KOI8-R") "\x01\xF0\x1B"), NULL,
     DECL("KOI8-R") "П", "koi8-r", 0, 0, 2, 0},
    {"iso-2022-jp: ESC is a shift, not a control",
     S(DECL("ISO-2022-JP") "\x1B$BF|K\\\x1B(B"), NULL,
     DECL("ISO-2022-JP") "日本", "iso-2022-jp", 0, 0, 0, 0},
    /* rule 4: the hint, when nothing is declared */
    {"hint iso-8859-2", S("<r>Vu\xE8i\xE6</r>"), "ISO-8859-2", "<r>Vučić</r>",
     "iso-8859-2", 0, 0, 0, 0},
    {"hint latin1", S("<r>caf\xE9\x92</r>"), "latin1", "<r>café’</r>",
     "windows-1252", 0, 0, 0, 0},
    {"declaration beats hint", S(DECL("windows-1250") "\x9A"), "koi8-r",
     DECL("windows-1250") "š", "windows-1250", 0, 0, 0, 0},
    {"unknown declaration: the hint", S(DECL("x-klingon") "\x9A"), "cp1250",
     DECL("x-klingon") "š", "cp1250", 0, 0, 0, 1},
    /* rule 5 */
    {"unknown encoding: windows-1252, flagged", S(DECL("x-klingon") "\x92\xE9"),
     NULL, DECL("x-klingon") "’é", "windows-1252", 0, 0, 0, 1},
    {"hint with a slash is not handed to iconv", S("\x92"), "utf-8//IGNORE",
     "’", "windows-1252", 0, 0, 0, 0},
    /* forbidden characters */
    {"ESC and NUL dropped from valid utf-8",
     S("<r>a\x1B[0mb\0c\td\ne\rf</r>"), NULL, "<r>a[0mbc\td\ne\rf</r>",
     "UTF-8", 0, 0, 2, 0},
    {"U+FFFE and U+FFFF dropped", S("a\xEF\xBF\xBE" "b\xEF\xBF\xBF" "c"),
     NULL, "abc", "UTF-8", 0, 0, 2, 0},
    {"control after a long clean prefix",
     S("0123456789abcdefghijklmnopqrstuvwxyz\x07!"), NULL,
     "0123456789abcdefghijklmnopqrstuvwxyz!", "UTF-8", 0, 0, 1, 0},
    {"controls in windows-1252", S(DECL("iso-8859-1") "\x01\xE9\x1F"), NULL,
     DECL("iso-8859-1") "é", "windows-1252", 0, 0, 2, 0},
    {"controls in mixed repair", S("\x02\x92\x1B«"), NULL, "’«",
     "windows-1252", 0, 1, 2, 0},
};
/* clang-format on */

/* A body declared (or assumed) UTF-8 that is not: which of the caller's
 * charset, windows-1252 or a UTF-8 repair reads it, and the note saying
 * why when it is not what the document said. */
#define CP1251_NEWS "\xCD\xEE\xE2\xEE\xF1\xF2\xE8 \xC1\xE5\xEB\xE3\xF0\xE0\xE4"
#define SJIS_NEWS "\x83\x6A\x83\x85\x81\x5B\x83\x58 \x93\x8C\x8B\x9E"
#define FR_CP1252 "l'\xE9t\xE9 \xE0\xA0Paris, caf\xE9 cr\xE8me, \xE9l\xE8ve"
#define FR_UTF8 "l'été à\xC2\xA0Paris, café crème, élève"
/* clang-format off */
static const struct ncase {
    const char *what;
    const char *in;
    size_t n;
    const char *hint;
    const char *out, *encoding, *note; /* note "": none */
    int unsupported;
} note_cases[] = {
    {"cp1251 declared utf-8: the HTTP charset",
     S(DECL("UTF-8") CP1251_NEWS), "windows-1251",
     DECL("UTF-8") "Новости Белград", "windows-1251",
     "not UTF-8 as declared: read as windows-1251, from the HTTP charset "
     "windows-1251", 0},
    {"shift_jis declared utf-8: the HTTP charset",
     S(DECL("utf-8") SJIS_NEWS), "Shift_JIS", DECL("utf-8") "ニュース 東京",
     "WINDOWS-31J",
     "not UTF-8 as declared: read as WINDOWS-31J, from the HTTP charset "
     "shift_jis", 0},
    {"cp1251 undeclared: the HTTP charset, as always", S(CP1251_NEWS),
     "windows-1251", "Новости Белград", "windows-1251", "", 0},
    {"cp1252 declared utf-8, latin-1 HTTP charset", S(DECL("UTF-8") FR_CP1252),
     "iso-8859-1", DECL("UTF-8") FR_UTF8, "windows-1252",
     "not UTF-8 as declared: read as windows-1252, from the HTTP charset "
     "iso-8859-1", 0},
    {"a declaration of another encoding still beats the HTTP charset",
     S(DECL("ISO-8859-1") "\xC1\xE5"), "windows-1251",
     DECL("ISO-8859-1") "Áå", "windows-1252", "", 0},
    {"mostly utf-8: a wrong HTTP charset is ignored",
     S(DECL("UTF-8") "Vučić à l\x92OTAN"), "windows-1251",
     DECL("UTF-8") "Vučić à l’OTAN", "UTF-8",
     "the HTTP charset windows-1251 ignored: the document is mostly valid "
     "UTF-8", 0},
    {"mostly utf-8, undeclared: a wrong HTTP charset is ignored",
     S("été \x92 «»"), "koi8-r", "été ’ «»", "UTF-8",
     "the HTTP charset koi8-r ignored: the document is mostly valid UTF-8",
     0},
    {"cp1252 declared utf-8, no HTTP charset: windows-1252, said",
     S(DECL("UTF-8") FR_CP1252), NULL, DECL("UTF-8") FR_UTF8,
     "windows-1252",
     "not UTF-8 as declared, and no other charset given: read as "
     "windows-1252", 0},
    {"cp1252 with a utf-8 HTTP charset: windows-1252, said",
     S(FR_CP1252), "utf-8", FR_UTF8, "windows-1252",
     "not UTF-8 as the HTTP charset says, and no other charset given: read "
     "as windows-1252", 0},
    {"cp1252 with nothing said: windows-1252, said", S(FR_CP1252), NULL,
     FR_UTF8, "windows-1252",
     "not UTF-8, and no other charset given: read as windows-1252", 0},
    {"stray bytes repaired as utf-8: no note",
     S(DECL("UTF-8") "été \x92"), NULL, DECL("UTF-8") "été ’", "UTF-8", "", 0},
    {"unknown HTTP charset: flagged, no guess to explain",
     S(DECL("UTF-8") CP1251_NEWS), "x-klingon", DECL("UTF-8") "Íîâîñòè Áåëãðàä",
     "windows-1252", "", 1},
};
/* clang-format on */

static void
test_http_charset_over_wrong_utf8(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(note_cases); i++) {
        const struct ncase *c = &note_cases[i];
        buf out = {0};
        charset_result r;
        charset_to_utf8(c->in, c->n, c->hint, &out, &r);
        if (r.len != strlen(c->out) || memcmp(r.data, c->out, r.len) != 0)
            fail_msg("%s: got \"%.*s\"", c->what, (int)r.len, r.data);
        if (strcmp(r.encoding, c->encoding) != 0)
            fail_msg("%s: encoding %s, want %s", c->what, r.encoding,
                     c->encoding);
        if (strcmp(r.note, c->note) != 0)
            fail_msg("%s: note \"%s\"", c->what, r.note);
        if (r.unsupported != c->unsupported)
            fail_msg("%s: unsupported %d", c->what, r.unsupported);
        buf_free(&out);
    }
}

static void
check_case(const struct ccase *c, const char *prefix)
{
    buf out = {0};
    if (prefix) buf_adds(&out, prefix);
    charset_result r;
    charset_to_utf8(c->in, c->n, c->hint, &out, &r);
    if (r.len != strlen(c->out) || memcmp(r.data, c->out, r.len) != 0)
        fail_msg("%s: got \"%.*s\"", c->what, (int)r.len, r.data);
    if (strcmp(r.encoding, c->encoding) != 0)
        fail_msg("%s: encoding %s, want %s", c->what, r.encoding, c->encoding);
    if (c->zero_copy) {
        /* the input itself (after any BOM), nothing written */
        assert_true(r.data >= c->in && r.data <= c->in + c->n);
        assert_int_equal(out.len, prefix ? strlen(prefix) : 0);
    } else {
        assert_ptr_equal(r.data, out.p + (prefix ? strlen(prefix) : 0));
        assert_int_equal(r.data[r.len], '\0');
        if (prefix) assert_memory_equal(out.p, prefix, strlen(prefix));
    }
    if (r.repaired != c->repaired || r.dropped != c->dropped ||
        r.unsupported != c->unsupported)
        fail_msg("%s: repaired %zu dropped %zu unsupported %d", c->what,
                 r.repaired, r.dropped, r.unsupported);
    buf_free(&out);
}

static void
test_rules_table(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(rule_cases); i++) {
        check_case(&rule_cases[i], NULL);
        check_case(&rule_cases[i], "previous text|"); /* appends */
    }
}

/* A stray byte at every offset of a long declared-UTF-8 document: the
 * vector scan must hand each one to the repair loop. */
static void
test_stray_byte_every_offset(void **state)
{
    UNUSED(state);
    char doc[100];
    for (size_t pos = 0; pos < 60; pos++) {
        memset(doc, 'x', sizeof doc);
        memcpy(doc + 95, "été", 5); /* a UTF-8 document */
        doc[pos] = '\x92';
        buf out = {0};
        charset_result r;
        charset_to_utf8(doc, sizeof doc, NULL, &out, &r);
        assert_int_equal(r.len, sizeof doc + 2);
        assert_memory_equal(r.data + pos, "’", 3);
        assert_int_equal(r.repaired, 1);
        doc[pos] = '\x1B';
        buf_reset(&out);
        charset_to_utf8(doc, sizeof doc, NULL, &out, &r);
        assert_int_equal(r.len, sizeof doc - 1);
        assert_int_equal(r.dropped, 1);
        buf_free(&out);
    }
}

static char *
read_fixture(const char *name, size_t *n)
{
    const char *dir = getenv("VIGIE_FIXTURES");
    char path[512];
    snprintf(path, sizeof path, "%s/text/%s", dir ? dir : "tests/fixtures",
             name);
    buf b = {0};
    if (read_file(path, 1 << 20, &b) != 0) fail_msg("cannot read %s", path);
    *n = b.len;
    return buf_detach(&b);
}

/* The French press release, saved as windows-1252 by a CMS that says
 * ISO-8859-1 (or says nothing): it must come out exactly as the original. */
static void
test_seed_in_windows_1252(void **state)
{
    UNUSED(state);
    size_t nu, nw;
    char *utf8 = read_fixture("seed-fr.txt", &nu);
    char *w = read_fixture("seed-fr.cp1252.txt", &nw);
    const char *hints[] = {"iso-8859-1", NULL, "windows-1252", "utf-8"};
    for (size_t i = 0; i < ARRAY_LEN(hints); i++) {
        buf out = {0};
        charset_result r;
        charset_to_utf8(w, nw, hints[i], &out, &r);
        assert_int_equal(r.len, nu);
        assert_memory_equal(r.data, utf8, nu);
        assert_string_equal(r.encoding, "windows-1252");
        buf_free(&out);
    }
    /* and the UTF-8 original costs no copy */
    buf out = {0};
    charset_result r;
    charset_to_utf8(utf8, nu, "iso-8859-1", &out, &r);
    assert_ptr_equal(r.data, utf8);
    assert_null(out.p);
    free(utf8);
    free(w);
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static void
test_random_bytes_give_clean_utf8(void **state)
{
    UNUSED(state);
    static const char *const prefixes[] = {"",
                                           DECL("utf-8"),
                                           DECL("iso-8859-1"),
                                           DECL("shift_jis"),
                                           DECL("koi8-r"),
                                           DECL("iso-2022-jp"),
                                           DECL("x-unknown"),
                                           "\xFF\xFE",
                                           "\xFE\xFF",
                                           "\xEF\xBB\xBF",
                                           "\0\0\xFE\xFF",
                                           "<\0?\0"};
    static const char *const hints[] = {NULL, "utf-8", "gb2312", "bogus"};
    char doc[300];
    buf out = {0};
    for (int iter = 0; iter < 20000; iter++) {
        const char *pre = prefixes[rnd() % ARRAY_LEN(prefixes)];
        size_t pl = strlen(pre);
        if (pre[0] == '\0' && pre != prefixes[0]) pl = 4; /* UTF-32BE BOM */
        if (pre == prefixes[ARRAY_LEN(prefixes) - 1]) pl = 4;
        memcpy(doc, pre, pl);
        size_t n = pl + rnd() % (sizeof doc - pl);
        for (size_t i = pl; i < n; i++)
            doc[i] = (rnd() & 3) ? (char)(rnd() & 0xFF) : 'a';
        buf_reset(&out);
        charset_result r;
        charset_to_utf8(doc, n, hints[rnd() % ARRAY_LEN(hints)], &out, &r);
        assert_true(utf8_valid(r.data, r.len));
        for (size_t i = 0; i < r.len; i++) {
            unsigned char c = (unsigned char)r.data[i];
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                fail_msg("iteration %d: control 0x%02x left at %zu", iter, c,
                         i);
        }
        assert_null(memmem(r.data, r.len, "\xEF\xBF\xBE", 3));
        assert_null(memmem(r.data, r.len, "\xEF\xBF\xBF", 3));
    }
    buf_free(&out);
}

static void
test_content_type(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct {
        const char *ct;
        const char *want; /* NULL: -1 */
    } cases[] = {
        {"text/xml; charset=\"ISO-8859-1\"", "iso-8859-1"},
        {"text/xml;charset=UTF-8", "utf-8"},
        {"TEXT/XML ; CHARSET = 'Windows-1252' ", "windows-1252"},
        {"application/rss+xml;\tCharset=\t koi8-r ;format=flowed", "koi8-r"},
        {"text/html; charset=utf-8; format=flowed", "utf-8"},
        {"text/html; foo=\"a;charset=bad\"; charset=gb2312", "gb2312"},
        {"text/html; charset=\" utf-8 \"", "utf-8"},
        {"text/html; charset=\"ut\\f-8\"", "utf-8"},
        {"text/html", NULL},
        {"text/html;", NULL},
        {"text/html; charset=", NULL},
        {"text/html; charset=\"\"", NULL},
        {"text/html; xcharset=utf-8", NULL},
        {"text/html; charsets=utf-8", NULL},
        {"charset=utf-8", NULL},
        {"", NULL},
        {NULL, NULL},
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[32] = "untouched";
        int rc = charset_from_content_type(cases[i].ct, out, sizeof out);
        if (cases[i].want) {
            if (rc != 0) fail_msg("case %zu (%s): -1", i, cases[i].ct);
            assert_string_equal(out, cases[i].want);
        } else if (rc != -1) {
            fail_msg("case %zu (%s): got %s", i, cases[i].ct, out);
        }
    }
    char small[8];
    assert_int_equal(charset_from_content_type("text/xml; charset=iso-8859-15",
                                               small, sizeof small),
                     -1);
    assert_int_equal(charset_from_content_type("text/xml; charset=koi8-r",
                                               small, sizeof small),
                     0);
    assert_string_equal(small, "koi8-r");
}

static void
test_w1252_table(void **state)
{
    UNUSED(state);
    buf out = {0};
    charset_result r;
    charset_to_utf8(NULL, 0, "utf-8", &out, &r);
    assert_string_equal(r.data, "");
    assert_int_equal(r.len, 0);
    assert_int_equal(charset_w1252(0x80), 0x20AC);
    assert_int_equal(charset_w1252(0x92), 0x2019);
    assert_int_equal(charset_w1252(0x9F), 0x0178);
    assert_int_equal(charset_w1252(0x9D), 0x009D);
    assert_int_equal(charset_w1252(0xE9), 0x00E9);
    assert_int_equal(charset_w1252('A'), 'A');
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_table),
        cmocka_unit_test(test_http_charset_over_wrong_utf8),
        cmocka_unit_test(test_stray_byte_every_offset),
        cmocka_unit_test(test_seed_in_windows_1252),
        cmocka_unit_test(test_random_bytes_give_clean_utf8),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_w1252_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
