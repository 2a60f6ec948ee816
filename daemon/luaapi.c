/* luaapi.c — see luaapi.h.
 *
 * Every function finds its context (the script's luaapi_ctx) in upvalue 1.
 * Anything C allocates while Lua may raise lives either in Lua (userdata)
 * or in the context (scratch buffers), so a Lua error never leaks it. */
#include "luaapi.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "date.h"
#include "feed.h"
#include "fold.h"
#include "jsonw.h"
#include "log.h"
#include "match.h"
#include "script.h"
#include "utf8.h"

#define MATCHER_MT "vigie.matcher"
/* The metatable that marks a table as a JSON array: an empty Lua table is
 * otherwise an object, {}, and a list field would change type with its
 * length. Lists vigie makes (match results, item.categories...) have it. */
#define ARRAY_MT "vigie.array"
#define MAX_KEYWORDS 100000
#define MAX_KEYWORD_LEN 1024
/* m:find lists every hit up to this many; past it, only the first hit of
 * each keyword not listed yet, so that no keyword m:match finds is missing
 * (at most MAX_HITS + the number of keywords in all). */
#define MAX_HITS 65536
#define JSON_MAX_DEPTH 32
#define SCRATCH_KEEP ((size_t)1 << 20)

static luaapi_ctx *
ctx_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Appends s[0..n) to b as valid UTF-8 (invalid bytes become U+FFFD),
 * cut to at most max bytes at a character boundary. */
static void
add_utf8(buf *b, const char *s, size_t n, size_t max)
{
    size_t start = b->len;
    if (utf8_valid(s, n))
        buf_add(b, s, n);
    else
        utf8_repair(b, s, n);
    if (b->len - start > max) {
        size_t cut = start + max;
        while (cut > start && ((unsigned char)b->p[cut] & 0xC0) == 0x80)
            cut--;
        b->len = cut;
        b->p[cut] = '\0';
    }
    if (!b->p) buf_grow(b, 0);
}

/* ---- matchers --------------------------------------------------------- */

/* Bytes the C heap holds now; 0 where that cannot be known (then a
 * generous estimate is charged instead). */
static size_t
heap_in_use(void)
{
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
#endif
    return 0;
}

typedef struct lmatcher {
    matcher *m;
    size_t n;
    uint32_t *ids; /* n slots for matcher_match */
    match_hit *hits;
    size_t nhits, caphits;
    uint64_t *listed; /* past MAX_HITS: one bit per keyword in hits */
    bool cut;         /* a hit was left out */
    size_t charge;    /* bytes charged to the state's memory count */
    luaapi_ctx *ctx;
} lmatcher;

static lmatcher *
check_matcher(lua_State *L)
{
    lmatcher *lm = luaL_checkudata(L, 1, MATCHER_MT);
    if (!lm->m) luaL_error(L, "matcher: already freed");
    return lm;
}

static int
matcher_gc(lua_State *L)
{
    lmatcher *lm = luaL_checkudata(L, 1, MATCHER_MT);
    if (lm->m) {
        matcher_free(lm->m);
        lm->m = NULL;
    }
    free(lm->ids);
    free(lm->hits);
    free(lm->listed);
    lm->ids = NULL;
    lm->hits = NULL;
    lm->listed = NULL;
    if (lm->ctx && lm->ctx->mem_used) *lm->ctx->mem_used -= lm->charge;
    lm->charge = 0;
    return 0;
}

static int
matcher_tostring(lua_State *L)
{
    lmatcher *lm = luaL_checkudata(L, 1, MATCHER_MT);
    lua_pushfstring(L, "vigie.matcher (%d keywords)", (int)lm->n);
    return 1;
}

/* vigie.keywords{Kosovo = true} would compile an empty matcher and never
 * match: a key that is not a list index is an error, naming it. */
static void
refuse_non_list(lua_State *L, lua_Integer n)
{
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
            lua_tointeger(L, -1) <= n)
            continue;
        if (lua_type(L, -1) == LUA_TSTRING) {
            /* (a key past 40 bytes is shown cut: the message is a hint;
             * lua_pushfstring has no precision, snprintf does) */
            char k[41];
            snprintf(k, sizeof k, "%s", lua_tostring(L, -1));
            luaL_error(L,
                       "vigie.keywords: takes a list of strings, found the "
                       "key \"%s\" (write {\"%s\", ...}, not {%s = ...})",
                       k, k, k);
        }
        luaL_error(L,
                   "vigie.keywords: takes a list of strings (1 to n without "
                   "holes), found a %s key",
                   luaL_typename(L, -1));
    }
}

static int
l_keywords(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 0 || n > MAX_KEYWORDS)
        return luaL_error(L, "vigie.keywords: %d keywords (limit %d)", (int)n,
                          MAX_KEYWORDS);
    /* The keywords as written, kept as the matcher's user value so that
     * m:match returns the very strings the script gave. */
    lua_createtable(L, (int)n, 0);
    int list = lua_gettop(L);
    const char **kw = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *kw, 0);
    size_t total = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
            return luaL_error(L,
                              "vigie.keywords: keyword %d is a %s, not a "
                              "string",
                              (int)i, luaL_typename(L, -1));
        size_t len;
        kw[i - 1] = lua_tolstring(L, -1, &len);
        if (len == 0 || len > MAX_KEYWORD_LEN)
            return luaL_error(L,
                              "vigie.keywords: keyword %d is %s (1 to %d "
                              "bytes)",
                              (int)i, len ? "too long" : "empty",
                              MAX_KEYWORD_LEN);
        if (!utf8_valid(kw[i - 1], len))
            return luaL_error(L,
                              "vigie.keywords: keyword %d is not valid "
                              "UTF-8",
                              (int)i);
        total += len;
        lua_rawseti(L, list, i);
    }
    refuse_non_list(L, n);
    /* The automaton lives outside Lua's allocator, so it is charged to the
     * state by hand: refuse early what cannot fit (it takes 10 to 60
     * bytes per keyword byte), then charge what it really took. */
    /* Lua's collector does not see that memory either: matchers dropped
     * by the script are only freed (and uncharged) by a collection, which
     * is Lua's to decide unless we ask before refusing. */
    if (*c->mem_used + 4096 + total * 8 > c->mem_limit) lua_gc(L, LUA_GCCOLLECT);
    if (*c->mem_used + 4096 + total * 8 > c->mem_limit)
        return luaL_error(L, "vigie.keywords: memory limit exceeded (%d MiB)",
                          (int)(c->mem_limit >> 20));
    lmatcher *lm = lua_newuserdatauv(L, sizeof *lm, 1);
    memset(lm, 0, sizeof *lm);
    lm->ctx = c;
    luaL_setmetatable(L, MATCHER_MT);
    char err[256] = "";
    size_t before = heap_in_use();
    lm->m = matcher_new(kw, (size_t)n, err, sizeof err);
    size_t after = heap_in_use();
    if (!lm->m)
        return luaL_error(L, "vigie.keywords: %s", err[0] ? err : "invalid");
    lm->n = (size_t)n;
    lm->ids = xmalloc((lm->n ? lm->n : 1) * sizeof *lm->ids);
    size_t charge = after > before ? after - before : 4096 + total * 64;
    charge += lm->n * sizeof *lm->ids;
    lm->charge = charge;
    *c->mem_used += charge;
    if (*c->mem_used > c->mem_limit) lua_gc(L, LUA_GCCOLLECT);
    if (*c->mem_used > c->mem_limit)
        return luaL_error(L, "vigie.keywords: memory limit exceeded (%d MiB)",
                          (int)(c->mem_limit >> 20));
    lua_pushvalue(L, list);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* Marks the table on top of the stack as a list. */
static void
mark_array(lua_State *L)
{
    luaL_setmetatable(L, ARRAY_MT);
}

static bool
is_marked_array(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx)) return false;
    luaL_getmetatable(L, ARRAY_MT);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* vigie.array([t]): t (or a new table) marked as a list, so that it is
 * written [] when empty. */
static int
l_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        if (lua_getmetatable(L, 1)) {
            bool ours = is_marked_array(L, 1);
            lua_pop(L, 1);
            if (!ours) return luaL_error(L, "vigie.array: the table has a metatable already");
        }
    }
    mark_array(L);
    return 1;
}

static int
m_match(lua_State *L)
{
    lmatcher *lm = check_matcher(L);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    size_t k = lm->n ? matcher_match(lm->m, text, len, lm->ids, lm->n) : 0;
    if (k > lm->n) k = lm->n;
    lua_getiuservalue(L, 1, 1);
    lua_createtable(L, (int)k, 0);
    mark_array(L);
    for (size_t i = 0; i < k; i++) {
        if (lm->ids[i] >= lm->n) continue;
        lua_rawgeti(L, -2, (lua_Integer)lm->ids[i] + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* Past MAX_HITS: whether keyword kw is listed already (and now it is). */
static bool
listed_before(lmatcher *lm, uint32_t kw)
{
    if (!lm->listed) {
        lm->listed = xcalloc((lm->n + 63) / 64, sizeof *lm->listed);
        for (size_t i = 0; i < lm->nhits; i++)
            lm->listed[lm->hits[i].keyword / 64] |=
                (uint64_t)1 << (lm->hits[i].keyword % 64);
    }
    uint64_t bit = (uint64_t)1 << (kw % 64);
    bool was = lm->listed[kw / 64] & bit;
    lm->listed[kw / 64] |= bit;
    return was;
}

static int
collect_hit(void *ud, const match_hit *h)
{
    lmatcher *lm = ud;
    if (h->keyword >= lm->n) return 0;
    if (lm->nhits >= MAX_HITS && listed_before(lm, h->keyword)) {
        lm->cut = true;
        return 0;
    }
    if (lm->nhits == lm->caphits) {
        size_t cap = lm->caphits ? lm->caphits * 2 : 64;
        lm->hits = xrealloc(lm->hits, cap * sizeof *lm->hits);
        lm->caphits = cap;
    }
    lm->hits[lm->nhits++] = *h;
    return 0;
}

static int
m_find(lua_State *L)
{
    lmatcher *lm = check_matcher(L);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    lm->nhits = 0;
    lm->cut = false;
    if (lm->n) matcher_scan(lm->m, text, len, collect_hit, lm);
    free(lm->listed);
    lm->listed = NULL;
    lua_getiuservalue(L, 1, 1);
    int list = lua_gettop(L);
    lua_createtable(L, (int)lm->nhits, 0);
    mark_array(L);
    lua_Integer out = 0;
    for (size_t i = 0; i < lm->nhits; i++) {
        const match_hit *h = &lm->hits[i];
        if (h->keyword >= lm->n || h->start >= h->stop || h->stop > len)
            continue;
        lua_createtable(L, 0, 3);
        lua_rawgeti(L, list, (lua_Integer)h->keyword + 1);
        lua_setfield(L, -2, "keyword");
        lua_pushinteger(L, (lua_Integer)h->start + 1);
        lua_setfield(L, -2, "start");
        lua_pushinteger(L, (lua_Integer)h->stop);
        lua_setfield(L, -2, "stop");
        lua_rawseti(L, -2, ++out);
    }
    if (lm->caphits > 4096) {
        free(lm->hits);
        lm->hits = NULL;
        lm->caphits = 0;
    }
    lm->nhits = 0;
    if (!lm->cut) return 1;
    lua_pushboolean(L, 1); /* hits were left out */
    return 2;
}

static int
m_count(lua_State *L)
{
    lmatcher *lm = check_matcher(L);
    lua_pushinteger(L, (lua_Integer)lm->n);
    return 1;
}

/* ---- fold, log, print ------------------------------------------------- */

static void
scratch_trim(buf *b)
{
    if (b->cap > SCRATCH_KEEP)
        buf_free(b);
    else
        buf_reset(b);
}

static int
l_fold(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    buf_reset(&c->scratch);
    fold_text(&c->scratch, s, len, NULL);
    lua_pushlstring(L, c->scratch.p ? c->scratch.p : "", c->scratch.len);
    scratch_trim(&c->scratch);
    return 1;
}

static void
record_log(luaapi_ctx *c, int level, const char *msg, size_t len)
{
    if (!c->out) return;
    if (c->nlogs >= ACTION_MAX_LOGS_PER_CALL) {
        c->dropped_logs++;
        return;
    }
    c->nlogs++;
    buf_reset(&c->scratch);
    add_utf8(&c->scratch, msg, len, ACTION_MAX_MESSAGE);
    action_log(c->out, c->script, c->item, c->item_id, level, c->scratch.p);
    scratch_trim(&c->scratch);
}

static int
l_log(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    const char *lname = luaL_checkstring(L, 1);
    int level = log_level_from_name(lname);
    if (level < LOG_ERR || level > LOG_DEBUG)
        return luaL_error(L,
                          "vigie.log: unknown level '%s' (debug, info, "
                          "notice, warning or error)",
                          lname);
    luaL_checkany(L, 2);
    size_t len;
    const char *msg;
    if (lua_gettop(L) <= 2) {
        /* No arguments: the text is used as is, so a '%' in a title does
         * not turn a log line into an error. */
        msg = luaL_tolstring(L, 2, &len);
    } else {
        lua_pushvalue(L, lua_upvalueindex(2)); /* string.format */
        lua_rotate(L, 2, 1);
        lua_call(L, lua_gettop(L) - 2, 1);
        msg = luaL_tolstring(L, -1, &len);
    }
    record_log(c, level, msg, len);
    return 0;
}

static int
l_print(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    record_log(c, LOG_INFO, msg, len);
    return 0;
}

/* ---- store and alert -------------------------------------------------- */

static void
need_item(lua_State *L, luaapi_ctx *c, const char *fn)
{
    if (!c->out || c->item < 0)
        luaL_error(L, "%s: only allowed inside on_item(item)", fn);
}

static void
count_action(lua_State *L, luaapi_ctx *c, const char *fn, size_t bytes)
{
    if (c->nactions >= ACTION_MAX_PER_CALL)
        luaL_error(L, "%s: too many alerts and stores for one item (limit %d)",
                   fn, ACTION_MAX_PER_CALL);
    if (c->bytes + bytes > ACTION_MAX_CALL_BYTES)
        luaL_error(L, "%s: too much output for one item (limit %d MiB)", fn,
                   (int)(ACTION_MAX_CALL_BYTES >> 20));
    c->nactions++;
    c->bytes += bytes;
}

static int
l_store(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    need_item(L, c, "vigie.store");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "id");
    const char *id = lua_tostring(L, -1);
    if (!id || strcmp(id, c->item_id))
        return luaL_error(L, "vigie.store: not the item being processed "
                             "(pass the item given to on_item)");
    lua_pop(L, 1);
    int tags = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            const char *k =
                lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            if (!k || strcmp(k, "tags"))
                return luaL_error(L,
                                  "vigie.store: unknown option '%s' (only "
                                  "tags)",
                                  k ? k : luaL_typename(L, -2));
            lua_pop(L, 1);
        }
        lua_getfield(L, 2, "tags");
        tags = lua_gettop(L);
        if (lua_isnil(L, tags)) {
            tags = 0;
        } else if (lua_type(L, tags) == LUA_TSTRING) {
            /* one tag: wrap it */
            lua_createtable(L, 1, 0);
            lua_pushvalue(L, tags);
            lua_rawseti(L, -2, 1);
            lua_replace(L, tags);
        } else if (!lua_istable(L, tags)) {
            return luaL_error(L, "vigie.store: tags must be a list of strings");
        }
    }
    size_t off[ACTION_MAX_TAGS];
    size_t ntags = 0;
    buf_reset(&c->scratch);
    lua_Integer n = tags ? (lua_Integer)lua_rawlen(L, tags) : 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, tags, i);
        if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
            return luaL_error(L, "vigie.store: tag %d is a %s, not a string",
                              (int)i, luaL_typename(L, -1));
        size_t len;
        const char *t = lua_tolstring(L, -1, &len);
        if (len == 0 || len > ACTION_MAX_TAG)
            return luaL_error(L, "vigie.store: tag %d is %s (1 to %d bytes)",
                              (int)i, len ? "too long" : "empty",
                              ACTION_MAX_TAG);
        size_t start = c->scratch.len;
        add_utf8(&c->scratch, t, len, ACTION_MAX_TAG);
        buf_addc(&c->scratch, '\0');
        lua_pop(L, 1);
        /* the same tag twice is stored once */
        bool dup = false;
        for (size_t j = 0; j < ntags && !dup; j++)
            dup = !strcmp(c->scratch.p + off[j], c->scratch.p + start);
        if (dup) {
            c->scratch.len = start;
            continue;
        }
        if (ntags == ACTION_MAX_TAGS)
            return luaL_error(L, "vigie.store: too many tags (limit %d)",
                              ACTION_MAX_TAGS);
        off[ntags++] = start;
    }
    count_action(L, c, "vigie.store", c->scratch.len + 64);
    const char *tv[ACTION_MAX_TAGS];
    for (size_t i = 0; i < ntags; i++)
        tv[i] = c->scratch.p + off[i];
    action_store(c->out, c->script, c->item, c->item_id, tv, ntags);
    scratch_trim(&c->scratch);
    return 0;
}

/* JSON from Lua values, into c->scratch. Objects get their keys sorted so
 * the same payload always gives the same bytes. */
typedef struct jkey {
    const char *s;
    size_t len;
    lua_Integer idx;
} jkey;

static int
jkey_cmp(const void *a, const void *b)
{
    const jkey *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, n);
    if (r) return r;
    return (x->len > y->len) - (x->len < y->len);
}

static void json_value(lua_State *L, luaapi_ctx *c, int idx, int depth,
                       const char *field);

/* What JSON will say of s[0..n): invalid bytes and NULs (which JSON
 * readers refuse as \u0000) as U+FFFD, so that what reaches a webhook is
 * always clean text. False, out untouched, when s is clean already. */
static bool
clean_text(buf *out, const char *s, size_t n)
{
    if (utf8_valid(s, n) && !memchr(s, '\0', n)) return false;
    buf tmp = {0};
    utf8_repair(&tmp, s, n);
    for (size_t i = 0; i < tmp.len; i++) {
        if (tmp.p[i])
            buf_addc(out, tmp.p[i]);
        else
            buf_adds(out, "\xef\xbf\xbd");
    }
    buf_free(&tmp);
    return true;
}

static void
json_string(luaapi_ctx *c, const char *s, size_t n)
{
    buf clean = {0};
    if (clean_text(&clean, s, n))
        json_escape(&c->scratch, clean.p ? clean.p : "", clean.len);
    else
        json_escape(&c->scratch, s, n);
    buf_free(&clean);
}

/* Replaces the key string on top of the stack with what JSON will say. */
static void
clean_key(lua_State *L)
{
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    buf clean = {0};
    if (!clean_text(&clean, s, n)) return;
    lua_pushlstring(L, clean.p ? clean.p : "", clean.len);
    buf_free(&clean);
    lua_remove(L, -2);
}

static void
json_check_size(lua_State *L, luaapi_ctx *c)
{
    if (c->scratch.len > ACTION_MAX_PAYLOAD)
        luaL_error(L, "vigie.alert: payload too large (limit %d KiB)",
                   (int)(ACTION_MAX_PAYLOAD >> 10));
}

static void
json_number(lua_State *L, luaapi_ctx *c, int idx, const char *field)
{
    if (lua_isinteger(L, idx)) {
        buf_printf(&c->scratch, "%lld", (long long)lua_tointeger(L, idx));
        return;
    }
    double d = lua_tonumber(L, idx);
    if (!isfinite(d))
        luaL_error(L, "vigie.alert: payload field '%s' is not a finite number",
                   field);
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.14g", d);
    if (strtod(tmp, NULL) != d) snprintf(tmp, sizeof tmp, "%.17g", d);
    buf_adds(&c->scratch, tmp);
}

static void
json_table(lua_State *L, luaapi_ctx *c, int idx, int depth)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_Integer count = 0;
    bool seq = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            lua_tointeger(L, -1) > n)
            seq = false;
    }
    if (count == 0 && is_marked_array(L, idx)) {
        buf_adds(&c->scratch, "[]");
        return;
    }
    if (n > 0 && seq && count == n) {
        buf_addc(&c->scratch, '[');
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) buf_addc(&c->scratch, ',');
            lua_rawgeti(L, idx, i);
            json_value(L, c, lua_gettop(L), depth + 1, "[]");
            lua_pop(L, 1);
        }
        buf_addc(&c->scratch, ']');
        return;
    }
    /* An object: key strings go into a Lua table (which anchors them), the
     * values into another, both indexed alike; then sort and write. */
    lua_createtable(L, (int)count, 0);
    int names = lua_gettop(L);
    lua_createtable(L, (int)count, 0);
    int values = lua_gettop(L);
    jkey *keys =
        lua_newuserdatauv(L, (size_t)(count ? count : 1) * sizeof *keys, 0);
    lua_Integer k = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        k++;
        lua_rawseti(L, values, k);
        switch (lua_type(L, -1)) {
        case LUA_TSTRING:
            lua_pushvalue(L, -1);
            break;
        case LUA_TNUMBER:
            if (lua_isinteger(L, -1))
                lua_pushfstring(L, "%I", lua_tointeger(L, -1));
            else
                lua_pushfstring(L, "%f", lua_tonumber(L, -1));
            break;
        default:
            luaL_error(L,
                       "vigie.alert: payload has a %s key (keys must be "
                       "strings or numbers)",
                       luaL_typename(L, -1));
        }
        clean_key(L);
        keys[k - 1].s = lua_tolstring(L, -1, &keys[k - 1].len);
        keys[k - 1].idx = k;
        lua_rawseti(L, names, k);
    }
    qsort(keys, (size_t)k, sizeof *keys, jkey_cmp);
    /* Keys that differ in Lua but read the same in JSON (1.5 and "1.5";
     * two invalid bytes, both U+FFFD): a reader would keep one of them. */
    for (lua_Integer i = 1; i < k; i++)
        if (jkey_cmp(&keys[i - 1], &keys[i]) == 0)
            luaL_error(L, "vigie.alert: payload has two keys written \"%s\"",
                       keys[i].s);
    buf_addc(&c->scratch, '{');
    for (lua_Integer i = 0; i < k; i++) {
        if (i) buf_addc(&c->scratch, ',');
        json_escape(&c->scratch, keys[i].s, keys[i].len);
        buf_addc(&c->scratch, ':');
        lua_rawgeti(L, values, keys[i].idx);
        json_value(L, c, lua_gettop(L), depth + 1, keys[i].s);
        lua_pop(L, 1);
    }
    buf_addc(&c->scratch, '}');
    lua_pop(L, 3);
}

static void
json_value(lua_State *L, luaapi_ctx *c, int idx, int depth, const char *field)
{
    if (depth > JSON_MAX_DEPTH)
        luaL_error(L,
                   "vigie.alert: payload nested deeper than %d levels (or "
                   "a table contains itself)",
                   JSON_MAX_DEPTH);
    luaL_checkstack(L, 8, "payload");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        buf_adds(&c->scratch, "null");
        break;
    case LUA_TBOOLEAN:
        buf_adds(&c->scratch, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        json_number(L, c, idx, field);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        json_string(c, s, n);
        break;
    }
    case LUA_TTABLE:
        json_table(L, c, idx, depth);
        break;
    default:
        luaL_error(L,
                   "vigie.alert: payload field '%s' is a %s (only tables, "
                   "strings, numbers and booleans become JSON)",
                   field, luaL_typename(L, idx));
    }
    json_check_size(L, c);
}

static int
l_alert(lua_State *L)
{
    luaapi_ctx *c = ctx_of(L);
    need_item(L, c, "vigie.alert");
    size_t tlen;
    const char *target = luaL_checklstring(L, 1, &tlen);
    if (!action_target_valid(target, tlen))
        return luaL_error(L,
                          "vigie.alert: '%s' cannot name a webhook (1 to %d "
                          "letters, digits, '_', '-' or '.')",
                          target, ACTION_MAX_TARGET);
    buf_reset(&c->scratch);
    switch (lua_type(L, 2)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, 2, &n);
        buf_adds(&c->scratch, "{\"text\":");
        json_string(c, s, n);
        buf_addc(&c->scratch, '}');
        json_check_size(L, c);
        break;
    }
    case LUA_TTABLE: {
        lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
        if (n > 0)
            return luaL_error(L, "vigie.alert: payload must be a table with "
                                 "named fields, not a list");
        json_value(L, c, 2, 0, "payload");
        break;
    }
    default:
        return luaL_error(L,
                          "vigie.alert: payload must be a table or a "
                          "string, not a %s",
                          luaL_typename(L, 2));
    }
    count_action(L, c, "vigie.alert", c->scratch.len + tlen);
    action_alert(c->out, c->script, c->item, c->item_id, target, c->scratch.p,
                 c->scratch.len);
    scratch_trim(&c->scratch);
    return 0;
}

/* ---- items ------------------------------------------------------------ */

static void
set_str(lua_State *L, const char *key, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

static void
set_date(lua_State *L, const char *key, const char *key_ts, int64_t t)
{
    if (t == DATE_NONE) return;
    char tmp[DATE_RFC3339_LEN];
    date_format_rfc3339(t, tmp);
    lua_pushstring(L, tmp);
    lua_setfield(L, -2, key);
    lua_pushinteger(L, (lua_Integer)t);
    lua_setfield(L, -2, key_ts);
}

void
luaapi_push_feed(lua_State *L, const rule_feed *f)
{
    lua_createtable(L, 0, 9);
    set_str(L, "title", f->title);
    set_str(L, "link", f->link);
    set_str(L, "subtitle", f->subtitle);
    set_str(L, "language", f->language);
    set_str(L, "author", f->author ? f->author : ""); /* "" like the rest */
    set_date(L, "updated", "updated_ts", f->updated);
    set_str(L, "url", f->url);
    set_str(L, "name", f->name);
}

void
luaapi_push_item(lua_State *L, const feed_item *it, int feed_idx)
{
    lua_createtable(L, 0, 14);
    set_str(L, "id", it->id);
    set_str(L, "title", it->title);
    set_str(L, "link", it->link);
    set_str(L, "summary", it->summary);
    set_str(L, "content", it->content);
    set_str(L, "author", it->author);
    lua_createtable(L, (int)it->ncategories, 0);
    mark_array(L);
    for (size_t i = 0; i < it->ncategories; i++) {
        lua_pushstring(L, it->categories[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "categories");
    set_date(L, "published", "published_ts", it->published);
    set_date(L, "updated", "updated_ts", it->updated);
    lua_createtable(L, (int)it->nenclosures, 0);
    mark_array(L);
    for (size_t i = 0; i < it->nenclosures; i++) {
        const feed_enclosure *e = &it->enclosures[i];
        lua_createtable(L, 0, 3);
        set_str(L, "url", e->url);
        set_str(L, "type", e->type);
        lua_pushinteger(L, (lua_Integer)e->length);
        lua_setfield(L, -2, "length");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "enclosures");
    lua_pushvalue(L, feed_idx);
    lua_setfield(L, -2, "feed");
}

/* ---- set-up ----------------------------------------------------------- */

void
luaapi_open(lua_State *L, luaapi_ctx *c)
{
    static const luaL_Reg methods[] = {
        {"match", m_match},
        {"find", m_find},
        {"count", m_count},
        {NULL, NULL},
    };
    luaL_newmetatable(L, MATCHER_MT);
    lua_createtable(L, 0, ARRAY_LEN(methods) - 1);
    lua_pushlightuserdata(L, c);
    luaL_setfuncs(L, methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, c);
    lua_pushcclosure(L, matcher_gc, 1);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, matcher_tostring);
    lua_setfield(L, -2, "__tostring");
    /* getmetatable(m) gives this string, not the table: a script cannot
     * swap __gc for a looping finalizer. */
    lua_pushliteral(L, MATCHER_MT);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    /* Protected the same way: scripts cannot give lists a finalizer. */
    luaL_newmetatable(L, ARRAY_MT);
    lua_pushliteral(L, ARRAY_MT);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    static const luaL_Reg funcs[] = {
        {"keywords", l_keywords}, {"fold", l_fold}, {"store", l_store},
        {"alert", l_alert},       {"array", l_array}, {NULL, NULL},
    };
    lua_createtable(L, 0, ARRAY_LEN(funcs));
    lua_pushlightuserdata(L, c);
    luaL_setfuncs(L, funcs, 1);
    lua_pushlightuserdata(L, c);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_remove(L, -2);
    lua_pushcclosure(L, l_log, 2);
    lua_setfield(L, -2, "log");
    lua_setglobal(L, "vigie");

    lua_pushlightuserdata(L, c);
    lua_pushcclosure(L, l_print, 1);
    lua_setglobal(L, "print");
}

void
luaapi_close(luaapi_ctx *c)
{
    buf_free(&c->scratch);
}

void
luaapi_begin(luaapi_ctx *c, action_list *out, int32_t item, const char *item_id)
{
    c->out = out;
    c->item = item;
    c->item_id = item_id;
    c->mark = out ? out->len : 0;
    c->nactions = c->nlogs = c->dropped_logs = c->bytes = 0;
}

void
luaapi_end(luaapi_ctx *c, bool failed)
{
    action_list *out = c->out;
    if (out && failed) {
        size_t w = c->mark;
        for (size_t r = c->mark; r < out->len; r++)
            if (out->v[r].kind == ACTION_LOG) out->v[w++] = out->v[r];
        action_list_truncate(out, w);
    }
    if (out && c->dropped_logs) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "%zu more log lines from this call were dropped (limit %d)",
                 c->dropped_logs, ACTION_MAX_LOGS_PER_CALL);
        action_log(out, c->script, c->item, c->item_id, LOG_WARNING, msg);
    }
    c->out = NULL;
    c->item = -1;
    c->item_id = NULL;
    scratch_trim(&c->scratch);
}
