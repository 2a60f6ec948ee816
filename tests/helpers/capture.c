/* capture.c — see capture.h. */
#include "capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "util.h"

void
capture_start(capture *c, int level)
{
    c->level = log_level();
    if (level >= 0) log_set_level(level);
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(STDERR_FILENO);
    assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

char *
capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    log_set_level(c->level);
    long n = ftell(c->tmp);
    char *s = xcalloc(1, (size_t)n + 1);
    rewind(c->tmp);
    assert_int_equal(fread(s, 1, (size_t)n, c->tmp), (size_t)n);
    fclose(c->tmp);
    return s;
}

int
count_in(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}
