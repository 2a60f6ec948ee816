/* cmd_test.c — `vigie test -s SCRIPT FILE...`: the dry run of a rule.
 *
 * Parses each feed file, runs the script(s) on every item in the rule
 * worker exactly as the daemon would (same sandbox, same budgets), and
 * prints one JSON object per action per line on stdout; a summary goes to
 * stderr. Nothing is stored, nothing is sent, any webhook name is
 * accepted. Exit 1 if a script cannot be loaded, raised (or ran out of
 * time or memory) on any item, or a file could not be read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "cli.h"
#include "duration.h"
#include "feed.h"
#include "log.h"
#include "script.h"
#include "worker.h"

static void
test_usage(FILE *f)
{
    fprintf(f,
            "usage: vigie test -s SCRIPT [-s SCRIPT...] [OPTIONS] FILE...\n\n"
            "Runs the rule script(s) on every item of the feed FILEs ('-' "
            "for stdin)\nand prints one JSON line per action (alert, store, "
            "log, error).\nNothing is stored or sent; any webhook name is "
            "accepted.\n\n"
            "  -s, --script FILE   rule script (repeat: they run in order)\n"
            "  --timeout DURATION  time one on_item call may take (default "
            "2s)\n"
            "  --memory SIZE       memory one script may use (default "
            "64MiB)\n"
            "  --name NAME         item.feed.name (default: none)\n"
            "  --url URL           item.feed.url, and the base of relative "
            "links\n\n"
            "Exit status: 0 ok, 1 a script failed to load or failed on an "
            "item\n(or a file could not be read), 2 bad usage.\n");
}

typedef struct counts {
    size_t items, actions, alerts, stores, logs, errors;
} counts;

typedef struct run {
    counts *n;
    const feed *f;
    const rule_feed *rf;
    buf *out;
} run;

static void
print_actions(void *ud, worker_result *r)
{
    run *x = ud;
    for (size_t i = 0; i < r->actions->len; i++) {
        const action *a = &r->actions->v[i];
        const feed_item *it = NULL;
        if (x->f && a->item >= 0 && (size_t)a->item < x->f->nitems)
            it = &x->f->items[a->item];
        action_write_json(x->out, a, it, x->rf);
        buf_addc(x->out, '\n');
        /* an error is printed as an action but counted apart */
        if (a->kind != ACTION_ERROR) x->n->actions++;
        switch (a->kind) {
        case ACTION_ALERT:
            x->n->alerts++;
            break;
        case ACTION_STORE:
            x->n->stores++;
            break;
        case ACTION_LOG:
            x->n->logs++;
            break;
        case ACTION_ERROR:
            x->n->errors++;
            /* and in words on stderr: the JSON escapes the traceback */
            if (a->item >= 0)
                fprintf(stderr, "vigie: test: item %s: %s\n", a->item_id,
                        a->message);
            else
                fprintf(stderr, "vigie: test: %s\n", a->message);
            break;
        }
    }
    /* Output as it comes, one job at a time: large runs stay flat. */
    fwrite(x->out->p ? x->out->p : "", 1, x->out->len, stdout);
    buf_reset(x->out);
}

static int
opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (!strncmp(a, name, n) && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (strcmp(a, name)) return 0;
    if (*i + 1 >= argc) {
        cli_error("test: %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int
cmd_test(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        test_usage(stdout);
        return EXIT_OK;
    }
    const char **scripts = xcalloc((size_t)argc, sizeof *scripts);
    const char **files = xcalloc((size_t)argc, sizeof *files);
    size_t nscripts = 0, nfiles = 0;
    const char *name = "", *url = "";
    worker_opts o;
    worker_opts_default(&o);
    int rc = EXIT_OK;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
            files[nfiles++] = a;
        } else if (!strcmp(a, "--")) {
            opts_done = true;
        } else if ((r = opt_value(argc, argv, &i, "-s", &v)) ||
                   (r = opt_value(argc, argv, &i, "--script", &v))) {
            if (r < 0) goto usage;
            scripts[nscripts++] = v;
        } else if ((r = opt_value(argc, argv, &i, "--timeout", &v))) {
            char why[128];
            if (r < 0) goto usage;
            if (duration_parse(v, &o.limits.call_ms, why, sizeof why) < 0 ||
                o.limits.call_ms <= 0) {
                cli_error("test: --timeout %s: %s", v,
                          o.limits.call_ms <= 0 ? "must be positive" : why);
                goto usage;
            }
        } else if ((r = opt_value(argc, argv, &i, "--memory", &v))) {
            char why[128];
            int64_t m = 0;
            if (r < 0) goto usage;
            if (size_parse(v, &m, why, sizeof why) < 0 || m < (1 << 20)) {
                cli_error("test: --memory %s: %s", v,
                          m > 0 && m < (1 << 20) ? "at least 1MiB" : why);
                goto usage;
            }
            o.limits.mem = (size_t)m;
        } else if ((r = opt_value(argc, argv, &i, "--name", &v))) {
            if (r < 0) goto usage;
            name = v;
        } else if ((r = opt_value(argc, argv, &i, "--url", &v))) {
            if (r < 0) goto usage;
            url = v;
        } else {
            cli_error("test: %s: unknown option", a);
            goto usage;
        }
    }
    if (!nscripts) {
        cli_error("test: no script (-s SCRIPT)");
        goto usage;
    }
    if (!nfiles) {
        cli_error("test: no feed file");
        goto usage;
    }

    counts n = {0};
    buf out = {0};
    /* Every failure is printed as an action (and in words) below; the
     * worker's own warnings would only say it twice. */
    if (log_level() < LOG_DEBUG) log_set_level(LOG_ERR);
    worker *w = worker_new(&o);
    /* Load first (a job without items): a script that cannot load is
     * reported once, not once per item. */
    static const rule_feed none = {"", "", "", "", NULL, DATE_NONE, "", ""};
    run x = {&n, NULL, &none, &out};
    worker_submit(w, &none, NULL, 0, scripts, nscripts, print_actions, &x);
    worker_wait(w);
    for (size_t i = 0; i < nscripts; i++)
        if (worker_script_error(w, scripts[i])) rc = EXIT_FAIL;
    if (rc != EXIT_OK) goto done;

    /* Two files in flight: the worker runs the rules on one while this
     * process reads and parses the next (jobs finish in order, so the
     * output is the same as one file at a time). */
    struct slot {
        feed f;
        rule_feed rf;
        run x;
        bool busy;
    } slots[2];
    memset(slots, 0, sizeof slots);
    size_t cur = 0;
    buf data = {0};
    for (size_t i = 0; i < nfiles; i++) {
        struct slot *sl = &slots[cur];
        if (sl->busy) {
            worker_wait_some(w, 1); /* this slot's job, the older one */
            feed_free(&sl->f);
            sl->busy = false;
        }
        if (read_file(files[i], FEED_DEFAULT_MAX_INPUT, &data) < 0) {
            cli_error("test: %s: %s", files[i],
                      errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
            n.errors++;
            rc = EXIT_FAIL;
            continue;
        }
        feed_options fo = {0};
        fo.base_url = url[0] ? url : NULL;
        feed_parse(data.p ? data.p : "", data.len, &fo, &sl->f);
        if (!feed_is_feed(&sl->f)) {
            /* the parser's reason mostly begins "not a feed:" already */
            const feed *f = &sl->f;
            const char *why = f->nerrors ? f->errors[0] : "not a feed";
            cli_error("test: %s: %s%s", files[i],
                      strncmp(why, "not a feed", 10) ? "not a feed: " : "", why);
            n.errors++;
            rc = EXIT_FAIL;
            feed_free(&sl->f);
            continue;
        }
        rule_feed_from(&sl->rf, &sl->f, url, name);
        sl->x = (run){&n, &sl->f, &sl->rf, &out};
        n.items += sl->f.nitems;
        worker_submit(w, &sl->rf, sl->f.items, sl->f.nitems, scripts, nscripts,
                      print_actions, &sl->x);
        worker_step(w); /* the job on its way before the next parse */
        sl->busy = true;
        cur = 1 - cur;
    }
    worker_wait(w);
    for (size_t k = 0; k < 2; k++)
        if (slots[k].busy) feed_free(&slots[k].f);
    buf_free(&data);
done:
    fflush(stdout);
    fprintf(stderr,
            "vigie test: %zu item%s, %zu action%s (%zu alert%s, %zu store%s, "
            "%zu log%s), %zu error%s\n",
            n.items, n.items == 1 ? "" : "s", n.actions,
            n.actions == 1 ? "" : "s", n.alerts, n.alerts == 1 ? "" : "s",
            n.stores, n.stores == 1 ? "" : "s", n.logs, n.logs == 1 ? "" : "s",
            n.errors, n.errors == 1 ? "" : "s");
    if (n.errors) rc = EXIT_FAIL;
    worker_free(w);
    buf_free(&out);
    free(scripts);
    free(files);
    return rc;
usage:
    test_usage(stderr);
    free(scripts);
    free(files);
    return EXIT_USAGE;
}
