/* test_config.c — durations and sizes, paths and URL keys, the config
 * loader's validation errors (exact messages), its sandbox, OPML import and
 * the hooks left for the rule runtime and the outbox. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "helpers/tmptree.h"

#include "config.h"
#include "duration.h"
#include "log.h"
#include "opml.h"
#include "util.h"

/* ------------------------------------------------------ temp directory */

static char dir[PATH_MAX];
static char cfg_path[PATH_MAX + 16];

static int
setup(void **state)
{
    UNUSED(state);
    snprintf(dir, sizeof dir, "/tmp/vigie-test-config-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(cfg_path, sizeof cfg_path, "%s/vigie.lua", dir);
    return 0;
}

static int
teardown(void **state)
{
    UNUSED(state);
    return rm_tree(dir);
}

static void
write_file(const char *name, const char *content)
{
    char p[PATH_MAX + 256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    assert_int_equal(fclose(f), 0);
}

static config *
load(const char *lua, char *err, size_t errlen)
{
    write_file("vigie.lua", lua);
    return config_load(cfg_path, err, errlen);
}

/* Loads lua and expects exactly the error fmt, where every "@" is the
 * config's path and every "#" the temp directory. */
static void
expect_error(const char *lua, const char *fmt)
{
    char err[2048], want[4096];
    size_t o = 0;
    for (const char *p = fmt; *p && o < sizeof want - PATH_MAX - 20; p++) {
        if (*p == '@')
            o += (size_t)snprintf(want + o, sizeof want - o, "%s", cfg_path);
        else if (*p == '#')
            o += (size_t)snprintf(want + o, sizeof want - o, "%s", dir);
        else
            want[o++] = *p;
    }
    want[o] = '\0';
    err[0] = '\0';
    config *c = load(lua, err, sizeof err);
    if (c) {
        config_free(c);
        fail_msg("expected an error for:\n%s\nwant: %s", lua, want);
    }
    assert_string_equal(err, want);
}

/* ------------------------------------------------- durations and sizes */

typedef struct dcase {
    const char *in;
    int64_t ms; /* -1: must fail */
} dcase;

static void
test_duration_table(void **state)
{
    UNUSED(state);
    static const dcase cases[] = {
        {"90s", 90000},
        {"15m", 900000},
        {"2h", 7200000},
        {"1d", 86400000},
        {"1w", 604800000},
        {"1h30m", 5400000},
        {"1h 30m", 5400000},
        {" 45s ", 45000},
        {"500ms", 500},
        {"1s500ms", 1500},
        {"1.5h", 5400000},
        {"0.5s", 500},
        {"0s", 0},
        {"2d3h4m5s6ms", 2 * 86400000LL + 3 * 3600000 + 4 * 60000 + 5006},
        {"1.0000000001s", 1000}, /* digits past the ninth are ignored */
        {"90", -1},              /* a unit is required in a string */
        {"", -1},
        {"   ", -1},
        {"-5s", -1},
        {"5x", -1},
        {"5 minutes", -1},
        {"5H", -1},    /* units are lower case */
        {"30m1h", -1}, /* largest first */
        {"1m1m", -1},
        {"1.s", -1},
        {"s", -1},
        {"1h-5m", -1},
        {"99999999999999999999s", -1},
        {"15000000000000w", -1}, /* overflows int64 milliseconds */
        {"1e3s", -1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t ms = -42;
        char why[256] = "";
        int rc = duration_parse(cases[i].in, &ms, why, sizeof why);
        if (cases[i].ms < 0) {
            if (rc == 0) fail_msg("\"%s\" should fail", cases[i].in);
            assert_true(why[0] != '\0');
        } else {
            if (rc != 0) fail_msg("\"%s\": %s", cases[i].in, why);
            assert_int_equal(ms, cases[i].ms);
        }
    }
}

static void
test_duration_messages(void **state)
{
    UNUSED(state);
    int64_t ms;
    char why[256];
    assert_int_equal(duration_parse("5x", &ms, why, sizeof why), -1);
    assert_string_equal(why, "unknown unit \"x\" (use ms, s, m, h, d or w)");
    assert_int_equal(duration_parse("90", &ms, why, sizeof why), -1);
    assert_string_equal(
        why, "missing unit (write e.g. \"90s\"; units: ms, s, m, h, d, w)");
    assert_int_equal(duration_parse("-1s", &ms, why, sizeof why), -1);
    assert_string_equal(why, "negative duration");

    assert_int_equal(duration_from_seconds(1.5, &ms, why, sizeof why), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(duration_from_seconds(-1, &ms, why, sizeof why), -1);
    assert_int_equal(duration_from_seconds(1e300, &ms, why, sizeof why), -1);
    assert_int_equal(duration_from_seconds(0.0 / 0.0, &ms, why, sizeof why),
                     -1);
}

typedef struct scase {
    const char *in;
    int64_t bytes; /* -1: must fail */
} scase;

static void
test_size_table(void **state)
{
    UNUSED(state);
    static const scase cases[] = {
        {"16MB", 16000000},
        {"16MiB", 16777216},
        {"64KiB", 65536},
        {"64kb", 64000},
        {"1GB", 1000000000},
        {"1GiB", 1073741824},
        {"2TiB", 2199023255552LL},
        {"512", 512},
        {"512B", 512},
        {"1.5KiB", 1536},
        {"16 MiB", 16777216},
        {"mib", -1},
        {"16M", -1}, /* ambiguous */
        {"16k", -1},
        {"16 parsecs", -1},
        {"-1MB", -1},
        {"1MB2", -1},
        {"", -1},
        {"99999999999TiB", -1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t b = -42;
        char why[256] = "";
        int rc = size_parse(cases[i].in, &b, why, sizeof why);
        if (cases[i].bytes < 0) {
            if (rc == 0) fail_msg("\"%s\" should fail", cases[i].in);
        } else {
            if (rc != 0) fail_msg("\"%s\": %s", cases[i].in, why);
            assert_int_equal(b, cases[i].bytes);
        }
    }
    int64_t b;
    char why[256];
    assert_int_equal(size_parse("16M", &b, why, sizeof why), -1);
    assert_string_equal(why, "ambiguous unit \"M\" (write e.g. MB for 10^6 or "
                             "MiB for 2^20 bytes)");
    assert_int_equal(size_from_number(1.5, &b, why, sizeof why), -1);
    assert_int_equal(size_from_number(4096, &b, why, sizeof why), 0);
    assert_int_equal(b, 4096);
}

static void
test_format_round_trip(void **state)
{
    UNUSED(state);
    char out[32];
    duration_format(5400000, out, sizeof out);
    assert_string_equal(out, "1h30m");
    duration_format(500, out, sizeof out);
    assert_string_equal(out, "500ms");
    duration_format(0, out, sizeof out);
    assert_string_equal(out, "0s");
    duration_format(86400000 + 1500, out, sizeof out);
    assert_string_equal(out, "1d1s500ms");
    duration_format(DURATION_FOREVER, out, sizeof out);
    assert_string_equal(out, "forever");
    size_format(16 << 20, out, sizeof out);
    assert_string_equal(out, "16MiB");
    size_format(64000, out, sizeof out);
    assert_string_equal(out, "64KB");
    size_format(1234, out, sizeof out);
    assert_string_equal(out, "1234B");
    /* what format prints, parse reads back */
    int64_t v;
    const int64_t ms[] = {1, 999, 61000, 3600000 + 1, 7 * 86400000LL};
    for (size_t i = 0; i < ARRAY_LEN(ms); i++) {
        duration_format(ms[i], out, sizeof out);
        assert_int_equal(duration_parse(out, &v, NULL, 0), 0);
        assert_int_equal(v, ms[i]);
    }
}

/* --------------------------------------------------------- paths, URLs */

static void
test_path_resolve(void **state)
{
    UNUSED(state);
    static const char *const cases[][3] = {
        {"/etc/vigie", "x.lua", "/etc/vigie/x.lua"},
        {"/etc/vigie", "../feeds/a.xml", "/etc/feeds/a.xml"},
        {"/etc/vigie", "./a//b/./c", "/etc/vigie/a/b/c"},
        {"/etc/vigie", "/abs/path", "/abs/path"},
        {"/etc/vigie", "../../../..", "/"},
        {"/", "a", "/a"},
        {"/a/b", "c/../../d/", "/a/d"},
    };
    char out[PATH_MAX];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(
            config_path_resolve(cases[i][0], cases[i][1], out, sizeof out), 0);
        assert_string_equal(out, cases[i][2]);
    }
    char small[4];
    assert_int_equal(config_path_resolve("/", "abcdef", small, sizeof small),
                     -1);
}

static void
test_url_key(void **state)
{
    UNUSED(state);
    static const char *const good[][2] = {
        {"https://Example.ORG/rss", "https://example.org/rss"},
        {"HTTP://example.org", "http://example.org/"},
        {"https://example.org:443/a?b=C#frag", "https://example.org/a?b=C"},
        {"http://example.org:8080/A", "http://example.org:8080/A"},
        {"http://user:pw@Host.example/", "http://user:pw@host.example/"},
        {"http://[::1]:80/x", "http://[::1]/x"},
        {"http://example.org?q", "http://example.org/?q"},
        /* the host as DNS knows it: one feed however it is written */
        {"http://Bücher.example/ü", "http://xn--bcher-kva.example/ü"},
        {"http://u:p@bücher.example:8080",
         "http://u:p@xn--bcher-kva.example:8080/"},
    };
    arena a = {0};
    char why[256];
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        char *k = config_url_key(&a, good[i][0], why, sizeof why);
        if (!k) fail_msg("%s: %s", good[i][0], why);
        assert_string_equal(k, good[i][1]);
    }
    static const char *const badurls[] = {
        "ftp://example.org/",
        "file:///etc/passwd",
        "example.org/rss",
        "http:/example.org",
        "http://",
        "http://:80/",
        "http://a b/",
        "http://a/\r\nX: y",
        "http://a:99999/",
        "http://a:8x/",
        "http://[::1/",
        "javascript:alert(1)",
        "http://b\xff\xfe" "cher.example/",
    };
    for (size_t i = 0; i < ARRAY_LEN(badurls); i++)
        if (config_url_key(&a, badurls[i], why, sizeof why))
            fail_msg("%s should be refused", badurls[i]);
    arena_free(&a);
}

/* ----------------------------------------------------------- good config */

static void
test_defaults(void **state)
{
    UNUSED(state);
    char err[2048];
    config *c = load("-- nothing set\n", err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_string_equal(c->path, cfg_path);
    assert_string_equal(c->dir, dir);
    assert_string_equal(c->state_dir, "/var/lib/vigie");
    assert_int_equal(c->interval, 15 * 60000);
    assert_int_equal(c->timeout, 30000);
    assert_int_equal(c->connect_timeout, 10000);
    assert_int_equal(c->min_interval, 60000);
    assert_int_equal(c->max_body, 16 << 20);
    assert_int_equal(c->per_host, 4);
    assert_int_equal(c->max_concurrent, 64);
    assert_int_equal(c->allow_private_networks, 0);
    assert_int_equal(c->log_level, LOG_INFO);
    assert_int_equal(c->rule_timeout, 2000);
    assert_int_equal(c->rule_memory, 64 << 20);
    assert_int_equal(c->catch_up, 24 * 3600000);
    assert_int_equal(c->keep_seen, 90 * 86400000LL);
    assert_true(c->keep_items == DURATION_FOREVER);
    assert_int_equal(c->dedup, 1);
    assert_int_equal(c->dedup_window, 7 * 86400000LL);
    assert_int_equal(c->alert_after, 6 * 3600000);
    assert_null(c->health);
    assert_int_equal(c->nfeeds, 0);
    assert_int_equal(c->nwebhooks, 0);
    assert_int_equal(c->nscripts, 0);
    assert_true(strncmp(c->user_agent, "vigie/", 6) == 0);
    assert_null(c->L); /* no Lua webhook format: the state is closed */
    config_free(c);
}

static void
test_full_config(void **state)
{
    UNUSED(state);
    mkdir(strcat(strcpy((char[PATH_MAX + 16]){0}, dir), "/rules"), 0755);
    write_file("rules/a.lua", "function on_item(item) end\n");
    write_file("rules/b.lua", "function on_item(item) end\n");
    char err[2048];
    config *c = load(
        "state_dir = 'state'\n"
        "min_interval = '1s'\n"
        "interval = '5m'\n"
        "timeout = 20\n"
        "connect_timeout = '2.5s'\n"
        "max_body = '1MiB'\n"
        "user_agent = 'test/1'\n"
        "per_host = 2\n"
        "max_concurrent = 10\n"
        "allow_private_networks = true\n"
        "log_level = 'debug'\n"
        "scripts = { 'rules/a.lua' }\n"
        "rule_timeout = '500ms'\n"
        "rule_memory = '32MiB'\n"
        "catch_up = 0\n"
        "keep_seen = '30d'\n"
        "keep_items = '1w'\n"
        "dedup = false\n"
        "dedup_window = 'forever'\n"
        "alert_after = false\n"
        "health = 'ops'\n"
        "webhooks = {\n"
        "  ops = { url = 'https://hooks.example/o', format = 'slack',\n"
        "          secret = 's3cret', max_per_minute = 30,\n"
        "          give_up_after = '2h', headers = { ['X-A'] = '1' } },\n"
        "  alpha = { url = 'http://127.0.0.1:9/', timeout = '3s',\n"
        "            allow_private_networks = false },\n"
        "}\n"
        "feeds = {\n"
        "  { url = 'https://Example.org/rss', name = 'Ex', interval = 60,\n"
        "    headers = { Authorization = 'Bearer x', ['X-B'] = 'b' },\n"
        "    scripts = { 'rules/b.lua', 'rules/a.lua', 'rules/b.lua' },\n"
        "    silent_after = '2d', allow_private_networks = false },\n"
        "  'http://plain.example/feed',\n"
        "  { path = '../elsewhere/./f.xml', timeout = '1m' },\n"
        "  { },\n"
        "  { { url = 'https://nested.example/' } },\n"
        "}\n",
        err, sizeof err);
    if (!c) fail_msg("%s", err);
    char want[PATH_MAX * 2];
    snprintf(want, sizeof want, "%s/state", dir);
    assert_string_equal(c->state_dir, want);
    assert_int_equal(c->interval, 300000);
    assert_int_equal(c->timeout, 20000);
    assert_int_equal(c->connect_timeout, 2500);
    assert_int_equal(c->max_body, 1 << 20);
    assert_string_equal(c->user_agent, "test/1");
    assert_int_equal(c->per_host, 2);
    assert_int_equal(c->max_concurrent, 10);
    assert_int_equal(c->allow_private_networks, 1);
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_int_equal(c->rule_timeout, 500);
    assert_int_equal(c->rule_memory, 32 << 20);
    assert_int_equal(c->catch_up, 0);
    assert_int_equal(c->keep_seen, 30 * 86400000LL);
    assert_int_equal(c->keep_items, 7 * 86400000LL);
    assert_int_equal(c->dedup, 0);
    assert_true(c->dedup_window == DURATION_FOREVER);
    assert_true(c->alert_after == DURATION_FOREVER);
    assert_string_equal(c->health, "ops");

    /* scripts: unique, first-use order; the default list first */
    assert_int_equal(c->nscripts, 2);
    assert_true(strstr(c->scripts[0], "/rules/a.lua") != NULL);
    assert_true(strstr(c->scripts[1], "/rules/b.lua") != NULL);
    assert_int_equal(c->ndefault_scripts, 1);
    assert_int_equal(c->default_scripts[0], 0);

    /* webhooks sorted by name, defaults inherited */
    assert_int_equal(c->nwebhooks, 2);
    const config_webhook *a = &c->webhooks[0], *o = &c->webhooks[1];
    assert_string_equal(a->name, "alpha");
    assert_int_equal(a->format, WEBHOOK_JSON);
    assert_null(a->secret);
    assert_int_equal(a->timeout, 3000);
    assert_int_equal(a->allow_private_networks, 0);
    assert_int_equal(a->give_up_after, 24 * 3600000);
    assert_int_equal(a->max_per_minute, 0);
    assert_string_equal(o->name, "ops");
    assert_int_equal(o->format, WEBHOOK_SLACK);
    assert_string_equal(o->secret, "s3cret");
    assert_int_equal(o->max_per_minute, 30);
    assert_int_equal(o->give_up_after, 7200000);
    assert_int_equal(o->timeout, 20000);
    assert_int_equal(o->allow_private_networks, 1);
    assert_int_equal(o->headers.n, 1);
    assert_ptr_equal(config_find_webhook(c, "ops"), o);
    assert_null(config_find_webhook(c, "nope"));

    /* feeds: order kept, lists flattened, {} skipped */
    assert_int_equal(c->nfeeds, 4);
    const config_feed *f = &c->feeds[0];
    assert_string_equal(f->key, "https://example.org/rss");
    assert_string_equal(f->url, "https://Example.org/rss");
    assert_string_equal(f->name, "Ex");
    assert_string_equal(f->label, "Ex");
    assert_string_equal(f->where, "feeds[1]");
    assert_int_equal(f->interval, 60000);
    assert_int_equal(f->timeout, 20000);
    assert_int_equal(f->silent_after, 2 * 86400000LL);
    assert_int_equal(f->allow_private_networks, 0);
    assert_int_equal(f->nscripts, 2); /* b, a (b once) */
    assert_int_equal(f->scripts[0], 1);
    assert_int_equal(f->scripts[1], 0);
    assert_int_equal(f->headers.n, 2);
    assert_string_equal(f->headers.v[0].name, "Authorization");
    assert_string_equal(f->headers.v[0].value, "Bearer x");
    assert_string_equal(f->headers.v[1].name, "X-B");

    f = &c->feeds[1];
    assert_string_equal(f->url, "http://plain.example/feed");
    assert_null(f->name);
    assert_string_equal(f->label, "http://plain.example/feed");
    assert_int_equal(f->interval, 300000);
    assert_int_equal(f->allow_private_networks, 1);
    assert_int_equal(f->nscripts, 1);
    assert_true(f->silent_after == DURATION_FOREVER);

    f = &c->feeds[2];
    assert_null(f->url);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    *strrchr(parent, '/') = '\0';
    snprintf(want, sizeof want, "%s/elsewhere/f.xml", parent);
    assert_string_equal(f->path, want);
    snprintf(want, sizeof want, "file://%s/elsewhere/f.xml", parent);
    assert_string_equal(f->key, want);
    assert_int_equal(f->timeout, 60000);

    f = &c->feeds[3];
    assert_string_equal(f->where, "feeds[5][1]");
    assert_ptr_equal(config_find_feed(c, "https://nested.example/"), f);
    assert_ptr_equal(config_find_feed(c, "https://example.org/rss"),
                     &c->feeds[0]);
    assert_null(config_find_feed(c, "https://Example.org/rss"));
    assert_int_equal(config_check_scripts(c, err, sizeof err), 0);
    config_free(c);
}

/* Relative to the config file, not to the working directory. */
static void
test_relative_to_config_dir(void **state)
{
    UNUSED(state);
    char err[2048], old[PATH_MAX];
    assert_non_null(getcwd(old, sizeof old));
    write_file("vigie.lua", "feeds = { { path = 'f.xml' } }\n");
    assert_int_equal(chdir(dir), 0);
    config *c = config_load("./vigie.lua", err, sizeof err);
    assert_int_equal(chdir("/"), 0);
    if (!c) fail_msg("%s", err);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/f.xml", dir);
    assert_string_equal(c->feeds[0].path, want);
    assert_string_equal(c->path, cfg_path);
    config_free(c);
    assert_int_equal(chdir(old), 0);
}

/* ---------------------------------------------------- validation errors */

typedef struct ecase {
    const char *lua;
    const char *err; /* @ = config path, # = its directory */
} ecase;

static const ecase error_cases[] = {
    /* unknown keys, with and without a suggestion */
    {"interval = '5m'\nintervall = '5m'\n",
     "@:2: intervall: unknown setting (did you mean \"interval\"?)"},
    {"feed = {}\n", "@:1: feed: unknown setting (did you mean \"feeds\"?)"},
    {"function helper() end\n",
     "@:1: helper: unknown setting (use 'local' for your own variables)"},
    {"feeds = { { url = 'https://a.example/', nmae = 'x' } }\n",
     "@: feeds[1].nmae: unknown key (did you mean \"name\"?)"},
    {"feeds = { { url = 'https://a.example/', URL = 'x' } }\n",
     "@: feeds[1].URL: unknown key (did you mean \"url\"?)"},
    {"webhooks = { ops = { url = 'https://h.example/', secrets = 'x' } }\n",
     "@: webhooks.ops.secrets: unknown key (did you mean \"secret\"?)"},
    /* a POST outliving the outbox's lease would be sent twice */
    {"webhooks = { ops = { url = 'https://h.example/', timeout = '5m' } }\n",
     "@: webhooks.ops.timeout: at most 60s: an alert still being sent after "
     "its 120s lease would be taken for lost and sent again"},
    {"feeds = { { url = 'https://a.example/', [1] = 'x' } }\n",
     "@: feeds[1]: unexpected entry [1] (this table takes named keys)"},
    /* wrong types */
    {"interval = true\n", "@:1: interval: expected a duration (seconds, or a "
                          "string like \"15m\"), got boolean"},
    {"per_host = '4'\n", "@:1: per_host: expected a whole number, got \"4\""},
    {"per_host = 2.5\n", "@:1: per_host: expected a whole number, got 2.5"},
    {"per_host = 0\n", "@:1: per_host: 0 is out of range (1 to 1000)"},
    {"dedup = 'yes'\n", "@:1: dedup: expected true or false, got string"},
    {"state_dir = {}\n", "@:1: state_dir: expected a string, got table"},
    {"feeds = 'https://a.example/'\n",
     "@:1: feeds: expected a list of feeds, got string"},
    {"feeds = { 42 }\n",
     "@: feeds[1]: expected a feed (a table, or a URL string), got number"},
    {"feeds = { { url = 'https://a.example/', name = 3 } }\n",
     "@: feeds[1].name: expected a string, got number"},
    {"feeds = { { url = 'https://a.example/', name = 'a\\nb' } }\n",
     "@: feeds[1].name: contains a control character (\\x0a)"},
    {"feeds = { x = { url = 'https://a.example/' } }\n",
     "@:1: feeds: unexpected key [\"x\"] (feeds is a list: feeds = { {url = "
     "...}, ... })"},
    /* url / path */
    {"feeds = { { name = 'x' } }\n", "@: feeds[1]: needs a url or a path"},
    {"feeds = { { url = 'https://a.example/', path = 'f.xml' } }\n",
     "@: feeds[1]: has both url and path (a feed is one or the other)"},
    {"feeds = { { url = 'ftp://a.example/x' } }\n",
     "@: feeds[1].url: \"ftp://a.example/x\": not an http or https URL"},
    {"feeds = { 'file:///etc/passwd' }\n",
     "@: feeds[1]: \"file:///etc/passwd\": not an http or https URL"},
    {"feeds = { { url = 'https://a.example/x y?private_token=SECRET' } }\n",
     "@: feeds[1].url: \"https://a.example/x y?private_token=***\": contains a "
     "space or control character (encode it as %20)"},
    {"feeds = { { url = 'https://a.example/x y' } }\n",
     "@: feeds[1].url: \"https://a.example/x y\": contains a space or control "
     "character (encode it as %20)"},
    /* duplicates, after normalisation */
    {"feeds = { 'https://Example.org/x', { url = 'HTTPS://example.ORG:443/x' "
     "} }\n",
     "@: feeds[2]: duplicate feed \"HTTPS://example.ORG:443/x\" (same as "
     "feeds[1])"},
    {"feeds = { { path = 'a.xml' }, { path = './x/../a.xml' } }\n",
     "@: feeds[2]: duplicate feed \"#/a.xml\" (same as feeds[1])"},
    {"feeds = { { url = 'https://a.example/', name = 'N' },\n"
     "          { url = 'https://b.example/', name = 'N' } }\n",
     "@: feeds[2].name: duplicate name \"N\" (same as feeds[1])"},
    /* intervals */
    {"feeds = { 'https://a.example/', 'https://b.example/',\n"
     "  { url = 'https://c.example/', interval = '30s' } }\n",
     "@: feeds[3].interval: \"30s\" is below min_interval (1m)"},
    {"interval = 30\n", "@:1: interval: 30 is below min_interval (1m)"},
    /* no interval: the default is named, not "a nil" */
    {"min_interval = '2h'\n",
     "@: interval: the default 15m is below min_interval (2h)"},
    {"min_interval = '10s'\nfeeds = { { url = 'https://a.example/', interval "
     "= 5 } }\n",
     "@: feeds[1].interval: 5 is below min_interval (10s)"},
    {"interval = 0\n", "@:1: interval: 0: must be more than zero"},
    {"timeout = '5 minutes'\n", "@:1: timeout: \"5 minutes\": unknown unit "
                                "\"minutes\" (use ms, s, m, h, d or w)"},
    {"timeout = -5\n", "@:1: timeout: -5: negative duration"},
    {"keep_seen = 'forevr'\n", "@:1: keep_seen: \"forevr\": not a duration "
                               "(write e.g. \"30d\", or \"forever\")"},
    {"timeout = 'forever'\n",
     "@:1: timeout: \"forever\": must be a finite duration here"},
    {"timeout = 'soon'\n", "@:1: timeout: \"soon\": not a duration (write "
                           "e.g. \"90s\", \"15m\" or \"1h30m\")"},
    {"max_body = '16M'\n", "@:1: max_body: \"16M\": ambiguous unit \"M\" "
                           "(write e.g. MB for 10^6 or MiB for 2^20 bytes)"},
    {"max_body = '2GiB'\n", "@:1: max_body: \"2GiB\" is out of range (1B to "
                            "1GiB)"},
    {"log_level = 'loud'\n", "@:1: log_level: unknown level \"loud\" (use "
                             "error, warning, notice, info or debug)"},
    /* webhooks */
    {"webhooks = { ops = { url = 'https://h.example/', format = 'teams' } }\n",
     "@: webhooks.ops.format: unknown format \"teams\" (use json, slack, "
     "discord, mattermost, ntfy, matrix or a function)"},
    {"webhooks = { ops = { url = 'https://h.example/', format = 'slak' } }\n",
     "@: webhooks.ops.format: unknown format \"slak\" (did you mean "
     "\"slack\"?)"},
    {"webhooks = { ops = { format = 'json' } }\n",
     "@: webhooks.ops.url: missing (every webhook needs a url)"},
    {"webhooks = { ops = { url = 'smtp://h.example/' } }\n",
     "@: webhooks.ops.url: \"smtp://h.example/\": not an http or https URL"},
    /* a webhook's path is its secret (Slack, Discord): never echoed */
    {"webhooks = { ops = { url = 'https://hooks.slack.com/services/T0/B0/"
     "XXSECRETXX ', format = 'slack' } }\n",
     "@: webhooks.ops.url: \"https://hooks.slack.com/…\": contains a space or "
     "control character (encode it as %20)"},
    {"webhooks = { ops = { url = 'hooks.slack.com/services/T0/B0/XXSECRETXX' "
     "} }\n",
     "@: webhooks.ops.url: \"hooks.slack.com/…\": not an http or https URL"},
    {"webhooks = { { url = 'https://h.example/' } }\n",
     "@: webhooks[1]: webhooks are named: webhooks = { ops = { url = ... } }"},
    {"webhooks = { ['my hook'] = { url = 'https://h.example/' } }\n",
     "@: webhooks[\"my hook\"]: a webhook name is 1 to 64 letters, digits, "
     "'_', '-' or '.'"},
    {"webhooks = { ops = { url = 'https://h.example/', max_per_minute = 0 } "
     "}\n",
     "@: webhooks.ops.max_per_minute: 0 is out of range (1 to 1000000)"},
    {"webhooks = { ops = { url = 'https://h.example/', headers = {\n"
     "  ['Idempotency-Key'] = 'x' } } }\n",
     "@: webhooks.ops.headers[\"Idempotency-Key\"]: set by vigie, not by the "
     "config"},
    {"health = 'ops'\n",
     "@:1: health: \"ops\" is not a webhook (define it in webhooks)"},
    /* headers */
    {"feeds = { { url = 'https://a.example/', headers = { Host = 'evil' } } "
     "}\n",
     "@: feeds[1].headers[\"Host\"]: set by vigie, not by the config"},
    {"feeds = { { url = 'https://a.example/', headers = { X = 'a\\r\\nB: c' "
     "} } }\n",
     "@: feeds[1].headers[\"X\"]: value contains a control character (\\x0d)"},
    {"feeds = { { url = 'https://a.example/', headers = { ['X Y'] = 'a' } } "
     "}\n",
     "@: feeds[1].headers[\"X Y\"]: not a valid header name"},
    {"feeds = { { url = 'https://a.example/', headers = { x = 'a', X = 'b' } "
     "} }\n",
     "@: feeds[1].headers: header \"x\" given twice (names ignore case)"},
    /* scripts */
    {"scripts = { 'missing.lua' }\n",
     "@: scripts[1]: #/missing.lua: No such file or directory"},
    {"feeds = { { url = 'https://a.example/', scripts = { 'nope/x.lua' } } "
     "}\n",
     "@: feeds[1].scripts[1]: #/nope/x.lua: No such file or directory"},
    {"scripts = '.'\n", "@:1: scripts: #: not a regular file"},
    {"scripts = { 1 }\n", "@: scripts[1]: expected a script path, got number"},
    /* Lua errors, with lines */
    {"interval = '5m'\nx = = 1\n", "@:2: unexpected symbol near '='"},
    {"-- a comment\n\nerror('boom')\n", "@:3: boom"},
    {"error('no position', 0)\n", "@: no position"},
    {"local t = nil\nlocal x = t.field\n",
     "@:2: attempt to index a nil value (local 't')"},
    {"feeds = { vigie.opml('missing.opml') }\n",
     "@:1: vigie.opml: #/missing.opml: No such file or directory"},
    {"feeds = { vigie.opml('x.opml', { url = 'https://a/' }) }\n",
     "@:1: vigie.opml: defaults may not set url"},
    {"feeds = {{{{{{ 'https://a.example/' }}}}}}\n",
     "@: feeds[1][1][1][1][1]: lists nested deeper than 4"},
};

static void
test_validation_errors(void **state)
{
    UNUSED(state);
    for (size_t i = 0; i < ARRAY_LEN(error_cases); i++)
        expect_error(error_cases[i].lua, error_cases[i].err);
}

static void
test_error_unreadable_config(void **state)
{
    UNUSED(state);
    char err[2048], want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/none.lua: No such file or directory", dir);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/none.lua", dir);
    assert_null(config_load(p, err, sizeof err));
    assert_string_equal(err, want);
}

/* ------------------------------------------------------------- sandbox */

static void
test_sandbox_denies(void **state)
{
    UNUSED(state);
    static const ecase cases[] = {
        {"local f = io.open('/etc/passwd')\n",
         "@:1: attempt to index a nil value (global 'io')"},
        {"os.execute('touch /tmp/vigie-pwned')\n",
         "@:1: attempt to call a nil value (field 'execute')"},
        {"os.remove('x')\n",
         "@:1: attempt to call a nil value (field 'remove')"},
        {"require('os')\n",
         "@:1: attempt to call a nil value (global 'require')"},
        {"dofile('/etc/passwd')\n",
         "@:1: attempt to call a nil value (global 'dofile')"},
        {"loadfile('/etc/passwd')\n",
         "@:1: attempt to call a nil value (global 'loadfile')"},
        {"load('return 1')\n",
         "@:1: attempt to call a nil value (global 'load')"},
        {"local d = string.dump(print)\n",
         "@:1: attempt to call a nil value (field 'dump')"},
        {"local d = ('x'):dump()\n",
         "@:1: attempt to call a nil value (method 'dump')"},
        {"collectgarbage('stop')\n",
         "@:1: attempt to call a nil value (global 'collectgarbage')"},
        {"debug.sethook()\n",
         "@:1: attempt to index a nil value (global 'debug')"},
        {"package.loadlib('x', 'y')\n",
         "@:1: attempt to index a nil value (global 'package')"},
        {"local x = _G.io\n",
         "@:1: attempt to index a nil value (global '_G')"},
        {"setmetatable({}, { __gc = function() end })\n",
         "@:1: __gc metamethods are not allowed here"},
        {"rawset(_ENV, 'x', 1)\n",
         "@:1: attempt to call a nil value (global 'rawset')"},
        {"setmetatable(_ENV, nil)\n",
         "@:1: cannot change a protected metatable"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        expect_error(cases[i].lua, cases[i].err);
}

static void
test_sandbox_allows(void **state)
{
    UNUSED(state);
    char err[2048];
    setenv("VIGIE_TEST_SECRET", "from-env", 1);
    config *c = load(
        "assert(type(os.time()) == 'number')\n"
        "assert(type(os.date('!%Y')) == 'string')\n"
        "assert(type(os.clock()) == 'number')\n"
        "assert(string.format('%d', 3) == '3' and math.max(1, 2) == 2)\n"
        "assert(table.concat({'a', 'b'}, ',') == 'a,b' and utf8.char(233))\n"
        "assert(pcall(error, 'x') == false)\n"
        "assert(vigie.version ~= nil)\n"
        "local base = { interval = '1h' }\n"
        "local list = {}\n"
        "for i = 1, 3 do list[#list + 1] = { url = 'https://h.example/' .. i,\n"
        "  interval = base.interval } end\n"
        "feeds = list\n"
        "interval = '2h'\n"
        "assert(interval == '2h') -- globals read back\n"
        "webhooks = { ops = { url = 'https://h.example/',\n"
        "  secret = assert(os.getenv('VIGIE_TEST_SECRET')) } }\n",
        err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_int_equal(c->nfeeds, 3);
    assert_int_equal(c->feeds[2].interval, 3600000);
    assert_string_equal(c->webhooks[0].secret, "from-env");
    config_free(c);
}

static void
test_sandbox_endless_loop(void **state)
{
    UNUSED(state);
    expect_error("interval = '5m'\nwhile true do end\n",
                 "@:2: ran more than 200000000 Lua instructions (an endless "
                 "loop?)");
    /* a pcall that swallows the error does not get another budget */
    expect_error("while true do\n  pcall(function() while true do end end)\n"
                 "end\n",
                 "@:2: ran more than 200000000 Lua instructions (an endless "
                 "loop?)");
    /* deep recursion ends with Lua's own error */
    expect_error("local function f() return 1 + f() end\nf()\n",
                 "@:1: stack overflow");
}

static void
test_sandbox_memory_bomb(void **state)
{
    UNUSED(state);
    expect_error("local t = {}\nfor i = 1, 1e9 do t[i] = i end\n",
                 "@: needs more than 256 MiB of memory");
    expect_error("local s = string.rep('x', 300000000)\n",
                 "@: needs more than 256 MiB of memory");
    expect_error("local s = string.rep('x', 1e10)\n",
                 "@:1: resulting string too large");
}

/* ---------------------------------------------------------------- OPML */

static const char opml_nested[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<opml version=\"2.0\"><head><title>subs</title></head><body>\n"
    "<outline text=\"News\">\n"
    "  <outline text=\"A text\" title=\"Feed A\" type=\"rss\"\n"
    "           xmlUrl=\"https://a.example/rss?x=1&amp;y=2\"/>\n"
    "  <outline text=\"Deeper\">\n"
    "    <outline text=\"B\" xmlUrl=\"  http://b.example/atom \"/>\n"
    "    <outline text=\"Vu&#x10D;i&#263;\" xmlurl=\"http://c.example/\"/>\n"
    "  </outline>\n"
    "  <outline text=\"a note, no feed\"/>\n"
    "  <outline text=\"placeholder\" xmlUrl=\"\"/>\n"
    "</outline>\n"
    "<outline xmlUrl=\"https://d.example/\"/>\n"
    "</body></opml>\n";

static void
test_opml_parse(void **state)
{
    UNUSED(state);
    opml_list l = {0};
    char err[512];
    assert_int_equal(
        opml_parse(opml_nested, strlen(opml_nested), &l, err, sizeof err), 0);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].url, "https://a.example/rss?x=1&y=2");
    assert_string_equal(l.v[0].title, "Feed A");
    assert_string_equal(l.v[1].url, "http://b.example/atom");
    assert_string_equal(l.v[1].title, "B");
    assert_string_equal(l.v[2].title, "Vu\xc4\x8d"
                                      "i\xc4\x87");
    assert_string_equal(l.v[3].url, "https://d.example/");
    assert_string_equal(l.v[3].title, "");
    opml_free(&l);
}

static void
expect_opml_error(const char *doc, const char *want)
{
    opml_list l = {0};
    char err[512];
    assert_int_equal(opml_parse(doc, strlen(doc), &l, err, sizeof err), -1);
    assert_string_equal(err, want);
    assert_int_equal(l.n, 0);
    opml_free(&l);
}

static void
test_opml_refuses(void **state)
{
    UNUSED(state);
    /* billion laughs: refused at the first declaration */
    expect_opml_error(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE opml [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        "]>\n<opml><body><outline text=\"&lol2;\" xmlUrl=\"http://a/\"/>"
        "</body></opml>\n",
        "line 3: entity declarations are refused (<!ENTITY lol>): an OPML "
        "file needs none");
    /* external entity: refused before the file is opened */
    expect_opml_error(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE opml [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
        "<opml><head><title>&xxe;</title></head><body>"
        "<outline xmlUrl=\"http://a/\"/></body></opml>\n",
        "line 2: entity declarations are refused (<!ENTITY xxe SYSTEM ...>): "
        "an OPML file needs none");
    /* parameter entity pulling in an external DTD */
    expect_opml_error(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE opml [ <!ENTITY % ext SYSTEM \"http://127.0.0.1:9/x.dtd\">"
        " %ext; ]>\n<opml/>\n",
        "line 2: entity declarations are refused (<!ENTITY ext SYSTEM ...>): "
        "an OPML file needs none");
    /* undeclared entity */
    opml_list l = {0};
    char err[512];
    const char *undecl = "<opml><body><outline text=\"&nope;\" "
                         "xmlUrl=\"http://a/\"/></body></opml>";
    assert_int_equal(opml_parse(undecl, strlen(undecl), &l, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "not well-formed XML"));
    opml_free(&l);
    expect_opml_error("<rss version=\"2.0\"><channel/></rss>",
                      "line 1: not an OPML document (root element <rss>)");
    expect_opml_error("", "empty document");
    const char *cut = "<opml><body><outline xmlUrl=\"http://a/\">";
    assert_int_equal(opml_parse(cut, strlen(cut), &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "not well-formed XML"));
    opml_free(&l);
}

static void
test_opml_external_dtd_not_loaded(void **state)
{
    UNUSED(state);
    /* A DOCTYPE naming an external DTD is harmless: it is never fetched,
     * so the document parses and the (unreachable) DTD changes nothing. */
    const char *doc =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE opml SYSTEM \"/nonexistent/vigie-test.dtd\">\n"
        "<opml><body><outline xmlUrl=\"http://a.example/\"/></body></opml>";
    opml_list l = {0};
    char err[512];
    assert_int_equal(opml_parse(doc, strlen(doc), &l, err, sizeof err), 0);
    assert_int_equal(l.n, 1);
    opml_free(&l);
}

static void
test_opml_caps(void **state)
{
    UNUSED(state);
    buf b = {0};
    buf_adds(&b, "<opml><body>");
    for (unsigned i = 0; i <= OPML_MAX_FEEDS; i++)
        buf_printf(&b, "<outline xmlUrl=\"http://h.example/%u\"/>", i);
    buf_adds(&b, "</body></opml>");
    opml_list l = {0};
    char err[512];
    assert_int_equal(opml_parse(b.p, b.len, &l, err, sizeof err), -1);
    assert_string_equal(err, "line 1: more than 100000 feeds");
    opml_free(&l);

    buf_reset(&b);
    buf_adds(&b, "<opml><body><outline xmlUrl=\"http://h.example/");
    for (int i = 0; i < OPML_MAX_URL; i++)
        buf_addc(&b, 'a');
    buf_adds(&b, "\"/></body></opml>");
    assert_int_equal(opml_parse(b.p, b.len, &l, err, sizeof err), -1);
    assert_string_equal(err, "line 1: xmlUrl longer than 8192 bytes");
    opml_free(&l);

    assert_int_equal(opml_parse(b.p, OPML_MAX_BYTES + 1, &l, err, sizeof err),
                     -1);
    assert_string_equal(err, "larger than 16 MiB");
    opml_free(&l);
    buf_free(&b);
}

static void
test_opml_in_config(void **state)
{
    UNUSED(state);
    write_file("subs.opml", opml_nested);
    char err[2048];
    config *c = load("feeds = {\n"
                     "  { url = 'https://own.example/', name = 'Own' },\n"
                     "  vigie.opml('subs.opml', { interval = '1h' }),\n"
                     "}\n",
                     err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_int_equal(c->nfeeds, 5);
    assert_string_equal(c->feeds[1].url, "https://a.example/rss?x=1&y=2");
    assert_string_equal(c->feeds[1].name, "Feed A");
    assert_string_equal(c->feeds[1].where, "feeds[2][1]");
    assert_int_equal(c->feeds[1].interval, 3600000);
    assert_null(c->feeds[4].name);
    assert_int_equal(c->feeds[0].interval, 15 * 60000);
    config_free(c);

    /* an OPML feed that repeats one of the config's own is named */
    expect_error("feeds = { 'https://d.example/', vigie.opml('subs.opml') }\n",
                 "@: feeds[2][4]: duplicate feed \"https://d.example/\" (same "
                 "as feeds[1])");
    /* and a hostile one stops the load, naming both files */
    write_file("evil.opml",
               "<!DOCTYPE opml [<!ENTITY x SYSTEM \"secret.txt\">]>\n"
               "<opml><head><title>&x;</title></head><body>"
               "<outline xmlUrl=\"http://a/\"/></body></opml>");
    write_file("secret.txt", "TOP-SECRET-CONTENT");
    expect_error("\n\nfeeds = { vigie.opml('evil.opml') }\n",
                 "@:3: vigie.opml: #/evil.opml: line 1: entity declarations "
                 "are refused (<!ENTITY x SYSTEM ...>): an OPML file needs "
                 "none");
}

static void
test_glob_in_config(void **state)
{
    UNUSED(state);
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/samples", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/samples/dir.xml", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_file("samples/b.xml", "<rss/>");
    write_file("samples/a.xml", "<rss/>");
    write_file("samples/c.txt", "x");
    char err[2048];
    config *c = load("feeds = { vigie.glob('samples/*.xml', { interval = "
                     "'2h' }), vigie.glob('none/*.xml') }\n",
                     err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_int_equal(c->nfeeds, 2); /* a, b; not the directory, not c.txt */
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/samples/a.xml", dir);
    assert_string_equal(c->feeds[0].path, want);
    assert_string_equal(c->feeds[0].label, want);
    assert_int_equal(c->feeds[1].interval, 7200000);
    config_free(c);
}

/* ------------------------------------------ hooks: scripts, Lua formats */

static int fake_checked;

static int
fake_checker(const char *path, char *err, size_t errlen)
{
    fake_checked++;
    if (strstr(path, "bad")) {
        snprintf(err, errlen, "%s: refused by the runtime", path);
        return -1;
    }
    return 0;
}

static void
test_check_scripts(void **state)
{
    UNUSED(state);
    write_file("good.lua", "function on_item(item)\n  return 1\nend\n");
    write_file("broken.lua", "function on_item(item)\n\n  x = = 1\nend\n");
    write_file("bin.lua", "\x1bLuaT\x00\x19\x93\r\n\x1a\n");
    char err[2048], want[PATH_MAX + 128];

    config *c =
        load("scripts = { 'good.lua', 'broken.lua' }\n", err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_int_equal(config_check_scripts(c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s/broken.lua:3: unexpected symbol near '='",
             dir);
    assert_string_equal(err, want);
    config_free(c);

    /* binary chunks are refused: text mode only */
    c = load("scripts = 'bin.lua'\n", err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_int_equal(config_check_scripts(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "attempt to load a binary chunk"));
    config_free(c);

    /* the rule runtime can take over the check */
    write_file("bad.lua", "-- fine Lua, but the runtime says no\n");
    c = load("scripts = { 'good.lua', 'bad.lua' }\n", err, sizeof err);
    if (!c) fail_msg("%s", err);
    config_set_script_checker(fake_checker);
    fake_checked = 0;
    assert_int_equal(config_check_scripts(c, err, sizeof err), -1);
    assert_int_equal(fake_checked, 2);
    assert_non_null(strstr(err, "bad.lua: refused by the runtime"));
    config_set_script_checker(NULL);
    assert_int_equal(config_check_scripts(c, err, sizeof err), 0);
    config_free(c);
}

static void
test_lua_format(void **state)
{
    UNUSED(state);
    char err[2048];
    config *c =
        load("local prefix = '[vigie] '\n"
             "webhooks = {\n"
             "  plain = { url = 'https://h.example/p' },\n"
             "  custom = { url = 'https://h.example/c',\n"
             "    format = function(payload, item)\n"
             "      return prefix .. payload.text .. ' | ' .. item.title ..\n"
             "             ' | ' .. #item.categories, 'text/plain'\n"
             "    end },\n"
             "  deflt = { url = 'https://h.example/d',\n"
             "    format = function(p) return '{}' end },\n"
             "  broken = { url = 'https://h.example/b',\n"
             "    format = function(p) return p.missing.field end },\n"
             "  loops = { url = 'https://h.example/l',\n"
             "    format = function(p) while true do end end },\n"
             "  nobody = { url = 'https://h.example/n',\n"
             "    format = function(p) return {} end },\n"
             "}\n",
             err, sizeof err);
    if (!c) fail_msg("%s", err);
    assert_non_null(c->L); /* kept for the functions */
    char *body = NULL, *ct = NULL;
    size_t len = 0;

    const config_webhook *w = config_find_webhook(c, "custom");
    assert_int_equal(w->format, WEBHOOK_LUA);
    assert_int_equal(config_format_call(c, w, "{\"text\":\"hit\"}",
                                        "{\"title\":\"T\",\"categories\":"
                                        "[\"a\",\"b\"],\"author\":null}",
                                        &body, &len, &ct, err, sizeof err),
                     0);
    assert_string_equal(body, "[vigie] hit | T | 2");
    assert_int_equal(len, strlen(body));
    assert_string_equal(ct, "text/plain");
    free(body);
    free(ct);

    w = config_find_webhook(c, "deflt");
    assert_int_equal(
        config_format_call(c, w, "{}", NULL, &body, &len, &ct, err, sizeof err),
        0);
    assert_string_equal(ct, "application/json");
    free(body);
    free(ct);

    char want[PATH_MAX + 256];
    w = config_find_webhook(c, "broken");
    assert_int_equal(
        config_format_call(c, w, "{}", NULL, &body, &len, &ct, err, sizeof err),
        -1);
    snprintf(want, sizeof want,
             "webhook broken: format: %s:12: attempt to index a nil value "
             "(field 'missing')",
             cfg_path);
    assert_string_equal(err, want);

    w = config_find_webhook(c, "loops");
    assert_int_equal(
        config_format_call(c, w, "{}", NULL, &body, &len, &ct, err, sizeof err),
        -1);
    snprintf(want, sizeof want,
             "webhook loops: format: %s:14: ran more than 10000000 Lua "
             "instructions (an endless loop?)",
             cfg_path);
    assert_string_equal(err, want);

    w = config_find_webhook(c, "nobody");
    assert_int_equal(
        config_format_call(c, w, "{}", NULL, &body, &len, &ct, err, sizeof err),
        -1);
    assert_string_equal(err, "webhook nobody: format must return the body as a "
                             "string");

    /* the state still works after the failures */
    w = config_find_webhook(c, "deflt");
    assert_int_equal(config_format_call(c, w, "not json", NULL, &body, &len,
                                        &ct, err, sizeof err),
                     -1);
    assert_int_equal(config_format_call(c, w, "[1,2]", NULL, &body, &len, &ct,
                                        err, sizeof err),
                     0);
    free(body);
    free(ct);
    w = config_find_webhook(c, "plain");
    assert_int_equal(
        config_format_call(c, w, "{}", NULL, &body, &len, &ct, err, sizeof err),
        -1);
    config_free(c);
}

/* --------------------------------------------- etc/vigie.lua documents */

/* Every commented default line of etc/vigie.lua ("-- key = value  -- why"),
 * uncommented, must give exactly the built-in defaults; and every setting
 * the loader knows must appear in the file. */
static void
test_shipped_config_documents_defaults(void **state)
{
    UNUSED(state);
    const char *fx = getenv("VIGIE_FIXTURES");
    char etc[PATH_MAX];
    snprintf(etc, sizeof etc, "%s/../../etc/vigie.lua",
             fx ? fx : "tests/fixtures");
    buf text = {0}, out = {0};
    if (read_file(etc, 1 << 20, &text) < 0)
        fail_msg("%s: %s", etc, strerror(errno));

    static const char *const keys[] = {
        "state_dir",    "interval",
        "timeout",      "connect_timeout",
        "max_body",     "user_agent",
        "per_host",     "max_concurrent",
        "min_interval", "allow_private_networks",
        "log_level",    "scripts",
        "rule_timeout", "rule_memory",
        "catch_up",     "keep_seen",
        "keep_items",   "dedup",
        "dedup_window", "alert_after",
        "health",       "feeds",
        "webhooks",
    };
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\n%s = ", keys[i]);
        char pat2[64];
        snprintf(pat2, sizeof pat2, "\n-- %s = ", keys[i]);
        if (!strstr(text.p, pat) && !strstr(text.p, pat2))
            fail_msg("etc/vigie.lua does not mention %s", keys[i]);
    }

    assert_true(strstr(text.p, "-- user_agent = \"vigie/<version> (+") != NULL);
    size_t n = 0;
    for (char *line = strtok(text.p, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "-- ", 3) != 0) continue;
        const char *k = line + 3, *e = k;
        while ((*e >= 'a' && *e <= 'z') || *e == '_')
            e++;
        if (e == k || strncmp(e, " = ", 3) != 0) continue;
        char *end = strstr(line, "  --");
        if (end) *end = '\0';
        if (strchr(line, '<')) continue; /* "vigie/<version>": not literal */
        buf_printf(&out, "%s\n", line + 3);
        n++;
    }
    assert_int_equal(
        n, 19); /* every setting but user_agent, feeds, webhooks, state_dir */
    char err[2048];
    config *doc = load(out.p, err, sizeof err);
    if (!doc) fail_msg("uncommented defaults: %s\n%s", err, out.p);
    config *def = load("", err, sizeof err);
    assert_non_null(def);
#define SAME(f) assert_true(doc->f == def->f)
    SAME(interval);
    SAME(timeout);
    SAME(connect_timeout);
    SAME(min_interval);
    SAME(max_body);
    SAME(per_host);
    SAME(max_concurrent);
    SAME(allow_private_networks);
    SAME(log_level);
    SAME(ndefault_scripts);
    SAME(rule_timeout);
    SAME(rule_memory);
    SAME(catch_up);
    SAME(keep_seen);
    SAME(keep_items);
    SAME(dedup);
    SAME(dedup_window);
    SAME(alert_after);
    SAME(health);
#undef SAME
    config_free(doc);
    config_free(def);
    buf_free(&text);
    buf_free(&out);
}

int
main(void)
{
    log_init(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_table),
        cmocka_unit_test(test_duration_messages),
        cmocka_unit_test(test_size_table),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_path_resolve),
        cmocka_unit_test(test_url_key),
        cmocka_unit_test(test_opml_parse),
        cmocka_unit_test(test_opml_refuses),
        cmocka_unit_test(test_opml_external_dtd_not_loaded),
        cmocka_unit_test(test_opml_caps),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_to_config_dir, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validation_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_unreadable_config, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_denies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_allows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_endless_loop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_memory_bomb, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_opml_in_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_glob_in_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lua_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shipped_config_documents_defaults,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
