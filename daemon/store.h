/* store.h — vigie's state: one SQLite database, `vigie.db`, in state_dir.
 *
 * What it promises:
 *  - store_open() creates the database or migrates it forward (the schema
 *    version is PRAGMA user_version). It never recreates, truncates or
 *    "repairs" a file it cannot use: a corrupt file, a foreign database or a
 *    newer schema is an error that names the file, and the file is left as
 *    it was. WAL, synchronous=FULL (a commit survives power loss), foreign
 *    keys, a busy timeout so `vigie outbox` can write while the daemon runs.
 *  - One fetched feed = one transaction: store_begin(), then marks seen,
 *    stored items, alerts (outbox rows) and rule failures, then
 *    store_commit() with the feed's new state and validators. All of it is
 *    durable or none of it is. After the first failing call every later
 *    call fails too and store_commit() rolls back and reports that first
 *    error: the caller checks one return value. A begin..commit must not
 *    span an event-loop turn (it holds SQLite's write lock).
 *  - Dedup (store_classify, read-only, before the rules run): an item whose
 *    (feed, id) was seen before is SEEN, or UPDATED when its content hash
 *    (title, link, summary, content) changed; a new id whose link and title
 *    equal an item seen within dedup_window in any feed is a DUPLICATE; on
 *    the first poll of a feed (no document parsed yet) an item published
 *    before now - catch_up (or without a date) is OLD: marked seen, no rules.
 *    The link+title hashes of the window are kept in memory by the process
 *    that classifies (read from the database on its first call, 12-24 bytes
 *    per recent item), rather than indexed on disk: see store.c.
 *  - Retention happens only in store_maintain(), in bounded steps, never
 *    during a feed's transaction, and never VACUUM.
 *
 * Times: `now` arguments and stored times are wall-clock epoch milliseconds;
 * item dates (published, updated) are epoch seconds, as in feed.h. Durations
 * are milliseconds; STORE_FOREVER (the config's DURATION_FOREVER) = never.
 * Errors are one line without the "vigie: " prefix, naming the database. */
#ifndef VIGIE_STORE_H
#define VIGIE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct feed_item;
struct sqlite3;

#define STORE_FOREVER INT64_MAX
#define STORE_DB_NAME "vigie.db"
#define STORE_SCHEMA_VERSION 7

typedef struct store store;

/* store_open flags. Without STORE_CREATE the database must exist and have
 * the current schema: commands run by hand (`vigie search`, `vigie outbox`)
 * never create or migrate a file the daemon (maybe another user) owns. */
#define STORE_CREATE 1   /* create state_dir (one level) and the db, migrate */
#define STORE_READONLY 2 /* open read-only (implies no create) */

store *store_open(const char *state_dir, int flags, char *err, size_t errlen);
void store_close(store *s);
const char *store_path(const store *s);
/* 1 when the file at store_path() is no longer the one open (deleted,
 * renamed, or replaced by another file), 0 when it is, -1 when SQLite
 * cannot tell. One stat(2): cheap enough for a periodic check. */
int store_file_moved(store *s);
/* The daemon's choice: WAL checkpoints (copying committed pages from
 * vigie.db-wal into vigie.db, with their fsyncs) run on a thread with its
 * own connection instead of inside the commits of this one, which only
 * falls back to doing them itself if that thread fails or falls far
 * behind. store_close() stops the thread. 0, or -1 with the reason. */
int store_checkpoint_in_background(store *s, char *err, size_t errlen);
/* For tests: checkpoints done by the thread and by the commits; the WAL
 * length in pages that asks for one. */
void store_checkpoint_stats(store *s, unsigned long *background,
                            unsigned long *foreground);
void store_checkpoint_threshold(store *s, int pages);
/* The connection, for outbox.c and tests. */
struct sqlite3 *store_db(store *s);

/* Dedup and retention settings, from the config (same units, same
 * defaults: catch_up 24h, dedup on, dedup_window 7d, keep_seen 90d,
 * keep_items forever; keep_delivered 7d keeps delivered alerts for
 * `vigie outbox list` and per-minute rate limits). */
typedef struct store_params {
    int64_t catch_up, dedup_window, keep_seen, keep_items, keep_delivered;
    bool dedup;
} store_params;

void store_params_default(store_params *p);
void store_set_params(store *s, const store_params *p);

/* ---- per-feed state --------------------------------------------------- */

/* A feed's row. store_commit() reads the "written" fields; store_feed_get()
 * fills all of them (strings in the caller's arena, NULL when unset). */
typedef struct store_feed_state {
    /* identity (read only) */
    const char *key, *url, *name, *title;
    /* written by store_commit() */
    const char *etag, *last_modified; /* saved only when `parsed` */
    int status;                       /* last HTTP status, 0: no response */
    const char *error;                /* NULL when the poll went fine */
    int64_t failures;                 /* consecutive failed polls */
    int64_t last_poll, next_poll;     /* ms */
    bool disabled;
    const char *disabled_why;
    /* True when a document was parsed and every one of its items went
     * through store_mark_seen() in this transaction: only then are the
     * validators saved (a 304 next time must not hide unseen items), and
     * the feed is "primed" (catch-up no longer applies). */
    bool parsed;
    /* read only: maintained by the store */
    int64_t last_ok, last_parsed;                /* ms, 0 never */
    int64_t items_seen, items_new, items_stored; /* new: in the last poll */
    int64_t fail_since; /* ms: first failed poll of the current run, 0 */
} store_feed_state;

/* 1 and *out filled, 0 when the feed has no row yet, -1 on error. */
int store_feed_get(store *s, const char *key, store_feed_state *out, arena *mem,
                   char *err, size_t errlen);
/* Every feed row, failing ones (error set) first, then by key. The callback
 * returns 0 to go on; its non-zero value stops and is returned. */
int store_feeds_foreach(store *s, int (*cb)(const store_feed_state *, void *),
                        void *ud, char *err, size_t errlen);
/* Items in the archive, whatever feed they came from (one no longer
 * configured, or since moved to another URL, included). */
int store_items_count(store *s, int64_t *out, char *err, size_t errlen);

/* ---- dedup (read-only, outside a transaction) ------------------------- */

typedef enum store_verdict {
    STORE_NEW,       /* run the rules */
    STORE_SEEN,      /* same feed and id, same content: nothing to do */
    STORE_UPDATED,   /* same feed and id, content changed: on_update only */
    STORE_DUPLICATE, /* new id, same link+title seen recently: no rules */
    STORE_OLD,       /* first poll, older than catch_up: no rules */
} store_verdict;

const char *store_verdict_name(store_verdict v);

/* One verdict per item of a fetched document (an id or link+title repeated
 * inside the document counts as seen/duplicate after its first
 * occurrence). Call it right before handing the NEW items to the rules,
 * and commit before classifying another feed, or a story syndicated in two
 * feeds processed at once may alert twice (never zero times). */
int store_classify(store *s, const char *feed_key,
                   const struct feed_item *items, size_t n, int64_t now,
                   store_verdict *out, char *err, size_t errlen);

/* What the store derives from an item to find it again. store_classify_keys
 * computes them once per item; the *_key calls below take them back
 * instead of hashing the item again (NULL: they hash it). */
typedef struct store_item_key {
    unsigned char idh[16]; /* SHA-256/128 of the id: the item's key */
    int64_t hash;          /* content hash: has the item changed? */
    int64_t lt;            /* link+title hash (dedup), when has_lt */
    bool has_lt;
} store_item_key;

void store_item_key_of(store *s, const struct feed_item *it,
                       store_item_key *k);
/* The same for items[0..n), from any thread (no store involved): the
 * parse thread computes them with the document. */
void store_item_keys(const struct feed_item *items, size_t n,
                     store_item_key *out);
/* store_classify, also filling keys[0..n) (may be NULL). */
int store_classify_keys(store *s, const char *feed_key,
                        const struct feed_item *items, size_t n, int64_t now,
                        store_verdict *out, store_item_key *keys, char *err,
                        size_t errlen);

/* store_classify with keys[0..n) given (store_item_keys), not computed. */
int store_classify_given(store *s, const char *feed_key,
                         const struct feed_item *items, size_t n, int64_t now,
                         store_verdict *out, const store_item_key *keys,
                         char *err, size_t errlen);

/* The stored copy of an item as JSON (the `vigie parse` item shape, plus
 * "tags"), for on_update(item, old); NULL if it was never stored. */
char *store_item_json(store *s, const char *feed_key, const char *item_id);

/* ---- the feed's transaction ------------------------------------------- */

/* Who the transaction is for. title/link come from the parsed document
 * (NULL: keep what the row has); name is the configured name or NULL. */
typedef struct store_feed {
    const char *key, *url, *name, *title, *link;
} store_feed;

int store_begin(store *s, const store_feed *f, int64_t now);
/* Every item of the parsed document, whatever its verdict: records new
 * ids, new content hashes and (coarsely) that the item is still in the
 * feed, which retention needs. */
int store_mark_seen(store *s, const struct feed_item *it);
int store_mark_seen_key(store *s, const struct feed_item *it,
                        const store_item_key *k);
/* Archives the item (FTS-indexed). Storing it again merges the tags and
 * refreshes the fields. Tags are UTF-8, at most 64 of 256 bytes kept. */
int store_put_item(store *s, const struct feed_item *it,
                   const char *const *tags, size_t ntags);
int store_put_item_key(store *s, const struct feed_item *it,
                       const store_item_key *k, const char *const *tags,
                       size_t ntags);
/* Queues an alert for webhook `target`: an outbox row holding the payload
 * (a JSON object, as text), the item and the feed, and its idempotency key
 * (outbox_key(): feed, item, content, target, script, and the count of
 * earlier alerts from that script for that item and target in this
 * transaction). An identical alert already queued is not queued twice.
 * it may be NULL for an alert from a script's top level. */
int store_enqueue_alert(store *s, const struct feed_item *it,
                        const char *script, const char *target,
                        const char *payload, size_t payload_len);
/* A rule failed on this item: remember it (with the whole item) so that
 * the script runs on it again after a reload; and forget it once it ran. */
int store_add_rule_failure(store *s, const struct feed_item *it,
                           const char *script, const char *error);
int store_clear_rule_failure(store *s, const char *item_id, const char *script);
/* st NULL: leave the feed's state as it was (a rerun of rule failures). */
int store_commit(store *s, const store_feed_state *st, char *err,
                 size_t errlen);
void store_rollback(store *s);
/* Groups: several feeds' transactions (store_begin .. store_commit, each
 * then a savepoint) committed together, one fsync for all. A feed that
 * fails inside a group rolls back alone; the group commit makes all of
 * them durable, or, if it fails, none (then every feed of the group must
 * be treated as not committed). A group must not span an event-loop turn
 * either. */
/* durable false: the group holds nothing new (no rule ran on a new item):
 * it is committed without an fsync (synchronous=NORMAL). */
int store_group_begin(store *s, bool durable, char *err, size_t errlen);
int store_group_commit(store *s, char *err, size_t errlen);
/* Reserves the link+title of the items classified STORE_NEW, so that
 * feeds classified before this one commits see its stories as duplicates
 * (the same story in two feeds in flight alerts once). Any rollback
 * forgets every reservation (the next classify reads the database). */
void store_reserve(store *s, const struct feed_item *items,
                   const store_verdict *v, size_t n, int64_t now);
void store_reserve_keys(store *s, const store_item_key *keys,
                        const store_verdict *v, size_t n, int64_t now);
/* A transaction or a group is open (the outbox and upkeep must wait). */
bool store_in_transaction(const store *s);

/* The first error of the current/last transaction, or "". */
const char *store_error(const store *s);

/* ---- rule failures ---------------------------------------------------- */

typedef struct store_failure {
    int64_t id;
    const char *feed_key, *script, *error;
    int64_t attempts, first_failed, last_failed;
    struct feed_item *item; /* rebuilt from its JSON */
} store_failure;

/* Pending failures of `script` (NULL: all scripts), oldest first, at most
 * max, in the caller's arena. Returns the count or -1. */
long store_failures_load(store *s, const char *script, size_t max,
                         store_failure **out, arena *mem, char *err,
                         size_t errlen);

/* ---- search ----------------------------------------------------------- */

typedef struct store_hit {
    const char *title, *link, *item_id, *feed, *feed_url; /* feed: label */
    const char *tags_json; /* a JSON array, "[]" when none */
    int64_t published;     /* seconds, DATE_NONE if unknown */
    int64_t stored;        /* ms */
} store_hit;

#define STORE_EQUERY (-2) /* the FTS5 query does not parse */

/* FTS5 query over title, summary, content and tags (diacritics and case
 * ignored), newest first (published, else stored time), at most limit.
 * 0, -1 on error, STORE_EQUERY with SQLite's reason for a bad query. */
int store_search(store *s, const char *query, size_t limit,
                 int (*cb)(const store_hit *, void *), void *ud, char *err,
                 size_t errlen);

/* ---- upkeep ----------------------------------------------------------- */

/* Prunes at most `budget` rows of each kind: seen ids not seen in their
 * feed for keep_seen (measured against the feed's last parsed document, so
 * a feed that was down for months keeps its ids), items stored before
 * keep_items, delivered alerts older than keep_delivered, rule failures
 * older than keep_seen; then returns free pages in small steps
 * (incremental vacuum). Returns rows removed (call again later when it
 * equals budget) or -1. */
long store_maintain(store *s, int64_t now, int budget, char *err,
                    size_t errlen);

/* Gives at most max_pages free pages back to the file system, as at a
 * clean stop: merging the full-text index frees pages that later writes
 * would reuse; a stopped daemon's file need not keep them. */
void store_compact(store *s, int max_pages);

/* The item as JSON, the `vigie parse` item shape. */
void store_item_write_json(buf *out, const struct feed_item *it);
/* The reverse, for rule failures: strings in mem. 0 or -1. */
int store_item_from_json(const char *json, struct feed_item *out, arena *mem);

/* What the full-text index sees of an HTML field: tags, comments, scripts
 * and styles dropped (a tag becomes a space), character references
 * decoded (named ones of the form <letter><accent> as their base letter).
 * Part of the schema: changing it requires a migration that rebuilds the
 * index. Appends to out. */
void store_index_text(buf *out, const char *html, size_t n);
/* s spelled as the index keeps it, where its tokenizer (which folds case
 * and Latin accents) would not read it as vigie.fold does: the Latin
 * letters that do not decompose (Đ dj, ß ss, Ł l, Ø o, Æ ae ...), other
 * scripts folded (Greek tonos and final sigma, ё), and each letter of a
 * script written without spaces (Han, kana, Thai) a word of its own. FTS5
 * operators, ASCII, are left as they are. Everything indexed goes through
 * it; a search's query through store_index_query, which also makes each
 * run of such letters outside quotes a phrase. */
void store_index_letters(buf *out, const char *s, size_t n);
void store_index_query(buf *out, const char *s, size_t n);

#endif
