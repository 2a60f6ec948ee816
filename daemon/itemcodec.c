/* itemcodec.c — see itemcodec.h. */
#include "itemcodec.h"

#include <jansson.h>

#include "log.h"
#include "utf8.h"

#define NULL_LEN UINT32_MAX

void
codec_rd_init(codec_rd *r, const char *p, size_t n)
{
    r->p = p;
    r->end = p + n;
    r->bad = false;
    r->why = NULL;
}

bool
codec_fail(codec_rd *r, const char *why)
{
    if (!r->bad) r->why = why;
    r->bad = true;
    r->p = r->end;
    return false;
}

void
codec_put_u8(buf *b, uint8_t v)
{
    buf_addc(b, (char)v);
}

void
codec_put_u32(buf *b, uint32_t v)
{
    buf_add(b, &v, sizeof v);
}

void
codec_put_u64(buf *b, uint64_t v)
{
    buf_add(b, &v, sizeof v);
}

void
codec_put_strn(buf *b, const char *s, size_t n)
{
    if (!s) {
        codec_put_u32(b, NULL_LEN);
        return;
    }
    /* Longer strings cannot come from the parser or the Lua API (both cap
     * far lower); cut rather than write a length the reader refuses. */
    if (n >= NULL_LEN) n = NULL_LEN - 1;
    codec_put_u32(b, (uint32_t)n);
    buf_add(b, s, n);
    buf_addc(b, '\0');
}

void
codec_put_str(buf *b, const char *s)
{
    codec_put_strn(b, s, s ? strlen(s) : 0);
}

static bool
need(codec_rd *r, size_t n)
{
    if (r->bad) return false;
    if ((size_t)(r->end - r->p) < n) return codec_fail(r, "truncated");
    return true;
}

uint8_t
codec_get_u8(codec_rd *r)
{
    if (!need(r, 1)) return 0;
    return (uint8_t)*r->p++;
}

uint32_t
codec_get_u32(codec_rd *r)
{
    uint32_t v;
    if (!need(r, sizeof v)) return 0;
    memcpy(&v, r->p, sizeof v);
    r->p += sizeof v;
    return v;
}

uint64_t
codec_get_u64(codec_rd *r)
{
    uint64_t v;
    if (!need(r, sizeof v)) return 0;
    memcpy(&v, r->p, sizeof v);
    r->p += sizeof v;
    return v;
}

const char *
codec_get_str(codec_rd *r, size_t max, size_t *len)
{
    if (len) *len = 0;
    uint32_t n = codec_get_u32(r);
    if (r->bad || n == NULL_LEN) return NULL;
    if (n > max) {
        codec_fail(r, "string over its cap");
        return NULL;
    }
    if (!need(r, (size_t)n + 1)) return NULL;
    if (r->p[n] != '\0') {
        codec_fail(r, "string not terminated");
        return NULL;
    }
    const char *s = r->p;
    r->p += (size_t)n + 1;
    if (len) *len = n;
    return s;
}

/* A string that must be there (feed and item fields never NULL but where
 * the contract says so). */
static const char *
get_text(codec_rd *r)
{
    const char *s = codec_get_str(r, ITEMCODEC_MAX_FIELD, NULL);
    if (!s && !r->bad) codec_fail(r, "NULL where a string is required");
    return s ? s : "";
}

void
itemcodec_put_feed(buf *b, const rule_feed *f)
{
    codec_put_str(b, f->title);
    codec_put_str(b, f->link);
    codec_put_str(b, f->subtitle);
    codec_put_str(b, f->language);
    codec_put_str(b, f->author);
    codec_put_u64(b, (uint64_t)f->updated);
    codec_put_str(b, f->url);
    codec_put_str(b, f->name);
}

bool
itemcodec_get_feed(codec_rd *r, rule_feed *f)
{
    f->title = get_text(r);
    f->link = get_text(r);
    f->subtitle = get_text(r);
    f->language = get_text(r);
    f->author = codec_get_str(r, ITEMCODEC_MAX_FIELD, NULL);
    f->updated = (int64_t)codec_get_u64(r);
    f->url = get_text(r);
    f->name = get_text(r);
    return !r->bad;
}

void
itemcodec_put_item(buf *b, const feed_item *it)
{
    codec_put_str(b, it->id);
    codec_put_str(b, it->title);
    codec_put_str(b, it->link);
    codec_put_str(b, it->summary);
    codec_put_str(b, it->content);
    codec_put_str(b, it->author);
    codec_put_u32(b, (uint32_t)it->ncategories);
    for (size_t i = 0; i < it->ncategories; i++)
        codec_put_str(b, it->categories[i]);
    codec_put_u64(b, (uint64_t)it->published);
    codec_put_u64(b, (uint64_t)it->updated);
    codec_put_u32(b, (uint32_t)it->nenclosures);
    for (size_t i = 0; i < it->nenclosures; i++) {
        codec_put_str(b, it->enclosures[i].url);
        codec_put_str(b, it->enclosures[i].type);
        codec_put_u64(b, (uint64_t)it->enclosures[i].length);
    }
}

/* A list count, bounded by its cap and by the bytes left (each element
 * takes at least min_size bytes), so a lying count cannot make us
 * allocate. */
static size_t
get_count(codec_rd *r, size_t min_size)
{
    uint32_t n = codec_get_u32(r);
    if (r->bad) return 0;
    if (n > ITEMCODEC_MAX_LIST ||
        (size_t)n * min_size > (size_t)(r->end - r->p)) {
        codec_fail(r, "list longer than the data");
        return 0;
    }
    return n;
}

bool
itemcodec_get_item(codec_rd *r, feed_item *it, arena *a)
{
    memset(it, 0, sizeof *it);
    it->id = get_text(r);
    it->title = get_text(r);
    it->link = get_text(r);
    it->summary = get_text(r);
    it->content = get_text(r);
    it->author = get_text(r);
    size_t nc = get_count(r, 5);
    if (nc) {
        const char **c = arena_alloc(a, nc * sizeof *c);
        for (size_t i = 0; i < nc; i++)
            c[i] = get_text(r);
        it->categories = c;
        it->ncategories = nc;
    }
    it->published = (int64_t)codec_get_u64(r);
    it->updated = (int64_t)codec_get_u64(r);
    size_t ne = get_count(r, 18);
    if (ne) {
        feed_enclosure *e = arena_alloc(a, ne * sizeof *e);
        for (size_t i = 0; i < ne; i++) {
            e[i].url = get_text(r);
            e[i].type = get_text(r);
            e[i].length = (int64_t)codec_get_u64(r);
        }
        it->enclosures = e;
        it->nenclosures = ne;
    }
    if (!it->id[0] && !r->bad) codec_fail(r, "item without an id");
    return !r->bad;
}

/* ---- actions ---------------------------------------------------------- */

void
itemcodec_put_actions(buf *b, const action_list *l, size_t from)
{
    codec_put_u32(b, (uint32_t)(l->len - from));
    for (size_t i = from; i < l->len; i++) {
        const action *a = &l->v[i];
        codec_put_u8(b, (uint8_t)a->kind);
        switch (a->kind) {
        case ACTION_ALERT:
            codec_put_str(b, a->target);
            codec_put_strn(b, a->payload, a->payload_len);
            break;
        case ACTION_STORE:
            codec_put_u32(b, (uint32_t)a->ntags);
            for (size_t t = 0; t < a->ntags; t++)
                codec_put_str(b, a->tags[t]);
            break;
        case ACTION_LOG:
            codec_put_u8(b, (uint8_t)a->level);
            codec_put_str(b, a->message);
            break;
        case ACTION_ERROR:
            codec_put_str(b, a->message);
            break;
        }
    }
}

static const char *
get_utf8(codec_rd *r, size_t max, size_t *len)
{
    size_t n;
    const char *s = codec_get_str(r, max, &n);
    if (!s) {
        if (!r->bad) codec_fail(r, "NULL where a string is required");
        return NULL;
    }
    if (!utf8_valid(s, n)) {
        codec_fail(r, "string is not valid UTF-8");
        return NULL;
    }
    if (len) *len = n;
    return s;
}

static bool
payload_is_object(const char *s, size_t n)
{
    json_error_t e;
    json_t *j = json_loadb(s, n, 0, &e);
    bool ok = j && json_is_object(j);
    json_decref(j);
    return ok;
}

bool
itemcodec_get_actions(codec_rd *r, action_list *out, const char *sname,
                      int32_t item, const char *item_id)
{
    size_t mark = out->len;
    size_t n = get_count(r, 5);
    size_t nactions = 0, nlogs = 0, bytes = 0;
    for (size_t i = 0; i < n && !r->bad; i++) {
        uint8_t kind = codec_get_u8(r);
        switch (kind) {
        case ACTION_ALERT: {
            size_t tl, pl;
            const char *target = get_utf8(r, ACTION_MAX_TARGET, &tl);
            const char *payload = get_utf8(r, ACTION_MAX_PAYLOAD, &pl);
            if (r->bad) break;
            if (!action_target_valid(target, tl)) {
                codec_fail(r, "invalid webhook name");
                break;
            }
            if (!payload_is_object(payload, pl)) {
                codec_fail(r, "payload is not a JSON object");
                break;
            }
            nactions++;
            bytes += tl + pl;
            action_alert(out, sname, item, item_id, target, payload, pl);
            break;
        }
        case ACTION_STORE: {
            size_t nt = get_count(r, 5);
            if (nt > ACTION_MAX_TAGS) {
                codec_fail(r, "too many tags");
                break;
            }
            const char *tags[ACTION_MAX_TAGS];
            for (size_t t = 0; t < nt && !r->bad; t++) {
                size_t len;
                tags[t] = get_utf8(r, ACTION_MAX_TAG, &len);
                if (!r->bad && len == 0) codec_fail(r, "empty tag");
                bytes += len;
            }
            if (r->bad) break;
            nactions++;
            action_store(out, sname, item, item_id, tags, nt);
            break;
        }
        case ACTION_LOG: {
            int level = codec_get_u8(r);
            const char *msg = get_utf8(r, ACTION_MAX_MESSAGE, NULL);
            if (r->bad) break;
            if (level < LOG_ERR || level > LOG_DEBUG) {
                codec_fail(r, "invalid log level");
                break;
            }
            /* the limit, plus the line that says how many were dropped */
            if (++nlogs > ACTION_MAX_LOGS_PER_CALL + 1) {
                codec_fail(r, "too many log lines");
                break;
            }
            action_log(out, sname, item, item_id, level, msg);
            break;
        }
        case ACTION_ERROR: {
            const char *msg = get_utf8(r, ACTION_MAX_MESSAGE, NULL);
            if (r->bad) break;
            action_error(out, sname, item, item_id, msg);
            break;
        }
        default:
            codec_fail(r, "unknown action kind");
        }
        if (nactions > ACTION_MAX_PER_CALL || bytes > ACTION_MAX_CALL_BYTES)
            codec_fail(r, "more actions than one call may make");
    }
    if (r->bad) action_list_truncate(out, mark);
    return !r->bad;
}
