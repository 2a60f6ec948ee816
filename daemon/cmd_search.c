/* cmd_search.c — `vigie search`: full-text search of the archive.
 *
 *   vigie search [-c FILE] [--state-dir DIR] [--json] [--limit N] QUERY...
 *
 * QUERY is FTS5 syntax (words are ANDed, "a phrase", OR, NOT, prefix*,
 * title:word); several arguments are joined with spaces. Case and
 * diacritics are ignored: Vucic finds Vučić. Newest first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "date.h"
#include "jsonw.h"
#include "log.h"
#include "store.h"
#include "url.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 100000
#define MAX_QUERY 4096

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: vigie search [-c FILE] [--state-dir DIR] [--json] "
            "[--limit N] QUERY...\n"
            "  Full-text search of stored items, newest first (FTS5 query "
            "syntax:\n"
            "  words, \"a phrase\", OR, NOT, prefix*, title:word). Case and "
            "accents\n"
            "  are ignored; Djuric finds Đurić, strasse Straße.\n"
            "  -c, --config FILE   the config (its state_dir)\n"
            "  --state-dir DIR     the state directory, instead of the "
            "config's\n"
            "  --json              one JSON object per line\n"
            "  -n, --limit N       at most N items (default %d)\n",
            DEFAULT_LIMIT);
}

typedef struct out {
    bool json;
    buf line;
    long count;
} out;

static void
date_of(const store_hit *h, char d[DATE_RFC3339_LEN])
{
    date_format_rfc3339(
        h->published != DATE_NONE ? h->published : h->stored / 1000, d);
}

static int
print_hit(const store_hit *h, void *ud)
{
    out *o = ud;
    char d[DATE_RFC3339_LEN];
    buf_reset(&o->line);
    /* The database keeps feed URLs whole; they are shown without their
     * password (an unnamed, untitled feed is named by its URL). */
    char *feed = h->feed ? url_redact(h->feed) : NULL;
    char *feed_url = h->feed_url ? url_redact(h->feed_url) : NULL;
    if (o->json) {
        jsonw w;
        jsonw_init(&w, &o->line);
        jsonw_obj_open(&w);
        jsonw_key(&w, "title");
        jsonw_str(&w, h->title);
        jsonw_key(&w, "link");
        jsonw_str(&w, h->link);
        jsonw_key(&w, "id");
        jsonw_str(&w, h->item_id);
        jsonw_key(&w, "feed");
        jsonw_str(&w, feed);
        jsonw_key(&w, "feed_url");
        jsonw_str(&w, feed_url);
        jsonw_key(&w, "published");
        jsonw_date(&w, h->published);
        jsonw_key(&w, "stored");
        jsonw_date(&w, h->stored / 1000);
        jsonw_key(&w, "tags");
        /* tags_json comes from the store: a JSON array */
        buf_adds(&o->line, h->tags_json);
        jsonw_obj_close(&w);
    } else {
        date_of(h, d);
        buf_printf(&o->line, "%s  [%s] %s\n    %s", d, feed ? feed : "",
                   h->title && *h->title ? h->title : "(no title)",
                   h->link && *h->link ? h->link : "(no link)");
        json_t *tags = json_loads(h->tags_json, 0, NULL);
        if (json_is_array(tags) && json_array_size(tags)) {
            buf_adds(&o->line, "  tags: ");
            size_t i;
            json_t *v;
            json_array_foreach(tags, i, v)
            {
                if (i) buf_adds(&o->line, ", ");
                buf_adds(&o->line,
                         json_string_value(v) ? json_string_value(v) : "");
            }
        }
        json_decref(tags);
    }
    buf_addc(&o->line, '\n');
    fwrite(o->line.p, 1, o->line.len, stdout);
    free(feed);
    free(feed_url);
    o->count++;
    return 0;
}

int
cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *state_dir = NULL;
    out o = {0};
    long limit = DEFAULT_LIMIT;
    int c;
    optind = 0; /* fresh scan (GNU); also re-initialises after another use */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            state_dir = optarg;
            break;
        case 'j':
            o.json = true;
            break;
        case 'n': {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || end == optarg || limit < 1 || limit > MAX_LIMIT) {
                cli_error("search: --limit %s: not a number from 1 to %d",
                          optarg, MAX_LIMIT);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            cli_error("search: %s: unknown option (try 'vigie search -h')",
                      argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    buf q = {0};
    for (int i = optind; i < argc; i++) {
        if (q.len) buf_addc(&q, ' ');
        buf_adds(&q, argv[i]);
    }
    if (q.len > MAX_QUERY) {
        cli_error("search: the query is longer than %d bytes", MAX_QUERY);
        buf_free(&q);
        return EXIT_USAGE;
    }

    int status = EXIT_OK;
    store *s = cli_open_store(config, state_dir, STORE_READONLY, &status);
    if (!s) {
        buf_free(&q);
        return status;
    }
    char err[1024];
    int rc =
        store_search(s, q.p, (size_t)limit, print_hit, &o, err, sizeof err);
    if (rc == STORE_EQUERY) {
        cli_error("search: bad query '%s': %s (FTS5 syntax: quote phrases "
                  "and words with punctuation, e.g. '\"Bosnie-Herzégovine\"')",
                  q.p, err);
        status = EXIT_USAGE;
    } else if (rc < 0) {
        cli_error("%s", err);
        status = EXIT_FAIL;
    }
    fflush(stdout);
    store_close(s);
    buf_free(&o.line);
    buf_free(&q);
    return status;
}
