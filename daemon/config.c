/* config.c — load the Lua config, validate it, copy it out into C structs.
 *
 * The chunk runs first, in the sandbox (config_lua.c); then one C function,
 * itself under lua_pcall so that a memory error cannot escape, walks the
 * settings table with raw accesses only (no metamethod of the config ever
 * runs during validation) and fills the config. Validation stops at the
 * first error, and the walk is in a fixed order (known keys in table order,
 * then unknown keys by name, webhooks by name) so the error reported for a
 * given file is always the same one. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>

#include "config.h"
#include "config_lua.h"
#include "fetch.h"
#include "log.h"
#include "outbox.h"
#include "url.h"

#define DEFAULT_USER_AGENT FETCH_USER_AGENT

#define MAX_FEED_NESTING 4 /* feeds = { vigie.opml(...), ... } and deeper */
#define FORMAT_INSTRUCTIONS 10000000LL

/* ---------------------------------------------------------------- keys */

static const char *const top_keys[] = {
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

static const char *const feed_keys[] = {
    "url",          "path",    "name",    "interval",
    "timeout",      "scripts", "headers", "allow_private_networks",
    "silent_after",
};

static const char *const webhook_keys[] = {
    "url",
    "format",
    "secret",
    "headers",
    "max_per_minute",
    "give_up_after",
    "timeout",
    "allow_private_networks",
};

static const char *const format_names[] = {
    [WEBHOOK_JSON] = "json",       [WEBHOOK_SLACK] = "slack",
    [WEBHOOK_DISCORD] = "discord", [WEBHOOK_MATTERMOST] = "mattermost",
    [WEBHOOK_NTFY] = "ntfy",       [WEBHOOK_MATRIX] = "matrix",
    [WEBHOOK_LUA] = "lua",
};

const char *
webhook_format_name(webhook_format f)
{
    return (size_t)f < ARRAY_LEN(format_names) ? format_names[f] : "?";
}

/* ------------------------------------------------------------- loader */

typedef struct loader {
    lua_State *L;
    config *c;
    char *err;
    size_t errlen;
    int failed;
    int settings, lines; /* stack slots */
    size_t feeds_cap, scripts_cap;
} loader;

enum { DUR_ZERO = 1, DUR_FOREVER = 2 };

/* A top-level key's line, or 0. */
static int
line_of(loader *ld, const char *where)
{
    if (!where || strpbrk(where, ".[")) return 0;
    lua_pushstring(ld->L, where);
    int line = 0;
    if (lua_rawget(ld->L, ld->lines) == LUA_TNUMBER)
        line = (int)lua_tointeger(ld->L, -1);
    lua_pop(ld->L, 1);
    return line;
}

static int PRINTF_LIKE(3, 4)
    bad(loader *ld, const char *where, const char *fmt, ...)
{
    if (ld->failed) return -1;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = line_of(ld, where);
    if (line > 0)
        snprintf(ld->err, ld->errlen, "%s:%d: %s: %s", ld->c->path, line, where,
                 msg);
    else if (where)
        snprintf(ld->err, ld->errlen, "%s: %s: %s", ld->c->path, where, msg);
    else
        snprintf(ld->err, ld->errlen, "%s: %s", ld->c->path, msg);
    ld->failed = 1;
    return -1;
}

/* Quoted, escaped and shortened text for messages. */
static void
quote(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen < 8) {
        if (outlen) out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (o + 8 >= outlen || i >= 80) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* A URL quoted for a message: its password is no one's business, not
 * even the journal's (ExecStartPre runs `vigie check`). */
static void
quote_url(const char *url, char *out, size_t outlen)
{
    char *shown = url_redact(url);
    quote(shown, strlen(shown), out, outlen);
    free(shown);
}

/* A webhook URL quoted for a message: for Slack, Discord and most
 * receivers anyone holding the path can post, so only the scheme and host
 * are shown ("https://hooks.slack.com/…"); the key path says which. */
static void
quote_webhook_url(const char *url, char *out, size_t outlen)
{
    char *shown = url_origin_shown(url);
    quote(shown, strlen(shown), out, outlen);
    free(shown);
}

/* The value at idx as the user wrote it, roughly: "30s", 30, true, a table. */
static void
describe(lua_State *L, int idx, char *out, size_t outlen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        quote(s, len, out, outlen);
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(out, outlen, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(out, outlen, "%.14g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN:
        snprintf(out, outlen, "%s", lua_toboolean(L, idx) ? "true" : "false");
        break;
    default:
        snprintf(out, outlen, "a %s", lua_typename(L, lua_type(L, idx)));
    }
}

static const char *
type_of(lua_State *L, int idx)
{
    return lua_typename(L, lua_type(L, idx));
}

static void
keypath(char *out, size_t n, const char *where, const char *key)
{
    if (where)
        snprintf(out, n, "%s.%s", where, key);
    else
        snprintf(out, n, "%s", key);
}

/* ------------------------------------------------------ did you mean */

static size_t
edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40) return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = ascii_tolower(a[i - 1]) != ascii_tolower(b[j - 1]);
            size_t v = diag + cost;
            if (row[j] + 1 < v) v = row[j] + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
        }
    }
    return row[lb];
}

static const char *
closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < best_d && d < len) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

/* Every key of table t must be a string in known; reports the smallest
 * unknown one. */
static int
check_keys(loader *ld, int t, const char *where, const char *const *known,
           size_t nknown)
{
    lua_State *L = ld->L;
    /* Pointers to keys stay valid: the table holds the strings and is
     * not changed while we look. */
    const char *worst = NULL;
    size_t worst_len = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            char d[64];
            describe(L, -1, d, sizeof d);
            lua_pop(L, 1);
            if (where)
                return bad(ld, where,
                           "unexpected entry [%s] (this table takes named "
                           "keys)",
                           d);
            return bad(ld, NULL, "unexpected global [%s]", d);
        }
        size_t len;
        const char *k = lua_tolstring(L, -1, &len);
        size_t i;
        for (i = 0; i < nknown; i++)
            if (!strcmp(k, known[i]) && strlen(k) == len) break;
        if (i < nknown) continue;
        if (!worst || strcmp(k, worst) < 0) {
            worst = k;
            worst_len = len;
        }
    }
    if (!worst) return 0;
    char shown[128], kp[256];
    quote(worst, worst_len, shown, sizeof shown);
    int plain = strlen(worst) == worst_len && worst_len < 64;
    for (size_t i = 0; plain && i < worst_len; i++)
        if (!(worst[i] == '_' || (worst[i] >= 'a' && worst[i] <= 'z') ||
              (worst[i] >= 'A' && worst[i] <= 'Z') ||
              (worst[i] >= '0' && worst[i] <= '9')))
            plain = 0;
    if (plain)
        keypath(kp, sizeof kp, where, worst);
    else if (where)
        snprintf(kp, sizeof kp, "%s[%s]", where, shown);
    else
        snprintf(kp, sizeof kp, "[%s]", shown);
    const char *hint = plain ? closest(worst, known, nknown) : NULL;
    const char *what = where ? "unknown key" : "unknown setting";
    if (hint) return bad(ld, kp, "%s (did you mean \"%s\"?)", what, hint);
    if (!where)
        return bad(ld, kp, "%s (use 'local' for your own variables)", what);
    return bad(ld, kp, "%s", what);
}

/* ------------------------------------------------------------ getters */

/* Each getter reads t[key] raw. Returns 1 if set (out written), 0 if nil,
 * -1 on error. The stack is left as it was. */

static int
get_string(loader *ld, int t, const char *where, const char *key, size_t maxlen,
           const char **out)
{
    lua_State *L = ld->L;
    char kp[256];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty != LUA_TSTRING) {
        const char *tn = type_of(L, -1);
        lua_pop(L, 1);
        return bad(ld, kp, "expected a string, got %s", tn);
    }
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len == 0) {
        lua_pop(L, 1);
        return bad(ld, kp, "must not be empty");
    }
    if (len > maxlen) {
        lua_pop(L, 1);
        return bad(ld, kp, "longer than %zu bytes", maxlen);
    }
    if (strlen(s) != len) {
        lua_pop(L, 1);
        return bad(ld, kp, "contains a NUL byte");
    }
    *out = arena_strndup(&ld->c->mem, s, len);
    lua_pop(L, 1);
    return 1;
}

/* A string for a log line or a header: no control characters. */
static int
get_line_string(loader *ld, int t, const char *where, const char *key,
                size_t maxlen, const char **out)
{
    int rc = get_string(ld, t, where, key, maxlen, out);
    if (rc != 1) return rc;
    int c = fetch_control_byte(*out, strlen(*out), false);
    if (c >= 0) {
        char kp[256];
        keypath(kp, sizeof kp, where, key);
        return bad(ld, kp, "contains a control character (\\x%02x)",
                   (unsigned)c);
    }
    return 1;
}

static int
get_bool(loader *ld, int t, const char *where, const char *key, int *out)
{
    lua_State *L = ld->L;
    char kp[256];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty != LUA_TBOOLEAN) {
        const char *tn = type_of(L, -1);
        lua_pop(L, 1);
        return bad(ld, kp, "expected true or false, got %s", tn);
    }
    *out = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return 1;
}

static int
get_int(loader *ld, int t, const char *where, const char *key, int64_t min,
        int64_t max, int64_t *out)
{
    lua_State *L = ld->L;
    char kp[256];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    int isint = 0;
    lua_Integer v = 0;
    if (ty == LUA_TNUMBER) v = lua_tointegerx(L, -1, &isint);
    if (!isint) {
        char d[64];
        describe(L, -1, d, sizeof d);
        lua_pop(L, 1);
        return bad(ld, kp, "expected a whole number, got %s", d);
    }
    lua_pop(L, 1);
    if (v < min || v > max)
        return bad(ld, kp, "%lld is out of range (%lld to %lld)", (long long)v,
                   (long long)min, (long long)max);
    *out = v;
    return 1;
}

/* Reads the value on top of the stack (not popped) as a duration. */
static int
to_duration(loader *ld, const char *kp, unsigned flags, int64_t *out)
{
    lua_State *L = ld->L;
    char why[256], d[128];
    int64_t ms = 0;
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
        if (duration_from_seconds((double)lua_tonumber(L, -1), &ms, why,
                                  sizeof why) < 0) {
            describe(L, -1, d, sizeof d);
            return bad(ld, kp, "%s: %s", d, why);
        }
        break;
    case LUA_TSTRING: {
        const char *s = lua_tostring(L, -1);
        if ((flags & DUR_FOREVER) &&
            (!strcmp(s, "forever") || !strcmp(s, "never") ||
             !strcmp(s, "off"))) {
            *out = DURATION_FOREVER;
            return 1;
        }
        if (strlen(s) != lua_rawlen(L, -1) ||
            duration_parse(s, &ms, why, sizeof why) < 0) {
            describe(L, -1, d, sizeof d);
            if (strlen(s) != lua_rawlen(L, -1))
                snprintf(why, sizeof why, "contains a NUL byte");
            else if (!strcmp(s, "forever") || !strcmp(s, "never") ||
                     !strcmp(s, "off"))
                snprintf(why, sizeof why, "must be a finite duration here");
            else if ((flags & DUR_FOREVER) && !strncmp(why, "not a dur", 9))
                snprintf(why, sizeof why,
                         "not a duration (write e.g. \"30d\", or "
                         "\"forever\")");
            return bad(ld, kp, "%s: %s", d, why);
        }
        break;
    }
    case LUA_TBOOLEAN:
        if ((flags & DUR_FOREVER) && !lua_toboolean(L, -1)) {
            *out = DURATION_FOREVER;
            return 1;
        }
        FALLTHROUGH;
    default:
        return bad(ld, kp,
                   "expected a duration (seconds, or a string like \"15m\"%s)"
                   ", got %s",
                   (flags & DUR_FOREVER) ? ", or \"forever\"/false" : "",
                   type_of(L, -1));
    }
    if (ms == 0 && !(flags & DUR_ZERO)) {
        describe(L, -1, d, sizeof d);
        return bad(ld, kp, "%s: must be more than zero", d);
    }
    *out = ms;
    return 1;
}

static int
get_duration(loader *ld, int t, const char *where, const char *key,
             unsigned flags, int64_t *out)
{
    char kp[256];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(ld->L, key);
    if (lua_rawget(ld->L, t) == LUA_TNIL) {
        lua_pop(ld->L, 1);
        return 0;
    }
    int rc = to_duration(ld, kp, flags, out);
    lua_pop(ld->L, 1);
    return rc;
}

static int
get_size(loader *ld, int t, const char *where, const char *key, int64_t min,
         int64_t max, int64_t *out)
{
    lua_State *L = ld->L;
    char kp[256], why[256], d[128];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    int64_t v = 0;
    int rc = 0;
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    describe(L, -1, d, sizeof d);
    if (ty == LUA_TNUMBER)
        rc = size_from_number((double)lua_tonumber(L, -1), &v, why, sizeof why);
    else if (ty == LUA_TSTRING)
        rc = size_parse(lua_tostring(L, -1), &v, why, sizeof why);
    else {
        const char *tn = type_of(L, -1);
        lua_pop(L, 1);
        return bad(ld, kp,
                   "expected a size (bytes, or a string like \"16MiB\"), got "
                   "%s",
                   tn);
    }
    lua_pop(L, 1);
    if (rc < 0) return bad(ld, kp, "%s: %s", d, why);
    if (v < min || v > max) {
        char lo[32], hi[32];
        size_format(min, lo, sizeof lo);
        size_format(max, hi, sizeof hi);
        return bad(ld, kp, "%s is out of range (%s to %s)", d, lo, hi);
    }
    *out = v;
    return 1;
}

/* ---------------------------------------------------------- paths, URLs */

int
config_path_resolve(const char *base, const char *p, char *out, size_t outlen)
{
    char tmp[PATH_MAX * 2];
    int n;
    if (p[0] == '/')
        n = snprintf(tmp, sizeof tmp, "%s", p);
    else
        n = snprintf(tmp, sizeof tmp, "%s/%s", base, p);
    if (n < 0 || (size_t)n >= sizeof tmp) return -1;

    /* Walk the components, keeping a stack of where each one starts. */
    size_t o = 0;
    const char *s = tmp;
    char res[PATH_MAX * 2];
    res[0] = '\0';
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* nothing */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            while (o > 0 && res[o - 1] != '/')
                o--;
            if (o > 0) o--; /* the slash before it */
        } else {
            if (o + 1 + len + 1 > sizeof res) return -1;
            res[o++] = '/';
            memcpy(res + o, s, len);
            o += len;
        }
        s = e;
    }
    if (o == 0) res[o++] = '/';
    res[o] = '\0';
    if (o + 1 > outlen) return -1;
    memcpy(out, res, o + 1);
    return 0;
}

static int
url_char_ok(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

static char *
url_key(arena *a, const char *url, char *why, size_t whylen)
{
    size_t len = strlen(url);
    if (len > CONFIG_MAX_URL) {
        snprintf(why, whylen, "longer than %d bytes", CONFIG_MAX_URL);
        return NULL;
    }
    for (size_t i = 0; i < len; i++)
        if (!url_char_ok((unsigned char)url[i])) {
            snprintf(why, whylen,
                     "contains a space or control character (encode it as "
                     "%%%02X)",
                     (unsigned)(unsigned char)url[i]);
            return NULL;
        }
    const char *colon = strchr(url, ':');
    size_t slen = colon ? (size_t)(colon - url) : 0;
    int https;
    if (slen == 4 && !ascii_strncasecmp(url, "http", 4))
        https = 0;
    else if (slen == 5 && !ascii_strncasecmp(url, "https", 5))
        https = 1;
    else {
        snprintf(why, whylen, "not an http or https URL");
        return NULL;
    }
    if (strncmp(colon + 1, "//", 2) != 0) {
        snprintf(why, whylen, "not an http or https URL (no \"//\")");
        return NULL;
    }
    const char *auth = colon + 3;
    const char *end = auth + strcspn(auth, "/?#");
    /* userinfo ends at the last '@' of the authority */
    const char *host = auth;
    for (const char *p = auth; p < end; p++)
        if (*p == '@') host = p + 1;
    const char *port = NULL, *hend = end;
    if (host < end && *host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));
        if (!rb) {
            snprintf(why, whylen, "unterminated IPv6 address");
            return NULL;
        }
        if (rb + 1 < end) {
            if (rb[1] != ':') {
                snprintf(why, whylen, "bad host");
                return NULL;
            }
            port = rb + 2;
        }
        hend = rb + 1;
    } else {
        const char *c = memchr(host, ':', (size_t)(end - host));
        if (c) {
            port = c + 1;
            hend = c;
        }
    }
    if (hend == host) {
        snprintf(why, whylen, "no host");
        return NULL;
    }
    for (const char *p = host; p < hend; p++)
        if (strchr("\"<>\\^`{|}%", *p) && !(*host == '[' && *p == '%')) {
            snprintf(why, whylen, "bad character '%c' in the host", *p);
            return NULL;
        }
    long portnum = https ? 443 : 80;
    if (port) {
        if (port == end) {
            port = NULL; /* "http://host:/" means the default port */
        } else {
            portnum = 0;
            for (const char *p = port; p < end; p++) {
                if (*p < '0' || *p > '9' || portnum > 65535) {
                    snprintf(why, whylen, "bad port");
                    return NULL;
                }
                portnum = portnum * 10 + (*p - '0');
            }
            if (portnum < 1 || portnum > 65535) {
                snprintf(why, whylen, "bad port");
                return NULL;
            }
        }
    }
    const char *rest = end;
    const char *frag = strchr(rest, '#');
    size_t restlen = frag ? (size_t)(frag - rest) : strlen(rest);

    buf b = {0};
    buf_adds(&b, https ? "https://" : "http://");
    buf_add(&b, auth, (size_t)(host - auth)); /* userinfo, as written */
    for (const char *p = host; p < hend; p++)
        buf_addc(&b, ascii_tolower(*p));
    if (portnum != (https ? 443 : 80)) buf_printf(&b, ":%ld", portnum);
    if (restlen == 0 || rest[0] != '/') buf_addc(&b, '/');
    buf_add(&b, rest, restlen);
    char *key = arena_strndup(a, b.p, b.len);
    buf_free(&b);
    return key;
}

/* An international host is keyed in punycode, the form fetched:
 * "bücher.example" and "xn--bcher-kva.example" are one feed, and a name
 * that cannot be converted is refused by `vigie check`, not at each poll. */
char *
config_url_key(arena *a, const char *url, char *why, size_t whylen)
{
    char *ascii = url_ascii_host(url, why, whylen);
    if (!ascii) return NULL;
    char *key = url_key(a, ascii, why, whylen);
    free(ascii);
    return key;
}

/* ------------------------------------------------------------ scripts */

static int
add_script(loader *ld, const char *where, const char *rel, size_t *idx)
{
    config *c = ld->c;
    char abs[PATH_MAX];
    if (config_path_resolve(c->dir, rel, abs, sizeof abs) < 0)
        return bad(ld, where, "path too long");
    for (size_t i = 0; i < c->nscripts; i++)
        if (!strcmp(c->scripts[i], abs)) {
            *idx = i;
            return 0;
        }
    struct stat st;
    if (stat(abs, &st) != 0)
        return bad(ld, where, "%s: %s", abs, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return bad(ld, where, "%s: not a regular file", abs);
    if (access(abs, R_OK) != 0)
        return bad(ld, where, "%s: %s", abs, strerror(errno));
    if (c->nscripts >= CONFIG_MAX_SCRIPTS)
        return bad(ld, where, "more than %d scripts", CONFIG_MAX_SCRIPTS);
    if (c->nscripts == ld->scripts_cap) {
        ld->scripts_cap = ld->scripts_cap ? ld->scripts_cap * 2 : 8;
        c->scripts = xrealloc(c->scripts, ld->scripts_cap * sizeof *c->scripts);
    }
    c->scripts[c->nscripts] = arena_strdup(&c->mem, abs);
    *idx = c->nscripts++;
    return 0;
}

/* t[key]: a string or a list of strings, each a script path. */
static int
get_scripts(loader *ld, int t, const char *where, const char *key, size_t **out,
            size_t *nout)
{
    lua_State *L = ld->L;
    char kp[256], ek[300];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    int v = lua_gettop(L);
    int rc = 1;
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty == LUA_TSTRING) {
        size_t *idx = arena_alloc(&ld->c->mem, sizeof *idx);
        if (add_script(ld, kp, lua_tostring(L, v), idx) < 0)
            rc = -1;
        else {
            *out = idx;
            *nout = 1;
        }
        lua_pop(L, 1);
        return rc;
    }
    if (ty != LUA_TTABLE) {
        lua_pop(L, 1);
        return bad(ld, kp, "expected a list of script paths, got %s",
                   lua_typename(L, ty));
    }
    size_t n = lua_rawlen(L, v);
    if (n > CONFIG_MAX_SCRIPTS) {
        lua_pop(L, 1);
        return bad(ld, kp, "more than %d scripts", CONFIG_MAX_SCRIPTS);
    }
    lua_pushnil(L);
    while (lua_next(L, v)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            (size_t)lua_tointeger(L, -1) > n) {
            char d[64];
            describe(L, -1, d, sizeof d);
            lua_settop(L, v - 1);
            return bad(ld, kp, "unexpected key %s (a list of paths)", d);
        }
    }
    size_t *idx = n ? arena_alloc(&ld->c->mem, n * sizeof *idx) : NULL;
    size_t m = 0;
    for (size_t i = 1; i <= n && rc == 1; i++) {
        snprintf(ek, sizeof ek, "%s[%zu]", kp, i);
        if (lua_rawgeti(L, v, (lua_Integer)i) != LUA_TSTRING)
            rc = bad(ld, ek, "expected a script path, got %s", type_of(L, -1));
        else if (add_script(ld, ek, lua_tostring(L, -1), &idx[m]) < 0)
            rc = -1;
        else {
            /* the same file twice in one list runs once */
            size_t k;
            for (k = 0; k < m && idx[k] != idx[m]; k++) {
            }
            if (k == m) m++;
        }
        lua_pop(L, 1);
    }
    lua_settop(L, v - 1);
    if (rc == 1) {
        *out = idx;
        *nout = m;
    }
    return rc;
}

/* ------------------------------------------------------------ headers */

/* Case-insensitive, then exact: the order never depends on the table's. */
static int
cmp_header(const void *a, const void *b)
{
    const char *x = ((const config_header *)a)->name;
    const char *y = ((const config_header *)b)->name;
    int r = ascii_strcasecmp(x, y);
    return r ? r : strcmp(x, y);
}

static int
get_headers(loader *ld, int t, const char *where, const char *key, int webhook,
            config_headers *out)
{
    static const char *const managed_webhook[] = {"idempotency-key",
                                                  "x-vigie-signature"};
    lua_State *L = ld->L;
    char kp[256], hk[512];
    keypath(kp, sizeof kp, where, key);
    lua_pushstring(L, key);
    int ty = lua_rawget(L, t);
    int v = lua_gettop(L);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty != LUA_TTABLE) {
        lua_pop(L, 1);
        return bad(ld, kp, "expected a table of name = value, got %s",
                   lua_typename(L, ty));
    }
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, v)) {
        lua_pop(L, 1);
        n++;
    }
    if (n > CONFIG_MAX_HEADERS) {
        lua_pop(L, 1);
        return bad(ld, kp, "more than %d headers", CONFIG_MAX_HEADERS);
    }
    config_header *h = n ? arena_alloc(&ld->c->mem, n * sizeof *h) : NULL;
    size_t m = 0;
    lua_pushnil(L);
    while (lua_next(L, v)) {
        char d[128];
        if (lua_type(L, -2) != LUA_TSTRING) {
            describe(L, -2, d, sizeof d);
            lua_settop(L, v - 1);
            return bad(ld, kp, "header names must be strings, got [%s]", d);
        }
        size_t nlen, vlen;
        const char *name = lua_tolstring(L, -2, &nlen);
        quote(name, nlen, d, sizeof d);
        snprintf(hk, sizeof hk, "%s[%s]", kp, d);
        if (!fetch_header_name_ok(name, nlen)) {
            lua_settop(L, v - 1);
            return bad(ld, hk, "not a valid header name");
        }
        if (fetch_header_managed(name, nlen)) {
            lua_settop(L, v - 1);
            return bad(ld, hk, "set by vigie, not by the config");
        }
        for (size_t i = 0; webhook && i < ARRAY_LEN(managed_webhook); i++)
            if (!ascii_strcasecmp(name, managed_webhook[i])) {
                lua_settop(L, v - 1);
                return bad(ld, hk, "set by vigie, not by the config");
            }
        if (lua_type(L, -1) != LUA_TSTRING) {
            const char *tn = type_of(L, -1);
            lua_settop(L, v - 1);
            return bad(ld, hk, "expected a string value, got %s", tn);
        }
        const char *val = lua_tolstring(L, -1, &vlen);
        if (vlen > CONFIG_MAX_STRING) {
            lua_settop(L, v - 1);
            return bad(ld, hk, "value longer than %d bytes", CONFIG_MAX_STRING);
        }
        int ch = fetch_control_byte(val, vlen, true);
        if (ch >= 0) {
            lua_settop(L, v - 1);
            return bad(ld, hk, "value contains a control character (\\x%02x)",
                       (unsigned)ch);
        }
        h[m].name = arena_strndup(&ld->c->mem, name, nlen);
        h[m].value = arena_strndup(&ld->c->mem, val, vlen);
        m++;
        lua_pop(L, 1);
    }
    lua_settop(L, v - 1);
    qsort(h, m, sizeof *h, cmp_header);
    for (size_t i = 1; i < m; i++)
        if (!ascii_strcasecmp(h[i - 1].name, h[i].name))
            return bad(ld, kp, "header \"%s\" given twice (names ignore case)",
                       h[i].name);
    out->v = h;
    out->n = m;
    return 1;
}

/* --------------------------------------------------------------- feeds */

/* An interval below min_interval, named as the user knows it: the value
 * the table t gives, or (no interval there) the one that applied, e.g.
 * "the default 15m" — never "a nil". */
static int
interval_too_short(loader *ld, int t, const char *kp, int64_t interval,
                   const char *fallback)
{
    lua_State *L = ld->L;
    char d[96], v[32], lo[32];
    duration_format(ld->c->min_interval, lo, sizeof lo);
    lua_pushliteral(L, "interval");
    lua_rawget(L, t);
    if (lua_isnil(L, -1)) {
        duration_format(interval, v, sizeof v);
        snprintf(d, sizeof d, "%s %s", fallback, v);
    } else {
        describe(L, -1, d, sizeof d);
    }
    lua_pop(L, 1);
    return bad(ld, kp, "%s is below min_interval (%s)", d, lo);
}


static config_feed *
new_feed(loader *ld)
{
    config *c = ld->c;
    if (c->nfeeds == ld->feeds_cap) {
        ld->feeds_cap = ld->feeds_cap ? ld->feeds_cap * 2 : 64;
        c->feeds = xrealloc(c->feeds, ld->feeds_cap * sizeof *c->feeds);
    }
    config_feed *f = &c->feeds[c->nfeeds++];
    memset(f, 0, sizeof *f);
    f->interval = c->interval;
    f->timeout = c->timeout;
    f->silent_after = DURATION_FOREVER;
    f->allow_private_networks = c->allow_private_networks;
    f->scripts = c->default_scripts;
    f->nscripts = c->ndefault_scripts;
    return f;
}

static int
set_url(loader *ld, config_feed *f, const char *kp, const char *url)
{
    char why[256], d[160];
    const char *key = config_url_key(&ld->c->mem, url, why, sizeof why);
    if (!key) {
        quote_url(url, d, sizeof d);
        return bad(ld, kp, "%s: %s", d, why);
    }
    f->url = arena_strdup(&ld->c->mem, url);
    f->key = key;
    return 0;
}

/* A feed table at stack slot t. */
static int
read_feed(loader *ld, int t, const char *where)
{
    config *c = ld->c;
    char kp[256];
    if (c->nfeeds >= CONFIG_MAX_FEEDS)
        return bad(ld, where, "more than %d feeds", CONFIG_MAX_FEEDS);
    if (check_keys(ld, t, where, feed_keys, ARRAY_LEN(feed_keys)) < 0)
        return -1;
    config_feed *f = new_feed(ld);
    f->where = arena_strdup(&c->mem, where);

    const char *url = NULL, *path = NULL;
    if (get_string(ld, t, where, "url", CONFIG_MAX_URL, &url) < 0) return -1;
    if (get_string(ld, t, where, "path", PATH_MAX, &path) < 0) return -1;
    if (url && path)
        return bad(ld, where,
                   "has both url and path (a feed is one or the "
                   "other)");
    if (!url && !path) return bad(ld, where, "needs a url or a path");
    if (url) {
        keypath(kp, sizeof kp, where, "url");
        if (set_url(ld, f, kp, url) < 0) return -1;
    } else {
        char abs[PATH_MAX];
        keypath(kp, sizeof kp, where, "path");
        if (config_path_resolve(c->dir, path, abs, sizeof abs) < 0)
            return bad(ld, kp, "path too long");
        f->path = arena_strdup(&c->mem, abs);
        size_t n = strlen(abs);
        char *key = arena_alloc(&c->mem, n + 8);
        memcpy(key, "file://", 7);
        memcpy(key + 7, abs, n + 1);
        f->key = key;
    }
    if (get_line_string(ld, t, where, "name", 256, &f->name) < 0) return -1;
    f->label = f->name  ? f->name
               : f->url ? url_redact_in(&c->mem, f->url)
                        : f->path;

    if (get_duration(ld, t, where, "interval", 0, &f->interval) < 0) return -1;
    if (f->interval < c->min_interval) {
        keypath(kp, sizeof kp, where, "interval");
        return interval_too_short(ld, t, kp, f->interval, "the global interval");
    }
    if (get_duration(ld, t, where, "timeout", 0, &f->timeout) < 0 ||
        get_duration(ld, t, where, "silent_after", DUR_FOREVER,
                     &f->silent_after) < 0 ||
        get_bool(ld, t, where, "allow_private_networks",
                 &f->allow_private_networks) < 0 ||
        get_scripts(ld, t, where, "scripts", &f->scripts, &f->nscripts) < 0 ||
        get_headers(ld, t, where, "headers", 0, &f->headers) < 0)
        return -1;
    return 0;
}

/* A list of feeds at slot t; its entries are feed tables, URL strings, or
 * nested lists (what vigie.opml and vigie.glob return). */
static int
read_feed_list(loader *ld, int t, const char *where, int depth)
{
    lua_State *L = ld->L;
    char ek[256], d[64];
    size_t n = lua_rawlen(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            (size_t)lua_tointeger(L, -1) > n) {
            describe(L, -1, d, sizeof d);
            lua_pop(L, 1);
            return bad(ld, where,
                       "unexpected key [%s] (feeds is a list: feeds = { {url "
                       "= ...}, ... })",
                       d);
        }
    }
    for (size_t i = 1; i <= n; i++) {
        snprintf(ek, sizeof ek, "%s[%zu]", where, i);
        int ty = lua_rawgeti(L, t, (lua_Integer)i);
        int e = lua_gettop(L), rc = 0;
        if (ty == LUA_TSTRING) {
            config_feed *f;
            if (ld->c->nfeeds >= CONFIG_MAX_FEEDS)
                rc = bad(ld, ek, "more than %d feeds", CONFIG_MAX_FEEDS);
            else {
                f = new_feed(ld);
                f->where = arena_strdup(&ld->c->mem, ek);
                rc = set_url(ld, f, ek, lua_tostring(L, e));
                f->label = url_redact_in(&ld->c->mem, f->url);
            }
        } else if (ty == LUA_TTABLE) {
            /* A table with any named key is a feed; one without (including
             * {}) is a list of feeds. */
            int feed = 0;
            lua_pushnil(L);
            while (!feed && lua_next(L, e)) {
                feed = lua_type(L, -2) == LUA_TSTRING;
                lua_pop(L, feed ? 2 : 1);
            }
            if (!feed) {
                if (depth >= MAX_FEED_NESTING)
                    rc = bad(ld, ek, "lists nested deeper than %d",
                             MAX_FEED_NESTING);
                else
                    rc = read_feed_list(ld, e, ek, depth + 1);
            } else {
                rc = read_feed(ld, e, ek);
            }
        } else if (ty == LUA_TNIL) {
            rc = bad(ld, ek, "missing (a nil in the middle of the list?)");
        } else {
            rc = bad(ld, ek,
                     "expected a feed (a table, or a URL string), "
                     "got %s",
                     lua_typename(L, ty));
        }
        lua_settop(L, e - 1);
        if (rc < 0) return -1;
    }
    return 0;
}

typedef struct keyed {
    const char *key;
    size_t idx;
} keyed;

static int
cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    if (r) return r;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first (in file order) entry that repeats an earlier one: returns its
 * index and the earlier one's in *first, or (size_t)-1. v is sorted. */
static size_t
first_dup(const keyed *v, size_t n, size_t *first)
{
    size_t best = (size_t)-1, g = 0; /* g: first of the current group */
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i - 1].key, v[i].key) != 0) {
            g = i;
            continue;
        }
        if (v[i].idx < best) {
            best = v[i].idx;
            *first = v[g].idx;
        }
    }
    return best;
}

static int
check_duplicates(loader *ld)
{
    config *c = ld->c;
    if (c->nfeeds == 0) return 0;
    keyed *v = xmalloc(c->nfeeds * sizeof *v);
    size_t first = 0, dup;
    for (size_t i = 0; i < c->nfeeds; i++)
        v[i] = (keyed){c->feeds[i].key, i};
    qsort(v, c->nfeeds, sizeof *v, cmp_keyed);
    c->feeds_by_key = arena_alloc(&c->mem, c->nfeeds * sizeof(size_t));
    for (size_t i = 0; i < c->nfeeds; i++)
        c->feeds_by_key[i] = v[i].idx;
    dup = first_dup(v, c->nfeeds, &first);
    int rc = 0;
    if (dup != (size_t)-1) {
        config_feed *f = &c->feeds[dup];
        char q[200];
        const char *shown = f->url ? f->url : f->path;
        quote_url(shown, q, sizeof q);
        rc = bad(ld, f->where, "duplicate feed %s (same as %s)", q,
                 c->feeds[first].where);
    }
    size_t m = 0;
    for (size_t i = 0; rc == 0 && i < c->nfeeds; i++)
        if (c->feeds[i].name) v[m++] = (keyed){c->feeds[i].name, i};
    if (rc == 0 && m) {
        qsort(v, m, sizeof *v, cmp_keyed);
        dup = first_dup(v, m, &first);
        if (dup != (size_t)-1) {
            char kp[300], q[200];
            snprintf(kp, sizeof kp, "%s.name", c->feeds[dup].where);
            quote(c->feeds[dup].name, strlen(c->feeds[dup].name), q, sizeof q);
            rc = bad(ld, kp, "duplicate name %s (same as %s)", q,
                     c->feeds[first].where);
        }
    }
    free(v);
    return rc;
}

/* ------------------------------------------------------------ webhooks */

static int
valid_webhook_name(const char *s, size_t len)
{
    if (len == 0 || len > 64 || strlen(s) != len) return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static int
cmp_webhook(const void *a, const void *b)
{
    return strcmp(((const config_webhook *)a)->name,
                  ((const config_webhook *)b)->name);
}

static int
read_webhook(loader *ld, int t, const char *where, config_webhook *w)
{
    lua_State *L = ld->L;
    config *c = ld->c;
    char kp[256], why[256], d[160];
    if (check_keys(ld, t, where, webhook_keys, ARRAY_LEN(webhook_keys)) < 0)
        return -1;
    w->format = WEBHOOK_JSON;
    w->format_ref = LUA_NOREF;
    w->give_up_after = 24 * 3600000LL;
    /* the global timeout, within what the outbox's lease allows (below) */
    w->timeout = c->timeout < OUTBOX_LEASE_MS / 2 ? c->timeout
                                                  : OUTBOX_LEASE_MS / 2;
    w->allow_private_networks = c->allow_private_networks;

    if (get_string(ld, t, where, "url", CONFIG_MAX_URL, &w->url) < 0) return -1;
    keypath(kp, sizeof kp, where, "url");
    if (!w->url) return bad(ld, kp, "missing (every webhook needs a url)");
    if (!config_url_key(&c->mem, w->url, why, sizeof why)) {
        quote_webhook_url(w->url, d, sizeof d);
        return bad(ld, kp, "%s: %s", d, why);
    }

    keypath(kp, sizeof kp, where, "format");
    lua_pushliteral(L, "format");
    int ty = lua_rawget(L, t);
    if (ty == LUA_TFUNCTION) {
        w->format = WEBHOOK_LUA;
        w->format_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else if (ty == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        size_t i;
        for (i = 0; i < WEBHOOK_LUA; i++)
            if (!strcmp(s, format_names[i])) break;
        if (i == WEBHOOK_LUA) {
            describe(L, -1, d, sizeof d);
            const char *hint = closest(s, format_names, WEBHOOK_LUA);
            lua_pop(L, 1);
            if (hint)
                return bad(ld, kp, "unknown format %s (did you mean \"%s\"?)",
                           d, hint);
            return bad(ld, kp,
                       "unknown format %s (use json, slack, discord, "
                       "mattermost, ntfy, matrix or a function)",
                       d);
        }
        w->format = (webhook_format)i;
        lua_pop(L, 1);
    } else if (ty == LUA_TNIL) {
        lua_pop(L, 1);
    } else {
        const char *tn = type_of(L, -1);
        lua_pop(L, 1);
        return bad(ld, kp, "expected a format name or a function, got %s", tn);
    }

    if (get_string(ld, t, where, "secret", CONFIG_MAX_STRING, &w->secret) < 0 ||
        get_headers(ld, t, where, "headers", 1, &w->headers) < 0 ||
        get_int(ld, t, where, "max_per_minute", 1, 1000000,
                &w->max_per_minute) < 0 ||
        get_duration(ld, t, where, "give_up_after", 0, &w->give_up_after) < 0 ||
        get_duration(ld, t, where, "timeout", 0, &w->timeout) < 0 ||
        get_bool(ld, t, where, "allow_private_networks",
                 &w->allow_private_networks) < 0)
        return -1;
    if (w->timeout > OUTBOX_LEASE_MS / 2) {
        keypath(kp, sizeof kp, where, "timeout");
        return bad(ld, kp,
                   "at most %ds: an alert still being sent after its %ds "
                   "lease would be taken for lost and sent again",
                   OUTBOX_LEASE_MS / 2000, OUTBOX_LEASE_MS / 1000);
    }
    return 0;
}

static int
read_webhooks(loader *ld)
{
    lua_State *L = ld->L;
    config *c = ld->c;
    lua_pushliteral(L, "webhooks");
    int ty = lua_rawget(L, ld->settings);
    int t = lua_gettop(L);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty != LUA_TTABLE) {
        lua_pop(L, 1);
        return bad(ld, "webhooks",
                   "expected a table of name = { url = ... }, got %s",
                   lua_typename(L, ty));
    }
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        char d[128], kp[256];
        lua_pop(L, 1);
        size_t len = 0;
        const char *name =
            lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!name || !valid_webhook_name(name, len)) {
            describe(L, -1, d, sizeof d);
            snprintf(kp, sizeof kp, "webhooks[%s]", d);
            lua_settop(L, t - 1);
            if (!name)
                return bad(ld, kp,
                           "webhooks are named: webhooks = { ops = { url = "
                           "... } }");
            return bad(ld, kp,
                       "a webhook name is 1 to 64 letters, digits, '_', '-' "
                       "or '.'");
        }
        if (++n > CONFIG_MAX_WEBHOOKS) {
            lua_settop(L, t - 1);
            return bad(ld, "webhooks", "more than %d webhooks",
                       CONFIG_MAX_WEBHOOKS);
        }
    }
    c->webhooks = xcalloc(n ? n : 1, sizeof *c->webhooks);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        c->webhooks[c->nwebhooks].name =
            arena_strdup(&c->mem, lua_tostring(L, -2));
        c->webhooks[c->nwebhooks].format_ref = LUA_NOREF;
        c->nwebhooks++;
        lua_pop(L, 1);
    }
    qsort(c->webhooks, c->nwebhooks, sizeof *c->webhooks, cmp_webhook);
    for (size_t i = 0; i < c->nwebhooks; i++) {
        config_webhook *w = &c->webhooks[i];
        char where[128];
        snprintf(where, sizeof where, "webhooks.%s", w->name);
        lua_pushstring(L, w->name);
        if (lua_rawget(L, t) != LUA_TTABLE) {
            const char *tn = type_of(L, -1);
            lua_settop(L, t - 1);
            return bad(ld, where, "expected a table { url = ... }, got %s", tn);
        }
        int rc = read_webhook(ld, lua_gettop(L), where, w);
        lua_pop(L, 1);
        if (rc < 0) {
            lua_settop(L, t - 1);
            return -1;
        }
    }
    lua_settop(L, t - 1);
    return 0;
}

/* ------------------------------------------------------------- globals */

static int
read_globals(loader *ld)
{
    config *c = ld->c;
    int S = ld->settings;
    const char *s = NULL;
    char d[64];

    if (check_keys(ld, S, NULL, top_keys, ARRAY_LEN(top_keys)) < 0) return -1;

    if (get_string(ld, S, NULL, "state_dir", PATH_MAX, &s) < 0) return -1;
    if (s) {
        char abs[PATH_MAX];
        if (config_path_resolve(c->dir, s, abs, sizeof abs) < 0)
            return bad(ld, "state_dir", "path too long");
        c->state_dir = arena_strdup(&c->mem, abs);
    }
    if (get_duration(ld, S, NULL, "min_interval", DUR_ZERO, &c->min_interval) <
            0 ||
        get_duration(ld, S, NULL, "interval", 0, &c->interval) < 0)
        return -1;
    if (c->interval < c->min_interval)
        return interval_too_short(ld, S, "interval", c->interval, "the default");
    if (get_duration(ld, S, NULL, "timeout", 0, &c->timeout) < 0 ||
        get_duration(ld, S, NULL, "connect_timeout", 0, &c->connect_timeout) <
            0 ||
        get_size(ld, S, NULL, "max_body", 1, 1LL << 30, &c->max_body) < 0 ||
        get_line_string(ld, S, NULL, "user_agent", 512, &c->user_agent) < 0 ||
        get_int(ld, S, NULL, "per_host", 1, 1000, &c->per_host) < 0 ||
        get_int(ld, S, NULL, "max_concurrent", 1, 100000, &c->max_concurrent) <
            0 ||
        get_bool(ld, S, NULL, "allow_private_networks",
                 &c->allow_private_networks) < 0)
        return -1;

    s = NULL;
    if (get_string(ld, S, NULL, "log_level", 32, &s) < 0) return -1;
    if (s) {
        int lvl = log_level_from_name(s);
        if (lvl < 0) {
            quote(s, strlen(s), d, sizeof d);
            return bad(ld, "log_level",
                       "unknown level %s (use error, warning, notice, info or "
                       "debug)",
                       d);
        }
        c->log_level = lvl;
    }

    if (get_scripts(ld, S, NULL, "scripts", &c->default_scripts,
                    &c->ndefault_scripts) < 0 ||
        get_duration(ld, S, NULL, "rule_timeout", 0, &c->rule_timeout) < 0 ||
        get_size(ld, S, NULL, "rule_memory", 1LL << 20, 16LL << 30,
                 &c->rule_memory) < 0 ||
        get_duration(ld, S, NULL, "catch_up", DUR_ZERO | DUR_FOREVER,
                     &c->catch_up) < 0 ||
        get_duration(ld, S, NULL, "keep_seen", DUR_FOREVER, &c->keep_seen) <
            0 ||
        get_duration(ld, S, NULL, "keep_items", DUR_FOREVER, &c->keep_items) <
            0 ||
        get_bool(ld, S, NULL, "dedup", &c->dedup) < 0 ||
        get_duration(ld, S, NULL, "dedup_window", DUR_FOREVER,
                     &c->dedup_window) < 0 ||
        get_duration(ld, S, NULL, "alert_after", DUR_FOREVER, &c->alert_after) <
            0)
        return -1;
    if (c->rule_timeout > 3600000)
        return bad(ld, "rule_timeout", "longer than 1h");

    if (read_webhooks(ld) < 0) return -1;

    if (get_string(ld, S, NULL, "health", 64, &c->health) < 0) return -1;
    if (c->health && !config_find_webhook(c, c->health)) {
        quote(c->health, strlen(c->health), d, sizeof d);
        return bad(ld, "health", "%s is not a webhook (define it in webhooks)",
                   d);
    }

    lua_pushliteral(ld->L, "feeds");
    int ty = lua_rawget(ld->L, S);
    int rc = 0;
    if (ty == LUA_TTABLE)
        rc = read_feed_list(ld, lua_gettop(ld->L), "feeds", 0);
    else if (ty != LUA_TNIL)
        rc = bad(ld, "feeds", "expected a list of feeds, got %s",
                 lua_typename(ld->L, ty));
    lua_pop(ld->L, 1);
    if (rc < 0) return -1;
    return check_duplicates(ld);
}

static int
extract(lua_State *L)
{
    loader *ld = lua_touserdata(L, 1);
    lua_settop(L, 0);
    csb_push_settings(L);
    ld->settings = lua_gettop(L);
    csb_push_lines(L);
    ld->lines = lua_gettop(L);
    read_globals(ld);
    return 0;
}

/* ---------------------------------------------------------- load, free */

static void
set_defaults(config *c)
{
    c->state_dir = "/var/lib/vigie";
    c->interval = 15 * 60000LL;
    c->timeout = 30000;
    c->connect_timeout = 10000;
    c->min_interval = 60000;
    c->max_body = 16LL << 20;
    c->user_agent = DEFAULT_USER_AGENT;
    c->per_host = 4;
    c->max_concurrent = 64;
    c->allow_private_networks = 0;
    c->log_level = LOG_INFO;
    c->rule_timeout = 2000;
    c->rule_memory = 64LL << 20;
    c->catch_up = 24 * 3600000LL;
    c->keep_seen = 90 * 86400000LL;
    c->keep_items = DURATION_FOREVER;
    c->dedup = 1;
    c->dedup_window = 7 * 86400000LL;
    c->alert_after = 6 * 3600000LL;
    c->health = NULL;
}

config *
config_load(const char *path, char *err, size_t errlen)
{
    config *c = xcalloc(1, sizeof *c);
    set_defaults(c);

    char cwd[PATH_MAX], abs[PATH_MAX];
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        snprintf(err, errlen, "%s: cannot find the current directory: %s", path,
                 strerror(errno));
        config_free(c);
        return NULL;
    }
    if (config_path_resolve(path[0] == '/' ? "/" : cwd, path, abs, sizeof abs) <
        0) {
        snprintf(err, errlen, "%s: path too long", path);
        config_free(c);
        return NULL;
    }
    c->path = arena_strdup(&c->mem, abs);
    char *slash = strrchr(abs, '/');
    if (slash == abs)
        slash[1] = '\0';
    else
        *slash = '\0';
    c->dir = arena_strdup(&c->mem, abs);

    buf src = {0};
    if (read_file(c->path, CONFIG_MAX_FILE, &src) < 0) {
        int e = errno;
        if (e == EFBIG)
            snprintf(err, errlen, "%s: larger than %u MiB", c->path,
                     CONFIG_MAX_FILE >> 20);
        else
            snprintf(err, errlen, "%s: %s", c->path, strerror(e));
        buf_free(&src);
        config_free(c);
        return NULL;
    }

    config_sandbox *sb = xcalloc(1, sizeof *sb);
    sb->dir = c->dir;
    c->sandbox = sb;
    lua_State *L = csb_open(sb, CONFIG_MEMORY_LIMIT);
    if (!L) {
        snprintf(err, errlen, "%s: cannot create a Lua state", c->path);
        buf_free(&src);
        config_free(c);
        return NULL;
    }
    c->L = L;

    int st = csb_load_config(L, src.p, src.len);
    buf_free(&src);
    if (st == LUA_OK) {
        csb_budget(L, sb, CONFIG_INSTRUCTION_LIMIT);
        st = lua_pcall(L, 0, 0, 0);
        lua_sethook(L, NULL, 0, 0);
    }
    if (st != LUA_OK) {
        csb_message(sb, st, lua_tostring(L, -1), CSB_CHUNK, c->path, err,
                    errlen);
        config_free(c);
        return NULL;
    }

    loader ld = {.L = L, .c = c, .err = err, .errlen = errlen};
    lua_pushcfunction(L, extract);
    lua_pushlightuserdata(L, &ld);
    sb->hit_mem = 0;
    st = lua_pcall(L, 1, 0, 0);
    if (st != LUA_OK && !ld.failed)
        csb_message(sb, st, lua_tostring(L, -1), CSB_CHUNK, c->path, err,
                    errlen);
    if (st != LUA_OK || ld.failed) {
        config_free(c);
        return NULL;
    }

    int keep = 0;
    for (size_t i = 0; i < c->nwebhooks; i++)
        keep |= c->webhooks[i].format == WEBHOOK_LUA;
    if (!keep) {
        lua_close(L);
        c->L = NULL;
        free(sb);
        c->sandbox = NULL;
    } else {
        lua_settop(L, 0);
        lua_gc(L, LUA_GCCOLLECT);
    }
    return c;
}

void
config_free(config *c)
{
    if (!c) return;
    if (c->L) lua_close(c->L);
    free(c->sandbox);
    free(c->feeds);
    free(c->webhooks);
    free(c->scripts);
    arena_free(&c->mem);
    free(c);
}

const config_feed *
config_find_feed(const config *c, const char *key)
{
    size_t lo = 0, hi = c->nfeeds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const config_feed *f = &c->feeds[c->feeds_by_key[mid]];
        int r = strcmp(key, f->key);
        if (r == 0) return f;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const config_webhook *
config_find_webhook(const config *c, const char *name)
{
    size_t lo = 0, hi = c->nwebhooks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, c->webhooks[mid].name);
        if (r == 0) return &c->webhooks[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ------------------------------------------------------- script checks */

static config_script_checker script_checker = csb_compile_file;

void
config_set_script_checker(config_script_checker fn)
{
    script_checker = fn ? fn : csb_compile_file;
}

int
config_check_scripts(const config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nscripts; i++)
        if (script_checker(c->scripts[i], err, errlen) < 0) return -1;
    return 0;
}

/* ------------------------------------------------- Lua webhook formats */

#define JSON_MAX_DEPTH 64

static void
push_json(lua_State *L, json_t *j, int depth)
{
    luaL_checkstack(L, 4, "JSON too deep");
    if (depth > JSON_MAX_DEPTH) luaL_error(L, "JSON nested too deeply");
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        lua_createtable(L, 0, (int)json_object_size(j));
        json_object_foreach(j, k, v)
        {
            push_json(L, v, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        lua_createtable(L, (int)json_array_size(j), 0);
        json_array_foreach(j, i, v)
        {
            push_json(L, v, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    default:
        lua_pushnil(L);
    }
}

typedef struct format_call {
    int ref;
    json_t *payload, *item;
    char *body, *ctype;
    size_t body_len;
    const char *why;
} format_call;

static int
format_protected(lua_State *L)
{
    format_call *fc = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fc->ref);
    push_json(L, fc->payload, 0);
    if (fc->item)
        push_json(L, fc->item, 0);
    else
        lua_pushnil(L);
    lua_call(L, 2, 2);
    if (lua_type(L, 1) != LUA_TSTRING) {
        fc->why = "format must return the body as a string";
        return 0;
    }
    if (!lua_isnil(L, 2) && lua_type(L, 2) != LUA_TSTRING) {
        fc->why = "format's second result (content type) must be a string";
        return 0;
    }
    size_t len;
    const char *b = lua_tolstring(L, 1, &len);
    const char *ct = lua_isnil(L, 2) ? "application/json" : lua_tostring(L, 2);
    for (const char *p = ct; *p; p++)
        if ((unsigned char)*p < 0x20) {
            fc->why = "format's content type contains a control character";
            return 0;
        }
    fc->body = xmalloc(len + 1);
    memcpy(fc->body, b, len);
    fc->body[len] = '\0';
    fc->body_len = len;
    fc->ctype = xstrdup(ct);
    return 0;
}

int
config_format_call(const config *c, const config_webhook *w,
                   const char *payload_json, const char *item_json, char **body,
                   size_t *body_len, char **content_type, char *err,
                   size_t errlen)
{
    if (w->format != WEBHOOK_LUA || !c->L) {
        snprintf(err, errlen, "webhook %s: format is not a Lua function",
                 w->name);
        return -1;
    }
    json_error_t je;
    format_call fc = {.ref = w->format_ref};
    fc.payload = json_loads(payload_json, JSON_DECODE_ANY, &je);
    if (!fc.payload) {
        snprintf(err, errlen, "webhook %s: payload is not JSON: %s", w->name,
                 je.text);
        return -1;
    }
    if (item_json) {
        fc.item = json_loads(item_json, JSON_DECODE_ANY, &je);
        if (!fc.item) {
            json_decref(fc.payload);
            snprintf(err, errlen, "webhook %s: item is not JSON: %s", w->name,
                     je.text);
            return -1;
        }
    }
    lua_State *L = c->L;
    csb_budget(L, c->sandbox, FORMAT_INSTRUCTIONS);
    lua_pushcfunction(L, format_protected);
    lua_pushlightuserdata(L, &fc);
    int st = lua_pcall(L, 1, 0, 0);
    lua_sethook(L, NULL, 0, 0);
    json_decref(fc.payload);
    json_decref(fc.item);
    if (st != LUA_OK) {
        char msg[768];
        csb_message(c->sandbox, st, lua_tostring(L, -1), CSB_CHUNK, c->path,
                    msg, sizeof msg);
        lua_settop(L, 0);
        snprintf(err, errlen, "webhook %s: format: %s", w->name, msg);
        return -1;
    }
    lua_settop(L, 0);
    if (fc.why) {
        snprintf(err, errlen, "webhook %s: %s", w->name, fc.why);
        return -1;
    }
    *body = fc.body;
    *body_len = fc.body_len;
    *content_type = fc.ctype;
    return 0;
}
