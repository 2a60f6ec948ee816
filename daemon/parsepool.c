/* parsepool.c — see parsepool.h. One helper thread: the machine this runs
 * on has two cores, and the rule worker (another process) needs the
 * second as much as the parser does. */
#include "parsepool.h"

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct parse_job {
    parse_job *next;
    buf body;
    char *base_url, *charset;
    size_t max_input;
    feed *out;
    store_item_key *keys;
    parse_done_fn done;
    void *arg;
    bool cancelled; /* under the pool's lock */
};

struct parsepool {
    struct ev_loop *loop;
    ev_async wake;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t more;
    /* under lock: */
    parse_job *todo, *todo_tail; /* submitted, in order */
    parse_job *done, *done_tail; /* parsed, for the loop */
    bool stop;
};

/* Held by the helper thread while it works on a job, and by whoever
 * forks, around the fork: the rule worker is a fork of this process, and
 * a child born while the helper held a lock inside libxml2, iconv or the
 * allocator would wait for it forever. glibc's malloc protects itself;
 * the others need not.
 *
 * AddressSanitizer's allocator (GCC 12) does not survive a fork beside
 * another thread even so: 5 of 12 demo runs, and still 1 of 12 with this
 * barrier, left a worker stuck in its first malloc. So a sanitized build
 * parses on the loop's thread, and the tests under ASan run everything but
 * the thread; `make test` runs the thread. */
#if defined(__SANITIZE_ADDRESS__)
#define PARSE_INLINE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PARSE_INLINE 1
#endif
#endif
#ifndef PARSE_INLINE
#define PARSE_INLINE 0
#endif

static pthread_mutex_t work_mu = PTHREAD_MUTEX_INITIALIZER;

static void
fork_prepare(void)
{
    pthread_mutex_lock(&work_mu);
}

static void
fork_done(void)
{
    pthread_mutex_unlock(&work_mu);
}

static void
register_fork_barrier(void)
{
    pthread_atfork(fork_prepare, fork_done, fork_done);
}

static void
job_free(parse_job *j)
{
    if (j->out) {
        feed_free(j->out);
        free(j->out);
    }
    free(j->keys);
    buf_free(&j->body);
    free(j->base_url);
    free(j->charset);
    free(j);
}

static void
push(parse_job **head, parse_job **tail, parse_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* The document, and the store's keys of its items (hashing is a good part
 * of classifying: it need not wait for the loop either). */
static void
parse(parse_job *j)
{
    feed_options opt = {.base_url = j->base_url, .charset = j->charset};
    opt.limits.max_input = j->max_input;
    j->out = xmalloc(sizeof *j->out);
    feed_parse(j->body.p ? j->body.p : "", j->body.len, &opt, j->out);
    if (feed_is_feed(j->out) && j->out->nitems) {
        j->keys = xmalloc(j->out->nitems * sizeof *j->keys);
        store_item_keys(j->out->items, j->out->nitems, j->keys);
    }
}

static void *
run(void *arg)
{
    parsepool *pp = arg;
    pthread_mutex_lock(&pp->lock);
    for (;;) {
        while (!pp->todo && !pp->stop)
            pthread_cond_wait(&pp->more, &pp->lock);
        if (pp->stop) break;
        parse_job *j = pp->todo;
        pp->todo = j->next;
        if (!pp->todo) pp->todo_tail = NULL;
        bool skip = j->cancelled;
        pthread_mutex_unlock(&pp->lock);

        pthread_mutex_lock(&work_mu);
        if (!skip) parse(j);
        buf_free(&j->body); /* the bytes are not needed any more */
        pthread_mutex_unlock(&work_mu);

        pthread_mutex_lock(&pp->lock);
        push(&pp->done, &pp->done_tail, j);
        ev_async_send(pp->loop, &pp->wake);
    }
    pthread_mutex_unlock(&pp->lock);
    return NULL;
}

/* On the loop: hands the parsed documents over. */
static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    parsepool *pp = w->data;
    pthread_mutex_lock(&pp->lock);
    parse_job *list = pp->done;
    pp->done = pp->done_tail = NULL;
    pthread_mutex_unlock(&pp->lock);
    for (parse_job *j = list, *next; j; j = next) {
        next = j->next;
        /* cancelled only on this thread: no lock needed to read it here */
        if (!j->cancelled && j->done) {
            feed *f = j->out;
            store_item_key *k = j->keys;
            j->out = NULL;
            j->keys = NULL;
            j->done(f, k, j->arg);
        }
        job_free(j);
    }
}

parsepool *
parsepool_new(struct ev_loop *loop)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_fork_barrier);
    parsepool *pp = xcalloc(1, sizeof *pp);
    pp->loop = loop;
    pthread_mutex_init(&pp->lock, NULL);
    pthread_cond_init(&pp->more, NULL);
    ev_async_init(&pp->wake, wake_cb);
    pp->wake.data = pp;
    ev_async_start(loop, &pp->wake);
    /* libxml2's one-time set-up, on this thread */
    feed warm;
    feed_parse("<rss/>", 6, NULL, &warm);
    feed_free(&warm);
    if (PARSE_INLINE) return pp; /* see work_mu */
    int rc = pthread_create(&pp->thread, NULL, run, pp);
    if (rc)
        log_warn("parsing on the loop's thread: no helper thread (%s)",
                 strerror(rc));
    pp->started = rc == 0;
    return pp;
}

parse_job *
parsepool_submit(parsepool *pp, buf *body, const char *base_url,
                 const char *charset, size_t max_input, parse_done_fn done,
                 void *arg)
{
    parse_job *j = xcalloc(1, sizeof *j);
    j->body = *body;
    memset(body, 0, sizeof *body);
    j->base_url = base_url ? xstrdup(base_url) : NULL;
    j->charset = charset ? xstrdup(charset) : NULL;
    j->max_input = max_input;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&pp->lock);
    if (pp->started) {
        push(&pp->todo, &pp->todo_tail, j);
        pthread_cond_signal(&pp->more);
    } else {
        /* no thread: parse here, deliver from the loop all the same */
        pthread_mutex_unlock(&pp->lock);
        parse(j);
        buf_free(&j->body);
        pthread_mutex_lock(&pp->lock);
        push(&pp->done, &pp->done_tail, j);
        ev_async_send(pp->loop, &pp->wake);
    }
    pthread_mutex_unlock(&pp->lock);
    return j;
}

void
parsepool_cancel(parsepool *pp, parse_job *j)
{
    if (!j) return;
    pthread_mutex_lock(&pp->lock);
    j->cancelled = true;
    pthread_mutex_unlock(&pp->lock);
}

void
parsepool_free(parsepool *pp)
{
    if (!pp) return;
    pthread_mutex_lock(&pp->lock);
    pp->stop = true;
    pthread_cond_signal(&pp->more);
    pthread_mutex_unlock(&pp->lock);
    if (pp->started) pthread_join(pp->thread, NULL);
    ev_async_stop(pp->loop, &pp->wake);
    parse_job *lists[] = {pp->todo, pp->done};
    for (size_t k = 0; k < ARRAY_LEN(lists); k++) {
        for (parse_job *j = lists[k], *next; j; j = next) {
            next = j->next;
            job_free(j);
        }
    }
    pthread_cond_destroy(&pp->more);
    pthread_mutex_destroy(&pp->lock);
    free(pp);
}
