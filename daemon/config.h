/* config.h — the configuration: a Lua file, evaluated in a sandbox,
 * validated, and copied out into plain C structs.
 *
 * The file sets globals (`interval = "15m"`, `feeds = {...}`, ...); every
 * global it sets must be a known setting (use `local` for helpers). It runs
 * in a fresh Lua state with only safe functions (no io, no os beyond
 * time/date/clock/getenv, no require/load/dofile, no string.dump), under an
 * instruction budget and a memory cap, so an endless loop or a runaway
 * table ends with a clear error. `vigie.opml(path [, defaults])` and
 * `vigie.glob(pattern [, defaults])` return feed lists.
 *
 * Relative paths (state_dir, scripts, feed paths, OPML files, globs) are
 * resolved against the directory of the config file as named on the command
 * line (made absolute, "." and ".." removed lexically; symlinks are not
 * followed). The keys, their types and defaults are documented in
 * etc/vigie.lua.
 *
 * Errors are one line, without the "vigie: " prefix:
 *   /etc/vigie/vigie.lua: feeds[3].interval: "30s" is below min_interval (1m)
 *   /etc/vigie/vigie.lua:12: intervall: unknown setting (did you mean ...)
 * (the line is given where Lua knows it: syntax and runtime errors, and the
 * assignment of a top-level setting).
 *
 * All durations are milliseconds, all sizes bytes. DURATION_FOREVER means
 * "never"/"off" where a key allows it. */
#ifndef VIGIE_CONFIG_H
#define VIGIE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "duration.h"
#include "util.h"

/* SYSCONFDIR/vigie/vigie.lua: /etc/vigie/vigie.lua, or where `make install`
 * put the configuration (paths.c). */
extern const char config_default_path[];
#define CONFIG_DEFAULT_PATH config_default_path

/* Limits on what a config may declare, and on evaluating it. */
#define CONFIG_MAX_FILE (32u << 20) /* bytes of Lua source */
#define CONFIG_MAX_FEEDS 100000
#define CONFIG_MAX_WEBHOOKS 1000
#define CONFIG_MAX_SCRIPTS 1000
#define CONFIG_MAX_HEADERS 32
#define CONFIG_MAX_URL 8192
#define CONFIG_MAX_STRING 8192               /* names, header values, ... */
#define CONFIG_MEMORY_LIMIT (256u << 20)     /* bytes for the config's Lua */
#define CONFIG_INSTRUCTION_LIMIT 200000000LL /* VM instructions to load */

typedef struct config_header {
    const char *name, *value; /* name is a token, value has no CR/LF/NUL */
} config_header;

typedef struct config_headers {
    config_header *v;
    size_t n;
} config_headers;

typedef struct config_feed {
    const char *key;   /* stable identity: normalised URL, or "file://" +
                          absolute path */
    const char *url;   /* http(s) URL as written, or NULL */
    const char *path;  /* absolute local path, or NULL */
    const char *name;  /* as given (or from OPML), or NULL */
    const char *label; /* for humans: name, else url (redacted), else path */
    const char *where; /* its place in the config: "feeds[3]" */
    int64_t interval, timeout, silent_after; /* ms; silent_after may be
                                                 DURATION_FOREVER (off) */
    int allow_private_networks;
    size_t *scripts; /* indices into config.scripts, in order */
    size_t nscripts;
    config_headers headers;
} config_feed;

typedef enum webhook_format {
    WEBHOOK_JSON,
    WEBHOOK_SLACK,
    WEBHOOK_DISCORD,
    WEBHOOK_MATTERMOST,
    WEBHOOK_NTFY,
    WEBHOOK_MATRIX,
    WEBHOOK_LUA, /* format is a Lua function: see config_format_call */
} webhook_format;

typedef struct config_webhook {
    const char *name; /* [A-Za-z0-9_.-]+, what scripts pass to vigie.alert */
    const char *url;
    webhook_format format;
    int format_ref;     /* registry reference in config.L (WEBHOOK_LUA) */
    const char *secret; /* HMAC key, or NULL */
    config_headers headers;
    int64_t max_per_minute; /* 0: no limit */
    int64_t give_up_after;  /* ms */
    int64_t timeout;        /* ms */
    int allow_private_networks;
} config_webhook;

typedef struct config {
    const char *path; /* absolute path of the config file */
    const char *dir;  /* its directory: the base of relative paths */
    const char *state_dir;

    /* fetching */
    int64_t interval, timeout, connect_timeout, min_interval; /* ms */
    int64_t max_body;                                         /* bytes */
    const char *user_agent;
    int64_t per_host, max_concurrent;
    int allow_private_networks;
    int log_level; /* LOG_ERR ... LOG_DEBUG */

    /* rules */
    const char **scripts; /* every rule file, absolute, unique, first-use
                             order */
    size_t nscripts;
    size_t *default_scripts; /* indices: the global `scripts` list */
    size_t ndefault_scripts;
    int64_t rule_timeout; /* ms */
    int64_t rule_memory;  /* bytes */

    /* store and dedup */
    int64_t catch_up, keep_seen, keep_items; /* ms, may be FOREVER */
    int dedup;
    int64_t dedup_window; /* ms, may be FOREVER */

    /* health */
    int64_t alert_after; /* ms, FOREVER = off */
    const char *health;  /* webhook name, or NULL */

    config_feed *feeds;
    size_t nfeeds;
    config_webhook *webhooks; /* sorted by name */
    size_t nwebhooks;
    size_t *feeds_by_key; /* indices of feeds, sorted by key */

    /* The config's Lua state, kept open only when a webhook's format is a
     * Lua function (NULL otherwise); owned by the config. */
    struct lua_State *L;
    struct config_sandbox *sandbox;
    arena mem; /* every string above */
} config;

/* Loads, evaluates and validates the file. NULL on error, with the one-line
 * message in err. */
config *config_load(const char *path, char *err, size_t errlen);
void config_free(config *c);

const config_feed *config_find_feed(const config *c, const char *key);
const config_webhook *config_find_webhook(const config *c, const char *name);

/* Checks that every rule script can be loaded. HOOK: until the rule runtime
 * (script.c) lands this only reads each file and compiles it as Lua text
 * (luaL_loadbufferx, mode "t"); the runtime installs its own checker with
 * config_set_script_checker() so `vigie check` loads scripts exactly as the
 * daemon will. Returns 0, or -1 with "path:line: why" in err. */
typedef int (*config_script_checker)(const char *path, char *err,
                                     size_t errlen);
void config_set_script_checker(config_script_checker fn);
int config_check_scripts(const config *c, char *err, size_t errlen);

/* For the outbox: runs webhook w's Lua `format(payload, item)` with the
 * payload and item given as JSON texts (item may be NULL), under an
 * instruction budget. The function returns the body (a string) and
 * optionally its content type (default "application/json"). Returns 0 with
 * malloc'ed *body and *content_type (and *body_len), or -1 with err. */
int config_format_call(const config *c, const config_webhook *w,
                       const char *payload_json, const char *item_json,
                       char **body, size_t *body_len, char **content_type,
                       char *err, size_t errlen);

/* Helpers shared with the tests. */
const char *webhook_format_name(webhook_format f);
/* Lexically absolute and normalised: base/p unless p is absolute;
 * empty, "." and ".." components removed ("/.." is "/"). Returns 0, or -1 if
 * the result does not fit in out. */
int config_path_resolve(const char *base, const char *p, char *out,
                        size_t outlen);
/* http(s) URL → the key used for duplicate detection (lower-case scheme and
 * host, an international host in punycode, default port and empty path
 * normalised); NULL with why if the URL is not an acceptable http(s) URL. */
char *config_url_key(arena *a, const char *url, char *why, size_t whylen);

#endif
