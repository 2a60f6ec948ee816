/* fuzz_feed.c — libFuzzer target: any bytes through feed_parse() and the
 * JSON writer, with small limits so deep and wide inputs hit the caps. */
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "feed_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    feed f;
    feed_options opt = {
        .base_url = "http://fuzz.example/feed/",
        .limits = {.max_field = 4096, .max_items = 64, .max_depth = 64},
    };
    feed_parse((const char *)data, size, &opt, &f);
    buf out = {0};
    feed_write_json(&out, &f);
    buf_free(&out);
    feed_free(&f);
    return 0;
}
