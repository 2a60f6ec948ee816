/* test_script.c — the Lua runtime in-process: sandbox, budgets, errors and
 * the vigie module (script.c, luaapi.c, actions.c).
 *
 * Each sandbox case is a script that must fail cleanly on one item while
 * the next item still runs in the same state. What a count hook cannot
 * stop (a C function that never returns) is tested in test_worker.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "actions.h"
#include "date.h"
#include "feed.h"
#include "log.h"
#include "script.h"

static const char *cats[] = {"Politique", "Balkans"};
static feed_enclosure encl[] = {{"https://ex.org/a.mp3", "audio/mpeg", 1234}};

static feed_item
make_item(const char *id, const char *title)
{
    feed_item it = {0};
    it.id = id;
    it.title = title;
    it.link = "https://ex.org/item";
    it.summary = "summary text";
    it.content = "<p>content</p>";
    it.author = "";
    it.categories = cats;
    it.ncategories = 2;
    it.published = 1724419620; /* 2024-08-23T13:27:00Z */
    it.updated = DATE_NONE;
    it.enclosures = encl;
    it.nenclosures = 1;
    return it;
}

static const rule_feed test_feed = {
    .title = "NATO news",
    .link = "https://www.nato.int/",
    .subtitle = "",
    .language = "fr",
    .author = NULL,
    .updated = DATE_NONE,
    .url = "https://www.nato.int/rss.xml",
    .name = "nato",
};

static script_limits
small_limits(void)
{
    script_limits l;
    script_limits_default(&l);
    l.call_ms = 200;
    l.load_ms = 300;
    l.mem = 16u << 20;
    return l;
}

static script *
load_ok(const char *src, action_list *out)
{
    char err[1024] = "";
    script_limits l = small_limits();
    script *s =
        script_load("t.lua", src, strlen(src), &l, out, err, sizeof err);
    if (!s) fail_msg("load failed: %s", err);
    script_set_feed(s, &test_feed);
    return s;
}

static void
load_fails(const char *src, const char *want)
{
    char err[1024] = "";
    script_limits l = small_limits();
    script *s =
        script_load("t.lua", src, strlen(src), &l, NULL, err, sizeof err);
    if (s) {
        script_free(s);
        fail_msg("script loaded, expected an error containing '%s'", want);
    }
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
}

/* Runs item "1" (which must fail with `want` in its message) and then
 * item "2" (which must succeed and store). */
static void
fails_then_next_runs(const char *src, const char *want)
{
    action_list out;
    action_list_init(&out);
    script *s = load_ok(src, &out);
    action_list_clear(&out);
    feed_item bad = make_item("1", "bad"), good = make_item("2", "good");
    assert_int_equal(script_on_item(s, &bad, 0, &out), -1);
    assert_true(out.len >= 1);
    const action *e = &out.v[out.len - 1];
    assert_int_equal(e->kind, ACTION_ERROR);
    assert_string_equal(e->item_id, "1");
    assert_string_equal(e->script, "t.lua");
    if (!strstr(e->message, want))
        fail_msg("message '%s' lacks '%s'", e->message, want);
    for (size_t i = 0; i < out.len; i++)
        assert_int_not_equal(out.v[i].kind, ACTION_STORE);
    action_list_clear(&out);
    assert_int_equal(script_on_item(s, &good, 1, &out), 0);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.v[0].kind, ACTION_STORE);
    assert_string_equal(out.v[0].item_id, "2");
    assert_int_equal(out.v[0].item, 1);
    script_free(s);
    action_list_free(&out);
}

/* Runs item "1" through src, which must succeed with one action: its
 * store. */
static void
runs_and_stores(const char *src)
{
    action_list out;
    action_list_init(&out);
    script *s = load_ok(src, &out);
    feed_item it = make_item("1", "one");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.v[0].kind, ACTION_STORE);
    script_free(s);
    action_list_free(&out);
}

/* The bad part runs only for item "1"; every item is stored otherwise. */
#define SANDBOX(body)                                                          \
    "function on_item(item)\n"                                                 \
    "  if item.id == '1' then\n" body "\n  end\n"                              \
    "  vigie.store(item)\n"                                                    \
    "end\n"

static void
test_io_open(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("io.open('/etc/passwd')"),
                         "t.lua:3: attempt to index a nil value (global 'io')");
}

static void
test_os_execute(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("os.execute('id')"),
                         "attempt to call a nil value (field 'execute')");
}

static void
test_require_os(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("local os = require 'os'"),
                         "require: module 'os' is not available");
}

static void
test_load_dump(void **state)
{
    UNUSED(state);
    fails_then_next_runs(
        SANDBOX("local f = load(string.dump(function() return 1 end))"),
        "attempt to call a nil value (field 'dump')");
    /* bytecode handed to load directly is refused too */
    fails_then_next_runs(SANDBOX("assert(load('\\27Lua\\84\\0', 'x', 'b'))"),
                         "attempt to load a binary chunk");
}

static void
test_debug_getregistry(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("debug.getregistry()"), "(global 'debug')");
}

static void
test_dofile_loadfile(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("dofile('/etc/passwd')"), "global 'dofile'");
    fails_then_next_runs(SANDBOX("loadfile('/etc/passwd')"),
                         "global 'loadfile'");
    fails_then_next_runs(SANDBOX("collectgarbage('stop')"),
                         "option 'stop' is not allowed");
    fails_then_next_runs(SANDBOX("package.loadlib('x', 'y')"),
                         "global 'package'");
}

static void
test_infinite_loop(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("while true do end"),
                         "t.lua:3: time budget exceeded (200 ms)");
}

static void
test_infinite_loop_in_pcall(void **state)
{
    UNUSED(state);
    fails_then_next_runs(
        SANDBOX("while true do pcall(function() while true do end end) end"),
        "time budget exceeded (200 ms)");
    /* an error handler that swallows the timeout does not help either */
    fails_then_next_runs(SANDBOX("for i = 1, 1e9 do\n"
                                 "  xpcall(function() while true do end end,\n"
                                 "         function() return 'ignored' end)\n"
                                 "end"),
                         "time budget exceeded");
}

static void
test_infinite_loop_in_coroutine(void **state)
{
    UNUSED(state);
    fails_then_next_runs(
        SANDBOX("coroutine.wrap(function() while true do end end)()"),
        "time budget exceeded");
    fails_then_next_runs(
        SANDBOX("local co = coroutine.create(function()\n"
                "  while true do pcall(function() while true do end end) end\n"
                "end)\n"
                "while true do coroutine.resume(co) end"),
        "time budget exceeded");
    /* a coroutine made at load time, before any call, is covered too */
    fails_then_next_runs(
        "local co = coroutine.create(function() while true do end end)\n"
        "function on_item(item)\n"
        "  if item.id == '1' then coroutine.resume(co) end\n"
        "  if item.id == '1' then error('resume swallowed the timeout?') end\n"
        "  vigie.store(item)\n"
        "end\n",
        "time budget exceeded");
}

static void
test_close_metamethod_loop(void **state)
{
    UNUSED(state);
    /* A to-be-closed variable runs __close while the timeout unwinds the
     * stack; hooks stay on there, so the sticky hook stops it as well. */
    fails_then_next_runs(
        SANDBOX("local x <close> = setmetatable({}, {__close = function()\n"
                "  while true do end end})\n"
                "while true do end"),
        "time budget exceeded");
}

static void
test_gc_finalizer_refused(void **state)
{
    UNUSED(state);
    fails_then_next_runs(
        SANDBOX("setmetatable({}, {__gc = function() while true do end end})"),
        "setmetatable: __gc metamethods are not allowed");
    /* and a matcher's metatable is locked, so its __gc cannot be swapped */
    fails_then_next_runs(SANDBOX("local m = vigie.keywords{'a'}\n"
                                 "local mt = getmetatable(m)\n"
                                 "mt.__gc = function() end"),
                         "attempt to index a string value");
}

static void
test_memory_cap(void **state)
{
    UNUSED(state);
    /* a table growing towards 10 GiB */
    fails_then_next_runs(SANDBOX("local t, s = {}, ('x'):rep(2^20)\n"
                                 "for i = 1, 10 * 2^10 do t[i] = s .. i end"),
                         "t.lua: memory limit exceeded (16 MiB)");
    fails_then_next_runs(SANDBOX("local s = ('x'):rep(2^30)"),
                         "memory limit exceeded");
    /* catching the memory error in a loop ends in the time budget */
    fails_then_next_runs(
        SANDBOX("local t = {}\n"
                "while true do pcall(function() t[#t+1] = ('y'):rep(2^20) "
                "end) end"),
        "exceeded");
    /* a pcall that swallows it does not save the call: the error that Lua
     * raised after its emergency collection... */
    fails_then_next_runs(
        SANDBOX("pcall(function() local t = {}\n"
                "  for i = 1, 100 do t[i] = ('x'):rep(2^20) .. i end end)"),
        "t.lua: memory limit exceeded (16 MiB)");
    /* ...nor one raised at once, by a buffer that does not retry */
    fails_then_next_runs(SANDBOX("pcall(string.rep, 'x', 2^25)"),
                         "t.lua: memory limit exceeded (16 MiB)");
}

/* Garbage is not exhaustion: far more than the cap allocated in a call,
 * little of it alive at once, and the call succeeds. */
static void
test_memory_garbage_is_fine(void **state)
{
    UNUSED(state);
    runs_and_stores("function on_item(item)\n"
                    "  for i = 1, 64 do local s = ('y'):rep(2^20) .. i end\n"
                    "  vigie.store(item)\n"
                    "end\n");
}

static void
test_deep_recursion(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("local function f(n) if n == 0 then return 0 "
                                 "end return 1 + f(n - 1) end\n"
                                 "f(1e6)"),
                         "t.lua:");
    /* through C functions: the C stack is bounded too */
    fails_then_next_runs(
        SANDBOX("local t = setmetatable({}, {__index = function(t, k) return "
                "t[k .. 'x'] end})\n"
                "local _ = t.a"),
        "stack overflow");
}

static void
test_error_objects(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("error({})"),
                         "(error object is a table value)");
    fails_then_next_runs(SANDBOX("error(setmetatable({}, {__tostring = "
                                 "function() return 'custom' end}))"),
                         "custom");
    fails_then_next_runs(SANDBOX("error()"), "(error object is a nil value)");
    fails_then_next_runs(SANDBOX("error(('z'):rep(100000))"), "zzz...");
    /* half a character: the message is made valid UTF-8, not lost */
    fails_then_next_runs(SANDBOX("error('x' .. ('\\195\\169'):sub(1, 1))"),
                         "t.lua:3: x\xEF\xBF\xBD");
}

static void
test_error_on_one_item_only(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok("local n = 0\n"
                        "function on_item(item)\n"
                        "  n = n + 1\n"
                        "  if item.title == 'boom' then\n"
                        "    vigie.alert('ops', 'before the error')\n"
                        "    print('logged before the error')\n"
                        "    local x = nil\n"
                        "    return x.field\n"
                        "  end\n"
                        "  vigie.store(item, {tags = {tostring(n)}})\n"
                        "end\n",
                        &out);
    const char *titles[] = {"a", "boom", "c"};
    int rcs[3];
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        feed_item it = make_item(id, titles[i]);
        rcs[i] = script_on_item(s, &it, i, &out);
    }
    assert_int_equal(rcs[0], 0);
    assert_int_equal(rcs[1], -1);
    assert_int_equal(rcs[2], 0);
    /* store(a), log(boom), error(boom), store(c): the alert made before
     * the error is dropped, the log line kept */
    assert_int_equal(out.len, 4);
    assert_int_equal(out.v[0].kind, ACTION_STORE);
    assert_string_equal(out.v[0].tags[0], "1");
    assert_int_equal(out.v[1].kind, ACTION_LOG);
    assert_string_equal(out.v[1].message, "logged before the error");
    assert_int_equal(out.v[2].kind, ACTION_ERROR);
    assert_int_equal(out.v[2].item, 1);
    assert_non_null(strstr(
        out.v[2].message, "t.lua:8: attempt to index a nil value (local 'x')"));
    assert_non_null(strstr(out.v[2].message, "stack traceback:"));
    assert_non_null(strstr(out.v[2].message, "in function 'on_item'"));
    assert_int_equal(out.v[3].kind, ACTION_STORE);
    assert_string_equal(out.v[3].tags[0], "3"); /* state kept across items */
    script_free(s);
    action_list_free(&out);
}

static void
test_load_errors(void **state)
{
    UNUSED(state);
    load_fails("function on_item(item)\n  x = = 1\nend\n", "t.lua:2:");
    load_fails("x = 1\n", "defines no on_item(item) function");
    load_fails("local t = nil\nlocal y = t.x\n", "t.lua:2: attempt to index");
    load_fails("while true do end\n", "time budget exceeded (300 ms)");
    load_fails("\033LuaT\0\031\223\r\n\032\n",
               "attempt to load a binary chunk");
    load_fails("vigie.store({id='x'})\nfunction on_item() end\n",
               "vigie.store: only allowed inside on_item");
    load_fails("vigie.alert('ops', 'x')\nfunction on_item() end\n",
               "vigie.alert: only allowed inside on_item");
    char err[256];
    assert_int_equal(script_check("c.lua", "x = = 1", 7, err, sizeof err), -1);
    assert_non_null(strstr(err, "c.lua:1:"));
    /* check compiles only: a script that would loop forever passes */
    assert_int_equal(
        script_check("c.lua", "while true do end", 17, err, sizeof err), 0);
}

static void
test_top_level_log(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok("print('loading', 3, nil)\n"
                        "vigie.log('debug', 'n=%d', 42)\n"
                        "function on_item() end\n",
                        &out);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.v[0].kind, ACTION_LOG);
    assert_int_equal(out.v[0].level, LOG_INFO);
    assert_int_equal(out.v[0].item, -1);
    assert_null(out.v[0].item_id);
    assert_string_equal(out.v[0].message, "loading\t3\tnil");
    assert_int_equal(out.v[1].level, LOG_DEBUG);
    assert_string_equal(out.v[1].message, "n=42");
    script_free(s);
    action_list_free(&out);
}

static void
test_item_table(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "function on_item(item)\n"
        "  local e = item.enclosures[1]\n"
        "  print(item.id, item.title, item.link, item.summary, item.content)\n"
        "  print(item.published, item.published_ts, item.updated,\n"
        "        item.updated_ts, #item.categories, item.categories[2])\n"
        "  print(e.url, e.type, e.length, item.author == '')\n"
        "  local f = item.feed\n"
        "  print(f.title, f.link, f.language, f.url, f.name, f.author,\n"
        "        f.updated)\n"
        "end\n",
        &out);
    feed_item it = make_item("urn:1", "Titre");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.v[0].message, "urn:1\tTitre\thttps://ex.org/item\t"
                                          "summary text\t<p>content</p>");
    assert_string_equal(
        out.v[1].message,
        "2024-08-23T13:27:00Z\t1724419620\tnil\tnil\t2\tBalkans");
    assert_string_equal(out.v[2].message,
                        "https://ex.org/a.mp3\taudio/mpeg\t1234\ttrue");
    assert_string_equal(out.v[3].message,
                        "NATO news\thttps://www.nato.int/\tfr\t"
                        "https://www.nato.int/rss.xml\tnato\t\tnil");
    script_free(s);
    action_list_free(&out);
}

/* Lists stay lists when empty: what vigie makes (item.categories, match
 * results) and what vigie.array marks; other empty tables are objects. */
static void
test_empty_lists_in_payloads(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "local m = vigie.keywords{'absent'}\n"
        "function on_item(item)\n"
        "  local mine = vigie.array()\n"
        "  vigie.alert('ops', {hits = m:match('text'), where = m:find('text'),\n"
        "    encl = item.enclosures, mine = mine, two = vigie.array{1, 2},\n"
        "    obj = {}, k = {['a\\0b'] = 1}})\n"
        "  print(getmetatable(mine))\n"
        "end\n",
        &out);
    feed_item it = make_item("1", "one");
    it.nenclosures = 0;
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.v[0].kind, ACTION_ALERT);
    assert_string_equal(out.v[0].payload,
                        "{\"encl\":[],\"hits\":[],\"k\":{\"a\xEF\xBF\xBD"
                        "b\":1},\"mine\":[],\"obj\":{},\"two\":[1,2],"
                        "\"where\":[]}");
    assert_string_equal(out.v[1].message, "vigie.array");
    script_free(s);
    action_list_free(&out);
}

static void
test_store_and_alert(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s =
        load_ok("function on_item(item)\n"
                "  vigie.store(item, {tags = {'Kosovo', 'KFOR', 'Kosovo'}})\n"
                "  vigie.store(item, {tags = 'one'})\n"
                "  vigie.alert('analyst', 'plain text')\n"
                "  vigie.alert('ops-2', {zeta = 1, alpha = {1, 2.5, true}, "
                "mid = {x = 'y\\n\"'}, empty = {}, [3] = 'three'})\n"
                "end\n",
                &out);
    feed_item it = make_item("i1", "t");
    assert_int_equal(script_on_item(s, &it, 7, &out), 0);
    assert_int_equal(out.len, 4);
    assert_int_equal(out.v[0].kind, ACTION_STORE);
    assert_int_equal(out.v[0].ntags, 2);
    assert_string_equal(out.v[0].tags[0], "Kosovo");
    assert_string_equal(out.v[0].tags[1], "KFOR");
    assert_int_equal(out.v[0].item, 7);
    assert_int_equal(out.v[1].ntags, 1);
    assert_string_equal(out.v[1].tags[0], "one");
    assert_int_equal(out.v[2].kind, ACTION_ALERT);
    assert_string_equal(out.v[2].target, "analyst");
    assert_string_equal(out.v[2].payload, "{\"text\":\"plain text\"}");
    assert_string_equal(out.v[3].target, "ops-2");
    assert_string_equal(out.v[3].payload,
                        "{\"3\":\"three\",\"alpha\":[1,2.5,true],\"empty\":{},"
                        "\"mid\":{\"x\":\"y\\n\\\"\"},\"zeta\":1}");
    assert_int_equal(out.v[3].payload_len, strlen(out.v[3].payload));
    script_free(s);
    action_list_free(&out);
}

static void
test_alert_payload_with_item(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s =
        load_ok("function on_item(item)\n"
                "  vigie.alert('ops', {text = item.title, item = item})\n"
                "end\n",
                &out);
    feed_item it = make_item("i1", "caf\xc3\xa9 \xff bad byte");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 1);
    const char *p = out.v[0].payload;
    /* invalid UTF-8 from the script is repaired, never passed on */
    assert_non_null(
        strstr(p, "\"text\":\"caf\xc3\xa9 \xef\xbf\xbd bad byte\""));
    assert_non_null(strstr(p, "\"published\":\"2024-08-23T13:27:00Z\""));
    assert_non_null(strstr(p, "\"feed\":{"));
    assert_non_null(strstr(p, "\"name\":\"nato\""));
    assert_non_null(strstr(p, "\"categories\":[\"Politique\",\"Balkans\"]"));
    script_free(s);
    action_list_free(&out);
}

static void
test_api_misuse(void **state)
{
    UNUSED(state);
    fails_then_next_runs(SANDBOX("vigie.alert('no spaces', 'x')"),
                         "'no spaces' cannot name a webhook");
    fails_then_next_runs(SANDBOX("vigie.alert('ops', {1, 2})"),
                         "payload must be a table with named fields");
    fails_then_next_runs(SANDBOX("vigie.alert('ops', 42)"),
                         "payload must be a table or a string, not a number");
    fails_then_next_runs(SANDBOX("vigie.alert('ops', {f = print})"),
                         "payload field 'f' is a function");
    fails_then_next_runs(SANDBOX("local t = {} t.self = t\n"
                                 "vigie.alert('ops', t)"),
                         "nested deeper than 32 levels");
    fails_then_next_runs(SANDBOX("vigie.alert('ops', {x = 0/0})"),
                         "'x' is not a finite number");
    fails_then_next_runs(SANDBOX("vigie.alert('ops', {[true] = 1})"),
                         "payload has a boolean key");
    /* keys that would read the same in JSON */
    fails_then_next_runs(SANDBOX("vigie.alert('ops', {[1.5] = 1, ['1.5'] = 2})"),
                         "payload has two keys written \"1.5\"");
    fails_then_next_runs(
        SANDBOX("vigie.alert('ops', {['k\\255'] = 1, ['k\\254'] = 2})"),
        "payload has two keys written \"k\xEF\xBF\xBD\"");
    fails_then_next_runs(SANDBOX("vigie.array(setmetatable({}, {}))"),
                         "vigie.array: the table has a metatable already");
    fails_then_next_runs(
        SANDBOX("vigie.alert('ops', {x = ('x'):rep(2 * 2^20)})"),
        "payload too large");
    fails_then_next_runs(SANDBOX("vigie.store({id = 'other'})"),
                         "vigie.store: not the item being processed");
    fails_then_next_runs(SANDBOX("vigie.store(item, {tag = 'x'})"),
                         "unknown option 'tag'");
    fails_then_next_runs(SANDBOX("vigie.store(item, {tags = {''}})"),
                         "tag 1 is empty");
    fails_then_next_runs(SANDBOX("local t = {}\n"
                                 "for i = 1, 65 do t[i] = 'tag' .. i end\n"
                                 "vigie.store(item, {tags = t})"),
                         "too many tags (limit 64)");
    fails_then_next_runs(SANDBOX("for i = 1, 300 do vigie.alert('a', 'x') end"),
                         "too many alerts and stores for one item (limit 256)");
    fails_then_next_runs(SANDBOX("vigie.log('loud', 'x')"),
                         "unknown level 'loud'");
    fails_then_next_runs(SANDBOX("vigie.keywords{'ok', 42}"),
                         "keyword 2 is a number");
    fails_then_next_runs(SANDBOX("vigie.keywords{''}"), "keyword 1 is empty");
    /* a set instead of a list would be an empty matcher */
    fails_then_next_runs(SANDBOX("vigie.keywords{Kosovo = true}"),
                         "found the key \"Kosovo\"");
    fails_then_next_runs(SANDBOX("vigie.keywords{'Serbia', Kosovo = true}"),
                         "found the key \"Kosovo\"");
    fails_then_next_runs(SANDBOX("vigie.keywords{[2.5] = 'x'}"),
                         "found a number key");
}

static void
test_log_limits_and_format(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok("function on_item(item)\n"
                        "  vigie.log('warning', '100% of %s')\n"
                        "  vigie.log('error', '%d%% of %s', 50, item.title)\n"
                        "  for i = 1, 150 do print(i) end\n"
                        "end\n",
                        &out);
    feed_item it = make_item("x", "Kosovo");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 101);
    assert_int_equal(out.v[0].level, LOG_WARNING);
    assert_string_equal(out.v[0].message, "100% of %s");
    assert_int_equal(out.v[1].level, LOG_ERR);
    assert_string_equal(out.v[1].message, "50% of Kosovo");
    assert_string_equal(out.v[99].message, "98");
    assert_int_equal(out.v[100].level, LOG_WARNING);
    assert_string_equal(out.v[100].message,
                        "52 more log lines from this call were dropped "
                        "(limit 100)");
    script_free(s);
    action_list_free(&out);
}

static void
test_sandbox_keeps_useful_things(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "local str = require 'string'\n"
        "local v = require 'vigie'\n"
        "function on_item(item)\n"
        "  assert(str == string and v == vigie)\n"
        "  assert(type(os.time()) == 'number' and os.clock() >= 0)\n"
        "  assert(os.date('!%Y', 0) == '1970')\n"
        "  assert(collectgarbage('count') > 0)\n"
        "  assert(load('return 1 + 1')() == 2)\n"
        "  assert(utf8.len('Vučić') == 5 and math.max(1, 2) == 2)\n"
        "  assert(table.concat({'a', 'b'}, '-') == 'a-b')\n"
        "  assert(os.getenv == nil and os.remove == nil and io == nil)\n"
        "  assert(string.dump == nil and debug == nil and package == nil)\n"
        "  local t = setmetatable({}, {__index = function() return 7 end})\n"
        "  assert(t.x == 7)\n"
        "  vigie.store(item)\n"
        "end\n",
        &out);
    feed_item it = make_item("x", "t");
    int rc = script_on_item(s, &it, 0, &out);
    if (rc) fail_msg("%s", out.v[out.len - 1].message);
    assert_int_equal(out.len, 1);
    script_free(s);
    action_list_free(&out);
}

static void
test_budget_is_per_call(void **state)
{
    UNUSED(state);
    /* each call gets the whole budget again, including after a timeout */
    action_list out;
    action_list_init(&out);
    char err[256];
    script_limits l = small_limits();
    l.call_ms = 1000; /* 50 ms of CPU fits even on a busy machine */
    const char *src = "function on_item(item)\n"
                      "  if item.id == 'loop' then while true do end end\n"
                      "  local t0 = os.clock()\n"
                      "  while os.clock() - t0 < 0.05 do end\n"
                      "  vigie.store(item)\n"
                      "end\n";
    script *s =
        script_load("t.lua", src, strlen(src), &l, &out, err, sizeof err);
    assert_non_null(s);
    const char *ids[] = {"a", "loop", "b", "c", "d", "e"};
    for (int i = 0; i < 6; i++) {
        feed_item it = make_item(ids[i], "t");
        assert_int_equal(script_on_item(s, &it, i, &out), i == 1 ? -1 : 0);
    }
    assert_int_equal(out.len, 6);
    script_free(s);
    action_list_free(&out);
}

static void
test_memory_returns_after_failure(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s =
        load_ok(SANDBOX("local t = {} for i = 1, 1e9 do t[i] = i end"), &out);
    size_t base = script_mem_used(s);
    for (int round = 0; round < 3; round++) {
        feed_item bad = make_item("1", "bad");
        assert_int_equal(script_on_item(s, &bad, 0, &out), -1);
    }
    assert_true(script_mem_used(s) < base + (1u << 20));
    script_free(s);
    action_list_free(&out);
}

static void
test_global_index_cannot_run_outside_budget(void **state)
{
    UNUSED(state);
    /* on_item removed and _G given an __index that loops: looking up
     * on_item must not run script code outside a budgeted call */
    action_list out;
    action_list_init(&out);
    script *s = load_ok("function on_item(item)\n"
                        "  setmetatable(_G, {__index = function() while true "
                        "do end end})\n"
                        "  on_item = nil\n"
                        "end\n",
                        &out);
    feed_item it = make_item("1", "t");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(script_on_item(s, &it, 1, &out), -1);
    assert_non_null(strstr(out.v[out.len - 1].message,
                           "on_item is not a function any more"));
    script_free(s);
    action_list_free(&out);
}

static void
test_keywords_api(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "local m = vigie.keywords{'Kosovo', 'KFOR', 'Boris Ruge'}\n"
        "assert(getmetatable(m) == 'vigie.matcher')\n"
        "assert(tostring(m) == 'vigie.matcher (3 keywords)')\n"
        "assert(m:count() == 3)\n"
        "local empty = vigie.keywords{}\n"
        "assert(#empty:match('Kosovo') == 0 and #empty:find('x') == 0)\n"
        "function on_item(item)\n"
        "  local text = 'KFOR au Kosovo, avec Boris Ruge et la kfor'\n"
        "  local hits = m:match(text)\n"
        "  print(table.concat(hits, ','))\n"
        "  for _, h in ipairs(m:find(text)) do\n"
        "    print(h.keyword, h.start, h.stop, text:sub(h.start, h.stop))\n"
        "  end\n"
        "  print(vigie.fold('KOSOVO'))\n"
        "end\n",
        &out);
    feed_item it = make_item("1", "t");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 6);
    assert_string_equal(out.v[0].message, "KFOR,Kosovo,Boris Ruge");
    assert_string_equal(out.v[1].message, "KFOR\t1\t4\tKFOR");
    assert_string_equal(out.v[2].message, "Kosovo\t9\t14\tKosovo");
    assert_string_equal(out.v[3].message, "Boris Ruge\t22\t31\tBoris Ruge");
    assert_string_equal(out.v[4].message, "KFOR\t39\t42\tkfor");
    assert_string_equal(out.v[5].message, "kosovo");
    script_free(s);
    action_list_free(&out);
}

static void
test_keywords_unicode_offsets(void **state)
{
    UNUSED(state);
    /* offsets are bytes of the original text, 1-based inclusive, so that
     * text:sub(start, stop) is the hit even when folding changed lengths */
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "local m = vigie.keywords{'Vucic', 'Đurić', 'Bosnie-Herzégovine'}\n"
        "function on_item(item)\n"
        "  local text = item.title\n"
        "  print(table.concat(m:match(text), '|'))\n"
        "  for _, h in ipairs(m:find(text)) do\n"
        "    print(h.keyword, text:sub(h.start, h.stop))\n"
        "  end\n"
        "end\n",
        &out);
    feed_item it = make_item("1", "Le président VUČIĆ et M. Djuric en "
                                  "Bosnie\xc2\xa0herz\xc3\xa9govine");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.v[0].message, "Vucic|Đurić|Bosnie-Herzégovine");
    assert_string_equal(out.v[1].message, "Vucic\tVUČIĆ");
    assert_string_equal(out.v[2].message, "Đurić\tDjuric");
    assert_string_equal(out.v[3].message,
                        "Bosnie-Herzégovine\tBosnie\xc2\xa0herz\xc3\xa9govine");
    script_free(s);
    action_list_free(&out);
}

static void
test_keywords_markup(void **state)
{
    UNUSED(state);
    /* item.content keeps its HTML: tags separate words and are not words,
     * offsets still point into the text as given */
    action_list out;
    action_list_init(&out);
    script *s = load_ok(
        "local m = vigie.keywords{'Boris Ruge', 'b', 'span', 'class'}\n"
        "function on_item(item)\n"
        "  local text = item.content\n"
        "  print(table.concat(m:match(text), '|'))\n"
        "  for _, h in ipairs(m:find(text)) do\n"
        "    print(h.keyword, h.start, h.stop, text:sub(h.start, h.stop))\n"
        "  end\n"
        "end\n",
        &out);
    feed_item it = make_item("1", "t");
    it.content = "Boris <b>Ruge</b> <span class=\"x\">Boris&nbsp;Ruge";
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_int_equal(out.len, 3);
    assert_string_equal(out.v[0].message, "Boris Ruge");
    assert_string_equal(out.v[1].message, "Boris Ruge\t1\t13\tBoris <b>Ruge");
    assert_string_equal(out.v[2].message,
                        "Boris Ruge\t35\t49\tBoris&nbsp;Ruge");
    script_free(s);
    action_list_free(&out);
}

static void
test_find_many_hits(void **state)
{
    UNUSED(state);
    /* m:find lists every hit up to 65,536, then the first of each keyword
     * not listed yet: every keyword m:match finds is in it */
    action_list out;
    action_list_init(&out);
    script_limits l = small_limits();
    /* 65,538 hit tables: the default memory cap, and time for ASan */
    l.call_ms = 10000;
    l.mem = 64u << 20;
    const char *src =
        "local m = vigie.keywords{'x', 'y', 'z', 'w'}\n"
        "function on_item(item)\n"
        "  local t = ('x '):rep(70000) .. 'y z y x z'\n"
        "  local hits, cut = m:find(t)\n"
        "  print(#hits, tostring(cut), table.concat(m:match(t), ','))\n"
        "  for i = #hits - 2, #hits do\n"
        "    local h = hits[i]\n"
        "    print(h.keyword, h.start, t:sub(h.start, h.stop))\n"
        "  end\n"
        "  local few, more = m:find(('x '):rep(65536))\n"
        "  print(#few, tostring(more))\n"
        "end\n";
    char err[1024] = "";
    script *s =
        script_load("t.lua", src, strlen(src), &l, &out, err, sizeof err);
    if (!s) fail_msg("load failed: %s", err);
    script_set_feed(s, &test_feed);
    feed_item it = make_item("1", "t");
    int rc = script_on_item(s, &it, 0, &out);
    if (rc) fail_msg("%s", out.len ? out.v[out.len - 1].message : "?");
    assert_int_equal(out.len, 5);
    assert_string_equal(out.v[0].message, "65538\ttrue\tx,y,z");
    assert_string_equal(out.v[1].message, "x\t131071\tx");
    assert_string_equal(out.v[2].message, "y\t140001\ty");
    assert_string_equal(out.v[3].message, "z\t140003\tz");
    assert_string_equal(out.v[4].message, "65536\tnil");
    script_free(s);
    action_list_free(&out);
}

static void
test_ten_thousand_keywords(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    script *s = load_ok("local kw = {}\n"
                        "for i = 1, 10000 do kw[i] = 'mot' .. i end\n"
                        "kw[#kw + 1] = 'Kosovo'\n"
                        "local m = vigie.keywords(kw)\n"
                        "function on_item(item)\n"
                        "  print(table.concat(m:match(item.title), ','))\n"
                        "end\n",
                        &out);
    assert_true(script_mem_used(s) < (16u << 20));
    feed_item it = make_item("1", "mot9999 au Kosovo, mot10000x, mot1");
    assert_int_equal(script_on_item(s, &it, 0, &out), 0);
    assert_string_equal(out.v[0].message, "mot9999,Kosovo,mot1");
    script_free(s);
    action_list_free(&out);
}

static void
test_keywords_charged_to_memory(void **state)
{
    UNUSED(state);
    /* matchers live in C memory: making them forever hits the cap */
    fails_then_next_runs(SANDBOX("local keep = {}\n"
                                 "local kw = {}\n"
                                 "for i = 1, 1000 do kw[i] = 'word' .. i end\n"
                                 "while true do keep[#keep + 1] = "
                                 "vigie.keywords(kw) end"),
                         "memory limit exceeded");
    /* ...but matchers dropped are garbage like any other: building many
     * in turn, each let go, never runs out */
    runs_and_stores("local kw = {}\n"
                    "for i = 1, 2000 do kw[i] = 'keyword' .. i .. ' phrase' end\n"
                    "function on_item(item)\n"
                    "  for i = 1, 60 do local m = vigie.keywords(kw) end\n"
                    "  vigie.store(item)\n"
                    "end\n");
}

static void
test_action_json(void **state)
{
    UNUSED(state);
    action_list out;
    action_list_init(&out);
    feed_item it = make_item("id-1", "Un titre");
    action_alert(&out, "s.lua", 0, "id-1", "ops", "{\"text\":\"x\"}", 12);
    const char *tags[] = {"a", "b"};
    action_store(&out, "s.lua", 0, "id-1", tags, 2);
    action_log(&out, "s.lua", -1, NULL, LOG_NOTICE, "hello");
    action_error(&out, "s.lua", 0, "id-1", "s.lua:1: boom");
    buf b = {0};
    action_write_json(&b, &out.v[0], &it, &test_feed);
    assert_string_equal(
        b.p, "{\"action\":\"alert\",\"script\":\"s.lua\",\"target\":\"ops\","
             "\"item\":{\"id\":\"id-1\",\"title\":\"Un titre\",\"link\":"
             "\"https://ex.org/item\",\"feed\":{\"title\":\"NATO news\","
             "\"link\":\"https://www.nato.int/\",\"url\":"
             "\"https://www.nato.int/rss.xml\",\"name\":\"nato\"}},"
             "\"payload\":{\"text\":\"x\"}}");
    buf_reset(&b);
    action_write_json(&b, &out.v[1], &it, NULL);
    assert_string_equal(b.p, "{\"action\":\"store\",\"script\":\"s.lua\","
                             "\"item\":{\"id\":\"id-1\",\"title\":\"Un titre\","
                             "\"link\":\"https://ex.org/item\"},"
                             "\"tags\":[\"a\",\"b\"]}");
    buf_reset(&b);
    action_write_json(&b, &out.v[2], NULL, NULL);
    assert_string_equal(b.p, "{\"action\":\"log\",\"script\":\"s.lua\","
                             "\"level\":\"notice\",\"message\":\"hello\","
                             "\"item\":null}");
    buf_reset(&b);
    action_write_json(&b, &out.v[3], NULL, NULL);
    assert_string_equal(b.p, "{\"action\":\"error\",\"script\":\"s.lua\","
                             "\"message\":\"s.lua:1: boom\",\"item\":{\"id\":"
                             "\"id-1\"}}");
    assert_true(action_target_valid("analyst", 7));
    assert_false(action_target_valid("a b", 3));
    assert_false(action_target_valid("", 0));
    buf_free(&b);
    action_list_free(&out);
}

int
main(void)
{
    log_init(LOG_WARNING);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_open),
        cmocka_unit_test(test_os_execute),
        cmocka_unit_test(test_require_os),
        cmocka_unit_test(test_load_dump),
        cmocka_unit_test(test_debug_getregistry),
        cmocka_unit_test(test_dofile_loadfile),
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_infinite_loop_in_pcall),
        cmocka_unit_test(test_infinite_loop_in_coroutine),
        cmocka_unit_test(test_close_metamethod_loop),
        cmocka_unit_test(test_gc_finalizer_refused),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_memory_garbage_is_fine),
        cmocka_unit_test(test_empty_lists_in_payloads),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_error_objects),
        cmocka_unit_test(test_error_on_one_item_only),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_top_level_log),
        cmocka_unit_test(test_item_table),
        cmocka_unit_test(test_store_and_alert),
        cmocka_unit_test(test_alert_payload_with_item),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_log_limits_and_format),
        cmocka_unit_test(test_sandbox_keeps_useful_things),
        cmocka_unit_test(test_budget_is_per_call),
        cmocka_unit_test(test_memory_returns_after_failure),
        cmocka_unit_test(test_global_index_cannot_run_outside_budget),
        cmocka_unit_test(test_keywords_api),
        cmocka_unit_test(test_keywords_unicode_offsets),
        cmocka_unit_test(test_keywords_markup),
        cmocka_unit_test(test_find_many_hits),
        cmocka_unit_test(test_ten_thousand_keywords),
        cmocka_unit_test(test_keywords_charged_to_memory),
        cmocka_unit_test(test_action_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
