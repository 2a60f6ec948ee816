/* outbox.c — see outbox.h. The state lives in the `outbox` table only, so
 * the daemon, a restart and `vigie outbox` all see the same thing; the
 * outbox keeps nothing in memory but per-target policies (the delivery
 * holds the outcomes a failed transaction could not record, and passes
 * them again: delivery.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "date.h"
#include "duration.h"
#include "log.h"
#include "outbox.h"
#include "url.h"

#define DEFAULT_GIVE_UP (24 * 3600000LL)
#define RESPONSE_KEEP 512 /* bytes of a failed response kept and logged */
#define MAX_PER_CALL 1024

enum {
    O_RELAXED,
    O_STRICT,
    O_BEGIN,
    O_COMMIT,
    O_ROLLBACK,
    O_HEADS,
    O_RATE,
    O_CLAIM,
    O_STATE,
    O_DELIVERED,
    O_RETRY,
    O_DEAD,
    O_RECOVER,
    O_COUNT
};

static const char *const queries[O_COUNT] = {
    [O_RELAXED] = "PRAGMA synchronous = NORMAL",
    [O_STRICT] = "PRAGMA synchronous = FULL",
    [O_BEGIN] = "BEGIN IMMEDIATE",
    [O_COMMIT] = "COMMIT",
    [O_ROLLBACK] = "ROLLBACK",
    /* the oldest undelivered row of each target */
    /* the oldest undelivered row of each target: a skip-scan over the
     * partial index (target, id), a few seeks per target however long the
     * queues are */
    [O_HEADS] = "WITH RECURSIVE t(target) AS ("
                " SELECT min(target) FROM outbox WHERE state < 2"
                " UNION ALL SELECT (SELECT min(target) FROM outbox"
                " WHERE state < 2 AND target > t.target) FROM t"
                " WHERE t.target IS NOT NULL)"
                " SELECT o.id, o.target, o.state, o.due, o.lease_until, o.key"
                " FROM t"
                " JOIN outbox o ON o.id = (SELECT min(id) FROM outbox"
                " WHERE state < 2 AND target = t.target)"
                " WHERE t.target IS NOT NULL ORDER BY o.id",
    [O_RATE] = "SELECT count(*), min(done_at) FROM outbox"
               " WHERE target = ?1 AND state = 2 AND done_at > ?2",
    [O_CLAIM] = "UPDATE outbox SET state = 1, lease_until = ?2,"
                " attempts = attempts + 1 WHERE id = ?1 AND state < 2"
                " RETURNING attempts, target, key, script, payload, item,"
                " feed, created",
    [O_STATE] = "SELECT state, attempts, since, target, title FROM outbox"
                " WHERE id = ?1",
    [O_DELIVERED] = "UPDATE outbox SET state = 2, done_at = ?2, status = ?3,"
                    " lease_until = 0, error = NULL, response = NULL"
                    " WHERE id = ?1 AND state != 2",
    [O_RETRY] = "UPDATE outbox SET state = 0, due = ?3, lease_until = 0,"
                " status = ?4, error = ?5, response = ?6"
                " WHERE id = ?1 AND state = 1 AND attempts = ?2",
    [O_DEAD] = "UPDATE outbox SET state = 3, done_at = ?3, lease_until = 0,"
               " status = ?4, error = ?5, response = ?6"
               " WHERE id = ?1 AND state = 1 AND attempts = ?2",
    [O_RECOVER] = "UPDATE outbox SET state = 0, lease_until = 0"
                  " WHERE state = 1 RETURNING id, key, target",
};

typedef struct policy {
    char *target;
    int64_t max_per_minute, give_up_after;
} policy;

/* A log line about a change not committed yet. */
typedef struct said {
    int level;
    char *line;
} said;

struct outbox {
    store *s;
    sqlite3 *db;
    outbox_params p;
    sqlite3_stmt *q[O_COUNT];
    policy *pol;
    size_t npol;
    said *said; /* lines of the open transaction */
    size_t nsaid;
};

static void
db_err(sqlite3 *db, store *s, char *err, size_t errlen, const char *what)
{
    set_err(err, errlen, "%s: %s: %s", store_path(s), what, sqlite3_errmsg(db));
}

/* Lines about what a transaction does are logged once it commits: one
 * that fails (disk full) is tried again with the same outcomes, and its
 * events must be told once, when they happened for good. */
static void PRINTF_LIKE(3, 4)
say(outbox *ob, int level, const char *fmt, ...)
{
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ob->said = xrealloc(ob->said, (ob->nsaid + 1) * sizeof *ob->said);
    ob->said[ob->nsaid++] = (said){level, buf_detach(&b)};
}

/* Logs the lines of a committed transaction, or forgets those of one
 * rolled back. */
static void
said_done(outbox *ob, bool committed)
{
    for (size_t i = 0; i < ob->nsaid; i++) {
        if (committed) log_write(ob->said[i].level, "%s", ob->said[i].line);
        free(ob->said[i].line);
    }
    free(ob->said);
    ob->said = NULL;
    ob->nsaid = 0;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (!v) return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int
run(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

const char *
outbox_state_name(int state)
{
    switch (state) {
    case OUTBOX_PENDING:
        return "pending";
    case OUTBOX_SENDING:
        return "sending";
    case OUTBOX_DELIVERED:
        return "delivered";
    case OUTBOX_DEAD:
        return "dead";
    }
    return "?";
}

void
outbox_params_default(outbox_params *p)
{
    p->backoff_base = 1000;
    p->backoff_cap = 10 * 60000;
    p->lease = OUTBOX_LEASE_MS;
    p->retry_after_max = 24 * 3600000LL;
}

outbox *
outbox_new(store *s, const outbox_params *p)
{
    outbox *ob = xcalloc(1, sizeof *ob);
    ob->s = s;
    ob->db = store_db(s);
    if (p)
        ob->p = *p;
    else
        outbox_params_default(&ob->p);
    for (int i = 0; i < O_COUNT; i++) {
        if (sqlite3_prepare_v3(ob->db, queries[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &ob->q[i],
                               NULL) != SQLITE_OK) {
            log_err("%s: preparing the outbox: %s", store_path(s),
                    sqlite3_errmsg(ob->db));
            outbox_free(ob);
            return NULL;
        }
    }
    return ob;
}

void
outbox_free(outbox *ob)
{
    if (!ob) return;
    for (int i = 0; i < O_COUNT; i++)
        sqlite3_finalize(ob->q[i]);
    outbox_clear_targets(ob);
    said_done(ob, false);
    free(ob);
}

void
outbox_clear_targets(outbox *ob)
{
    for (size_t i = 0; i < ob->npol; i++)
        free(ob->pol[i].target);
    free(ob->pol);
    ob->pol = NULL;
    ob->npol = 0;
}

void
outbox_set_target(outbox *ob, const char *target, int64_t max_per_minute,
                  int64_t give_up_after)
{
    policy *p = NULL;
    for (size_t i = 0; i < ob->npol; i++)
        if (!strcmp(ob->pol[i].target, target)) p = &ob->pol[i];
    if (!p) {
        ob->pol = xrealloc(ob->pol, (ob->npol + 1) * sizeof *ob->pol);
        p = &ob->pol[ob->npol++];
        p->target = xstrdup(target);
    }
    p->max_per_minute = max_per_minute > 0 ? max_per_minute : 0;
    p->give_up_after = give_up_after >= 0 ? give_up_after : DEFAULT_GIVE_UP;
}

static policy
policy_of(const outbox *ob, const char *target)
{
    for (size_t i = 0; i < ob->npol; i++)
        if (!strcmp(ob->pol[i].target, target)) return ob->pol[i];
    return (policy){NULL, 0, DEFAULT_GIVE_UP};
}

/* ---- pure helpers ------------------------------------------------------- */

int64_t
outbox_backoff(const outbox_params *p, int64_t attempt, uint32_t r)
{
    int64_t d = p->backoff_base > 0 ? p->backoff_base : 1;
    int64_t cap = p->backoff_cap > d ? p->backoff_cap : d;
    for (int64_t i = 1; i < attempt && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    if (d > cap) d = cap;
    int64_t half = d / 2;
    return half + (int64_t)(((uint64_t)r * (uint64_t)(d - half)) >> 32);
}

int64_t
outbox_parse_retry_after(const char *v, int64_t now)
{
    if (!v) return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' ||
                 v[n - 1] == '\n'))
        n--;
    if (!n) return -1;
    size_t i = 0;
    int64_t secs = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
        if (secs < INT64_MAX / 10000) secs = secs * 10 + (v[i] - '0');
        i++;
    }
    if (i == n) return secs < INT64_MAX / 1000 ? secs * 1000 : INT64_MAX;
    int64_t t = date_parse(v, n);
    if (t == DATE_NONE) return -1;
    if (t > INT64_MAX / 1000) return INT64_MAX;
    int64_t d = t * 1000 - now;
    return d > 0 ? d : 0;
}

void
outbox_key(char out[OUTBOX_KEY_LEN], const char *feed_key, const char *item_id,
           int64_t content_hash, const char *target, const char *script,
           unsigned seq)
{
    char num[48];
    snprintf(num, sizeof num, "%016" PRIx64 "/%u", (uint64_t)content_hash, seq);
    const char *parts[] = {"vigie-alert-1", feed_key, item_id, num,
                           target,          script};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char d[32];
    unsigned int len = 32;
    if (!ctx) oom(sizeof d);
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
        const char *p = parts[i] ? parts[i] : "";
        EVP_DigestUpdate(ctx, p, strlen(p) + 1);
    }
    EVP_DigestFinal_ex(ctx, d, &len);
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

/* The outbox's own state changes are committed without an fsync each
 * (synchronous=NORMAL; the feeds' transactions stay FULL). In WAL mode a
 * process crash loses none of them; a power loss may lose the last few,
 * which only sends those alerts again, with the same Idempotency-Key. The
 * rows themselves were written durably with their feed. */
static void
relaxed(outbox *ob, bool on)
{
    sqlite3_stmt *st = ob->q[on ? O_RELAXED : O_STRICT];
    run(st);
    sqlite3_reset(st);
}

/* ---- claiming ----------------------------------------------------------- */

void
outbox_msg_clear(outbox_msg *m)
{
    free(m->mem_);
    memset(m, 0, sizeof *m);
}

/* Copies the RETURNING row of a claim into m (one allocation). */
static void
fill_msg(outbox_msg *m, int64_t id, sqlite3_stmt *st)
{
    size_t total = 0;
    for (int i = 1; i <= 6; i++)
        total += (size_t)sqlite3_column_bytes(st, i) + 1;
    char *p = xmalloc(total);
    const char **dst[] = {&m->alert.target,  &m->alert.key,  &m->alert.script,
                          &m->alert.payload, &m->alert.item, &m->alert.feed};
    memset(m, 0, sizeof *m);
    m->mem_ = p;
    for (int i = 1; i <= 6; i++) {
        const char *t = col_text(st, i);
        if (!t) {
            *dst[i - 1] = NULL;
            continue;
        }
        size_t n = (size_t)sqlite3_column_bytes(st, i);
        memcpy(p, t, n);
        p[n] = '\0';
        *dst[i - 1] = p;
        p += n + 1;
    }
    m->id = id;
    m->attempt = sqlite3_column_int64(st, 0);
    m->alert.created = sqlite3_column_int64(st, 7);
}

typedef struct head {
    int64_t id, due, lease_until;
    int state;
    char *target, *key;
} head;

static void
wake_min(int64_t *wake, int64_t t)
{
    if (t < *wake) *wake = t;
}

static int report(outbox *ob, const outbox_msg *m, const outbox_outcome *o,
                  int64_t now, char *err, size_t errlen);

long
outbox_next(outbox *ob, int64_t now, outbox_msg *out, size_t max,
            int64_t *wake_at, char *err, size_t errlen)
{
    return outbox_report_next(ob, NULL, NULL, 0, now, out, max, wake_at, err,
                              errlen);
}

long
outbox_report_next(outbox *ob, const outbox_msg *done,
                   const outbox_outcome *outcomes, size_t ndone, int64_t now,
                   outbox_msg *out, size_t max, int64_t *wake_at, char *err,
                   size_t errlen)
{
    int64_t wake = INT64_MAX;
    head *heads = NULL;
    size_t nheads = 0, cap = 0;
    long n = 0, filled = 0;
    if (max > MAX_PER_CALL) max = MAX_PER_CALL;

    /* One write transaction: a claim must not race `vigie outbox drop`.
     * The outcomes go in the same one: a transaction per delivered alert
     * rather than two (a page or more of WAL each). */
    relaxed(ob, true);
    if (run(ob->q[O_BEGIN]) < 0) {
        sqlite3_reset(ob->q[O_BEGIN]);
        db_err(ob->db, ob->s, err, errlen, "reading the outbox");
        relaxed(ob, false);
        return -1;
    }
    sqlite3_reset(ob->q[O_BEGIN]);
    for (size_t i = 0; i < ndone; i++) {
        if (report(ob, &done[i], &outcomes[i], now, err, errlen) < 0) {
            n = -1;
            goto done;
        }
    }
    if (!max) goto commit;
    sqlite3_stmt *st = ob->q[O_HEADS];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nheads == cap) {
            cap = cap ? 2 * cap : 16;
            heads = xrealloc(heads, cap * sizeof *heads);
        }
        head *h = &heads[nheads++];
        h->id = sqlite3_column_int64(st, 0);
        h->target = xstrdup(col_text(st, 1) ? col_text(st, 1) : "");
        h->state = sqlite3_column_int(st, 2);
        h->due = sqlite3_column_int64(st, 3);
        h->lease_until = sqlite3_column_int64(st, 4);
        h->key = xstrdup(col_text(st, 5) ? col_text(st, 5) : "");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        db_err(ob->db, ob->s, err, errlen, "reading the outbox");
        n = -1;
        goto done;
    }
    for (size_t i = 0; i < nheads; i++) {
        head *h = &heads[i];
        if (h->state == OUTBOX_SENDING) {
            if (h->lease_until > now) {
                wake_min(&wake, h->lease_until); /* in flight */
                continue;
            }
            char lease[32];
            duration_format(ob->p.lease, lease, sizeof lease);
            say(ob, LOG_WARNING,
                OUTBOX_ALERT_FMT ": no outcome within its lease (%s); "
                "sending it again (same key)",
                h->id, h->key, h->target, lease);
        } else if (h->due > now) {
            wake_min(&wake, h->due);
            continue;
        }
        policy pol = policy_of(ob, h->target);
        if (pol.max_per_minute > 0) {
            sqlite3_stmt *r = ob->q[O_RATE];
            bind_text(r, 1, h->target);
            sqlite3_bind_int64(r, 2, now - 60000);
            int64_t count = 0, oldest = 0;
            if ((rc = sqlite3_step(r)) == SQLITE_ROW) {
                count = sqlite3_column_int64(r, 0);
                oldest = sqlite3_column_int64(r, 1);
            }
            sqlite3_reset(r);
            if (rc != SQLITE_ROW) {
                db_err(ob->db, ob->s, err, errlen, "reading the outbox");
                n = -1;
                goto done;
            }
            if (count >= pol.max_per_minute) {
                /* queued, not dropped: its turn comes when the oldest
                 * delivery of the last minute leaves the window */
                wake_min(&wake, oldest + 60000 + 1);
                continue;
            }
        }
        if ((size_t)n == max) {
            wake_min(&wake, now); /* more is ready: call again */
            break;
        }
        sqlite3_stmt *c = ob->q[O_CLAIM];
        sqlite3_bind_int64(c, 1, h->id);
        sqlite3_bind_int64(c, 2, now + ob->p.lease);
        rc = sqlite3_step(c);
        if (rc == SQLITE_ROW) fill_msg(&out[filled++], h->id, c);
        n = filled;
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(c);
        sqlite3_reset(c);
        if (rc != SQLITE_DONE) {
            db_err(ob->db, ob->s, err, errlen, "claiming an alert");
            n = -1;
            goto done;
        }
    }
commit:
    if (run(ob->q[O_COMMIT]) < 0) {
        db_err(ob->db, ob->s, err, errlen,
               ndone ? "recording deliveries" : "claiming alerts");
        sqlite3_reset(ob->q[O_COMMIT]);
        n = -1;
        goto done;
    }
    sqlite3_reset(ob->q[O_COMMIT]);
done:
    said_done(ob, n >= 0);
    if (n < 0) {
        if (!sqlite3_get_autocommit(ob->db)) {
            run(ob->q[O_ROLLBACK]);
            sqlite3_reset(ob->q[O_ROLLBACK]);
        }
        /* the claims were rolled back with the transaction */
        for (long i = 0; i < filled; i++)
            outbox_msg_clear(&out[i]);
        wake = now;
    }
    relaxed(ob, false);
    for (size_t i = 0; i < nheads; i++) {
        free(heads[i].target);
        free(heads[i].key);
    }
    free(heads);
    *wake_at = wake;
    return n;
}

long
outbox_recover(outbox *ob, int64_t now, char *err, size_t errlen)
{
    UNUSED(now);
    sqlite3_stmt *st = ob->q[O_RECOVER];
    long n = 0;
    int rc;
    /* one line per alert, named as every other line names it */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        say(ob, LOG_NOTICE,
            OUTBOX_ALERT_FMT ": was being sent when vigie stopped; sending "
            "it again (same key)",
            (int64_t)sqlite3_column_int64(st, 0),
            col_text(st, 1) ? col_text(st, 1) : "",
            col_text(st, 2) ? col_text(st, 2) : "");
        n++;
    }
    sqlite3_reset(st);
    said_done(ob, rc == SQLITE_DONE);
    if (rc != SQLITE_DONE) {
        db_err(ob->db, ob->s, err, errlen, "recovering the outbox");
        return -1;
    }
    return n;
}

/* ---- outcomes ----------------------------------------------------------- */

/* The response's first bytes, as one printable line (for the log and
 * `vigie outbox list`): controls become spaces, bad UTF-8 '?'. */
static void
printable(buf *out, const char *s, size_t n)
{
    if (n > RESPONSE_KEEP) n = RESPONSE_KEEP;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            buf_addc(out, ' ');
            i++;
            continue;
        }
        if (c < 0x80) {
            buf_addc(out, (char)c);
            i++;
            continue;
        }
        size_t len = c >= 0xf0 && c < 0xf5 ? 4
                     : c >= 0xe0           ? 3
                     : c >= 0xc2           ? 2
                                           : 0;
        bool ok = len && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
        if (ok) {
            buf_add(out, s + i, len);
            i += len;
        } else {
            buf_addc(out, '?');
            i++;
        }
    }
}

static bool
retryable(const outbox_outcome *o)
{
    if (o->permanent) return false;
    int st = o->status;
    return st == 0 || st == 408 || st == 429 || (st >= 500 && st <= 599);
}

/* A redirect: the webhook's URL moved (http to https, a new endpoint).
 * It is not followed, so the operator needs to see where it points. */
static bool
redirected(const outbox_outcome *o)
{
    int st = o->status;
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308 ||
           (st >= 300 && st <= 399 && st != 304 && o->location);
}

static void
describe(buf *why, const outbox_outcome *o)
{
    if (redirected(o)) {
        buf_printf(why, "HTTP %d: ", o->status);
        if (o->location && *o->location) {
            /* credentials in the new URL are not for the log (url.h) */
            char *shown = url_redact(o->location);
            buf_printf(why, "redirected to %s (webhook redirects are not "
                            "followed: update its url)",
                       shown);
            free(shown);
        } else {
            buf_adds(why, "redirected (webhook redirects are not followed: "
                          "check its url)");
        }
        return;
    }
    if (o->status) buf_printf(why, "HTTP %d", o->status);
    if (o->error && *o->error)
        buf_printf(why, "%s%s", why->len ? ": " : "", o->error);
    if (!why->len) buf_adds(why, "no response");
}

/* "855ms", "2s", "1m30s": a delay as a person reads it, to the second
 * from one second up. */
static void
say_delay(int64_t ms, char *out, size_t outlen)
{
    duration_format(ms < 1000 ? ms : (ms + 500) / 1000 * 1000, out, outlen);
}

static void
say_retry(outbox *ob, const outbox_msg *m, const char *target,
          const char *why, const char *resp, int64_t attempt, int64_t delay)
{
    char d[32];
    say_delay(delay, d, sizeof d);
    say(ob, LOG_WARNING, OUTBOX_ALERT_FMT ": %s%s%s; retry %" PRId64 " in %s",
        m->id, m->alert.key, target, why, resp ? ": " : "", resp ? resp : "",
        attempt, d);
}

static void
say_dead(outbox *ob, const outbox_msg *m, const char *target,
         const char *title, const char *why, const char *resp)
{
    buf item = {0};
    if (title && *title) buf_printf(&item, " (item \"%s\")", title);
    say(ob, LOG_ERR,
        OUTBOX_ALERT_FMT ": dead-lettered%s: %s%s%s; see 'vigie outbox list "
        "--dead', then 'vigie outbox retry %" PRId64 "'",
        m->id, m->alert.key, target, item.len ? item.p : "", why,
        resp ? ": " : "", resp ? resp : "", m->id);
    buf_free(&item);
}

static uint32_t
jitter(void)
{
    return arc4random();
}

int
outbox_report(outbox *ob, const outbox_msg *m, const outbox_outcome *o,
              int64_t now, char *err, size_t errlen)
{
    relaxed(ob, true);
    int rc = report(ob, m, o, now, err, errlen);
    said_done(ob, rc == 0);
    relaxed(ob, false);
    return rc;
}

static int
report(outbox *ob, const outbox_msg *m, const outbox_outcome *o, int64_t now,
       char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc;
    if (o->at) now = o->at;
    if (o->status >= 200 && o->status <= 299) {
        /* Delivered, even when the claim was meanwhile given up: the
         * receiver has it. */
        st = ob->q[O_DELIVERED];
        sqlite3_bind_int64(st, 1, m->id);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int(st, 3, o->status);
        rc = run(st);
        sqlite3_reset(st);
        if (rc < 0) {
            db_err(ob->db, ob->s, err, errlen, "recording a delivery");
            return -1;
        }
        return 0; /* the transport logs it */
    }

    st = ob->q[O_STATE];
    sqlite3_bind_int64(st, 1, m->id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) return 0; /* dropped meanwhile */
        db_err(ob->db, ob->s, err, errlen, "reading the outbox");
        return -1;
    }
    int state = sqlite3_column_int(st, 0);
    int64_t attempts = sqlite3_column_int64(st, 1);
    int64_t since = sqlite3_column_int64(st, 2);
    char *target = xstrdup(col_text(st, 3) ? col_text(st, 3) : "");
    char *title = xstrdup(col_text(st, 4) ? col_text(st, 4) : "");
    sqlite3_reset(st);
    if (state != OUTBOX_SENDING || attempts != m->attempt) {
        free(target);
        free(title);
        return 0; /* a stale claim: the row has moved on */
    }

    buf why = {0}, resp = {0};
    describe(&why, o);
    /* a redirect's body is boilerplate around the Location it named */
    if (o->response && o->response_len && !redirected(o))
        printable(&resp, o->response, o->response_len);
    policy pol = policy_of(ob, target);
    bool dead = !retryable(o);
    if (!dead && pol.give_up_after != INT64_MAX &&
        now - since >= pol.give_up_after) {
        char d[32];
        duration_format(pol.give_up_after, d, sizeof d);
        buf msg = {0};
        buf_printf(&msg, "gave up after %s (%" PRId64 " attempt%s): %s", d,
                   attempts, attempts == 1 ? "" : "s", why.p);
        buf_free(&why);
        why = msg;
        dead = true;
    }
    int64_t delay = 0;
    if (dead) {
        st = ob->q[O_DEAD];
        sqlite3_bind_int64(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->attempt);
        sqlite3_bind_int64(st, 3, now);
    } else {
        delay = outbox_parse_retry_after(o->retry_after, now);
        if (delay >= 0) {
            /* Retry-After: when the receiver asked, bounded for sanity,
             * and never sooner than the first backoff step. */
            if (delay > ob->p.retry_after_max) delay = ob->p.retry_after_max;
            if (delay < ob->p.backoff_base) delay = ob->p.backoff_base;
        } else {
            delay = outbox_backoff(&ob->p, attempts, jitter());
        }
        st = ob->q[O_RETRY];
        sqlite3_bind_int64(st, 1, m->id);
        sqlite3_bind_int64(st, 2, m->attempt);
        sqlite3_bind_int64(st, 3, now + delay);
    }
    sqlite3_bind_int(st, 4, o->status);
    bind_text(st, 5, why.p);
    bind_text(st, 6, resp.len ? resp.p : NULL);
    rc = run(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        db_err(ob->db, ob->s, err, errlen, "recording a failed delivery");
    else if (dead)
        say_dead(ob, m, target, title, why.p, resp.len ? resp.p : NULL);
    else
        say_retry(ob, m, target, why.p, resp.len ? resp.p : NULL,
                  attempts + 1, delay);
    buf_free(&why);
    buf_free(&resp);
    free(target);
    free(title);
    return rc;
}

/* ---- inspection and repair --------------------------------------------- */

int
outbox_list(store *s, int which, int (*cb)(const outbox_row *, void *),
            void *ud, char *err, size_t errlen)
{
    sqlite3 *db = store_db(s);
    const char *where = which == OUTBOX_LIST_DEAD          ? "state = 3"
                        : which == OUTBOX_LIST_UNDELIVERED ? "state != 2"
                                                           : "1";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, state, target, key, script, feed_key, item_id,"
             " title, created, since, due, done_at, attempts, status, error,"
             " response FROM outbox WHERE %s ORDER BY id",
             where);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, "reading the outbox");
        return -1;
    }
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        outbox_row r = {
            .id = sqlite3_column_int64(st, 0),
            .state = sqlite3_column_int(st, 1),
            .target = col_text(st, 2),
            .key = col_text(st, 3),
            .script = col_text(st, 4),
            .feed_key = col_text(st, 5),
            .item_id = col_text(st, 6),
            .title = col_text(st, 7),
            .created = sqlite3_column_int64(st, 8),
            .since = sqlite3_column_int64(st, 9),
            .due = sqlite3_column_int64(st, 10),
            .done_at = sqlite3_column_int64(st, 11),
            .attempts = sqlite3_column_int64(st, 12),
            .status = sqlite3_column_int(st, 13),
            .error = col_text(st, 14),
            .response = col_text(st, 15),
        };
        if ((ret = cb(&r, ud)) != 0) break;
    }
    if (!ret && rc != SQLITE_DONE) {
        db_err(db, s, err, errlen, "reading the outbox");
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

int
outbox_count(store *s, outbox_counts *c, char *err, size_t errlen)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    memset(c, 0, sizeof *c);
    if (sqlite3_prepare_v2(db,
                           "SELECT state, count(*), min(created) FROM outbox"
                           " GROUP BY state",
                           -1, &st, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, "reading the outbox");
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = sqlite3_column_int64(st, 1);
        switch (sqlite3_column_int(st, 0)) {
        case OUTBOX_PENDING:
            c->pending = n;
            c->oldest_pending = sqlite3_column_int64(st, 2);
            break;
        case OUTBOX_SENDING:
            c->sending = n;
            break;
        case OUTBOX_DELIVERED:
            c->delivered = n;
            break;
        case OUTBOX_DEAD:
            c->dead = n;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        db_err(db, s, err, errlen, "reading the outbox");
        return -1;
    }
    return 0;
}

static long
update(store *s, const char *sql, int64_t id, int64_t now, char *err,
       size_t errlen, const char *what)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, what);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    int rc = run(st);
    if (rc < 0) db_err(db, s, err, errlen, what);
    sqlite3_finalize(st);
    return rc < 0 ? -1 : sqlite3_changes(db);
}

/* The rows `vigie outbox` may change: not delivered, not being sent (see
 * OUTBOX_ACT_SENDING). ?2 is now. */
#define NOT_IN_FLIGHT "(state IN (0, 3) OR (state = 1 AND lease_until <= ?2))"

/* Why the row id was left alone by an action on the rows NOT_IN_FLIGHT. */
static int
why_not(store *s, int64_t id, char *err, size_t errlen)
{
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT state FROM outbox WHERE id = ?1", -1,
                           &st, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, "reading the outbox");
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = OUTBOX_ACT_NONE;
    if (rc == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 0);
        ret = state == OUTBOX_DELIVERED ? OUTBOX_ACT_DELIVERED
              : state == OUTBOX_SENDING ? OUTBOX_ACT_SENDING
                                        : OUTBOX_ACT_NONE;
    } else if (rc != SQLITE_DONE) {
        db_err(db, s, err, errlen, "reading the outbox");
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

/* sql (binding ?1 id and ?2 now) on one row, and if it changed nothing,
 * why: in one transaction, so the answer is about the row as it was. */
static int
act_on(store *s, const char *sql, int64_t id, int64_t now, char *err,
       size_t errlen, const char *what)
{
    sqlite3 *db = store_db(s);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, what);
        return -1;
    }
    long n = update(s, sql, id, now, err, errlen, what);
    int ret = n < 0  ? -1
              : n > 0 ? OUTBOX_ACT_DONE
                      : why_not(s, id, err, errlen);
    if (ret < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_err(db, s, err, errlen, what);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return ret;
}

int
outbox_retry(store *s, int64_t id, int64_t now, char *err, size_t errlen)
{
    return act_on(s,
                  "UPDATE outbox SET state = 0, due = ?2, since = ?2,"
                  " attempts = 0, lease_until = 0, done_at = 0"
                  " WHERE id = ?1 AND " NOT_IN_FLIGHT,
                  id, now, err, errlen, "retrying an alert");
}

long
outbox_retry_all(store *s, int64_t now, char *err, size_t errlen)
{
    return update(s,
                  "UPDATE outbox SET state = 0, due = ?2, since = ?2,"
                  " attempts = 0, lease_until = 0, done_at = 0"
                  " WHERE ?1 = ?1 AND " NOT_IN_FLIGHT,
                  0, now, err, errlen, "retrying alerts");
}

int
outbox_drop(store *s, int64_t id, int64_t now, char *err, size_t errlen)
{
    return act_on(s, "DELETE FROM outbox WHERE id = ?1 AND " NOT_IN_FLIGHT, id,
                  now, err, errlen, "dropping an alert");
}
