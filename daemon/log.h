/* log.h — one line per event on stderr.
 *
 * Under systemd (JOURNAL_STREAM names the stream stderr is connected to)
 * each line starts with a syslog priority prefix "<N>" (sd-daemon(3)) so
 * journald keeps the level and adds the time; on a terminal or a file it
 * starts with a local timestamp and the level name instead. */
#ifndef VIGIE_LOG_H
#define VIGIE_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

#include "util.h"

/* Reads JOURNAL_STREAM to choose the line format; `max_level` drops lines
 * that are less important (LOG_INFO by default). */
void log_init(int max_level);
int log_level(void);
void log_set_level(int max_level);
/* "debug", "info", "notice", "warning"/"warn", "error"/"err" → level, or -1. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

void log_write(int level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vwrite(int level, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);

#define log_err(...) log_write(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_write(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_level() >= LOG_DEBUG) log_write(LOG_DEBUG, __VA_ARGS__);       \
    } while (0)

/* "vigie: <what>: <why>" on stderr, for command-line errors (with the "<3>"
 * prefix when log_init found stderr connected to the journal). */
void cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
