/* worker.h — rule scripts run in a separate, sandboxed process.
 *
 * The daemon (the parent) forks one worker over a socketpair. The worker
 * closes every descriptor but the socket (and stderr), sets rlimits (no
 * files, no core, no processes, a cap on address space), forbids new
 * privileges and installs a seccomp allow-list: it can read and write its
 * socket, allocate memory and read the clock, nothing else (no open, no
 * socket, no exec; see worker.c for the list). It never sees a file: the
 * parent reads the scripts and sends their text.
 *
 * A job is a batch of items of one feed and a list of script paths; for
 * each item the scripts run in order (script.h budgets apply inside the
 * worker). The parent enforces the budget too: when a call has not ended
 * within budget × kill_factor + WORKER_KILL_SLACK_MS (a C function such as
 * a backtracking string.find is beyond the reach of Lua's hook), or the
 * worker dies or sends anything malformed, the parent SIGKILLs it, records
 * an error for that one call, starts a new worker and goes on with the
 * next call. Every call ends as actions (actions.h): what the script did,
 * or one ACTION_ERROR — an item is never silently skipped.
 *
 * Driving it: from an event loop, watch worker_fd() (readable, and
 * writable when worker_wants_write()), arm a timer for worker_deadline(),
 * and call worker_step() on any of them; re-read all three after each
 * step (the descriptor changes when the worker is restarted). Or call
 * worker_wait(), which does the same with poll() until every job is done.
 * Job callbacks run inside worker_step()/worker_wait(). */
#ifndef VIGIE_WORKER_H
#define VIGIE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "script.h"

struct feed_item;

#define WORKER_KILL_SLACK_MS 100
#define WORKER_MAX_SCRIPTS 1024

typedef struct worker_opts {
    script_limits limits; /* per call / per load budgets, memory per state */
    int kill_factor;      /* default 2 */
    bool no_seccomp;      /* debugging only: keep the rest of the sandbox */
} worker_opts;

void worker_opts_default(worker_opts *o);

typedef struct worker worker;

worker *worker_new(const worker_opts *o);
/* Kills the worker; pending jobs are dropped without callbacks. */
void worker_free(worker *w);

/* What a finished job gives its callback, valid during the call only.
 * The callback may take the actions: copy *actions, then action_list_init
 * it. It must not call worker_free. */
typedef struct worker_result {
    action_list *actions; /* item order, then script order; top-level
                             actions of scripts loaded for it first */
    size_t items;         /* items in the job */
    size_t calls;         /* on_item calls accounted (items × scripts) */
    size_t failed;        /* of which ended in ACTION_ERROR */
    size_t restarts;      /* workers killed or lost during the job */
} worker_result;

typedef void (*worker_done_fn)(void *ud, worker_result *r);

/* Queues a job: `items` of feed `f` through the scripts at `paths`, in
 * order. Everything is copied; the caller may free its feed on return.
 * A script is read (at most SCRIPT_MAX_SOURCE bytes) and compiled at its
 * first use; one that cannot be read, compiled or loaded gives an
 * ACTION_ERROR (item -1) and then one per item. `done` is called once. */
void worker_submit(worker *w, const rule_feed *f, const struct feed_item *items,
                   size_t nitems, const char *const *paths, size_t npaths,
                   worker_done_fn done, void *ud);

/* The same, where olds[i] (when olds and olds[i] are not NULL) is the
 * stored copy of an item whose content changed under the same id: for it
 * the scripts' on_update(item, old) runs instead of on_item (and nothing
 * runs in a script without on_update). */
void worker_submit_updates(worker *w, const rule_feed *f,
                           const struct feed_item *items,
                           const struct feed_item *const *olds, size_t nitems,
                           const char *const *paths, size_t npaths,
                           worker_done_fn done, void *ud);

/* Why the script at `path` cannot run (read, compile or load error), or
 * NULL if it loaded (or has not been used yet). */
const char *worker_script_error(const worker *w, const char *path);

/* Loads the script at `path` in a worker of its own, exactly as the daemon
 * would (sandbox, default budgets), and runs no item. 0, or -1 with the
 * reason ("path:line: message") in err. Its signature is the config's
 * script checker (config_set_script_checker) for `vigie check`. */
int worker_check_script(const char *path, char *err, size_t errlen);

/* Scripts are read again at their next use (after a config reload); the
 * worker is restarted once the jobs in flight are done. */
void worker_reload(worker *w);

/* Event-loop interface. */
int worker_fd(const worker *w);  /* -1 when no worker is running */
int worker_pid(const worker *w); /* 0 when no worker is running */
bool worker_wants_write(const worker *w);
/* now_ms() time by which worker_step must run, or -1 for none. */
int64_t worker_deadline(worker *w);
bool worker_busy(const worker *w); /* jobs queued or in flight */
/* Does whatever can be done without blocking: starts a worker, writes,
 * reads, checks the time budget, kills and restarts, calls callbacks. */
void worker_step(worker *w);

/* Blocks until every job submitted so far is done. */
void worker_wait(worker *w);
/* Blocks until at most `pending` jobs are left (the oldest finish first):
 * a caller can prepare the next job while the worker runs this one. */
void worker_wait_some(worker *w, size_t pending);

/* What the worker's sandbox is made of, as the last worker reported it
 * ("" before any), for the log and for tests. */
const char *worker_sandbox_info(const worker *w);

/* The child's side, exposed for tests of the sandbox itself: applies the
 * restrictions to the calling process, keeping descriptor `keep_fd` (moved
 * to 3). Returns 0 or -1 with a message in err. */
int worker_sandbox(int keep_fd, bool seccomp, size_t as_limit, char *err,
                   size_t errlen, char *info, size_t infolen);

#endif
