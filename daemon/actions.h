/* actions.h — what rule scripts ask for: the one way out of a script.
 *
 * A script never stores, sends or logs anything itself: each call of
 * vigie.alert/store/log (and print) appends an `action` to an action_list,
 * and so does a call that failed (ACTION_ERROR: the item is not lost, its
 * owner keeps it pending for that script and runs it again after a reload).
 * `vigie test` prints the list; the daemon hands it to the store/outbox.
 *
 * Every action names the script and the item it came from (`item` is the
 * index in the batch the caller submitted, -1 for actions of a script's top
 * level, when no item is being processed). All strings are valid UTF-8,
 * NUL-terminated and owned by the list's arena. A failed call keeps only its
 * log actions and its error: what it stored or alerted before failing is
 * dropped, so that running the item again cannot duplicate an alert. */
#ifndef VIGIE_ACTIONS_H
#define VIGIE_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct feed_item;
struct rule_feed;

typedef enum action_kind {
    ACTION_ALERT, /* target, payload (a JSON object, as text) */
    ACTION_STORE, /* tags */
    ACTION_LOG,   /* level, message */
    ACTION_ERROR, /* message (with a traceback when there was one) */
} action_kind;

typedef struct action {
    action_kind kind;
    const char *script;  /* the script's name (its path as configured) */
    int32_t item;        /* index in the batch, -1 for none */
    const char *item_id; /* the item's id, NULL when item is -1 */
    const char *target;  /* ALERT: a webhook name */
    const char *payload; /* ALERT: a JSON object */
    size_t payload_len;
    const char **tags; /* STORE */
    size_t ntags;
    int level;           /* LOG: LOG_ERR .. LOG_DEBUG */
    const char *message; /* LOG, ERROR */
} action;

typedef struct action_list {
    action *v;
    size_t len, cap;
    arena mem;
} action_list;

/* Bounds on what one call (one script, one item) may produce; the Lua API
 * refuses more with an error naming the limit, and the daemon refuses
 * anything larger from the worker process. */
#define ACTION_MAX_PER_CALL 256      /* alerts + stores */
#define ACTION_MAX_LOGS_PER_CALL 100 /* more log lines are dropped, counted */
#define ACTION_MAX_CALL_BYTES (4u << 20)
#define ACTION_MAX_PAYLOAD (1u << 20)
#define ACTION_MAX_TAGS 64
#define ACTION_MAX_TAG 256
#define ACTION_MAX_TARGET 64
#define ACTION_MAX_MESSAGE 8192

void action_list_init(action_list *l);
void action_list_free(action_list *l);
/* Empties the list and releases its strings. */
void action_list_clear(action_list *l);
/* Drops the actions from index `len` on (their strings stay in the arena
 * until the list is cleared). */
void action_list_truncate(action_list *l, size_t len);

/* Appends a blank action of `kind` whose script and item are set (strings
 * copied); the caller fills the rest with action_strdup(). */
action *action_add(action_list *l, action_kind kind, const char *sname,
                   int32_t item, const char *item_id);
const char *action_strndup(action_list *l, const char *s, size_t n);

void action_alert(action_list *l, const char *sname, int32_t item,
                  const char *item_id, const char *target, const char *payload,
                  size_t payload_len);
void action_store(action_list *l, const char *sname, int32_t item,
                  const char *item_id, const char *const *tags, size_t ntags);
void action_log(action_list *l, const char *sname, int32_t item,
                const char *item_id, int level, const char *message);
void action_error(action_list *l, const char *sname, int32_t item,
                  const char *item_id, const char *message);

const char *action_kind_name(action_kind k);
/* True if `name` can name a webhook: 1..ACTION_MAX_TARGET bytes of ASCII
 * letters, digits, '_', '-' and '.'. */
bool action_target_valid(const char *name, size_t len);

/* One action as one line of JSON (no newline), the `vigie test` format:
 *   {"action":"alert","script":…,"target":…,"item":{…},"payload":{…}}
 *   {"action":"store","script":…,"item":{…},"tags":[…]}
 *   {"action":"log","script":…,"level":"info","message":…,"item":{…}|null}
 *   {"action":"error","script":…,"message":…,"item":{…}|null}
 * "item" holds id, title, link and the feed (title, link, url, name); `it`
 * and `f` may be NULL when the action has no item. */
void action_write_json(buf *out, const action *a, const struct feed_item *it,
                       const struct rule_feed *f);

#endif
