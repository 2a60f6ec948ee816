/* cmd_fetch.c — `vigie fetch`: the real fetch loop on URLs, for debugging.
 *
 * Runs each URL through fetch.c on evcurl (same caps, guard and limits as
 * the daemon) and prints one JSON line per URL as it completes. Exit 0 if
 * every fetch was ok (2xx or 304), 1 otherwise, 2 on bad usage. */
#include <ev.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "evcurl.h"
#include "fetch.h"
#include "jsonw.h"
#include "log.h"
#include "url.h"
#include "utf8.h"

#define MAX_HEADERS 32

typedef struct job {
    const char *url;
    struct ev_loop *loop;
    int *remaining, *failed;
} job;

static const char usage_text[] =
    "usage: vigie fetch [OPTIONS] URL...\n"
    "  --allow-private        allow loopback/private/link-local addresses\n"
    "  --etag E               send If-None-Match: E\n"
    "  --last-modified LM     send If-Modified-Since: LM\n"
    "  --max-body SIZE        cap on decoded bytes (default 16MiB)\n"
    "  --timeout DURATION     total timeout (default 30s; bare number: s)\n"
    "  --connect-timeout S    connect timeout (default 10s)\n"
    "  --low-speed-time S     cut when under 100 bytes/s this long (15s)\n"
    "  --user-agent UA        User-Agent (default vigie/VERSION (+...))\n"
    "  -H, --header 'N: V'    extra request header (repeatable)\n"
    "  --cacert FILE          trust these PEM certificates, not the system's\n"
    "  --per-host N           transfers in flight per host (default 4)\n"
    "  --max-concurrent N     transfers in flight in all (default 32)\n"
    "Prints one JSON object per URL per line, as each completes.\n";

/* A duration as in the config ("30s", "2m", "1h30m"), or a bare number of
 * seconds as curl takes it; whole seconds in [1, 86400], or -1. */
static int
parse_seconds(const char *s, char *why, size_t whylen)
{
    char *end;
    long v = strtol(s, &end, 10);
    int64_t ms;
    if (end != s && !*end && *s != '-')
        ms = v > 86400 ? INT64_MAX : (int64_t)v * 1000; /* no overflow */
    else if (duration_parse(s, &ms, why, whylen) < 0)
        return -1;
    if (ms < 1000 || ms > 86400 * 1000) {
        snprintf(why, whylen, "want from 1s to 24h");
        return -1;
    }
    return (int)(ms / 1000);
}

/* A size as in the config ("16MiB", "500KB", bare bytes) in [1, 1GiB], or
 * 0. */
static size_t
parse_size(const char *s, char *why, size_t whylen)
{
    int64_t v;
    if (size_parse(s, &v, why, whylen) < 0) return 0;
    if (v < 1 || v > ((int64_t)1 << 30)) {
        snprintf(why, whylen, "want from 1 byte to 1GiB");
        return 0;
    }
    return (size_t)v;
}

static int
parse_count(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (end == s || *end || v < 1 || v > 10000) ? -1 : (int)v;
}

static void
print_result(const job *j, const fetch_result *r)
{
    buf out = {0};
    jsonw w;
    jsonw_init(&w, &out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "url");
    /* As given, "bücher.example" included, but for a password: argv may
     * hold any bytes, and the writer wants UTF-8 (it escapes control
     * characters itself). */
    char *shown = url_redact(j->url);
    buf url = {0};
    utf8_repair(&url, shown, strlen(shown));
    jsonw_strn(&w, url.p ? url.p : "", url.len);
    buf_free(&url);
    free(shown);
    jsonw_key(&w, "ok");
    jsonw_bool(&w, r->ok);
    jsonw_key(&w, "outcome");
    jsonw_str(&w, fetch_outcome_name(r->outcome));
    jsonw_key(&w, "status");
    jsonw_int(&w, r->status);
    jsonw_key(&w, "bytes");
    jsonw_int(&w, (int64_t)r->bytes);
    jsonw_key(&w, "body_bytes");
    jsonw_int(&w, (int64_t)r->body.len);
    jsonw_key(&w, "content_type");
    jsonw_str(&w, r->content_type);
    jsonw_key(&w, "charset");
    jsonw_str(&w, r->charset);
    jsonw_key(&w, "etag");
    jsonw_str(&w, r->etag);
    jsonw_key(&w, "last_modified");
    jsonw_str(&w, r->last_modified);
    jsonw_key(&w, "final_url");
    shown = r->final_url ? url_redact(r->final_url) : NULL; /* a token */
    jsonw_str(&w, shown);
    free(shown);
    jsonw_key(&w, "redirects");
    jsonw_int(&w, r->redirects);
    jsonw_key(&w, "permanent_redirect");
    shown = r->permanent_url ? url_redact(r->permanent_url) : NULL;
    jsonw_str(&w, shown);
    free(shown);
    jsonw_key(&w, "temporary_redirect");
    jsonw_bool(&w, r->temporary_redirect);
    jsonw_key(&w, "retry_after");
    if (r->retry_after >= 0)
        jsonw_int(&w, r->retry_after);
    else
        jsonw_null(&w);
    jsonw_key(&w, "error");
    jsonw_str(&w, r->error);
    jsonw_key(&w, "elapsed_ms");
    jsonw_int(&w, r->elapsed_ms);
    jsonw_obj_close(&w);
    buf_addc(&out, '\n');
    fwrite(out.p, 1, out.len, stdout);
    fflush(stdout);
    buf_free(&out);
}

static void
on_done(fetch_result *r, void *arg)
{
    job *j = arg;
    print_result(j, r);
    if (!r->ok) ++*j->failed;
    if (--*j->remaining == 0) ev_break(j->loop, EVBREAK_ALL);
}

int
cmd_fetch(int argc, char **argv)
{
    enum {
        O_ALLOW = 256,
        O_ETAG,
        O_LM,
        O_MAXBODY,
        O_TIMEOUT,
        O_CTIMEOUT,
        O_LOWSPEED,
        O_UA,
        O_PERHOST,
        O_MAXCONC,
        O_CACERT
    };
    static const struct option opts[] = {
        {"allow-private", no_argument, NULL, O_ALLOW},
        {"etag", required_argument, NULL, O_ETAG},
        {"last-modified", required_argument, NULL, O_LM},
        {"max-body", required_argument, NULL, O_MAXBODY},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"connect-timeout", required_argument, NULL, O_CTIMEOUT},
        {"low-speed-time", required_argument, NULL, O_LOWSPEED},
        {"user-agent", required_argument, NULL, O_UA},
        {"header", required_argument, NULL, 'H'},
        {"cacert", required_argument, NULL, O_CACERT},
        {"per-host", required_argument, NULL, O_PERHOST},
        {"max-concurrent", required_argument, NULL, O_MAXCONC},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fetch_request req = {0};
    const char *headers[MAX_HEADERS + 1] = {0};
    size_t nheaders = 0;
    int per_host = 4, max_conc = 32;

    optind = 0; /* glibc: start over, argv[0] is the subcommand */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hH:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        case O_ALLOW:
            req.allow_private = true;
            break;
        case O_ETAG:
            req.etag = optarg;
            break;
        case O_LM:
            req.last_modified = optarg;
            break;
        case O_UA:
            req.user_agent = optarg;
            break;
        case O_CACERT:
            req.ca_file = optarg;
            break;
        case 'H':
            if (nheaders == MAX_HEADERS) {
                cli_error("fetch: --header: at most %d", MAX_HEADERS);
                return EXIT_USAGE;
            }
            headers[nheaders++] = optarg;
            break;
        case O_MAXBODY:
        {
            char why[128];
            if (!(req.max_body = parse_size(optarg, why, sizeof why))) {
                cli_error("fetch: --max-body %s: %s (e.g. 16MiB)", optarg,
                          why);
                return EXIT_USAGE;
            }
            break;
        }
        case O_TIMEOUT:
        case O_CTIMEOUT:
        case O_LOWSPEED: {
            char why[128];
            int s = parse_seconds(optarg, why, sizeof why);
            if (s < 0) {
                cli_error("fetch: --%s %s: %s",
                          c == O_TIMEOUT    ? "timeout"
                          : c == O_CTIMEOUT ? "connect-timeout"
                                            : "low-speed-time",
                          optarg, why);
                return EXIT_USAGE;
            }
            if (c == O_TIMEOUT) req.timeout_s = s;
            if (c == O_CTIMEOUT) req.connect_timeout_s = s;
            if (c == O_LOWSPEED) req.low_speed_time_s = s;
            break;
        }
        case O_PERHOST:
        case O_MAXCONC: {
            int n = parse_count(optarg);
            if (n < 0) {
                cli_error("fetch: %s %s: want a number from 1 to 10000",
                          c == O_PERHOST ? "--per-host" : "--max-concurrent",
                          optarg);
                return EXIT_USAGE;
            }
            if (c == O_PERHOST)
                per_host = n;
            else
                max_conc = n;
            break;
        }
        default:
            cli_error("fetch: %s: unknown option or missing value (try "
                      "'vigie fetch --help')",
                      argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    /* What the configuration refuses, fetch refuses: it is the daemon's
     * request, and a newline in a header would be a header of its own. */
    if (req.user_agent &&
        fetch_control_byte(req.user_agent, strlen(req.user_agent), false) >= 0) {
        cli_error("fetch: --user-agent: contains a control character");
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < nheaders; i++) {
        const char *h = headers[i];
        size_t n = strcspn(h, ":");
        const char *why =
            !h[n] ? "not 'Name: value'"
            : fetch_control_byte(h, strlen(h), true) >= 0
                ? "contains a control character"
            : !fetch_header_name_ok(h, n) ? "not a valid header name"
            : fetch_header_managed(h, n)  ? "set by vigie, not by the caller"
                                          : NULL;
        if (why) {
            cli_error("fetch: --header '%s': %s", h, why);
            return EXIT_USAGE;
        }
    }
    req.headers = nheaders ? headers : NULL;
    /* A peer that hangs up must cost an error, not the process. */
    signal(SIGPIPE, SIG_IGN);

    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) {
        cli_error("fetch: cannot create the event loop");
        return EXIT_FAIL;
    }
    evcurl *ec = evcurl_new(loop, max_conc);
    evcurl_pool *pool = evcurl_pool_new(ec, per_host);
    int n = argc - optind, remaining = n, failed = 0;
    job *jobs = xcalloc((size_t)n, sizeof *jobs);
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){argv[optind + i], loop, &remaining, &failed};
        req.url = jobs[i].url;
        fetch_start(pool, &req, on_done, &jobs[i]);
    }
    ev_run(loop, 0);
    evcurl_free(ec);
    ev_loop_destroy(loop);
    free(jobs);
    return failed ? EXIT_FAIL : EXIT_OK;
}
