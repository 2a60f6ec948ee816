/* cmd_status.c — `vigie status [-c FILE] [--state-dir DIR] [--json]`: how every feed and the
 * outbox stand, read from the state database while the daemon runs.
 *
 * One line per configured feed, failing ones first: name, last poll, HTTP
 * status, items in the last document, new items, consecutive failures,
 * next poll, disabled and why; then totals. An operator sees a broken feed
 * or a stuck webhook in one command. With --state-dir and no -c, like
 * search and outbox, it reads no configuration (under systemd the
 * operator's shell may not read /etc/vigie, or it may not be there) and
 * lists every feed the database knows instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "date.h"
#include "jsonw.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "url.h"

static const char status_usage[] =
    "usage: vigie status [-c FILE] [--state-dir DIR] [--json]\n\n"
    "Shows every configured feed (failing first) and the outbox, from the\n"
    "state database; safe while the daemon runs. --state-dir reads the\n"
    "database there instead of the config's state_dir (as systemd's\n"
    "StateDirectory puts it in /var/lib/vigie); without -c it then reads no\n"
    "configuration and lists every feed the database knows.\n";

typedef struct row {
    /* from the config, or the database; shown without password (url.h) */
    const char *label, *key, *url;
    store_feed_state st;
    bool known; /* has a row in the database */
} row;

typedef struct collect {
    const config *c; /* NULL: every feed in the database */
    row *rows;
    size_t n, cap;
    arena *mem;
} collect;

/* The row of a database feed: its configured one, or (no config) a new
 * one named as the daemon names it. NULL: no longer configured. */
static row *
row_for(collect *col, const store_feed_state *st)
{
    if (col->c) {
        const config_feed *cf = config_find_feed(col->c, st->key);
        return cf ? &col->rows[cf - col->c->feeds] : NULL;
    }
    if (col->n == col->cap) {
        col->cap = col->cap ? col->cap * 2 : 64;
        col->rows = xrealloc(col->rows, col->cap * sizeof *col->rows);
    }
    row *r = &col->rows[col->n++];
    memset(r, 0, sizeof *r);
    r->key = url_redact_in(col->mem, st->key);
    r->url = st->url ? url_redact_in(col->mem, st->url) : r->key;
    r->label = st->name ? arena_strdup(col->mem, st->name) : r->url;
    return r;
}

static int
on_feed(const store_feed_state *st, void *ud)
{
    collect *col = ud;
    row *r = row_for(col, st);
    if (!r) return 0; /* no longer configured */
    r->st = *st;
    /* the strings live in the store's statement: copy what we show */
    r->st.error = st->error ? arena_strdup(col->mem, st->error) : NULL;
    r->st.disabled_why =
        st->disabled_why ? arena_strdup(col->mem, st->disabled_why) : NULL;
    r->st.url = url_redact_in(col->mem, st->url); /* shown, never used */
    r->known = true;
    return 0;
}

static const char *
health(const row *r)
{
    if (!r->known) return "new";
    if (r->st.disabled) return "disabled";
    if (r->st.failures > 0) return "failing";
    return "ok";
}

static int
rank(const row *r)
{
    const char *h = health(r);
    return !strcmp(h, "failing") ? 0 : !strcmp(h, "disabled") ? 1
                                   : !strcmp(h, "new")        ? 3
                                                              : 2;
}

static int
cmp_rows(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int d = rank(x) - rank(y);
    if (d) return d;
    if (x->st.failures != y->st.failures) return x->st.failures > y->st.failures ? -1 : 1;
    return strcmp(x->label, y->label);
}

/* "2024-08-23T13:27:00Z", or "-": UTC as `outbox list`, `search` and the
 * health alerts write it, so times from all of them compare at a glance
 * (and the same on a server and on the operator's laptop). */
/* Long names keep their end, where paths and URLs differ. */
static const char *
short_name(const char *name, char *tmp, size_t n)
{
    size_t len = strlen(name), keep = n - 4; /* "…" is 3 bytes */
    if (len < n) return name;
    const char *tail = name + len - keep;
    while (((unsigned char)*tail & 0xC0) == 0x80) tail++;
    snprintf(tmp, n + 3, "\xe2\x80\xa6%s", tail);
    return tmp;
}

/* Characters, not bytes: what a terminal column count sees (roughly). */
static int
columns(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void
print_text(const row *rows, size_t n, const outbox_counts *oc, int64_t stored)
{
    size_t ok = 0, failing = 0, disabled = 0, fresh = 0;
    printf("%-8s %-30s %-20s %4s %6s %5s %5s %-20s %s\n", "STATE", "FEED",
           "LAST POLL", "HTTP", "ITEMS", "NEW", "FAILS", "NEXT POLL", "NOTE");
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        const char *h = health(r);
        if (!strcmp(h, "ok")) ok++;
        else if (!strcmp(h, "failing")) failing++;
        else if (!strcmp(h, "disabled")) disabled++;
        else fresh++;
        char last[DATE_RFC3339_LEN], next[DATE_RFC3339_LEN], http[8];
        date_format_ms(r->st.last_poll, last);
        date_format_ms(r->st.disabled ? 0 : r->st.next_poll, next);
        if (r->st.status) snprintf(http, sizeof http, "%d", r->st.status);
        else snprintf(http, sizeof http, "-");
        const char *note = r->st.disabled ? r->st.disabled_why
                                          : r->st.failures ? r->st.error : "";
        char tmp[40];
        const char *name = short_name(r->label, tmp, 31);
        printf("%-8s %s%*s %-20s %4s %6lld %5lld %5lld %-20s %s\n", h, name,
               30 - columns(name), "", last, http, (long long)r->st.items_seen,
               (long long)r->st.items_new, (long long)r->st.failures, next,
               note ? note : "");
    }
    printf("\nfeeds: %zu ok, %zu failing, %zu disabled, %zu never polled\n", ok,
           failing, disabled, fresh);
    printf("outbox: %lld pending, %lld being sent, %lld dead, %lld delivered\n",
           (long long)oc->pending, (long long)oc->sending, (long long)oc->dead,
           (long long)oc->delivered);
    printf("archive: %lld items stored\n", (long long)stored);
}

static void
print_json(const row *rows, size_t n, const outbox_counts *oc, int64_t stored)
{
    buf out = {0};
    jsonw w;
    jsonw_init(&w, &out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "feeds");
    jsonw_arr_open(&w);
    size_t counts[4] = {0}; /* ok failing disabled new */
    for (size_t i = 0; i < n; i++) {
        const row *r = &rows[i];
        const char *h = health(r);
        counts[!strcmp(h, "ok") ? 0 : !strcmp(h, "failing") ? 1 : !strcmp(h, "disabled") ? 2 : 3]++;
        jsonw_obj_open(&w);
        jsonw_key(&w, "name");
        jsonw_str(&w, r->label);
        jsonw_key(&w, "key");
        jsonw_str(&w, r->key);
        jsonw_key(&w, "state");
        jsonw_str(&w, h);
        jsonw_key(&w, "url");
        jsonw_str(&w, r->st.url ? r->st.url : r->url);
        jsonw_key(&w, "last_poll");
        jsonw_date(&w, r->st.last_poll ? r->st.last_poll / 1000 : DATE_NONE);
        jsonw_key(&w, "http_status");
        if (r->st.status) jsonw_int(&w, r->st.status);
        else jsonw_null(&w);
        jsonw_key(&w, "items");
        jsonw_int(&w, r->st.items_seen);
        jsonw_key(&w, "new_items");
        jsonw_int(&w, r->st.items_new);
        jsonw_key(&w, "failures");
        jsonw_int(&w, r->st.failures);
        jsonw_key(&w, "error");
        jsonw_str(&w, r->st.failures ? r->st.error : NULL);
        jsonw_key(&w, "next_poll");
        jsonw_date(&w, r->st.next_poll && !r->st.disabled ? r->st.next_poll / 1000
                                                          : DATE_NONE);
        jsonw_key(&w, "disabled");
        jsonw_bool(&w, r->st.disabled);
        jsonw_key(&w, "disabled_why");
        jsonw_str(&w, r->st.disabled ? r->st.disabled_why : NULL);
        jsonw_obj_close(&w);
    }
    jsonw_arr_close(&w);
    jsonw_key(&w, "totals");
    jsonw_obj_open(&w);
    const char *names[] = {"ok", "failing", "disabled", "never_polled"};
    for (int i = 0; i < 4; i++) {
        jsonw_key(&w, names[i]);
        jsonw_int(&w, (int64_t)counts[i]);
    }
    jsonw_key(&w, "outbox_pending");
    jsonw_int(&w, oc->pending + oc->sending);
    jsonw_key(&w, "outbox_dead");
    jsonw_int(&w, oc->dead);
    jsonw_key(&w, "outbox_delivered");
    jsonw_int(&w, oc->delivered);
    jsonw_key(&w, "items_stored");
    jsonw_int(&w, stored);
    jsonw_obj_close(&w);
    jsonw_obj_close(&w);
    buf_addc(&out, '\n');
    fwrite(out.p, 1, out.len, stdout);
    buf_free(&out);
}

/* Rows for the configured feeds, in the config's order, not yet read. */
static void
rows_from_config(collect *col)
{
    const config *c = col->c;
    col->n = col->cap = c->nfeeds;
    col->rows = xcalloc(c->nfeeds + 1, sizeof *col->rows);
    for (size_t i = 0; i < c->nfeeds; i++) {
        const config_feed *cf = &c->feeds[i];
        col->rows[i].label = cf->label;
        col->rows[i].key = url_redact_in(col->mem, cf->key);
        col->rows[i].url = cf->url ? url_redact_in(col->mem, cf->url) : cf->path;
    }
}

int
cmd_status(int argc, char **argv)
{
    const char *path = NULL, *state_dir = NULL;
    bool json = false;
    if (cli_wants_help(argc, argv)) {
        fputs(status_usage, stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
                   i + 1 < argc) {
            path = argv[++i];
        } else if (!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
            state_dir = argv[++i];
        } else {
            cli_error("status: %s: unexpected argument", argv[i]);
            fputs(status_usage, stderr);
            return EXIT_USAGE;
        }
    }
    char err[2048];
    config *c = NULL;
    if (path || !state_dir) {
        c = config_load(path ? path : CONFIG_DEFAULT_PATH, err, sizeof err);
        if (!c) {
            cli_error("%s", err);
            return EXIT_USAGE;
        }
    }
    int status = EXIT_OK;
    store *s = cli_open_store(NULL, state_dir ? state_dir : c->state_dir, 0,
                              &status);
    if (!s) {
        config_free(c);
        return status;
    }
    arena mem = {0};
    collect col = {.c = c, .mem = &mem};
    if (c) rows_from_config(&col);
    outbox_counts oc = {0};
    int64_t stored = 0;
    /* The archive as `vigie search` sees it: items of feeds since removed
     * or moved to another URL are still there. */
    if (store_feeds_foreach(s, on_feed, &col, err, sizeof err) < 0 ||
        outbox_count(s, &oc, err, sizeof err) < 0 ||
        store_items_count(s, &stored, err, sizeof err) < 0) {
        cli_error("status: %s", err);
        status = EXIT_FAIL;
    } else {
        if (col.n) qsort(col.rows, col.n, sizeof *col.rows, cmp_rows);
        if (json) print_json(col.rows, col.n, &oc, stored);
        else print_text(col.rows, col.n, &oc, stored);
    }
    free(col.rows);
    arena_free(&mem);
    store_close(s);
    config_free(c);
    return status;
}
