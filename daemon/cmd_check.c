/* cmd_check.c — `vigie check [-c FILE]`: load and validate the config and
 * every rule script it names, as the daemon would, without starting it.
 * Run by systemd before a start or a reload, so a broken file never
 * replaces a working one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "worker.h"

static void
check_usage(FILE *f)
{
    fprintf(f,
            "usage: vigie check [-c FILE]\n\n"
            "Validates the configuration (default %s) and loads every rule\n"
            "script it names. Prints a summary and exits 0 if all is well;\n"
            "otherwise prints one error line naming the file, the key and,\n"
            "where known, the line, and exits 2.\n",
            CONFIG_DEFAULT_PATH);
}

/* A local feed file that is not there is most often a typo, but it may
 * also be written later by another program: a warning, not an error, so
 * that a start or a reload is not refused for it. */
static size_t
warn_missing_paths(const config *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nfeeds; i++) {
        const char *p = c->feeds[i].path;
        if (!p || access(p, R_OK) == 0) continue;
        fprintf(stderr, "vigie: warning: %s: feeds[%zu].path: %s: %s\n",
                c->path, i + 1, p, strerror(errno));
        n++;
    }
    return n;
}

static const char *
plural(size_t n)
{
    return n == 1 ? "" : "s";
}

int
cmd_check(int argc, char **argv)
{
    const char *path = CONFIG_DEFAULT_PATH;
    if (cli_wants_help(argc, argv)) {
        check_usage(stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                cli_error("check: %s needs a file name", a);
                return EXIT_USAGE;
            }
            path = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            path = a + 9;
        } else if (!strncmp(a, "-c", 2) && a[2]) {
            path = a + 2;
        } else {
            cli_error("check: %s: unexpected argument", a);
            check_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path[0]) {
        cli_error("check: empty config file name");
        return EXIT_USAGE;
    }

    char err[2048];
    /* scripts are loaded exactly as the daemon's rule worker loads them */
    config_set_script_checker(worker_check_script);
    config *c = config_load(path, err, sizeof err);
    if (!c) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    if (config_check_scripts(c, err, sizeof err) < 0) {
        cli_error("%s", err);
        config_free(c);
        return EXIT_USAGE;
    }
    warn_missing_paths(c);
    printf("%s: ok: %zu feed%s, %zu webhook%s, %zu script%s\n", c->path,
           c->nfeeds, plural(c->nfeeds), c->nwebhooks, plural(c->nwebhooks),
           c->nscripts, plural(c->nscripts));
    config_free(c);
    return EXIT_OK;
}
