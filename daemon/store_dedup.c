/* store_dedup.c — store_classify: one verdict per item of a fetched
 * document (new, seen, updated, duplicate, old), from the `seen` table and
 * from the link+title hashes of the dedup window, which the process keeps
 * in memory (ltmap) rather than indexed on disk (see store.c's layout
 * note). Read-only: what classify learns is written by the feed's
 * transaction (store.c), which also feeds the map at each commit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <sqlite3.h>

#include "date.h"
#include "feed.h"
#include "store.h"
#include "store_int.h"

/* ---- classify ----------------------------------------------------------- */

/* A set of 64-bit values (open addressing; 0 stands for itself via a flag). */
typedef struct u64set {
    uint64_t *v;
    size_t cap;
    bool has_zero;
} u64set;

static void
u64set_init(u64set *set, size_t n)
{
    set->cap = 16;
    while (set->cap < 2 * n)
        set->cap <<= 1;
    set->v = xcalloc(set->cap, sizeof *set->v);
    set->has_zero = false;
}

/* Adds x; true if it was already there. */
static bool
u64set_add(u64set *set, uint64_t x)
{
    if (!x) {
        bool had = set->has_zero;
        set->has_zero = true;
        return had;
    }
    size_t i = (size_t)(x * 0x9e3779b97f4a7c15ULL >> 7) & (set->cap - 1);
    while (set->v[i]) {
        if (set->v[i] == x) return true;
        i = (i + 1) & (set->cap - 1);
    }
    set->v[i] = x;
    return false;
}

static bool
u64set_has(const u64set *set, uint64_t x)
{
    if (!x) return set->has_zero;
    size_t i = (size_t)(x * 0x9e3779b97f4a7c15ULL >> 7) & (set->cap - 1);
    while (set->v[i]) {
        if (set->v[i] == x) return true;
        i = (i + 1) & (set->cap - 1);
    }
    return false;
}

static int
step_row(sqlite3_stmt *st, bool *row)
{
    int rc = sqlite3_step(st);
    *row = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* ---- recent link+title hashes ----------------------------------------- */

static unsigned
lt_shard_of(uint64_t k)
{
    return (unsigned)(k >> (64 - LT_SHARD_BITS));
}

static size_t
lt_slot(const lt_shard *sh, uint64_t k)
{
    size_t i = (size_t)(k * 0x9e3779b97f4a7c15ULL >> 7) & (sh->cap - 1);
    while (sh->k[i] && sh->k[i] != k)
        i = (i + 1) & (sh->cap - 1);
    return i;
}

/* A shard's arrays, zeroed. Large ones are mappings of their own: a
 * shard that doubles leaves the heap holes that it never gives back
 * (10,000 feeds: tens of MB of a process that otherwise needs less). */
#define LT_MMAP_MIN ((size_t)64 << 10)

static void *
lt_alloc(size_t n)
{
    if (n < LT_MMAP_MIN) return xcalloc(1, n);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) oom(n);
    return p;
}

static void
lt_release(void *p, size_t n)
{
    if (!p) return;
    if (n < LT_MMAP_MIN)
        free(p);
    else
        munmap(p, n);
}

static void
lt_shard_free(lt_shard *sh)
{
    lt_release(sh->k, sh->cap * sizeof *sh->k);
    lt_release(sh->t, sh->cap * sizeof *sh->t);
    memset(sh, 0, sizeof *sh);
}

static uint32_t
lt_minutes(int64_t ms)
{
    if (ms <= 0) return 0;
    return ms / 60000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms / 60000);
}

/* Keeps the latest time for k (not 0) in its shard. */
static void
shard_put_max(lt_shard *sh, uint64_t k, uint32_t t)
{
    if (4 * (sh->n + 1) > 3 * sh->cap) {
        lt_shard old = *sh;
        sh->cap = old.cap ? 2 * old.cap : 256;
        sh->n = 0;
        sh->k = lt_alloc(sh->cap * sizeof *sh->k);
        sh->t = lt_alloc(sh->cap * sizeof *sh->t);
        for (size_t i = 0; i < old.cap; i++)
            if (old.k[i]) shard_put_max(sh, old.k[i], old.t[i]);
        lt_shard_free(&old);
    }
    size_t i = lt_slot(sh, k);
    if (!sh->k[i]) {
        sh->k[i] = k;
        sh->t[i] = t;
        sh->n++;
    } else if (t > sh->t[i]) {
        sh->t[i] = t;
    }
}

static void
ltmap_put_max(ltmap *m, uint64_t k, uint32_t t)
{
    if (!k) {
        if (!m->has_zero || t > m->zero_t) m->zero_t = t;
        m->has_zero = true;
        return;
    }
    shard_put_max(&m->shard[lt_shard_of(k)], k, t);
}

void
st_ltmap_put(ltmap *m, uint64_t k, int64_t ms)
{
    ltmap_put_max(m, k, lt_minutes(ms));
}

/* Seen at `since` (ms) or later. Times are minutes rounded down, so
 * `since` is rounded up: the window may come out shorter by under a
 * minute, never longer (a story is not a duplicate unless surely within
 * it). */
bool
st_ltmap_recent(const ltmap *m, uint64_t k, int64_t since)
{
    uint32_t from = lt_minutes(since);
    if (since > 0 && since % 60000 && from < UINT32_MAX) from++;
    if (!k) return m->has_zero && m->zero_t >= from;
    const lt_shard *sh = &m->shard[lt_shard_of(k)];
    if (!sh->cap) return false;
    size_t i = lt_slot(sh, k);
    return sh->k[i] == k && sh->t[i] >= from;
}

void
st_ltmap_free(ltmap *m)
{
    for (unsigned i = 0; i < LT_SHARDS; i++)
        lt_shard_free(&m->shard[i]);
    memset(m, 0, sizeof *m);
}

/* Drops what fell out of the window (rebuilding each shard in turn). */
void
st_ltmap_sweep(ltmap *m, int64_t since)
{
    uint32_t from = lt_minutes(since);
    for (unsigned s = 0; s < LT_SHARDS; s++) {
        lt_shard old = m->shard[s];
        memset(&m->shard[s], 0, sizeof m->shard[s]);
        for (size_t i = 0; i < old.cap; i++)
            if (old.k[i] && old.t[i] >= from)
                shard_put_max(&m->shard[s], old.k[i], old.t[i]);
        lt_shard_free(&old);
    }
    if (m->has_zero && m->zero_t < from) m->has_zero = false;
}

/* Everything seen within the window, from the database, once. */
static int
recent_load(store *s, int64_t now, char *err, size_t errlen)
{
    int64_t from = st_before(now, s->params.dedup_window);
    if (s->recent_loaded && s->recent_from <= from) return 0;
    st_ltmap_free(&s->recent);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT lt, last_seen FROM seen"
                           " WHERE lt IS NOT NULL AND last_seen >= ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        st_db_err(s, err, errlen, "reading seen items");
        return -1;
    }
    sqlite3_bind_int64(st, 1, from);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        st_ltmap_put(&s->recent, (uint64_t)sqlite3_column_int64(st, 0),
                     sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        st_db_err(s, err, errlen, "reading seen items");
        st_ltmap_free(&s->recent);
        return -1;
    }
    s->recent_loaded = true;
    s->recent_from = from;
    return 0;
}

int
store_classify(store *s, const char *feed_key, const struct feed_item *items,
               size_t n, int64_t now, store_verdict *out, char *err,
               size_t errlen)
{
    return store_classify_keys(s, feed_key, items, n, now, out, NULL, err,
                               errlen);
}

static int classify(store *s, const char *feed_key,
                    const struct feed_item *items, size_t n, int64_t now,
                    store_verdict *out, store_item_key *keys_out,
                    const store_item_key *keys_in, char *err, size_t errlen);

int
store_classify_keys(store *s, const char *feed_key,
                    const struct feed_item *items, size_t n, int64_t now,
                    store_verdict *out, store_item_key *keys, char *err,
                    size_t errlen)
{
    return classify(s, feed_key, items, n, now, out, keys, NULL, err, errlen);
}

int
store_classify_given(store *s, const char *feed_key,
                     const struct feed_item *items, size_t n, int64_t now,
                     store_verdict *out, const store_item_key *keys,
                     char *err, size_t errlen)
{
    return classify(s, feed_key, items, n, now, out, NULL, keys, err, errlen);
}

static int
classify(store *s, const char *feed_key, const struct feed_item *items,
         size_t n, int64_t now, store_verdict *out, store_item_key *keys_out,
         const store_item_key *keys_in, char *err, size_t errlen)
{
    int64_t feed_id = 0, last_parsed = 0;
    bool row;
    sqlite3_stmt *q = s->q[Q_FEED_LOOKUP];
    st_bind_text(q, 1, feed_key);
    if (step_row(q, &row) < 0) {
        st_db_err(s, err, errlen, "reading feeds");
        sqlite3_reset(q);
        return -1;
    }
    if (row) {
        feed_id = sqlite3_column_int64(q, 0);
        last_parsed = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    bool first_poll = last_parsed == 0;
    s->memo.it = NULL;
    int64_t catch_from = st_before(now, s->params.catch_up);
    int64_t dedup_from = st_before(now, s->params.dedup_window);
    if (s->params.dedup && recent_load(s, now, err, errlen) < 0) return -1;

    u64set ids, lts;
    u64set_init(&ids, n);
    u64set_init(&lts, n);
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        const struct feed_item *it = &items[i];
        store_item_key tmp;
        const store_item_key *h = keys_in ? &keys_in[i] : NULL;
        if (!h) {
            store_item_key *k = keys_out ? &keys_out[i] : &tmp;
            store_item_key_of(s, it, k);
            h = k;
        }
        uint64_t id64 = (uint64_t)st_first8(h->idh);
        store_verdict v = STORE_NEW;
        bool known = false;
        int64_t old_hash = 0;
        if (feed_id) {
            q = s->q[Q_SEEN_GET];
            sqlite3_bind_int64(q, 1, feed_id);
            sqlite3_bind_blob(q, 2, h->idh, 16, SQLITE_STATIC);
            if (step_row(q, &known) < 0) {
                st_db_err(s, err, errlen, "reading seen items");
                sqlite3_reset(q);
                ret = -1;
                break;
            }
            if (known) old_hash = sqlite3_column_int64(q, 0);
            sqlite3_reset(q);
        }
        if (u64set_add(&ids, id64)) {
            v = STORE_SEEN;
        } else if (known) {
            /* 0: not known (schema 4 could not recompute it): as good
             * as unchanged, store_mark_seen records the real one */
            v = old_hash == h->hash || old_hash == 0 ? STORE_SEEN
                                                     : STORE_UPDATED;
        } else {
            int64_t date =
                it->published != DATE_NONE ? it->published : it->updated;
            /* catch_up 0: nothing on a first poll goes through the rules */
            bool old = first_poll && s->params.catch_up != STORE_FOREVER &&
                       (s->params.catch_up <= 0 || date == DATE_NONE ||
                        (date < INT64_MAX / 1000 && date * 1000 < catch_from));
            if (old) {
                v = STORE_OLD;
            } else if (s->params.dedup && h->has_lt) {
                if (u64set_has(&lts, (uint64_t)h->lt) ||
                    st_ltmap_recent(&s->recent, (uint64_t)h->lt, dedup_from))
                    v = STORE_DUPLICATE;
            }
        }
        if (h->has_lt) u64set_add(&lts, (uint64_t)h->lt);
        out[i] = v;
    }
    free(ids.v);
    free(lts.v);
    return ret;
}
