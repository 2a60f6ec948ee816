/* feed_json.h — a parsed feed as the JSON of DESIGN.md "Parsed feed". */
#ifndef VIGIE_FEED_JSON_H
#define VIGIE_FEED_JSON_H

#include "feed.h"
#include "jsonw.h"

/* The whole document: {"feed":…, "format":…, "wellformed":…, "errors":…,
 * "items":[…]} (no trailing newline). */
void feed_write_json(buf *out, const feed *f);
/* One item object, as in "items". */
void feed_item_write_json(jsonw *w, const feed_item *it);
/* The "feed" object. */
void feed_meta_write_json(jsonw *w, const feed *f);

#endif
