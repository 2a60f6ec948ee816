/* fuzz_feed.c — libFuzzer target: any bytes through feed_parse() and the
 * JSON writer, with small limits so deep and wide inputs hit the caps.
 * The output must be valid UTF-8 whatever the input: the parser relies on
 * that invariant instead of checking every field (feedbuild.c, fb_keep).
 * And what feed.h promises of items holds: ids never empty nor shared,
 * links http(s) or "". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "feed.h"
#include "feed_json.h"
#include "url.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_items(const feed *f)
{
    if (*f->link && !url_is_http(f->link)) abort();
    for (size_t i = 0; i < f->nitems; i++) {
        const feed_item *it = &f->items[i];
        if (!*it->id || (*it->link && !url_is_http(it->link))) abort();
        for (size_t j = i + 1; j < f->nitems; j++)
            if (!strcmp(it->id, f->items[j].id)) abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feed f;
    feed_options opt = {
        .base_url = "http://fuzz.example/feed/",
        .limits = {.max_field = 4096, .max_items = 64, .max_depth = 64},
    };
    feed_parse((const char *)data, size, &opt, &f);
    check_items(&f);
    buf out = {0};
    feed_write_json(&out, &f);
    if (!utf8_valid(out.p, out.len)) abort();
    buf_free(&out);
    feed_free(&f);
    return 0;
}
