/* store_retention.c — upkeep, away from the feeds' transactions:
 * store_maintain prunes, in bounded steps, what the retention settings let
 * go (seen ids, archived items with their index entries, delivered alerts,
 * old rule failures), merges the full-text index a little and gives a few
 * free pages back; store_compact gives more back at a clean stop. Never
 * VACUUM. */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

/* ---- retention ---------------------------------------------------------- */

static long
run_changes(store *s, sqlite3_stmt *st, char *err, size_t errlen,
            const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, what);
        return -1;
    }
    return sqlite3_changes(s->db);
}

/* Seen ids, a few feeds at a time (each feed's rows are contiguous in the
 * primary key, so no index on last_seen is needed): an id goes once it
 * was not in its feed for keep_seen, counted up to the feed's last parsed
 * document, not up to now. */
static long
prune_seen(store *s, int64_t now, int budget, char *err, size_t errlen)
{
    if (s->params.keep_seen == STORE_FOREVER) return 0;
    sqlite3_stmt *feeds, *del;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, min(last_parsed, ?2) FROM feeds"
                           " WHERE id > ?1 AND last_parsed > 0 ORDER BY id",
                           -1, &feeds, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "pruning seen items");
        return -1;
    }
    if (sqlite3_prepare_v2(s->db,
                           "DELETE FROM seen WHERE feed = ?1 AND idh IN"
                           " (SELECT idh FROM seen WHERE feed = ?1"
                           " AND last_seen < ?2 LIMIT ?3)",
                           -1, &del, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "pruning seen items");
        sqlite3_finalize(feeds);
        return -1;
    }
    sqlite3_bind_int64(feeds, 1, s->prune_cursor);
    sqlite3_bind_int64(feeds, 2, now);
    long removed = 0;
    int visited = 0;
    while (removed < budget && visited < 1000) {
        int rc = sqlite3_step(feeds);
        if (rc == SQLITE_DONE) {
            s->prune_cursor = 0; /* every feed visited: start again */
            break;
        }
        if (rc != SQLITE_ROW) {
            st_db_err(s, err, errlen, "pruning seen items");
            removed = -1;
            break;
        }
        int64_t id = sqlite3_column_int64(feeds, 0);
        int64_t upto = sqlite3_column_int64(feeds, 1);
        long limit = budget - removed;
        sqlite3_bind_int64(del, 1, id);
        sqlite3_bind_int64(del, 2, st_before(upto, s->params.keep_seen));
        sqlite3_bind_int64(del, 3, limit);
        long n = run_changes(s, del, err, errlen, "pruning seen items");
        sqlite3_reset(del);
        if (n < 0) {
            removed = -1;
            break;
        }
        removed += n;
        visited++;
        if (n < limit) s->prune_cursor = id; /* this feed is done */
    }
    sqlite3_finalize(feeds);
    sqlite3_finalize(del);
    return removed;
}

static long
prune_items(store *s, int64_t now, int budget, char *err, size_t errlen)
{
    if (s->params.keep_items == STORE_FOREVER) return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, title, body, tags FROM"
                           " items WHERE stored < ?1 ORDER BY id LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "pruning items");
        return -1;
    }
    sqlite3_bind_int64(st, 1, st_before(now, s->params.keep_items));
    sqlite3_bind_int(st, 2, budget);
    /* Collect first: deleting while the SELECT runs is allowed in SQLite,
     * but the FTS writes go through the store's transaction helpers. */
    typedef struct old {
        int64_t id;
        char *t, *s, *c, *g;
    } old;
    old *v = xcalloc((size_t)budget, sizeof *v);
    int n = 0, rc;
    buf body = {0};
    while (n < budget && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *sum, *con;
        if (st_body_unpack(sqlite3_column_blob(st, 2),
                           (size_t)sqlite3_column_bytes(st, 2), &body, &sum,
                           &con) < 0)
            continue; /* damaged: its index entry cannot be named; kept */
        v[n].id = sqlite3_column_int64(st, 0);
        v[n].t = xstrdup(st_col_text(st, 1) ? st_col_text(st, 1) : "");
        v[n].s = xstrdup(sum);
        v[n].c = xstrdup(con);
        v[n].g = st_col_text(st, 3) ? xstrdup(st_col_text(st, 3)) : NULL;
        n++;
    }
    buf_free(&body);
    sqlite3_finalize(st);
    long ret = n;
    if (n) {
        sqlite3_stmt *del = NULL;
        s->in_tx = true; /* fts_write/tx_step need it; the caller began */
        s->failed = false;
        if (sqlite3_prepare_v2(s->db, "DELETE FROM items WHERE id = ?1", -1,
                               &del, NULL) != SQLITE_OK)
            ret = -1;
        for (int i = 0; ret >= 0 && i < n; i++) {
            if (st_fts_write(s, Q_FTS_DELETE, v[i].id, v[i].t, v[i].s, v[i].c,
                             v[i].g) < 0) {
                ret = -1;
                break;
            }
            sqlite3_bind_int64(del, 1, v[i].id);
            if (run_changes(s, del, err, errlen, "pruning items") < 0) ret = -1;
            sqlite3_reset(del);
        }
        if (ret < 0 && s->failed)
            set_err(err, errlen, "%s", s->errmsg);
        else if (ret < 0 && !del)
            st_db_err(s, err, errlen, "pruning items");
        s->in_tx = false;
        sqlite3_finalize(del);
    }
    for (int i = 0; i < n; i++) {
        free(v[i].t);
        free(v[i].s);
        free(v[i].c);
        free(v[i].g);
    }
    free(v);
    return ret;
}

static long
prune_simple(store *s, const char *sql, int64_t cutoff, int budget, char *err,
             size_t errlen, const char *what)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, what);
        return -1;
    }
    sqlite3_bind_int64(st, 1, cutoff);
    sqlite3_bind_int(st, 2, budget);
    long n = run_changes(s, st, err, errlen, what);
    sqlite3_finalize(st);
    return n;
}

long
store_maintain(store *s, int64_t now, int budget, char *err, size_t errlen)
{
    if (s->in_tx) {
        set_err(err, errlen, "%s: store_maintain inside a transaction",
                s->path);
        return -1;
    }
    if (budget <= 0) budget = 1000;
    if (st_exec_sql(s, "BEGIN IMMEDIATE", err, errlen, "pruning") < 0)
        return -1;
    long total = 0, n;
    if ((n = prune_seen(s, now, budget, err, errlen)) < 0) goto fail;
    total += n;
    if ((n = prune_items(s, now, budget, err, errlen)) < 0) goto fail;
    total += n;
    if (s->params.keep_delivered != STORE_FOREVER) {
        n = prune_simple(s,
                         "DELETE FROM outbox WHERE id IN (SELECT id FROM"
                         " outbox WHERE state = 2 AND done_at < ?1 LIMIT ?2)",
                         st_before(now, s->params.keep_delivered), budget, err,
                         errlen, "pruning delivered alerts");
        if (n < 0) goto fail;
        total += n;
    }
    if (s->params.keep_seen != STORE_FOREVER) {
        n = prune_simple(s,
                         "DELETE FROM rule_failures WHERE id IN (SELECT id"
                         " FROM rule_failures WHERE last_failed < ?1"
                         " LIMIT ?2)",
                         st_before(now, s->params.keep_seen), budget, err,
                         errlen, "pruning rule failures");
        if (n < 0) goto fail;
        total += n;
    }
    /* bounded FTS merging, so that searches read few segments */
    if (st_exec_sql(
            s, "INSERT INTO items_fts(items_fts, rank) VALUES('merge', 64)",
            err, errlen, "merging the full-text index") < 0)
        goto fail;
    if (st_exec_sql(s, "COMMIT", err, errlen, "pruning") < 0) goto fail;
    if (s->recent_loaded) {
        int64_t from = st_before(now, s->params.dedup_window);
        st_ltmap_sweep(&s->recent, from);
        s->recent_from = from;
    }
    /* Give back a bounded number of free pages (never a full VACUUM). */
    st_exec_sql(s, "PRAGMA incremental_vacuum(256)", NULL, 0, "");
    return total;
fail:
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

void
store_compact(store *s, int max_pages)
{
    if (!s || s->readonly || store_in_transaction(s) || max_pages <= 0) return;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA incremental_vacuum(%d)", max_pages);
    char err[512];
    if (st_exec_sql(s, sql, err, sizeof err, "giving free pages back") < 0)
        log_warn("%s", err);
}
