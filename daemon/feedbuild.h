/* feedbuild.h — what the RSS/Atom and JSON Feed readers share: collecting
 * the candidate values of each field (the best source wins), turning raw
 * text into the normalised strings of feed.h, finishing items (absolute
 * http(s) links, never-empty ids, unique in the document) and recording
 * errors. Internal to the parser. */
#ifndef VIGIE_FEEDBUILD_H
#define VIGIE_FEEDBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "feed.h"
#include "util.h"

/* How raw field text is read. */
typedef enum text_mode {
    TM_RAW,   /* ids, links, dates: trimmed, nothing decoded */
    TM_TEXT,  /* plain text: whitespace collapsed */
    TM_HTML,  /* HTML source: tags stripped, references decoded */
    TM_XHTML, /* markup rebuilt from XML elements (characters escaped) */
} text_mode;

/* The fields a value can go to; each keeps its best candidate. */
typedef enum field_kind {
    FK_ID,
    FK_TITLE,
    FK_LINK,
    FK_SUMMARY,
    FK_CONTENT,
    FK_AUTHOR,
    FK_SUBTITLE,
    FK_LANGUAGE,
    FK_PUBLISHED,
    FK_UPDATED,
    FK_CATEGORY, /* a list: every value is kept */
    /* What a module (Media RSS, iTunes) says of the title, summary and
     * author: used only when the feed's own elements give nothing. */
    FK_ALT_TITLE,
    FK_ALT_SUMMARY,
    FK_ALT_AUTHOR,
    FK_COUNT
} field_kind;

typedef struct field_acc {
    const char *val[FK_COUNT]; /* finished strings (arena) */
    const char *base[FK_COUNT]; /* base URL in scope for links */
    int64_t date[FK_COUNT];
    uint8_t prio[FK_COUNT]; /* 0 = no value yet */
} field_acc;

/* Authors kept for the feed or one item: a paper can have hundreds, and
 * each new name is compared with those already kept. */
#define FB_MAX_AUTHORS 128

/* The names given as the authors of the feed or of the item being read:
 * those of the best source, in document order, each once. */
typedef struct name_list {
    const char *v[FB_MAX_AUTHORS];
    size_t vlen[FB_MAX_AUTHORS];
    size_t n;
    size_t len; /* of the names joined with ", " */
} name_list;

typedef struct feed_builder {
    feed *f;
    feed_limits lim;
    const char *base_url; /* where the document came from, or NULL */
    buf scratch, scratch2;
    size_t items_cap;
    bool stop; /* a limit was hit: take no more items */
    bool stray_amp; /* libxml2 met an '&' that starts no reference */
    /* the feed itself, then the item being read */
    field_acc feed_acc;
    field_acc item_acc;
    name_list feed_authors, item_authors;
    bool in_item;
    const char **cats;
    size_t ncats, cats_cap;
    feed_enclosure *encs;
    size_t nencs, encs_cap;
    bool cats_cut, encs_cut; /* an item had more than the caps: noted */
    /* items whose id is their link (no guid), by index: see fb_finish */
    size_t *link_ids;
    size_t nlink_ids, link_ids_cap;
} feed_builder;

void fb_init(feed_builder *b, feed *f, const feed_options *opt);
/* Narrows s[0..n) to leave out white space (space, tab, CR, LF, FF) at both ends. */
void fb_trim(const char **s, size_t *n);
void fb_free(feed_builder *b);

/* Adds an error message (capped in number, duplicates dropped) and marks the
 * document not well-formed. */
void fb_error(feed_builder *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Same without touching wellformed (for notes on recovered input). */
void fb_note(feed_builder *b, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Offers a value for a field of the current item (or the feed when no item
 * is open). Raw bytes are normalised according to mode; higher prio wins,
 * the first of equal prio wins, except for authors, where every name of
 * equal prio is kept. base is the xml:base in scope (links).
 * s must be valid UTF-8, as everything libxml2 and jansson hand over from
 * the document charset_to_utf8 produced is: it is not checked again. */
void fb_offer(feed_builder *b, field_kind k, int prio, text_mode mode,
              const char *s, size_t n, const char *base);
void fb_offer_date(feed_builder *b, field_kind k, int prio, const char *s,
                   size_t n);
void fb_add_enclosure(feed_builder *b, const char *url, const char *type,
                      const char *length, const char *base);

/* Opens an item; false (and an error once) when max_items is reached. */
bool fb_item_begin(feed_builder *b);
void fb_item_end(feed_builder *b);
/* Forgets the item being read (a document cut short in the middle of it). */
void fb_item_drop(feed_builder *b);
/* Copies the collected feed fields into b->f. Called once at the end. */
void fb_finish(feed_builder *b);

/* A copy of s[0..n) in the feed's arena, valid UTF-8 guaranteed. */
const char *fb_strn(feed_builder *b, const char *s, size_t n);

#endif
