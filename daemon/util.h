/* util.h — memory helpers, growable byte buffers and a bump arena.
 *
 * Allocation failure of these small helpers is fatal (the process logs and
 * aborts): every size that comes from outside is capped before it gets here,
 * so running out of memory means the machine is in trouble, not the input. */
#ifndef VIGIE_UTIL_H
#define VIGIE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))
/* A deliberate fall-through between switch cases, said so that both gcc
 * and clang check the others (-Wimplicit-fallthrough). */
#if defined(__GNUC__) && __GNUC__ >= 7 || defined(__clang__)
#define FALLTHROUGH __attribute__((fallthrough))
#else
#define FALLTHROUGH ((void)0)
#endif

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
NORETURN void oom(size_t n);

/* A growable byte string, always NUL-terminated once anything was added. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

void buf_grow(buf *b, size_t extra);
void buf_printf(buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vprintf(buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
void buf_free(buf *b);
/* Hands the bytes to the caller (never NULL) and empties the buffer. */
char *buf_detach(buf *b);

static inline void
buf_reset(buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

static inline void
buf_add(buf *b, const void *s, size_t n)
{
    if (UNLIKELY(b->len + n + 1 > b->cap)) buf_grow(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void
buf_addc(buf *b, char c)
{
    if (UNLIKELY(b->len + 2 > b->cap)) buf_grow(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

static inline void
buf_adds(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

/* A bump allocator: many small strings, freed all at once. */
typedef struct arena_chunk arena_chunk;
typedef struct arena {
    arena_chunk *head;
    char *cur, *end;
    size_t total; /* bytes handed out, for caps and stats */
} arena;

void *arena_alloc(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
void arena_free(arena *a);

/* Lower-case ASCII compare of n bytes; the locale never matters here. */
int ascii_strncasecmp(const char *a, const char *b, size_t n);
int ascii_strcasecmp(const char *a, const char *b);
static inline char
ascii_tolower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Writes a message into a caller's error buffer (err may be NULL). */
void set_err(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Reads a whole file (or stdin for "-") up to max bytes. Returns 0, or -1
 * with errno set (EFBIG when the file is larger than max). */
int read_file(const char *path, size_t max, buf *out);

/* Monotonic and wall clock, in milliseconds / seconds. */
int64_t now_ms(void);
int64_t now_wall(void);

#endif
