/* cli.h — the subcommands of `vigie`, one function each.
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit status: 0 ok, 1 the work
 * failed, 2 bad usage or configuration. */
#ifndef VIGIE_CLI_H
#define VIGIE_CLI_H

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

int cmd_fetch(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_outbox(int argc, char **argv);

struct store;
/* Opens the store for a command run by hand: state_dir from --state-dir if
 * given, else from the config file (config_path, or the default
 * /etc/vigie/vigie.lua). Never creates or migrates the database. Prints the
 * error and sets *status on failure: 2 for a bad config, 1 otherwise. */
struct store *cli_open_store(const char *config_path, const char *state_dir,
                             int flags, int *status);

/* True if argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
