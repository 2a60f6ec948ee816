/* bench_text.c — micro-benchmark for text_from_html and charset_to_utf8
 * (not run by `make test`; instructions per byte come from callgrind).
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Idaemon tests/bench_text.c \
 *       build/libvigie.a -lutf8proc -o build/bench_text
 *   valgrind --tool=callgrind --toggle-collect=text_from_html \
 *       build/bench_text html tests/fixtures/text/seed-fr.txt
 *   valgrind --tool=callgrind --toggle-collect=charset_to_utf8 \
 *       build/bench_text charset tests/fixtures/text/seed-fr.txt
 *
 * The corpus is about 1 MB built from the French press release: each
 * paragraph becomes an RSS-description-like HTML field (<p>, <b>, <a href>,
 * <br/>, entities as a CMS writes them), fed one field per call as the
 * parser does. Prints the bytes processed; divide callgrind's Ir by it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "text.h"

#define TARGET (1u << 20)

static void
add_field(buf *corpus, buf *offsets, const char *para, size_t n, unsigned k)
{
    size_t start = corpus->len;
    buf_adds(corpus, "<p>");
    size_t words = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)para[i];
        if (c == ' ') {
            words++;
            if ((words + k) % 23 == 0)
                buf_adds(corpus, " <b>");
            else if ((words + k) % 23 == 2)
                buf_adds(corpus, "</b> ");
            else if ((words + k) % 41 == 5)
                buf_adds(corpus, " <a href=\"https://www.nato.int/cps/fr/"
                                 "natohq/news_228301.htm?selectedLocale=fr\">");
            else if ((words + k) % 41 == 8)
                buf_adds(corpus, "</a> ");
            else if ((words + k) % 97 == 50)
                buf_adds(corpus, "<br />\n");
            else
                buf_addc(corpus, ' ');
        } else if (k % 3 == 0 && memcmp(para + i, "\xC3\xA9", 2) == 0) {
            buf_adds(corpus, "&eacute;"); /* a CMS that escapes accents */
            i++;
        } else if (k % 3 == 0 && memcmp(para + i, "\xE2\x80\x99", 3) == 0) {
            buf_adds(corpus, "&rsquo;");
            i += 2;
        } else if (memcmp(para + i, "\xC2\xA0", 2) == 0 && k % 2) {
            buf_adds(corpus, "&nbsp;");
            i++;
        } else {
            buf_addc(corpus, (char)c);
        }
    }
    buf_adds(corpus, "</p>\n");
    size_t off[2] = {start, corpus->len};
    buf_add(offsets, off, sizeof off);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_text html|plain|charset SEED\n");
        return 2;
    }
    buf seed = {0};
    if (read_file(argv[2], 1 << 20, &seed) != 0) {
        perror(argv[2]);
        return 1;
    }
    buf corpus = {0}, offsets = {0};
    for (unsigned k = 0; corpus.len < TARGET; k++) {
        const char *p = seed.p, *end = seed.p + seed.len;
        while (p < end) {
            const char *q = strstr(p, "\n\n");
            if (!q) q = end;
            add_field(&corpus, &offsets, p, (size_t)(q - p), k++);
            p = q < end ? q + 2 : end;
        }
    }
    size_t nfields = offsets.len / (2 * sizeof(size_t));
    const size_t *off = (const size_t *)(const void *)offsets.p;
    buf out = {0};
    size_t total = 0, produced = 0;
    if (strcmp(argv[1], "charset") == 0) {
        /* a clean UTF-8 feed body: the case that must cost one pass */
        charset_result r;
        charset_to_utf8(seed.p, seed.len, NULL, &out, &r); /* warm up */
        for (int i = 0; i < 4; i++) {
            charset_to_utf8(corpus.p, corpus.len, "utf-8", &out, &r);
            total += corpus.len;
            produced += r.len;
        }
    } else {
        void (*fn)(buf *, const char *, size_t) =
            strcmp(argv[1], "plain") == 0 ? text_from_plain : text_from_html;
        for (size_t i = 0; i < nfields; i++) {
            buf_reset(&out);
            fn(&out, corpus.p + off[2 * i], off[2 * i + 1] - off[2 * i]);
            total += off[2 * i + 1] - off[2 * i];
            produced += out.len;
        }
    }
    size_t tags = 0, refs = 0;
    for (size_t i = 0; i < corpus.len; i++) {
        tags += corpus.p[i] == '<';
        refs += corpus.p[i] == '&';
    }
    printf("%s: %zu fields, %zu bytes in, %zu bytes out (corpus: %zu tags, "
           "%zu references)\n",
           argv[1], nfields, total, produced, tags, refs);
    buf_free(&seed);
    buf_free(&corpus);
    buf_free(&offsets);
    buf_free(&out);
    return 0;
}
