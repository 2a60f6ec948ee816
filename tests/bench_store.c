/* bench_store.c — store throughput and size (not run by `make test`).
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Idaemon tests/bench_store.c \
 *       build/libvigie.a -lsqlite3 -ljansson -lcrypto -llz4 -lm \
 *       -o build/bench_store
 *   build/bench_store [FEEDS] [TEXT-FILE]
 *
 * FEEDS feeds (default 200) of 60 items each go through the daemon's
 * write path, one transaction per feed, FTS on, synchronous=FULL, in a
 * fresh database under /tmp: store_classify, then store_mark_seen and
 * store_put_item for every item, store_commit with the feed's state. The
 * items are built from TEXT-FILE (default: the NATO press release in
 * ../shared/seed): a title of ~90 bytes, a link, a summary of ~300 bytes,
 * an HTML content of ~2 KB, one tag. Prints items/s for the write path
 * alone and with classify, and the database's bytes per item against the
 * bytes of text stored (id, title, link, summary, content, author, tags).
 *
 * Knobs: BENCH_PRAGMA="SQL" runs after opening (e.g. "PRAGMA synchronous=
 * OFF" to see the cost of fsync); BENCH_IO=1 prints the bytes written;
 * BENCH_KEEP=1 keeps the database for a look with dbstat.
 *
 * On the 2-core dev VM (Nov 2026): ~11,500 items/s with FULL (~12,700
 * with OFF; ~20,000 with FULL but no FTS index), 1.70x the stored text.
 * The full-text index is most of both: FTS5 with positions takes ~50 µs
 * and ~0.5 bytes per byte of indexed text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "date.h"
#include "feed.h"
#include "log.h"
#include "store.h"

#define PER_FEED 60

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The text's words, to cut varied fields from. */
static char *words;
static size_t nwords_bytes;

static void
take(buf *out, size_t at, size_t n)
{
    at %= nwords_bytes;
    while (n) {
        size_t k = nwords_bytes - at < n ? nwords_bytes - at : n;
        buf_add(out, words + at, k);
        n -= k;
        at = 0;
    }
    /* do not end inside a UTF-8 sequence */
    while (out->len && ((unsigned char)out->p[out->len - 1] & 0xc0) == 0x80)
        out->len--;
    if (out->len && ((unsigned char)out->p[out->len - 1] & 0x80)) out->len--;
    out->p[out->len] = '\0';
}

typedef struct gen {
    feed_item items[PER_FEED];
    buf f[PER_FEED][5];
} gen;

static size_t
make_feed(gen *g, int feed, unsigned *seed)
{
    size_t text = 0;
    for (int i = 0; i < PER_FEED; i++) {
        buf *b = g->f[i];
        for (int k = 0; k < 5; k++)
            buf_reset(&b[k]);
        size_t at = (size_t)rand_r(seed);
        buf_printf(&b[0], "https://press.example.org/%d/news_%d.htm", feed, i);
        take(&b[1], at, 60 + (size_t)rand_r(seed) % 60);
        buf_printf(&b[2], "https://press.example.org/%d/news_%d.htm?l=fr", feed,
                   i);
        take(&b[3], at + 500, 200 + (size_t)rand_r(seed) % 200);
        buf_adds(&b[4], "<div class=\"article\"><p>");
        for (int p = 0; p < 6; p++) {
            take(&b[4], at + 900 + (size_t)p * 331, 300);
            buf_adds(&b[4], p % 2 ? "</p><p>" : " <b>Vučić</b> ");
        }
        buf_adds(&b[4], "</p></div>");
        feed_item *it = &g->items[i];
        memset(it, 0, sizeof *it);
        it->id = b[0].p;
        it->title = b[1].p;
        it->link = b[2].p;
        it->summary = b[3].p;
        it->content = b[4].p;
        it->author = "NATO";
        it->published = 1724419620 + feed * 60 + i;
        it->updated = DATE_NONE;
        for (int k = 0; k < 5; k++)
            text += b[k].len;
        text += strlen(it->author) + strlen("Balkans");
    }
    return text;
}

static long long
file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

int
main(int argc, char **argv)
{
    int feeds = argc > 1 ? atoi(argv[1]) : 200;
    const char *src =
        argc > 2 ? argv[2] : "../shared/seed/000_1c4b25704dc0e3be.txt";
    buf t = {0};
    if (read_file(src, 1 << 20, &t) < 0 || !t.len) {
        fprintf(stderr, "bench_store: %s: cannot read\n", src);
        return 1;
    }
    /* collapse whitespace: field text as the parser gives it */
    buf w = {0};
    for (size_t i = 0; i < t.len; i++) {
        char c = t.p[i];
        if (c == '\n' || c == '\t' || c == '\r') c = ' ';
        if (c == ' ' && w.len && w.p[w.len - 1] == ' ') continue;
        buf_addc(&w, c);
    }
    words = w.p;
    nwords_bytes = w.len;

    log_init(LOG_ERR);
    char dir[] = "/tmp/vigie-bench-store-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char err[1024];
    store *s = store_open(dir, STORE_CREATE, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (getenv("BENCH_PRAGMA"))
        sqlite3_exec(store_db(s), getenv("BENCH_PRAGMA"), NULL, NULL, NULL);
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(s, &p);

    gen *g = calloc(1, sizeof *g);
    unsigned seed = 42;
    double t_write = 0, t_all = 0;
    size_t text = 0;
    long items = 0;
    const char *tags[] = {"Balkans"};
    store_verdict v[PER_FEED];
    for (int fd = 0; fd < feeds; fd++) {
        text += make_feed(g, fd, &seed);
        char key[64];
        snprintf(key, sizeof key, "https://press.example.org/%d/rss.xml", fd);
        int64_t now = 1724600000000LL + fd;
        double a = now_s();
        if (store_classify(s, key, g->items, PER_FEED, now, v, err,
                           sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        double b = now_s();
        store_feed sf = {.key = key, .url = key, .title = "NATO"};
        int bad = store_begin(s, &sf, now);
        for (int i = 0; i < PER_FEED; i++) {
            bad |= store_mark_seen(s, &g->items[i]);
            bad |= store_put_item(s, &g->items[i], tags, 1);
        }
        store_feed_state st = {.status = 200,
                               .last_poll = now,
                               .next_poll = now + 900000,
                               .parsed = true,
                               .etag = "\"abc\""};
        if (bad || store_commit(s, &st, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", store_error(s));
            return 1;
        }
        double c = now_s();
        t_write += c - b;
        t_all += c - a;
        items += PER_FEED;
    }
    sqlite3_exec(store_db(s), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                 NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/vigie.db", dir);
    long long db = file_size(path);
    store_close(s);
    printf("%d feeds x %d items = %ld items, synchronous=FULL, FTS on\n", feeds,
           PER_FEED, items);
    printf("write path (mark_seen + put_item + commit): %.0f items/s\n",
           (double)items / t_write);
    printf("with store_classify:                        %.0f items/s\n",
           (double)items / t_all);
    printf("stored text %.0f bytes/item, database %.0f bytes/item: %.2fx\n",
           (double)text / (double)items, (double)db / (double)items,
           (double)db / (double)text);
    if (getenv("BENCH_IO")) {
        FILE *io = fopen("/proc/self/io", "r");
        char line[128];
        while (io && fgets(line, sizeof line, io))
            if (!strncmp(line, "wchar", 5) || !strncmp(line, "syscw", 5))
                printf("%s", line);
        if (io) fclose(io);
    }
    if (getenv("BENCH_KEEP")) {
        printf("kept %s\n", dir);
    } else {
        snprintf(path, sizeof path, "rm -rf %s", dir);
        if (system(path)) return 1;
    }
    for (int i = 0; i < PER_FEED; i++)
        for (int k = 0; k < 5; k++)
            buf_free(&g->f[i][k]);
    free(g);
    buf_free(&t);
    buf_free(&w);
    return 0;
}
