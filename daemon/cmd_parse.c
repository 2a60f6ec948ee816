/* cmd_parse.c — `vigie parse [--base URL] [--charset NAME] FILE...`:
 * each file (or "-" for stdin) parsed and printed as one JSON line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "feed.h"
#include "feed_json.h"
#include "log.h"
#include "utf8.h"

#define MAX_SIZE ((int64_t)1 << 30) /* as the config's max_body */

static const char parse_usage[] =
    "usage: vigie parse [--base URL] [--charset NAME] [--max-size SIZE] FILE...\n"
    "Parses RSS, Atom and JSON feeds and prints one JSON object per file per\n"
    "line. FILE '-' reads standard input. --base is the URL the feed came\n"
    "from (relative links resolve against it); --charset the charset of an\n"
    "HTTP Content-Type; --max-size the largest input, as max_body is\n"
    "written (default 16MiB, at most 1GiB). Exit 1 if a file could not be\n"
    "read or is not a feed.\n";

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

/* --max-size as the config's max_body is written ("16MiB", bare bytes) and
 * within the same bounds; 0 after saying what is wrong. */
static size_t
parse_max_size(const char *v)
{
    char why[128];
    int64_t n;
    if (size_parse(v, &n, why, sizeof why) < 0) {
        cli_error("parse: --max-size '%s': %s (e.g. 16MiB)", v, why);
        return 0;
    }
    if (n < 1 || n > MAX_SIZE) {
        cli_error("parse: --max-size '%s': want from 1 byte to 1GiB", v);
        return 0;
    }
    return (size_t)n;
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
        } else if (!strcmp(a, "--base") || !strcmp(a, "--charset") ||
                   !strcmp(a, "--max-size")) {
            if (i + 1 >= argc) {
                cli_error("parse: %s needs a value (try 'vigie parse --help')", a);
                return EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--base")) opt.base_url = v;
            else if (!strcmp(a, "--charset")) opt.charset = v;
            else if (!(opt.limits.max_input = parse_max_size(v)))
                return EXIT_USAGE;
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
