/* store_ckpt.c — WAL checkpoints on a thread of their own (see
 * store_checkpoint_in_background() in store.h).
 *
 * Why: in WAL mode every commit appends to vigie.db-wal, and SQLite's
 * automatic checkpoint copies those pages back into vigie.db inside the
 * commit that crosses the threshold: megabytes of pwrite and two fsyncs
 * on the event loop's thread. On a first poll of 10,000 feeds that was
 * ~20 checkpoints, 300 MB written and a third of a second of fsync alone,
 * during which no transfer, parse result or rule result was looked at.
 *
 * How: the daemon's connection turns the automatic checkpoint off by
 * installing a WAL hook of its own. After each commit the hook sees the
 * WAL's length in pages; past CKPT_PAGES it wakes a thread that holds a
 * second connection and runs a PASSIVE checkpoint there. SQLite lets a
 * checkpoint run while another connection writes: the writer appends, the
 * checkpointer copies what was committed before it began; a later commit
 * restarts the WAL from its beginning once everything in it was copied.
 * The thread only ever touches its own connection and the few fields
 * under the mutex.
 *
 * Bounded: should the thread fall behind (a long read holding old pages,
 * a slow disk) and the WAL pass CKPT_FORCE times the threshold, the hook checkpoints on
 * the daemon's connection itself, as SQLite would have. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

/* SQLite's own default threshold (1000 pages); past CKPT_FORCE times the
 * threshold the commits checkpoint themselves. */
#define CKPT_PAGES 1000
#define CKPT_FORCE 8

struct st_ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;     /* the thread's connection */
    bool wanted;     /* a checkpoint is asked for */
    bool stop;
    bool broken;     /* the thread's checkpoint failed: the hook does it */
    int threshold;   /* pages (CKPT_PAGES; tests lower it) */
    unsigned long done_bg, done_fg;
    char why[256];   /* the thread's first failure, logged by the hook */
    bool why_logged;
};

static void *
ckpt_main(void *arg)
{
    st_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->wanted && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop) break;
        c->wanted = false;
        pthread_mutex_unlock(&c->mu);
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
                                           SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        if (rc == SQLITE_OK) {
            c->done_bg++;
        } else if (rc != SQLITE_BUSY && !c->broken) {
            /* (BUSY: another checkpoint ran; the next commit asks again) */
            c->broken = true;
            snprintf(c->why, sizeof c->why, "%s", sqlite3_errmsg(c->db));
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* After every commit on the daemon's connection, with the WAL's length. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    store *s = arg;
    st_ckpt *c = s->ckpt;
    UNUSED(name);
    if (pages < c->threshold) return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    bool broken = c->broken;
    if (broken && !c->why_logged) {
        c->why_logged = true;
        log_warn("%s: checkpoints move back to the daemon's thread: %s",
                 s->path, c->why);
    }
    if (!broken) {
        c->wanted = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (broken || pages >= CKPT_FORCE * c->threshold) {
        if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                      NULL) == SQLITE_OK) {
            pthread_mutex_lock(&c->mu);
            c->done_fg++;
            pthread_mutex_unlock(&c->mu);
        }
    }
    return SQLITE_OK;
}

int
store_checkpoint_in_background(store *s, char *err, size_t errlen)
{
    if (s->ckpt || s->readonly) return 0;
    st_ckpt *c = xcalloc(1, sizeof *c);
    c->threshold = CKPT_PAGES;
    if (sqlite3_open_v2(s->path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) !=
            SQLITE_OK) {
        set_err(err, errlen, "%s: cannot open a connection for checkpoints: %s",
                s->path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    int rc = pthread_create(&c->thread, NULL, ckpt_main, c);
    if (rc != 0) {
        set_err(err, errlen, "%s: cannot start the checkpoint thread: %s",
                s->path, strerror(rc));
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    s->ckpt = c;
    sqlite3_wal_hook(s->db, wal_hook, s);
    return 0;
}

void
st_checkpoint_stop(store *s)
{
    st_ckpt *c = s->ckpt;
    if (!c) return;
    /* back to SQLite's automatic checkpoint for whatever comes next */
    sqlite3_wal_autocheckpoint(s->db, CKPT_PAGES);
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
    s->ckpt = NULL;
}

void
store_checkpoint_stats(store *s, unsigned long *background,
                       unsigned long *foreground)
{
    st_ckpt *c = s->ckpt;
    unsigned long bg = 0, fg = 0;
    if (c) {
        pthread_mutex_lock(&c->mu);
        bg = c->done_bg;
        fg = c->done_fg;
        pthread_mutex_unlock(&c->mu);
    }
    if (background) *background = bg;
    if (foreground) *foreground = fg;
}

void
store_checkpoint_threshold(store *s, int pages)
{
    if (s->ckpt) s->ckpt->threshold = pages > 0 ? pages : CKPT_PAGES;
}
