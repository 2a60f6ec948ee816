/* script.c — see script.h.
 *
 * One lua_State per script, created with our own allocator (its ud is the
 * script, which is how the hook and the allocator find their budgets), the
 * sandbox built by opening a few standard libraries and wrapping the
 * functions that could escape, and every entry into Lua made through
 * call(): budget armed, message handler pushed, budget disarmed. */
#include "script.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "date.h"
#include "feed.h"
#include "log.h"
#include "luaapi.h"

/* The hook runs every HOOK_COUNT VM instructions: about every 10 µs, cheap
 * (a clock read) and frequent enough for budgets in milliseconds. */
#define HOOK_COUNT 1000
/* Room the message handler may use beyond the cap to build a traceback. */
#define MEM_SLACK ((size_t)1 << 20)

struct script {
    lua_State *L;
    char *name;
    script_limits lim;
    size_t used;      /* bytes held by the state (and charged matchers) */
    bool in_handler;  /* building an error message: allow MEM_SLACK more */
    bool mem_refused; /* an allocation was refused during this call */
    bool mem_exhausted; /* a refusal became an error: sticky for the rest
                           of the call, like timed_out */
    bool refusal_pending; /* the last request was refused; is it retried? */
    const void *refused_ptr;
    size_t refused_size;
    int64_t deadline; /* now_ms() value, 0 outside calls */
    int64_t budget;   /* of the call in progress, for the message */
    bool timed_out;   /* sticky for the rest of the call */
    int feed_ref;     /* registry reference of item.feed */
    const rule_feed *cur_feed; /* arguments of set_feed and push_item */
    const feed_item *cur_item;
    const feed_item *cur_old; /* on_update: the stored copy */
    luaapi_ctx api;
};

void
script_limits_default(script_limits *l)
{
    l->call_ms = SCRIPT_DEFAULT_CALL_MS;
    l->load_ms = SCRIPT_DEFAULT_LOAD_MS;
    l->mem = SCRIPT_DEFAULT_MEM;
}

void
rule_feed_from(rule_feed *rf, const feed *f, const char *url, const char *name)
{
    rf->title = f->title;
    rf->link = f->link;
    rf->subtitle = f->subtitle;
    rf->language = f->language;
    rf->author = f->author;
    rf->updated = f->updated;
    rf->url = url ? url : "";
    rf->name = name ? name : "";
}

/* The allocator: the cap counts every byte Lua holds. Lua runs a full
 * emergency collection and retries before it raises "not enough memory",
 * so refusing here never fails a script that only carries garbage. A
 * refusal is an error raised in the script unless the very next request
 * to grow is its retry and that succeeds (luaL_Buffer, for one, raises
 * without retrying); such an error fails the call even if a pcall in the
 * script catches it. */
static void *
script_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    script *s = ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        free(ptr);
        s->used -= osize;
        return NULL;
    }
    if (nsize > osize) {
        bool retry = s->refusal_pending && ptr == s->refused_ptr &&
                     nsize == s->refused_size;
        if (s->refusal_pending && !retry && s->deadline) s->mem_exhausted = true;
        s->refusal_pending = false;
        size_t limit = s->lim.mem + (s->in_handler ? MEM_SLACK : 0);
        if (s->used - osize + nsize > limit) {
            s->mem_refused = true;
            if (retry) {
                if (s->deadline) s->mem_exhausted = true;
            } else {
                s->refusal_pending = true;
                s->refused_ptr = ptr;
                s->refused_size = nsize;
            }
            return NULL;
        }
    }
    void *p = realloc(ptr, nsize);
    if (!p) {
        /* Lua assumes shrinking never fails: keep the larger block. */
        if (nsize <= osize) return ptr;
        return NULL;
    }
    s->used = s->used - osize + nsize;
    return p;
}

static script *
state_script(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

/* The count hook. New threads (coroutines) inherit their creator's hook in
 * Lua 5.4 (lua_newthread copies it), so every thread of the state is
 * covered. After the deadline the hook of the running thread fires on
 * every instruction and raises each time: a pcall that catches the timeout
 * gets it again on the next instruction it runs. Exhausted memory is
 * raised the same way. */
static void
hook(lua_State *L, lua_Debug *ar)
{
    UNUSED(ar);
    script *s = state_script(L);
    if (!s->deadline) return;
    if (s->mem_exhausted) {
        lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        lua_pushliteral(L, "memory limit exceeded");
        lua_error(L);
    }
    if (!s->timed_out) {
        if (lua_gethookcount(L) != HOOK_COUNT)
            lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);
        if (now_ms() < s->deadline) return;
        s->timed_out = true;
    }
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    /* Level 0 inside a hook is the function being run: name its line. */
    luaL_where(L, 0);
    lua_pushfstring(L, "time budget exceeded (%d ms)", (int)s->budget);
    lua_concat(L, 2);
    lua_error(L);
}

/* The message handler: "name:line: message" plus a traceback. An error
 * object that is not a string is described, not lost. */
static int
msgh(lua_State *L)
{
    script *s = state_script(L);
    s->in_handler = true;
    const char *msg = NULL;
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) {
        msg = lua_tostring(L, 1);
    } else if (luaL_callmeta(L, 1, "__tostring") &&
               lua_type(L, -1) == LUA_TSTRING) {
        msg = lua_tostring(L, -1);
    } else {
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Pushes global `name` without metamethods: no script code may run
 * outside a budgeted call (a __index on _G would). */
static int
raw_global(lua_State *L, const char *name)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushstring(L, name);
    int t = lua_rawget(L, -2);
    lua_remove(L, -2);
    return t;
}

static void
copy_message(char *err, size_t errlen, const char *prefix, const char *msg)
{
    if (!errlen) return;
    size_t n = (size_t)snprintf(err, errlen, "%s%s", prefix, msg);
    if (n >= errlen && errlen > 4) {
        /* cut at a character boundary, and say so */
        size_t cut = errlen - 4;
        while (cut > 0 && ((unsigned char)err[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(err + cut, "...", 4);
    }
}

/* Calls the function below its nargs arguments on the stack within
 * `budget` ms; on failure writes the message to err and returns -1. */
static int
call(script *s, int nargs, int64_t budget, char *err, size_t errlen)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs; /* index of the function */
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    s->budget = budget;
    s->timed_out = false;
    s->mem_refused = false;
    s->mem_exhausted = false;
    s->refusal_pending = false;
    s->in_handler = false;
    s->deadline = now_ms() + budget;
    lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_COUNT);
    int rc = lua_pcall(L, nargs, 0, base);
    s->deadline = 0;
    s->in_handler = false;
    if (s->refusal_pending) s->mem_exhausted = true; /* never retried */
    s->refusal_pending = false;
    int ret = 0;
    if (rc == LUA_OK && s->mem_exhausted) {
        /* a pcall inside swallowed it and the call returned before the
         * hook could raise it again */
        rc = LUA_ERRMEM;
        lua_pushliteral(L, "not enough memory");
    }
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (!msg) msg = "(no message)";
        if (rc == LUA_ERRMEM || s->mem_exhausted ||
            (s->mem_refused && strstr(msg, "not enough memory"))) {
            char tmp[128];
            snprintf(tmp, sizeof tmp, "%s: memory limit exceeded (%zu MiB)",
                     s->name, s->lim.mem >> 20);
            copy_message(err, errlen, "", tmp);
        } else if (s->timed_out && !strstr(msg, "time budget exceeded")) {
            char tmp[128];
            snprintf(tmp, sizeof tmp,
                     "%s: time budget exceeded (%d ms): ", s->name,
                     (int)budget);
            copy_message(err, errlen, tmp, msg);
        } else {
            copy_message(err, errlen, "", msg);
        }
        ret = -1;
    }
    lua_settop(L, base - 1);
    /* Give back what the failed call left behind before the next one. */
    if (ret) lua_gc(L, LUA_GCCOLLECT);
    return ret;
}

/* ---- the sandbox ------------------------------------------------------ */

static int
sb_load(lua_State *L)
{
    /* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t" */
    int n = lua_gettop(L);
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    /* an explicit nil env is an env (load's own rule), an absent one not */
    if (n >= 4) lua_pushvalue(L, 4);
    lua_call(L, n >= 4 ? 4 : 3, LUA_MULTRET);
    return lua_gettop(L) - 4;
}

static int
sb_setmetatable(lua_State *L)
{
    /* A finalizer runs with hooks off (during any collection, or at
     * lua_close): a looping __gc would hang the worker beyond any budget.
     * Lua only marks an object for finalization if its metatable has __gc
     * when setmetatable is called, so refusing it here is enough. */
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not "
                                 "allowed in rules");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int
sb_collectgarbage(lua_State *L)
{
    static const char *const allowed[] = {"collect", "step", "count",
                                          "isrunning", NULL};
    const char *opt = luaL_optstring(L, 1, "collect");
    for (size_t i = 0; allowed[i]; i++) {
        if (!strcmp(opt, allowed[i])) {
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_insert(L, 1);
            lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
            return lua_gettop(L);
        }
    }
    return luaL_error(L, "collectgarbage: option '%s' is not allowed in rules",
                      opt);
}

static int
sb_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (lua_getfield(L, lua_upvalueindex(1), name) != LUA_TNIL) return 1;
    return luaL_error(L,
                      "require: module '%s' is not available in rules (only "
                      "string, table, math, utf8, coroutine and vigie)",
                      name);
}

static int
panic(lua_State *L)
{
    /* Every entry into Lua is protected; reaching this is a vigie bug. */
    const char *msg = lua_tostring(L, -1);
    log_err("lua: unprotected error: %s", msg ? msg : "?");
    abort();
}

/* Replaces global `name` by C function f with the original as upvalue. */
static void
wrap_global(lua_State *L, const char *name, lua_CFunction f)
{
    lua_getglobal(L, name);
    lua_pushcclosure(L, f, 1);
    lua_setglobal(L, name);
}

static int
open_sandbox(lua_State *L)
{
    script *s = lua_touserdata(L, 1);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
    };
    for (size_t i = 0; i < ARRAY_LEN(libs); i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    /* os: only the clock and the calendar. */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 3);
    static const char *const os_keep[] = {"time", "date", "clock"};
    for (size_t i = 0; i < ARRAY_LEN(os_keep); i++) {
        lua_getfield(L, -2, os_keep[i]);
        lua_setfield(L, -2, os_keep[i]);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);

    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    static const char *const drop[] = {"dofile", "loadfile", "require"};
    for (size_t i = 0; i < ARRAY_LEN(drop); i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    wrap_global(L, "load", sb_load);
    wrap_global(L, "setmetatable", sb_setmetatable);
    wrap_global(L, "collectgarbage", sb_collectgarbage);

    luaapi_open(L, &s->api);

    /* require: the libraries above and vigie, as they were at start. */
    static const char *const mods[] = {"string", "table",     "math",
                                       "utf8",   "coroutine", "vigie"};
    lua_createtable(L, 0, ARRAY_LEN(mods));
    for (size_t i = 0; i < ARRAY_LEN(mods); i++) {
        lua_getglobal(L, mods[i]);
        lua_setfield(L, -2, mods[i]);
    }
    lua_pushcclosure(L, sb_require, 1);
    lua_setglobal(L, "require");

    lua_newtable(L); /* item.feed until script_set_feed */
    s->feed_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- public ----------------------------------------------------------- */

static int
compile(lua_State *L, const char *name, const char *src, size_t len, char *err,
        size_t errlen)
{
    char chunkname[512];
    snprintf(chunkname, sizeof chunkname, "@%s", name);
    int rc = luaL_loadbufferx(L, src, len, chunkname, "t");
    if (rc == LUA_OK) return 0;
    const char *msg = lua_tostring(L, -1);
    if (rc == LUA_ERRMEM)
        snprintf(err, errlen, "%s: memory limit exceeded while compiling",
                 name);
    else
        copy_message(err, errlen, "", msg ? msg : "cannot compile");
    lua_pop(L, 1);
    return -1;
}

static script *
script_new(const char *name, const script_limits *lim)
{
    script *s = xcalloc(1, sizeof *s);
    s->name = xstrdup(name);
    if (lim)
        s->lim = *lim;
    else
        script_limits_default(&s->lim);
    if (s->lim.call_ms <= 0) s->lim.call_ms = SCRIPT_DEFAULT_CALL_MS;
    if (s->lim.load_ms <= 0) s->lim.load_ms = SCRIPT_DEFAULT_LOAD_MS;
    if (s->lim.mem == 0) s->lim.mem = SCRIPT_DEFAULT_MEM;
    s->feed_ref = LUA_NOREF;
    s->api.script = s->name;
    s->api.item = -1;
    s->api.mem_used = &s->used;
    s->api.mem_limit = s->lim.mem;
    return s;
}

int
script_check(const char *name, const char *src, size_t len, char *err,
             size_t errlen)
{
    if (len > SCRIPT_MAX_SOURCE) {
        snprintf(err, errlen, "%s: script too large (%zu bytes, limit %zu)",
                 name, len, SCRIPT_MAX_SOURCE);
        return -1;
    }
    script *s = script_new(name, NULL);
    s->L = lua_newstate(script_alloc, s);
    int rc = -1;
    if (!s->L)
        snprintf(err, errlen, "%s: cannot create a Lua state", name);
    else
        rc = compile(s->L, name, src, len, err, errlen);
    script_free(s);
    return rc;
}

script *
script_load(const char *name, const char *src, size_t len,
            const script_limits *lim, action_list *out, char *err,
            size_t errlen)
{
    if (len > SCRIPT_MAX_SOURCE) {
        snprintf(err, errlen, "%s: script too large (%zu bytes, limit %zu)",
                 name, len, SCRIPT_MAX_SOURCE);
        return NULL;
    }
    script *s = script_new(name, lim);
    s->L = lua_newstate(script_alloc, s);
    if (!s->L) {
        snprintf(err, errlen, "%s: cannot create a Lua state", name);
        script_free(s);
        return NULL;
    }
    lua_atpanic(s->L, panic);
    /* The sandbox is built in protected mode: it allocates. */
    lua_pushcfunction(s->L, open_sandbox);
    lua_pushlightuserdata(s->L, s);
    if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
        snprintf(err, errlen, "%s: cannot set up the sandbox: %s", name,
                 lua_tostring(s->L, -1));
        script_free(s);
        return NULL;
    }
    if (compile(s->L, name, src, len, err, errlen) < 0) {
        script_free(s);
        return NULL;
    }
    action_list scratch;
    action_list_init(&scratch);
    luaapi_begin(&s->api, out ? out : &scratch, -1, NULL);
    int rc = call(s, 0, s->lim.load_ms, err, errlen);
    luaapi_end(&s->api, rc < 0);
    action_list_free(&scratch);
    if (rc == 0 && raw_global(s->L, "on_item") != LUA_TFUNCTION) {
        snprintf(err, errlen, "%s: defines no on_item(item) function", name);
        rc = -1;
    }
    lua_settop(s->L, 0);
    if (rc < 0) {
        script_free(s);
        return NULL;
    }
    return s;
}

void
script_free(script *s)
{
    if (!s) return;
    if (s->L) lua_close(s->L);
    luaapi_close(&s->api);
    free(s->name);
    free(s);
}

const char *
script_name(const script *s)
{
    return s->name;
}

size_t
script_mem_used(const script *s)
{
    return s->used;
}

static int
set_feed(lua_State *L)
{
    script *s = state_script(L);
    luaapi_push_feed(L, s->cur_feed);
    lua_rawseti(L, LUA_REGISTRYINDEX, s->feed_ref);
    return 0;
}

void
script_set_feed(script *s, const rule_feed *f)
{
    lua_pushcfunction(s->L, set_feed);
    s->cur_feed = f;
    int rc = lua_pcall(s->L, 0, 0, 0);
    s->cur_feed = NULL;
    if (rc != LUA_OK) {
        /* Out of memory: the next on_item will fail with a clear error. */
        lua_pop(s->L, 1);
    }
}

static int
push_item(lua_State *L)
{
    script *s = state_script(L);
    raw_global(L, "on_item");
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->feed_ref);
    luaapi_push_item(L, s->cur_item, lua_gettop(L));
    lua_remove(L, -2);
    return 2;
}

/* on_update(item, old), or nothing when the script does not define it. */
static int
push_update(lua_State *L)
{
    script *s = state_script(L);
    raw_global(L, "on_update");
    if (lua_type(L, -1) != LUA_TFUNCTION) return 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->feed_ref);
    int feed_idx = lua_gettop(L);
    luaapi_push_item(L, s->cur_item, feed_idx);
    luaapi_push_item(L, s->cur_old, feed_idx);
    lua_remove(L, feed_idx);
    return 3;
}

int
script_on_update(script *s, const feed_item *it, const feed_item *old,
                 int32_t index, action_list *out)
{
    lua_State *L = s->L;
    char err[ACTION_MAX_MESSAGE];
    luaapi_begin(&s->api, out, index, it->id);
    int rc;
    int top = lua_gettop(L);
    lua_pushcfunction(L, push_update);
    s->cur_item = it;
    s->cur_old = old;
    int prc = lua_pcall(L, 0, LUA_MULTRET, 0);
    s->cur_item = s->cur_old = NULL;
    int got = lua_gettop(L) - top;
    if (prc != LUA_OK) {
        lua_settop(L, top);
        snprintf(err, sizeof err,
                 "%s: memory limit exceeded (%zu MiB) building the item",
                 s->name, s->lim.mem >> 20);
        rc = -1;
    } else if (got != 3) {
        lua_settop(L, top); /* no on_update: an update changes nothing */
        rc = 0;
    } else {
        rc = call(s, 2, s->lim.call_ms, err, sizeof err);
    }
    luaapi_end(&s->api, rc < 0);
    if (rc < 0) action_error(out, s->name, index, it->id, err);
    return rc;
}

int
script_on_item(script *s, const feed_item *it, int32_t index, action_list *out)
{
    lua_State *L = s->L;
    char err[ACTION_MAX_MESSAGE];
    luaapi_begin(&s->api, out, index, it->id);
    int rc;
    /* Building the item allocates, so it is protected like the call. */
    lua_pushcfunction(L, push_item);
    s->cur_item = it;
    int prc = lua_pcall(L, 0, 2, 0);
    s->cur_item = NULL;
    if (prc != LUA_OK) {
        lua_pop(L, 1);
        snprintf(err, sizeof err,
                 "%s: memory limit exceeded (%zu MiB) building the item",
                 s->name, s->lim.mem >> 20);
        rc = -1;
    } else if (lua_type(L, -2) != LUA_TFUNCTION) {
        lua_pop(L, 2);
        snprintf(err, sizeof err, "%s: on_item is not a function any more",
                 s->name);
        rc = -1;
    } else {
        rc = call(s, 1, s->lim.call_ms, err, sizeof err);
    }
    luaapi_end(&s->api, rc < 0);
    if (rc < 0) action_error(out, s->name, index, it->id, err);
    return rc;
}
