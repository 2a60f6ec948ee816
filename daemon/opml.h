/* opml.h — feed lists from OPML files, read as untrusted input.
 *
 * Every <outline> with a non-empty xmlUrl attribute, at any depth (folders
 * are flattened, in document order), becomes one entry: its URL and its
 * title (the title attribute, else text; may be empty). Outlines without
 * xmlUrl are folders or notes and are skipped.
 *
 * Safety: a SAX parse with no network, no DTD loading and no entity
 * substitution; any entity declaration (internal or external, general or
 * parameter) stops the parse and is refused before anything it names is
 * read. Input size, entry count and attribute lengths are capped. */
#ifndef VIGIE_OPML_H
#define VIGIE_OPML_H

#include <stddef.h>

#include "util.h"

#define OPML_MAX_BYTES (16u << 20)
#define OPML_MAX_FEEDS 100000
#define OPML_MAX_URL 8192
#define OPML_MAX_TITLE 1024

typedef struct opml_entry {
    const char *url;
    const char *title; /* never NULL; "" when the outline has none */
} opml_entry;

typedef struct opml_list {
    opml_entry *v;
    size_t n, cap;
    arena mem; /* the strings */
} opml_list;

/* Parses an OPML document of len bytes into out (zeroed by the caller).
 * Returns 0, or -1 with "line N: why" in err. Free with opml_free either way.
 */
int opml_parse(const char *data, size_t len, opml_list *out, char *err,
               size_t errlen);
void opml_free(opml_list *l);

#endif
