/* feed_json.c — see feed_json.h. Field order follows DESIGN.md. */
#include "feed_json.h"

void
feed_meta_write_json(jsonw *w, const feed *f)
{
    jsonw_obj_open(w);
    jsonw_key(w, "title");
    jsonw_str(w, f->title);
    jsonw_key(w, "link");
    jsonw_str(w, f->link);
    jsonw_key(w, "subtitle");
    jsonw_str(w, f->subtitle);
    jsonw_key(w, "language");
    jsonw_str(w, f->language);
    jsonw_key(w, "updated");
    jsonw_date(w, f->updated);
    jsonw_key(w, "author");
    jsonw_str(w, f->author);
    jsonw_obj_close(w);
}

void
feed_item_write_json(jsonw *w, const feed_item *it)
{
    jsonw_obj_open(w);
    jsonw_key(w, "id");
    jsonw_str(w, it->id);
    jsonw_key(w, "title");
    jsonw_str(w, it->title);
    jsonw_key(w, "link");
    jsonw_str(w, it->link);
    jsonw_key(w, "summary");
    jsonw_str(w, it->summary);
    jsonw_key(w, "content");
    jsonw_str(w, it->content);
    jsonw_key(w, "author");
    jsonw_str(w, it->author);
    jsonw_key(w, "categories");
    jsonw_arr_open(w);
    for (size_t i = 0; i < it->ncategories; i++) jsonw_str(w, it->categories[i]);
    jsonw_arr_close(w);
    jsonw_key(w, "published");
    jsonw_date(w, it->published);
    jsonw_key(w, "updated");
    jsonw_date(w, it->updated);
    jsonw_key(w, "enclosures");
    jsonw_arr_open(w);
    for (size_t i = 0; i < it->nenclosures; i++) {
        const feed_enclosure *e = &it->enclosures[i];
        jsonw_obj_open(w);
        jsonw_key(w, "url");
        jsonw_str(w, e->url);
        jsonw_key(w, "type");
        jsonw_str(w, e->type);
        jsonw_key(w, "length");
        jsonw_int(w, e->length);
        jsonw_obj_close(w);
    }
    jsonw_arr_close(w);
    jsonw_obj_close(w);
}

void
feed_write_json(buf *out, const feed *f)
{
    jsonw w;
    jsonw_init(&w, out);
    jsonw_obj_open(&w);
    jsonw_key(&w, "feed");
    feed_meta_write_json(&w, f);
    jsonw_key(&w, "format");
    jsonw_str(&w, feed_format_name(f->format));
    jsonw_key(&w, "wellformed");
    jsonw_bool(&w, f->wellformed);
    jsonw_key(&w, "errors");
    jsonw_arr_open(&w);
    for (size_t i = 0; i < f->nerrors; i++) jsonw_str(&w, f->errors[i]);
    jsonw_arr_close(&w);
    jsonw_key(&w, "items");
    jsonw_arr_open(&w);
    for (size_t i = 0; i < f->nitems; i++) feed_item_write_json(&w, &f->items[i]);
    jsonw_arr_close(&w);
    jsonw_obj_close(&w);
}
