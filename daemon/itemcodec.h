/* itemcodec.h — items, their feed and rule actions as bytes, for the
 * socket between the daemon and its rule worker (worker.h).
 *
 * Integers are fixed-size in host order (both ends are the same binary);
 * a string is a u32 length, the bytes and a NUL, so a decoded string
 * points straight into the received buffer (UINT32_MAX marks NULL).
 * Decoding never trusts the input: every length is checked against what
 * is left and against a cap given by the caller, and a failure sets
 * `bad` and yields zeroes and NULLs from then on. Actions coming back
 * from the worker are also checked for meaning (UTF-8, webhook names,
 * payloads that parse as JSON objects, the per-call caps of actions.h). */
#ifndef VIGIE_ITEMCODEC_H
#define VIGIE_ITEMCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "feed.h"
#include "script.h"
#include "util.h"

typedef struct codec_rd {
    const char *p, *end;
    bool bad;
    const char *why; /* what was wrong, for the log */
} codec_rd;

void codec_rd_init(codec_rd *r, const char *p, size_t n);

void codec_put_u8(buf *b, uint8_t v);
void codec_put_u32(buf *b, uint32_t v);
void codec_put_u64(buf *b, uint64_t v);
void codec_put_str(buf *b, const char *s); /* NULL allowed */
void codec_put_strn(buf *b, const char *s, size_t n);

uint8_t codec_get_u8(codec_rd *r);
uint32_t codec_get_u32(codec_rd *r);
uint64_t codec_get_u64(codec_rd *r);
/* A string of at most max bytes; NULL for an encoded NULL or on error. */
const char *codec_get_str(codec_rd *r, size_t max, size_t *len);
/* Marks the reader bad (keeping the first reason); returns false. */
bool codec_fail(codec_rd *r, const char *why);

/* Caps when decoding items (the parser's own caps, with room). */
#define ITEMCODEC_MAX_FIELD ((size_t)16 << 20)
#define ITEMCODEC_MAX_LIST 100000

void itemcodec_put_feed(buf *b, const rule_feed *f);
bool itemcodec_get_feed(codec_rd *r, rule_feed *f);
void itemcodec_put_item(buf *b, const feed_item *it);
/* Strings point into the input; the category and enclosure arrays come
 * from `a`. */
bool itemcodec_get_item(codec_rd *r, feed_item *it, arena *a);

/* Actions l->v[from..] without their script and item (the receiver knows
 * which call they belong to). */
void itemcodec_put_actions(buf *b, const action_list *l, size_t from);
/* Decodes and validates the actions of one call, appending them to out
 * with the given script and item. Returns false (r->why says why) on
 * anything malformed or over a cap; out is then left as it was. */
bool itemcodec_get_actions(codec_rd *r, action_list *out, const char *sname,
                           int32_t item, const char *item_id);

#endif
