/* capture.h — for tests: what the code under test wrote to stderr, which
 * is where the log goes. */
#ifndef VIGIE_TEST_CAPTURE_H
#define VIGIE_TEST_CAPTURE_H

#include <stdio.h>

typedef struct capture {
    FILE *tmp;
    int saved; /* stderr's descriptor, to put back */
    int level; /* the log level to put back */
} capture;

/* stderr into a temporary file; the log at `level` meanwhile (-1: as it
 * is). */
void capture_start(capture *c, int level);
/* What was written since capture_start (malloc'ed); stderr and the log
 * level as they were. */
char *capture_end(capture *c);
/* How many times needle occurs in hay. */
int count_in(const char *hay, const char *needle);

#endif
