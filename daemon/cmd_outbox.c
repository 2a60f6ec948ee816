/* cmd_outbox.c — `vigie outbox`: see and act on queued alerts.
 *
 *   vigie outbox [-c FILE] [--state-dir DIR] [list [--dead|--all] [--json]]
 *   vigie outbox [-c FILE] [--state-dir DIR] retry ID... | retry --all
 *   vigie outbox [-c FILE] [--state-dir DIR] drop ID...
 *
 * Safe while the daemon runs: every change is one SQLite statement, and
 * the daemon reads the outbox afresh at each of its outbox polls. */
#include <getopt.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "date.h"
#include "jsonw.h"
#include "log.h"
#include "outbox.h"
#include "statelock.h"
#include "store.h"
#include "url.h"

static void
usage(FILE *f)
{
    fprintf(
        f, "usage: vigie outbox [-c FILE] [--state-dir DIR] "
           "[list [--dead|--all] [--json]]\n"
           "       vigie outbox [-c FILE] [--state-dir DIR] retry ID...|--all\n"
           "       vigie outbox [-c FILE] [--state-dir DIR] drop ID...\n"
           "  list        alerts not yet delivered (--dead: dead-lettered "
           "only,\n"
           "              --all: delivered ones too), oldest first\n"
           "  retry       send a dead or waiting alert again now, with a "
           "fresh\n"
           "              give-up clock (--all: every one of them)\n"
           "  drop        delete an alert that is neither delivered nor being\n"
           "              sent right now\n"
           "  -c, --config FILE   the config (its state_dir)\n"
           "  --state-dir DIR     the state directory, instead of the "
           "config's\n");
}

/* The oldest undelivered alert of a target: only it is ever sent, the
 * others of that target wait behind it, whatever their own due time. */
typedef struct queue_head {
    char *target;
    int64_t id;
} queue_head;

typedef struct lister {
    bool json;
    int64_t now;
    buf line;
    long count;
    queue_head *heads;
    size_t nheads;
} lister;

/* For a pending or sending row (listed in id order): the head of its
 * target's queue when that is another row, else 0. */
static int64_t
waits_behind(lister *l, const outbox_row *r)
{
    if (r->state != OUTBOX_PENDING && r->state != OUTBOX_SENDING) return 0;
    const char *t = r->target ? r->target : "";
    for (size_t i = 0; i < l->nheads; i++)
        if (!strcmp(l->heads[i].target, t)) return l->heads[i].id;
    l->heads = xrealloc(l->heads, (l->nheads + 1) * sizeof *l->heads);
    l->heads[l->nheads++] = (queue_head){xstrdup(t), r->id};
    return 0;
}

static void
lister_free(lister *l)
{
    for (size_t i = 0; i < l->nheads; i++)
        free(l->heads[i].target);
    free(l->heads);
    buf_free(&l->line);
}

static int
print_row(const outbox_row *r, void *ud)
{
    lister *l = ud;
    char created[DATE_RFC3339_LEN], when[DATE_RFC3339_LEN];
    int64_t behind = waits_behind(l, r);
    buf_reset(&l->line);
    date_format_ms(r->created, created);
    if (l->json) {
        jsonw w;
        jsonw_init(&w, &l->line);
        jsonw_obj_open(&w);
        jsonw_key(&w, "id");
        jsonw_int(&w, r->id);
        jsonw_key(&w, "state");
        jsonw_str(&w, outbox_state_name(r->state));
        jsonw_key(&w, "target");
        jsonw_str(&w, r->target);
        jsonw_key(&w, "key");
        jsonw_str(&w, r->key);
        jsonw_key(&w, "script");
        jsonw_str(&w, r->script);
        jsonw_key(&w, "feed");
        char *feed = r->feed_key ? url_redact(r->feed_key) : NULL;
        jsonw_str(&w, feed); /* the key, without its password (url.h) */
        free(feed);
        jsonw_key(&w, "item_id");
        jsonw_str(&w, r->item_id);
        jsonw_key(&w, "title");
        jsonw_str(&w, r->title);
        jsonw_key(&w, "attempts");
        jsonw_int(&w, r->attempts);
        jsonw_key(&w, "created");
        jsonw_date(&w, r->created / 1000);
        jsonw_key(&w, "next_attempt");
        if (r->state == OUTBOX_PENDING && !behind)
            jsonw_date(&w, r->due / 1000);
        else
            jsonw_null(&w);
        jsonw_key(&w, "after_alert"); /* the alert it waits behind */
        if (behind)
            jsonw_int(&w, behind);
        else
            jsonw_null(&w);
        jsonw_key(&w, "done");
        if (r->done_at)
            jsonw_date(&w, r->done_at / 1000);
        else
            jsonw_null(&w);
        jsonw_key(&w, "status");
        if (r->status)
            jsonw_int(&w, r->status);
        else
            jsonw_null(&w);
        jsonw_key(&w, "error");
        jsonw_str(&w, r->error);
        jsonw_key(&w, "response");
        jsonw_str(&w, r->response);
        jsonw_obj_close(&w);
    } else {
        buf_printf(
            &l->line, "%-6" PRId64 " %-9s %-16s %3" PRId64 " attempt%s  %s  ",
            r->id, outbox_state_name(r->state), r->target ? r->target : "",
            r->attempts, r->attempts == 1 ? " " : "s", created);
        switch (r->state) {
        case OUTBOX_PENDING:
            /* its own due time means nothing while another goes first */
            if (behind) {
                buf_printf(&l->line, "after alert %" PRId64, behind);
            } else if (r->due <= l->now) {
                buf_adds(&l->line, "next try now");
            } else {
                date_format_ms(r->due, when);
                buf_printf(&l->line, "next try %s", when);
            }
            if (r->error) buf_printf(&l->line, " (last: %s)", r->error);
            break;
        case OUTBOX_SENDING:
            buf_adds(&l->line, "being sent");
            break;
        case OUTBOX_DELIVERED:
            date_format_ms(r->done_at, when);
            buf_printf(&l->line, "delivered %s", when);
            break;
        case OUTBOX_DEAD:
            buf_printf(&l->line, "%s", r->error ? r->error : "failed");
            if (r->response) buf_printf(&l->line, ": %s", r->response);
            break;
        }
        buf_printf(&l->line, "\n       %s",
                   r->title && *r->title ? r->title
                                         : (r->item_id ? r->item_id : ""));
    }
    buf_addc(&l->line, '\n');
    fwrite(l->line.p, 1, l->line.len, stdout);
    l->count++;
    return 0;
}

static int
parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || v <= 0 || errno == ERANGE) {
        cli_error("outbox: %s: not an alert id (see 'vigie outbox list')", s);
        return -1;
    }
    *id = v;
    return 0;
}

/* Tells the running daemon (once per command) and says when the alerts
 * go: now, or at its next look at the outbox. */
static const char *
wake(store *s)
{
    static int woken = -1;
    if (woken < 0) {
        char *dir = xstrdup(store_path(s));
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        woken = statelock_wake_holder(slash ? dir : ".");
        free(dir);
    }
    return woken ? "will be sent now (the daemon was told)"
                 : "will be sent by the daemon within " OUTBOX_STR(
                       OUTBOX_LOOK_EVERY_MIN) " minutes (or when it starts)";
}

/* Why `retry` or `drop` left alert id as it was (an OUTBOX_ACT_ value). */
static void
say_left_alone(const char *action, int64_t id, int why)
{
    bool retry = !strcmp(action, "retry");
    switch (why) {
    case OUTBOX_ACT_SENDING:
        /* its outcome decides: delivered, a retry, or dead */
        if (retry)
            cli_error("outbox retry %" PRId64 ": alert %" PRId64 " is being "
                      "sent right now; if that fails it is retried by itself",
                      id, id);
        else
            cli_error("outbox drop %" PRId64 ": alert %" PRId64 " is being "
                      "sent right now; it may already have arrived: drop it "
                      "once it is dead-lettered or waiting for a retry",
                      id, id);
        break;
    case OUTBOX_ACT_DELIVERED:
        cli_error("outbox %s %" PRId64 ": alert %" PRId64 " was delivered "
                  "already",
                  action, id, id);
        break;
    default:
        cli_error("outbox %s %" PRId64 ": no such alert (see 'vigie outbox "
                  "list')",
                  action, id);
    }
}

int
cmd_outbox(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 'd'},
        {"dead", no_argument, NULL, 'D'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *state_dir = NULL;
    bool dead = false, all = false, json = false;
    int c;
    optind = 0;
    opterr = 0;
    /* Options may come before or after the action: GNU getopt permutes. */
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            state_dir = optarg;
            break;
        case 'D':
            dead = true;
            break;
        case 'a':
            all = true;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            cli_error("outbox: %s: unknown option (try 'vigie outbox -h')",
                      argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    const char *action = optind < argc ? argv[optind++] : "list";
    int nargs = argc - optind;
    char **args = argv + optind;
    bool is_list = !strcmp(action, "list"), is_retry = !strcmp(action, "retry"),
         is_drop = !strcmp(action, "drop");
    if (!is_list && !is_retry && !is_drop) {
        cli_error("outbox: %s: unknown action (list, retry or drop)", action);
        return EXIT_USAGE;
    }
    if ((is_list && (nargs || (dead && all))) || (!is_list && (dead || json)) ||
        (is_drop && all) || (!is_list && !all && nargs == 0) ||
        (is_retry && all && nargs)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int64_t ids[64];
    if (nargs > (int)ARRAY_LEN(ids)) {
        cli_error("outbox: at most %zu ids at once", ARRAY_LEN(ids));
        return EXIT_USAGE;
    }
    for (int i = 0; i < nargs; i++)
        if (parse_id(args[i], &ids[i]) < 0) return EXIT_USAGE;

    int status = EXIT_OK;
    store *s = cli_open_store(config, state_dir, is_list ? STORE_READONLY : 0,
                              &status);
    if (!s) return status;
    char err[1024];
    int64_t now = now_wall() * 1000;
    if (is_list) {
        lister l = {.json = json, .now = now};
        int which = dead  ? OUTBOX_LIST_DEAD
                    : all ? OUTBOX_LIST_ALL
                          : OUTBOX_LIST_UNDELIVERED;
        if (outbox_list(s, which, print_row, &l, err, sizeof err) < 0) {
            cli_error("%s", err);
            status = EXIT_FAIL;
        } else if (!json && l.count == 0) {
            printf(dead ? "no dead alerts\n" : "no alerts waiting\n");
        }
        lister_free(&l);
    } else if (is_retry && all) {
        long n = outbox_retry_all(s, now, err, sizeof err);
        if (n < 0) {
            cli_error("%s", err);
            status = EXIT_FAIL;
        } else if (n == 0) {
            printf("nothing to retry: no alert is dead or waiting\n");
        } else {
            printf("%ld alert(s) %s\n", n, wake(s));
        }
    } else {
        for (int i = 0; i < nargs; i++) {
            int rc = is_retry ? outbox_retry(s, ids[i], now, err, sizeof err)
                              : outbox_drop(s, ids[i], now, err, sizeof err);
            if (rc == OUTBOX_ACT_DONE) {
                printf("alert %" PRId64 " %s\n", ids[i],
                       is_retry ? wake(s) : "dropped");
                continue;
            }
            status = EXIT_FAIL;
            if (rc < 0)
                cli_error("%s", err);
            else
                say_left_alone(action, ids[i], rc);
        }
    }
    fflush(stdout);
    store_close(s);
    return status;
}
