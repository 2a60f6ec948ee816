/* store_int.h — private to daemon/store*.c: what the store's files share.
 *
 * The store is one module split into files by concern (store.c's opening
 * comment lists them). This header is how those files see each other:
 * struct store, the prepared statements' indices, and the few functions
 * one of them defines for the others, prefixed st_. Nothing else includes
 * it (tests/test_store.c includes the .c files themselves): what the store
 * promises is in store.h. */
#ifndef VIGIE_STORE_INT_H
#define VIGIE_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store.h"
#include "util.h"

struct feed_item;
typedef struct st_ckpt st_ckpt; /* store_ckpt.c */

/* The prepared statements, s->q[Q_*] (their SQL: queries[] in store.c). */
enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_ROLLBACK,
    Q_FEED_LOOKUP,
    Q_FEED_GET,
    Q_FEED_UPSERT,
    Q_FEED_STATE,
    Q_FEED_STORED,
    Q_SEEN_GET,
    Q_SEEN_INSERT,
    Q_SEEN_TOUCH,
    Q_ITEM_GET,
    Q_ITEM_INSERT,
    Q_ITEM_UPDATE,
    Q_FTS_INSERT,
    Q_FTS_ROW,
    Q_FTS_DELETE,
    Q_OUTBOX_INSERT,
    Q_FAIL_UPSERT,
    Q_FAIL_DELETE,
    Q_COUNT
};

/* Sequence numbers of alerts inside one transaction: (item, script,
 * target) → how many so far. A handful per feed: a linear scan. */
typedef struct alert_seq {
    uint64_t h;
    unsigned n;
} alert_seq;

/* Recent link+title hashes → when last seen, in minutes since the epoch
 * (a dedup window is days long: a minute's precision is plenty, and 12
 * bytes a slot rather than 16 matter when 10,000 feeds keep 600,000 of
 * them). Open addressing, load at most 3/4; key 0 kept aside. The map is
 * LT_SHARDS tables, chosen by a key's top bits, each growing on its own:
 * one table doubling would hold its old and new arrays at once, half
 * again the whole map's memory at the peak of a big first poll. */
#define LT_SHARD_BITS 6
#define LT_SHARDS (1u << LT_SHARD_BITS)

typedef struct lt_shard {
    uint64_t *k;
    uint32_t *t;
    size_t cap, n;
} lt_shard;

typedef struct ltmap {
    lt_shard shard[LT_SHARDS];
    bool has_zero;
    uint32_t zero_t;
} ltmap;

typedef struct lt_pending {
    uint64_t lt;
    int64_t t;
} lt_pending;

/* An index entry to delete at the outermost commit: the values it was
 * indexed with (a contentless FTS5 table needs them). */
typedef struct fts_old {
    int64_t rowid;
    char *title, *summary, *content, *tags;
} fts_old;

/* The hashes of one item (the last one asked for), and which item. */
typedef struct item_hashes {
    const struct feed_item *it;
    const char *id, *title, *link, *content;
    store_item_key k;
} item_hashes;

struct store {
    sqlite3 *db;
    char *path;
    bool readonly;
    store_params params;
    sqlite3_stmt *q[Q_COUNT];
    EVP_MD_CTX *md;
    EVP_MD *sha256;
    item_hashes memo;

    /* the current transaction */
    bool in_tx, failed;
    int64_t feed_id, now;
    char *feed_key;
    buf feed_json;
    int64_t new_seen, stored;
    alert_seq *seq;
    size_t nseq, capseq;
    char errmsg[512];

    /* retention: the next feed id to prune */
    int64_t prune_cursor;

    /* dedup by link+title: committed state, and this transaction's part */
    ltmap recent;
    bool recent_loaded;
    int64_t recent_from; /* holds everything seen since this time */
    lt_pending *lt_tx;
    size_t nlt_tx, caplt_tx;
    /* Full-text index writes wait for the outermost commit: FTS5 writes
     * its pending terms out as a new segment at every savepoint, and each
     * feed of a group is one, so indexing inside them cost a segment (and
     * its merging) per feed. Items stored (rowids, indexed from their row
     * as it is at the commit) and entries to delete; *_mark: the lengths
     * when the current feed began, what its rollback goes back to. */
    int64_t *fts_new;
    size_t nfts_new, capfts_new, fts_new_mark;
    buf body_tmp; /* bodies packed and unpacked */
    fts_old *fts_del;
    size_t nfts_del, capfts_del, fts_del_mark;
    /* a group: several feeds' transactions committed together */
    bool in_group, group_failed, group_relaxed;
    char group_err[512];
    /* the checkpoint thread, when the daemon asked for one */
    st_ckpt *ckpt;
};

/* ---- store_ckpt.c ---------------------------------------------------- */

/* Stops the checkpoint thread (store_close). */
void st_checkpoint_stop(store *s);

/* ---- store.c: small helpers ------------------------------------------- */

/* "<db>: <what>: <sqlite's reason>", with a hint for an operator. */
void st_db_err(store *s, char *err, size_t errlen, const char *what);
/* NULL binds SQL NULL; the text must outlive the statement's step. */
int st_bind_text(sqlite3_stmt *st, int i, const char *v);
int st_bind_textn(sqlite3_stmt *st, int i, const char *v, size_t n);
const char *st_col_text(sqlite3_stmt *st, int i);
/* now - d, without wrapping; STORE_FOREVER reaches back to the beginning. */
int64_t st_before(int64_t now, int64_t d);
/* sqlite3_exec, its error worded as st_db_err's. 0 or -1. */
int st_exec_sql(store *s, const char *sql, char *err, size_t errlen,
                const char *what);
/* Runs s->q[qi] (bound) to completion inside the transaction; a failure
 * fails the transaction (s->failed, s->errmsg). 0 or -1. */
int st_tx_step(store *s, int qi, const char *what);

/* ---- store_hash.c: item keys ------------------------------------------ */

/* The first 8 bytes of a digest as a big-endian integer. */
int64_t st_first8(const unsigned char *d);
/* The SHA-256 content hash that alert keys are made with. */
int64_t st_alert_content_hash(store *s, const struct feed_item *it);
/* The item's keys: `given`, or those of the last item asked for, or
 * computed (and remembered in s->memo). */
const store_item_key *st_hashes_of(store *s, const struct feed_item *it,
                                   const store_item_key *given);

/* ---- store_dedup.c: the recent link+title map ------------------------- */

/* Keeps the latest time (ms) for k. */
void st_ltmap_put(ltmap *m, uint64_t k, int64_t ms);
/* Seen at `since` (ms) or later. */
bool st_ltmap_recent(const ltmap *m, uint64_t k, int64_t since);
void st_ltmap_free(ltmap *m);
/* Drops what was last seen before `since` (ms). */
void st_ltmap_sweep(ltmap *m, int64_t since);

/* ---- store_text.c: the archived text, the full-text index ------------- */

/* An item's summary and content as one `body` blob, in out. */
void st_body_pack(buf *out, const char *summary, const char *content);
/* The summary and the content of a body, pointing into out. 0, or -1 if
 * the body is damaged. */
int st_body_unpack(const void *blob, size_t len, buf *out, const char **summary,
                   const char **content);
/* Adds (Q_FTS_INSERT) or removes (Q_FTS_DELETE) an item's index entry,
 * inside the transaction. 0 or -1. */
int st_fts_write(store *s, int qi, int64_t rowid, const char *title,
                 const char *summary, const char *content,
                 const char *tags_json);
/* Registers the vigie_* SQL functions the migrations use. */
void st_sql_functions(store *s);

#endif
