/* config_lua.h — the Lua side of the configuration (internal to config.c).
 *
 * A sandboxed Lua state: a counting allocator with a hard cap, an
 * instruction budget enforced by a count hook, and an environment holding
 * only safe functions plus the `vigie` table (opml, glob, version). The
 * config chunk's globals land in a separate "settings" table, with the line
 * of each assignment, so that every global the file sets can be checked. */
#ifndef VIGIE_CONFIG_LUA_H
#define VIGIE_CONFIG_LUA_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* The chunk name of the config: Lua's messages then start with
 * "config:LINE:", which csb_message turns into "/full/path:LINE:" (Lua
 * shortens long "@path" chunk names to 60 bytes, which is useless). */
#define CSB_CHUNK "config"

typedef struct config_sandbox {
    size_t used, limit; /* bytes allocated by Lua, cap */
    int64_t steps, step_limit;
    int hit_steps;   /* the instruction budget ran out */
    int hit_mem;     /* an allocation was refused */
    int steps_line;  /* where the budget ran out (0: unknown) */
    const char *dir; /* the config's directory, for vigie.opml/glob */
} config_sandbox;

/* A new state with the safe environment; NULL if even that does not fit. */
lua_State *csb_open(config_sandbox *sb, size_t mem_limit);
/* Restarts the instruction budget (the hook counts from zero). */
void csb_budget(lua_State *L, config_sandbox *sb, int64_t steps);

/* Loads the config source as a text chunk whose globals go to a fresh
 * settings table. On success pushes the function and returns LUA_OK; else
 * pushes the error message. */
int csb_load_config(lua_State *L, const char *src, size_t len);
/* Pushes the settings table and the table of assignment lines (name → line). */
void csb_push_settings(lua_State *L);
void csb_push_lines(lua_State *L);

/* Turns a failed call's status and message into one line in err:
 * "path:LINE: msg", "path: msg", and the budget and memory messages. */
void csb_message(const config_sandbox *sb, int status, const char *msg,
                 const char *marker, const char *path, char *err,
                 size_t errlen);

/* The built-in script check: read, then compile as text. */
int csb_compile_file(const char *path, char *err, size_t errlen);

#endif
