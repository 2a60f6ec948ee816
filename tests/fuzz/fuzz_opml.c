/* fuzz_opml.c — OPML feed lists and the duration/size parsers on arbitrary
 * bytes: no crash, no leak, and every entry within the documented caps. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "opml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opml_list l = {0};
    char err[512];
    if (opml_parse((const char *)data, size, &l, err, sizeof err) == 0) {
        if (l.n > OPML_MAX_FEEDS) abort();
        for (size_t i = 0; i < l.n; i++)
            if (!l.v[i].url[0] || strlen(l.v[i].url) > OPML_MAX_URL ||
                strlen(l.v[i].title) > OPML_MAX_TITLE)
                abort();
    }
    opml_free(&l);

    if (size < 64) {
        char s[64];
        memcpy(s, data, size);
        s[size] = '\0';
        int64_t v;
        if (duration_parse(s, &v, err, sizeof err) == 0 && v < 0) abort();
        if (size_parse(s, &v, err, sizeof err) == 0 && v < 0) abort();
    }
    return 0;
}
