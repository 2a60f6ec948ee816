/* cli_store.c — how hand-run commands find the database (see cli.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "store.h"

struct store *
cli_open_store(const char *config_path, const char *state_dir, int flags,
               int *status)
{
    char err[2048];
    char *dir = NULL;
    if (!state_dir) {
        /* The config's relative state_dir is resolved against the config
         * file's directory, as the daemon does. */
        config *c = config_load(config_path ? config_path : CONFIG_DEFAULT_PATH,
                                err, sizeof err);
        if (!c) {
            cli_error("%s", err);
            *status = EXIT_USAGE;
            return NULL;
        }
        dir = xstrdup(c->state_dir);
        config_free(c);
        state_dir = dir;
    }
    store *s = store_open(state_dir, flags & ~STORE_CREATE, err, sizeof err);
    if (!s) {
        cli_error("%s", err);
        *status = EXIT_FAIL;
    }
    free(dir);
    return s;
}
