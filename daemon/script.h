/* script.h — one rule script in its own sandboxed Lua 5.4 state.
 *
 * A script is loaded from text only (never bytecode), into a state of its
 * own whose globals are the sandbox: base functions without dofile/loadfile
 * (load compiles text only), string (no dump), table, math, utf8,
 * coroutine, os.time/date/clock, a require that only knows those and
 * `vigie`, setmetatable refusing __gc, collectgarbage limited to
 * collect/step/count/isrunning, and print going to the log.
 *
 * Each call (the top level at load, then on_item per item) runs under a
 * wall-clock budget and the state under a memory cap. A count hook checks
 * the clock; once the budget is spent the hook turns sticky (it fires on
 * every instruction of every thread of the state and raises again), so
 * neither pcall nor a coroutine can swallow the timeout. The hook cannot
 * interrupt a C function (a backtracking string.find runs for minutes):
 * that is the worker's job (worker.h), which runs scripts in a separate
 * process and kills it. Errors come back as "name:line: message" with a
 * traceback. Nothing here writes files, opens sockets or logs: what a
 * script does is a list of actions (actions.h). */
#ifndef VIGIE_SCRIPT_H
#define VIGIE_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "actions.h"

struct feed;
struct feed_item;

typedef struct script_limits {
    int64_t call_ms; /* wall-clock budget of one on_item call */
    int64_t load_ms; /* budget of the top level, run once at load */
    size_t mem;      /* cap on the state's memory, matchers included */
} script_limits;

#define SCRIPT_DEFAULT_CALL_MS 2000
#define SCRIPT_DEFAULT_LOAD_MS 5000
#define SCRIPT_DEFAULT_MEM ((size_t)64 << 20)
#define SCRIPT_MAX_SOURCE ((size_t)1 << 20) /* bytes of one script file */

/* Fills the defaults above. */
void script_limits_default(script_limits *l);

/* What `item.feed` holds: the parsed feed's fields plus where it came from
 * (`url`, "" for a local file) and its configured `name` ("" if none). */
typedef struct rule_feed {
    const char *title, *link, *subtitle, *language; /* "" if absent */
    const char *author;                             /* NULL if absent */
    int64_t updated;                                /* DATE_NONE if absent */
    const char *url, *name;
} rule_feed;

void rule_feed_from(rule_feed *rf, const struct feed *f, const char *url,
                    const char *name);

typedef struct script script;

/* Compiles `src` without running it: 0, or -1 with "name:line: message"
 * in err. What `vigie check` and a reload use before anything runs. */
int script_check(const char *name, const char *src, size_t len, char *err,
                 size_t errlen);

/* Creates the state, compiles `src` (text only) and runs its top level
 * within lim->load_ms; the top level must define a global on_item function.
 * Actions of the top level (print, vigie.log) are appended to `out` (may
 * be NULL to drop them) with item -1. Returns NULL with the reason in err
 * (a traceback when the top level raised). lim may be NULL (defaults). */
script *script_load(const char *name, const char *src, size_t len,
                    const script_limits *lim, action_list *out, char *err,
                    size_t errlen);
void script_free(script *s);
const char *script_name(const script *s);
/* Bytes the state holds now (Lua heap plus matchers). */
size_t script_mem_used(const script *s);

/* Sets what item.feed is for the items that follow (one table, shared by
 * the items of a batch). Until called, item.feed is an empty table. */
void script_set_feed(script *s, const rule_feed *f);

/* Runs on_item(item) for `it`, item number `index` of the caller's batch.
 * Its actions are appended to `out`. Returns 0, or -1 when the call failed
 * (raised, ran out of time or memory): then an ACTION_ERROR with the
 * message and traceback is appended, and the call's alerts and stores are
 * dropped (its log lines are kept). */
int script_on_item(script *s, const struct feed_item *it, int32_t index,
                   action_list *out);
/* Runs on_update(item, old) for an item whose content changed under the
 * same id (`old` is the copy stored earlier), when the script defines
 * on_update; otherwise does nothing and returns 0: by default an update
 * does not alert again. Same contract as script_on_item otherwise. */
int script_on_update(script *s, const struct feed_item *it,
                     const struct feed_item *old, int32_t index,
                     action_list *out);

#endif
