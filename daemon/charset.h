/* charset.h — any feed body to clean UTF-8 for the XML parser.
 *
 * The encoding is decided by the first rule that applies:
 *   1. a byte order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE);
 *   2. a body that is valid UTF-8 is UTF-8, whatever it claims;
 *   3. the encoding in the XML declaration (<?xml ... encoding="..."?>);
 *   4. the caller's hint (the charset of the HTTP Content-Type);
 *   5. windows-1252.
 * Repairs instead of rejecting: a document claiming UTF-8 (or claiming
 * nothing) with stray bytes has each lone byte read as windows-1252 (so
 * 0x92 becomes ’) and each broken multi-byte sequence replaced by U+FFFD;
 * "ISO-8859-1" and "US-ASCII" are read as windows-1252, its superset in
 * practice. Characters XML forbids (C0 controls other than tab, LF, CR;
 * U+FFFE, U+FFFF) are dropped, so one stray ESC never aborts a parse. */
#ifndef VIGIE_CHARSET_H
#define VIGIE_CHARSET_H

#include <stddef.h>

#include "util.h"

typedef struct charset_result {
    const char *data; /* the UTF-8 text: the input itself or out->p */
    size_t len;
    const char *encoding; /* the encoding used, e.g. "UTF-8", "windows-1252" */
    size_t repaired;      /* bytes or sequences replaced */
    size_t dropped;       /* forbidden control characters dropped */
    int unsupported;      /* declared encoding unknown to iconv; fell back */
} charset_result;

/* Converts in[0..n) to UTF-8. hint may be NULL. When no conversion is needed
 * the result points into the input (no copy); otherwise into out. */
void charset_to_utf8(const char *in, size_t n, const char *hint, buf *out,
                     charset_result *res);

/* Extracts the charset parameter of a Content-Type header value into out
 * (lower-case, at most outlen-1 bytes). Returns 0, or -1 if there is none. */
int charset_from_content_type(const char *ctype, char *out, size_t outlen);

#endif
