/* match_bench.c — throughput of the keyword matcher (fold + scan), alone.
 *
 * Not part of `make test` (speed is not asserted in tests). Build and run:
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Idaemon bench/match_bench.c \
 *       build/libvigie.a $(pkg-config --libs libutf8proc) -o build/match_bench
 *   build/match_bench [-s SEED] [MB]   (run from the top of the tree)
 * or on a given text and keyword lists (one keyword a line), e.g. the bench
 * corpus's titles and summaries (bench/match.sh writes them):
 *   build/match_bench -t TEXT -k LIST [-k LIST...]
 * For instructions per byte (one scan of MB megabytes with K keywords):
 *   valgrind --tool=callgrind build/match_bench --once 1 1000
 *   valgrind --tool=callgrind build/match_bench --once -t TEXT -k LIST
 * and read the inclusive cost of matcher_scan (callgrind_annotate
 * --inclusive=yes); the rest is generating the text and compiling.
 *
 * The text mixes slices of the seed press release (French) with paragraphs
 * of words: 60% from a list of common French/English words, decoys
 * (Rugerio, Otaniemi, KFORCE) and names the analyst watches, 40% from a
 * lexicon of 20,000 pseudo-words (a third accented), with varied
 * punctuation. Keywords: the analyst's 10, then generated names (mostly
 * absent from the text, like most of a watch list) and, one in ten, a
 * lexicon word (present, rare). Timings: CPU time, best of 3 runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fold.h"
#include "match.h"
#include "util.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static const char *vocab[] = {
    "the",        "of",          "and",       "to",        "in",
    "a",          "is",          "that",      "for",       "on",
    "with",       "as",          "by",        "at",        "from",
    "security",   "minister",    "president", "talks",     "government",
    "region",     "stability",   "dialogue",  "said",      "would",
    "le",         "la",          "les",       "de",        "des",
    "du",         "et",          "à",         "en",        "un",
    "une",        "pour",        "dans",      "sur",       "avec",
    "sécurité",   "ministre",    "président", "région",    "stabilité",
    "dialogue",   "été",         "accord",    "élection",  "gouvernement",
    "européenne", "coopération", "déclaré",   "Rugerio",   "Otaniemi",
    "KFORCE",     "rugueux",     "serbe",     "Serbia",    "Kosovo",
    "Belgrade",   "Pristina",    "Sarajevo",  "Brussels",  "NATO",
    "OTAN",       "l’OTAN",      "d’une",     "qu’il",     "aujourd’hui",
    "2024",       "30",          "août",      "Mitrovica", "Alliance",
    "forces",     "peace",       "économie",  "marché",    "Straße",
    "naïve",      "Œuvre",       "façade",    "coût",
};

static const char *syll[] = {"ko",  "va", "vić", "ra", "ne", "lo", "mir",
                             "đu",  "ša", "že",  "ka", "ni", "ro", "ber",
                             "ski", "ov", "ić",  "an", "el", "to", "ze"};

/* Surname endings that the text's lexicon never uses. */
static const char *endings[] = {"ović", "ević", "enko", "escu", "ovich",
                                "inen", "sson", "ides", "ault", "ner"};

static void
pseudo_name(buf *b, bool surname)
{
    int n = 2 + (int)(rnd() % 3);
    for (int i = 0; i < n; i++) {
        const char *s = syll[rnd() % ARRAY_LEN(syll)];
        if (i == 0) {
            char up = (char)(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]);
            buf_addc(b, up);
            buf_adds(b, s + 1);
        } else {
            buf_adds(b, s);
        }
    }
    if (surname) buf_adds(b, endings[rnd() % ARRAY_LEN(endings)]);
}

/* A lexicon of rarer words: pseudo-words, a third of them accented. */
#define LEXICON 20000
static char *lexicon[LEXICON];

static void
make_lexicon(void)
{
    for (size_t i = 0; i < LEXICON; i++) {
        buf b = {0};
        pseudo_name(&b, false);
        if (rnd() % 2 && b.p[0] >= 'A' && b.p[0] <= 'Z')
            b.p[0] = (char)(b.p[0] + 32); /* lower case */
        lexicon[i] = buf_detach(&b);
    }
}

static void
make_text(buf *t, size_t bytes, const char *seed, size_t seedlen)
{
    static const char *punct[] = {" ", " ",  " ",   " ",   " ",   ", ", ". ",
                                  " ", "\n", " « ", " » ", " – ", "; ", " "};
    while (t->len < bytes) {
        if (rnd() % 8 == 0) {
            /* A slice of the seed text, cut at a space. */
            size_t a = rnd() % seedlen, l = 200 + rnd() % 600;
            while (a > 0 && seed[a - 1] != ' ')
                a--;
            if (a + l > seedlen) l = seedlen - a;
            while (l > 0 && (seed[a + l - 1] & 0xC0) == 0x80)
                l--;
            buf_add(t, seed + a, l);
            buf_adds(t, "\n");
            continue;
        }
        int words = 20 + (int)(rnd() % 80);
        for (int w = 0; w < words; w++) {
            if (rnd() % 5 < 2)
                buf_adds(t, lexicon[rnd() % LEXICON]);
            else
                buf_adds(t, vocab[rnd() % ARRAY_LEN(vocab)]);
            buf_adds(t, punct[rnd() % ARRAY_LEN(punct)]);
        }
        buf_adds(t, "\n\n");
    }
}

static const char *analyst[] = {
    "Balkans occidentaux", "Boris Ruge", "Vučić", "Đurić",  "Konaković",
    "Bosnie-Herzégovine",  "OTAN",       "KFOR",  "Kosovo", "serb*",
};

/* One keyword a line; blank lines skipped. */
static char **
read_keywords(const char *path, size_t *n)
{
    buf b = {0};
    if (read_file(path, 64 << 20, &b) != 0) {
        fprintf(stderr, "match_bench: %s: cannot read the keyword list\n",
                path);
        exit(1);
    }
    size_t cap = 16, k = 0;
    char **v = xmalloc(cap * sizeof *v);
    for (size_t i = 0; i < b.len;) {
        size_t j = i;
        while (j < b.len && b.p[j] != '\n')
            j++;
        size_t e = j;
        if (e > i && b.p[e - 1] == '\r') e--;
        if (e > i) {
            if (k == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
            v[k++] = xstrndup(b.p + i, e - i);
        }
        i = j + 1;
    }
    buf_free(&b);
    *n = k;
    return v;
}

static char **
make_keywords(size_t n)
{
    char **k = xmalloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++) {
        buf b = {0};
        if (i < ARRAY_LEN(analyst)) {
            buf_adds(&b, analyst[i]);
        } else if (i % 10 == 0) {
            buf_adds(&b, lexicon[rnd() % LEXICON]); /* in the text, rare */
        } else {
            /* A name: a first name and a surname, or a surname. */
            if (rnd() % 3 == 0) {
                pseudo_name(&b, false);
                buf_addc(&b, ' ');
            }
            pseudo_name(&b, true);
        }
        k[i] = buf_detach(&b);
    }
    return k;
}

/* CPU time of this process: the machine may be shared, and time spent
 * waiting for a core is not the matcher's. */
static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_cb(void *ud, const match_hit *h)
{
    UNUSED(h);
    (*(size_t *)ud)++;
    return 0;
}

int
main(int argc, char **argv)
{
    const char *seedpath = "tests/fixtures/seed_otan_balkans_fr.txt";
    const char *textpath = NULL, *lists[8];
    size_t nlists = 0;
    bool once = false;
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (strcmp(argv[a], "--once") == 0)
            once = true;
        else if (strcmp(argv[a], "-s") == 0 && a + 1 < argc)
            seedpath = argv[++a];
        else if (strcmp(argv[a], "-t") == 0 && a + 1 < argc)
            textpath = argv[++a];
        else if (strcmp(argv[a], "-k") == 0 && a + 1 < argc &&
                 nlists < ARRAY_LEN(lists))
            lists[nlists++] = argv[++a];
        else
            return fprintf(stderr, "usage: match_bench [-s SEED] [--once] [MB] "
                                   "[KEYWORDS]\n"
                                   "       match_bench -t TEXT -k LIST "
                                   "[-k LIST...] (at most 8)\n"),
                   2;
    }
    size_t mb = a < argc ? (size_t)atoi(argv[a]) : 50;
    size_t nk_once = a + 1 < argc ? (size_t)atoi(argv[a + 1]) : 1000;
    buf seed = {0};
    if (read_file(seedpath, 1 << 20, &seed) != 0) {
        fprintf(stderr, "match_bench: %s: cannot read the seed\n", seedpath);
        return 1;
    }
    buf text = {0};
    make_lexicon();
    if (textpath) {
        if (read_file(textpath, (size_t)1 << 31, &text) != 0) {
            fprintf(stderr, "match_bench: %s: cannot read the text\n",
                    textpath);
            return 1;
        }
    } else {
        make_text(&text, mb << 20, seed.p, seed.len);
    }

    if (once) {
        /* One pass, for callgrind: --once MB KEYWORDS, or --once -t TEXT
         * -k LIST (the first list) */
        size_t nk = nk_once;
        char **k = nlists ? read_keywords(lists[0], &nk) : make_keywords(nk);
        char err[256];
        matcher *m = matcher_new((const char *const *)k, nk, err, sizeof err);
        if (!m) return fprintf(stderr, "%s\n", err), 1;
        size_t hits = 0;
        matcher_scan(m, text.p, text.len, count_cb, &hits);
        printf("%zu bytes, %zu keywords, %zu hits\n", text.len, nk, hits);
        return 0;
    }

    printf("text: %.1f MB\n", (double)text.len / 1e6);
    buf f = {0};
    double best = 1e9;
    for (int r = 0; r < 3; r++) {
        buf_reset(&f);
        double t0 = now();
        fold_text(&f, text.p, text.len, NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("fold_text alone: %.0f MB/s\n", (double)text.len / 1e6 / best);
    buf_free(&f);

    size_t counts[] = {10, 1000, 10000};
    size_t nruns = nlists ? nlists : ARRAY_LEN(counts);
    for (size_t c = 0; c < nruns; c++) {
        size_t nk = nlists ? 0 : counts[c];
        char **k = nlists ? read_keywords(lists[c], &nk) : make_keywords(nk);
        char err[256];
        double t0 = now();
        matcher *m = matcher_new((const char *const *)k, nk, err, sizeof err);
        double tb = now() - t0;
        if (!m) return fprintf(stderr, "%s\n", err), 1;
        size_t hits = 0, found = 0;
        best = 1e9;
        for (int r = 0; r < 3; r++) {
            hits = 0;
            t0 = now();
            matcher_scan(m, text.p, text.len, count_cb, &hits);
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        double scan_best = best;
        /* The same text as 2 KiB items, through matcher_match. */
        uint32_t out[64];
        best = 1e9;
        for (int r = 0; r < 3; r++) {
            found = 0;
            t0 = now();
            for (size_t off = 0; off < text.len; off += 2048) {
                size_t l = text.len - off < 2048 ? text.len - off : 2048;
                found += matcher_match(m, text.p + off, l, out, 64);
            }
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        printf("%5zu keywords: build %.1f ms; scan %.0f MB/s (%zu hits); "
               "2 KiB items %.0f MB/s (%zu keyword hits)\n",
               nk, tb * 1e3, (double)text.len / 1e6 / scan_best, hits,
               (double)text.len / 1e6 / best, found);
        matcher_free(m);
        for (size_t i = 0; i < nk; i++)
            free(k[i]);
        free(k);
    }
    buf_free(&text);
    buf_free(&seed);
    return 0;
}
