/* jsonw.h — a small streaming JSON writer into a buf.
 *
 * Fast enough for the parse hot path (no allocation per value, an ASCII
 * fast path in string escaping) and strict: strings must be valid UTF-8
 * (the parser guarantees it); control characters are escaped; "</" is
 * written as "<\/" so the output can sit inside HTML. Commas are inserted
 * by the writer. */
#ifndef VIGIE_JSONW_H
#define VIGIE_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef struct jsonw {
    buf *out;
    int depth;
    uint64_t need_comma; /* one bit per nesting level (max 63) */
} jsonw;

void jsonw_init(jsonw *w, buf *out);
void jsonw_obj_open(jsonw *w);
void jsonw_obj_close(jsonw *w);
void jsonw_arr_open(jsonw *w);
void jsonw_arr_close(jsonw *w);
/* key is trusted ASCII, written as it is */
void jsonw_keyn(jsonw *w, const char *key, size_t n);
/* Inline so that the length of a literal key is known at compile time. */
static inline void
jsonw_key(jsonw *w, const char *key)
{
    jsonw_keyn(w, key, strlen(key));
}
void jsonw_str(jsonw *w, const char *s);   /* NULL writes null */
void jsonw_strn(jsonw *w, const char *s, size_t n);
void jsonw_int(jsonw *w, int64_t v);
void jsonw_bool(jsonw *w, bool v);
void jsonw_null(jsonw *w);
/* A date as RFC 3339, or null for DATE_NONE. */
void jsonw_date(jsonw *w, int64_t t);

/* Appends the JSON string literal for s[0..n) (quotes included). */
void json_escape(buf *out, const char *s, size_t n);

#endif
