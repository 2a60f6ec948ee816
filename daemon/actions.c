/* actions.c — see actions.h. */
#include "actions.h"

#include <stdlib.h>

#include "feed.h"
#include "jsonw.h"
#include "log.h"
#include "script.h"
#include "utf8.h"

void
action_list_init(action_list *l)
{
    memset(l, 0, sizeof *l);
}

void
action_list_free(action_list *l)
{
    free(l->v);
    arena_free(&l->mem);
    memset(l, 0, sizeof *l);
}

void
action_list_clear(action_list *l)
{
    l->len = 0;
    /* Keep the array, drop the strings: a worker clears after every flush
     * and most calls produce nothing, so this stays cheap. */
    if (l->mem.head) arena_free(&l->mem);
}

void
action_list_truncate(action_list *l, size_t len)
{
    if (len < l->len) l->len = len;
}

const char *
action_strndup(action_list *l, const char *s, size_t n)
{
    return arena_strndup(&l->mem, s, n);
}

action *
action_add(action_list *l, action_kind kind, const char *sname, int32_t item,
           const char *item_id)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, cap * sizeof *l->v);
        l->cap = cap;
    }
    action *a = &l->v[l->len++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->script = sname ? arena_strdup(&l->mem, sname) : "";
    a->item = item;
    a->item_id = (item >= 0 && item_id) ? arena_strdup(&l->mem, item_id) : NULL;
    return a;
}

void
action_alert(action_list *l, const char *sname, int32_t item,
             const char *item_id, const char *target, const char *payload,
             size_t payload_len)
{
    action *a = action_add(l, ACTION_ALERT, sname, item, item_id);
    a->target = arena_strdup(&l->mem, target);
    a->payload = arena_strndup(&l->mem, payload, payload_len);
    a->payload_len = payload_len;
}

void
action_store(action_list *l, const char *sname, int32_t item,
             const char *item_id, const char *const *tags, size_t ntags)
{
    action *a = action_add(l, ACTION_STORE, sname, item, item_id);
    if (ntags) {
        const char **t = arena_alloc(&l->mem, ntags * sizeof *t);
        for (size_t i = 0; i < ntags; i++)
            t[i] = arena_strdup(&l->mem, tags[i]);
        a->tags = t;
    }
    a->ntags = ntags;
}

/* A message as valid UTF-8: Lua strings are bytes, and an error raised
 * with half a character (("é"):sub(1, 1)) or a script saved in Latin-1
 * must still reach the log and the JSON of `vigie test` readable. */
static char *
message_dup(arena *mem, const char *message)
{
    size_t n = strlen(message);
    if (utf8_valid(message, n)) return arena_strdup(mem, message);
    buf b = {0};
    utf8_repair(&b, message, n);
    char *s = arena_strdup(mem, b.p);
    buf_free(&b);
    return s;
}

void
action_log(action_list *l, const char *sname, int32_t item, const char *item_id,
           int level, const char *message)
{
    action *a = action_add(l, ACTION_LOG, sname, item, item_id);
    a->level = level;
    a->message = message_dup(&l->mem, message);
}

void
action_error(action_list *l, const char *sname, int32_t item,
             const char *item_id, const char *message)
{
    action *a = action_add(l, ACTION_ERROR, sname, item, item_id);
    a->level = LOG_ERR;
    a->message = message_dup(&l->mem, message);
}

const char *
action_kind_name(action_kind k)
{
    switch (k) {
    case ACTION_ALERT:
        return "alert";
    case ACTION_STORE:
        return "store";
    case ACTION_LOG:
        return "log";
    case ACTION_ERROR:
        return "error";
    }
    return "?";
}

bool
action_target_valid(const char *name, size_t len)
{
    if (len == 0 || len > ACTION_MAX_TARGET) return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

static void
write_item(jsonw *w, const action *a, const feed_item *it, const rule_feed *f)
{
    jsonw_key(w, "item");
    if (a->item < 0) {
        jsonw_null(w);
        return;
    }
    jsonw_obj_open(w);
    jsonw_key(w, "id");
    jsonw_str(w, it ? it->id : a->item_id);
    if (it) {
        jsonw_key(w, "title");
        jsonw_str(w, it->title);
        jsonw_key(w, "link");
        jsonw_str(w, it->link);
    }
    if (f) {
        jsonw_key(w, "feed");
        jsonw_obj_open(w);
        jsonw_key(w, "title");
        jsonw_str(w, f->title);
        jsonw_key(w, "link");
        jsonw_str(w, f->link);
        jsonw_key(w, "url");
        jsonw_str(w, f->url);
        jsonw_key(w, "name");
        jsonw_str(w, f->name);
        jsonw_obj_close(w);
    }
    jsonw_obj_close(w);
}

void
action_write_json(buf *out, const action *a, const feed_item *it,
                  const rule_feed *f)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "action");
    jsonw_str(&w, action_kind_name(a->kind));
    jsonw_key(&w, "script");
    jsonw_str(&w, a->script);
    switch (a->kind) {
    case ACTION_ALERT:
        jsonw_key(&w, "target");
        jsonw_str(&w, a->target);
        write_item(&w, a, it, f);
        /* The payload is JSON already (checked where it was made, and again
         * when it crossed from the worker): paste it as a value. */
        jsonw_key(&w, "payload");
        buf_add(out, a->payload, a->payload_len);
        w.need_comma |= (uint64_t)1 << w.depth;
        break;
    case ACTION_STORE:
        write_item(&w, a, it, f);
        jsonw_key(&w, "tags");
        jsonw_arr_open(&w);
        for (size_t i = 0; i < a->ntags; i++)
            jsonw_str(&w, a->tags[i]);
        jsonw_arr_close(&w);
        break;
    case ACTION_LOG:
        jsonw_key(&w, "level");
        jsonw_str(&w, log_level_name(a->level));
        jsonw_key(&w, "message");
        jsonw_str(&w, a->message);
        write_item(&w, a, it, f);
        break;
    case ACTION_ERROR:
        jsonw_key(&w, "message");
        jsonw_str(&w, a->message);
        write_item(&w, a, it, f);
        break;
    }
    jsonw_obj_close(&w);
}
