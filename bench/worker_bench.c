/* worker_bench.c — items per second through the rule worker.
 *
 * Not part of `make test` (speed is not asserted in tests). Build and run:
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Idaemon $(pkg-config --cflags
 *       lua5.4) bench/worker_bench.c build/libvigie.a $(pkg-config --libs
 *       lua5.4 libutf8proc jansson libxml-2.0) -lm -o build/worker_bench
 *   build/worker_bench [SCRIPT [ITEMS [BATCH]]]   (from the top of the tree;
 *   SCRIPT "" for the default)
 * SCRIPT defaults to a trivial rule (function on_item(item) end), ITEMS to
 * 200,000 and BATCH (items per job, as the daemon submits one job per
 * polled feed) to 1,000. Items look like real ones: an 80-byte title, a
 * 400-byte summary, 2 KiB of content, three categories, a date. What is
 * timed is everything the daemon pays: encoding each batch, the socket
 * both ways, building the Lua item table, the call, and accounting for
 * the result. Wall time, best of 3 runs; the worker is started (and the
 * script loaded) before the clock starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "feed.h"
#include "log.h"
#include "worker.h"

static size_t nactions, nfailed;

static void
done(void *ud, worker_result *r)
{
    UNUSED(ud);
    nactions += r->actions->len;
    nfailed += r->failed;
}

int
main(int argc, char **argv)
{
    log_init(LOG_WARNING);
    const char *script = argc > 1 && argv[1][0] ? argv[1] : NULL;
    size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    size_t batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
    if (!n || !batch) {
        fprintf(stderr, "usage: worker_bench [SCRIPT [ITEMS [BATCH]]]\n");
        return 2;
    }
    char tmp[] = "/tmp/vigie-worker-bench-XXXXXX.lua";
    if (!script) {
        int fd = mkstemps(tmp, 4);
        const char *src = "function on_item(item) end\n";
        if (fd < 0 || write(fd, src, strlen(src)) < 0) return 1;
        close(fd);
        script = tmp;
    }
    static char title[81], summary[401], content[2049];
    memset(title, 't', 80);
    memset(summary, 's', 400);
    memset(content, 'c', 2048);
    static const char *cats[] = {"politics", "europe", "balkans"};
    feed_item *items = xcalloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        char id[48];
        snprintf(id, sizeof id, "https://example.org/item/%zu", i);
        items[i].id = xstrdup(id);
        items[i].title = title;
        items[i].link = items[i].id;
        items[i].summary = summary;
        items[i].content = content;
        items[i].author = "A. Writer";
        items[i].categories = cats;
        items[i].ncategories = 3;
        items[i].published = 1724419620;
        items[i].updated = DATE_NONE;
    }
    rule_feed f = {"Feed",    "https://example.org/",    "",       "en", NULL,
                   DATE_NONE, "https://example.org/rss", "example"};
    worker *w = worker_new(NULL);
    worker_submit(w, &f, NULL, 0, &script, 1, done, NULL);
    worker_wait(w);
    if (worker_script_error(w, script)) {
        fprintf(stderr, "worker_bench: %s\n", worker_script_error(w, script));
        return 1;
    }
    int64_t best = INT64_MAX;
    for (int run = 0; run < 3; run++) {
        nactions = nfailed = 0;
        int64_t t0 = now_ms();
        for (size_t i = 0; i < n; i += batch) {
            size_t k = n - i < batch ? n - i : batch;
            worker_submit(w, &f, items + i, k, &script, 1, done, NULL);
            worker_wait(w);
        }
        int64_t ms = now_ms() - t0;
        if (ms < best) best = ms;
    }
    printf("%zu items in batches of %zu through %s: best %lld ms, %.0f "
           "items/s (%zu actions, %zu failed calls per run)\n",
           n, batch, script == tmp ? "a trivial on_item" : script,
           (long long)best, best ? (double)n * 1000.0 / (double)best : 0.0,
           nactions, nfailed);
    worker_free(w);
    for (size_t i = 0; i < n; i++)
        free((char *)(uintptr_t)items[i].id);
    free(items);
    if (script == tmp) unlink(tmp);
    return 0;
}
