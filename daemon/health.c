/* health.c — see health.h. */
#include "health.h"

const char *
health_event_name(health_event e)
{
    switch (e) {
    case HEALTH_DOWN: return "down";
    case HEALTH_UP: return "up";
    case HEALTH_SILENT: return "silent";
    case HEALTH_TALKING: return "talking";
    case HEALTH_NONE: break;
    }
    return "none";
}

health_event
health_check(health_state *st, bool ok, int64_t now, int64_t alert_after_s,
             int64_t silent_after_s, int64_t *since, int64_t *ident)
{
    *ident = 0;
    if (!ok) {
        if (!st->fail_since) st->fail_since = now;
        st->last_fail = now;
        if (!st->down_raised && alert_after_s >= 0 &&
            now - st->fail_since >= alert_after_s) {
            st->down_raised = true;
            *since = *ident = st->fail_since;
            return HEALTH_DOWN;
        }
        return HEALTH_NONE;
    }
    health_event e = HEALTH_NONE;
    if (st->fail_since && alert_after_s >= 0 &&
        st->last_fail - st->fail_since >= alert_after_s) {
        *since = *ident = st->fail_since;
        e = HEALTH_UP;
    }
    st->fail_since = st->last_fail = 0;
    st->down_raised = false;
    if (e != HEALTH_NONE) return e;
    if (!st->silent_raised && silent_after_s >= 0 && st->last_new &&
        now - st->last_new >= silent_after_s) {
        st->silent_raised = true;
        *since = *ident = st->last_new;
        return HEALTH_SILENT;
    }
    return HEALTH_NONE;
}

health_event
health_new_items(health_state *st, int64_t now, int64_t *since)
{
    health_event e = HEALTH_NONE;
    if (st->silent_raised) {
        *since = st->last_new;
        e = HEALTH_TALKING;
    }
    st->silent_raised = false;
    st->last_new = now;
    return e;
}
