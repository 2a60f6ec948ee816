/* store.c — the SQLite state: opening and migrating the database, the
 * prepared statements, feed rows, the per-feed transaction and groups of
 * them, rule failures. The rest of the store is in files of its own, one
 * concern each, sharing struct store through store_int.h:
 *   store_hash.c       item keys and content hashes
 *   store_dedup.c      classify: seen ids, the recent link+title map
 *   store_text.c       the archived text (LZ4), what the full-text index
 *                      sees of an item, searching it
 *   store_json.c       items as JSON (alerts, rule failures, on_update)
 *   store_retention.c  store_maintain, store_compact
 *   store_ckpt.c       WAL checkpoints on a thread of the daemon's
 *
 * Layout of the database (schema version 7, STORE_SCHEMA_VERSION):
 *   feeds          one row per feed key: validators, last status, failure
 *                  count, next poll, disabled + why, counters
 *   seen           (feed, SHA-256/128 of the item id) → 64-bit content hash,
 *                  64-bit link+title hash, first and last seen. The
 *                  link+title hashes are not indexed: an index keyed by a
 *                  hash takes its inserts at random places, and would
 *                  rewrite a page per new item per commit. The daemon keeps
 *                  the recent ones in memory instead (`recent`, built from
 *                  `seen` on first use, updated at each commit).
 *   items          archived items, all fields, tags (JSON), stored time
 *   items_fts      contentless FTS5 index over title, summary, the text of
 *                  content (store_index_text) and tags; rows are deleted
 *                  with their original values, recomputed from `items`
 *   rule_failures  (feed, script, item id) → the item as JSON, the error
 *   outbox         alerts (see outbox.h)
 * Hashes rather than ids in `seen` keep it small: it holds every item of
 * every feed for keep_seen. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "date.h"
#include "feed.h"
#include "jsonw.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "store_int.h"
#include "url.h"

#define APPLICATION_ID 0x56494749 /* "VIGI" */
#define BUSY_TIMEOUT_MS 5000
#define MAX_TAGS 64
#define MAX_TAG_BYTES 256
#define DAY_MS 86400000LL
/* Archived items are a few KB: with 4 KB pages most pages would hold one
 * row and waste a third of the file. */
#define PAGE_SIZE 16384
/* The page cache, per connection: the upper levels of the trees and a
 * group's pages (the rest is in the kernel's page cache, a pread away).
 * On a 10,000-feed first poll, 2 MB rather than 8 took 6-8 MB off the
 * peak RSS (72 -> 64 MB) and nothing measurable off the speed (17.2 CPU
 * seconds both); 16 MB made no difference to the speed either. */
#define CACHE_KB 2048
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- schema ------------------------------------------------------------ */

/* migrations[v] takes the schema from version v to v + 1. Never edit a
 * released step: add one. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 → 1: the tables */
    "CREATE TABLE feeds("
    " id INTEGER PRIMARY KEY,"
    " key TEXT NOT NULL UNIQUE,"
    " url TEXT, name TEXT, title TEXT, link TEXT,"
    " etag TEXT, last_modified TEXT,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " last_poll INTEGER NOT NULL DEFAULT 0,"
    " last_ok INTEGER NOT NULL DEFAULT 0,"
    " last_parsed INTEGER NOT NULL DEFAULT 0,"
    " next_poll INTEGER NOT NULL DEFAULT 0,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " disabled_why TEXT,"
    " items_seen INTEGER NOT NULL DEFAULT 0,"
    " items_new INTEGER NOT NULL DEFAULT 0,"
    " items_stored INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE seen("
    " feed INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    " idh BLOB NOT NULL,"
    " hash INTEGER NOT NULL,"
    " lt INTEGER,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " PRIMARY KEY(feed, idh)) WITHOUT ROWID;"
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY,"
    " feed INTEGER NOT NULL REFERENCES feeds(id),"
    " idh BLOB NOT NULL,"
    " item_id TEXT NOT NULL,"
    " title TEXT NOT NULL, link TEXT NOT NULL, summary TEXT NOT NULL,"
    " content TEXT NOT NULL, author TEXT NOT NULL,"
    " categories TEXT, enclosures TEXT,"
    " published INTEGER, updated INTEGER,"
    " tags TEXT,"
    " stored INTEGER NOT NULL,"
    " UNIQUE(feed, idh));"
    "CREATE TABLE rule_failures("
    " id INTEGER PRIMARY KEY,"
    " feed INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    " script TEXT NOT NULL,"
    " item_id TEXT NOT NULL,"
    " item TEXT NOT NULL,"
    " error TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 1,"
    " first_failed INTEGER NOT NULL,"
    " last_failed INTEGER NOT NULL,"
    " UNIQUE(feed, script, item_id));"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY,"
    " target TEXT NOT NULL,"
    " key TEXT NOT NULL UNIQUE,"
    " script TEXT, feed_key TEXT, item_id TEXT, title TEXT,"
    " payload TEXT NOT NULL, item TEXT, feed TEXT,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " since INTEGER NOT NULL,"
    " due INTEGER NOT NULL,"
    " lease_until INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " error TEXT, response TEXT,"
    " done_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX outbox_queue ON outbox(target, id) WHERE state < 2;"
    "CREATE INDEX outbox_done ON outbox(target, done_at) WHERE state = 2;",

    /* 1 → 2: the full-text index, filled from what is already archived */
    "CREATE VIRTUAL TABLE items_fts USING fts5("
    " title, summary, content, tags, content='', columnsize=0,"
    " tokenize='unicode61 remove_diacritics 2');"
    /* merge segments 16 at a time while writing (4 by default): a quarter
     * less work per feed; store_maintain() merges the rest when idle */
    "INSERT INTO items_fts(items_fts, rank) VALUES('automerge', 16);"
    "INSERT INTO items_fts(rowid, title, summary, content, tags)"
    " SELECT id, title, summary, vigie_index_text(content),"
    " vigie_tags_text(tags) FROM items;",

    /* 2 → 3: when the current run of failures began (health alerts) */
    "ALTER TABLE feeds ADD COLUMN fail_since INTEGER NOT NULL DEFAULT 0;"
    "UPDATE feeds SET fail_since = CASE WHEN failures > 0"
    " THEN max(last_ok, 1) ELSE 0 END;",

    /* 3 → 4: the content hash in `seen` is no longer SHA-256 (see
     * content_hash()). `seen` keeps no text to recompute it from, so the
     * old values become 0, "unknown": the next poll takes such an item as
     * unchanged (a change made exactly across the upgrade is not seen as
     * one) and records its new hash. */
    "UPDATE seen SET hash = 0;",

    /* 4 → 5: summary and content kept together, LZ4-compressed (see
     * st_body_pack()): the archive's text was two thirds of the file. And the
     * index is rebuilt: named character references in content are now
     * decoded to their characters, and a summary that the content's text
     * begins with is not indexed twice (see st_fts_write()). */
    "ALTER TABLE items ADD COLUMN body BLOB;"
    "UPDATE items SET body = vigie_body_pack(summary, content);"
    "ALTER TABLE items DROP COLUMN summary;"
    "ALTER TABLE items DROP COLUMN content;"
    "DROP TABLE items_fts;"
    "CREATE VIRTUAL TABLE items_fts USING fts5("
    " title, summary, content, tags, content='', columnsize=0,"
    " tokenize='unicode61 remove_diacritics 2');"
    "INSERT INTO items_fts(items_fts, rank) VALUES('automerge', 16);"
    "INSERT INTO items_fts(rowid, title, summary, content, tags)"
    " SELECT id, title, vigie_fts_summary(body), vigie_fts_content(body),"
    " vigie_tags_text(tags) FROM items;",

    /* 5 → 6: the index rebuilt with the letters that do not decompose
     * spelled out (store_index_letters): "Djuric" finds "Đurić", "strasse"
     * finds "Straße". The functions spell them; the title needs one. */
    "INSERT INTO items_fts(items_fts) VALUES('delete-all');"
    "INSERT INTO items_fts(rowid, title, summary, content, tags)"
    " SELECT id, vigie_fts_letters(title), vigie_fts_summary(body),"
    " vigie_fts_content(body), vigie_tags_text(tags) FROM items;",

    /* 6 → 7: rebuilt again with other scripts spelled as vigie.fold has
     * them and the letters of scripts without spaces as words of their
     * own (store_index_letters): "αθηνα" finds "Αθήνα", "елка" "ёлка",
     * "東京" "東京都で". */
    "INSERT INTO items_fts(items_fts) VALUES('delete-all');"
    "INSERT INTO items_fts(rowid, title, summary, content, tags)"
    " SELECT id, vigie_fts_letters(title), vigie_fts_summary(body),"
    " vigie_fts_content(body), vigie_tags_text(tags) FROM items;",
};

/* ---- prepared statements ---------------------------------------------- */

#define FEED_COLUMNS                                                           \
    "key, url, name, title, etag, last_modified, status, error, failures,"     \
    " last_poll, next_poll, disabled, disabled_why, last_ok, last_parsed,"     \
    " items_seen, items_new, items_stored, fail_since"

static const char *const queries[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_SAVEPOINT] = "SAVEPOINT feed",
    [Q_RELEASE] = "RELEASE feed",
    [Q_ROLLBACK_TO] = "ROLLBACK TO feed",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_FEED_LOOKUP] = "SELECT id, last_parsed FROM feeds WHERE key = ?1",
    [Q_FEED_GET] = "SELECT " FEED_COLUMNS " FROM feeds WHERE key = ?1",
    [Q_FEED_UPSERT] =
        "INSERT INTO feeds(key, url, name, title, link)"
        " VALUES(?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT(key) DO UPDATE SET url = excluded.url,"
        " name = excluded.name, title = coalesce(excluded.title, title),"
        " link = coalesce(excluded.link, link)"
        " RETURNING id, url, name, title, link",
    [Q_FEED_STATE] =
        "UPDATE feeds SET status = ?2, error = ?3, failures = ?4,"
        " last_poll = ?5, next_poll = ?6, disabled = ?7, disabled_why = ?8,"
        " last_ok = CASE WHEN ?3 IS NULL THEN ?5 ELSE last_ok END,"
        " fail_since = CASE WHEN ?3 IS NULL THEN 0"
        " WHEN fail_since = 0 THEN ?5 ELSE fail_since END,"
        " etag = CASE WHEN ?9 THEN ?10 ELSE etag END,"
        " last_modified = CASE WHEN ?9 THEN ?11 ELSE last_modified END,"
        " last_parsed = CASE WHEN ?9 THEN ?12 ELSE last_parsed END,"
        " items_seen = items_seen + ?13, items_new = ?13,"
        " items_stored = items_stored + ?14"
        " WHERE id = ?1",
    [Q_FEED_STORED] =
        "UPDATE feeds SET items_stored = items_stored + ?2 WHERE id = ?1",
    [Q_SEEN_GET] = "SELECT hash FROM seen WHERE feed = ?1 AND idh = ?2",
    [Q_SEEN_INSERT] = "INSERT OR IGNORE INTO seen"
                      "(feed, idh, hash, lt, first_seen, last_seen)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?5)",
    [Q_SEEN_TOUCH] = "UPDATE seen SET hash = ?3, lt = ?4, last_seen = ?5"
                     " WHERE feed = ?1 AND idh = ?2"
                     " AND (hash != ?3 OR last_seen < ?6)",
    [Q_ITEM_GET] = "SELECT id, title, body, tags FROM items"
                   " WHERE feed = ?1 AND idh = ?2",
    [Q_ITEM_INSERT] =
        "INSERT INTO items(feed, idh, item_id, title, link, body, author,"
        " categories, enclosures, published, updated, tags, stored)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [Q_ITEM_UPDATE] =
        "UPDATE items SET item_id = ?3, title = ?4, link = ?5, body = ?6,"
        " author = ?8, categories = ?9, enclosures = ?10, published = ?11,"
        " updated = ?12, tags = ?13, stored = ?14, idh = ?2 WHERE id = ?1",
    [Q_FTS_INSERT] = "INSERT INTO items_fts(rowid, title, summary, content,"
                     " tags) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_FTS_ROW] = "SELECT title, body, tags FROM items"
                  " WHERE id = ?1",
    [Q_FTS_DELETE] = "INSERT INTO items_fts(items_fts, rowid, title, summary,"
                     " content, tags) VALUES('delete', ?1, ?2, ?3, ?4, ?5)",
    [Q_OUTBOX_INSERT] =
        "INSERT OR IGNORE INTO outbox(target, key, script, feed_key, item_id,"
        " title, payload, item, feed, state, created, since, due)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?10, ?10)",
    [Q_FAIL_UPSERT] =
        "INSERT INTO rule_failures(feed, script, item_id, item, error,"
        " first_failed, last_failed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"
        " ON CONFLICT(feed, script, item_id) DO UPDATE SET"
        " item = excluded.item, error = excluded.error,"
        " attempts = attempts + 1, last_failed = excluded.last_failed",
    [Q_FAIL_DELETE] = "DELETE FROM rule_failures WHERE feed = ?1"
                      " AND script = ?2 AND item_id = ?3",
};

static void fts_truncate(store *s, size_t nnew, size_t ndel);

/* ---- small helpers ------------------------------------------------------ */

/* "<db>: <what>: <sqlite's reason>", with a hint where SQLite's words are
 * not enough for an operator. */
void
st_db_err(store *s, char *err, size_t errlen, const char *what)
{
    int rc = sqlite3_extended_errcode(s->db) & 0xff;
    const char *hint = "";
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
        hint = " (the file is damaged: restore a backup or move it away)";
    else if (rc == SQLITE_READONLY)
        hint = " (check the permissions of the state directory and file)";
    set_err(err, errlen, "%s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db),
            hint);
}

int
st_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (!v) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int
st_bind_textn(sqlite3_stmt *st, int i, const char *v, size_t n)
{
    if (!v) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text64(st, i, v, n, SQLITE_STATIC, SQLITE_UTF8);
}

const char *
st_col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static char *
col_dup(sqlite3_stmt *st, int i, arena *mem)
{
    const char *t = st_col_text(st, i);
    return t ? arena_strdup(mem, t) : NULL;
}

/* now - d, without wrapping; "forever" reaches back to the beginning. */
int64_t
st_before(int64_t now, int64_t d)
{
    if (d == STORE_FOREVER || d >= now - INT64_MIN / 2) return INT64_MIN;
    return now - d;
}

int
st_exec_sql(store *s, const char *sql, char *err, size_t errlen,
            const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = sqlite3_extended_errcode(s->db) & 0xff;
        const char *hint = "";
        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
            hint = " (the file is damaged: restore a backup or move it away)";
        set_err(err, errlen, "%s: %s: %s%s", s->path, what,
                msg ? msg : sqlite3_errmsg(s->db), hint);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* ---- open, migrate ------------------------------------------------------ */

static int
check_header(const char *path, char *err, size_t errlen)
{
    static const char magic[16] = "SQLite format 3";
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* the open below says why */
    char h[16];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got == 0) return 0; /* an empty file is an empty database */
    if (got < sizeof h || memcmp(h, magic, sizeof magic)) {
        set_err(err, errlen,
                "%s: not an SQLite database (corrupt or foreign file); it "
                "was left untouched: restore a backup or move it away",
                path);
        return -1;
    }
    return 0;
}

static int
pragma_int(store *s, const char *sql, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "reading the schema");
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        st_db_err(s, err, errlen, "reading the schema");
        return -1;
    }
    return 0;
}

static int
migrate(store *s, int64_t from, char *err, size_t errlen)
{
    for (int64_t v = from; v < STORE_SCHEMA_VERSION; v++) {
        char what[64], tail[96];
        snprintf(what, sizeof what, "migrating the schema to version %d",
                 (int)(v + 1));
        if (st_exec_sql(s, "BEGIN IMMEDIATE", err, errlen, what) < 0) return -1;
        snprintf(tail, sizeof tail,
                 "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 APPLICATION_ID, (int)(v + 1));
        if (st_exec_sql(s, migrations[v], err, errlen, what) < 0 ||
            st_exec_sql(s, tail, err, errlen, what) < 0 ||
            st_exec_sql(s, "COMMIT", err, errlen, what) < 0) {
            if (!sqlite3_get_autocommit(s->db))
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (from > 0 && from < STORE_SCHEMA_VERSION)
        log_notice("%s: schema migrated from version %d to %d", s->path,
                   (int)from, STORE_SCHEMA_VERSION);
    return 0;
}

void
store_params_default(store_params *p)
{
    p->catch_up = DAY_MS;
    p->dedup = true;
    p->dedup_window = 7 * DAY_MS;
    p->keep_seen = 90 * DAY_MS;
    p->keep_items = STORE_FOREVER;
    p->keep_delivered = 7 * DAY_MS;
}

void
store_set_params(store *s, const store_params *p)
{
    s->params = *p;
}

static int
open_checks(const char *dir, const char *path, int flags, char *err,
            size_t errlen)
{
    bool create = (flags & STORE_CREATE) && !(flags & STORE_READONLY);
    struct stat sb;
    if (stat(dir, &sb) < 0) {
        if (errno != ENOENT || !create) {
            set_err(err, errlen, "%s: state directory: %s", dir,
                    strerror(errno));
            return -1;
        }
        if (mkdir(dir, 0750) < 0) {
            set_err(err, errlen, "%s: cannot create the state directory: %s",
                    dir, strerror(errno));
            return -1;
        }
    } else if (!S_ISDIR(sb.st_mode)) {
        set_err(err, errlen, "%s: state_dir is not a directory", dir);
        return -1;
    }
    bool exists = stat(path, &sb) == 0;
    if (!exists && !create) {
        set_err(err, errlen,
                "%s: no database yet (the daemon creates it on its first run)",
                path);
        return -1;
    }
    if (flags & STORE_READONLY) {
        if (access(path, R_OK) < 0) {
            set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    /* WAL needs to create -wal and -shm files next to the database. */
    if (access(dir, W_OK | X_OK) < 0) {
        set_err(err, errlen, "%s: state directory is not writable: %s", dir,
                strerror(errno));
        return -1;
    }
    if (exists && access(path, R_OK | W_OK) < 0) {
        set_err(err, errlen, "%s: cannot read and write: %s", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Each feed's writes are a savepoint of its group's transaction, and
 * each row written there a statement: SQLite keeps the pages they change
 * in a sub-journal, which by default goes to a temporary file past 64 KiB.
 * Measured on a first poll of 10,000 feeds: 195,700 pwrite calls and
 * 1.5 GB written to /var/tmp for a 300 MB database. Up to this size the
 * journals stay in memory (freed at each release); bigger ones still
 * spill. Must run before SQLite initialises; later it is a no-op. */
#define STMT_JOURNAL_IN_MEMORY (4 << 20)

static void
store_configure_sqlite(void)
{
    static bool done;
    if (done) return;
    done = true;
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_IN_MEMORY);
}

store *
store_open(const char *state_dir, int flags, char *err, size_t errlen)
{
    char path[PATH_MAX];
    store_configure_sqlite();
    if (!state_dir || !*state_dir) {
        set_err(err, errlen, "state_dir is empty");
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", state_dir,
                         STORE_DB_NAME) >= sizeof path) {
        set_err(err, errlen, "%s: path too long", state_dir);
        return NULL;
    }
    if (open_checks(state_dir, path, flags, err, errlen) < 0) return NULL;
    if (check_header(path, err, errlen) < 0) return NULL;

    store *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->readonly = flags & STORE_READONLY;
    store_params_default(&s->params);
    s->md = EVP_MD_CTX_new();
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!s->md || !s->sha256) {
        set_err(err, errlen, "OpenSSL: SHA-256 is not available");
        store_close(s);
        return NULL;
    }
    int oflags = SQLITE_OPEN_NOMUTEX;
    /* A read-only connection cannot remove the -wal and -shm files when it
     * closes last; run by root next to a stopped daemon, it would leave
     * root-owned files the daemon's user cannot open. So "read-only" is a
     * read-write connection with query_only, where writing is possible. */
    if (s->readonly && (access(path, W_OK) < 0 || access(state_dir, W_OK) < 0))
        oflags |= SQLITE_OPEN_READONLY;
    else if (s->readonly)
        oflags |= SQLITE_OPEN_READWRITE;
    else
        oflags |= SQLITE_OPEN_READWRITE |
                  ((flags & STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
        if (s->db)
            st_db_err(s, err, errlen, "cannot open");
        else
            set_err(err, errlen, "%s: cannot open: out of memory", path);
        store_close(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    st_sql_functions(s);

    /* Read before writing anything: a damaged or foreign file must stay
     * exactly as it is. */
    int64_t app = 0, version = 0, tables = 0;
    if (pragma_int(s, "PRAGMA application_id", &app, err, errlen) < 0 ||
        pragma_int(s, "PRAGMA user_version", &version, err, errlen) < 0 ||
        pragma_int(s, "SELECT count(*) FROM sqlite_schema", &tables, err,
                   errlen) < 0) {
        store_close(s);
        return NULL;
    }
    if ((app != 0 && app != APPLICATION_ID) ||
        (app == 0 && (version != 0 || tables != 0))) {
        set_err(err, errlen,
                "%s: not a vigie database (another program's file?); it was "
                "left untouched",
                path);
        store_close(s);
        return NULL;
    }
    if (version > STORE_SCHEMA_VERSION) {
        set_err(err, errlen,
                "%s: schema version %d is newer than this vigie's (%d): "
                "refusing to downgrade",
                path, (int)version, STORE_SCHEMA_VERSION);
        store_close(s);
        return NULL;
    }
    if (version < STORE_SCHEMA_VERSION && !(flags & STORE_CREATE)) {
        set_err(err, errlen,
                "%s: schema version %d, this vigie needs %d: start the daemon "
                "once to migrate it",
                path, (int)version, STORE_SCHEMA_VERSION);
        store_close(s);
        return NULL;
    }
    if (!s->readonly) {
        /* auto_vacuum only takes on a database without tables. */
        char setup[160];
        snprintf(setup, sizeof setup,
                 "PRAGMA page_size = %d; PRAGMA auto_vacuum = INCREMENTAL;",
                 PAGE_SIZE);
        if ((tables == 0 &&
             st_exec_sql(s, setup, err, errlen, "setting up") < 0) ||
            st_exec_sql(s,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                        " PRAGMA foreign_keys = ON;",
                        err, errlen, "setting up") < 0) {
            store_close(s);
            return NULL;
        }
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) ==
            SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW &&
                ascii_strcasecmp(st_col_text(st, 0), "wal"))
                log_warn("%s: journal mode is %s, not WAL", path,
                         st_col_text(st, 0));
            sqlite3_finalize(st);
        }
        if (migrate(s, version, err, errlen) < 0) {
            store_close(s);
            return NULL;
        }
    } else {
        st_exec_sql(s, "PRAGMA query_only = ON", NULL, 0, "");
    }
    /* A group's transactions and the upper levels of the trees stay in
     * memory. Set once the page size is settled: on a new database SQLite
     * counted the KiB in 4 KiB pages, then kept the page count when the
     * pages became 16 KiB (a cache four times the size asked for). */
    sqlite3_exec(s->db, "PRAGMA cache_size = -" STR(CACHE_KB), NULL, NULL,
                 NULL);
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &s->q[i], NULL) != SQLITE_OK) {
            st_db_err(s, err, errlen, "preparing statements");
            store_close(s);
            return NULL;
        }
    }
    return s;
}

void
store_close(store *s)
{
    if (!s) return;
    if (s->in_tx) store_rollback(s);
    st_checkpoint_stop(s);
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    /* close_v2: should an outbox still hold statements (outbox_free comes
     * first), the file is closed when they are finalized. */
    if (s->db) sqlite3_close_v2(s->db);
    EVP_MD_free(s->sha256);
    EVP_MD_CTX_free(s->md);
    buf_free(&s->feed_json);
    buf_free(&s->body_tmp);
    free(s->feed_key);
    free(s->seq);
    free(s->lt_tx);
    fts_truncate(s, 0, 0);
    free(s->fts_new);
    free(s->fts_del);
    st_ltmap_free(&s->recent);
    free(s->path);
    free(s);
}

const char *
store_path(const store *s)
{
    return s->path;
}

int
store_file_moved(store *s)
{
    /* SQLite's unix VFS compares the inode it opened with a stat of the
     * path: the descriptor stays valid after an unlink, so writes would
     * go on, into a file no later start will open. */
    int moved = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) !=
        SQLITE_OK)
        return -1;
    return moved != 0;
}

sqlite3 *
store_db(store *s)
{
    return s->db;
}

const char *
store_verdict_name(store_verdict v)
{
    switch (v) {
    case STORE_NEW:
        return "new";
    case STORE_SEEN:
        return "seen";
    case STORE_UPDATED:
        return "updated";
    case STORE_DUPLICATE:
        return "duplicate";
    case STORE_OLD:
        return "old";
    }
    return "?";
}

/* ---- feeds -------------------------------------------------------------- */


static void
read_feed_row(sqlite3_stmt *st, store_feed_state *o, arena *mem)
{
    memset(o, 0, sizeof *o);
    o->key = col_dup(st, 0, mem);
    o->url = col_dup(st, 1, mem);
    o->name = col_dup(st, 2, mem);
    o->title = col_dup(st, 3, mem);
    o->etag = col_dup(st, 4, mem);
    o->last_modified = col_dup(st, 5, mem);
    o->status = sqlite3_column_int(st, 6);
    o->error = col_dup(st, 7, mem);
    o->failures = sqlite3_column_int64(st, 8);
    o->last_poll = sqlite3_column_int64(st, 9);
    o->next_poll = sqlite3_column_int64(st, 10);
    o->disabled = sqlite3_column_int(st, 11) != 0;
    o->disabled_why = col_dup(st, 12, mem);
    o->last_ok = sqlite3_column_int64(st, 13);
    o->last_parsed = sqlite3_column_int64(st, 14);
    o->items_seen = sqlite3_column_int64(st, 15);
    o->items_new = sqlite3_column_int64(st, 16);
    o->items_stored = sqlite3_column_int64(st, 17);
    o->fail_since = sqlite3_column_int64(st, 18);
}

int
store_feed_get(store *s, const char *key, store_feed_state *out, arena *mem,
               char *err, size_t errlen)
{
    /* prepared once: the daemon reads every feed's row at start (10,000
     * feeds: a prepare each was a quarter of an all-304 poll's CPU) */
    sqlite3_stmt *st = s->q[Q_FEED_GET];
    st_bind_text(st, 1, key);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        read_feed_row(st, out, mem);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, "reading feeds");
        ret = -1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_feeds_foreach(store *s, int (*cb)(const store_feed_state *, void *),
                    void *ud, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT " FEED_COLUMNS " FROM feeds"
                           " ORDER BY error IS NULL, key",
                           -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "reading feeds");
        return -1;
    }
    int rc, ret = 0;
    arena mem = {0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_feed_state f;
        read_feed_row(st, &f, &mem);
        ret = cb(&f, ud);
        arena_free(&mem);
        if (ret) break;
    }
    if (!ret && rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, "reading feeds");
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

int
store_items_count(store *s, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM items", -1, &st,
                           NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "counting items");
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        st_db_err(s, err, errlen, "counting items");
        return -1;
    }
    return 0;
}

/* ---- the feed's transaction -------------------------------------------- */

static int
tx_fail(store *s, const char *what)
{
    if (!s->failed) {
        s->failed = true;
        st_db_err(s, s->errmsg, sizeof s->errmsg, what);
    }
    return -1;
}

static int
tx_check(store *s)
{
    if (!s->in_tx) {
        if (!s->failed) {
            s->failed = true;
            snprintf(s->errmsg, sizeof s->errmsg,
                     "%s: no transaction (store_begin was not called)",
                     s->path);
        }
        return -1;
    }
    return s->failed ? -1 : 0;
}

/* The parser never gives an item without an id; a caller bug must not
 * crash the daemon or store a nameless row. */
static int
item_check(store *s, const struct feed_item *it)
{
    if (it && it->id && *it->id) return 0;
    if (!s->failed) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg, "%s: an item without an id",
                 s->path);
    }
    return -1;
}

/* Runs a write statement to completion; the bindings were made. */
int
st_tx_step(store *s, int qi, const char *what)
{
    sqlite3_stmt *st = s->q[qi];
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) tx_fail(s, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

const char *
store_error(const store *s)
{
    return s->errmsg;
}

static void forget_reserved(store *s);

/* The feed as its alerts carry it, from the row just saved (key, url,
 * name, title, link). The database keeps the URLs whole, credentials
 * included; what goes out to a webhook shows them redacted (url.h). */
static void
feed_json(buf *out, const char *key, sqlite3_stmt *row)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    static const char *const names[] = {"key", "url", "name", "title", "link"};
    for (int i = 0; i < 5; i++) {
        const char *v = i == 0 ? key : st_col_text(row, i);
        char *shown = i < 2 && v ? url_redact(v) : NULL;
        jsonw_key(&w, names[i]);
        jsonw_str(&w, shown ? shown : v);
        free(shown);
    }
    jsonw_obj_close(&w);
}

int
store_begin(store *s, const store_feed *f, int64_t now)
{
    if (s->in_tx) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%s: store_begin inside a transaction", s->path);
        s->failed = true;
        return -1;
    }
    s->failed = false;
    s->errmsg[0] = '\0';
    s->memo.it = NULL; /* items of an earlier batch may have been freed */
    s->new_seen = s->stored = 0;
    s->nseq = 0;
    s->nlt_tx = 0;
    if (!s->in_group) fts_truncate(s, 0, 0);
    s->fts_new_mark = s->nfts_new;
    s->fts_del_mark = s->nfts_del;
    s->now = now;
    free(s->feed_key);
    s->feed_key = xstrdup(f->key);
    buf_reset(&s->feed_json);
    if (s->readonly) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg, "%s: opened read-only", s->path);
        return -1;
    }
    if (s->in_group && (s->group_failed || sqlite3_get_autocommit(s->db))) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg, "%s",
                 s->group_err[0] ? s->group_err : "the group's transaction was rolled back");
        return -1;
    }
    int qb = s->in_group ? Q_SAVEPOINT : Q_BEGIN;
    int rc = sqlite3_step(s->q[qb]);
    sqlite3_reset(s->q[qb]);
    if (rc != SQLITE_DONE) {
        /* what classify reserved for this feed will not be committed */
        forget_reserved(s);
        return tx_fail(s, "starting a transaction");
    }
    s->in_tx = true;

    sqlite3_stmt *q = s->q[Q_FEED_UPSERT];
    st_bind_text(q, 1, f->key);
    st_bind_text(q, 2, f->url);
    st_bind_text(q, 3, f->name);
    st_bind_text(q, 4, f->title);
    st_bind_text(q, 5, f->link);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        s->feed_id = sqlite3_column_int64(q, 0);
        feed_json(&s->feed_json, f->key, q);
    }
    /* RETURNING: the row comes before the statement is done. */
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(q);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    if (rc != SQLITE_DONE) return tx_fail(s, "saving the feed");
    return 0;
}

int
store_mark_seen(store *s, const struct feed_item *it)
{
    return store_mark_seen_key(s, it, NULL);
}

int
store_mark_seen_key(store *s, const struct feed_item *it,
                    const store_item_key *k)
{
    if (tx_check(s) < 0 || item_check(s, it) < 0) return -1;
    const store_item_key *h = st_hashes_of(s, it, k);
    if (h->has_lt) {
        if (s->nlt_tx == s->caplt_tx) {
            s->caplt_tx = s->caplt_tx ? 2 * s->caplt_tx : 64;
            s->lt_tx = xrealloc(s->lt_tx, s->caplt_tx * sizeof *s->lt_tx);
        }
        s->lt_tx[s->nlt_tx++] = (lt_pending){(uint64_t)h->lt, s->now};
    }
    sqlite3_stmt *q = s->q[Q_SEEN_INSERT];
    sqlite3_bind_int64(q, 1, s->feed_id);
    sqlite3_bind_blob(q, 2, h->idh, 16, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, h->hash);
    if (h->has_lt)
        sqlite3_bind_int64(q, 4, h->lt);
    else
        sqlite3_bind_null(q, 4);
    sqlite3_bind_int64(q, 5, s->now);
    if (st_tx_step(s, Q_SEEN_INSERT, "marking an item seen") < 0) return -1;
    if (sqlite3_changes(s->db) == 1) {
        s->new_seen++;
        return 0;
    }
    /* Known: record a new content hash at once, and that the item is still
     * in the feed now and then (a write per item per poll would be most of
     * the database's work; retention needs only coarse times). */
    int64_t grain = DAY_MS;
    if (s->params.keep_seen != STORE_FOREVER && s->params.keep_seen / 4 < grain)
        grain = s->params.keep_seen / 4;
    q = s->q[Q_SEEN_TOUCH];
    sqlite3_bind_int64(q, 1, s->feed_id);
    sqlite3_bind_blob(q, 2, h->idh, 16, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, h->hash);
    if (h->has_lt)
        sqlite3_bind_int64(q, 4, h->lt);
    else
        sqlite3_bind_null(q, 4);
    sqlite3_bind_int64(q, 5, s->now);
    sqlite3_bind_int64(q, 6, s->now - grain);
    return st_tx_step(s, Q_SEEN_TOUCH, "marking an item seen");
}

static void
write_str_array(buf *out, const char *const *v, size_t n)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_arr_open(&w);
    for (size_t i = 0; i < n; i++)
        jsonw_str(&w, v[i]);
    jsonw_arr_close(&w);
}

static void
write_enclosures(buf *out, const struct feed_item *it)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_arr_open(&w);
    for (size_t i = 0; i < it->nenclosures; i++) {
        const feed_enclosure *e = &it->enclosures[i];
        jsonw_obj_open(&w);
        jsonw_key(&w, "url");
        jsonw_str(&w, e->url ? e->url : "");
        jsonw_key(&w, "type");
        jsonw_str(&w, e->type ? e->type : "");
        jsonw_key(&w, "length");
        jsonw_int(&w, e->length);
        jsonw_obj_close(&w);
    }
    jsonw_arr_close(&w);
}

/* Length of s cut to at most max bytes on a UTF-8 boundary. */
static size_t
utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* Old tags (JSON) ∪ new ones, in order of first appearance, capped. */
static void
merge_tags(buf *out, const char *old_json, const char *const *tags,
           size_t ntags)
{
    json_t *all = json_array();
    json_t *old = old_json ? json_loads(old_json, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    if (json_is_array(old)) json_array_foreach(old, i, v)
        {
            if (json_is_string(v) && json_array_size(all) < MAX_TAGS)
                json_array_append(all, v);
        }
    for (i = 0; i < ntags && json_array_size(all) < MAX_TAGS; i++) {
        if (!tags[i] || !*tags[i]) continue;
        json_t *t = json_stringn(tags[i], utf8_cut(tags[i], MAX_TAG_BYTES));
        if (!t) continue; /* not UTF-8 */
        bool dup = false;
        size_t j;
        json_t *u;
        json_array_foreach(all, j, u)
        {
            if (json_equal(u, t)) dup = true;
        }
        if (dup)
            json_decref(t);
        else
            json_array_append_new(all, t);
    }
    if (json_array_size(all)) {
        char *txt = json_dumps(all, JSON_COMPACT);
        if (txt) buf_adds(out, txt);
        free(txt);
    }
    json_decref(old);
    json_decref(all);
}

/* A damaged body (which the file's checksums do not catch: SQLite has
 * none) fails the transaction rather than index or delete wrong words. */
static int
unpack_or_fail(store *s, sqlite3_stmt *q, int col, buf *b, const char **sum,
               const char **con)
{
    if (st_body_unpack(sqlite3_column_blob(q, col),
                       (size_t)sqlite3_column_bytes(q, col), b, sum, con) == 0)
        return 0;
    if (!s->failed) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%s: a stored item's text is damaged (restore a backup)",
                 s->path);
    }
    return -1;
}

/* Indexes a stored item from its row. */
static int
fts_index_row(store *s, int64_t rowid)
{
    sqlite3_stmt *q = s->q[Q_FTS_ROW];
    sqlite3_bind_int64(q, 1, rowid);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(q);
        if (rc == SQLITE_DONE) return 0; /* (cannot happen: same transaction) */
        return tx_fail(s, "indexing an item");
    }
    const char *sum, *con;
    rc = unpack_or_fail(s, q, 1, &s->body_tmp, &sum, &con);
    if (rc == 0)
        rc = st_fts_write(s, Q_FTS_INSERT, rowid, st_col_text(q, 0), sum, con,
                          st_col_text(q, 2));
    sqlite3_reset(q);
    return rc;
}

static bool
fts_pending(const store *s, int64_t rowid)
{
    for (size_t i = 0; i < s->nfts_new; i++)
        if (s->fts_new[i] == rowid) return true;
    return false;
}

static void
fts_defer_index(store *s, int64_t rowid)
{
    if (s->nfts_new == s->capfts_new) {
        s->capfts_new = s->capfts_new ? 2 * s->capfts_new : 256;
        s->fts_new = xrealloc(s->fts_new, s->capfts_new * sizeof *s->fts_new);
    }
    s->fts_new[s->nfts_new++] = rowid;
}

static void
fts_defer_delete(store *s, int64_t rowid, const char *title,
                 const char *summary, const char *content, const char *tags)
{
    if (s->nfts_del == s->capfts_del) {
        s->capfts_del = s->capfts_del ? 2 * s->capfts_del : 16;
        s->fts_del = xrealloc(s->fts_del, s->capfts_del * sizeof *s->fts_del);
    }
    s->fts_del[s->nfts_del++] = (fts_old){
        rowid, xstrdup(title ? title : ""), xstrdup(summary ? summary : ""),
        xstrdup(content ? content : ""), tags ? xstrdup(tags) : NULL};
}

/* Forgets deferred index work back to the given lengths. */
static void
fts_truncate(store *s, size_t nnew, size_t ndel)
{
    if (nnew < s->nfts_new) s->nfts_new = nnew;
    while (s->nfts_del > ndel) {
        fts_old *o = &s->fts_del[--s->nfts_del];
        free(o->title);
        free(o->summary);
        free(o->content);
        free(o->tags);
    }
}

/* The deferred index work, right before the outermost COMMIT: the old
 * entries go first, then every stored item is indexed from its row as it
 * is now (stored twice in one transaction: indexed once, last values). */
static int
fts_flush(store *s)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->nfts_del; i++) {
        const fts_old *o = &s->fts_del[i];
        rc = st_fts_write(s, Q_FTS_DELETE, o->rowid, o->title, o->summary,
                          o->content, o->tags);
    }
    for (size_t i = 0; rc == 0 && i < s->nfts_new; i++)
        rc = fts_index_row(s, s->fts_new[i]);
    fts_truncate(s, 0, 0);
    return rc;
}

int
store_put_item(store *s, const struct feed_item *it, const char *const *tags,
               size_t ntags)
{
    return store_put_item_key(s, it, NULL, tags, ntags);
}

int
store_put_item_key(store *s, const struct feed_item *it,
                   const store_item_key *k, const char *const *tags,
                   size_t ntags)
{
    if (tx_check(s) < 0 || item_check(s, it) < 0) return -1;
    const store_item_key *h = st_hashes_of(s, it, k);
    unsigned char idh[16];
    memcpy(idh, h->idh, 16);

    /* Stored before: drop its index entry (contentless FTS needs the old
     * values), merge the tags, rewrite the row. */
    sqlite3_stmt *q = s->q[Q_ITEM_GET];
    sqlite3_bind_int64(q, 1, s->feed_id);
    sqlite3_bind_blob(q, 2, idh, 16, SQLITE_STATIC);
    int64_t rowid = 0;
    buf tags_json = {0};
    int rc = sqlite3_step(q);
    bool pending = false;
    if (rc == SQLITE_ROW) {
        rowid = sqlite3_column_int64(q, 0);
        merge_tags(&tags_json, st_col_text(q, 3), tags, ntags);
        /* already waiting to be indexed (stored earlier in this
         * transaction): its index entry does not exist yet */
        pending = fts_pending(s, rowid);
        const char *os, *oc;
        if (!pending && unpack_or_fail(s, q, 2, &s->body_tmp, &os, &oc) < 0) {
            sqlite3_reset(q);
            buf_free(&tags_json);
            return -1;
        }
        if (!pending)
            fts_defer_delete(s, rowid, st_col_text(q, 1), os, oc,
                             st_col_text(q, 3));
        sqlite3_reset(q);
    } else {
        sqlite3_reset(q);
        if (rc != SQLITE_DONE) {
            buf_free(&tags_json);
            return tx_fail(s, "reading stored items");
        }
        merge_tags(&tags_json, NULL, tags, ntags);
    }

    buf cats = {0}, encs = {0};
    if (it->ncategories)
        write_str_array(&cats, it->categories, it->ncategories);
    if (it->nenclosures) write_enclosures(&encs, it);
    int qi = rowid ? Q_ITEM_UPDATE : Q_ITEM_INSERT;
    q = s->q[qi];
    if (rowid)
        sqlite3_bind_int64(q, 1, rowid);
    else
        sqlite3_bind_int64(q, 1, s->feed_id);
    sqlite3_bind_blob(q, 2, idh, 16, SQLITE_STATIC);
    st_bind_text(q, 3, it->id);
    st_bind_text(q, 4, it->title ? it->title : "");
    st_bind_text(q, 5, it->link ? it->link : "");
    st_body_pack(&s->body_tmp, it->summary, it->content);
    sqlite3_bind_blob(q, 6, s->body_tmp.p, (int)s->body_tmp.len, SQLITE_STATIC);
    st_bind_text(q, 8, it->author ? it->author : "");
    st_bind_text(q, 9, cats.len ? cats.p : NULL);
    st_bind_text(q, 10, encs.len ? encs.p : NULL);
    if (it->published != DATE_NONE)
        sqlite3_bind_int64(q, 11, it->published);
    else
        sqlite3_bind_null(q, 11);
    if (it->updated != DATE_NONE)
        sqlite3_bind_int64(q, 12, it->updated);
    else
        sqlite3_bind_null(q, 12);
    st_bind_text(q, 13, tags_json.len ? tags_json.p : NULL);
    sqlite3_bind_int64(q, 14, s->now);
    rc = st_tx_step(s, qi, "storing an item");
    if (rc == 0 && !rowid) {
        rowid = sqlite3_last_insert_rowid(s->db);
        s->stored++;
    }
    if (rc == 0 && !pending) fts_defer_index(s, rowid);
    buf_free(&cats);
    buf_free(&encs);
    buf_free(&tags_json);
    return rc;
}

static uint64_t
fnv1a(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

static unsigned
next_seq(store *s, const char *item_id, const char *script, const char *target)
{
    uint64_t h =
        fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, item_id), script), target);
    for (size_t i = 0; i < s->nseq; i++)
        if (s->seq[i].h == h) return s->seq[i].n++;
    if (s->nseq == s->capseq) {
        s->capseq = s->capseq ? 2 * s->capseq : 16;
        s->seq = xrealloc(s->seq, s->capseq * sizeof *s->seq);
    }
    s->seq[s->nseq++] = (alert_seq){h, 1};
    return 0;
}

int
store_enqueue_alert(store *s, const struct feed_item *it, const char *script,
                    const char *target, const char *payload, size_t payload_len)
{
    if (tx_check(s) < 0) return -1;
    if (!target || !*target) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg, "%s: an alert without a target",
                 s->path);
        return -1;
    }
    if (!script) script = "";
    /* The rules runtime hands JSON objects; anything else is kept as text
     * rather than lost (and rather than failing the feed forever). */
    buf pay = {0};
    json_t *p = payload ? json_loadb(payload, payload_len, 0, NULL) : NULL;
    if (json_is_object(p)) {
        buf_add(&pay, payload, payload_len);
    } else {
        log_warn("%s: alert payload for %s is not a JSON object; sent as "
                 "text",
                 script, target);
        json_t *o = json_object();
        json_t *t = payload ? json_stringn(payload, payload_len) : NULL;
        json_object_set_new(o, "text",
                            t ? t : json_string("(invalid payload)"));
        char *txt = json_dumps(o, JSON_COMPACT);
        buf_adds(&pay, txt ? txt : "{}");
        free(txt);
        json_decref(o);
    }
    json_decref(p);

    /* An alert from a script's top level has no item: "" stands for it
     * in the key, null in the row. */
    if (it && item_check(s, it) < 0) {
        buf_free(&pay);
        return -1;
    }
    const char *id = it ? it->id : "";
    int64_t hash = it ? st_alert_content_hash(s, it) : 0;
    char key[OUTBOX_KEY_LEN];
    outbox_key(key, s->feed_key, id, hash, target, script,
               next_seq(s, id, script, target));
    buf item = {0};
    if (it) store_item_write_json(&item, it);
    sqlite3_stmt *q = s->q[Q_OUTBOX_INSERT];
    st_bind_text(q, 1, target);
    st_bind_text(q, 2, key);
    st_bind_text(q, 3, script);
    st_bind_text(q, 4, s->feed_key);
    st_bind_text(q, 5, it ? id : NULL);
    st_bind_text(q, 6, it && it->title ? it->title : "");
    st_bind_textn(q, 7, pay.p, pay.len);
    st_bind_textn(q, 8, it ? item.p : NULL, item.len);
    st_bind_textn(q, 9, s->feed_json.p ? s->feed_json.p : "{}",
                  s->feed_json.len ? s->feed_json.len : 2);
    sqlite3_bind_int64(q, 10, s->now);
    int rc = st_tx_step(s, Q_OUTBOX_INSERT, "queueing an alert");
    if (rc == 0 && sqlite3_changes(s->db) == 0 && log_level() >= LOG_DEBUG) {
        char *shown = url_redact(s->feed_key);
        log_debug("%s: alert %s to %s already queued", shown, key, target);
        free(shown);
    }
    buf_free(&pay);
    buf_free(&item);
    return rc;
}

int
store_add_rule_failure(store *s, const struct feed_item *it, const char *script,
                       const char *error)
{
    if (tx_check(s) < 0 || item_check(s, it) < 0) return -1;
    buf item = {0};
    store_item_write_json(&item, it);
    sqlite3_stmt *q = s->q[Q_FAIL_UPSERT];
    sqlite3_bind_int64(q, 1, s->feed_id);
    st_bind_text(q, 2, script ? script : "");
    st_bind_text(q, 3, it->id);
    st_bind_textn(q, 4, item.p, item.len);
    st_bind_text(q, 5, error ? error : "");
    sqlite3_bind_int64(q, 6, s->now);
    int rc = st_tx_step(s, Q_FAIL_UPSERT, "recording a rule failure");
    buf_free(&item);
    return rc;
}

int
store_clear_rule_failure(store *s, const char *item_id, const char *script)
{
    if (tx_check(s) < 0) return -1;
    sqlite3_stmt *q = s->q[Q_FAIL_DELETE];
    sqlite3_bind_int64(q, 1, s->feed_id);
    st_bind_text(q, 2, script ? script : "");
    st_bind_text(q, 3, item_id);
    return st_tx_step(s, Q_FAIL_DELETE, "clearing a rule failure");
}

/* What store_reserve assumed (link+title hashes of items not committed)
 * must not outlive a rollback: the map is read again from what the
 * database really holds. */
static void
forget_reserved(store *s)
{
    st_ltmap_free(&s->recent);
    s->recent_loaded = false;
}

void
store_rollback(store *s)
{
    if (s->in_tx) forget_reserved(s);
    if (s->in_tx && s->in_group) {
        /* only this feed's part of the group goes */
        if (!sqlite3_get_autocommit(s->db)) {
            sqlite3_step(s->q[Q_ROLLBACK_TO]);
            sqlite3_reset(s->q[Q_ROLLBACK_TO]);
            sqlite3_step(s->q[Q_RELEASE]);
            sqlite3_reset(s->q[Q_RELEASE]);
        } else {
            s->group_failed = true;
        }
    } else if (s->in_tx && !sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->q[Q_ROLLBACK]);
        sqlite3_reset(s->q[Q_ROLLBACK]);
    }
    if (s->in_tx) fts_truncate(s, s->fts_new_mark, s->fts_del_mark);
    s->in_tx = false;
    s->memo.it = NULL;
    s->nlt_tx = 0;
}

int
store_commit(store *s, const store_feed_state *st, char *err, size_t errlen)
{
    if (tx_check(s) < 0) goto fail;
    /* SQLite may roll a transaction back by itself (disk full, I/O error);
     * statements after that would each commit alone. tx_fail stops those,
     * and this catches an abort no statement reported. */
    if (sqlite3_get_autocommit(s->db)) {
        s->failed = true;
        snprintf(s->errmsg, sizeof s->errmsg,
                 "%s: the transaction was rolled back by SQLite", s->path);
        goto fail;
    }
    sqlite3_stmt *q;
    if (st) {
        q = s->q[Q_FEED_STATE];
        sqlite3_bind_int64(q, 1, s->feed_id);
        sqlite3_bind_int(q, 2, st->status);
        st_bind_text(q, 3, st->error);
        sqlite3_bind_int64(q, 4, st->failures);
        sqlite3_bind_int64(q, 5, st->last_poll);
        sqlite3_bind_int64(q, 6, st->next_poll);
        sqlite3_bind_int(q, 7, st->disabled);
        st_bind_text(q, 8, st->disabled ? st->disabled_why : NULL);
        sqlite3_bind_int(q, 9, st->parsed);
        st_bind_text(q, 10, st->etag);
        st_bind_text(q, 11, st->last_modified);
        sqlite3_bind_int64(q, 12, s->now);
        sqlite3_bind_int64(q, 13, s->new_seen);
        sqlite3_bind_int64(q, 14, s->stored);
        if (st_tx_step(s, Q_FEED_STATE, "saving the feed's state") < 0)
            goto fail;
    } else if (s->stored) {
        q = s->q[Q_FEED_STORED];
        sqlite3_bind_int64(q, 1, s->feed_id);
        sqlite3_bind_int64(q, 2, s->stored);
        if (st_tx_step(s, Q_FEED_STORED, "saving the feed's state") < 0)
            goto fail;
    }
    /* alone, this is the outermost commit; in a group, the group's is */
    if (!s->in_group && fts_flush(s) < 0) goto fail;
    int qc = s->in_group ? Q_RELEASE : Q_COMMIT;
    int rc = sqlite3_step(s->q[qc]);
    sqlite3_reset(s->q[qc]);
    if (rc != SQLITE_DONE) {
        tx_fail(s, "committing");
        goto fail;
    }
    s->in_tx = false;
    s->memo.it = NULL;
    if (s->recent_loaded)
        for (size_t i = 0; i < s->nlt_tx; i++)
            st_ltmap_put(&s->recent, s->lt_tx[i].lt, s->lt_tx[i].t);
    s->nlt_tx = 0;
    return 0;
fail:
    store_rollback(s);
    set_err(err, errlen, "%s", s->errmsg);
    return -1;
}

/* ---- groups ------------------------------------------------------------- */

static const store_item_key *
hashes(store *s, const struct feed_item *it)
{
    return st_hashes_of(s, it, NULL);
}

void
store_reserve(store *s, const struct feed_item *items, const store_verdict *v,
              size_t n, int64_t now)
{
    if (!s->params.dedup || !s->recent_loaded) return;
    for (size_t i = 0; i < n; i++) {
        if (v[i] != STORE_NEW) continue;
        const store_item_key *h = hashes(s, &items[i]);
        if (h->has_lt) st_ltmap_put(&s->recent, (uint64_t)h->lt, now);
    }
    s->memo.it = NULL;
}

void
store_reserve_keys(store *s, const store_item_key *keys,
                   const store_verdict *v, size_t n, int64_t now)
{
    if (!s->params.dedup || !s->recent_loaded) return;
    for (size_t i = 0; i < n; i++)
        if (v[i] == STORE_NEW && keys[i].has_lt)
            st_ltmap_put(&s->recent, (uint64_t)keys[i].lt, now);
}

/* Back to synchronous=FULL after a relaxed group. */
static void
group_strict(store *s)
{
    if (!s->group_relaxed) return;
    s->group_relaxed = false;
    sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
}

int
store_group_begin(store *s, bool durable, char *err, size_t errlen)
{
    if (s->in_tx || s->in_group) {
        set_err(err, errlen, "%s: a group inside a transaction", s->path);
        return -1;
    }
    /* Nothing new in it: losing it to a power cut only makes the next poll
     * do the same work again, so it may skip the fsync. */
    s->group_relaxed = !durable;
    if (s->group_relaxed)
        sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    s->group_failed = false;
    s->group_err[0] = '\0';
    int rc = sqlite3_step(s->q[Q_BEGIN]);
    sqlite3_reset(s->q[Q_BEGIN]);
    if (rc != SQLITE_DONE) {
        /* a locked database: none of the group's feeds is kept, so none
         * of the stories classify reserved for them (else each would be a
         * duplicate of itself at the next poll, and never alert) */
        st_db_err(s, err, errlen, "starting a transaction");
        forget_reserved(s);
        group_strict(s);
        return -1;
    }
    s->in_group = true;
    return 0;
}

/* What classify assumed of the group's items (their link+title hashes, so
 * that a story in two feeds of one group alerts once) must not outlive a
 * rollback: the map is read again from what the database really holds. */

static int commit_group(store *s, char *err, size_t errlen);

int
store_group_commit(store *s, char *err, size_t errlen)
{
    if (!s->in_group) {
        set_err(err, errlen, "%s: no group to commit", s->path);
        return -1;
    }
    if (s->in_tx) store_rollback(s);
    s->in_group = false;
    int ret = commit_group(s, err, errlen);
    group_strict(s);
    return ret;
}

static int
commit_group(store *s, char *err, size_t errlen)
{
    if (!s->group_failed && !sqlite3_get_autocommit(s->db)) {
        s->in_tx = true; /* tx_step's bookkeeping, for the index writes */
        s->failed = false;
        int rc = fts_flush(s);
        s->in_tx = false;
        if (rc < 0) {
            set_err(err, errlen, "%s", s->errmsg);
            sqlite3_step(s->q[Q_ROLLBACK]);
            sqlite3_reset(s->q[Q_ROLLBACK]);
            forget_reserved(s);
            return -1;
        }
    }
    fts_truncate(s, 0, 0);
    if (s->group_failed || sqlite3_get_autocommit(s->db)) {
        set_err(err, errlen, "%s: the transaction was rolled back by SQLite",
                s->path);
        if (!sqlite3_get_autocommit(s->db)) {
            sqlite3_step(s->q[Q_ROLLBACK]);
            sqlite3_reset(s->q[Q_ROLLBACK]);
        }
        forget_reserved(s);
        return -1;
    }
    int rc = sqlite3_step(s->q[Q_COMMIT]);
    sqlite3_reset(s->q[Q_COMMIT]);
    if (rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, "committing");
        if (!sqlite3_get_autocommit(s->db)) {
            sqlite3_step(s->q[Q_ROLLBACK]);
            sqlite3_reset(s->q[Q_ROLLBACK]);
        }
        forget_reserved(s);
        return -1;
    }
    return 0;
}

bool
store_in_transaction(const store *s)
{
    return s->in_tx || s->in_group;
}

/* ---- rule failures ------------------------------------------------------ */

long
store_failures_load(store *s, const char *script, size_t max,
                    store_failure **out, arena *mem, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *out = NULL;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT r.id, f.key, r.script, r.error, r.attempts,"
            " r.first_failed, r.last_failed, r.item FROM rule_failures r"
            " JOIN feeds f ON f.id = r.feed"
            " WHERE ?1 IS NULL OR r.script = ?1 ORDER BY r.id LIMIT ?2",
            -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "reading rule failures");
        return -1;
    }
    st_bind_text(st, 1, script);
    sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    store_failure *v = arena_alloc(mem, (max ? max : 1) * sizeof *v);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (size_t)n < max) {
        store_failure *f = &v[n];
        f->item = arena_alloc(mem, sizeof *f->item);
        if (store_item_from_json(st_col_text(st, 7) ? st_col_text(st, 7) : "",
                                 f->item, mem) < 0)
            continue; /* unreadable: retention will drop it */
        f->id = sqlite3_column_int64(st, 0);
        f->feed_key = col_dup(st, 1, mem);
        f->script = col_dup(st, 2, mem);
        f->error = col_dup(st, 3, mem);
        f->attempts = sqlite3_column_int64(st, 4);
        f->first_failed = sqlite3_column_int64(st, 5);
        f->last_failed = sqlite3_column_int64(st, 6);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, "reading rule failures");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *out = v;
    return n;
}
