/* cli_store.c — how hand-run commands find the database (see cli.h). */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "store.h"

#define DEFAULT_STATE_DIR "/var/lib/vigie"

struct store *
cli_open_store(const char *config_path, const char *state_dir, int flags,
               int *status)
{
    char err[1024];
    if (!state_dir) {
        if (config_path) {
            cli_error("-c %s: reading the config is not supported yet; use "
                      "--state-dir DIR",
                      config_path);
            *status = EXIT_USAGE;
            return NULL;
        }
        state_dir = DEFAULT_STATE_DIR;
    }
    store *s = store_open(state_dir, flags & ~STORE_CREATE, err, sizeof err);
    if (!s) {
        cli_error("%s", err);
        *status = EXIT_FAIL;
    }
    return s;
}
