/* main.c — vigie's command line: the table of contents.
 *
 *   config (Lua) → scheduler → fetch (curl multi on libev) → parse
 *   → dedup (store) → rules (Lua worker) → store / log / alert (outbox)
 *   → delivery (curl multi POST, retries, dead letter)
 *
 * Each subcommand lives in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
} command;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"run", cmd_run, "run [-c FILE] [--once]      the daemon, in the foreground"},
    {"fetch", cmd_fetch,
     "fetch [OPTIONS] URL...      fetch URLs as the daemon would, print JSON"},
    {"check", cmd_check, "check [-c FILE]             validate the config and load every script"},
    {"parse", cmd_parse, "parse [--base URL] [--charset NAME] FILE...  each feed as one JSON line"},
    {"test", cmd_test, "test -s SCRIPT FILE...      dry-run rule scripts on feed files"},
    {"search", cmd_search,
     "search [-c FILE] QUERY      full-text search of stored items"},
    {"outbox", cmd_outbox,
     "outbox [-c FILE] [list|retry ID|drop ID]  pending and dead alerts"},
    {"status", cmd_status, "status [-c FILE] [--json]   feeds (failing first) and the outbox"},
    {"version", cmd_version, "version                     print the version"},
    {"help", cmd_help, "help [COMMAND]              this text, or a command's --help"},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: vigie COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(f, "  vigie %s\n", commands[i].usage);
    fprintf(f, "\nEvery command takes -h/--help. Exit status: 0 ok, 1 the work "
               "failed, 2 bad usage or config.\n");
}

static int
cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs("usage: vigie version\n\nPrints the version.\n", stdout);
        return EXIT_OK;
    }
    /* as every other command: a stray word is a mistake worth saying */
    if (argc > 1) {
        cli_error("version: %s: unexpected argument", argv[1]);
        fputs("usage: vigie version\n", stderr);
        return EXIT_USAGE;
    }
    printf("vigie %s\n", VIGIE_VERSION);
    return EXIT_OK;
}

/* "vigie help" lists the commands; "vigie help COMMAND" is that
 * command's --help. */
static int
cmd_help(int argc, char **argv)
{
    if (argc > 2) {
        cli_error("help: %s: unexpected argument", argv[2]);
        fputs("usage: vigie help [COMMAND]\n", stderr);
        return EXIT_USAGE;
    }
    if (argc == 2 && strcmp(argv[1], "help") && strcmp(argv[1], "-h") &&
        strcmp(argv[1], "--help")) {
        for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
            if (strcmp(argv[1], commands[i].name)) continue;
            char opt[] = "--help";
            char *sub[] = {argv[1], opt, NULL};
            return commands[i].run(2, sub);
        }
        cli_error("help: %s: unknown command", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    usage(stdout);
    return EXIT_OK;
}

int
cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) return 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    log_init(LOG_INFO);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help")) name = "help";
    if (!strcmp(name, "-V") || !strcmp(name, "--version")) name = "version";
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_error("%s: unknown command (try 'vigie help')", name);
    return EXIT_USAGE;
}
