/* config_lua.c — the sandboxed Lua state in which the config file runs.
 *
 * What the config may call is a short allow-list copied into its own
 * environment table; the real globals (load, require, io, ...) exist in the
 * state but nothing the chunk can reach leads to them. string.dump is
 * removed from the string table itself, since every string reaches it
 * through its metatable. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "config.h"
#include "config_lua.h"
#include "log.h"
#include "opml.h"
#include "util.h"

/* Registry keys: addresses of static variables, as lsyncd does. */
static const char key_settings = 's';
static const char key_lines = 'l';
static const char key_base = 'b';

#define HOOK_EVERY 1000 /* instructions between two budget checks */
#define GLOB_MAX 10000
#define SCRIPT_MAX_BYTES (16u << 20)

static void *
csb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    config_sandbox *sb = ud;
    if (ptr == NULL) osize = 0; /* then osize encodes a type, not a size */
    if (nsize == 0) {
        free(ptr);
        sb->used -= osize;
        return NULL;
    }
    if (nsize > osize && nsize - osize > sb->limit - sb->used) {
        sb->hit_mem = 1;
        return NULL; /* Lua collects and retries, then raises LUA_ERRMEM */
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    sb->used = sb->used - osize + nsize;
    return p;
}

static config_sandbox *
sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

static void
csb_hook(lua_State *L, lua_Debug *ar)
{
    config_sandbox *sb = sandbox_of(L);
    sb->steps += sb->hit_steps ? 1 : HOOK_EVERY;
    if (sb->steps <= sb->step_limit) return;
    lua_getinfo(L, "l", ar);
    if (!sb->hit_steps) {
        sb->hit_steps = 1;
        sb->steps_line = ar->currentline > 0 ? ar->currentline : 0;
        /* From now on check every instruction: a pcall in the config
         * that swallows this error meets it again at the very next
         * instruction of its caller, until it leaves the chunk. */
        lua_sethook(L, csb_hook, LUA_MASKCOUNT, 1);
    }
    lua_pushstring(L, "instruction budget exhausted");
    lua_error(L);
}

void
csb_budget(lua_State *L, config_sandbox *sb, int64_t steps)
{
    sb->steps = 0;
    sb->step_limit = steps;
    sb->hit_steps = 0;
    sb->steps_line = 0;
    sb->hit_mem = 0;
    lua_sethook(L, csb_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

static int
csb_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    log_err("config: unprotected Lua error: %s", msg ? msg : "?");
    abort();
}

/* setmetatable without __gc: a finaliser would run at lua_close, after
 * the config was accepted, outside any budget the caller expects. The rest
 * is what the base library's setmetatable does; done here so that errors
 * carry the config's line. */
static int
l_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed here");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int
l_print(lua_State *L)
{
    buf b = {0};
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) buf_addc(&b, '\t');
        buf_add(&b, s, len);
        lua_pop(L, 1);
    }
    log_notice("config: %s", b.p ? b.p : "");
    buf_free(&b);
    return 0;
}

/* Resolves argument 1 against the config's directory, into out. */
static const char *
arg_path(lua_State *L, const char *fn, char *out, size_t outlen)
{
    config_sandbox *sb = sandbox_of(L);
    const char *rel = luaL_checkstring(L, 1);
    if (strlen(rel) != lua_rawlen(L, 1))
        luaL_error(L, "%s: path contains a NUL byte", fn);
    if (config_path_resolve(sb->dir, rel, out, outlen) < 0)
        luaL_error(L, "%s: path too long", fn);
    return out;
}

/* The optional defaults table, copied into each feed table made. */
static void
check_defaults(lua_State *L, const char *fn)
{
    if (lua_isnoneornil(L, 2)) return;
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *forbidden[] = {"url", "path"};
    for (size_t i = 0; i < ARRAY_LEN(forbidden); i++) {
        lua_pushstring(L, forbidden[i]);
        if (lua_rawget(L, 2) != LUA_TNIL)
            luaL_error(L, "%s: defaults may not set %s", fn, forbidden[i]);
        lua_pop(L, 1);
    }
}

static void
apply_defaults(lua_State *L, int feed)
{
    if (lua_type(L, 2) != LUA_TTABLE) return;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, feed) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_rawset(L, feed);
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Building the result may raise (memory); it runs under lua_pcall so the
 * caller can free its C memory first and re-raise. */
static int
build_opml(lua_State *L)
{
    const opml_list *l = lua_touserdata(L, 3);
    lua_settop(L, 2);
    lua_createtable(L, (int)l->n, 0);
    for (size_t i = 0; i < l->n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, l->v[i].url);
        lua_setfield(L, -2, "url");
        if (l->v[i].title[0]) {
            lua_pushstring(L, l->v[i].title);
            lua_setfield(L, -2, "name");
        }
        apply_defaults(L, lua_gettop(L));
        lua_rawseti(L, 3, (lua_Integer)i + 1);
    }
    return 1;
}

/* vigie.opml(path [, defaults]) → { {url=, name=}, ... } */
static int
l_opml(lua_State *L)
{
    char path[PATH_MAX], why[512];
    arg_path(L, "vigie.opml", path, sizeof path);
    check_defaults(L, "vigie.opml");
    lua_settop(L, 2);

    buf data = {0};
    if (read_file(path, OPML_MAX_BYTES, &data) < 0) {
        int e = errno;
        buf_free(&data);
        if (e == EFBIG)
            return luaL_error(L, "vigie.opml: %s: larger than %d MiB", path,
                              (int)(OPML_MAX_BYTES >> 20));
        return luaL_error(L, "vigie.opml: %s: %s", path, strerror(e));
    }
    opml_list list = {0};
    int rc = opml_parse(data.p, data.len, &list, why, sizeof why);
    buf_free(&data);
    if (rc < 0) {
        opml_free(&list);
        return luaL_error(L, "vigie.opml: %s: %s", path, why);
    }
    lua_pushcfunction(L, build_opml);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushlightuserdata(L, &list);
    int st = lua_pcall(L, 3, 1, 0);
    opml_free(&list);
    if (st != LUA_OK) return lua_error(L);
    return 1;
}

static int
build_glob(lua_State *L)
{
    const glob_t *g = lua_touserdata(L, 3);
    lua_settop(L, 2);
    lua_newtable(L);
    lua_Integer n = 0;
    for (size_t i = 0; i < g->gl_pathc; i++) {
        struct stat st;
        if (stat(g->gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
        lua_createtable(L, 0, 1);
        lua_pushstring(L, g->gl_pathv[i]);
        lua_setfield(L, -2, "path");
        apply_defaults(L, lua_gettop(L));
        lua_rawseti(L, 3, ++n);
    }
    return 1;
}

/* vigie.glob(pattern [, defaults]) → { {path=}, ... } for the regular
 * files matching, sorted; no match is an empty list. */
static int
l_glob(lua_State *L)
{
    char pattern[PATH_MAX];
    arg_path(L, "vigie.glob", pattern, sizeof pattern);
    check_defaults(L, "vigie.glob");
    lua_settop(L, 2);

    glob_t g;
    memset(&g, 0, sizeof g);
    /* No GLOB_ERR: a missing or unreadable directory matches nothing. */
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        globfree(&g);
        lua_newtable(L);
        return 1;
    }
    if (rc != 0) {
        globfree(&g);
        return luaL_error(L, "vigie.glob: %s: %s", pattern,
                          rc == GLOB_NOSPACE ? "out of memory"
                                             : "cannot read a directory");
    }
    if (g.gl_pathc > GLOB_MAX) {
        size_t n = g.gl_pathc;
        globfree(&g);
        return luaL_error(L, "vigie.glob: %s: %zu matches (at most %d)",
                          pattern, n, GLOB_MAX);
    }
    lua_pushcfunction(L, build_glob);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushlightuserdata(L, &g);
    int st = lua_pcall(L, 3, 1, 0);
    globfree(&g);
    if (st != LUA_OK) return lua_error(L);
    return 1;
}

/* _ENV's __index: the config's own globals first, then the safe base. */
static int
env_index(lua_State *L)
{
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
    return 1;
}

/* _ENV's __newindex: into the settings table, remembering the line. */
static int
env_newindex(lua_State *L)
{
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, lua_upvalueindex(1));
    lua_Debug ar;
    if (lua_type(L, 2) == LUA_TSTRING && lua_getstack(L, 1, &ar) &&
        lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 &&
        !strcmp(ar.source, "=" CSB_CHUNK)) {
        lua_pushvalue(L, 2);
        lua_pushinteger(L, ar.currentline);
        lua_rawset(L, lua_upvalueindex(2));
    }
    return 0;
}

static void
copy_fields(lua_State *L, int from, int to, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lua_getfield(L, from, names[i]);
        lua_setfield(L, to, names[i]);
    }
}

/* Builds the safe base table (registry[key_base]). */
static int
csb_setup(lua_State *L)
{
    luaL_openlibs(L);
    lua_pushglobaltable(L);
    int g = lua_gettop(L);

    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);

    lua_newtable(L);
    int base = lua_gettop(L);
    static const char *const safe[] = {
        "assert",   "error",    "ipairs", "next",     "pairs",
        "pcall",    "xpcall",   "select", "tonumber", "tostring",
        "type",     "rawequal", "rawget", "rawlen",   "getmetatable",
        "_VERSION", "string",   "table",  "math",     "utf8",
    };
    copy_fields(L, g, base, safe, ARRAY_LEN(safe));

    lua_pushcfunction(L, l_setmetatable);
    lua_setfield(L, base, "setmetatable");
    lua_pushcfunction(L, l_print);
    lua_setfield(L, base, "print");

    lua_newtable(L);
    lua_getfield(L, g, "os");
    static const char *const os_safe[] = {"time", "date", "clock", "getenv"};
    copy_fields(L, lua_gettop(L), lua_gettop(L) - 1, os_safe,
                ARRAY_LEN(os_safe));
    lua_pop(L, 1);
    lua_setfield(L, base, "os");

    lua_newtable(L);
    lua_pushcfunction(L, l_opml);
    lua_setfield(L, -2, "opml");
    lua_pushcfunction(L, l_glob);
    lua_setfield(L, -2, "glob");
    lua_pushstring(L, VIGIE_VERSION);
    lua_setfield(L, -2, "version");
    lua_setfield(L, base, "vigie");

    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_base);
    return 0;
}

lua_State *
csb_open(config_sandbox *sb, size_t mem_limit)
{
    sb->used = 0;
    sb->limit = mem_limit;
    lua_State *L = lua_newstate(csb_alloc, sb);
    if (!L) return NULL;
    lua_atpanic(L, csb_panic);
    lua_pushcfunction(L, csb_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}

/* Under pcall: the settings table, the lines table and the chunk's _ENV. */
static int
make_env(lua_State *L)
{
    lua_newtable(L); /* settings */
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_settings);
    lua_newtable(L); /* lines */
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_lines);

    lua_newtable(L); /* _ENV */
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, -4);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_base);
    lua_pushcclosure(L, env_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -4);
    lua_pushvalue(L, -4);
    lua_pushcclosure(L, env_newindex, 2);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    return 1;
}

int
csb_load_config(lua_State *L, const char *src, size_t len)
{
    int st = luaL_loadbufferx(L, src, len, "=" CSB_CHUNK, "t");
    if (st != LUA_OK) return st;
    lua_pushcfunction(L, make_env);
    st = lua_pcall(L, 0, 1, 0);
    if (st != LUA_OK) {
        lua_remove(L, -2);
        return st;
    }
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1); /* no _ENV: no globals */
    return LUA_OK;
}

void
csb_push_settings(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_settings);
}

void
csb_push_lines(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_lines);
}

void
csb_message(const config_sandbox *sb, int status, const char *msg,
            const char *marker, const char *path, char *err, size_t errlen)
{
    size_t mlen = strlen(marker);
    if (sb && sb->hit_steps) {
        if (sb->steps_line > 0)
            snprintf(err, errlen,
                     "%s:%d: ran more than %lld Lua instructions (an endless "
                     "loop?)",
                     path, sb->steps_line, (long long)sb->step_limit);
        else
            snprintf(err, errlen,
                     "%s: ran more than %lld Lua instructions (an endless "
                     "loop?)",
                     path, (long long)sb->step_limit);
        return;
    }
    if (status == LUA_ERRMEM ||
        (sb && sb->hit_mem && msg && !strcmp(msg, "not enough memory"))) {
        snprintf(err, errlen, "%s: needs more than %zu MiB of memory", path,
                 sb ? sb->limit >> 20 : (size_t)0);
        return;
    }
    if (!msg) msg = "error object is not a string";
    if (!strncmp(msg, marker, mlen) && msg[mlen] == ':')
        snprintf(err, errlen, "%s%s", path, msg + mlen);
    else
        snprintf(err, errlen, "%s: %s", path, msg);
}

int
csb_compile_file(const char *path, char *err, size_t errlen)
{
    buf src = {0};
    if (read_file(path, SCRIPT_MAX_BYTES, &src) < 0) {
        int e = errno;
        buf_free(&src);
        snprintf(err, errlen, "%s: %s", path,
                 e == EFBIG ? "larger than 16 MiB" : strerror(e));
        return -1;
    }
    config_sandbox sb = {0};
    lua_State *L = csb_open(&sb, CONFIG_MEMORY_LIMIT);
    if (!L) {
        buf_free(&src);
        snprintf(err, errlen, "%s: cannot create a Lua state", path);
        return -1;
    }
    int st = luaL_loadbufferx(L, src.p, src.len, "=script", "t");
    int rc = 0;
    if (st != LUA_OK) {
        csb_message(&sb, st, lua_tostring(L, -1), "script", path, err, errlen);
        rc = -1;
    }
    lua_close(L);
    buf_free(&src);
    return rc;
}
