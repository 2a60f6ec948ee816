/* daemon.h — `vigie run`: the daemon in the foreground (systemd style: no
 * fork, no pid file). Returns the process exit status. */
#ifndef VIGIE_DAEMON_H
#define VIGIE_DAEMON_H

#include <stdbool.h>

int daemon_run(const char *config_path, bool once);

#endif
