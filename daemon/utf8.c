/* utf8.c — see utf8.h. The loops live in scan.h, shared with charset.c and
 * text.c. */
#include "utf8.h"

#include "scan.h"

size_t
utf8_decode(const char *s, size_t n, int32_t *cp)
{
    if (n == 0) {
        *cp = -1;
        return 0;
    }
    return scan_utf8((const unsigned char *)s, n, cp);
}

size_t
utf8_encode(int32_t cp, char out[4])
{
    /* A caller bug must not produce invalid UTF-8: encode U+FFFD instead. */
    if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = UTF8_REPLACEMENT;
    return scan_put_utf8((unsigned char *)out, (uint32_t)cp);
}

size_t
utf8_valid_prefix(const char *s, size_t n)
{
    return scan_utf8_prefix((const unsigned char *)s, n, false);
}

bool
utf8_valid(const char *s, size_t n)
{
    return utf8_valid_prefix(s, n) == n;
}

bool
ascii_only(const char *s, size_t n)
{
    return scan_ascii((const unsigned char *)s, n) == n;
}

void
utf8_repair(buf *out, const char *s, size_t n)
{
    static const char fffd[3] = {'\xEF', '\xBF', '\xBD'};
    size_t i = 0;
    buf_grow(out, n); /* the common case: nothing to replace */
    while (i < n) {
        size_t k = utf8_valid_prefix(s + i, n - i);
        buf_add(out, s + i, k);
        i += k;
        if (i >= n) break;
        int32_t cp;
        i += scan_utf8((const unsigned char *)s + i, n - i, &cp);
        buf_add(out, fffd, sizeof fffd);
    }
}
