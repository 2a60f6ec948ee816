/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void
oom(size_t n)
{
    fprintf(stderr, "vigie: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p) oom(nmemb * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void
buf_grow(buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need < b->len) oom(SIZE_MAX); /* overflow */
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) oom(need);
        cap *= 2;
    }
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void
buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    if (b->cap == 0) buf_grow(b, 0);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        buf_grow(b, (size_t)n);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
    }
    b->len += (size_t)n;
    va_end(ap2);
}

void
buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void
buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

char *
buf_detach(buf *b)
{
    char *p = b->p ? b->p : xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

struct arena_chunk {
    arena_chunk *next;
    max_align_t data[];
};

void *
arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) < n) {
        size_t size = n > 32768 ? n : 32768;
        arena_chunk *c = xmalloc(sizeof *c + size);
        c->next = a->head;
        a->head = c;
        a->cur = (char *)c->data;
        a->end = a->cur + size;
    }
    void *p = a->cur;
    a->cur += n;
    a->total += n;
    return p;
}

char *
arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void
arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof *a);
}

int
ascii_strncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)ascii_tolower(a[i]);
        unsigned char y = (unsigned char)ascii_tolower(b[i]);
        if (x != y) return x - y;
        if (!x) return 0;
    }
    return 0;
}

int
ascii_strcasecmp(const char *a, const char *b)
{
    return ascii_strncasecmp(a, b, SIZE_MAX);
}

void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int
read_file(const char *path, size_t max, buf *out)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    /* One fstat says whether this is a directory and, for a regular file,
     * its size: the buffer is grown once to hold it, with a byte to spare
     * for the read that sees the end. Pipes grow as they come. */
    struct stat st;
    size_t size = 0;
    if (fstat(fd, &st) == 0) {
        int err = 0;
        if (S_ISDIR(st.st_mode))
            err = EISDIR;
        else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
            err = EFBIG;
        if (err) {
            if (fd != STDIN_FILENO) close(fd);
            errno = err;
            return -1;
        }
        if (S_ISREG(st.st_mode)) size = (size_t)st.st_size;
    }
    buf_reset(out);
    if (size && out->cap < size + 2) buf_grow(out, size + 1);
    for (;;) {
        if (out->cap - out->len < 2) buf_grow(out, 65536);
        ssize_t n = read(fd, out->p + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            if (fd != STDIN_FILENO) close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        out->len += (size_t)n;
        if (out->len > max) {
            if (fd != STDIN_FILENO) close(fd);
            errno = EFBIG;
            return -1;
        }
    }
    if (out->cap == 0) buf_grow(out, 0);
    out->p[out->len] = '\0';
    if (fd != STDIN_FILENO) close(fd);
    return 0;
}

int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
now_wall(void)
{
    return (int64_t)time(NULL);
}
