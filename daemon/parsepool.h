/* parsepool.h — feed_parse() on a thread of its own.
 *
 * The daemon's loop does everything else on one thread: fetching,
 * classifying, talking to the rule worker, committing. Parsing a fetched
 * document is pure work on bytes, and a third of the loop's time on a
 * first poll of many feeds: it runs on a helper thread, and the loop goes
 * on meanwhile. feed_parse() keeps no state between calls (libxml2 is
 * initialised by the first parse, which parsepool_new() makes on the
 * loop's thread before the helper starts).
 *
 * What it promises:
 *  - Documents are parsed one at a time, in the order they were submitted.
 *  - done(parsed, keys, arg) runs on the loop, once per job, unless the
 *    job was cancelled first; parsed is the caller's then (feed_free,
 *    free), and keys too (free).
 *  - parsepool_free() waits for the parse in progress (bounded by the
 *    parser's own limits) and drops the others without calling back.
 */
#ifndef VIGIE_PARSEPOOL_H
#define VIGIE_PARSEPOOL_H

#include <stddef.h>

#include "feed.h"
#include "store.h"
#include "util.h"

struct ev_loop;
typedef struct parsepool parsepool;
typedef struct parse_job parse_job;
/* keys: the store's keys of parsed->items (store_item_keys), computed on
 * the helper thread too; NULL when the document is not a feed. Both are
 * the callee's (free). */
typedef void (*parse_done_fn)(feed *parsed, store_item_key *keys, void *arg);

parsepool *parsepool_new(struct ev_loop *loop);
/* Takes body's bytes (body is left empty) and parses them with base_url
 * and charset (copied; either may be NULL) and max_input. */
parse_job *parsepool_submit(parsepool *pp, buf *body, const char *base_url,
                            const char *charset, size_t max_input,
                            parse_done_fn done, void *arg);
/* done will not be called for j (which may be parsing still: its result
 * is dropped). */
void parsepool_cancel(parsepool *pp, parse_job *j);
void parsepool_free(parsepool *pp);

#endif
