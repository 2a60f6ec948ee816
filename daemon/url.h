/* url.h — making links absolute.
 *
 * url_resolve() follows RFC 3986 reference resolution (through libcurl's
 * URL API) and never fails: when there is no usable base, or the reference
 * is already absolute, or it cannot be parsed, it returns the reference as
 * given (trimmed). Results live in the arena. */
#ifndef VIGIE_URL_H
#define VIGIE_URL_H

#include <stdbool.h>

#include "util.h"

/* True if s starts with a URI scheme ("http:", "mailto:", ...). */
bool url_is_absolute(const char *s);
/* True if s is an absolute http:// or https:// URL. */
bool url_is_http(const char *s);
/* ref resolved against base (base may be NULL or relative: then ref is
 * returned unchanged). */
const char *url_resolve(arena *a, const char *base, const char *ref);

#endif
