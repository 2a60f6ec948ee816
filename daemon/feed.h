/* feed.h — one parsed feed: the normalised form every other part reads.
 *
 * feed_parse() takes the raw bytes of an RSS (0.9x, 1.0, 2.0), Atom (0.3,
 * 1.0) or JSON Feed (1.0, 1.1) document, whatever its encoding, and fills a
 * `feed` whose strings are plain NFC UTF-8 (never NULL; "" when absent,
 * except where noted), whose links are absolute (the item's and the feed's
 * http or https only) and whose dates are UTC.
 * It never fails on bad input: a document that is not a feed at all gives
 * wellformed = false, an error, and no items. No two items share an id:
 * an entry listed twice is one item, and items that came with one id but
 * differ each get that id plus "#vigie-" and a hash of their own content
 * (title, link, summary, publication date, first enclosure), with a note
 * in errors. All memory belongs to the feed's arena and is released by
 * feed_free(). */
#ifndef VIGIE_FEED_H
#define VIGIE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "util.h"

typedef struct feed_enclosure {
    const char *url, *type;
    int64_t length; /* bytes as announced, 0 when unknown */
} feed_enclosure;

typedef struct feed_item {
    const char *id;      /* never empty, unique in the feed */
    const char *title;   /* plain text */
    const char *link;    /* absolute http(s) URL, "" when none */
    const char *summary; /* plain text */
    const char *content; /* HTML, as the feed gave it */
    const char *author;  /* plain text; several names joined with ", " */
    const char **categories;
    size_t ncategories;
    int64_t published, updated; /* epoch seconds UTC, DATE_NONE if absent */
    feed_enclosure *enclosures;
    size_t nenclosures;
} feed_item;

typedef enum feed_format {
    FEED_UNKNOWN,
    FEED_RSS09X,
    FEED_RSS10,
    FEED_RSS20,
    FEED_ATOM03,
    FEED_ATOM10,
    FEED_JSONFEED,
} feed_format;

typedef struct feed {
    const char *title, *link, *subtitle, *language; /* plain; "" if absent */
    const char *author;                              /* NULL if absent */
    int64_t updated;                                 /* DATE_NONE if absent */
    feed_format format;
    bool wellformed;
    const char **errors;
    size_t nerrors;
    feed_item *items;
    size_t nitems;
    arena mem;
} feed;

/* Caps on what one document may make us hold. */
typedef struct feed_limits {
    size_t max_input;  /* bytes of input (default 16 MiB) */
    size_t max_field;  /* bytes of one text field (default 1 MiB) */
    size_t max_items;  /* items kept (default 10,000) */
    size_t max_depth;  /* element nesting (default 256) */
    size_t max_errors; /* error messages kept (default 10) */
} feed_limits;

typedef struct feed_options {
    const char *base_url; /* the URL the feed came from, or NULL */
    const char *charset;  /* charset from HTTP Content-Type, or NULL */
    feed_limits limits;   /* zero fields take the defaults */
} feed_options;

#define FEED_DEFAULT_MAX_INPUT (16u << 20)

/* Parses `len` bytes at `data` into *out (which must be freed with
 * feed_free even when the document was not a feed). opt may be NULL. */
void feed_parse(const char *data, size_t len, const feed_options *opt,
                feed *out);
void feed_free(feed *f);

/* "rss2.0", "rss1.0", "rss0.9x", "atom1.0", "atom0.3", "jsonfeed", "unknown" */
const char *feed_format_name(feed_format f);

/* True when the document gave at least a recognised feed root: what the
 * daemon counts as a successful fetch. */
static inline bool
feed_is_feed(const feed *f)
{
    return f->format != FEED_UNKNOWN;
}

#endif
