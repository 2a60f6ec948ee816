/* daemon.c — `vigie run`: one libev loop that owns everything.
 *
 *   config ─► poller (a timer per feed) ─► evcurl/fetch ─► parse
 *          ─► pipeline (dedup, rules, store, outbox) ─► delivery
 *
 * Signals: SIGTERM/SIGINT stop gracefully (no new polls; transfers in
 * flight get a short grace, then are cut; nothing committed is lost),
 * SIGHUP reloads the config (a broken one keeps the old running). In once
 * mode every feed is polled once and the process exits when all are
 * committed: 0 if every poll succeeded, 1 otherwise (also when a signal
 * cut the run short). A poll cut by the stop is no failure of its feed:
 * nothing of it is committed. A database file deleted or replaced under
 * the daemon stops it too, with status 1 (systemd restarts it). */
#include "daemon.h"

#include <ev.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "evcurl.h"
#include "log.h"
#include "notify.h"
#include "pipeline.h"
#include "poller.h"
#include "statelock.h"
#include "worker.h"

#define STOP_GRACE_S 10.0
#define ONCE_DELIVERY_WAIT_S 30 /* --once: how long alerts may take to go */

typedef struct daemon_ctx {
    struct ev_loop *loop;
    const char *config_path;
    config *cfg;
    char *state_dir;   /* the one the store and the lock are in */
    char *next_dir;    /* another one the file names since a reload... */
    int next_lock;     /* ... and its lock (statelock.h), or -1 */
    config **old_cfgs; /* kept until no poll started under them is busy */
    size_t nold;
    evcurl *ec;
    pipeline *pl;
    poller *poller;
    bool once, stopping;
    bool failed; /* stopping for a fault: exit 1, so systemd restarts it */
    const char *stop_why; /* the signal that stopped it, or NULL */
    int64_t once_polled_ms; /* --once: when the last feed was committed */
    ev_signal sigterm, sigint, sighup, sigusr1;
    ev_timer grace;
    ev_timer watchdog, status;
    ev_prepare check_done;
} daemon_ctx;

/* STATUS= for systemctl status: how things stand, in one line. */
static void
send_status(daemon_ctx *d, const char *prefix)
{
    poller_stats st;
    poller_get_stats(d->poller, &st);
    size_t pending, dead;
    pipeline_counts(d->pl, &pending, &dead);
    notify_status("%s%zu feeds, %zu failing, %zu disabled; %zu alerts pending, "
                  "%zu dead", prefix ? prefix : "", st.feeds, st.failing,
                  st.disabled, pending, dead);
}

static void
on_watchdog(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(w);
    UNUSED(revents);
    notify_watchdog();
}

static void
on_status_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    send_status(w->data, NULL);
}

static void
begin_stop(daemon_ctx *d, const char *why)
{
    if (d->stopping) return;
    d->stopping = true;
    d->stop_why = why;
    notify_stopping();
    log_notice("stopping (%s): waiting for %zu polls in progress", why,
               poller_busy(d->poller));
    poller_stop(d->poller);
    pipeline_stop(d->pl);
    ev_timer_start(d->loop, &d->grace);
}

static void
on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    daemon_ctx *d = w->data;
    begin_stop(d, w->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

static void
on_grace_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    UNUSED(revents);
    daemon_ctx *d = w->data;
    log_warn("stopping: %zu polls still running after %.0fs: cutting them",
             poller_busy(d->poller), STOP_GRACE_S);
    evcurl_abort_all(d->ec);
    ev_break(loop, EVBREAK_ALL);
}

/* The database file was deleted or replaced (pipeline.h): stop with a
 * failure; under systemd, Restart=on-failure opens the file there now. */
static void
on_store_lost(void *arg)
{
    daemon_ctx *d = arg;
    d->failed = true;
    begin_stop(d, "state database deleted or replaced");
}

static void
free_old_configs(daemon_ctx *d)
{
    if (poller_busy(d->poller)) return;
    for (size_t i = 0; i < d->nold; i++) config_free(d->old_cfgs[i]);
    d->nold = 0;
}

/* vigie outbox retry made alerts due: look at the outbox now. */
static void
on_outbox_changed(struct ev_loop *loop, ev_signal *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    daemon_ctx *d = w->data;
    if (!d->stopping) pipeline_outbox_changed(d->pl);
}

/* Two spellings of one directory (a symlink, say) are no change. */
static bool
same_dir(const char *a, const char *b)
{
    if (!strcmp(a, b)) return true;
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void
release_next_lock(daemon_ctx *d)
{
    statelock_release(d->next_lock);
    d->next_lock = -1;
    free(d->next_dir);
    d->next_dir = NULL;
}

/* While the file names another state_dir, the daemon holds that one's
 * lock too: a second daemon started on the edited file would otherwise
 * poll every feed and send every alert a second time. A directory not
 * there yet is left alone (a reload creates nothing). */
static void
lock_next_state_dir(daemon_ctx *d, const char *dir)
{
    if (d->next_dir && same_dir(d->next_dir, dir)) return; /* held */
    release_next_lock(d);
    struct stat st;
    if (stat(dir, &st) < 0) return;
    char err[PATH_MAX + 256];
    int fd = statelock_take(dir, err, sizeof err);
    if (fd < 0) {
        log_warn("%s", err);
        return;
    }
    d->next_lock = fd;
    d->next_dir = xstrdup(dir);
}

/* The database is open and locked in the state directory, alerts may be in
 * flight from its outbox: moving to another one is a restart's work, not a
 * reload's. The reload applies the rest and keeps the directory in use,
 * saying so (every reload, while the file names another one): `vigie
 * status -c` reads the new one meanwhile. */
static void
keep_state_dir(daemon_ctx *d, config *c)
{
    if (same_dir(c->state_dir, d->state_dir)) {
        release_next_lock(d); /* the file names ours again */
    } else {
        log_warn("state_dir changed (%s → %s): takes effect on restart; "
                 "still using %s",
                 d->state_dir, c->state_dir, d->state_dir);
        lock_next_state_dir(d, c->state_dir);
    }
    c->state_dir = arena_strdup(&c->mem, d->state_dir);
}

static void
on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
    UNUSED(loop);
    UNUSED(revents);
    daemon_ctx *d = w->data;
    if (d->stopping) return;
    if (d->once) {
        /* a run that polls each feed once ends with the feeds it began
         * with: reloading would turn it into a daemon that never ends */
        log_notice("SIGHUP ignored: run --once keeps its configuration");
        return;
    }
    /* a reload is when an operator looks: check the database then too */
    if (!pipeline_store_ok(d->pl)) {
        on_store_lost(d);
        return;
    }
    notify_reloading();
    char err[2048];
    config *c = config_load(d->config_path, err, sizeof err);
    if (!c || config_check_scripts(c, err, sizeof err) < 0) {
        log_err("reload failed, keeping the running configuration: %s", err);
        notify_status("reload failed, kept the previous configuration: %s", err);
        notify_ready();
        config_free(c);
        return;
    }
    log_set_level(c->log_level);
    keep_state_dir(d, c);
    evcurl_set_max(d->ec, (int)c->max_concurrent);
    pipeline_configure(d->pl, c);
    poller_configure(d->poller, c, false);
    d->old_cfgs = xrealloc(d->old_cfgs, (d->nold + 1) * sizeof *d->old_cfgs);
    d->old_cfgs[d->nold++] = d->cfg;
    d->cfg = c;
    free_old_configs(d);
    log_notice("reloaded %s: %zu feeds", c->path, c->nfeeds);
    send_status(d, "reloaded: ");
    notify_ready();
}

/* Runs before the loop blocks: the place to notice that work is done. */
static void
on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    UNUSED(revents);
    daemon_ctx *d = w->data;
    if (d->nold) free_old_configs(d);
    if (d->stopping && poller_busy(d->poller) == 0 && !pipeline_sending(d->pl))
        ev_break(loop, EVBREAK_ALL);
    if (d->once && poller_done(d->poller)) {
        /* every feed is in; give the alerts a bounded time to go out,
         * retries that fall within it included (a 500, then a retry in a
         * second: the run waits for it) */
        if (!d->once_polled_ms) d->once_polled_ms = now_ms();
        int64_t left = d->once_polled_ms + ONCE_DELIVERY_WAIT_S * 1000 - now_ms();
        if (left < 0 || pipeline_delivery_idle(d->pl, left))
            ev_break(loop, EVBREAK_ALL);
    }
}

/* The run's last line, once everything of it has been logged (the feeds
 * committed by the final flush included): what --once did, or that the
 * daemon stopped. Returns the exit status. */
static int
log_end(daemon_ctx *d)
{
    if (!d->once) {
        log_notice("stopped");
        return d->failed ? EXIT_FAIL : EXIT_OK;
    }
    poller_stats st;
    poller_get_stats(d->poller, &st);
    size_t pending, dead;
    pipeline_counts(d->pl, &pending, &dead);
    size_t ok = st.polls - st.polls_failed;
    if (d->stop_why) {
        /* Feeds whose poll was cut or never started were not polled: the
         * run did not do what --once promises, whatever the rest did. */
        size_t not_polled = st.feeds > st.polls ? st.feeds - st.polls : 0;
        log_notice("interrupted by %s: %zu of %zu feeds polled, %zu ok, %zu "
                   "failed, %zu not polled; %zu alerts delivered, %zu "
                   "pending, %zu dead",
                   d->stop_why, st.polls, st.feeds, ok, st.polls_failed,
                   not_polled, pipeline_delivered(d->pl), pending, dead);
        return EXIT_FAIL;
    }
    log_notice("done: %zu feeds polled, %zu ok, %zu failed; %zu alerts "
               "delivered, %zu pending, %zu dead",
               st.polls, ok, st.polls_failed, pipeline_delivered(d->pl),
               pending, dead);
    return st.polls_failed || st.polls < st.feeds ? EXIT_FAIL : EXIT_OK;
}

int
daemon_run(const char *config_path, bool once)
{
    char err[2048];
    config_set_script_checker(worker_check_script);
    config *cfg = config_load(config_path, err, sizeof err);
    if (!cfg) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    if (config_check_scripts(cfg, err, sizeof err) < 0) {
        cli_error("%s", err);
        config_free(cfg);
        return EXIT_USAGE;
    }
    log_set_level(cfg->log_level);
    signal(SIGPIPE, SIG_IGN);
    /* `vigie outbox retry` signals the pid in vigie.lock, written before
     * the watcher below starts and still there after it stops: outside
     * that window the default action would end the daemon mid-commit. */
    signal(SIGUSR1, SIG_IGN);

    /* One malloc arena for the loop and the parse thread: a second arena
     * keeps its own free memory, and on a 10,000-feed first poll that
     * was 3 MB more resident for no measurable speed. */
    mallopt(M_ARENA_MAX, 1);
    daemon_ctx d = {.config_path = config_path, .cfg = cfg, .once = once,
                    .state_dir = xstrdup(cfg->state_dir), .next_lock = -1};
    d.loop = ev_default_loop(EVFLAG_AUTO);
    d.ec = evcurl_new(d.loop, (int)cfg->max_concurrent);
    d.pl = pipeline_new(d.loop, d.ec, cfg, err, sizeof err);
    if (!d.pl) {
        cli_error("%s", err);
        evcurl_free(d.ec);
        config_free(cfg);
        free(d.state_dir);
        ev_loop_destroy(d.loop);
        return EXIT_USAGE;
    }
    d.poller = poller_new(d.loop, d.ec, d.pl);
    pipeline_on_lost(d.pl, on_store_lost, &d);

    ev_signal_init(&d.sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&d.sigint, on_stop_signal, SIGINT);
    ev_signal_init(&d.sighup, on_reload, SIGHUP);
    ev_signal_init(&d.sigusr1, on_outbox_changed, SIGUSR1);
    d.sigterm.data = d.sigint.data = d.sighup.data = d.sigusr1.data = &d;
    ev_signal_start(d.loop, &d.sigterm);
    ev_signal_start(d.loop, &d.sigint);
    ev_signal_start(d.loop, &d.sighup);
    ev_signal_start(d.loop, &d.sigusr1);
    ev_timer_init(&d.grace, on_grace_over, STOP_GRACE_S, 0.0);
    d.grace.data = &d;
    ev_prepare_init(&d.check_done, on_prepare);
    d.check_done.data = &d;
    ev_prepare_start(d.loop, &d.check_done);

    log_notice("vigie %s: %s: %zu feeds%s", VIGIE_VERSION, cfg->path,
               cfg->nfeeds, once ? ", polling each once" : "");
    poller_configure(d.poller, cfg, once);
    /* The watchdog is pinged from the loop itself: a stuck loop stops
     * pinging and systemd restarts it. */
    uint64_t wd_usec = notify_watchdog_usec();
    ev_timer_init(&d.watchdog, on_watchdog, 0.0, (double)wd_usec / 2e6);
    if (wd_usec) ev_timer_again(d.loop, &d.watchdog);
    ev_timer_init(&d.status, on_status_timer, 60.0, 60.0);
    d.status.data = &d;
    if (getenv("NOTIFY_SOCKET")) ev_timer_start(d.loop, &d.status); /* only systemd reads it */
    send_status(&d, NULL);
    notify_ready();
    ev_run(d.loop, 0);

    ev_signal_stop(d.loop, &d.sigterm);
    ev_signal_stop(d.loop, &d.sigint);
    ev_signal_stop(d.loop, &d.sighup);
    ev_signal_stop(d.loop, &d.sigusr1);
    signal(SIGUSR1, SIG_IGN); /* (libev put back the default action) */
    ev_timer_stop(d.loop, &d.grace);
    ev_timer_stop(d.loop, &d.watchdog);
    ev_timer_stop(d.loop, &d.status);
    ev_prepare_stop(d.loop, &d.check_done);
    /* Finished feeds are committed while the poller can still hear it;
     * then the poller goes (its fetches cancelled), the pipeline drops
     * what is left without calling back, and evcurl goes last (both
     * cancel their transfers through it). */
    pipeline_flush(d.pl);
    int status = log_end(&d);
    poller_free(d.poller);
    pipeline_free(d.pl);
    evcurl_free(d.ec);
    for (size_t i = 0; i < d.nold; i++) config_free(d.old_cfgs[i]);
    free(d.old_cfgs);
    config_free(d.cfg);
    free(d.state_dir);
    release_next_lock(&d);
    ev_loop_destroy(d.loop);
    return status;
}
