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
int cmd_test(int argc, char **argv);

/* True if argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

#endif
