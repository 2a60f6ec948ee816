/* feedbuild.c — see feedbuild.h. */
#include "feedbuild.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "date.h"
#include "text.h"
#include "url.h"
#include "utf8.h"

#define DEFAULT_MAX_FIELD (1u << 20)
#define DEFAULT_MAX_ITEMS 10000
#define DEFAULT_MAX_DEPTH 256
#define DEFAULT_MAX_ERRORS 10
#define MAX_CATEGORIES 64
#define MAX_ENCLOSURES 32

static void
acc_reset(field_acc *a)
{
    memset(a, 0, sizeof *a);
    a->date[FK_PUBLISHED] = a->date[FK_UPDATED] = DATE_NONE;
}

void
fb_init(feed_builder *b, feed *f, const feed_options *opt)
{
    memset(b, 0, sizeof *b);
    memset(f, 0, sizeof *f);
    b->f = f;
    if (opt) {
        b->lim = opt->limits;
        b->base_url = opt->base_url;
    }
    if (!b->lim.max_input) b->lim.max_input = FEED_DEFAULT_MAX_INPUT;
    if (!b->lim.max_field) b->lim.max_field = DEFAULT_MAX_FIELD;
    if (!b->lim.max_items) b->lim.max_items = DEFAULT_MAX_ITEMS;
    if (!b->lim.max_depth) b->lim.max_depth = DEFAULT_MAX_DEPTH;
    if (!b->lim.max_errors) b->lim.max_errors = DEFAULT_MAX_ERRORS;
    if (b->base_url && !*b->base_url) b->base_url = NULL;
    f->title = f->link = f->subtitle = f->language = "";
    f->author = NULL;
    f->updated = DATE_NONE;
    f->wellformed = true;
    f->format = FEED_UNKNOWN;
    acc_reset(&b->feed_acc);
    acc_reset(&b->item_acc);
}

void
fb_free(feed_builder *b)
{
    buf_free(&b->scratch);
    buf_free(&b->scratch2);
    free(b->cats);
    free(b->encs);
    free(b->link_ids);
}

static void add_message(feed_builder *b, const char *fmt, va_list ap)
    PRINTF_LIKE(2, 0);

static void
add_message(feed_builder *b, const char *fmt, va_list ap)
{
    feed *f = b->f;
    if (f->nerrors >= b->lim.max_errors) return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* libxml2 messages end with a newline; feeds can put anything in. */
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) msg[--n] = '\0';
    for (size_t i = 0; i < f->nerrors; i++)
        if (!strcmp(f->errors[i], msg)) return;
    if (!f->errors)
        f->errors = arena_alloc(&f->mem, b->lim.max_errors * sizeof *f->errors);
    f->errors[f->nerrors++] = fb_strn(b, msg, n);
}

void
fb_error(feed_builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_message(b, fmt, ap);
    va_end(ap);
    b->f->wellformed = false;
}

void
fb_note(feed_builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_message(b, fmt, ap);
    va_end(ap);
}

/* A copy in the arena of field text the parsers handed over, which is
 * valid UTF-8 already: the charset pass checked every byte of the document
 * before libxml2 or jansson saw it, both pass valid UTF-8 through (and
 * decode references to Unicode scalar values only), capture cuts fields on
 * character boundaries, and the text functions keep valid text valid.
 * Checking every field again cost 2% of a parse's instructions, so the
 * invariant is tested instead (test_feed's random documents, fuzz_feed);
 * fb_strn keeps the check for what did not come through that path. */
static const char *
fb_keep(feed_builder *b, const char *s, size_t n)
{
    return arena_strndup(&b->f->mem, s, n);
}

const char *
fb_strn(feed_builder *b, const char *s, size_t n)
{
    if (LIKELY(utf8_valid(s, n))) return arena_strndup(&b->f->mem, s, n);
    buf_reset(&b->scratch2);
    utf8_repair(&b->scratch2, s, n);
    return arena_strndup(&b->f->mem, b->scratch2.p, b->scratch2.len);
}

static inline bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

void
fb_trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) (*s)++, (*n)--;
    while (*n && is_space((*s)[*n - 1])) (*n)--;
}

/* Text that must become HTML (content given as plain text). */
static void
html_escape(buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<': buf_add(out, "&lt;", 4); break;
        case '>': buf_add(out, "&gt;", 4); break;
        case '&': buf_add(out, "&amp;", 5); break;
        default: buf_addc(out, s[i]);
        }
    }
}

/* Normalises raw field bytes according to kind and mode, into b->scratch
 * or, when the normal form is a part of the input itself (a trimmed id or
 * link, content already NFC: the common cases), by pointing at that part,
 * which saves copying the largest fields twice. */
static void
normalise(feed_builder *b, field_kind k, text_mode mode, const char **sp,
          size_t *np)
{
    const char *s = *sp;
    size_t n = *np;
    buf *out = &b->scratch;
    buf_reset(out);
    switch (k) {
    case FK_ID:
    case FK_LINK:
    case FK_LANGUAGE:
        fb_trim(sp, np);
        return;
    case FK_CONTENT:
        fb_trim(&s, &n);
        if (mode == TM_HTML || mode == TM_XHTML) {
            if (text_nfc_quick(s, n) == n) {
                *sp = s, *np = n;
                return;
            }
            text_nfc(out, s, n);
        } else {
            buf_reset(&b->scratch2);
            html_escape(&b->scratch2, s, n);
            text_nfc(out, b->scratch2.p, b->scratch2.len);
        }
        break;
    default:
        if (mode == TM_HTML || mode == TM_XHTML)
            text_from_html(out, s, n);
        else
            text_from_plain(out, s, n);
    }
    *sp = out->p ? out->p : "";
    *np = out->len;
}

static field_acc *
current(feed_builder *b)
{
    return b->in_item ? &b->item_acc : &b->feed_acc;
}

static void
add_category(feed_builder *b, const char *s, size_t n)
{
    if (!n) return;
    for (size_t i = 0; i < b->ncats; i++)
        if (strlen(b->cats[i]) == n && !memcmp(b->cats[i], s, n)) return;
    if (b->ncats >= MAX_CATEGORIES) {
        /* a rule matching on categories must know some were not read */
        if (!b->cats_cut)
            fb_note(b, "an item with more than %d categories: the rest were "
                       "ignored", MAX_CATEGORIES);
        b->cats_cut = true;
        return;
    }
    if (b->ncats == b->cats_cap) {
        b->cats_cap = b->cats_cap ? 2 * b->cats_cap : 8;
        b->cats = xrealloc(b->cats, b->cats_cap * sizeof *b->cats);
    }
    b->cats[b->ncats++] = fb_keep(b, s, n);
}

static void
note_authors_cut(feed_builder *b)
{
    fb_note(b,
            "more than %d authors or %zu bytes of them: the rest were left out",
            FB_MAX_AUTHORS, b->lim.max_field);
}

/* Every name of the best source of authors is kept: an Atom entry with two
 * <author>s, an RSS item with two dc:creator, is by both, and rules look
 * for the second as much as the first. A better source starts again. */
static void
add_author(feed_builder *b, int prio, text_mode mode, const char *s, size_t n)
{
    field_acc *a = current(b);
    name_list *l = b->in_item ? &b->item_authors : &b->feed_authors;
    if (a->prio[FK_AUTHOR] > prio) return;
    if (a->prio[FK_AUTHOR] == prio && l->n == FB_MAX_AUTHORS) {
        note_authors_cut(b);
        return;
    }
    normalise(b, FK_AUTHOR, mode, &s, &n);
    if (!n) return; /* empty never hides a worse but real value */
    if (a->prio[FK_AUTHOR] < prio) {
        l->n = l->len = 0;
        a->prio[FK_AUTHOR] = (uint8_t)prio;
    }
    for (size_t i = 0; i < l->n; i++)
        if (l->vlen[i] == n && !memcmp(l->v[i], s, n)) return;
    size_t len = l->len + (l->n ? 2 : 0) + n;
    /* The first name is a field like any other, already within its cap. */
    if (l->n && len > b->lim.max_field) {
        note_authors_cut(b);
        return;
    }
    l->v[l->n] = fb_keep(b, s, n);
    l->vlen[l->n++] = n;
    l->len = len;
}

/* The authors' names joined with ", ", or NULL when none was given. */
static const char *
joined_authors(feed_builder *b, const name_list *l)
{
    if (l->n <= 1) return l->n ? l->v[0] : NULL;
    buf_reset(&b->scratch);
    for (size_t i = 0; i < l->n; i++) {
        if (i) buf_add(&b->scratch, ", ", 2);
        buf_add(&b->scratch, l->v[i], l->vlen[i]);
    }
    return fb_keep(b, b->scratch.p, b->scratch.len);
}

void
fb_offer(feed_builder *b, field_kind k, int prio, text_mode mode,
         const char *s, size_t n, const char *base)
{
    field_acc *a = current(b);
    if (k == FK_CATEGORY) {
        if (!b->in_item) return;
        normalise(b, k, mode, &s, &n);
        add_category(b, s, n);
        return;
    }
    if (k == FK_AUTHOR) {
        add_author(b, prio, mode, s, n);
        return;
    }
    if (a->prio[k] >= prio) return; /* a better source already spoke */
    normalise(b, k, mode, &s, &n);
    if (!n) return; /* empty never hides a worse but real value */
    a->val[k] = fb_keep(b, s, n);
    a->base[k] = base;
    a->prio[k] = (uint8_t)prio;
}

void
fb_offer_date(feed_builder *b, field_kind k, int prio, const char *s, size_t n)
{
    field_acc *a = current(b);
    if (a->prio[k] >= prio) return;
    int64_t t = date_parse(s, n);
    if (t == DATE_NONE) return;
    a->date[k] = t;
    a->prio[k] = (uint8_t)prio;
}

/* The base a relative link of the current item or feed resolves against:
 * its xml:base, else the feed's own link, else the document's URL. */
static const char *
effective_base(feed_builder *b, const char *xmlbase)
{
    const char *feedlink = b->f->link && *b->f->link ? b->f->link : NULL;
    if (!feedlink && b->feed_acc.val[FK_LINK])
        feedlink = url_resolve(&b->f->mem, b->feed_acc.base[FK_LINK]
                                               ? b->feed_acc.base[FK_LINK]
                                               : b->base_url,
                               b->feed_acc.val[FK_LINK]);
    if (feedlink && !url_is_http(feedlink)) feedlink = NULL;
    const char *fallback = feedlink ? feedlink : b->base_url;
    if (!xmlbase) return fallback;
    if (url_is_absolute(xmlbase)) return xmlbase;
    return url_resolve(&b->f->mem, fallback, xmlbase);
}

static const char *
absolute(feed_builder *b, const char *ref, const char *xmlbase)
{
    if (!ref || !*ref) return "";
    if (url_is_absolute(ref)) return ref;
    return url_resolve(&b->f->mem, effective_base(b, xmlbase), ref);
}

/* link when it is http or https, else "" and a note. Those are the links
 * rules and webhooks get: a javascript:, data: or vbscript: link put in a
 * Slack message or a Matrix <a href> is a click away from running script,
 * and a relative link nothing could resolve leads nowhere. */
static const char *
web_link(feed_builder *b, const char *link)
{
    if (!*link || url_is_http(link)) return link;
    if (url_is_absolute(link)) {
        int scheme = (int)(strchr(link, ':') - link);
        fb_note(b, "a link that is not http or https was left out (%.*s:)",
                scheme < 32 ? scheme : 32, link);
    } else {
        fb_note(b, "a relative link with no base to resolve it against was "
                   "left out");
    }
    return "";
}

/* An enclosure's byte count: a plain non-negative integer, spaces around
 * it allowed. Anything else ("1,234", "1e6", "-1", past INT64_MAX) is 0,
 * unknown: a prefix read as a number would be a size nobody wrote. */
static int64_t
parse_length(const char *s)
{
    while (is_space(*s)) s++;
    if (*s < '0' || *s > '9') return 0;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    while (is_space(*s)) s++;
    return *s ? 0 : v;
}

void
fb_add_enclosure(feed_builder *b, const char *url, const char *type,
                 const char *length, const char *base)
{
    if (!b->in_item || !url) return;
    size_t n = strlen(url);
    fb_trim(&url, &n);
    if (!n) return;
    if (b->nencs >= MAX_ENCLOSURES) {
        if (!b->encs_cut)
            fb_note(b, "an item with more than %d enclosures: the rest were "
                       "ignored", MAX_ENCLOSURES);
        b->encs_cut = true;
        return;
    }
    /* an enclosure is a link too: http(s) only, as web_link says why */
    const char *u = web_link(b, absolute(b, fb_strn(b, url, n), base));
    if (!*u) return;
    if (b->nencs == b->encs_cap) {
        b->encs_cap = b->encs_cap ? 2 * b->encs_cap : 4;
        b->encs = xrealloc(b->encs, b->encs_cap * sizeof *b->encs);
    }
    feed_enclosure *e = &b->encs[b->nencs++];
    e->url = u;
    e->type = type ? fb_strn(b, type, strlen(type)) : "";
    e->length = length ? parse_length(length) : 0;
}

bool
fb_item_begin(feed_builder *b)
{
    if (b->f->nitems >= b->lim.max_items) {
        if (!b->stop)
            fb_note(b, "more than %zu items: the rest were ignored",
                    b->lim.max_items);
        b->stop = true;
        return false;
    }
    acc_reset(&b->item_acc);
    b->ncats = b->nencs = 0;
    b->item_authors.n = b->item_authors.len = 0;
    b->in_item = true;
    return true;
}

/* FNV-1a, 64 bits: a stable id for items that give neither id nor link. */
static uint64_t
fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

void
fb_item_drop(feed_builder *b)
{
    b->in_item = false;
}

void
fb_item_end(feed_builder *b)
{
    if (!b->in_item) return;
    b->in_item = false;
    field_acc *a = &b->item_acc;
    feed *f = b->f;
    if (f->nitems == b->items_cap) {
        b->items_cap = b->items_cap ? 2 * b->items_cap : 16;
        f->items = xrealloc(f->items, b->items_cap * sizeof *f->items);
    }
    feed_item *it = &f->items[f->nitems++];
    memset(it, 0, sizeof *it);
    it->title = a->val[FK_TITLE] ? a->val[FK_TITLE] : "";
    const char *link = absolute(b, a->val[FK_LINK], a->base[FK_LINK]);
    it->link = web_link(b, link);
    it->content = a->val[FK_CONTENT] ? a->val[FK_CONTENT] : "";
    it->summary = a->val[FK_SUMMARY];
    if (!it->summary && *it->content) {
        /* Many Atom feeds carry only content: the text of it is the
         * summary rules and searches want. */
        buf_reset(&b->scratch);
        text_from_html(&b->scratch, it->content, strlen(it->content));
        it->summary = fb_keep(b, b->scratch.p, b->scratch.len);
    }
    /* What a module (YouTube's media:group, a podcast's iTunes
     * elements) says comes last: the item's own title and description,
     * or the text of its content, are what the feed chose to say. */
    if (!*it->title && a->val[FK_ALT_TITLE]) it->title = a->val[FK_ALT_TITLE];
    if ((!it->summary || !*it->summary) && a->val[FK_ALT_SUMMARY])
        it->summary = a->val[FK_ALT_SUMMARY];
    if (!it->summary) it->summary = "";
    const char *author = joined_authors(b, &b->item_authors);
    if (!author) author = a->val[FK_ALT_AUTHOR];
    it->author = author ? author : "";
    it->published = a->date[FK_PUBLISHED];
    it->updated = a->date[FK_UPDATED];
    if (a->val[FK_ID]) {
        it->id = a->val[FK_ID];
    } else if (*link) {
        /* the link as the feed gave it, kept as the link or not: the ids
         * items had before links were checked stay what they were */
        it->id = link;
        if (b->nlink_ids == b->link_ids_cap) {
            b->link_ids_cap = b->link_ids_cap ? 2 * b->link_ids_cap : 8;
            b->link_ids = xrealloc(b->link_ids,
                                   b->link_ids_cap * sizeof *b->link_ids);
        }
        b->link_ids[b->nlink_ids++] = f->nitems - 1;
    } else {
        uint64_t h = fnv1a(0xcbf29ce484222325ULL, it->title);
        h = fnv1a(h ^ '\n', it->summary);
        char tmp[40];
        snprintf(tmp, sizeof tmp, "urn:vigie:%016" PRIx64, h);
        it->id = arena_strdup(&f->mem, tmp);
    }
    if (b->ncats) {
        it->categories = arena_alloc(&f->mem, b->ncats * sizeof *it->categories);
        memcpy(it->categories, b->cats, b->ncats * sizeof *it->categories);
        it->ncategories = b->ncats;
    }
    if (b->nencs) {
        it->enclosures = arena_alloc(&f->mem, b->nencs * sizeof *it->enclosures);
        memcpy(it->enclosures, b->encs, b->nencs * sizeof *it->enclosures);
        it->nenclosures = b->nencs;
    }
}

/* ---- ids unique within the document ---- */

/* FNV-1a over s and the NUL that ends it, so that fields hashed one after
 * the other cannot run into each other. */
static uint64_t
fnv1a_field(uint64_t h, const char *s)
{
    h = fnv1a(h, s);
    return h * 0x100000001b3ULL; /* the NUL: h ^= 0, then the multiply */
}

/* What tells apart items that share an id: their title, link, summary,
 * publication date and first enclosure. Not the update date, content,
 * categories or author, which an edit changes without making the item
 * another one. */
static uint64_t
content_key(const feed_item *it)
{
    char date[24] = "";
    if (it->published != DATE_NONE)
        snprintf(date, sizeof date, "%" PRId64, it->published);
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a_field(h, it->title);
    h = fnv1a_field(h, it->link);
    h = fnv1a_field(h, it->summary);
    h = fnv1a_field(h, date);
    return fnv1a_field(h, it->nenclosures ? it->enclosures[0].url : "");
}

/* The item's id followed by "#vigie-" and its content_key: what tells it
 * apart where its id alone does not. */
static void
name_by_content(feed_builder *b, feed_item *it)
{
    buf_reset(&b->scratch);
    buf_printf(&b->scratch, "%s#vigie-%016" PRIx64, it->id, content_key(it));
    it->id = fb_keep(b, b->scratch.p, b->scratch.len);
}

static bool
same_story(const feed_item *a, const feed_item *b)
{
    return !strcmp(a->title, b->title) && !strcmp(a->link, b->link) &&
           !strcmp(a->summary, b->summary) && a->published == b->published &&
           !strcmp(a->nenclosures ? a->enclosures[0].url : "",
                   b->nenclosures ? b->enclosures[0].url : "");
}

typedef struct id_ref {
    const char *id;
    size_t i; /* index in f->items */
} id_ref;

static int
id_ref_cmp(const void *x, const void *y)
{
    const id_ref *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* The items' ids, sorted, items of one id in document order. */
static id_ref *
sorted_ids(const feed *f)
{
    id_ref *r = xmalloc(f->nitems * sizeof *r);
    for (size_t i = 0; i < f->nitems; i++) r[i] = (id_ref){f->items[i].id, i};
    qsort(r, f->nitems, sizeof *r, id_ref_cmp);
    return r;
}

/* Items [g, e) of r share an id. When they are not all one story, each
 * gets the shared id plus a hash of its own content: stable from poll to
 * poll whatever the order of the items or the siblings beside it, and
 * never the bare shared id, which a sibling arriving later would
 * otherwise inherit from an item already seen (and be taken for it).
 * Returns how many items were renamed. */
static size_t
tell_group_apart(feed_builder *b, const id_ref *r, size_t g, size_t e)
{
    feed *f = b->f;
    bool one_story = true;
    for (size_t k = g + 1; k < e && one_story; k++)
        one_story = same_story(&f->items[r[g].i], &f->items[r[k].i]);
    if (one_story) return 0;
    for (size_t k = g; k < e; k++) name_by_content(b, &f->items[r[k].i]);
    return e - g;
}

/* Keeps the first of the items that share an id, in document order: they
 * are one story (same content as far as ids go) listed more than once. */
static void
drop_repeats(feed *f)
{
    id_ref *r = sorted_ids(f);
    bool *drop = xcalloc(f->nitems, sizeof *drop);
    for (size_t k = 1; k < f->nitems; k++)
        if (!strcmp(r[k].id, r[k - 1].id)) drop[r[k].i] = true;
    size_t n = 0;
    for (size_t i = 0; i < f->nitems; i++)
        if (!drop[i]) f->items[n++] = f->items[i];
    f->nitems = n;
    free(drop);
    free(r);
}

/* The store knows an item by (feed, id): two different stories under one
 * id would be one item, the second never alerting, or each poll taking a
 * new arrival for an update of the item it shares an id with (a status
 * page whose items all link to the page, bulletins with one title and no
 * link, a CMS repeating a guid). So ids are made unique within the
 * document. Items whose id is theirs alone keep it unchanged, so an
 * upgrade changes no id that worked.
 *
 * An item renamed here after it was seen alone under the bare id (the
 * first status message, then a second one beside it) is new to the store
 * by its id; the store's link+title dedup (store.h, on by default) finds
 * it among the items seen in the last dedup_window when it has a link and
 * a title, and it does not alert again. One without both alerts once
 * more.
 *
 * In a group that collided before this pass existed, the store holds the
 * link+title of the group's item last in the document only (each item
 * overwrote the one seen row): after the upgrade that one counts as seen
 * and the others alert once. Feeds list newest first, so that is the
 * oldest, which had alerted, and the others get the alert they had lost;
 * in a feed listing oldest first, the oldest alerts a second time and the
 * newest stays lost. */
static void
make_ids_unique(feed_builder *b)
{
    feed *f = b->f;
    if (f->nitems < 2) return;
    id_ref *r = sorted_ids(f);
    size_t renamed = 0;
    bool repeats = false;
    for (size_t g = 0, e; g < f->nitems; g = e) {
        for (e = g + 1; e < f->nitems && !strcmp(r[e].id, r[g].id); e++)
            repeats = true;
        if (e - g > 1) renamed += tell_group_apart(b, r, g, e);
    }
    free(r);
    if (!repeats) return;
    /* Twins within a renamed group got the same new id: one item. (A new
     * id could also equal another item's own id, in a document written to
     * that end only: the later of the two goes, as a twin would.) */
    drop_repeats(f);
    if (renamed)
        fb_note(b, "%zu items shared an id; told apart by their content",
                renamed);
}

/* An item without a guid whose link is the feed's own page (a status
 * page showing its latest incident, a "news" page) is not named by that
 * link: each new message would be taken for an edit of the one before,
 * and never alert even when it is alone in the document. Its id is the
 * link plus a hash of its content, as for siblings sharing an id. (After
 * an upgrade such an item is new by its id; the store's link+title dedup
 * keeps it from alerting again when it was seen within dedup_window.) */
static void
page_link_is_no_id(feed_builder *b)
{
    feed *f = b->f;
    if (!f->link || !*f->link) return;
    for (size_t k = 0; k < b->nlink_ids; k++) {
        feed_item *it = &f->items[b->link_ids[k]];
        if (!strcmp(it->id, f->link)) name_by_content(b, it);
    }
}

void
fb_finish(feed_builder *b)
{
    if (b->in_item) fb_item_end(b);
    field_acc *a = &b->feed_acc;
    feed *f = b->f;
    if (a->val[FK_LINK])
        f->link = web_link(
            b, url_resolve(&f->mem,
                           a->base[FK_LINK] ? a->base[FK_LINK] : b->base_url,
                           a->val[FK_LINK]));
    page_link_is_no_id(b);
    make_ids_unique(b);
    if (a->val[FK_TITLE]) f->title = a->val[FK_TITLE];
    if (a->val[FK_SUBTITLE]) f->subtitle = a->val[FK_SUBTITLE];
    if (a->val[FK_LANGUAGE]) f->language = a->val[FK_LANGUAGE];
    const char *author = joined_authors(b, &b->feed_authors);
    if (!author) author = a->val[FK_ALT_AUTHOR];
    if (author) f->author = author;
    /* Atom (RFC 4287 4.2.1) and JSON Feed 1.1: an entry without an author
     * has the feed's. RSS says nothing of the kind, but iTunes does: an
     * episode without an author has the show's <itunes:author>. */
    bool inherits = f->format == FEED_ATOM03 || f->format == FEED_ATOM10 ||
                    f->format == FEED_JSONFEED;
    const char *heir = inherits ? f->author : a->val[FK_ALT_AUTHOR];
    for (size_t i = 0; heir && i < f->nitems; i++)
        if (!*f->items[i].author) f->items[i].author = heir;
    f->updated = a->date[FK_UPDATED] != DATE_NONE ? a->date[FK_UPDATED]
                                                   : a->date[FK_PUBLISHED];
}
