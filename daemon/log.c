/* log.c — see log.h. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int max_level = LOG_INFO;
static int journal; /* stderr is connected to journald */

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* systemd sets JOURNAL_STREAM=<device>:<inode> of the stream it gave us;
 * a child whose stderr was redirected still inherits the variable, so the
 * prefixes are used only when stderr is that very stream (systemd.exec(5)). */
static int
stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    if (!e || *e < '0' || *e > '9') return 0;
    char *end;
    unsigned long long dev = strtoull(e, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9') return 0;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (*end) return 0;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) < 0) return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void
log_init(int level)
{
    max_level = level;
    journal = stderr_is_journal();
}

int
log_level(void)
{
    return max_level;
}

void
log_set_level(int level)
{
    max_level = level;
}

int
log_level_from_name(const char *name)
{
    if (!strcmp(name, "warn")) return LOG_WARNING;
    if (!strcmp(name, "err")) return LOG_ERR;
    for (size_t i = 0; i < ARRAY_LEN(level_names); i++)
        if (!strcmp(name, level_names[i])) return (int)i;
    return -1;
}

const char *
log_level_name(int level)
{
    if (level < 0 || level >= (int)ARRAY_LEN(level_names)) return "info";
    return level_names[level];
}

void
log_vwrite(int level, const char *fmt, va_list ap)
{
    if (level > max_level) return;
    char line[4096];
    size_t n = 0;
    if (journal) {
        /* sd-daemon(3): "<N>" with N the syslog priority, 0 to 7. */
        n = (size_t)snprintf(line, sizeof line, "<%d>",
                             level < LOG_EMERG   ? LOG_EMERG
                             : level > LOG_DEBUG ? LOG_DEBUG
                                                 : level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld %-7s ",
                              ts.tv_nsec / 1000000, log_level_name(level));
    }
    size_t start = n;
    int m = vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (m < 0) m = 0;
    n += (size_t)m;
    if (n > sizeof line - 2) {
        /* Say the line was cut rather than cutting it silently. */
        n = sizeof line - 2;
        memcpy(line + n - 3, "...", 3);
    }
    /* One log line is one line: fold any newline a feed or script put in. */
    for (size_t i = start; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[n++] = '\n';
    /* One write() per line so concurrent writers (the rule worker) never
     * interleave inside a line. */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

void
log_write(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

void
cli_error(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    /* Under journald, an error (ExecStartPre's `vigie check` failing) is
     * logged as one, not at the default info level. */
    fprintf(stderr, "%svigie: %.*s\n", journal ? "<3>" : "", n, line);
}
