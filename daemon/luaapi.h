/* luaapi.h — the `vigie` module: the only way out of a rule script.
 *
 *   local m = vigie.keywords{"Western Balkans", "Vučić", "serb*"}
 *   m:match(text)   --> {"Vučić", ...}  keywords as written, each once,
 *                                       in order of first occurrence
 *   m:find(text)    --> {{keyword="Vučić", start=12, stop=19}, ...}
 *                       1-based inclusive: text:sub(h.start, h.stop)
 *   vigie.fold(s)   --> the folded form the matcher compares
 *   vigie.log(level, fmt, ...)   "debug" | "info" | "notice" | "warning" |
 *                                "error"; fmt as string.format, used
 *                                verbatim when no argument follows it
 *   vigie.store(item [, {tags = {...}}])
 *   vigie.alert(target, payload) payload: a table (sent as a JSON object)
 *                                or a string (becomes {text = payload})
 *   print(...)                   a log line at level info
 *
 * store and alert only work inside on_item, on the item being processed.
 * Every call becomes an action (actions.h); the bounds there are enforced
 * here with errors that name them. Lua sees plain tables, never pointers:
 * a matcher is a userdata whose metatable is locked. */
#ifndef VIGIE_LUAAPI_H
#define VIGIE_LUAAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "actions.h"
#include "util.h"

struct feed_item;
struct rule_feed;

/* Per-state context, owned by the script (script.c). */
typedef struct luaapi_ctx {
    const char *script; /* the script's name, for actions */
    /* The call in progress: out is NULL outside calls. */
    action_list *out;
    int32_t item; /* -1 at top level */
    const char *item_id;
    size_t mark; /* out->len when the call began */
    size_t nactions, nlogs, dropped_logs, bytes;
    /* C memory (matchers) is charged to the state's allocator count. */
    size_t *mem_used;
    size_t mem_limit;
    buf scratch; /* reused by fold and JSON encoding; survives Lua errors */
} luaapi_ctx;

/* Installs `vigie`, `print` and require'able "vigie" into the globals. */
void luaapi_open(lua_State *L, luaapi_ctx *ctx);
void luaapi_close(luaapi_ctx *ctx);

/* Brackets one call: actions go to `out` with this item. */
void luaapi_begin(luaapi_ctx *ctx, action_list *out, int32_t item,
                  const char *item_id);
/* Ends the call; when it failed, drops its alerts and stores. Adds a log
 * action counting the log lines dropped over the per-call limit. */
void luaapi_end(luaapi_ctx *ctx, bool failed);

/* Pushes item.feed, and an item table (DESIGN.md "Parsed feed", plus
 * published_ts/updated_ts) whose `feed` field is the value at feed_idx. */
void luaapi_push_feed(lua_State *L, const struct rule_feed *f);
void luaapi_push_item(lua_State *L, const struct feed_item *it, int feed_idx);

#endif
