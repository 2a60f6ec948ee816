/* fuzz_match.c — libFuzzer target for fold_text and the keyword matcher.
 *
 * Input: up to 8 keywords, one per line, then a NUL byte, then the text
 * (no NUL: the whole input is the text, with fixed keywords). Checks that
 * nothing crashes or loops, that the fold map is monotone and in bounds,
 * and that hits are in bounds and ordered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fold.h"
#include "match.h"
#include "util.h"

typedef struct check {
    size_t len, last;
} check;

static int
on_hit(void *ud, const match_hit *h)
{
    check *c = ud;
    if (!(h->start < h->stop && h->stop <= c->len && h->start >= c->last))
        abort();
    c->last = h->start;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t len = size;
    char *kwbuf = NULL;
    const char *kw[8];
    size_t nk = 0;
    const uint8_t *nul = memchr(data, 0, size);
    if (nul) {
        size_t kl = (size_t)(nul - data);
        kwbuf = xstrndup((const char *)data, kl);
        for (char *p = kwbuf, *line = kwbuf; nk < 8; p++) {
            if (*p == '\n' || *p == '\0') {
                bool end = *p == '\0';
                *p = '\0';
                kw[nk++] = line;
                line = p + 1;
                if (end) break;
            }
        }
        text = (const char *)nul + 1;
        len = size - kl - 1;
    } else {
        static const char *fixed[] = {"Vučić", "Boris Ruge", "serb*", "a a",
                                      "OTAN",  "Đurić",      "北京",  "½"};
        memcpy(kw, fixed, sizeof fixed);
        nk = 8;
    }

    buf f = {0};
    fold_map map = {0};
    fold_text(&f, text, len, &map);
    if (map.len != f.len || map.src[map.len] != len) abort();
    for (size_t i = 0; i < map.len; i++)
        if (map.src[i] >= len || (i && map.src[i] < map.src[i - 1])) abort();
    fold_map_free(&map);
    buf_free(&f);

    char err[256];
    matcher *m = matcher_new(kw, nk, err, sizeof err);
    if (m) {
        check c = {len, 0};
        matcher_scan(m, text, len, on_hit, &c);
        uint32_t out[8];
        matcher_match(m, text, len, out, 8);
        matcher_free(m);
    }
    free(kwbuf);
    return 0;
}
