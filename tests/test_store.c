/* test_store.c — the SQLite store: schema and migrations, refusing damaged
 * files, one transaction per feed, dedup, catch-up, retention, search.
 *
 * Includes store.c and the other store_*.c to reach the migration steps,
 * the content hash and the body format (libssh style).
 *
 * `test_store --write-fixture DIR` writes a small database into DIR through
 * the real store and outbox code, for tests/integration/test_search_outbox.py
 * (which drives `vigie search` and `vigie outbox` against it). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "helpers/tmptree.h"

#include "../daemon/store.c"
#include "../daemon/store_ckpt.c"
#include "../daemon/store_dedup.c"
#include "../daemon/store_hash.c"
#include "../daemon/store_json.c"
#include "../daemon/store_retention.c"
#include "../daemon/store_text.c"
#include "outbox.h"

#define T0 1724419620000LL /* 2024-08-23T13:27:00Z, in ms */
#define HOUR 3600000LL
#define DAY (24 * HOUR)

typedef struct fx {
    char dir[64];
    store *s;
    char err[1024];
} fx;

/* FTS5's own check: the contentless index agrees with what was inserted
 * and deleted (a delete with other values than the insert breaks it). */
static void
assert_fts_consistent(fx *f)
{
    assert_int_equal(
        sqlite3_exec(store_db(f->s),
                     "INSERT INTO items_fts(items_fts) VALUES('integrity-check')",
                     NULL, NULL, NULL),
        SQLITE_OK);
}

static int
setup(void **state)
{
    fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/vigie-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("store_open: %s", f->err);
    *state = f;
    return 0;
}

static int
setup_empty(void **state)
{
    fx *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/vigie-test-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    store_close(f->s);
    rm_tree(f->dir);
    free(f);
    return 0;
}

static char *
db_path(fx *f)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/vigie.db", f->dir);
    return p;
}

static feed_item
item(const char *id, const char *title, const char *link, int64_t published)
{
    feed_item it = {0};
    it.id = id;
    it.title = title;
    it.link = link;
    it.summary = "";
    it.content = "";
    it.author = "";
    it.published = published;
    it.updated = DATE_NONE;
    return it;
}

static int64_t
query_int(store *s, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static store_feed
feed_of(const char *key)
{
    return (store_feed){.key = key, .url = key, .name = NULL};
}

static store_feed_state
parsed_state(int64_t now, const char *etag)
{
    store_feed_state st = {0};
    st.status = 200;
    st.last_poll = now;
    st.next_poll = now + 15 * 60000;
    st.etag = etag;
    st.parsed = true;
    return st;
}

/* One poll: classify, mark every item seen, commit as parsed. */
static void
poll(fx *f, const char *key, feed_item *items, size_t n, int64_t now,
     store_verdict *v)
{
    store_verdict tmp[64];
    if (!v) v = tmp;
    assert_int_equal(
        store_classify(f->s, key, items, n, now, v, f->err, sizeof f->err), 0);
    store_feed sf = feed_of(key);
    assert_int_equal(store_begin(f->s, &sf, now), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_mark_seen(f->s, &items[i]), 0);
    store_feed_state st = parsed_state(now, NULL);
    if (store_commit(f->s, &st, f->err, sizeof f->err) < 0)
        fail_msg("commit: %s", f->err);
}

static store_verdict
verdict(fx *f, const char *key, feed_item it, int64_t now)
{
    store_verdict v;
    assert_int_equal(
        store_classify(f->s, key, &it, 1, now, &v, f->err, sizeof f->err), 0);
    return v;
}

static int
count_hit(const store_hit *h, void *ud)
{
    UNUSED(h);
    (*(int *)ud)++;
    return 0;
}

static int
search_count(store *s, const char *q)
{
    int n = 0;
    char err[256];
    int rc = store_search(s, q, 100, count_hit, &n, err, sizeof err);
    if (rc != 0) fail_msg("search %s: %s", q, err);
    return n;
}

/* ---- schema ------------------------------------------------------------- */

static void
test_create_sets_up_wal_full_fk(void **state)
{
    fx *f = *state;
    assert_int_equal(query_int(f->s, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(query_int(f->s, "PRAGMA application_id"), APPLICATION_ID);
    assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(query_int(f->s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(f->s, "PRAGMA auto_vacuum"), 2); /* incr. */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s), "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM sqlite_schema"
                                     " WHERE name IN ('feeds', 'seen',"
                                     " 'items', 'items_fts', 'outbox',"
                                     " 'rule_failures')"),
                     6);
    /* opening again is a no-op */
    store_close(f->s);
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_non_null(f->s);
    assert_int_equal(query_int(f->s, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
}

/* A database left at version 1 (no full-text index, no fail_since yet)
 * is migrated step by step: it gains the index, filled from what it
 * already archived, and the columns added since. */
static void
test_migrates_from_previous_version(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path(f), &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, migrations[0], NULL, NULL, &msg);
    if (rc) fail_msg("v1: %s", msg);
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             APPLICATION_ID, 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO feeds(id, key) VALUES(1, 'f');"
                     "INSERT INTO items(feed, idh, item_id, title, link,"
                     " summary, content, author, stored) VALUES(1, x'00',"
                     " 'i1', 'Rencontre à Αθήνα', 'https://x/1', '',"
                     " '<p>Vu&#269;i&#263; à <b>Pristina</b> avec Đurić</p>', '', 1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    /* a command run by hand refuses to migrate */
    f->s = store_open(f->dir, 0, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "start the daemon once to migrate"));

    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("%s", f->err);
    assert_int_equal(query_int(f->s, "PRAGMA user_version"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(search_count(f->s, "vucic"), 1);
    assert_int_equal(search_count(f->s, "pristina"), 1);
    assert_int_equal(search_count(f->s, "p OR b"), 0); /* markup not indexed */
    assert_int_equal(search_count(f->s, "djuric"), 1);  /* schema 6 */
    assert_int_equal(search_count(f->s, "αθηνα"), 1);   /* schema 7 */
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM pragma_table_info('feeds')"
                                     " WHERE name = 'fail_since'"),
                     1);
}

static void
test_corrupt_file_named_and_untouched(void **state)
{
    fx *f = *state;
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    memcpy(junk, "this is not a db", 16);
    FILE *fp = fopen(db_path(f), "wb");
    fwrite(junk, 1, sizeof junk, fp);
    fclose(fp);

    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, db_path(f)));
    assert_non_null(strstr(f->err, "untouched"));

    char back[sizeof junk + 1];
    fp = fopen(db_path(f), "rb");
    assert_int_equal(fread(back, 1, sizeof back, fp), sizeof junk);
    fclose(fp);
    assert_memory_equal(back, junk, sizeof junk);
    char side[160];
    snprintf(side, sizeof side, "%s-wal", db_path(f));
    assert_int_equal(access(side, F_OK), -1);
}

/* A real database whose schema page is damaged: an error naming the file,
 * the bytes unchanged, no fresh database in its place. */
static void
test_damaged_schema_page_refused(void **state)
{
    fx *f = *state;
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_non_null(f->s);
    store_close(f->s);
    f->s = NULL;
    int fd = open(db_path(f), O_RDWR);
    char garbage[1000];
    memset(garbage, 0x5a, sizeof garbage);
    assert_int_equal(pwrite(fd, garbage, sizeof garbage, 100),
                     (ssize_t)sizeof garbage);
    struct stat before;
    fstat(fd, &before);
    close(fd);
    char snap[4096];
    fd = open(db_path(f), O_RDONLY);
    assert_int_equal(read(fd, snap, sizeof snap), (ssize_t)sizeof snap);
    close(fd);

    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, db_path(f)));

    char again[4096];
    fd = open(db_path(f), O_RDONLY);
    assert_int_equal(read(fd, again, sizeof again), (ssize_t)sizeof again);
    struct stat after;
    fstat(fd, &after);
    close(fd);
    assert_memory_equal(snap, again, sizeof snap);
    assert_int_equal(before.st_size, after.st_size);
}

static void
test_foreign_or_newer_database_refused(void **state)
{
    fx *f = *state;
    sqlite3 *db;
    sqlite3_open(db_path(f), &db);
    sqlite3_exec(db, "CREATE TABLE accounts(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "not a vigie database"));

    remove(db_path(f));
    sqlite3_open(db_path(f), &db);
    char sql[128];
    snprintf(sql, sizeof sql,
             "PRAGMA application_id = %d; PRAGMA user_version = 99;",
             APPLICATION_ID);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "newer"));
}

static void
test_missing_database_not_created_by_commands(void **state)
{
    fx *f = *state;
    f->s = store_open(f->dir, STORE_READONLY, f->err, sizeof f->err);
    assert_null(f->s);
    assert_non_null(strstr(f->err, "no database yet"));
    assert_int_equal(access(db_path(f), F_OK), -1);
    f->s = store_open(f->dir, 0, f->err, sizeof f->err);
    assert_null(f->s);
    assert_int_equal(access(db_path(f), F_OK), -1);
}

/* As root, permissions do not apply: the check runs in a child that drops
 * to an unprivileged user. */
static void
test_readonly_state_dir(void **state)
{
    fx *f = *state;
    char sub[128];
    snprintf(sub, sizeof sub, "%s/ro", f->dir);
    assert_int_equal(mkdir(sub, 0555), 0);
    chmod(f->dir, 0755);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(3);
        char err[512];
        store *s = store_open(sub, STORE_CREATE, err, sizeof err);
        if (s) _exit(1);
        _exit(strstr(err, "not writable") && strstr(err, sub) ? 0 : 2);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- one transaction per feed -------------------------------------------- */

static void
test_disk_full_mid_transaction_leaves_nothing(void **state)
{
    fx *f = *state;
    feed_item first[3] = {item("a", "A", "https://x/a", T0 / 1000),
                          item("b", "B", "https://x/b", T0 / 1000),
                          item("c", "C", "https://x/c", T0 / 1000)};
    store_feed sf = feed_of("https://x/feed");
    assert_int_equal(store_begin(f->s, &sf, T0), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_mark_seen(f->s, &first[i]), 0);
    assert_int_equal(store_put_item(f->s, &first[0], NULL, 0), 0);
    assert_int_equal(store_enqueue_alert(f->s, &first[0], "r.lua", "ops",
                                         "{\"text\":\"a\"}", 12),
                     0);
    store_feed_state st = parsed_state(T0, "\"v1\"");
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);

    /* The disk is now full: the database may not grow by a page. */
    int64_t pages = query_int(f->s, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)pages);
    assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL),
                     SQLITE_OK);

    static char big[60][3000];
    static char ids[60][16];
    feed_item more[60];
    for (int i = 0; i < 60; i++) {
        snprintf(ids[i], sizeof ids[i], "n%d", i);
        memset(big[i], 'a' + i % 26, sizeof big[i] - 1);
        big[i][sizeof big[i] - 1] = '\0';
        more[i] = item(ids[i], ids[i], "", (T0 + HOUR) / 1000);
        more[i].content = big[i];
    }
    assert_int_equal(store_begin(f->s, &sf, T0 + HOUR), 0);
    int failed_at = -1;
    for (int i = 0; i < 60; i++) {
        int a = store_mark_seen(f->s, &more[i]);
        int b = store_put_item(f->s, &more[i], NULL, 0);
        int c = store_enqueue_alert(f->s, &more[i], "r.lua", "ops",
                                    "{\"text\":\"n\"}", 12);
        if ((a | b | c) && failed_at < 0) failed_at = i;
    }
    assert_true(failed_at >= 0);
    st = parsed_state(T0 + HOUR, "\"v2\"");
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "full"));
    assert_non_null(strstr(f->err, db_path(f)));

    sqlite3_exec(store_db(f->s), "PRAGMA max_page_count = 1073741823", NULL,
                 NULL, NULL);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 3);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM items"), 1);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM outbox"), 1);
    assert_int_equal(search_count(f->s, "n5"), 0);
    arena mem = {0};
    store_feed_state got;
    assert_int_equal(store_feed_get(f->s, "https://x/feed", &got, &mem, f->err,
                                    sizeof f->err),
                     1);
    assert_string_equal(got.etag, "\"v1\""); /* not the failed poll's */
    assert_int_equal(got.last_poll, T0);
    arena_free(&mem);
    /* the next poll tries again: the items are still new */
    store_verdict v[60];
    assert_int_equal(store_classify(f->s, "https://x/feed", more, 60,
                                    T0 + 2 * HOUR, v, f->err, sizeof f->err),
                     0);
    for (int i = 0; i < 60; i++)
        assert_int_equal(v[i], STORE_NEW);
}

static void
test_validators_saved_only_with_items(void **state)
{
    fx *f = *state;
    feed_item it = item("a", "A", "https://x/a", T0 / 1000);
    store_feed sf = feed_of("k");
    assert_int_equal(store_begin(f->s, &sf, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &it), 0);
    store_feed_state st = parsed_state(T0, "\"e1\"");
    st.last_modified = "Fri, 23 Aug 2024 13:27:00 GMT";
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);

    /* a 304 or a failed fetch: no document, validators stay */
    assert_int_equal(store_begin(f->s, &sf, T0 + HOUR), 0);
    st = (store_feed_state){.status = 304,
                            .last_poll = T0 + HOUR,
                            .etag = "\"e2\"",
                            .parsed = false};
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    arena mem = {0};
    store_feed_state got;
    store_feed_get(f->s, "k", &got, &mem, f->err, sizeof f->err);
    assert_string_equal(got.etag, "\"e1\"");
    assert_string_equal(got.last_modified, "Fri, 23 Aug 2024 13:27:00 GMT");
    assert_int_equal(got.status, 304);
    assert_int_equal(got.last_ok, T0 + HOUR);
    assert_int_equal(got.last_parsed, T0);
    arena_free(&mem);

    /* an error: recorded, failures counted, last_ok unchanged */
    assert_int_equal(store_begin(f->s, &sf, T0 + 2 * HOUR), 0);
    st = (store_feed_state){.status = 503,
                            .error = "HTTP 503",
                            .failures = 1,
                            .last_poll = T0 + 2 * HOUR,
                            .disabled = true,
                            .disabled_why = "gone"};
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    store_feed_get(f->s, "k", &got, &mem, f->err, sizeof f->err);
    assert_string_equal(got.error, "HTTP 503");
    assert_int_equal(got.failures, 1);
    assert_int_equal(got.last_ok, T0 + HOUR);
    assert_true(got.disabled);
    assert_string_equal(got.disabled_why, "gone");
    assert_string_equal(got.etag, "\"e1\"");
    arena_free(&mem);
}

static void
test_rollback_and_calls_without_begin(void **state)
{
    fx *f = *state;
    feed_item it = item("a", "A", "https://x/a", T0 / 1000);
    /* no transaction: refused, nothing written */
    assert_int_equal(store_mark_seen(f->s, &it), -1);
    /* an item without an id dooms the transaction instead of crashing */
    store_feed bad = feed_of("bad");
    feed_item noid = item("", "T", "https://x/t", T0 / 1000);
    assert_int_equal(store_begin(f->s, &bad, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &noid), -1);
    noid.id = NULL;
    assert_int_equal(store_put_item(f->s, &noid, NULL, 0), -1);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "without an id"));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM feeds"), 0);
    /* an alert without an item (a script's top level) is kept */
    assert_int_equal(store_begin(f->s, &bad, T0), 0);
    assert_int_equal(
        store_enqueue_alert(f->s, NULL, "r", "ops", "{\"text\":\"x\"}", 12), 0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(
        query_int(f->s, "SELECT count(*) FROM outbox WHERE item IS NULL"), 1);
    sqlite3_exec(store_db(f->s), "DELETE FROM outbox; DELETE FROM feeds", NULL,
                 NULL, NULL);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 0);
    store_feed sf = feed_of("k");
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
    assert_int_equal(verdict(f, "k", it, T0), STORE_NEW);
    assert_int_equal(store_begin(f->s, &sf, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &it), 0);
    assert_int_equal(store_enqueue_alert(f->s, &it, "r", "ops", "{}", 2), 0);
    store_rollback(f->s);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 0);
    /* what was rolled back does not make a duplicate either */
    feed_item same = item("other-id", "A", "https://x/a", T0 / 1000);
    assert_int_equal(verdict(f, "k2", same, T0), STORE_NEW);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM feeds"), 0);
}

/* ---- dedup --------------------------------------------------------------- */

static void
test_dedup_same_id_and_updates(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
    feed_item it = item("urn:1", "Title", "https://x/1", T0 / 1000);
    it.summary = "first version";
    poll(f, "f1", &it, 1, T0, NULL);
    assert_int_equal(verdict(f, "f1", it, T0 + HOUR), STORE_SEEN);
    /* the same id in another feed is another item */
    assert_int_equal(verdict(f, "f2",
                             item("urn:1", "Other", "https://y/1", T0 / 1000),
                             T0 + HOUR),
                     STORE_NEW);
    feed_item changed = it;
    changed.summary = "second version";
    assert_int_equal(verdict(f, "f1", changed, T0 + HOUR), STORE_UPDATED);
    /* dates alone do not make an update */
    feed_item redated = it;
    redated.updated = T0 / 1000 + 60;
    assert_int_equal(verdict(f, "f1", redated, T0 + HOUR), STORE_SEEN);
    /* once marked, the new content is the known one */
    poll(f, "f1", &changed, 1, T0 + HOUR, NULL);
    assert_int_equal(verdict(f, "f1", changed, T0 + 2 * HOUR), STORE_SEEN);
    assert_int_equal(query_int(f->s, "SELECT items_seen FROM feeds WHERE"
                                     " key = 'f1'"),
                     1);
}

static void
test_dedup_link_title_across_feeds(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    p.dedup_window = 7 * DAY;
    store_set_params(f->s, &p);
    feed_item a = item("a-1", "Story", "https://news/1", T0 / 1000);
    poll(f, "feedA", &a, 1, T0, NULL);
    feed_item b = item("b-77", "Story", "https://news/1", T0 / 1000);
    assert_int_equal(verdict(f, "feedB", b, T0 + DAY), STORE_DUPLICATE);
    /* a new id in the same feed with the same link and title too */
    feed_item a2 = item("a-2", "Story", "https://news/1", T0 / 1000);
    assert_int_equal(verdict(f, "feedA", a2, T0 + DAY), STORE_DUPLICATE);
    /* other title, or other link: a different story */
    assert_int_equal(verdict(f, "feedB",
                             item("b-78", "Story 2", "https://news/1", 0),
                             T0 + DAY),
                     STORE_NEW);
    assert_int_equal(verdict(f, "feedB",
                             item("b-79", "Story", "https://news/2", 0),
                             T0 + DAY),
                     STORE_NEW);
    /* a restarted daemon knows it too */
    store_close(f->s);
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    store_set_params(f->s, &p);
    assert_int_equal(verdict(f, "feedB", b, T0 + DAY), STORE_DUPLICATE);
    /* outside the window */
    assert_int_equal(verdict(f, "feedB", b, T0 + 7 * DAY + 1), STORE_NEW);
    /* a wider window after a reload reaches further back than what a
     * fresh process loaded for the narrow one */
    store_close(f->s);
    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    store_set_params(f->s, &p);
    assert_int_equal(verdict(f, "feedB", b, T0 + 10 * DAY), STORE_NEW);
    p.dedup_window = 30 * DAY;
    store_set_params(f->s, &p);
    assert_int_equal(verdict(f, "feedB", b, T0 + 10 * DAY), STORE_DUPLICATE);
    /* dedup off */
    p.dedup = false;
    store_set_params(f->s, &p);
    assert_int_equal(verdict(f, "feedB", b, T0 + DAY), STORE_NEW);
}

static void
test_dedup_inside_one_document(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
    feed_item v[3] = {item("x", "T", "https://x/1", T0 / 1000),
                      item("x", "T", "https://x/1", T0 / 1000),
                      item("y", "T", "https://x/1", T0 / 1000)};
    store_verdict out[3];
    assert_int_equal(
        store_classify(f->s, "f", v, 3, T0, out, f->err, sizeof f->err), 0);
    assert_int_equal(out[0], STORE_NEW);
    assert_int_equal(out[1], STORE_SEEN);
    assert_int_equal(out[2], STORE_DUPLICATE);
}

static void
test_catch_up_on_first_poll_only(void **state)
{
    fx *f = *state; /* defaults: catch_up 24h */
    int64_t now = T0;
    feed_item v[4] = {item("recent", "R", "https://x/r", (now - HOUR) / 1000),
                      item("old", "O", "https://x/o", (now - 2 * DAY) / 1000),
                      item("undated", "U", "https://x/u", DATE_NONE),
                      item("future", "F", "https://x/f", (now + DAY) / 1000)};
    v[1].updated = (now - HOUR) / 1000; /* published wins over updated */
    store_verdict out[4];
    assert_int_equal(
        store_classify(f->s, "f", v, 4, now, out, f->err, sizeof f->err), 0);
    assert_int_equal(out[0], STORE_NEW);
    assert_int_equal(out[1], STORE_OLD);
    assert_int_equal(out[2], STORE_OLD);
    assert_int_equal(out[3], STORE_NEW);

    /* a failed first poll does not count: still the first */
    store_feed sf = feed_of("f");
    assert_int_equal(store_begin(f->s, &sf, now), 0);
    store_feed_state st = {.status = 0, .error = "timeout", .last_poll = now};
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(verdict(f, "f", v[1], now), STORE_OLD);

    poll(f, "f", v, 4, now, NULL);
    /* after a parsed document, an old-dated new item is simply new */
    feed_item late = item("late", "L", "https://x/l", (now - 3 * DAY) / 1000);
    assert_int_equal(verdict(f, "f", late, now + HOUR), STORE_NEW);
    assert_int_equal(verdict(f, "f", late, now + HOUR), STORE_NEW);

    /* catch_up forever: everything goes through the rules on first poll */
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
    feed_item g1 = item("g1", "G1", "https://g/1", (now - 9 * DAY) / 1000);
    assert_int_equal(verdict(f, "g", g1, now), STORE_NEW);
    p.catch_up = 0; /* nothing alerts on a first poll */
    store_set_params(f->s, &p);
    g1.published = now / 1000;
    assert_int_equal(verdict(f, "g", g1, now), STORE_OLD);
}

/* ---- archive and search ---------------------------------------------------
 */

static void
put_one(fx *f, const char *key, feed_item *it, const char *const *tags,
        size_t ntags, int64_t now)
{
    store_feed sf = feed_of(key);
    assert_int_equal(store_begin(f->s, &sf, now), 0);
    assert_int_equal(store_mark_seen(f->s, it), 0);
    assert_int_equal(store_put_item(f->s, it, tags, ntags), 0);
    store_feed_state st = parsed_state(now, NULL);
    if (store_commit(f->s, &st, f->err, sizeof f->err) < 0)
        fail_msg("%s", f->err);
}

static void
test_search_ignores_accents_and_case(void **state)
{
    fx *f = *state;
    feed_item a =
        item("1", "Rencontre avec Aleksandar Vučić", "https://x/1", T0 / 1000);
    a.summary = "Les Balkans occidentaux";
    feed_item b = item("2", "Statement", "https://x/2", T0 / 1000 - 60);
    /* decomposed č and ć, and references, inside HTML content */
    b.content = "<div><p>Meeting with Vuc\xcc\x8cic\xcc\x81 and "
                "Dju&#x0107;i&cacute; in <i>Pristina</i></p>"
                "<script>var Konakovic = 1;</script></div>";
    const char *tags[] = {"Kosovo"};
    put_one(f, "f", &a, NULL, 0, T0);
    put_one(f, "f", &b, tags, 1, T0);
    assert_int_equal(search_count(f->s, "Vucic"), 2);
    assert_int_equal(search_count(f->s, "VUCIC"), 2);
    assert_int_equal(search_count(f->s, "vučić"), 2);
    assert_int_equal(search_count(f->s, "djucic"), 1);
    assert_int_equal(search_count(f->s, "pristina"), 1);
    assert_int_equal(search_count(f->s, "\"balkans occidentaux\""), 1);
    assert_int_equal(search_count(f->s, "konakovic"), 0); /* script body */
    assert_int_equal(search_count(f->s, "div"), 0);       /* markup */
    assert_int_equal(search_count(f->s, "tags:kosovo"), 1);
    assert_int_equal(search_count(f->s, "vuci*"), 2);

    /* letters that do not decompose, spelled as a reader without them
     * writes them: in the title, the summary, the content and the tags */
    feed_item c = item("3", "Marko Đurić à Łódź", "https://x/3", T0 / 1000 - 120);
    c.summary = "Die Straße nach Tromsø";
    c.content = "<p>Ægir &amp; Œuvre</p>";
    const char *ctags[] = {"Þingvellir"};
    put_one(f, "f", &c, ctags, 1, T0);
    assert_int_equal(search_count(f->s, "Djuric"), 1);
    assert_int_equal(search_count(f->s, "Đurić"), 1);
    assert_int_equal(search_count(f->s, "lodz"), 1);
    assert_int_equal(search_count(f->s, "strasse"), 1);
    assert_int_equal(search_count(f->s, "Straße AND tromso"), 1);
    assert_int_equal(search_count(f->s, "aegir OR nothing"), 1);
    assert_int_equal(search_count(f->s, "oeuvre"), 1);
    assert_int_equal(search_count(f->s, "tags:thingvellir"), 1);

    /* other scripts as the matcher folds them; letters of scripts without
     * spaces are words of their own, a run of them in a query a phrase */
    feed_item d = item("4", "東京都で地震、震度５強", "https://x/4", T0 / 1000 - 180);
    d.summary = "Αθήνα: ΣΕΙΣΜΌΣ στην Ελλάδα. Москва: ёлка";
    put_one(f, "f", &d, NULL, 0, T0);
    assert_int_equal(search_count(f->s, "東京"), 1);
    assert_int_equal(search_count(f->s, "地震"), 1);
    assert_int_equal(search_count(f->s, "震度５強"), 1);
    assert_int_equal(search_count(f->s, "京東"), 0); /* not next to each other */
    assert_int_equal(search_count(f->s, "\"東京都\""), 1);
    assert_int_equal(search_count(f->s, "東京 AND αθηνα"), 1);
    assert_int_equal(search_count(f->s, "title:東京"), 1);
    assert_int_equal(search_count(f->s, "αθηνα"), 1);
    assert_int_equal(search_count(f->s, "σεισμος"), 1);
    assert_int_equal(search_count(f->s, "ΣΕΙΣΜΟΣ"), 1);
    assert_int_equal(search_count(f->s, "ελλαδα"), 1);
    assert_int_equal(search_count(f->s, "елка"), 1);
    assert_int_equal(search_count(f->s, "ЁЛКА"), 1);

    int n = 0;
    assert_int_equal(store_search(f->s, "\"unterminated", 10, count_hit, &n,
                                  f->err, sizeof f->err),
                     STORE_EQUERY);
    if (!strstr(f->err, "syntax") && !strstr(f->err, "unterminated"))
        fail_msg("%s", f->err);
    assert_int_equal(store_search(f->s, "nosuchcolumn:x", 10, count_hit, &n,
                                  f->err, sizeof f->err),
                     STORE_EQUERY);
}

typedef struct hits {
    char titles[8][64];
    int n;
} hits;

static int
keep_titles(const store_hit *h, void *ud)
{
    hits *v = ud;
    if (v->n < 8) snprintf(v->titles[v->n++], 64, "%s", h->title);
    return 0;
}

static void
test_search_newest_first_and_tags_merge(void **state)
{
    fx *f = *state;
    feed_item a = item("1", "Kosovo one", "https://x/1", T0 / 1000 - 86400);
    feed_item b = item("2", "Kosovo two", "https://x/2", T0 / 1000);
    feed_item c = item("3", "Kosovo three", "https://x/3", DATE_NONE);
    const char *t1[] = {"Kosovo", "Serbia"};
    const char *t2[] = {"Serbia", "Vučić"};
    put_one(f, "f", &a, t1, 2, T0);
    put_one(f, "f", &b, NULL, 0, T0);
    put_one(f, "f", &c, NULL, 0, T0 - 3 * DAY); /* undated: stored time */
    hits h = {0};
    assert_int_equal(store_search(f->s, "kosovo", 10, keep_titles, &h, f->err,
                                  sizeof f->err),
                     0);
    assert_int_equal(h.n, 3);
    assert_string_equal(h.titles[0], "Kosovo two");
    assert_string_equal(h.titles[1], "Kosovo one");
    assert_string_equal(h.titles[2], "Kosovo three");

    /* storing again merges tags and keeps one row, one index entry */
    put_one(f, "f", &a, t2, 2, T0 + HOUR);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM items"), 3);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s),
                       "SELECT tags FROM items WHERE item_id = '1'", -1, &st,
                       NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0),
                        "[\"Kosovo\",\"Serbia\",\"Vučić\"]");
    sqlite3_finalize(st);
    assert_int_equal(search_count(f->s, "tags:vucic"), 1);
    assert_int_equal(search_count(f->s, "\"kosovo one\""), 1);
    assert_int_equal(query_int(f->s, "SELECT items_stored FROM feeds"), 3);
    assert_fts_consistent(f);

    char *json = store_item_json(f->s, "f", "1");
    assert_non_null(json);
    json_t *o = json_loads(json, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "title")),
                        "Kosovo one");
    assert_int_equal(json_array_size(json_object_get(o, "tags")), 3);
    assert_true(json_is_string(json_object_get(o, "published")));
    json_decref(o);
    free(json);
    assert_null(store_item_json(f->s, "f", "nope"));
}

static void
test_index_text(void **state)
{
    UNUSED(state);
    buf b = {0};
    const char *html = "<p>one</p><p>two</p><!-- three --><style>p{}</style>"
                       "a &amp; b &lt;c&gt; &eacute;t&eacute; &mdash; "
                       "&#x1F600; &#0; &bogus; <a href=\"x>y\">link</a> 1 < 2";
    store_index_text(&b, html, strlen(html));
    assert_non_null(strstr(b.p, "one"));
    assert_non_null(strstr(b.p, "two"));
    assert_null(strstr(b.p, "onetwo"));
    assert_null(strstr(b.p, "three"));
    assert_null(strstr(b.p, "p{}"));
    assert_non_null(strstr(b.p, "a & b <c> \xc3\xa9t\xc3\xa9 \xe2\x80\x94"));
    assert_non_null(strstr(b.p, "\xf0\x9f\x98\x80"));
    assert_null(strstr(b.p, "bogus"));
    assert_null(strstr(b.p, "href"));
    assert_non_null(strstr(b.p, " link "));
    assert_non_null(strstr(b.p, "1 < 2"));
    buf_free(&b);
}

/* ---- retention ------------------------------------------------------------
 */

static void
test_retention_prunes_gone_items_only(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    p.keep_seen = 10 * DAY;
    p.keep_items = 30 * DAY;
    store_set_params(f->s, &p);
    feed_item gone = item("gone", "Gone", "https://x/g", T0 / 1000);
    feed_item stays = item("stays", "Stays", "https://x/s", T0 / 1000);
    feed_item both[2] = {gone, stays};
    poll(f, "f", both, 2, T0, NULL);
    put_one(f, "f", &gone, NULL, 0, T0);
    /* a second feed that stops being parsed after T0 */
    feed_item down = item("down", "Down", "https://y/d", T0 / 1000);
    poll(f, "dead-feed", &down, 1, T0, NULL);

    /* 11 days later the feed still lists `stays` only */
    for (int d = 1; d <= 11; d++)
        poll(f, "f", &stays, 1, T0 + d * DAY, NULL);
    long n = store_maintain(f->s, T0 + 11 * DAY, 1000, f->err, sizeof f->err);
    assert_true(n >= 1);
    assert_int_equal(verdict(f, "f", gone, T0 + 11 * DAY), STORE_NEW);
    assert_int_equal(verdict(f, "f", stays, T0 + 11 * DAY), STORE_SEEN);
    /* the archived copy outlives its seen id, until keep_items */
    assert_int_equal(search_count(f->s, "gone"), 1);
    store_maintain(f->s, T0 + 31 * DAY, 1000, f->err, sizeof f->err);
    assert_int_equal(search_count(f->s, "gone"), 0);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM items"), 0);
    /* the feed that was down keeps its ids however long it was down */
    store_maintain(f->s, T0 + 100 * DAY, 1000, f->err, sizeof f->err);
    assert_int_equal(verdict(f, "dead-feed", down, T0 + 100 * DAY), STORE_SEEN);
    assert_fts_consistent(f);
}

static void
test_retention_is_bounded(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    p.keep_seen = DAY;
    store_set_params(f->s, &p);
    static char ids[50][16];
    feed_item v[50];
    for (int i = 0; i < 50; i++) {
        snprintf(ids[i], sizeof ids[i], "i%d", i);
        v[i] = item(ids[i], ids[i], "", T0 / 1000);
    }
    poll(f, "f", v, 50, T0, NULL);
    feed_item other = item("o", "o", "", T0 / 1000);
    poll(f, "f", &other, 1, T0 + 3 * DAY, NULL);
    assert_int_equal(
        store_maintain(f->s, T0 + 3 * DAY, 20, f->err, sizeof f->err), 20);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 31);
    assert_int_equal(
        store_maintain(f->s, T0 + 3 * DAY, 20, f->err, sizeof f->err), 20);
    assert_int_equal(
        store_maintain(f->s, T0 + 3 * DAY, 20, f->err, sizeof f->err), 10);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 1);
}

/* ---- alerts and rule failures ------------------------------------------- */

static void
test_alert_keys_stable_and_distinct(void **state)
{
    fx *f = *state;
    feed_item it = item("urn:1", "T", "https://x/1", T0 / 1000);
    store_feed sf = feed_of("f");
    char keys[2][4][OUTBOX_KEY_LEN];
    for (int round = 0; round < 2; round++) {
        /* round 0 is rolled back (a crash before commit); round 1 redoes
         * the same work and must produce the same keys */
        assert_int_equal(store_begin(f->s, &sf, T0 + round), 0);
        assert_int_equal(store_enqueue_alert(f->s, &it, "a.lua", "ops",
                                             "{\"text\":\"1\"}", 12),
                         0);
        assert_int_equal(store_enqueue_alert(f->s, &it, "a.lua", "ops",
                                             "{\"text\":\"2\"}", 12),
                         0);
        assert_int_equal(store_enqueue_alert(f->s, &it, "b.lua", "ops",
                                             "{\"text\":\"3\"}", 12),
                         0);
        assert_int_equal(
            store_enqueue_alert(f->s, &it, "a.lua", "chat", "not json", 8), 0);
        sqlite3_stmt *st;
        sqlite3_prepare_v2(store_db(f->s), "SELECT key FROM outbox ORDER BY id",
                           -1, &st, NULL);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(sqlite3_step(st), SQLITE_ROW);
            snprintf(keys[round][i], OUTBOX_KEY_LEN, "%s",
                     sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
        if (round == 0)
            store_rollback(f->s);
        else
            assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err),
                             0);
    }
    for (int i = 0; i < 4; i++) {
        assert_string_equal(keys[0][i], keys[1][i]);
        assert_int_equal(strlen(keys[0][i]), 64);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(keys[1][i], keys[1][j]);
    }
    /* the same alert again (a retried rule) is not queued twice */
    assert_int_equal(store_begin(f->s, &sf, T0 + 5), 0);
    assert_int_equal(
        store_enqueue_alert(f->s, &it, "a.lua", "ops", "{\"text\":\"1\"}", 12),
        0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM outbox"), 4);
    /* new content under the same id: a new alert, a new key */
    feed_item upd = it;
    upd.summary = "changed";
    assert_int_equal(store_begin(f->s, &sf, T0 + 6), 0);
    assert_int_equal(
        store_enqueue_alert(f->s, &upd, "a.lua", "ops", "{\"text\":\"1\"}", 12),
        0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM outbox"), 5);
    /* the non-JSON payload was kept as text, not lost */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(f->s),
                       "SELECT payload, item, feed FROM outbox"
                       " WHERE target = 'chat'",
                       -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal(sqlite3_column_text(st, 0), "{\"text\":\"not json\"}");
    json_t *o = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "id")), "urn:1");
    json_decref(o);
    o = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "key")), "f");
    json_decref(o);
    sqlite3_finalize(st);
}

static void
test_rule_failures_roundtrip(void **state)
{
    fx *f = *state;
    feed_item it = item("urn:9", "Failing", "https://x/9", T0 / 1000);
    const char *cats[] = {"a", "b"};
    feed_enclosure enc = {"https://x/9.mp3", "audio/mpeg", 1234};
    it.categories = cats;
    it.ncategories = 2;
    it.enclosures = &enc;
    it.nenclosures = 1;
    it.content = "<p>body</p>";
    store_feed sf = feed_of("f");
    assert_int_equal(store_begin(f->s, &sf, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &it), 0);
    assert_int_equal(store_add_rule_failure(f->s, &it, "s.lua", "boom"), 0);
    assert_int_equal(store_add_rule_failure(f->s, &it, "t.lua", "bang"), 0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(store_begin(f->s, &sf, T0 + 1), 0);
    assert_int_equal(store_add_rule_failure(f->s, &it, "s.lua", "boom 2"), 0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);

    arena mem = {0};
    store_failure *v;
    long n =
        store_failures_load(f->s, "s.lua", 10, &v, &mem, f->err, sizeof f->err);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].feed_key, "f");
    assert_string_equal(v[0].error, "boom 2");
    assert_int_equal(v[0].attempts, 2);
    assert_string_equal(v[0].item->id, "urn:9");
    assert_string_equal(v[0].item->content, "<p>body</p>");
    assert_int_equal(v[0].item->published, T0 / 1000);
    assert_int_equal(v[0].item->updated, DATE_NONE);
    assert_int_equal(v[0].item->ncategories, 2);
    assert_string_equal(v[0].item->categories[1], "b");
    assert_int_equal(v[0].item->nenclosures, 1);
    assert_int_equal(v[0].item->enclosures[0].length, 1234);
    assert_int_equal(
        store_failures_load(f->s, NULL, 10, &v, &mem, f->err, sizeof f->err),
        2);
    arena_free(&mem);

    assert_int_equal(store_begin(f->s, &sf, T0 + 2), 0);
    assert_int_equal(store_clear_rule_failure(f->s, "urn:9", "s.lua"), 0);
    assert_int_equal(store_commit(f->s, NULL, f->err, sizeof f->err), 0);
    assert_int_equal(
        store_failures_load(f->s, NULL, 10, &v, &mem, f->err, sizeof f->err),
        1);
    arena_free(&mem);
}

/* ---- the fixture for the integration test -------------------------------- */

static int
write_fixture(const char *dir)
{
    char err[1024];
    store *s = store_open(dir, STORE_CREATE, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    feed_item v[3];
    v[0] = item("urn:nato:1",
                "Le Secrétaire général rencontre Aleksandar "
                "Vučić",
                "https://example.org/nato/1", 1724419620); /* 08-23 */
    v[0].summary = "Dialogue sur les Balkans occidentaux";
    v[1] = item("urn:nato:2", "Western Balkans: statement",
                "https://example.org/nato/2", 1724333220); /* 08-22 */
    v[1].content = "<p>Boris <b>Ruge</b> visited Belgrade</p>";
    v[2] = item("urn:nato:3", "Weather report", "https://example.org/nato/3",
                1724506020); /* 08-24 */
    v[2].summary = "nothing relevant";
    const char *t0[] = {"Vučić", "Balkans occidentaux"};
    const char *t1[] = {"Western Balkans", "Boris Ruge"};
    store_feed sf = {.key = "https://example.org/nato.xml",
                     .url = "https://example.org/nato.xml",
                     .name = "NATO FR",
                     .title = "NATO - Actualités",
                     .link = "https://example.org/"};
    int64_t now = 1724600000000LL;
    int bad = store_begin(s, &sf, now);
    for (int i = 0; i < 3; i++)
        bad |= store_mark_seen(s, &v[i]);
    bad |= store_put_item(s, &v[0], t0, 2);
    bad |= store_put_item(s, &v[1], t1, 2);
    bad |= store_put_item(s, &v[2], NULL, 0);
    const char *p0 = "{\"text\":\"[Vučić] rencontre\"}";
    const char *p1 = "{\"text\":\"[Western Balkans] statement\"}";
    const char *p2 = "{\"text\":\"Vučić\"}";
    bad |= store_enqueue_alert(s, &v[0], "balkans.lua", "ops", p0, strlen(p0));
    bad |= store_enqueue_alert(s, &v[1], "balkans.lua", "ops", p1, strlen(p1));
    bad |= store_enqueue_alert(s, &v[0], "balkans.lua", "chat", p2, strlen(p2));
    store_feed_state st = parsed_state(now, "\"etag-1\"");
    if (bad || store_commit(s, &st, err, sizeof err) < 0) {
        fprintf(stderr, "fixture: %s\n", store_error(s));
        store_close(s);
        return 1;
    }
    /* ops: the first alert delivered, the second refused with a 400 */
    outbox *ob = outbox_new(s, NULL);
    outbox_msg m[4];
    int64_t wake;
    long n = outbox_next(ob, now, m, 4, &wake, err, sizeof err);
    for (long i = 0; i < n; i++) {
        if (!strcmp(m[i].alert.target, "ops")) {
            outbox_outcome ok = {.status = 200};
            outbox_report(ob, &m[i], &ok, now + 10, err, sizeof err);
        } else {
            outbox_outcome fail = {.status = 503};
            outbox_report(ob, &m[i], &fail, now + 10, err, sizeof err);
        }
        outbox_msg_clear(&m[i]);
    }
    n = outbox_next(ob, now + 20, m, 4, &wake, err, sizeof err);
    for (long i = 0; i < n; i++) {
        const char body[] = "{\"error\":\"bad payload\"}";
        outbox_outcome no = {
            .status = 400, .response = body, .response_len = sizeof body - 1};
        outbox_report(ob, &m[i], &no, now + 30, err, sizeof err);
        outbox_msg_clear(&m[i]);
    }
    outbox_free(ob);
    store_close(s);
    return 0;
}

/* Several feeds in one transaction: each is its own savepoint (one that
 * fails goes alone), the group commit makes the others durable together. */
static void
test_group_commit_many_feeds(void **state)
{
    fx *f = *state;
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
    feed_item a = item("a1", "A", "https://x/a", T0 / 1000);
    feed_item b = item("b1", "B", "https://x/b", T0 / 1000);
    feed_item c = item("c1", "C", "https://x/c", T0 / 1000);
    assert_int_equal(store_group_begin(f->s, true, f->err, sizeof f->err), 0);
    assert_true(store_in_transaction(f->s));
    store_feed fa = feed_of("fa"), fb = feed_of("fb"), fc = feed_of("fc");
    store_feed_state st = {.last_poll = T0, .parsed = true, .etag = "\"e\""};
    assert_int_equal(store_begin(f->s, &fa, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &a), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(store_begin(f->s, &fb, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &b), 0);
    store_rollback(f->s); /* this feed failed: it alone goes */
    assert_int_equal(store_begin(f->s, &fc, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &c), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(store_group_commit(f->s, f->err, sizeof f->err), 0);
    assert_false(store_in_transaction(f->s));
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM seen"), 2);
    assert_int_equal(verdict(f, "fa", a, T0), STORE_SEEN);
    assert_int_equal(verdict(f, "fb", b, T0), STORE_NEW);
    assert_int_equal(verdict(f, "fc", c, T0), STORE_SEEN);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM feeds WHERE etag = '\"e\"'"), 2);
    /* a relaxed group (nothing new in it) commits just the same */
    assert_int_equal(store_group_begin(f->s, false, f->err, sizeof f->err), 0);
    assert_int_equal(store_begin(f->s, &fb, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &b), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(store_group_commit(f->s, f->err, sizeof f->err), 0);
    assert_int_equal(verdict(f, "fb", b, T0), STORE_SEEN);
    assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 2); /* FULL again */
}

static void
catch_up_forever(fx *f)
{
    store_params p;
    store_params_default(&p);
    p.catch_up = STORE_FOREVER;
    store_set_params(f->s, &p);
}

/* Classifies x, which must be new to feed `key`, and reserves it as the
 * pipeline does before the rules run. */
static void
reserve_new(fx *f, const char *key, const feed_item *x)
{
    store_verdict v;
    assert_int_equal(store_classify(f->s, key, x, 1, T0, &v, f->err, sizeof f->err), 0);
    assert_int_equal(v, STORE_NEW);
    store_reserve(f->s, x, &v, 1, T0);
}

/* A story classified new in one feed is a duplicate in another feed
 * classified before the first commits; a rollback forgets that. */
static void
test_reserve_dedup_and_forget(void **state)
{
    fx *f = *state;
    feed_item x = item("x-in-a", "Same story", "https://x/story", T0 / 1000);
    feed_item y = item("y-in-b", "Same story", "https://x/story", T0 / 1000);
    catch_up_forever(f);
    assert_int_equal(verdict(f, "fb", y, T0), STORE_NEW); /* not reserved yet */
    reserve_new(f, "fa", &x);
    assert_int_equal(verdict(f, "fb", y, T0), STORE_DUPLICATE);
    /* fa's transaction fails: its story was never kept, fb's is new again */
    store_feed fa = feed_of("fa");
    assert_int_equal(store_begin(f->s, &fa, T0), 0);
    assert_int_equal(store_mark_seen(f->s, &x), 0);
    store_rollback(f->s);
    assert_int_equal(verdict(f, "fb", y, T0), STORE_NEW);
}

/* A database locked by another process when the group begins: no feed
 * of it is kept, so what classify reserved is forgotten; the retry finds
 * the story new, not a duplicate of itself. */
static void
test_locked_database_forgets_reservations(void **state)
{
    fx *f = *state;
    feed_item x = item("x-in-a", "Locked story", "https://x/locked", T0 / 1000);
    catch_up_forever(f);
    reserve_new(f, "fa", &x);

    char path[128];
    snprintf(path, sizeof path, "%s/vigie.db", f->dir);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(f->s->db, 10);
    assert_int_equal(store_group_begin(f->s, true, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "locked"));
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    assert_int_equal(verdict(f, "fa", x, T0), STORE_NEW);
}

/* The index is written at the outermost commit, not in each feed's
 * savepoint: an item stored twice in one transaction is indexed once with
 * its last values, a feed rolled back inside a group leaves no entry, an
 * item stored again in a later group loses its old words. */
static void
test_group_index_written_at_commit(void **state)
{
    fx *f = *state;
    feed_item a = item("a1", "Alpha first", "https://x/a", T0 / 1000);
    feed_item a2 = a;
    a2.title = "Alpha second";
    feed_item b = item("b1", "Bravo", "https://x/b", T0 / 1000);
    feed_item c = item("c1", "Charlie old", "https://x/c", T0 / 1000);
    put_one(f, "fc", &c, NULL, 0, T0);
    assert_int_equal(search_count(f->s, "charlie"), 1);

    assert_int_equal(store_group_begin(f->s, true, f->err, sizeof f->err), 0);
    store_feed fa = feed_of("fa"), fb = feed_of("fb"), fc = feed_of("fc");
    store_feed_state st = parsed_state(T0 + HOUR, NULL);
    assert_int_equal(store_begin(f->s, &fa, T0 + HOUR), 0);
    assert_int_equal(store_put_item(f->s, &a, NULL, 0), 0);
    const char *tags[] = {"zulu"};
    assert_int_equal(store_put_item(f->s, &a2, tags, 1), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(store_begin(f->s, &fb, T0 + HOUR), 0);
    assert_int_equal(store_put_item(f->s, &b, NULL, 0), 0);
    store_rollback(f->s);
    feed_item c2 = c;
    c2.title = "Charlie new";
    assert_int_equal(store_begin(f->s, &fc, T0 + HOUR), 0);
    assert_int_equal(store_put_item(f->s, &c2, NULL, 0), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    assert_int_equal(store_group_commit(f->s, f->err, sizeof f->err), 0);

    assert_int_equal(search_count(f->s, "alpha"), 1);
    assert_int_equal(search_count(f->s, "second"), 1);
    assert_int_equal(search_count(f->s, "first"), 0);
    assert_int_equal(search_count(f->s, "tags:zulu"), 1);
    assert_int_equal(search_count(f->s, "bravo"), 0);
    assert_int_equal(search_count(f->s, "charlie"), 1);
    assert_int_equal(search_count(f->s, "old"), 0);
    assert_int_equal(search_count(f->s, "new"), 1);
    assert_fts_consistent(f);

    /* a group whose commit fails leaves no index entry either */
    feed_item d = item("d1", "Delta", "https://x/d", T0 / 1000);
    assert_int_equal(store_group_begin(f->s, true, f->err, sizeof f->err), 0);
    assert_int_equal(store_begin(f->s, &fa, T0 + 2 * HOUR), 0);
    assert_int_equal(store_put_item(f->s, &d, NULL, 0), 0);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
    sqlite3_exec(store_db(f->s), "ROLLBACK", NULL, NULL, NULL); /* as SQLite may */
    assert_int_equal(store_group_commit(f->s, f->err, sizeof f->err), -1);
    assert_int_equal(search_count(f->s, "delta"), 0);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM items"), 2);
}

/* A database as schema `version` left it (the migration steps up to it,
 * on a bare connection with the store's SQL functions). */
static sqlite3 *
old_database(fx *f, int version)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path(f), &db), SQLITE_OK);
    sqlite3_create_function(db, "vigie_index_text", 1, SQLITE_UTF8, NULL,
                            sql_index_text, NULL, NULL);
    sqlite3_create_function(db, "vigie_tags_text", 1, SQLITE_UTF8, NULL,
                            sql_tags_text, NULL, NULL);
    char sql[160];
    snprintf(sql, sizeof sql,
             "PRAGMA page_size = %d; PRAGMA auto_vacuum = INCREMENTAL;",
             PAGE_SIZE);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    for (int v = 0; v < version; v++) {
        char *msg = NULL;
        if (sqlite3_exec(db, migrations[v], NULL, NULL, &msg))
            fail_msg("v%d: %s", v + 1, msg);
    }
    snprintf(sql, sizeof sql,
             "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             APPLICATION_ID, version);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

/* The content hash is stored: these values must never change. */
static void
test_content_hash_is_pinned(void **state)
{
    UNUSED(state);
    feed_item a = item("1", "", "", DATE_NONE);
    assert_int_equal(content_hash(&a), (int64_t)0xbea072a7735edc4eULL);
    a.title = "Rencontre avec Aleksandar Vučić";
    a.link = "https://example.org/2024/08/23/rencontre";
    a.summary = "Les Balkans occidentaux et l'Union européenne.";
    a.content = "<p>Les <b>Balkans</b> occidentaux et l&rsquo;Union "
                "europ&eacute;enne, 23 août 2024.</p>";
    assert_int_equal(content_hash(&a), (int64_t)0xa7ab770e92efce26ULL);
    /* fields do not run into each other */
    feed_item b = item("1", "ab", "c", DATE_NONE), c = item("1", "a", "bc", DATE_NONE);
    assert_true(content_hash(&b) != content_hash(&c));
    /* every byte counts, whatever its place in a 16-byte step */
    char buf1[100], buf2[100];
    memset(buf1, 'x', sizeof buf1 - 1);
    buf1[sizeof buf1 - 1] = '\0';
    feed_item d = item("1", "t", "l", DATE_NONE);
    d.content = buf1;
    int64_t h0 = content_hash(&d);
    for (size_t i = 0; i < sizeof buf1 - 1; i++) {
        memcpy(buf2, buf1, sizeof buf1);
        buf2[i] = 'y';
        d.content = buf2;
        assert_true(content_hash(&d) != h0);
    }
}

/* Schema 4 replaced the SHA-256 content hashes in `seen` with 0: such an
 * item is taken as unchanged (no spurious on_update), its new hash is
 * recorded, and a later change is seen again. */
static void
test_migration_clears_content_hashes(void **state)
{
    fx *f = *state;
    /* a database as version 3 left it, with one seen item (SHA-256
     * content hash) */
    sqlite3 *db = old_database(f, 3);
    feed_item a = item("a1", "Alpha", "https://x/a", T0 / 1000);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO feeds(id, key, last_parsed) VALUES(1, 'f', 1);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO seen(feed, idh, hash, lt,"
                                        " first_seen, last_seen)"
                                        " VALUES(1, ?1, 1234567, NULL, 1, 1)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    unsigned char d[32];
    unsigned int len = 32;
    EVP_Digest("a1", 3, d, &len, EVP_sha256(), NULL);
    sqlite3_bind_blob(st, 1, d, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);

    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("%s", f->err);
    assert_int_equal(query_int(f->s, "SELECT hash FROM seen"), 0);
    store_verdict v;
    poll(f, "f", &a, 1, T0, &v);
    assert_int_equal(v, STORE_SEEN);
    assert_int_equal(query_int(f->s, "SELECT hash FROM seen"), content_hash(&a));
    a.title = "Alpha, corrected";
    assert_int_equal(verdict(f, "f", a, T0 + HOUR), STORE_UPDATED);
}

/* Schema 5 packs summary and content into `body` and rebuilds the index:
 * what was archived reads back the same and is found the same. */
static void
test_migration_packs_bodies(void **state)
{
    fx *f = *state;
    sqlite3 *db = old_database(f, 4);
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "<p>Ruge ", 8);
    char sql[4096];
    snprintf(sql, sizeof sql,
             "INSERT INTO feeds(id, key) VALUES(1, 'f');"
             "INSERT INTO items(id, feed, idh, item_id, title, link, summary,"
             " content, author, tags, stored) VALUES"
             "(1, 1, x'01', 'i1', 'Rencontre', 'https://x/1',"
             " 'Vu\xc4\x8di\xc4\x87 à Pristina', '', '', '[\"kosovo\"]', 1),"
             "(2, 1, x'02', 'i2', 'Long', 'https://x/2', 'court', '%s', '',"
             " NULL, 1);"
             "INSERT INTO items_fts(rowid, title, summary, content, tags)"
             " SELECT id, title, summary, vigie_index_text(content),"
             " vigie_tags_text(tags) FROM items;",
             big);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    f->s = store_open(f->dir, STORE_CREATE, f->err, sizeof f->err);
    if (!f->s) fail_msg("%s", f->err);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM pragma_table_info"
                                     "('items') WHERE name IN ('summary',"
                                     " 'content')"),
                     0);
    assert_int_equal(search_count(f->s, "vucic"), 1);
    assert_int_equal(search_count(f->s, "tags:kosovo"), 1);
    assert_int_equal(search_count(f->s, "ruge"), 1);
    assert_int_equal(search_count(f->s, "court"), 1);
    /* compressed, and whole again when read */
    assert_true(query_int(f->s, "SELECT length(body) FROM items WHERE id = 2") <
                1000);
    struct feed_item probe = {.id = "i2"};
    UNUSED(probe);
    sqlite3_stmt *st;
    sqlite3_exec(store_db(f->s), "UPDATE items SET idh = x'00' WHERE 0", NULL,
                 NULL, NULL);
    assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
                                        "SELECT body FROM items WHERE id = 2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    buf b = {0};
    const char *sum, *con;
    assert_int_equal(st_body_unpack(sqlite3_column_blob(st, 0),
                                    (size_t)sqlite3_column_bytes(st, 0), &b,
                                    &sum, &con),
                     0);
    assert_string_equal(sum, "court");
    assert_string_equal(con, big);
    sqlite3_finalize(st);
    buf_free(&b);
    assert_fts_consistent(f);
}

/* Bodies: small ones as they are, large ones compressed, damage caught. */
static void
test_body_pack_roundtrip(void **state)
{
    UNUSED(state);
    buf b = {0}, u = {0};
    const char *sum, *con;
    st_body_pack(&b, "", "");
    assert_int_equal(b.p[0], BODY_RAW);
    assert_int_equal(st_body_unpack(b.p, b.len, &u, &sum, &con), 0);
    assert_string_equal(sum, "");
    assert_string_equal(con, "");
    static char big[5000];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = "abcdefgh <p>&eacute;"[i % 20];
    st_body_pack(&b, "a summary", big);
    assert_int_equal(b.p[0], BODY_LZ4);
    assert_true(b.len < sizeof big / 2);
    assert_int_equal(st_body_unpack(b.p, b.len, &u, &sum, &con), 0);
    assert_string_equal(sum, "a summary");
    assert_string_equal(con, big);
    b.p[b.len / 2] ^= 0x55; /* damaged */
    b.len -= 3;
    assert_int_equal(st_body_unpack(b.p, b.len, &u, &sum, &con), -1);
    assert_int_equal(st_body_unpack(b.p, 2, &u, &sum, &con), -1);
    buf_free(&b);
    buf_free(&u);
}

/* A summary that the content's text begins with is not indexed a second
 * time; the item is found by its words and phrases all the same. */
static void
test_summary_leading_content(void **state)
{
    fx *f = *state;
    const char *text = " Les Balkans  occidentaux, hier.  Et la suite";
    size_t n = strlen(text);
    assert_true(summary_leads("Les Balkans occidentaux, hier.", text, n));
    assert_true(summary_leads("Les Balkans occidentaux", text, n));
    assert_false(summary_leads("Les Balkans occident", text, n)); /* mid-word */
    assert_false(summary_leads("Les Balkans", "Les Balkansoccidentaux", 22));
    assert_false(summary_leads("Balkans", text, n)); /* not at the start */
    assert_false(summary_leads("", text, n));
    assert_false(summary_leads("Les Balkans occidentaux, hier. Et la suite et plus", text, n));
    assert_true(summary_leads("a\xc2\xa0" "b", "a b c", 5));
    /* whitespace on one side only, next to punctuation: the same words */
    assert_true(summary_leads("Pristina. Suite", "Pristina . Suite", 16));
    assert_false(summary_leads("Pris tina", "Pristina", 8));
    assert_false(summary_leads("Pristina", "Pris tina", 9));

    feed_item a = item("1", "Titre", "https://x/1", T0 / 1000);
    a.summary = "Rencontre avec Aleksandar Vučić à Pristina.";
    a.content = "<p>Rencontre avec Aleksandar Vu&#269;i&#263; &agrave; "
                "<b>Pristina</b>.</p><p>Suite.</p>";
    feed_item b = item("2", "Autre", "https://x/2", T0 / 1000);
    b.summary = "Un résumé qui dit autre chose.";
    b.content = "<p>Le contenu.</p>";
    put_one(f, "f", &a, NULL, 0, T0);
    put_one(f, "f", &b, NULL, 0, T0);
    assert_int_equal(search_count(f->s, "vucic"), 1);
    assert_int_equal(search_count(f->s, "\"aleksandar vucic\""), 1);
    assert_int_equal(search_count(f->s, "summary:vucic"), 0); /* not twice */
    assert_int_equal(search_count(f->s, "content:vucic"), 1);
    assert_int_equal(search_count(f->s, "summary:resume"), 1);
    assert_int_equal(search_count(f->s, "contenu"), 1);
    /* stored again: the old entry goes with the values it was indexed with */
    a.title = "Titre 2";
    put_one(f, "f", &a, NULL, 0, T0 + HOUR);
    assert_int_equal(search_count(f->s, "vucic"), 1);
    assert_fts_consistent(f);
}

/* The recent link+title map keeps the latest time per key across shard
 * growth, answers "seen since" exactly, and a sweep drops only what fell
 * out of the window. Enough keys that every shard doubles several times. */
static void
test_ltmap_grows_and_sweeps(void **state)
{
    (void)state;
    ltmap m;
    memset(&m, 0, sizeof m);
    const uint64_t n = 200000;
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        st_ltmap_put(&m, x | 1, (int64_t)(i % 100) * 60000);
    }
    st_ltmap_put(&m, 0, 42 * 60000); /* key 0 is kept aside */
    x = 0x243f6a8885a308d3ULL;
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t t = (int64_t)(i % 100) * 60000;
        assert_true(st_ltmap_recent(&m, x | 1, t));
        assert_false(st_ltmap_recent(&m, x | 1, t + 60000));
    }
    assert_false(st_ltmap_recent(&m, 2, 0)); /* even keys never put */
    assert_true(st_ltmap_recent(&m, 0, 42 * 60000));
    /* a later time for a key wins; an earlier one does not undo it */
    st_ltmap_put(&m, 4, 90 * 60000);
    st_ltmap_put(&m, 4, 10 * 60000);
    assert_true(st_ltmap_recent(&m, 4, 90 * 60000));

    st_ltmap_sweep(&m, 50 * 60000);
    x = 0x243f6a8885a308d3ULL;
    size_t kept = 0;
    for (uint64_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        bool old = i % 100 < 50;
        assert_int_equal(st_ltmap_recent(&m, x | 1, 0), !old);
        kept += !old;
    }
    assert_int_equal(kept, n / 2);
    assert_false(st_ltmap_recent(&m, 0, 0)); /* 42 < 50: swept */
    assert_true(st_ltmap_recent(&m, 4, 0));
    st_ltmap_free(&m);
}

static off_t
file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* Stores 8 items with 2 KiB titles in one poll: a few pages of WAL. */
static void
store_batch(fx *f, int batch)
{
    static char ids[8][32], titles[8][2100];
    feed_item items[8];
    for (int i = 0; i < 8; i++) {
        snprintf(ids[i], sizeof ids[i], "b%d-%d", batch, i);
        for (int k = 0; k < 2048; k++)
            titles[i][k] = (char)('a' + (k * 7 + i + batch) % 26);
        titles[i][2048] = '\0';
        items[i] = item(ids[i], titles[i], "", 1700000000);
    }
    store_feed sf = feed_of("http://ckpt.example/feed");
    assert_int_equal(store_begin(f->s, &sf, 1700000000000), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(store_mark_seen(f->s, &items[i]), 0);
        assert_int_equal(store_put_item(f->s, &items[i], NULL, 0), 0);
    }
    store_feed_state st = parsed_state(1700000000000, NULL);
    assert_int_equal(store_commit(f->s, &st, f->err, sizeof f->err), 0);
}

static void
nap(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* The daemon's commits leave checkpoints to a thread with its own
 * connection: pages reach vigie.db without any commit doing it. */
static void
test_checkpoints_run_on_their_own_thread(void **state)
{
    fx *f = *state;
    assert_int_equal(
        store_checkpoint_in_background(f->s, f->err, sizeof f->err), 0);
    store_checkpoint_threshold(f->s, 16);
    off_t before = file_size(db_path(f));
    unsigned long bg = 0, fg = 0;
    for (int b = 0; b < 4; b++) store_batch(f, b);
    /* a liveness bound, not a timing: the thread is woken, not polled */
    for (int i = 0; i < 3000 && (bg == 0 || file_size(db_path(f)) <= before);
         i++) {
        nap();
        store_checkpoint_stats(f->s, &bg, &fg);
    }
    assert_true(bg >= 1);
    assert_int_equal(fg, 0);
    assert_true(file_size(db_path(f)) > before);
    /* everything committed is there, through a fresh connection too */
    store_close(f->s);
    f->s = store_open(f->dir, 0, f->err, sizeof f->err);
    assert_non_null(f->s);
    assert_int_equal(query_int(f->s, "SELECT count(*) FROM items"), 32);
    assert_fts_consistent(f);
}

/* A reader holding old pages keeps the thread's checkpoints from
 * finishing; past 8 times the threshold the commits checkpoint
 * themselves, as SQLite's automatic checkpoint would. */
static void
test_checkpoints_fall_back_to_commits(void **state)
{
    fx *f = *state;
    assert_int_equal(
        store_checkpoint_in_background(f->s, f->err, sizeof f->err), 0);
    store_checkpoint_threshold(f->s, 1);
    sqlite3 *reader;
    assert_int_equal(sqlite3_open(db_path(f), &reader), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM items",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    unsigned long bg = 0, fg = 0;
    for (int b = 0; fg == 0 && b < 64; b++) {
        store_batch(f, b);
        store_checkpoint_stats(f->s, &bg, &fg);
    }
    assert_true(fg >= 1);
    sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(reader);
}

/* The daemon stops when its database file is deleted or replaced under
 * it (QA: it went on writing into the unlinked file, and the next start
 * alerted on every item again). */
static void
test_file_moved(void **state)
{
    fx *f = *state;
    char path[128], away[160];
    snprintf(path, sizeof path, "%s/" STORE_DB_NAME, f->dir);
    snprintf(away, sizeof away, "%s.away", path);
    assert_int_equal(store_file_moved(f->s), 0);
    /* renamed away, then back: the same file again */
    assert_int_equal(rename(path, away), 0);
    assert_int_equal(store_file_moved(f->s), 1);
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(store_file_moved(f->s), 0);
    /* replaced by another file (a restore by mv) */
    int fd = open(away, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rename(away, path), 0);
    assert_int_equal(store_file_moved(f->s), 1);
    /* deleted */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(store_file_moved(f->s), 1);
}

int
main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-fixture"))
        return write_fixture(argv[2]);
    log_init(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_sets_up_wal_full_fk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrates_from_previous_version,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file_named_and_untouched,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_schema_page_refused,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_or_newer_database_refused,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(
            test_missing_database_not_created_by_commands, setup_empty,
            teardown),
        cmocka_unit_test_setup_teardown(test_readonly_state_dir, setup_empty,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_disk_full_mid_transaction_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validators_saved_only_with_items,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_and_calls_without_begin,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_same_id_and_updates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dedup_link_title_across_feeds,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_inside_one_document, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_catch_up_on_first_poll_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_search_ignores_accents_and_case,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_newest_first_and_tags_merge,
                                        setup, teardown),
        cmocka_unit_test(test_index_text),
        cmocka_unit_test_setup_teardown(test_retention_prunes_gone_items_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_is_bounded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alert_keys_stable_and_distinct,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_many_feeds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reserve_dedup_and_forget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rule_failures_roundtrip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_index_written_at_commit,
                                        setup, teardown),
        cmocka_unit_test(test_content_hash_is_pinned),
        cmocka_unit_test_setup_teardown(test_migration_clears_content_hashes,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_migration_packs_bodies,
                                        setup_empty, teardown),
        cmocka_unit_test(test_body_pack_roundtrip),
        cmocka_unit_test(test_ltmap_grows_and_sweeps),
        cmocka_unit_test_setup_teardown(test_locked_database_forgets_reservations,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_run_on_their_own_thread,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_fall_back_to_commits,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_leading_content, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
