/* feed_xml.c — RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through a libxml2 SAX2
 * parse with our own handlers.
 *
 * Hardening, measured on libxml2 2.9.14: XML_PARSE_NONET does not stop a
 * file:// external entity, default options let the quadratic blowup expand
 * to gigabytes through characters(), XML_PARSE_HUGE turns every limit off,
 * and the depth check lives in tree building, not in SAX. So: no NOENT,
 * DTDLOAD, DTDATTR, DTDVALID, HUGE or XINCLUDE; any entity declaration
 * stops the parse (feeds never need one); a deny-all external entity
 * loader; our own caps on depth, field size and items. HTML named entities
 * used without a DTD (&nbsp; &eacute;) are supplied by getEntity.
 *
 * Elements are classified by (namespace, local name) into tokens; a stack
 * of frames (root, channel, item, author, media group, skipped subtree,
 * captured field) says what a token means where it appears, so <title>
 * inside <image> or atom:source never overwrites the feed's or the item's
 * title. */
#include "feed.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <ctype.h>
#include <stdlib.h>

#include "feedbuild.h"
#include "text.h"
#include "url.h"

/* Namespaces we read. RSS 0.9x/2.0 use none; RSS 1.0 and 0.90 have theirs. */
typedef enum ns_id {
    NS_OTHER,
    NS_RSS, /* no namespace, RSS 1.0, RSS 0.90, userland's RSS 2 */
    NS_ATOM,
    NS_CONTENT,
    NS_DC,
    NS_DCTERMS,
    NS_RDF,
    NS_MEDIA,
    NS_ITUNES,
    NS_XHTML,
} ns_id;

static const struct {
    const char *uri;
    ns_id id;
} namespaces[] = {
    {"http://purl.org/rss/1.0/", NS_RSS},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS},
    {"http://backend.userland.com/rss2", NS_RSS},
    {"http://blogs.law.harvard.edu/tech/rss", NS_RSS},
    {"http://www.w3.org/2005/Atom", NS_ATOM},
    {"http://purl.org/atom/ns#", NS_ATOM},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    /* Podcasts; some still spell it as Apple's first specification did. */
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://www.itunes.com/DTDs/PodCast-1.0.dtd", NS_ITUNES},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
};

#define ATOM03_NS "http://purl.org/atom/ns#"
#define RSS090_NS "http://my.netscape.com/rdf/simple/0.9/"
#define XML_NS "http://www.w3.org/XML/1998/namespace"
#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

typedef enum token {
    T_NONE,
    /* RSS */
    T_RSS, T_CHANNEL, T_ITEM, T_TITLE, T_LINK, T_DESCRIPTION, T_GUID,
    T_PUBDATE, T_AUTHOR, T_CATEGORY, T_ENCLOSURE, T_LANGUAGE,
    T_LASTBUILDDATE, T_MANAGINGEDITOR,
    /* Atom */
    T_A_FEED, T_A_ENTRY, T_A_TITLE, T_A_SUBTITLE, T_A_TAGLINE, T_A_LINK,
    T_A_ID, T_A_UPDATED, T_A_MODIFIED, T_A_PUBLISHED, T_A_ISSUED,
    T_A_CREATED, T_A_SUMMARY, T_A_CONTENT, T_A_AUTHOR, T_A_NAME, T_A_EMAIL,
    T_A_CATEGORY,
    /* modules */
    T_CONTENT_ENCODED, T_DC_CREATOR, T_DC_DATE, T_DC_LANGUAGE, T_DC_SUBJECT,
    T_DC_TITLE, T_DC_DESCRIPTION, T_DC_IDENTIFIER, T_DCT_MODIFIED,
    T_DCT_CREATED, T_DCT_ISSUED, T_RDF_RDF, T_MEDIA_CONTENT, T_MEDIA_GROUP,
    T_MEDIA_TITLE, T_MEDIA_DESCRIPTION, T_ITUNES_AUTHOR, T_ITUNES_SUBTITLE,
    T_ITUNES_SUMMARY, T_ITUNES_TITLE, T_XHTML_BODY,
} token;

typedef struct tokdef {
    const char *name;
    token tok;
} tokdef;

/* Sorted by name (strcmp) for bsearch. */
static const tokdef rss_tokens[] = {
    {"author", T_AUTHOR},       {"category", T_CATEGORY},
    {"channel", T_CHANNEL},     {"description", T_DESCRIPTION},
    {"enclosure", T_ENCLOSURE}, {"guid", T_GUID},
    {"item", T_ITEM},           {"language", T_LANGUAGE},
    {"lastBuildDate", T_LASTBUILDDATE}, {"link", T_LINK},
    {"managingEditor", T_MANAGINGEDITOR}, {"pubDate", T_PUBDATE},
    {"rss", T_RSS},             {"title", T_TITLE},
};
static const tokdef atom_tokens[] = {
    {"author", T_A_AUTHOR},       {"category", T_A_CATEGORY},
    {"content", T_A_CONTENT},     {"created", T_A_CREATED},
    {"email", T_A_EMAIL},         {"entry", T_A_ENTRY},
    {"feed", T_A_FEED},           {"id", T_A_ID},
    {"issued", T_A_ISSUED},       {"link", T_A_LINK},
    {"modified", T_A_MODIFIED},   {"name", T_A_NAME},
    {"published", T_A_PUBLISHED}, {"subtitle", T_A_SUBTITLE},
    {"summary", T_A_SUMMARY},     {"tagline", T_A_TAGLINE},
    {"title", T_A_TITLE},         {"updated", T_A_UPDATED},
};
static const tokdef dc_tokens[] = {
    {"creator", T_DC_CREATOR},     {"date", T_DC_DATE},
    {"description", T_DC_DESCRIPTION}, {"identifier", T_DC_IDENTIFIER},
    {"language", T_DC_LANGUAGE},   {"subject", T_DC_SUBJECT},
    {"title", T_DC_TITLE},
};
static const tokdef dcterms_tokens[] = {
    {"created", T_DCT_CREATED},
    {"issued", T_DCT_ISSUED},
    {"modified", T_DCT_MODIFIED},
};
static const tokdef media_tokens[] = {
    {"content", T_MEDIA_CONTENT},
    {"description", T_MEDIA_DESCRIPTION},
    {"group", T_MEDIA_GROUP},
    {"title", T_MEDIA_TITLE},
};
static const tokdef itunes_tokens[] = {
    {"author", T_ITUNES_AUTHOR},
    {"subtitle", T_ITUNES_SUBTITLE},
    {"summary", T_ITUNES_SUMMARY},
    {"title", T_ITUNES_TITLE},
};

typedef enum frame {
    FR_SKIP, /* a subtree we ignore */
    FR_ROOT_RSS,
    FR_ROOT_RDF,
    FR_ROOT_ATOM,
    FR_CHANNEL,
    FR_ITEM,
    FR_AUTHOR, /* atom person construct */
    FR_MEDIA_GROUP, /* media:group: one item's media, told several ways */
    FR_FIELD,  /* inside a captured field */
} frame;

/* Our stand-ins for HTML named entities, one pair per name. */
typedef struct ent_pair {
    const char *name;
    xmlEntity text, attr;
} ent_pair;

#define ENT_CACHE 64

/* What a <guid> says of itself: a permalink unless isPermaLink="false". */
typedef enum guid_kind {
    GUID_NONE,    /* not a guid, or not a permalink */
    GUID_DEFAULT, /* no isPermaLink: a permalink by the spec */
    GUID_SAID,    /* isPermaLink="true" */
} guid_kind;

typedef struct parser {
    xmlParserCtxtPtr ctxt;
    feed_builder *b;
    feed *f;
    size_t depth, max_depth;
    uint8_t *frames;
    const xmlChar **names; /* local name of the open element at each depth */
    /* libxml2 answers a mismatched end tag by closing the innermost element,
     * whatever the tag said; we keep the name the document really closed. */
    char mismatch[64];
    bool has_mismatch;
    bool root_seen;
    /* the field being captured */
    size_t cap_depth;
    field_kind cap_kind;
    text_mode cap_mode;
    int cap_prio;
    bool cap_date, cap_truncated;
    const char *cap_base;
    buf cap;
    /* xml:base scopes: base in effect below bases_depth[i] */
    const char **bases;
    size_t *bases_depth;
    size_t nbases;
    /* element classification cache, keyed by libxml2's interned names */
    struct {
        const xmlChar *name, *uri;
        token tok;
        ns_id ns;
    } tcache[128];
    ns_id nons;    /* what elements without a namespace are */
    guid_kind cap_guid; /* the field is a guid that is also a permalink */
    ent_pair *ents[ENT_CACHE];
    size_t nents;
    /* author construct being read (Atom) */
    const char *author_name, *author_email;
} parser;

static int
tokcmp(const void *key, const void *elem)
{
    return strcmp(key, ((const tokdef *)elem)->name);
}

static token
lookup(const tokdef *table, size_t n, const char *name)
{
    const tokdef *t = bsearch(name, table, n, sizeof *table, tokcmp);
    return t ? t->tok : T_NONE;
}

static ns_id
ns_of(parser *p, const xmlChar *uri)
{
    if (!uri) return p->nons;
    for (size_t i = 0; i < ARRAY_LEN(namespaces); i++)
        if (!strcmp((const char *)uri, namespaces[i].uri)) return namespaces[i].id;
    return NS_OTHER;
}

/* (namespace, local name) → token, cached by the interned pointers. */
static token
classify(parser *p, const xmlChar *name, const xmlChar *uri, ns_id *nsp)
{
    /* Interned names sit a few bytes apart in libxml2's dictionary
     * ("item" and "guid" share their address >> 3): mix all the bits
     * (Fibonacci hashing) so that neighbours do not evict each other. */
    uint64_t key = (uint64_t)(uintptr_t)name ^ ((uint64_t)(uintptr_t)uri << 1);
    size_t h = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 57);
    if (p->tcache[h].name == name && p->tcache[h].uri == uri) {
        *nsp = p->tcache[h].ns;
        return p->tcache[h].tok;
    }
    ns_id ns = ns_of(p, uri);
    const char *n = (const char *)name;
    token t = T_NONE;
    switch (ns) {
    case NS_RSS:
        t = lookup(rss_tokens, ARRAY_LEN(rss_tokens), n);
        /* An Atom feed that forgot its namespace. */
        if (t == T_NONE && !uri) t = lookup(atom_tokens, ARRAY_LEN(atom_tokens), n);
        if (t == T_NONE && !uri && !strcmp(n, "RDF")) t = T_RDF_RDF;
        break;
    case NS_ATOM: t = lookup(atom_tokens, ARRAY_LEN(atom_tokens), n); break;
    case NS_DC: t = lookup(dc_tokens, ARRAY_LEN(dc_tokens), n); break;
    case NS_DCTERMS: t = lookup(dcterms_tokens, ARRAY_LEN(dcterms_tokens), n); break;
    case NS_CONTENT: if (!strcmp(n, "encoded")) t = T_CONTENT_ENCODED; break;
    case NS_RDF: if (!strcmp(n, "RDF")) t = T_RDF_RDF; break;
    case NS_MEDIA: t = lookup(media_tokens, ARRAY_LEN(media_tokens), n); break;
    case NS_ITUNES: t = lookup(itunes_tokens, ARRAY_LEN(itunes_tokens), n); break;
    case NS_XHTML: if (!strcmp(n, "body")) t = T_XHTML_BODY; break;
    case NS_OTHER: break;
    }
    p->tcache[h].name = name;
    p->tcache[h].uri = uri;
    p->tcache[h].tok = t;
    p->tcache[h].ns = ns;
    *nsp = ns;
    return t;
}

/* ---- attributes ---- */

typedef struct attrs {
    int n;
    const xmlChar **a; /* localname, prefix, URI, value, end */
} attrs;

/* The value of attribute `name` (no namespace) as a string in the arena,
 * with the references libxml2 leaves in attribute values decoded. */
static const char *
attr_get(parser *p, const attrs *at, const char *name, const char *uri)
{
    for (int i = 0; i < at->n; i++) {
        const xmlChar **x = at->a + 5 * i;
        if (strcmp((const char *)x[0], name)) continue;
        if (uri ? !x[2] || strcmp((const char *)x[2], uri) : x[2] != NULL)
            continue;
        const char *v = (const char *)x[3];
        size_t n = (size_t)(x[4] - x[3]);
        if (!memchr(v, '&', n)) return fb_strn(p->b, v, n);
        /* Without entity substitution libxml2 keeps "&#38;" for &amp; and
         * our HTML entities as "&name;": decode them once here. */
        buf tmp = {0};
        text_decode_entities(&tmp, v, n);
        const char *r = fb_strn(p->b, tmp.p ? tmp.p : "", tmp.len);
        buf_free(&tmp);
        return r;
    }
    return NULL;
}

static const char *
base_in_scope(parser *p)
{
    return p->nbases ? p->bases[p->nbases - 1] : NULL;
}

/* xml:base on this element opens a new scope, resolved against the outer
 * one (or the document's URL). */
static void
push_base(parser *p, const attrs *at)
{
    if (!at->n) return;
    const char *base = attr_get(p, at, "base", XML_NS);
    if (!base || p->nbases >= p->max_depth) return;
    const char *outer = base_in_scope(p);
    if (!outer) outer = p->b->base_url;
    p->bases[p->nbases] = url_resolve(&p->f->mem, outer, base);
    p->bases_depth[p->nbases] = p->depth;
    p->nbases++;
}

static void
pop_base(parser *p)
{
    while (p->nbases && p->bases_depth[p->nbases - 1] >= p->depth) p->nbases--;
}

/* ---- capture ---- */

static void
capture_begin(parser *p, field_kind k, int prio, text_mode mode, bool is_date)
{
    p->frames[p->depth] = FR_FIELD;
    p->cap_depth = p->depth;
    p->cap_kind = k;
    p->cap_prio = prio;
    p->cap_mode = mode;
    p->cap_date = is_date;
    p->cap_truncated = false;
    p->cap_guid = GUID_NONE;
    p->cap_base = base_in_scope(p);
    buf_reset(&p->cap);
}

/* Appends field text past max_field: what fits, cut on a character
 * boundary, and a note that the field was cut. */
static void
capture_add_cut(parser *p, const char *s, size_t n)
{
    size_t room = p->b->lim.max_field - p->cap.len;
    if (n > room) {
        n = room;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
        p->cap_truncated = true;
    }
    buf_add(&p->cap, s, n);
}

/* Appends field text. libxml2 reports text in many small pieces (a run
 * between references, then the one character an &lt; stands for), so the
 * common case stays inline: room in the field and in the buffer. */
static inline void
capture_add(parser *p, const char *s, size_t n)
{
    buf *c = &p->cap;
    if (UNLIKELY(n > p->b->lim.max_field - c->len || c->len + n >= c->cap)) {
        capture_add_cut(p, s, n);
        return;
    }
    memcpy(c->p + c->len, s, n);
    c->len += n;
    c->p[c->len] = '\0';
}

/* The bytes capture_escaped writes as references. */
static const unsigned char xml_special[256] = {
    ['<'] = 1,
    ['>'] = 1,
    ['&'] = 1,
    ['"'] = 1,
};

/* Appends text that must stay text inside rebuilt XHTML markup. */
static void
capture_escaped(parser *p, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (LIKELY(!xml_special[u[i]])) continue;
        const char *rep = u[i] == '<'   ? "&lt;"
                          : u[i] == '>' ? "&gt;"
                          : u[i] == '&' ? "&amp;"
                                        : "&quot;";
        capture_add(p, s + run, i - run);
        capture_add(p, rep, strlen(rep));
        run = i + 1;
    }
    capture_add(p, s + run, n - run);
}

static bool
is_void_element(const char *name)
{
    static const char *const v[] = {"area", "br", "col", "embed", "hr",
                                    "img",  "input", "link", "meta", "source",
                                    "track", "wbr"};
    for (size_t i = 0; i < ARRAY_LEN(v); i++)
        if (!strcmp(name, v[i])) return true;
    return false;
}

/* Markup nested in an HTML or XHTML field is written back as HTML. */
static void
capture_start_tag(parser *p, const xmlChar *name, const attrs *at)
{
    if (p->cap_mode != TM_HTML && p->cap_mode != TM_XHTML) return;
    capture_add(p, "<", 1);
    capture_add(p, (const char *)name, strlen((const char *)name));
    for (int i = 0; i < at->n; i++) {
        const xmlChar **x = at->a + 5 * i;
        capture_add(p, " ", 1);
        capture_add(p, (const char *)x[0], strlen((const char *)x[0]));
        capture_add(p, "=\"", 2);
        capture_escaped(p, (const char *)x[3], (size_t)(x[4] - x[3]));
        capture_add(p, "\"", 1);
    }
    capture_add(p, ">", 1);
}

static void
capture_end_tag(parser *p, const xmlChar *name)
{
    if (p->cap_mode != TM_HTML && p->cap_mode != TM_XHTML) return;
    if (is_void_element((const char *)name)) return;
    capture_add(p, "</", 2);
    capture_add(p, (const char *)name, strlen((const char *)name));
    capture_add(p, ">", 1);
}

/* A permalink guid is the link of an item that gives none (the lowest
 * priority): an http(s) URL, or a relative reference resolved like a link
 * when it plainly is one, a path from the root ("/2024/09/post-1") or
 * whatever the feed said isPermaLink="true" of. Without the attribute, a
 * bare "12345" or "post-7" is an id that only looks like a relative path:
 * many feeds leave isPermaLink out of guids that are no links at all. */
static void
guid_link(parser *p)
{
    const char *s = p->cap.p;
    size_t n = p->cap.len;
    fb_trim(&s, &n);
    if (!n || memchr(s, ' ', n) || memchr(s, '\n', n) || memchr(s, '\t', n))
        return;
    bool link = url_is_absolute(s) ? url_is_http(s)
                                   : p->cap_guid == GUID_SAID || s[0] == '/';
    if (link) fb_offer(p->b, FK_LINK, 1, TM_RAW, s, n, p->cap_base);
}

static void
capture_end(parser *p)
{
    feed_builder *b = p->b;
    if (p->cap_truncated)
        fb_note(b, "a field over %zu bytes was cut", b->lim.max_field);
    if (p->cap_date)
        fb_offer_date(b, p->cap_kind, p->cap_prio, p->cap.p ? p->cap.p : "",
                      p->cap.len);
    else
        fb_offer(b, p->cap_kind, p->cap_prio, p->cap_mode,
                 p->cap.p ? p->cap.p : "", p->cap.len, p->cap_base);
    if (p->cap_guid && p->cap.len) guid_link(p);
}

/* ---- Atom specifics ---- */

/* The text mode an Atom text construct declares (type=, or 0.3's mode=). */
static text_mode
atom_text_mode(parser *p, const attrs *at, bool *skip)
{
    *skip = false;
    const char *type = attr_get(p, at, "type", NULL);
    const char *mode = attr_get(p, at, "mode", NULL);
    if (mode && !strcmp(mode, "escaped")) return TM_HTML;
    if (!type || !*type || !strcmp(type, "text") || !strcmp(type, "text/plain"))
        return TM_TEXT;
    if (!strcmp(type, "html") || !strcmp(type, "text/html")) return TM_HTML;
    if (!strcmp(type, "xhtml") || !strcmp(type, "application/xhtml+xml"))
        return TM_XHTML;
    if (!strncmp(type, "text/", 5)) return TM_TEXT;
    *skip = true; /* base64 or a media type we do not show */
    return TM_TEXT;
}

static void
atom_link(parser *p, const attrs *at, bool in_item)
{
    const char *href = attr_get(p, at, "href", NULL);
    if (!href) return;
    const char *rel = attr_get(p, at, "rel", NULL);
    const char *type = attr_get(p, at, "type", NULL);
    const char *base = base_in_scope(p);
    if (!rel || !strcmp(rel, "alternate") ||
        !strcmp(rel, "http://www.iana.org/assignments/relation/alternate")) {
        /* Several alternates: the HTML one is the page people read. */
        int prio = (!type || strstr(type, "html")) ? 2 : 1;
        fb_offer(p->b, FK_LINK, prio, TM_RAW, href, strlen(href), base);
    } else if (in_item && !strcmp(rel, "enclosure")) {
        fb_add_enclosure(p->b, href, type, attr_get(p, at, "length", NULL), base);
    }
}

/* ---- what a token means in each frame ---- */

typedef struct fieldspec {
    field_kind kind;
    int prio;
    text_mode mode;
    bool date;
} fieldspec;

/* Fields of an RSS channel or Atom feed. */
static bool
feed_field(token t, fieldspec *s)
{
    switch (t) {
    case T_TITLE: *s = (fieldspec){FK_TITLE, 3, TM_HTML, false}; return true;
    case T_DC_TITLE: *s = (fieldspec){FK_TITLE, 1, TM_HTML, false}; return true;
    case T_LINK: *s = (fieldspec){FK_LINK, 3, TM_RAW, false}; return true;
    case T_DESCRIPTION: *s = (fieldspec){FK_SUBTITLE, 3, TM_HTML, false}; return true;
    case T_DC_DESCRIPTION: *s = (fieldspec){FK_SUBTITLE, 1, TM_HTML, false}; return true;
    case T_LANGUAGE: *s = (fieldspec){FK_LANGUAGE, 3, TM_RAW, false}; return true;
    case T_DC_LANGUAGE: *s = (fieldspec){FK_LANGUAGE, 2, TM_RAW, false}; return true;
    case T_LASTBUILDDATE: *s = (fieldspec){FK_UPDATED, 3, TM_RAW, true}; return true;
    case T_PUBDATE: *s = (fieldspec){FK_UPDATED, 1, TM_RAW, true}; return true;
    case T_DC_DATE: *s = (fieldspec){FK_UPDATED, 2, TM_RAW, true}; return true;
    case T_DCT_MODIFIED: *s = (fieldspec){FK_UPDATED, 2, TM_RAW, true}; return true;
    case T_A_UPDATED: *s = (fieldspec){FK_UPDATED, 3, TM_RAW, true}; return true;
    case T_A_MODIFIED: *s = (fieldspec){FK_UPDATED, 2, TM_RAW, true}; return true;
    case T_MANAGINGEDITOR: *s = (fieldspec){FK_AUTHOR, 1, TM_HTML, false}; return true;
    case T_DC_CREATOR: *s = (fieldspec){FK_AUTHOR, 3, TM_HTML, false}; return true;
    case T_ITUNES_AUTHOR: *s = (fieldspec){FK_ALT_AUTHOR, 1, TM_HTML, false}; return true;
    default: return false;
    }
}

/* Fields of an RSS item or Atom entry. The iTunes ones stand in for an
 * episode's own title, summary and author only when it has none; they are
 * read as leniently as RSS's own (podcast hosts put HTML in them). */
static bool
item_field(token t, fieldspec *s)
{
    switch (t) {
    case T_TITLE: *s = (fieldspec){FK_TITLE, 3, TM_HTML, false}; return true;
    case T_DC_TITLE: *s = (fieldspec){FK_TITLE, 1, TM_HTML, false}; return true;
    case T_LINK: *s = (fieldspec){FK_LINK, 3, TM_RAW, false}; return true;
    case T_GUID: *s = (fieldspec){FK_ID, 3, TM_RAW, false}; return true;
    case T_A_ID: *s = (fieldspec){FK_ID, 3, TM_RAW, false}; return true;
    case T_DC_IDENTIFIER: *s = (fieldspec){FK_ID, 1, TM_RAW, false}; return true;
    case T_DESCRIPTION: *s = (fieldspec){FK_SUMMARY, 3, TM_HTML, false}; return true;
    case T_DC_DESCRIPTION: *s = (fieldspec){FK_SUMMARY, 1, TM_HTML, false}; return true;
    case T_CONTENT_ENCODED: *s = (fieldspec){FK_CONTENT, 3, TM_HTML, false}; return true;
    case T_XHTML_BODY: *s = (fieldspec){FK_CONTENT, 1, TM_XHTML, false}; return true;
    case T_AUTHOR: *s = (fieldspec){FK_AUTHOR, 2, TM_HTML, false}; return true;
    case T_DC_CREATOR: *s = (fieldspec){FK_AUTHOR, 3, TM_HTML, false}; return true;
    case T_CATEGORY: *s = (fieldspec){FK_CATEGORY, 1, TM_HTML, false}; return true;
    case T_DC_SUBJECT: *s = (fieldspec){FK_CATEGORY, 1, TM_HTML, false}; return true;
    case T_PUBDATE: *s = (fieldspec){FK_PUBLISHED, 3, TM_RAW, true}; return true;
    case T_A_PUBLISHED: *s = (fieldspec){FK_PUBLISHED, 3, TM_RAW, true}; return true;
    case T_A_ISSUED: *s = (fieldspec){FK_PUBLISHED, 2, TM_RAW, true}; return true;
    case T_DC_DATE: *s = (fieldspec){FK_PUBLISHED, 2, TM_RAW, true}; return true;
    case T_DCT_ISSUED: *s = (fieldspec){FK_PUBLISHED, 2, TM_RAW, true}; return true;
    case T_DCT_CREATED: *s = (fieldspec){FK_PUBLISHED, 1, TM_RAW, true}; return true;
    case T_A_CREATED: *s = (fieldspec){FK_PUBLISHED, 1, TM_RAW, true}; return true;
    case T_A_UPDATED: *s = (fieldspec){FK_UPDATED, 3, TM_RAW, true}; return true;
    case T_A_MODIFIED: *s = (fieldspec){FK_UPDATED, 2, TM_RAW, true}; return true;
    case T_DCT_MODIFIED: *s = (fieldspec){FK_UPDATED, 2, TM_RAW, true}; return true;
    case T_ITUNES_TITLE: *s = (fieldspec){FK_ALT_TITLE, 2, TM_HTML, false}; return true;
    case T_ITUNES_SUMMARY: *s = (fieldspec){FK_ALT_SUMMARY, 3, TM_HTML, false}; return true;
    case T_ITUNES_SUBTITLE: *s = (fieldspec){FK_ALT_SUMMARY, 1, TM_HTML, false}; return true;
    case T_ITUNES_AUTHOR: *s = (fieldspec){FK_ALT_AUTHOR, 1, TM_HTML, false}; return true;
    default: return false;
    }
}

/* Atom text constructs take their mode from type=. */
static bool
atom_text_field(parser *p, token t, const attrs *at, bool in_item)
{
    field_kind k;
    int prio = 3;
    switch (t) {
    case T_A_TITLE: k = FK_TITLE; break;
    case T_A_SUBTITLE: k = FK_SUBTITLE; if (in_item) return false; break;
    case T_A_TAGLINE: k = FK_SUBTITLE; prio = 2; if (in_item) return false; break;
    case T_A_SUMMARY: k = FK_SUMMARY; if (!in_item) return false; break;
    case T_A_CONTENT: k = FK_CONTENT; if (!in_item) return false; break;
    default: return false;
    }
    bool skip;
    text_mode mode = atom_text_mode(p, at, &skip);
    if (skip) {
        p->frames[p->depth] = FR_SKIP;
        return true;
    }
    capture_begin(p, k, prio, mode, false);
    return true;
}

static void
root_element(parser *p, token t, const xmlChar *name, const xmlChar *uri,
             const attrs *at)
{
    feed *f = p->f;
    switch (t) {
    case T_RSS: {
        const char *v = attr_get(p, at, "version", NULL);
        f->format = (v && !strncmp(v, "0.9", 3)) ? FEED_RSS09X : FEED_RSS20;
        p->frames[p->depth] = FR_ROOT_RSS;
        return;
    }
    case T_RDF_RDF:
        f->format = FEED_RSS10; /* 0.90 is told by its channel's namespace */
        p->frames[p->depth] = FR_ROOT_RDF;
        return;
    case T_A_FEED: {
        f->format = (uri && !strcmp((const char *)uri, ATOM03_NS)) ? FEED_ATOM03
                                                                   : FEED_ATOM10;
        if (!uri) p->nons = NS_ATOM; /* an Atom feed that forgot its xmlns */
        const char *lang = attr_get(p, at, "lang", XML_NS);
        if (lang) fb_offer(p->b, FK_LANGUAGE, 1, TM_RAW, lang, strlen(lang), NULL);
        p->frames[p->depth] = FR_ROOT_ATOM;
        return;
    }
    default:
        break;
    }
    fb_error(p->b, "not a feed: the root element is <%s>", (const char *)name);
    xmlStopParser(p->ctxt);
}

static void
open_item(parser *p)
{
    if (!fb_item_begin(p->b)) {
        xmlStopParser(p->ctxt); /* max_items reached: nothing more to read */
        return;
    }
    p->frames[p->depth] = FR_ITEM;
}

static void
note_rdf_dialect(parser *p, const xmlChar *uri)
{
    if (p->f->format == FEED_RSS10 && uri && !strcmp((const char *)uri, RSS090_NS))
        p->f->format = FEED_RSS09X;
}

/* Children of the channel / feed root. */
static void
feed_child(parser *p, token t, const xmlChar *uri, const attrs *at, frame parent)
{
    fieldspec s;
    if (t == T_ITEM || t == T_A_ENTRY) {
        note_rdf_dialect(p, uri);
        open_item(p);
        /* RSS 1.0 names each item with rdf:about: an id when guid is absent */
        const char *about = at->n ? attr_get(p, at, "about", RDF_NS) : NULL;
        if (about && p->b->in_item)
            fb_offer(p->b, FK_ID, 2, TM_RAW, about, strlen(about), NULL);
    } else if (t == T_CHANNEL && parent != FR_CHANNEL) {
        note_rdf_dialect(p, uri);
        p->frames[p->depth] = FR_CHANNEL;
    } else if (t == T_A_LINK) {
        atom_link(p, at, false);
    } else if (t == T_A_AUTHOR) {
        p->frames[p->depth] = FR_AUTHOR;
        p->author_name = p->author_email = NULL;
    } else if (atom_text_field(p, t, at, false)) {
        /* capture opened */
    } else if (feed_field(t, &s)) {
        capture_begin(p, s.kind, s.prio, s.mode, s.date);
    }
}

/* Media RSS elements of an item, or of a media:group in it (YouTube puts
 * everything in one). Their title and description are plain text unless
 * type="html", and stand in for an item's own only when it has none. The
 * elements inside media:content describe that one file (a photo's
 * caption), not the item: they are not read. */
static void
media_child(parser *p, token t, const attrs *at)
{
    if (t == T_MEDIA_CONTENT) {
        fb_add_enclosure(p->b, attr_get(p, at, "url", NULL),
                         attr_get(p, at, "type", NULL),
                         attr_get(p, at, "fileSize", NULL), base_in_scope(p));
        return;
    }
    if (t != T_MEDIA_TITLE && t != T_MEDIA_DESCRIPTION) return;
    const char *type = attr_get(p, at, "type", NULL);
    text_mode mode = type && !strcmp(type, "html") ? TM_HTML : TM_TEXT;
    /* Below itunes:title and itunes:summary, above itunes:subtitle (a
     * one-line tagline): see item_field. */
    if (t == T_MEDIA_TITLE) capture_begin(p, FK_ALT_TITLE, 1, mode, false);
    else capture_begin(p, FK_ALT_SUMMARY, 2, mode, false);
}

static void
item_child(parser *p, token t, const attrs *at)
{
    fieldspec s;
    switch (t) {
    case T_A_LINK: atom_link(p, at, true); return;
    case T_ENCLOSURE:
        fb_add_enclosure(p->b, attr_get(p, at, "url", NULL),
                         attr_get(p, at, "type", NULL),
                         attr_get(p, at, "length", NULL), base_in_scope(p));
        return;
    case T_MEDIA_CONTENT:
    case T_MEDIA_TITLE:
    case T_MEDIA_DESCRIPTION: media_child(p, t, at); return;
    case T_MEDIA_GROUP: p->frames[p->depth] = FR_MEDIA_GROUP; return;
    case T_A_CATEGORY: {
        const char *c = attr_get(p, at, "term", NULL);
        if (!c || !*c) c = attr_get(p, at, "label", NULL);
        if (c) fb_offer(p->b, FK_CATEGORY, 1, TM_TEXT, c, strlen(c), NULL);
        return;
    }
    case T_A_AUTHOR:
        p->frames[p->depth] = FR_AUTHOR;
        p->author_name = p->author_email = NULL;
        return;
    case T_GUID: {
        /* A guid is a permalink unless it says otherwise: a fallback link. */
        const char *perma = attr_get(p, at, "isPermaLink", NULL);
        capture_begin(p, FK_ID, 3, TM_RAW, false);
        p->cap_guid = !perma                              ? GUID_DEFAULT
                      : !ascii_strcasecmp(perma, "false") ? GUID_NONE
                      : !ascii_strcasecmp(perma, "true")  ? GUID_SAID
                                                          : GUID_DEFAULT;
        return;
    }
    default:
        break;
    }
    if (atom_text_field(p, t, at, true)) return;
    if (item_field(t, &s)) capture_begin(p, s.kind, s.prio, s.mode, s.date);
}

/* ---- SAX callbacks ---- */

/* libxml2 drops every entity reference once wellFormed is 0, even &amp;,
 * which in recover mode would silently eat text after the first error:
 * remember the fact ourselves and let it go on. */
static inline void
keep_going(parser *p)
{
    if (UNLIKELY(!p->ctxt->wellFormed)) {
        p->f->wellformed = false;
        p->ctxt->wellFormed = 1;
    }
}

static void
on_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
         const xmlChar *uri, int nb_ns, const xmlChar **nss, int nb_attrs,
         int nb_defaulted, const xmlChar **attributes)
{
    UNUSED(prefix);
    UNUSED(nb_ns);
    UNUSED(nss);
    UNUSED(nb_defaulted);
    parser *p = ctx;
    keep_going(p);
    frame parent = p->depth ? p->frames[p->depth] : FR_SKIP;
    if (++p->depth > p->max_depth) {
        fb_error(p->b, "elements nested deeper than %zu levels", p->max_depth);
        xmlStopParser(p->ctxt);
        return;
    }
    p->names[p->depth] = name;
    attrs at = {nb_attrs, attributes};
    if (parent == FR_FIELD) {
        p->frames[p->depth] = FR_FIELD;
        capture_start_tag(p, name, &at);
        return;
    }
    p->frames[p->depth] = FR_SKIP;
    if (parent == FR_SKIP && p->depth > 1) return;
    push_base(p, &at);
    ns_id ns;
    token t = classify(p, name, uri, &ns);
    switch (parent) {
    case FR_SKIP:
        if (p->root_seen) {
            fb_error(p->b, "content after the root element ignored");
            break;
        }
        p->root_seen = true;
        root_element(p, t, name, uri, &at);
        break;
    case FR_ROOT_RSS:
    case FR_ROOT_RDF:
    case FR_ROOT_ATOM:
    case FR_CHANNEL: feed_child(p, t, uri, &at, parent); break;
    case FR_ITEM: item_child(p, t, &at); break;
    case FR_MEDIA_GROUP: media_child(p, t, &at); break;
    case FR_AUTHOR:
        if (t == T_A_NAME) capture_begin(p, FK_AUTHOR, 3, TM_TEXT, false);
        else if (t == T_A_EMAIL) capture_begin(p, FK_AUTHOR, 1, TM_TEXT, false);
        break;
    case FR_FIELD: break;
    }
}

/* Closes the innermost element of our own stack. */
static void
pop_element(parser *p)
{
    frame fr = p->frames[p->depth];
    if (fr == FR_FIELD) {
        if (p->depth == p->cap_depth) capture_end(p);
        else capture_end_tag(p, p->names[p->depth]);
    } else if (fr == FR_ITEM) {
        fb_item_end(p->b);
    }
    pop_base(p);
    p->depth--;
}

static void
close_cut_document(parser *p)
{
    size_t dropped = 0;
    while (p->depth) {
        if (p->frames[p->depth] == FR_ITEM && p->b->in_item) {
            fb_item_drop(p->b);
            dropped++;
        }
        pop_element(p);
    }
    if (dropped)
        fb_error(p->b, "the document ends inside an item: that item was left out");
}

static void
on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
    UNUSED(prefix);
    UNUSED(uri);
    parser *p = ctx;
    keep_going(p);
    if (!p->depth) return;
    if (LIKELY(!p->has_mismatch && p->names[p->depth] == name)) {
        pop_element(p);
        return;
    }
    /* Recovery: close up to the element the document named, which may be
     * further out than libxml2's idea of it; a stray end tag closes
     * nothing. Our stack then follows the document, not libxml2's. */
    const char *target = p->has_mismatch ? p->mismatch : (const char *)name;
    p->has_mismatch = false;
    size_t d = p->depth;
    while (d && strcmp((const char *)p->names[d], target)) d--;
    if (!d) return;
    while (p->depth >= d) pop_element(p);
}

static void
on_characters(void *ctx, const xmlChar *ch, int len)
{
    parser *p = ctx;
    if (p->frames[p->depth] != FR_FIELD || !p->depth) return;
    keep_going(p);
    if (p->cap_mode == TM_XHTML) capture_escaped(p, (const char *)ch, (size_t)len);
    else capture_add(p, (const char *)ch, (size_t)len);
}

/* Feeds never need entity declarations; refusing them is what defeats the
 * billion laughs, the quadratic blowup and XXE in one place. */
static void
on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub,
               const xmlChar *sys, xmlChar *content)
{
    UNUSED(type);
    UNUSED(pub);
    UNUSED(content);
    parser *p = ctx;
    fb_error(p->b, "entity declarations are not allowed (<!ENTITY %s%s%s>)",
             (const char *)name, sys ? " SYSTEM " : "", sys ? (const char *)sys : "");
    xmlStopParser(p->ctxt);
}

static ent_pair *
entity_for(parser *p, const char *name, const char *value, size_t vlen)
{
    for (size_t i = 0; i < p->nents; i++)
        if (!strcmp(p->ents[i]->name, name)) return p->ents[i];
    ent_pair *e = arena_alloc(&p->f->mem, sizeof *e);
    memset(e, 0, sizeof *e);
    e->name = arena_strdup(&p->f->mem, name);
    xmlChar *content = (xmlChar *)arena_strndup(&p->f->mem, value, vlen);
    /* In text a "predefined" entity goes straight to characters(); in
     * attribute values libxml2 copies only its first byte, so there it gets
     * an internal one, which it leaves as "&name;" for us to decode. */
    e->text.type = XML_ENTITY_DECL;
    e->text.name = (const xmlChar *)e->name;
    e->text.etype = XML_INTERNAL_PREDEFINED_ENTITY;
    e->text.content = e->text.orig = content;
    e->text.length = (int)vlen;
    e->attr = e->text;
    e->attr.etype = XML_INTERNAL_GENERAL_ENTITY;
    e->attr.checked = 2;
    if (p->nents < ENT_CACHE) p->ents[p->nents++] = e;
    return e;
}

static xmlEntityPtr
on_get_entity(void *ctx, const xmlChar *xname)
{
    parser *p = ctx;
    xmlEntityPtr pre = xmlGetPredefinedEntity(xname);
    if (pre) return pre;
    const char *name = (const char *)xname;
    const char *v = html_entity_lookup(name, strlen(name));
    ent_pair *e;
    if (v) {
        e = entity_for(p, name, v, strlen(v));
    } else {
        /* Unknown: keep "&name;" as written rather than lose the text. */
        fb_error(p->b, "undefined entity &%s;", name);
        char lit[128];
        int n = snprintf(lit, sizeof lit, "&%s;", name);
        if (n < 0 || (size_t)n >= sizeof lit) return NULL;
        e = entity_for(p, name, lit, (size_t)n);
    }
    return p->ctxt->instate == XML_PARSER_ATTRIBUTE_VALUE ? &e->attr : &e->text;
}

static void
on_error(void *ctx, xmlErrorPtr err)
{
    parser *p = ctx;
    if (!err || err->level == XML_ERR_WARNING) return;
    if (err->code == XML_ERR_UNDECLARED_ENTITY) return; /* said ourselves */
    if (err->code == XML_ERR_ENTITYREF_SEMICOL_MISSING ||
        err->code == XML_ERR_ENTITYREF_NO_NAME ||
        (err->code == XML_ERR_NAME_REQUIRED && err->message &&
         strstr(err->message, "EntityRef")))
        p->b->stray_amp = true;
    if (err->code == XML_ERR_TAG_NAME_MISMATCH && err->str2) {
        const char *n = err->str2, *colon = strchr(n, ':');
        if (colon) n = colon + 1;
        snprintf(p->mismatch, sizeof p->mismatch, "%s", n);
        p->has_mismatch = true;
    }
    fb_error(p->b, "line %d: %s", err->line, err->message ? err->message : "error");
}

static xmlParserInputPtr
deny_external(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    UNUSED(url);
    UNUSED(id);
    UNUSED(ctxt);
    return NULL;
}

static void
xml_init_once(void)
{
    static bool done;
    if (done) return;
    done = true;
    xmlInitParser();
    xmlSetExternalEntityLoader(deny_external);
}

void feed_parse_xml(feed_builder *b, const char *data, size_t len);
size_t feed_xml_escape_stray_amps(const char *data, size_t len, size_t max,
                                  buf *out);

static bool
name_start(unsigned char c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || c == '_' || c == ':' || c >= 0x80;
}

static bool
name_char(unsigned char c)
{
    return name_start(c) || (unsigned)(c - '0') < 10u || c == '.' || c == '-';
}

/* Length of the reference at s[0..n) (s[0] is '&'), or 0 when the '&'
 * starts none: &name; &#123; &#x1F; */
static size_t
reference_len(const unsigned char *s, size_t n)
{
    size_t i = 1;
    if (i < n && s[i] == '#') {
        i++;
        bool hex = i < n && s[i] == 'x';
        if (hex) i++;
        size_t d = i;
        while (i < n && (hex ? isxdigit(s[i]) : isdigit(s[i]))) i++;
        if (i == d) return 0;
    } else {
        if (i >= n || !name_start(s[i])) return 0;
        while (i < n && name_char(s[i])) i++;
    }
    return i < n && s[i] == ';' ? i + 1 : 0;
}

static size_t
next_byte(const unsigned char *s, size_t from, size_t len, int c)
{
    const unsigned char *p = memchr(s + from, c, len - from);
    return p ? (size_t)(p - s) : len;
}

/* Copies the document with every '&' that starts no reference written
 * "&amp;" ("AT&T", "Q & A", an unescaped URL query): what their authors
 * meant, and what libxml2's recovery loses text over. CDATA sections,
 * comments and processing instructions are copied as they are. Returns
 * how many were escaped, or SIZE_MAX when the copy would pass max bytes
 * (each escape adds four: a document of nothing but '&' must not take
 * five times the input cap). */
size_t
feed_xml_escape_stray_amps(const char *data, size_t len, size_t max, buf *out)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0, n = 0;
    /* the next '&' and '<' at or after i, searched again only once passed */
    size_t amp = next_byte(s, 0, len, '&'), lt = next_byte(s, 0, len, '<');
    buf_reset(out);
    buf_grow(out, len + len / 16 + 16);
    while (i < len) {
        if (amp < i) amp = next_byte(s, i, len, '&');
        if (lt < i) lt = next_byte(s, i, len, '<');
        if (lt < amp) {
            const char *close = NULL;
            if (len - lt >= 9 && memcmp(s + lt, "<![CDATA[", 9) == 0)
                close = "]]>";
            else if (len - lt >= 4 && memcmp(s + lt, "<!--", 4) == 0)
                close = "-->";
            else if (len - lt >= 2 && s[lt + 1] == '?')
                close = "?>";
            size_t end = lt + 1;
            if (close) {
                const unsigned char *e =
                    memmem(s + lt, len - lt, close, strlen(close));
                end = e ? (size_t)(e - s) + strlen(close) : len;
            }
            buf_add(out, data + i, end - i);
            i = end;
            continue;
        }
        buf_add(out, data + i, amp - i);
        i = amp;
        if (i >= len) break;
        size_t r = reference_len(s + i, len - i);
        if (r) {
            buf_add(out, data + i, r);
            i += r;
        } else {
            if (out->len + 5 + (len - i - 1) > max) return SIZE_MAX;
            buf_adds(out, "&amp;");
            i++;
            n++;
        }
    }
    return n;
}

void
feed_parse_xml(feed_builder *b, const char *data, size_t len)
{
    xml_init_once();
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_characters;
    sax.cdataBlock = on_characters;
    sax.getEntity = on_get_entity;
    sax.entityDecl = on_entity_decl;
    sax.serror = on_error;

    parser p;
    memset(&p, 0, sizeof p);
    p.nons = NS_RSS;
    p.b = b;
    p.f = b->f;
    p.max_depth = b->lim.max_depth;
    p.frames = xcalloc(p.max_depth + 2, 1);
    p.names = xcalloc(p.max_depth + 2, sizeof *p.names);
    p.bases = xcalloc(p.max_depth + 1, sizeof *p.bases);
    p.bases_depth = xcalloc(p.max_depth + 1, sizeof *p.bases_depth);

    p.ctxt = xmlCreatePushParserCtxt(&sax, &p, NULL, 0, NULL);
    if (!p.ctxt) oom(len);
    xmlCtxtUseOptions(p.ctxt, XML_PARSE_RECOVER | XML_PARSE_NONET |
                                  XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    /* Large inputs go in slices: libxml2 takes an int length. */
    const size_t slice = 1u << 22;
    size_t off = 0;
    do {
        size_t n = len - off < slice ? len - off : slice;
        int last = off + n == len;
        if (xmlParseChunk(p.ctxt, data + off, (int)n, last) != 0 &&
            p.ctxt->disableSAX)
            break;
        off += n;
    } while (off < len);
    keep_going(&p);
    /* A document cut short (a dropped connection, a server error midway):
     * the feed's own fields and the items read whole still count, but an
     * item still open was cut, and half an item must not be marked seen:
     * its rules would never see the whole of it. */
    if (p.depth) close_cut_document(&p);
    /* libxml2 builds a document of its own for some DTD declarations even
     * with our SAX handlers; it is ours to free. */
    if (p.ctxt->myDoc) {
        xmlFreeDoc(p.ctxt->myDoc);
        p.ctxt->myDoc = NULL;
    }
    xmlFreeParserCtxt(p.ctxt);
    buf_free(&p.cap);
    free(p.frames);
    free(p.names);
    free(p.bases);
    free(p.bases_depth);
}
