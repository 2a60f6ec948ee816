/* cmd_run.c — `vigie run [-c FILE] [--once]`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

static void
run_usage(FILE *f)
{
    fprintf(f,
            "usage: vigie run [-c FILE] [--once]\n\n"
            "Runs the daemon in the foreground with the configuration FILE "
            "(default\n%s). SIGHUP reloads the configuration, SIGTERM or\n"
            "SIGINT stop it. --once polls every feed once, runs the rules, "
            "delivers\nthe alerts and exits: 0 if every feed was fetched and "
            "parsed, 1 if not.\n",
            CONFIG_DEFAULT_PATH);
}

int
cmd_run(int argc, char **argv)
{
    const char *path = CONFIG_DEFAULT_PATH;
    bool once = false;
    if (cli_wants_help(argc, argv)) {
        run_usage(stdout);
        return EXIT_OK;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--once")) {
            once = true;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                cli_error("run: %s needs a file name", a);
                return EXIT_USAGE;
            }
            path = argv[++i];
        } else if (!strncmp(a, "--config=", 9)) {
            path = a + 9;
        } else {
            cli_error("run: %s: unexpected argument", a);
            run_usage(stderr);
            return EXIT_USAGE;
        }
    }
    return daemon_run(path, once);
}
