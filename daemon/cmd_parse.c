/* cmd_parse.c — `vigie parse [--base URL] [--charset NAME] FILE...`:
 * each file (or "-" for stdin) parsed and printed as one JSON line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "feed.h"
#include "feed_json.h"
#include "log.h"
#include "utf8.h"

static const char parse_usage[] =
    "usage: vigie parse [--base URL] [--charset NAME] [--max-size BYTES] FILE...\n"
    "Parses RSS, Atom and JSON feeds and prints one JSON object per file per\n"
    "line. FILE '-' reads standard input. --base is the URL the feed came\n"
    "from (relative links resolve against it); --charset the charset of an\n"
    "HTTP Content-Type. Exit 1 if a file could not be read or is not a feed.\n";

/* A document we could not even read still gets its line, so the output
 * keeps one line per argument. */
static void
print_failure(buf *out, const char *why)
{
    feed f;
    feed_parse("", 0, NULL, &f);
    /* a file name can be any bytes; the JSON must stay UTF-8 */
    buf clean = {0};
    utf8_repair(&clean, why, strlen(why));
    f.errors[0] = clean.p ? clean.p : "";
    feed_write_json(out, &f);
    buf_addc(out, '\n');
    feed_free(&f);
    buf_free(&clean);
}

int
cmd_parse(int argc, char **argv)
{
    feed_options opt = {0};
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(parse_usage, stdout);
            return EXIT_OK;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if ((!strcmp(a, "--base") || !strcmp(a, "--charset") ||
                    !strcmp(a, "--max-size")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--base")) opt.base_url = v;
            else if (!strcmp(a, "--charset")) opt.charset = v;
            else {
                char *end;
                unsigned long long n = strtoull(v, &end, 10);
                if (*end || !n) {
                    cli_error("parse: --max-size: '%s' is not a number of bytes", v);
                    return EXIT_USAGE;
                }
                opt.limits.max_input = (size_t)n;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_error("parse: %s: unknown option (try 'vigie parse --help')", a);
            return EXIT_USAGE;
        } else {
            break;
        }
    }
    if (i >= argc) {
        fputs(parse_usage, stderr);
        return EXIT_USAGE;
    }
    size_t max = opt.limits.max_input ? opt.limits.max_input : FEED_DEFAULT_MAX_INPUT;
    int status = EXIT_OK;
    buf in = {0}, out = {0};
    for (; i < argc; i++) {
        const char *path = argv[i];
        buf_reset(&out);
        if (read_file(path, max, &in) < 0) {
            char why[512];
            if (errno == EFBIG)
                snprintf(why, sizeof why, "not a feed: %s: input over %zu bytes", path, max);
            else
                snprintf(why, sizeof why, "%s: %s", path, strerror(errno));
            cli_error("parse: %s", why);
            print_failure(&out, why);
            status = EXIT_FAIL;
        } else {
            feed f;
            feed_parse(in.p, in.len, &opt, &f);
            feed_write_json(&out, &f);
            buf_addc(&out, '\n');
            if (!feed_is_feed(&f)) status = EXIT_FAIL;
            feed_free(&f);
        }
        fwrite(out.p, 1, out.len, stdout);
    }
    buf_free(&in);
    buf_free(&out);
    if (fflush(stdout) != 0) {
        cli_error("parse: writing output: %s", strerror(errno));
        status = EXIT_FAIL;
    }
    return status;
}
