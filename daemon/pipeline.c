/* pipeline.c — see pipeline.h. This first version keeps nothing: it logs
 * each fetched feed's items and reports the poll as committed. The store
 * and rules replace it with dedup, the Lua worker and one SQLite
 * transaction per feed. */
#include "pipeline.h"

#include <stdlib.h>

#include "log.h"

struct pipeline {
    int unused;
};

void
feed_state_clear(feed_state *s)
{
    free(s->url);
    free(s->etag);
    free(s->last_modified);
    free(s->disabled_why);
    memset(s, 0, sizeof *s);
}

pipeline *pipeline_new(void);
void pipeline_free(pipeline *pl);

pipeline *
pipeline_new(void)
{
    return xcalloc(1, sizeof(pipeline));
}

void
pipeline_free(pipeline *pl)
{
    free(pl);
}

int
pipeline_load_state(pipeline *pl, const char *key, feed_state *out)
{
    UNUSED(pl);
    UNUSED(key);
    memset(out, 0, sizeof *out);
    return -1;
}

void
pipeline_submit(pipeline *pl, poll_outcome *o, pipeline_done_fn done, void *arg)
{
    UNUSED(pl);
    pipeline_result r = {.committed = true};
    if (o->parsed) {
        r.items = o->parsed->nitems;
        for (size_t i = 0; i < o->parsed->nitems; i++)
            log_debug("feed %s: item %s: %s", o->cf->label, o->parsed->items[i].id,
                      o->parsed->items[i].title);
        feed_free(o->parsed);
        free(o->parsed);
        o->parsed = NULL;
    }
    done(arg, &r);
}
