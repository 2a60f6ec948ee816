/* test_text.c — HTML to text, plain text, references, NFC, entity table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <utf8proc.h>

#include "entities.h" /* the whole table, to check every entry */
#include "text.h"
#include "utf8.h"

/* text.c's two run scanners (SSE2 and portable), exported for this test. */
size_t text_scan_run(int which, unsigned char *o, const unsigned char *p,
                     size_t n, int mode, bool prev_sp);

#define NBSP "\xC2\xA0"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static unsigned
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

typedef void (*text_fn)(buf *, const char *, size_t);

/* Runs fn on in, alone and after existing text, and compares. */
static void
expect(text_fn fn, const char *fname, const char *in, const char *want)
{
    buf b = {0};
    fn(&b, in, strlen(in));
    if (strcmp(b.p ? b.p : "", want) != 0)
        fail_msg("%s(\"%s\")\n   got \"%s\"\n  want \"%s\"", fname, in,
                 b.p ? b.p : "(null)", want);
    buf_reset(&b);
    buf_adds(&b, "[x] ");
    fn(&b, in, strlen(in));
    assert_memory_equal(b.p, "[x] ", 4);
    if (strcmp(b.p + 4, want) != 0)
        fail_msg("%s(\"%s\") appended: got \"%s\"", fname, in, b.p + 4);
    buf_free(&b);
}

struct tcase {
    const char *in, *out;
};

/* clang-format off */
static const struct tcase html_cases[] = {
    /* inline elements join, block elements separate */
    {"Bosnie-<b>Herzégovine</b>", "Bosnie-Herzégovine"},
    {"<p>Hello</p><p>World</p>", "Hello World"},
    {"<P CLASS=x>Hello</P >\n<Div>World</DIV>", "Hello World"},
    {"a<br>b", "a b"},
    {"a<br/>b", "a b"},
    {"a<BR />b", "a b"},
    {"l’<a href=\"/otan\">OTAN</a>", "l’OTAN"},
    {"x<unknown-tag>y</unknown-tag>z", "xyz"},
    {"x<o:p>y</o:p>z", "xyz"},
    {"x<img src=a.png alt='y'>z", "xz"},
    {"<ul><li>un</li><li>deux</li></ul>", "un deux"},
    {"<table><tr><td>1</td><td>2</td></tr></table>", "1 2"},
    {"<h1>Titre</h1>texte", "Titre texte"},
    {"<blockquote>cité</blockquote>après", "cité après"},
    {"<figure>x<figcaption>y</figcaption></figure>", "x y"},
    {"a<averyveryverylongtagname>b", "a<averyveryverylongtagname>b"},
    /* invisible content */
    {"<script>var a = '<p>x</p>';</script>texte", "texte"},
    {"<SCRIPT type=\"text/javascript\">if (a < b) {}</SCRIPT >ok", "ok"},
    {"a<style>p { color: red }</style>b", "ab"},
    {"<template><p>x</p></template>y", "y"},
    {"<noscript>Activez JavaScript</noscript>ok", "ok"},
    {"<iframe src=x>fallback</iframe>ok", "ok"},
    {"<svg><title>icône</title></svg>ok", "ok"},
    {"<script src=x.js/>visible", "visible"},
    /* unclosed: a word in the text, not the rest of it to drop */
    {"<p>début <script>alert(1)", "début alert(1)"},
    {"Use <script> tags & <div> wisely", "Use tags & wisely"},
    {"a <style>b</style> c <style> d", "a c d"},
    {"</script>ok", "ok"},
    {"a<!-- commentaire <p> -->b", "ab"},
    {"a<!-->b", "ab"},
    {"a<!--->b", "ab"},
    {"a<!-- jamais fermé", "a"},
    {"<!DOCTYPE html><html><body>x</body></html>", "x"},
    {"<?xml version=\"1.0\"?>texte", "texte"},
    {"a</>b", "ab"},
    {"a</ 3>b", "ab"},
    {"<![CDATA[a <b> & c]]>   fin", "a <b> & c fin"},
    {"<![CDATA[ouvert", "ouvert"},
    /* attributes */
    {"<a title=\"x>y\">lien</a>", "lien"},
    {"<a title='x>y' href=z>lien</a>", "lien"},
    {"<a data-x = \"1>2\" data-y='3>4'>lien</a>", "lien"},
    {"<a b\"c>lien</a>", "lien"},
    {"<a title=\"jamais fermé>lien", ""},
    {"texte<a", "texte"},
    /* '<' that does not open markup */
    {"a < b", "a < b"},
    {"a <3 b", "a <3 b"},
    {"1<2", "1<2"},
    {"x <= y", "x <= y"},
    {"<", "<"},
    {"«<»", "«<»"},
    /* named references */
    {"&amp;", "&"},
    {"&lt;p&gt;", "<p>"},
    {"&eacute;t&eacute;", "été"},
    {"&Eacute;", "É"},
    {"&laquo;&nbsp;oui&nbsp;&raquo;", "«" NBSP "oui" NBSP "»"},
    {"l&rsquo;OTAN &ndash; &hellip; &euro;", "l’OTAN – … €"},
    {"&CounterClockwiseContourIntegral;", "∳"},
    {"&nGt;", "≫⃒"},
    {"&fjlig;", "fj"},
    {"&AMP;", "&"},
    /* legacy names without ';' */
    {"&amp", "&"},
    {"&eacute ", "é"},
    {"&eacutet&eacute", "&eacutet" "é"},
    {"a &nbsp b", "a " NBSP " b"},
    {"&copy 2024", "© 2024"},
    {"a=1&copy=2", "a=1&copy=2"},
    {"&notit;", "&notit;"},
    {"&not;", "¬"},
    {"a&nbsp;&nbsp;b", "a" NBSP NBSP "b"},
    /* Unicode spaces: kept inside, never at either end; line separators
     * collapse like newlines */
    {"&nbsp&nbsp", ""},
    {"&#xA0;Breaking:&#xA0;&#xA0;news&#x3000;", "Breaking:" NBSP NBSP "news"},
    {NBSP " x " NBSP, "x"},
    {"a \u2003 ", "a"},
    {"&#x2028;a&#x2028;&#x2028;b", "a b"},
    {"a\u2029\u2028b", "a b"},
    {"a\xC2\x85" "b", "a b"},
    /* C1 controls read as windows-1252, as references and as text */
    {"don&#146;t &#147;q&#148; &#150; &#128;", "don’t “q” – €"},
    {"don\xC2\x92t \xC2\x93q\xC2\x94", "don’t “q”"},
    {"x&#129;y\xC2\x81" "z", "xyz"},
    {"\xC2\xAB" NBSP "oui" NBSP "\xC2\xBB", "«" NBSP "oui" NBSP "»"},
    /* not references */
    {"&unknown;", "&unknown;"},
    {"&;", "&;"},
    {"& b", "& b"},
    {"&", "&"},
    {"AT&T", "AT&T"},
    {"&#;", "&#;"},
    {"&#x;", "&#x;"},
    {"&#xZ;", "&#xZ;"},
    {"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
     "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
    /* numeric references */
    {"&#233;&#xE9;&#XE9;&#x00e9;", "éééé"},
    {"&#233", "é"},
    {"&#x1F600;", "😀"},
    {"&#0;", "\xEF\xBF\xBD"},
    {"&#xD800;", "\xEF\xBF\xBD"},
    {"&#xDFFF;", "\xEF\xBF\xBD"},
    {"&#x110000;", "\xEF\xBF\xBD"},
    {"&#99999999999999999999;", "\xEF\xBF\xBD"},
    {"&#x10FFFF;", "\xF4\x8F\xBF\xBF"},
    {"&#128;", "€"},
    {"&#146;", "’"},
    {"&#150;&#151;", "–—"},
    {"&#x9C;", "œ"},
    {"&#x81;", ""}, /* a hole of windows-1252: an invisible control, dropped */
    {"&#1;a&#27;b&#127;", "ab"},
    {"a&#10;&#10;b&#9;c&#32;&#32;d", "a b c d"},
    {"a&Tab;b&NewLine;c", "a b c"},
    {"a&#160;b", "a" NBSP "b"},
    /* decoding happens once */
    {"&amp;eacute;", "&eacute;"},
    {"&amp;amp;", "&amp;"},
    {"&amp;#233;", "&#233;"},
    {"&lt;b&gt;gras&lt;/b&gt;", "<b>gras</b>"},
    /* whitespace */
    {"  a \t\n b  ", "a b"},
    {"a\r\nb", "a b"},
    {"a\fb", "a b"},
    {"a\vb", "ab"},
    {"a\x01" "b\x1B" "c", "abc"},
    {"<p>  </p>", ""},
    {" <b> x </b> ", "x"},
    {"a <b> b</b>", "a b"},
    {"a<p> </p>b", "a b"},
    {"mot <i>mot</i> <i>mot</i>", "mot mot mot"},
    {"a" NBSP ":" NBSP "b", "a" NBSP ":" NBSP "b"},
    {NBSP "a" NBSP, "a"}, /* trimmed like ASCII spaces */
    {"a" NBSP "<p>b", "a" NBSP " b"},
    {"a\xE2\x80\xAF" "b\xE3\x80\x80" "c", "a\xE2\x80\xAF" "b\xE3\x80\x80" "c"},
    /* NFC */
    {"Vuc\xCC\x8C" "ic\xCC\x81", "Vučić"},
    {"Vuc&#x30c;ic&#x301;", "Vučić"},
    {"e<b>\xCC\x81</b>", "é"},
    {"&#x212B;", "Å"},
    {"\xE1\x84\x80\xE1\x85\xA1", "가"},
    {"l’OTAN « réaffirme »", "l’OTAN « réaffirme »"},
    /* invalid UTF-8 in the input: replaced, no crash */
    {"a\xF5" "b", "a\xEF\xBF\xBD" "b"},
    {"a\xE2\x82", "a\xEF\xBF\xBD"},
};
/* clang-format on */

static void
test_html_table(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(html_cases); i++)
        expect(text_from_html, "text_from_html", html_cases[i].in,
               html_cases[i].out);
}

/* Every element the tables know: block ones separate words, inline ones
 * (and unknown ones) do not. */
static void
test_block_and_inline_elements(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const char *const blocks[] = {
        "p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2",
        "h3", "h4", "h5", "h6", "table", "caption", "thead", "tbody",
        "tfoot", "tr", "td", "th", "col", "colgroup", "blockquote", "pre",
        "hr", "section", "article", "header", "footer", "nav", "aside",
        "figure", "figcaption", "address", "main", "details", "summary",
        "form", "fieldset", "legend", "option", "optgroup", "select",
        "textarea", "button", "title", "html", "head", "body", "center",
        "dialog", "menu", "dir", "hgroup", "search", "listing", "xmp",
        "plaintext", "frame", "frameset", "video", "audio", "canvas"};
    static const char *const inlines[] = {
        "b", "i", "a", "span", "em", "strong", "code", "sup", "sub",
        "small", "u", "s", "abbr", "cite", "q", "mark", "font", "big",
        "tt", "kbd", "var", "dfn", "time", "ins", "del", "strike", "bdi",
        "bdo", "label", "wbr", "nobr", "data", "img", "acronym", "applet",
        "area", "base", "basefont", "bgsound", "blink", "datalist",
        "embed", "image", "input", "isindex", "keygen", "link", "map",
        "marquee", "math", "menuitem", "meta", "meter", "multicol",
        "nextid", "object", "output", "param", "picture", "progress",
        "rb", "rp", "rt", "rtc", "ruby", "samp", "slot", "source",
        "spacer", "track", "mi", "mn", "mo", "ms", "mtext", "mrow",
        "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mstyle",
        "merror", "mpadded", "mphantom", "mfenced", "menclose", "munder",
        "mover", "mtable", "mtr", "mtd", "mspace", "maction",
        "annotation", "malignmark", "maligngroup", "mlabeledtr",
        "mmultiscripts", "mprescripts", "munderover", "semantics",
        /* not in any list, but elements all the same: custom elements
         * and namespaced ones */
        "my-widget", "x-y", "annotation-xml", "o:p", "w:sdt",
        "st1:City", "v:shape"};
    char in[128], up[128];
    for (size_t i = 0; i < ARRAY_LEN(blocks); i++) {
        snprintf(in, sizeof in, "x<%s>y</%s>z", blocks[i], blocks[i]);
        for (size_t k = 0; in[k]; k++)
            up[k] = (char)((in[k] >= 'a' && in[k] <= 'z') ? in[k] - 32 : in[k]),
            up[k + 1] = '\0';
        expect(text_from_html, "text_from_html", in, "x y z");
        expect(text_from_html, "text_from_html", up, "X Y Z");
    }
    for (size_t i = 0; i < ARRAY_LEN(inlines); i++) {
        snprintf(in, sizeof in, "x<%s class=\"c\">y</%s>z", inlines[i],
                 inlines[i]);
        expect(text_from_html, "text_from_html", in, "xyz");
        for (size_t k = 0; in[k]; k++)
            up[k] = (char)((in[k] >= 'a' && in[k] <= 'z') ? in[k] - 32 : in[k]),
            up[k + 1] = '\0';
        if (!strchr(inlines[i], '-')) /* custom elements are lower case */
            expect(text_from_html, "text_from_html", up, "XYZ");
    }
}

/* A '<' and a name no element has is text the author wrote: feeds escape
 * it in titles ("&lt;int&gt;") and the XML parser hands it to us
 * unescaped. Real tags around it are still markup. */
/* clang-format off */
static const struct tcase not_tags_cases[] = {
    {"std::vector<int> vs std::list<int>", "std::vector<int> vs std::list<int>"},
    {"Mail from Boris Ruge <boris.ruge@nato.int>",
     "Mail from Boris Ruge <boris.ruge@nato.int>"},
    {"Vučić: <<Kosovo je Srbija>>", "Vučić: <<Kosovo je Srbija>>"},
    {"Rust: impl Display for Vec<Kosovo>", "Rust: impl Display for Vec<Kosovo>"},
    {"Map<K, V> and List<T>", "Map<K, V> and List<T>"},
    {"</int> closes nothing", "</int> closes nothing"},
    {"x <y", "x <y"},
    {"<Kosovo-Metohija>", "<Kosovo-Metohija>"},
    {"<jean-pierre@example.fr>", "<jean-pierre@example.fr>"},
    {"see <http://example.org/>", "see <http://example.org/>"},
    {"<urn:isbn:2-07-036822-X>", "<urn:isbn:2-07-036822-X>"},
    {"<note:>", "<note:>"},
    {"<p>Vec<u8> &lt;3</p>", "Vec<u8> <3"},
    {"a <foo>b <b>gras</b></foo>", "a <foo>b gras</foo>"},
    {"<script>x</script>List<T><style>y</style>", "List<T>"},
    /* and what stays markup */
    {"Bosnie-<b>Herzégovine</b>", "Bosnie-Herzégovine"},
    {"<P>un<P>deux", "un deux"},
    {"a<br/>b", "a b"},
    {"Boris<o:p></o:p> Ruge", "Boris Ruge"},
    {"x<my-widget data-a=\"1\">y</my-widget>z", "xyz"},
    {"<st1:place w:st=\"on\">Sarajevo</st1:place>", "Sarajevo"},
    {"<FONT face=Arial>x</FONT><CENTER>y</CENTER>", "x y"},
};
/* clang-format on */

static void
test_unknown_names_are_text(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(not_tags_cases); i++)
        expect(text_from_html, "text_from_html", not_tags_cases[i].in,
               not_tags_cases[i].out);
}

/* Each special byte at every offset of a long run, so that the 16-byte
 * steps meet it in every lane and across block boundaries. */
static void
test_every_alignment(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct {
        const char *mid, *out;
    } specials[] = {
        {"  ", " "},       {" \n\t ", " "},   {"<b>", ""},
        {"<br>", " "},     {"&amp;", "&"},    {"&#x301;", "\xCC\x81"},
        {"’", "’"},        {"\x1B", ""},      {"<!--x-->", ""},
        {"\xC3\xA9", "é"}, {"<3", "<3"},      {"&", "&"},
    };
    /* clang-format on */
    /* clang-format on */
    char in[200], want[200];
    for (size_t s = 0; s < ARRAY_LEN(specials); s++) {
        for (size_t pre = 0; pre < 40; pre++) {
            size_t post = 45 - pre % 17;
            memset(in, 'a', pre);
            size_t ml = strlen(specials[s].mid);
            memcpy(in + pre, specials[s].mid, ml);
            memset(in + pre + ml, 'b', post);
            in[pre + ml + post] = '\0';
            memset(want, 'a', pre);
            size_t ol = strlen(specials[s].out);
            memcpy(want + pre, specials[s].out, ol);
            memset(want + pre + ol, 'b', post);
            want[pre + ol + post] = '\0';
            if (strcmp(specials[s].mid, "&#x301;") == 0 && pre > 0) {
                /* the combining acute composes with the 'a' before it */
                memcpy(want + pre - 1, "á", 2);
                memset(want + pre + 1, 'b', post);
                want[pre + 1 + post] = '\0';
            }
            if (pre == 0 && specials[s].out[0] == ' ')
                memmove(want, want + 1, strlen(want)); /* trimmed */
            expect(text_from_html, "text_from_html", in, want);
        }
    }
}

/* clang-format off */
static const struct tcase plain_cases[] = {
    {"  a  b  ", "a b"},
    {"a\r\n\r\n\tb", "a b"},
    {"<b>x</b> &amp; &eacute;", "<b>x</b> &amp; &eacute;"},
    {"Vuc\xCC\x8C" "ic\xCC\x81", "Vučić"},
    {"a" NBSP "b", "a" NBSP "b"},
    {"a\x1B" "b\0c", "ab"}, /* strlen stops at the NUL */
    {"", ""},
    {"   ", ""},
};
/* clang-format on */

static void
test_plain_table(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(plain_cases); i++)
        expect(text_from_plain, "text_from_plain", plain_cases[i].in,
               plain_cases[i].out);
    /* empty input, even without a pointer, gives a terminated string */
    buf e = {0};
    text_from_html(&e, NULL, 0);
    text_from_plain(&e, NULL, 0);
    text_decode_entities(&e, NULL, 0);
    text_nfc(&e, NULL, 0);
    assert_non_null(e.p);
    assert_string_equal(e.p, "");
    buf_free(&e);
    /* an embedded NUL is a control: dropped */
    buf b = {0};
    text_from_plain(&b, "a\0b", 3);
    assert_string_equal(b.p, "ab");
    assert_int_equal(b.len, 2);
    buf_free(&b);
}

/* clang-format off */
static const struct tcase entity_cases[] = {
    {"<p class=\"a\">&eacute;t&eacute;  x</p>", "<p class=\"a\">été  x</p>"},
    {"  a\n\tb  ", "  a\n\tb  "},
    {"&#10;&#9;&#13;", "\n\t\r"},
    {"&lt;script&gt;", "<script>"},
    {"&amp;eacute;", "&eacute;"},
    {"<a href=\"?a=1&copy=2&amp;b=3\">", "<a href=\"?a=1&copy=2&b=3\">"},
    {"&#128;&#x0;", "€\xEF\xBF\xBD"},
    {"Vuc&#x30c;ic&#x301;", "Vučić"},
    {"&unknown; & &#;", "&unknown; & &#;"},
    {"a\x1B" "b", "ab"},
};
/* clang-format on */

static void
test_decode_entities_table(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(entity_cases); i++)
        expect(text_decode_entities, "text_decode_entities", entity_cases[i].in,
               entity_cases[i].out);
}

/* NFC of s by utf8proc, as a reference. */
static char *
ref_nfc(const char *s, size_t n)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    assert_true(r >= 0);
    return (char *)dst;
}

static void
test_nfc(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const struct tcase cases[] = {
        {"Vuc\xCC\x8C" "ic\xCC\x81", "Vučić"},
        {"\xE2\x84\xAB", "Å"},          /* ANGSTROM SIGN, a singleton */
        {"\xE1\x84\x80\xE1\x85\xA1", "가"}, /* Hangul L + V */
        {"\xEA\xB0\x80\xE1\x86\xA8", "각"}, /* LV + T */
        {"a\xCC\x81\xCC\xA3", "ạ́"},      /* reordered, then composed */
        {"", ""},
        {"ascii only", "ascii only"},
        {"déjà vu, l’OTAN « » — €", "déjà vu, l’OTAN « » — €"},
        {"Привет, 日本語, 😀", "Привет, 日本語, 😀"},
    };
    /* clang-format on */
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        expect(text_nfc, "text_nfc", cases[i].in, cases[i].out);

    /* the quick check: where utf8proc would start, or n */
    const char *s = "l’OTAN « réaffirme » Vuc\xCC\x8C";
    assert_int_equal(text_nfc_quick(s, strlen(s)), strlen(s) - 2);
    assert_int_equal(text_nfc_quick(s, strlen(s) - 2), strlen(s) - 2);
    assert_int_equal(text_nfc_quick("\xE2\x84\xAB", 3), 0);
    assert_int_equal(text_nfc_quick("\xE1\x85\xA1", 3), 0);     /* Hangul V */
    assert_int_equal(text_nfc_quick("\xF0\xAF\xA0\x80", 4), 0); /* U+2F800 */
    assert_int_equal(text_nfc_quick("\xF0\x9F\x98\x80", 4), 4); /* emoji */
}

/* The generated stability table against utf8proc's own Unicode data (a
 * newer version than the generator's): every code point it calls stable
 * must have combining class 0, be its own NFC, and not be the last part of
 * a canonical decomposition (what composes with a preceding character). */
static void
test_nfc_table_against_utf8proc(void **state)
{
    UNUSED(state);
    static uint8_t second[0x110000 / 8];
    memset(second, 0, sizeof second);
    for (int32_t cp = 0xA0; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        utf8proc_int32_t d[8];
        int last;
        utf8proc_ssize_t k =
            utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE, &last);
        if (k >= 2) second[d[k - 1] >> 3] |= (uint8_t)(1u << (d[k - 1] & 7));
    }
    size_t stable = 0;
    for (int32_t cp = 1; cp < 0x110000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        char u[4];
        size_t n = utf8_encode(cp, u);
        if (text_nfc_quick(u, n) != n) continue;
        stable++;
        const utf8proc_property_t *p = utf8proc_get_property(cp);
        if (p->combining_class != 0)
            fail_msg("U+%04X has ccc %d", cp, p->combining_class);
        if ((second[cp >> 3] >> (cp & 7)) & 1) {
            /* a second half, unless its composite is excluded from NFC;
             * check by composing it with what may precede it: nothing
             * may change */
            char pair[8];
            memcpy(pair, "a", 1);
            memcpy(pair + 1, u, n);
            char *r = ref_nfc(pair, n + 1);
            if (strlen(r) != n + 1 || memcmp(r, pair, n + 1) != 0)
                fail_msg("U+%04X composes with 'a'", cp);
            free(r);
        }
        char *r = ref_nfc(u, n);
        if (strlen(r) != n || memcmp(r, u, n) != 0)
            fail_msg("U+%04X changes under NFC", cp);
        free(r);
    }
    /* the table is not "nothing is stable": all but marks, singletons,
     * jamo and (conservatively) what Unicode 14 had not assigned */
    assert_true(stable > 270000);
}

/* Composition seconds are caught even with their real first half. */
static void
test_nfc_pairs_exhaustive(void **state)
{
    UNUSED(state);
    for (int32_t cp = 0xC0; cp < 0x30000; cp++) {
        utf8proc_int32_t d[8];
        int last;
        utf8proc_ssize_t k =
            utf8proc_decompose_char(cp, d, 8, UTF8PROC_DECOMPOSE, &last);
        if (k < 2) continue;
        char s[32];
        size_t n = 0;
        for (utf8proc_ssize_t i = 0; i < k; i++)
            n += utf8_encode(d[i], s + n);
        buf b = {0};
        text_nfc(&b, s, n);
        char *want = ref_nfc(s, n);
        if (strcmp(b.p, want) != 0)
            fail_msg("NFC of the decomposition of U+%04X", cp);
        free(want);
        buf_free(&b);
    }
}

/* NFC is computed segment by segment (text.c, nfc_tail): random texts of
 * stable runs, decomposed letters, lone marks, jamo and singletons, with
 * short and long gaps between them, against utf8proc on the whole. */
static void
test_nfc_segments_match_whole(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const char *const pieces[] = {
        "a", "e", " ", "é", "’", "Vuc", "\xCC\x8C", "\xCC\x81", "\xCC\xA3",
        "\xE2\x84\xAB", "\xE1\x84\x80", "\xE1\x85\xA1", "\xEA\xB0\x80",
        "\xE1\x86\xA8", "\xE0\xA4\x95\xE0\xA4\xBC", "\xE0\xA5\x98",
        "la Bosnie-Herzégovine et l’OTAN, une longue phrase sans rien "
        "d’instable dedans pour que l’écart dépasse la limite.",
        "\xC3\xA9\xCC\x81"};
    /* clang-format on */
    buf in = {0}, got = {0};
    for (int iter = 0; iter < 20000; iter++) {
        buf_reset(&in);
        for (unsigned k = rnd() % 24; k > 0; k--)
            buf_adds(&in, pieces[rnd() % ARRAY_LEN(pieces)]);
        buf_reset(&got);
        buf_adds(&got, "x"); /* appended after what is there */
        text_nfc(&got, in.p ? in.p : "", in.len);
        char *want = ref_nfc(in.p ? in.p : "", in.len);
        if (strcmp(got.p + 1, want) != 0)
            fail_msg("iteration %d: NFC of '%s' is '%s', want '%s'", iter, in.p,
                     got.p + 1, want);
        free(want);
    }
    buf_free(&in);
    buf_free(&got);
}

static void
test_entity_lookup(void **state)
{
    UNUSED(state);
    assert_string_equal(html_entity_lookup("amp", 3), "&");
    assert_string_equal(html_entity_lookup("nbsp", 4), NBSP);
    assert_string_equal(html_entity_lookup("eacute", 6), "é");
    assert_string_equal(html_entity_lookup("rsquo", 5), "’");
    assert_string_equal(html_entity_lookup("AMP", 3), "&");
    assert_string_equal(html_entity_lookup("eacutexyz", 6), "é");
    assert_null(html_entity_lookup("Eacutex", 7));
    assert_null(html_entity_lookup("amp;", 4));
    assert_null(html_entity_lookup("", 0));
    assert_null(html_entity_lookup("zz", 2));
    assert_null(html_entity_lookup("CounterClockwiseContourIntegralX", 32));
    assert_int_equal(HTML_ENTITY_COUNT, 2125);
    assert_int_equal(ARRAY_LEN(html_entities), 2125);
}

/* Every HTML5 name, with ';' and (legacy ones) without. */
static void
test_every_entity(void **state)
{
    UNUSED(state);
    size_t legacy = 0;
    buf b = {0}, want = {0};
    for (size_t i = 0; i < ARRAY_LEN(html_entities); i++) {
        const struct html_entity *e = &html_entities[i];
        const char *name = html_entity_names + e->name;
        assert_int_equal(strlen(name), e->len);
        assert_ptr_equal(html_entity_find(name, e->len), e);
        assert_int_equal(ENT_VALUE_LEN(e), strlen(e->value));
        /* what text_from_html should give: the value, NFC, whitespace
         * collapsed (&Tab; &NewLine; &ThickSpace; ...) */
        char wrapped[16];
        snprintf(wrapped, sizeof wrapped, "<%s>", e->value);
        buf_reset(&want);
        text_from_plain(&want, wrapped, strlen(wrapped));
        char in[64];
        snprintf(in, sizeof in, "<&%s;>", name);
        buf_reset(&b);
        text_from_html(&b, in, strlen(in));
        if (strcmp(b.p, want.p) != 0)
            fail_msg("&%s; gives \"%s\", want \"%s\"", name, b.p, want.p);
        snprintf(in, sizeof in, "<&%s>", name);
        buf_reset(&b);
        text_from_html(&b, in, strlen(in));
        if (e->flags & ENT_LEGACY) {
            legacy++;
            if (strcmp(b.p, want.p) != 0) fail_msg("&%s without ';'", name);
        } else if (strcmp(b.p, in) != 0) {
            fail_msg("&%s without ';' decoded to \"%s\"", name, b.p);
        }
    }
    assert_int_equal(legacy, 106);
    buf_free(&b);
    buf_free(&want);
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

/* ASCII whitespace runs to one space, trimmed: the reference. */
static void
ref_collapse(buf *out, const char *s, size_t n)
{
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            space = true;
            continue;
        }
        if (space && out->len) buf_addc(out, ' ');
        space = false;
        buf_addc(out, c);
    }
    if (!out->p) buf_adds(out, "");
}

/* The French press release must come out exactly as written. */
static void
test_seed_text(void **state)
{
    UNUSED(state);
    size_t n;
    char *seed = read_fixture("seed-fr.txt", &n);
    buf want = {0}, got = {0}, html = {0};
    ref_collapse(&want, seed, n);
    assert_non_null(strstr(want.p, "l’OTAN"));
    assert_non_null(strstr(want.p, "déclaré" NBSP ":" NBSP "«" NBSP "L’OTAN"));

    text_from_plain(&got, seed, n);
    assert_string_equal(got.p, want.p);

    /* paragraphs (blank-line separated) wrapped in <p> */
    const char *p = seed, *end = seed + n;
    while (p < end) {
        const char *q = strstr(p, "\n\n");
        if (!q) q = end;
        buf_adds(&html, "<p>");
        buf_add(&html, p, (size_t)(q - p));
        buf_adds(&html, "</p>");
        p = q < end ? q + 2 : end;
    }
    buf_reset(&got);
    text_from_html(&got, html.p, html.len);
    assert_string_equal(got.p, want.p);

    /* and as a double-escaped RSS description with entities */
    buf esc = {0};
    for (size_t i = 0; i < html.len; i++) {
        if (html.p[i] == '<')
            buf_adds(&esc, "&lt;");
        else if (html.p[i] == '>')
            buf_adds(&esc, "&gt;");
        else if (memcmp(html.p + i, "é", 2) == 0)
            buf_adds(&esc, "&eacute;"), i++;
        else if (memcmp(html.p + i, NBSP, 2) == 0)
            buf_adds(&esc, "&nbsp;"), i++;
        else if (memcmp(html.p + i, "’", 3) == 0)
            buf_adds(&esc, "&#8217;"), i += 2;
        else
            buf_addc(&esc, html.p[i]);
    }
    buf unesc = {0};
    text_decode_entities(&unesc, esc.p, esc.len);
    assert_string_equal(unesc.p, html.p);
    buf_reset(&got);
    text_from_html(&got, unesc.p, unesc.len);
    assert_string_equal(got.p, want.p);

    buf_reset(&got);
    text_nfc(&got, seed, n);
    assert_memory_equal(got.p, seed, n);
    assert_int_equal(text_nfc_quick(seed, n), n);

    free(seed);
    buf_free(&want);
    buf_free(&got);
    buf_free(&html);
    buf_free(&esc);
    buf_free(&unesc);
}

static void
test_scanners_agree(void **state)
{
    UNUSED(state);
    static const unsigned char pool[] = {
        'a',  ' ',  ' ',  '<',  '&',  '\t', '\n', '\f', '\r', '\v',
        0x01, 0xC3, 0xA9, 0xCB, 0xCC, 0xE2, 0xFF, 'z',  '>'};
    static const int modes[] = {7, 4, 2};
    unsigned char in[80], o1[96], o2[96];
    for (int iter = 0; iter < 200000; iter++) {
        size_t n = rnd() % sizeof in;
        for (size_t i = 0; i < n; i++)
            in[i] = (rnd() % 3) ? 'a' + (unsigned char)(rnd() % 3)
                                : pool[rnd() % sizeof pool];
        int mode = modes[rnd() % 3];
        bool prev = rnd() & 1;
        size_t a = text_scan_run(0, o1, in, n, mode, prev);
        size_t b = text_scan_run(1, o2, in, n, mode, prev);
        if (a != b)
            fail_msg("iteration %d mode %d: scalar %zu, vector %zu", iter, mode,
                     a, b);
        assert_memory_equal(o1, in, a);
        assert_memory_equal(o2, in, b);
    }
}

/* Random HTML-like input: never a crash, always valid UTF-8, no leading,
 * trailing or double space, NFC. */
static void
test_random_markup(void **state)
{
    UNUSED(state);
    /* clang-format off */
    static const char *const tok[] = {
        "<p>", "</p>", "<b>", "</b>", "<br/>", "&amp;", "&eacute", "&#x30C;",
        "&#", "&", ";", " ", "  ", "\n", "\t", "é", "’", "e\xCC\x81", "<!--",
        "-->", "<script>", "</script>", "<a href='x>y'>", "<", ">", "\"",
        "'", "=", "x", "mot", "<![CDATA[", "]]>", "&nbsp;", NBSP, "\x1B",
        "<?", "</", "&#1234567;", "Vuc\xCC\x8C", "\xE1\x84\x80", "\xE1\x85\xA1"};
    buf in = {0}, out = {0};
    for (int iter = 0; iter < 20000; iter++) {
        buf_reset(&in);
        size_t k = rnd() % 40;
        for (size_t i = 0; i < k; i++) buf_adds(&in, tok[rnd() % ARRAY_LEN(tok)]);
        text_fn fns[] = {text_from_html, text_from_plain, text_decode_entities};
        int f = (int)(rnd() % 3);
        buf_reset(&out);
        fns[f](&out, in.p ? in.p : "", in.len);
        assert_true(utf8_valid(out.p, out.len));
        assert_int_equal(strlen(out.p), out.len);
        if (f < 2 && out.len) {
            assert_true(out.p[0] != ' ' && out.p[out.len - 1] != ' ');
            assert_null(strstr(out.p, "  "));
            assert_null(strpbrk(out.p, "\t\n\r\f"));
        }
        char *nfc = ref_nfc(out.p, out.len);
        assert_string_equal(nfc, out.p);
        free(nfc);
    }
    buf_free(&in);
    buf_free(&out);
}

static void
test_random_bytes(void **state)
{
    UNUSED(state);
    unsigned char s[256];
    buf out = {0};
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd() % sizeof s;
        for (size_t i = 0; i < n; i++) s[i] = (unsigned char)rnd();
        buf_reset(&out);
        text_from_html(&out, (const char *)s, n);
        text_from_plain(&out, (const char *)s, n);
        text_decode_entities(&out, (const char *)s, n);
        text_nfc(&out, (const char *)s, n);
        assert_int_equal(out.p[out.len], '\0');
    }
    buf_free(&out);
}

/* Thousands of unclosed <script> (and <style>) in one field: each keeps
 * the text after it, and a closed one later still goes with its content
 * (the search for an end tag that is not there is made once per name). */
static void
test_many_unclosed_raw_elements(void **state)
{
    UNUSED(state);
    buf in = {0}, out = {0}, want = {0};
    for (int i = 0; i < 20000; i++) {
        buf_adds(&in, i % 2 ? "<style>y" : "<script>x");
        buf_adds(&want, i % 2 ? "y" : "x");
    }
    buf_adds(&in, " <iframe>gone</iframe>end");
    buf_adds(&want, " end");
    text_from_html(&out, in.p, in.len);
    assert_string_equal(out.p, want.p);
    buf_free(&in);
    buf_free(&out);
    buf_free(&want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_table),
        cmocka_unit_test(test_block_and_inline_elements),
        cmocka_unit_test(test_unknown_names_are_text),
        cmocka_unit_test(test_every_alignment),
        cmocka_unit_test(test_plain_table),
        cmocka_unit_test(test_decode_entities_table),
        cmocka_unit_test(test_nfc),
        cmocka_unit_test(test_nfc_table_against_utf8proc),
        cmocka_unit_test(test_nfc_pairs_exhaustive),
        cmocka_unit_test(test_nfc_segments_match_whole),
        cmocka_unit_test(test_entity_lookup),
        cmocka_unit_test(test_every_entity),
        cmocka_unit_test(test_seed_text),
        cmocka_unit_test(test_scanners_agree),
        cmocka_unit_test(test_random_markup),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_many_unclosed_raw_elements),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
