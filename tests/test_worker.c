/* test_worker.c — rules in the sandboxed worker process: the sandbox
 * cases again (each must fail cleanly while the next item still runs),
 * plus what only a separate process can do: kill a C function that never
 * returns, survive a worker that dies, refuse system calls. Also the
 * item/action codec against truncated and lying input. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "actions.h"
#include "date.h"
#include "feed.h"
#include "itemcodec.h"
#include "log.h"
#include "script.h"
#include "worker.h"

static char tmpdir[64];

static const rule_feed test_feed = {
    .title = "Feed",
    .link = "https://ex.org/",
    .subtitle = "",
    .language = "en",
    .author = NULL,
    .updated = DATE_NONE,
    .url = "https://ex.org/rss",
    .name = "ex",
};

static const char *
write_script(const char *name, const char *src)
{
    static char path[8][256];
    static int n;
    char *p = path[n++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(src, f);
    fclose(f);
    return p;
}

typedef struct result {
    int done;
    action_list acts;
    worker_result r;
} result;

static void
grab(void *ud, worker_result *r)
{
    result *res = ud;
    res->done++;
    res->r = *r;
    res->acts = *r->actions;
    action_list_init(r->actions);
}

static worker *
new_worker_budget(int64_t call_ms)
{
    worker_opts o;
    worker_opts_default(&o);
    o.limits.call_ms = call_ms;
    o.limits.load_ms = 300;
    o.limits.mem = 32u << 20;
    return worker_new(&o);
}

static worker *
new_worker(void)
{
    return new_worker_budget(200);
}

static feed_item *
make_items(size_t n)
{
    feed_item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "%zu", i);
        v[i].id = xstrdup(id);
        v[i].title = "title";
        v[i].link = "https://ex.org/i";
        v[i].summary = "";
        v[i].content = "";
        v[i].author = "";
        v[i].published = DATE_NONE;
        v[i].updated = DATE_NONE;
    }
    return v;
}

static void
free_items(feed_item *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)(uintptr_t)v[i].id);
    free(v);
}

static void
run_job(worker *w, const char *const *paths, size_t np, size_t nitems,
        result *res)
{
    feed_item *items = make_items(nitems);
    memset(res, 0, sizeof *res);
    worker_submit(w, &test_feed, items, nitems, paths, np, grab, res);
    free_items(items, nitems); /* the worker copied them */
    worker_wait(w);
    assert_int_equal(res->done, 1);
}

static size_t
count_kind(const result *res, action_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < res->acts.len; i++)
        n += res->acts.v[i].kind == k;
    return n;
}

/* Item "1" runs `body`, which must fail with `want`; items 0 and 2 store. */
static void
bad_item_then_next(const char *body, const char *want, size_t restarts)
{
    char src[4096];
    snprintf(src, sizeof src,
             "function on_item(item)\n"
             "  if item.id == '1' then\n%s\n  end\n"
             "  vigie.store(item)\n"
             "end\n",
             body);
    const char *path = write_script("bad.lua", src);
    worker *w = new_worker();
    result res;
    run_job(w, &path, 1, 3, &res);
    assert_int_equal(res.r.items, 3);
    assert_int_equal(res.r.calls, 3);
    assert_int_equal(res.r.failed, 1);
    assert_int_equal(res.r.restarts, restarts);
    assert_int_equal(count_kind(&res, ACTION_STORE), 2);
    assert_int_equal(count_kind(&res, ACTION_ERROR), 1);
    /* in item order: store 0, error 1, store 2 */
    const action *e = NULL;
    for (size_t i = 0; i < res.acts.len; i++)
        if (res.acts.v[i].kind == ACTION_ERROR) e = &res.acts.v[i];
    assert_non_null(e);
    assert_int_equal(e->item, 1);
    assert_string_equal(e->item_id, "1");
    assert_string_equal(e->script, path);
    if (!strstr(e->message, want))
        fail_msg("message '%s' lacks '%s'", e->message, want);
    assert_int_equal(res.acts.v[res.acts.len - 1].kind, ACTION_STORE);
    assert_string_equal(res.acts.v[res.acts.len - 1].item_id, "2");
    assert_string_equal(res.acts.v[0].item_id, "0");
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_sandbox_cases(void **state)
{
    UNUSED(state);
    bad_item_then_next("io.open('/etc/passwd')", "(global 'io')", 0);
    bad_item_then_next("os.execute('id')", "(field 'execute')", 0);
    bad_item_then_next("require 'os'", "module 'os' is not available", 0);
    bad_item_then_next("load(string.dump(print))", "(field 'dump')", 0);
    bad_item_then_next("debug.getregistry()", "(global 'debug')", 0);
    bad_item_then_next("while true do end", "time budget exceeded (200 ms)", 0);
    bad_item_then_next("while true do pcall(function() while true do end "
                       "end) end",
                       "time budget exceeded", 0);
    bad_item_then_next("coroutine.wrap(function() while true do end end)()",
                       "time budget exceeded", 0);
    bad_item_then_next("setmetatable({}, {__gc = function() while true do "
                       "end end})",
                       "__gc metamethods are not allowed", 0);
    bad_item_then_next("local t, s = {}, ('x'):rep(2^20)\n"
                       "for i = 1, 10 * 2^10 do t[i] = s .. i end",
                       "memory limit exceeded (32 MiB)", 0);
    bad_item_then_next("local function f(n) return n == 0 and 0 or 1 + "
                       "f(n - 1) end f(1e6)",
                       "bad.lua:", 0);
    bad_item_then_next("error({})", "(error object is a table value)", 0);
    bad_item_then_next("local x = nil; x.y = 1", "bad.lua:3: attempt to index",
                       0);
}

static void
test_c_function_is_killed(void **state)
{
    UNUSED(state);
    /* string.find backtracking for ages inside C: the hook never fires,
     * the parent kills the worker, charges that call and goes on */
    bad_item_then_next("local s = ('a'):rep(5000)\n"
                       "s:find(('(.-)'):rep(8) .. 'b')",
                       "killed after", 1);
}

static void
test_kill_uses_the_call_budget(void **state)
{
    UNUSED(state);
    /* The load budget is far longer than the call budget: the parent must
     * notice that the worker moved from loading to an item call even
     * though nothing wakes it up then, and apply the call's budget. (A
     * bound on which budget applied, not a speed test: 60 s vs 0.5 s.) */
    worker_opts o;
    worker_opts_default(&o);
    o.limits.call_ms = 200;
    o.limits.load_ms = 30000;
    worker *w = worker_new(&o);
    const char *p =
        write_script("late.lua", "function on_item(item)\n"
                                 "  if item.id == '1' then\n"
                                 "    ('a'):rep(5000):find(('(.-)'):rep(8) .. "
                                 "'b')\n"
                                 "  end\n"
                                 "end\n");
    result res;
    run_job(w, &p, 1, 2, &res);
    assert_int_equal(res.r.failed, 1);
    assert_int_equal(res.acts.len, 1);
    const char *m = strstr(res.acts.v[0].message, "killed after ");
    assert_non_null(m);
    long ms = strtol(m + strlen("killed after "), NULL, 10);
    assert_true(ms >= 400);
    assert_true(ms < 30000);
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_idle_gap_is_not_a_timeout(void **state)
{
    UNUSED(state);
    /* A job that comes a while after the previous one (longer than a
     * call's budget, shorter than a minute: a quiet feed) must not be
     * charged for the time the worker sat idle. The worker's last call
     * start, left in the shared page by the previous job, is no start of
     * this job's calls. */
    worker *w = new_worker_budget(100);
    const char *p = write_script("idle.lua", "function on_item(item)\n"
                                             "  vigie.store(item)\n"
                                             "end\n");
    for (int round = 0; round < 3; round++) {
        result res;
        run_job(w, &p, 1, 3, &res);
        assert_int_equal(res.r.failed, 0);
        assert_int_equal(count_kind(&res, ACTION_STORE), 3);
        action_list_free(&res.acts);
        /* idle: well past 100 ms x kill_factor + slack */
        struct timespec ts = {0, 700 * 1000000L};
        nanosleep(&ts, NULL);
    }
    worker_free(w);
}

static void
test_every_item_killed_still_ends(void **state)
{
    UNUSED(state);
    const char *a =
        write_script("bomb.lua", "function on_item(item)\n"
                                 "  if item.id ~= '2' then\n"
                                 "    ('a'):rep(5000):find(('(.-)'):rep(8) .. "
                                 "'b')\n"
                                 "  end\n"
                                 "  vigie.store(item)\n"
                                 "end\n");
    const char *b = write_script("ok.lua", "function on_item(item)\n"
                                           "  vigie.alert('ops', item.id)\n"
                                           "end\n");
    const char *paths[] = {a, b};
    worker *w = new_worker();
    result res;
    run_job(w, paths, 2, 4, &res);
    /* items 0, 1, 3 killed in bomb.lua; ok.lua ran on all four */
    assert_int_equal(res.r.calls, 8);
    assert_int_equal(res.r.failed, 3);
    assert_int_equal(res.r.restarts, 3);
    assert_int_equal(count_kind(&res, ACTION_ALERT), 4);
    assert_int_equal(count_kind(&res, ACTION_STORE), 1);
    /* order: for each item, bomb.lua then ok.lua */
    const action_kind want[] = {ACTION_ERROR, ACTION_ALERT, ACTION_ERROR,
                                ACTION_ALERT, ACTION_STORE, ACTION_ALERT,
                                ACTION_ERROR, ACTION_ALERT};
    assert_int_equal(res.acts.len, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(res.acts.v[i].kind, want[i]);
        assert_int_equal(res.acts.v[i].item, (int32_t)(i / 2));
        assert_string_equal(res.acts.v[i].script, i % 2 ? b : a);
    }
    assert_string_equal(res.acts.v[7].payload, "{\"text\":\"3\"}");
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_load_killed(void **state)
{
    UNUSED(state);
    /* a top level stuck in C: the script is marked failed, its items get
     * errors, the other script of the job runs */
    const char *a = write_script(
        "slowload.lua", "('a'):rep(5000):find(('(.-)'):rep(8) .. 'b')\n"
                        "function on_item(item) end\n");
    const char *b = write_script("fine.lua", "function on_item(item)\n"
                                             "  vigie.store(item)\n"
                                             "end\n");
    const char *paths[] = {a, b};
    worker *w = new_worker();
    result res;
    run_job(w, paths, 2, 3, &res);
    assert_int_equal(res.r.calls, 6);
    assert_int_equal(res.r.failed, 3);
    assert_int_equal(count_kind(&res, ACTION_STORE), 3);
    assert_int_equal(count_kind(&res, ACTION_ERROR), 4);
    assert_int_equal(res.acts.v[0].kind, ACTION_ERROR);
    assert_int_equal(res.acts.v[0].item, -1);
    assert_non_null(strstr(res.acts.v[0].message, "loading was stopped"));
    assert_non_null(worker_script_error(w, a));
    assert_null(worker_script_error(w, b));
    action_list_free(&res.acts);
    /* the next job does not try it again until a reload */
    run_job(w, paths, 2, 1, &res);
    assert_int_equal(res.r.restarts, 0);
    assert_int_equal(res.r.failed, 1);
    assert_non_null(strstr(res.acts.v[0].message, "not run"));
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_load_errors(void **state)
{
    UNUSED(state);
    const char *missing = "/nonexistent/dir/x.lua";
    const char *syntax = write_script("syntax.lua", "function on_item(\n");
    const char *runtime =
        write_script("runtime.lua", "print('hi')\n"
                                    "error('at load')\n"
                                    "function on_item() end\n");
    const char *paths[] = {missing, syntax, runtime};
    worker *w = new_worker();
    result res;
    run_job(w, paths, 3, 2, &res);
    assert_int_equal(res.r.calls, 6);
    assert_int_equal(res.r.failed, 6);
    assert_non_null(
        strstr(worker_script_error(w, missing), "No such file or directory"));
    assert_non_null(strstr(worker_script_error(w, syntax), "syntax.lua:2:"));
    assert_non_null(
        strstr(worker_script_error(w, runtime), "runtime.lua:2: at load"));
    /* the top-level print of runtime.lua came back as a log action */
    assert_int_equal(count_kind(&res, ACTION_LOG), 1);
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_order_and_top_level(void **state)
{
    UNUSED(state);
    const char *a = write_script(
        "a.lua",
        "print('a loaded')\n"
        "function on_item(item)\n"
        "  if item.id == '1' then vigie.store(item, {tags = 'a'}) end\n"
        "end\n");
    const char *b =
        write_script("b.lua", "local n = 0\n"
                              "function on_item(item)\n"
                              "  n = n + 1\n"
                              "  vigie.alert('t', {n = n, id = item.id,\n"
                              "    feed = item.feed.name})\n"
                              "end\n");
    const char *paths[] = {a, b, a};
    worker *w = new_worker();
    result res;
    run_job(w, paths, 3, 3, &res);
    assert_int_equal(res.r.calls, 9);
    assert_int_equal(res.r.failed, 0);
    assert_int_equal(res.acts.len, 6);
    assert_int_equal(res.acts.v[0].kind, ACTION_LOG);
    assert_int_equal(res.acts.v[0].item, -1);
    assert_string_equal(res.acts.v[0].message, "a loaded");
    assert_string_equal(res.acts.v[1].payload,
                        "{\"feed\":\"ex\",\"id\":\"0\",\"n\":1}");
    assert_int_equal(res.acts.v[2].kind, ACTION_STORE);
    assert_int_equal(res.acts.v[3].kind, ACTION_ALERT);
    assert_int_equal(res.acts.v[4].kind, ACTION_STORE); /* a.lua again */
    assert_string_equal(res.acts.v[5].payload,
                        "{\"feed\":\"ex\",\"id\":\"2\",\"n\":3}");
    action_list_free(&res.acts);
    /* state survives between jobs in the same worker */
    run_job(w, paths, 3, 1, &res);
    assert_int_equal(res.acts.len, 1);
    assert_string_equal(res.acts.v[0].payload,
                        "{\"feed\":\"ex\",\"id\":\"0\",\"n\":4}");
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_reload(void **state)
{
    UNUSED(state);
    const char *p = write_script("r.lua", "function on_item(item)\n"
                                          "  vigie.alert('x', 'v1')\n"
                                          "end\n");
    worker *w = new_worker();
    result res;
    run_job(w, &p, 1, 1, &res);
    assert_string_equal(res.acts.v[0].payload, "{\"text\":\"v1\"}");
    action_list_free(&res.acts);
    write_script("r.lua", "function on_item(item)\n"
                          "  vigie.alert('x', 'v2')\n"
                          "end\n");
    run_job(w, &p, 1, 1, &res); /* no reload yet: still the old text */
    assert_string_equal(res.acts.v[0].payload, "{\"text\":\"v1\"}");
    action_list_free(&res.acts);
    worker_reload(w);
    run_job(w, &p, 1, 1, &res);
    assert_string_equal(res.acts.v[0].payload, "{\"text\":\"v2\"}");
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_many_items(void **state)
{
    UNUSED(state);
    const char *p = write_script(
        "count.lua", "local n = 0\n"
                     "function on_item(item)\n"
                     "  n = n + 1\n"
                     "  if n % 5000 == 0 then vigie.store(item) end\n"
                     "end\n");
    worker *w = new_worker();
    result res;
    run_job(w, &p, 1, 20000, &res);
    assert_int_equal(res.r.calls, 20000);
    assert_int_equal(res.r.failed, 0);
    assert_int_equal(res.acts.len, 4);
    assert_string_equal(res.acts.v[3].item_id, "19999");
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_worker_dies(void **state)
{
    UNUSED(state);
    /* Each item busies itself for 100 ms of CPU (well within its budget,
     * even on a busy machine); we kill the
     * worker from outside during the job, driving it as an event loop
     * would. The call it was running fails; the job completes. */
    const char *p =
        write_script("slow.lua", "function on_item(item)\n"
                                 "  local t = os.clock()\n"
                                 "  while os.clock() - t < 0.1 do end\n"
                                 "  vigie.store(item)\n"
                                 "end\n");
    worker *w = new_worker_budget(5000);
    feed_item *items = make_items(4);
    result res = {0};
    worker_submit(w, &test_feed, items, 4, &p, 1, grab, &res);
    free_items(items, 4);
    assert_true(worker_busy(w));
    int64_t t0 = now_ms();
    bool killed = false;
    while (!res.done) {
        worker_step(w);
        if (res.done) break;
        if (!killed && now_ms() - t0 > 150 && worker_fd(w) >= 0) {
            assert_true(worker_pid(w) > 0);
            kill(worker_pid(w), SIGKILL);
            killed = true;
        }
        struct pollfd pf = {worker_fd(w), POLLIN, 0};
        if (worker_wants_write(w)) pf.events |= POLLOUT;
        int64_t dl = worker_deadline(w), now = now_ms();
        int timeout = dl < 0 ? 50 : dl <= now ? 0 : (int)(dl - now);
        if (timeout > 50) timeout = 50;
        poll(&pf, pf.fd >= 0, timeout);
    }
    assert_false(worker_busy(w));
    assert_int_equal(res.r.calls, 4);
    assert_int_equal(res.r.failed, 1);
    assert_int_equal(res.r.restarts, 1);
    assert_int_equal(count_kind(&res, ACTION_STORE), 3);
    bool found = false;
    for (size_t i = 0; i < res.acts.len; i++)
        if (res.acts.v[i].kind == ACTION_ERROR)
            found = strstr(res.acts.v[i].message,
                           "the rule worker died (signal 9)") != NULL;
    assert_true(found);
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_zero_items_loads(void **state)
{
    UNUSED(state);
    const char *p = write_script("z.lua", "print('top')\n"
                                          "function on_item() end\n");
    worker *w = new_worker();
    result res;
    run_job(w, &p, 1, 0, &res);
    assert_int_equal(res.r.calls, 0);
    assert_int_equal(res.acts.len, 1);
    assert_string_equal(res.acts.v[0].message, "top");
    assert_null(worker_script_error(w, p));
    assert_non_null(strstr(worker_sandbox_info(w), "no_new_privs"));
    action_list_free(&res.acts);
    worker_free(w);
}

static void
test_check_script(void **state)
{
    UNUSED(state);
    char err[512];
    const char *good = write_script("good.lua", "function on_item() end\n");
    const char *bad = write_script("badtop.lua", "local x = nil\n"
                                                 "x.y = 1\n"
                                                 "function on_item() end\n");
    const char *none = write_script("noitem.lua", "x = 1\n");
    assert_int_equal(worker_check_script(good, err, sizeof err), 0);
    assert_int_equal(worker_check_script(bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "badtop.lua:2: attempt to index"));
    assert_int_equal(worker_check_script(none, err, sizeof err), -1);
    assert_non_null(strstr(err, "defines no on_item(item) function"));
    assert_int_equal(worker_check_script("/nonexistent.lua", err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent.lua: No such file"));
}

static void
test_queue_of_jobs(void **state)
{
    UNUSED(state);
    const char *p = write_script("q.lua", "function on_item(item)\n"
                                          "  vigie.alert('q', item.feed.name)\n"
                                          "end\n");
    worker *w = new_worker();
    feed_item *items = make_items(2);
    result r1 = {0}, r2 = {0};
    rule_feed f2 = test_feed;
    f2.name = "second";
    worker_submit(w, &test_feed, items, 2, &p, 1, grab, &r1);
    worker_submit(w, &f2, items, 1, &p, 1, grab, &r2);
    free_items(items, 2);
    worker_wait(w);
    assert_int_equal(r1.done, 1);
    assert_int_equal(r2.done, 1);
    assert_int_equal(r1.acts.len, 2);
    assert_int_equal(r2.acts.len, 1);
    assert_string_equal(r2.acts.v[0].payload, "{\"text\":\"second\"}");
    action_list_free(&r1.acts);
    action_list_free(&r2.acts);
    worker_free(w);
}

/* ---- the sandbox itself ---------------------------------------------- */

static void
test_sandbox_kills_exec(void **state)
{
    UNUSED(state);
    /* a system call off the list (here execve) ends the process */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256], info[256];
        close(sv[0]);
        if (worker_sandbox(sv[1], true, 0, err, sizeof err, info, sizeof info))
            _exit(100);
        if (write(3, "x", 1) != 1) _exit(101);
        char *const argv[] = {(char *)(uintptr_t) "/bin/true", NULL};
        execve("/bin/true", argv, NULL);
        _exit(102);
    }
    close(sv[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char c;
    assert_int_equal(read(sv[0], &c, 1), 1);
    close(sv[0]);
#if defined(__x86_64__) || defined(__aarch64__)
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
#else
    assert_true(WIFEXITED(status));
#endif
}

static void
test_sandbox_bits(void **state)
{
    UNUSED(state);
    /* what the worker may and may not do, as bits of the exit status */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int extra = open("/dev/null", O_RDONLY);
    pid_t pid = fork();
    if (pid == 0) {
        char err[256], info[256];
        close(sv[0]);
        if (worker_sandbox(sv[1], true, 0, err, sizeof err, info, sizeof info))
            _exit(100);
        int bits = 0;
        errno = 0;
        if (open("/etc/passwd", O_RDONLY) < 0 && errno == EACCES) bits |= 1;
        errno = 0;
        if (socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EACCES) bits |= 2;
        if (close(extra) < 0 && errno == EBADF) bits |= 4;
        if (write(3, "x", 1) == 1) bits |= 8;
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED && errno == EACCES) bits |= 16;
        void *q = malloc(1 << 20);
        if (q) bits |= 32;
        free(q);
        _exit(bits);
    }
    close(sv[1]);
    close(extra);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(sv[0]);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 63);
}

/* ---- the codec -------------------------------------------------------- */

static void
test_codec_item_roundtrip(void **state)
{
    UNUSED(state);
    const char *cats[] = {"a", "b\xc3\xa9"};
    feed_enclosure enc[] = {{"https://e/x.mp3", "audio/mpeg", 42}};
    feed_item it = {
        .id = "urn:x",
        .title = "T",
        .link = "L",
        .summary = "S",
        .content = "<p>C</p>",
        .author = "A",
        .categories = cats,
        .ncategories = 2,
        .published = 1000,
        .updated = DATE_NONE,
        .enclosures = enc,
        .nenclosures = 1,
    };
    buf b = {0};
    itemcodec_put_feed(&b, &test_feed);
    itemcodec_put_item(&b, &it);
    codec_rd r;
    codec_rd_init(&r, b.p, b.len);
    rule_feed f;
    feed_item out;
    arena a = {0};
    assert_true(itemcodec_get_feed(&r, &f));
    assert_true(itemcodec_get_item(&r, &out, &a));
    assert_true(r.p == r.end);
    assert_string_equal(f.name, "ex");
    assert_null(f.author);
    assert_true(f.updated == DATE_NONE);
    assert_string_equal(out.id, "urn:x");
    assert_string_equal(out.content, "<p>C</p>");
    assert_int_equal(out.ncategories, 2);
    assert_string_equal(out.categories[1], "b\xc3\xa9");
    assert_int_equal(out.published, 1000);
    assert_string_equal(out.enclosures[0].type, "audio/mpeg");
    assert_int_equal(out.enclosures[0].length, 42);
    arena_free(&a);
    /* every truncation fails cleanly */
    for (size_t n = 0; n < b.len; n++) {
        codec_rd_init(&r, b.p, n);
        bool ok =
            itemcodec_get_feed(&r, &f) && itemcodec_get_item(&r, &out, &a);
        assert_false(ok);
        assert_true(r.bad);
        arena_free(&a);
    }
    buf_free(&b);
}

static void
test_codec_lying_input(void **state)
{
    UNUSED(state);
    buf b = {0};
    /* a string that claims 1 GiB */
    codec_put_u32(&b, 1u << 30);
    codec_put_u8(&b, 'x');
    codec_rd r;
    codec_rd_init(&r, b.p, b.len);
    assert_null(codec_get_str(&r, ITEMCODEC_MAX_FIELD, NULL));
    assert_true(r.bad);
    /* an action list that claims 4 billion entries */
    buf_reset(&b);
    codec_put_u32(&b, UINT32_MAX);
    action_list l;
    action_list_init(&l);
    codec_rd_init(&r, b.p, b.len);
    assert_false(itemcodec_get_actions(&r, &l, "s", 0, "i"));
    assert_int_equal(l.len, 0);
    /* an unterminated string */
    buf_reset(&b);
    codec_put_u32(&b, 1);
    codec_put_u8(&b, 'a');
    codec_put_u8(&b, 'b');
    codec_rd_init(&r, b.p, b.len);
    assert_null(codec_get_str(&r, 10, NULL));
    assert_true(r.bad);
    buf_free(&b);
    action_list_free(&l);
}

static void
encode_one(buf *b, action_list *src)
{
    buf_reset(b);
    itemcodec_put_actions(b, src, 0);
    action_list_clear(src);
}

static void
test_codec_actions_validated(void **state)
{
    UNUSED(state);
    action_list src, dst;
    action_list_init(&src);
    action_list_init(&dst);
    buf b = {0};
    codec_rd r;
    const char *tags[] = {"k1", "k2"};

    action_alert(&src, "x", 0, "i", "ops", "{\"a\":1}", 7);
    action_store(&src, "x", 0, "i", tags, 2);
    action_log(&src, "x", 0, "i", LOG_INFO, "hello");
    action_error(&src, "x", 0, "i", "boom");
    encode_one(&b, &src);
    codec_rd_init(&r, b.p, b.len);
    assert_true(itemcodec_get_actions(&r, &dst, "s.lua", 3, "id3"));
    assert_int_equal(dst.len, 4);
    assert_string_equal(dst.v[0].script, "s.lua");
    assert_int_equal(dst.v[0].item, 3);
    assert_string_equal(dst.v[0].item_id, "id3");
    assert_string_equal(dst.v[0].payload, "{\"a\":1}");
    assert_string_equal(dst.v[1].tags[1], "k2");
    assert_string_equal(dst.v[2].message, "hello");
    assert_string_equal(dst.v[3].message, "boom");
    action_list_clear(&dst);

    struct {
        const char *target, *payload;
    } bad_alerts[] = {
        {"ops", "[1,2]"},            /* not an object */
        {"ops", "{\"a\":"},          /* not JSON */
        {"bad name", "{}"},          /* not a webhook name */
        {"ops", "{\"a\":\"\xff\"}"}, /* not UTF-8 */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad_alerts); i++) {
        action_alert(&src, "x", 0, "i", bad_alerts[i].target,
                     bad_alerts[i].payload, strlen(bad_alerts[i].payload));
        encode_one(&b, &src);
        codec_rd_init(&r, b.p, b.len);
        assert_false(itemcodec_get_actions(&r, &dst, "s", 0, "i"));
        assert_int_equal(dst.len, 0);
    }
    action_log(&src, "x", 0, "i", 99, "bad level");
    encode_one(&b, &src);
    codec_rd_init(&r, b.p, b.len);
    assert_false(itemcodec_get_actions(&r, &dst, "s", 0, "i"));
    for (int i = 0; i < ACTION_MAX_PER_CALL + 1; i++)
        action_store(&src, "x", 0, "i", NULL, 0);
    encode_one(&b, &src);
    codec_rd_init(&r, b.p, b.len);
    assert_false(itemcodec_get_actions(&r, &dst, "s", 0, "i"));
    assert_int_equal(dst.len, 0);
    buf_free(&b);
    action_list_free(&src);
    action_list_free(&dst);
}

int
main(void)
{
    log_init(LOG_ERR);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vigie-test-worker-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sandbox_cases),
        cmocka_unit_test(test_c_function_is_killed),
        cmocka_unit_test(test_kill_uses_the_call_budget),
        cmocka_unit_test(test_every_item_killed_still_ends),
        cmocka_unit_test(test_load_killed),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_order_and_top_level),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_many_items),
        cmocka_unit_test(test_worker_dies),
        cmocka_unit_test(test_zero_items_loads),
        cmocka_unit_test(test_queue_of_jobs),
        cmocka_unit_test(test_check_script),
        cmocka_unit_test(test_idle_gap_is_not_a_timeout),
        cmocka_unit_test(test_sandbox_kills_exec),
        cmocka_unit_test(test_sandbox_bits),
        cmocka_unit_test(test_codec_item_roundtrip),
        cmocka_unit_test(test_codec_lying_input),
        cmocka_unit_test(test_codec_actions_validated),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
