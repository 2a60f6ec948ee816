/* store_json.c — items as JSON, the `vigie parse` item shape: written for
 * alerts and rule failures, read back when a failed rule runs again, and
 * the stored copy of an item (from its row in `items`) for on_update. */
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "date.h"
#include "feed.h"
#include "jsonw.h"
#include "store.h"
#include "store_int.h"

/* ---- item JSON ---------------------------------------------------------- */

/* A value that is already JSON text, after jsonw_key(). */
static void
jsonw_raw(jsonw *w, const char *s)
{
    buf_adds(w->out, s);
    w->need_comma |= (uint64_t)1 << w->depth;
}

void
store_item_write_json(buf *out, const struct feed_item *it)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "id");
    jsonw_str(&w, it->id ? it->id : "");
    jsonw_key(&w, "title");
    jsonw_str(&w, it->title ? it->title : "");
    jsonw_key(&w, "link");
    jsonw_str(&w, it->link ? it->link : "");
    jsonw_key(&w, "summary");
    jsonw_str(&w, it->summary ? it->summary : "");
    jsonw_key(&w, "content");
    jsonw_str(&w, it->content ? it->content : "");
    jsonw_key(&w, "author");
    jsonw_str(&w, it->author ? it->author : "");
    jsonw_key(&w, "categories");
    jsonw_arr_open(&w);
    for (size_t i = 0; i < it->ncategories; i++)
        jsonw_str(&w, it->categories[i]);
    jsonw_arr_close(&w);
    jsonw_key(&w, "published");
    jsonw_date(&w, it->published);
    jsonw_key(&w, "updated");
    jsonw_date(&w, it->updated);
    jsonw_key(&w, "enclosures");
    jsonw_arr_open(&w);
    for (size_t i = 0; i < it->nenclosures; i++) {
        jsonw_obj_open(&w);
        jsonw_key(&w, "url");
        jsonw_str(&w, it->enclosures[i].url ? it->enclosures[i].url : "");
        jsonw_key(&w, "type");
        jsonw_str(&w, it->enclosures[i].type ? it->enclosures[i].type : "");
        jsonw_key(&w, "length");
        jsonw_int(&w, it->enclosures[i].length);
        jsonw_obj_close(&w);
    }
    jsonw_arr_close(&w);
    jsonw_obj_close(&w);
}

static const char *
json_field(json_t *o, const char *k, arena *mem)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return "";
    return arena_strndup(mem, json_string_value(v), json_string_length(v));
}

static int64_t
json_date(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return DATE_NONE;
    return date_parse(json_string_value(v), json_string_length(v));
}

int
store_item_from_json(const char *text, struct feed_item *it, arena *mem)
{
    memset(it, 0, sizeof *it);
    json_t *o = json_loads(text, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    it->id = json_field(o, "id", mem);
    it->title = json_field(o, "title", mem);
    it->link = json_field(o, "link", mem);
    it->summary = json_field(o, "summary", mem);
    it->content = json_field(o, "content", mem);
    it->author = json_field(o, "author", mem);
    it->published = json_date(o, "published");
    it->updated = json_date(o, "updated");
    json_t *a = json_object_get(o, "categories");
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    it->categories = arena_alloc(mem, (n ? n : 1) * sizeof *it->categories);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (json_is_string(v))
            it->categories[it->ncategories++] =
                arena_strndup(mem, json_string_value(v), json_string_length(v));
    }
    a = json_object_get(o, "enclosures");
    n = json_is_array(a) ? json_array_size(a) : 0;
    it->enclosures = arena_alloc(mem, (n ? n : 1) * sizeof *it->enclosures);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_object(e)) continue;
        feed_enclosure *fe = &it->enclosures[it->nenclosures++];
        fe->url = json_field(e, "url", mem);
        fe->type = json_field(e, "type", mem);
        json_t *l = json_object_get(e, "length");
        fe->length = json_is_integer(l) ? (int64_t)json_integer_value(l) : 0;
    }
    json_decref(o);
    return *it->id ? 0 : -1;
}

char *
store_item_json(store *s, const char *feed_key, const char *item_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT i.item_id, i.title, i.link, i.body, i.body,"
            " i.author, i.categories, i.published, i.updated, i.enclosures,"
            " i.tags FROM items i JOIN feeds f ON f.id = i.feed"
            " WHERE f.key = ?1 AND i.idh = ?2",
            -1, &st, NULL) != SQLITE_OK)
        return NULL;
    struct feed_item tmp = {.id = item_id};
    store_item_key k;
    store_item_key_of(s, &tmp, &k);
    unsigned char idh[16];
    memcpy(idh, k.idh, 16);
    st_bind_text(st, 1, feed_key);
    sqlite3_bind_blob(st, 2, idh, 16, SQLITE_STATIC);
    char *ret = NULL;
    buf body = {0};
    const char *text[6];
    if (sqlite3_step(st) == SQLITE_ROW &&
        st_body_unpack(sqlite3_column_blob(st, 3),
                       (size_t)sqlite3_column_bytes(st, 3), &body, &text[3],
                       &text[4]) == 0) {
        buf b = {0};
        jsonw w;
        jsonw_init(&w, &b);
        static const char *const names[] = {"id",      "title",   "link",
                                            "summary", "content", "author"};
        for (int i = 0; i < 6; i++)
            if (i != 3 && i != 4) text[i] = st_col_text(st, i);
        jsonw_obj_open(&w);
        for (int i = 0; i < 6; i++) {
            jsonw_key(&w, names[i]);
            jsonw_str(&w, text[i] ? text[i] : "");
        }
        jsonw_key(&w, "categories");
        jsonw_raw(&w, st_col_text(st, 6) ? st_col_text(st, 6) : "[]");
        jsonw_key(&w, "published");
        jsonw_date(&w, sqlite3_column_type(st, 7) == SQLITE_NULL
                           ? DATE_NONE
                           : sqlite3_column_int64(st, 7));
        jsonw_key(&w, "updated");
        jsonw_date(&w, sqlite3_column_type(st, 8) == SQLITE_NULL
                           ? DATE_NONE
                           : sqlite3_column_int64(st, 8));
        jsonw_key(&w, "enclosures");
        jsonw_raw(&w, st_col_text(st, 9) ? st_col_text(st, 9) : "[]");
        jsonw_key(&w, "tags");
        jsonw_raw(&w, st_col_text(st, 10) ? st_col_text(st, 10) : "[]");
        jsonw_obj_close(&w);
        ret = buf_detach(&b);
    }
    buf_free(&body);
    sqlite3_finalize(st);
    return ret;
}
