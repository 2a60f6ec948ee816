/* opml.c — OPML feed lists through a libxml2 SAX parse.
 *
 * A SAX parse rather than a tree: the document is never held twice and the
 * only callbacks installed are the ones we need. Entity declarations get a
 * callback that stops the parser at once, so a billion-laughs or an
 * external entity (<!ENTITY x SYSTEM "file:///etc/shadow">) is refused at
 * its declaration, before any reference could be expanded or loaded; with
 * no externalSubset callback and no DTDLOAD option no external DTD is ever
 * fetched, and NONET forbids the network in any case. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "opml.h"

typedef struct opml_state {
    xmlParserCtxtPtr ctxt;
    opml_list *out;
    int depth;
    int seen_root;
    int failed; /* our own refusal; err holds the message */
    char *err;
    size_t errlen;
    char xml_err[256]; /* libxml2's first error, if any */
    int xml_err_line, xml_err_code;
} opml_state;

/* Errors are one line: libxml2's messages can hold a newline ("...
 * indicate encoding !\nBytes: 0xE9 ...") and end with one. */
static void
one_line(char *msg)
{
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = strlen(msg);
    while (n && msg[n - 1] == ' ') msg[--n] = '\0';
}

static void PRINTF_LIKE(2, 3) refuse(opml_state *st, const char *fmt, ...)
{
    if (st->failed) return;
    st->failed = 1;
    int line = st->ctxt ? xmlSAX2GetLineNumber(st->ctxt) : 0;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line(msg);
    if (line > 0)
        snprintf(st->err, st->errlen, "line %d: %s", line, msg);
    else
        snprintf(st->err, st->errlen, "%s", msg);
    if (st->ctxt) xmlStopParser(st->ctxt);
}

/* Copies an attribute value, trimmed of surrounding whitespace. Without
 * entity substitution libxml2 hands '&' in attribute values back as the
 * character reference "&#38;" (every '&' in the value starts one, since a
 * raw '&' cannot appear in well-formed XML), so turn those back into '&':
 * "a=1&amp;b=2" must become "a=1&b=2". */
static char *
attr_copy(opml_state *st, const xmlChar *v, const xmlChar *end, size_t *outlen)
{
    const char *s = (const char *)v, *e = (const char *)end;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++;
    while (e > s &&
           (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    char *d = arena_alloc(&st->out->mem, (size_t)(e - s) + 1), *q = d;
    while (s < e) {
        if (e - s >= 5 && !memcmp(s, "&#38;", 5)) {
            *q++ = '&';
            s += 5;
        } else {
            *q++ = *s++;
        }
    }
    *q = '\0';
    *outlen = (size_t)(q - d);
    return d;
}

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void
utf8_truncate(char *s, size_t *len, size_t max)
{
    if (*len <= max) return;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
    *len = n;
}

static void
on_start(void *ud, const xmlChar *localname, const xmlChar *prefix,
         const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
         int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
    opml_state *st = ud;
    UNUSED(prefix);
    UNUSED(uri);
    UNUSED(nb_namespaces);
    UNUSED(namespaces);
    UNUSED(nb_defaulted);
    if (st->failed) return;
    st->depth++;
    if (!st->seen_root) {
        st->seen_root = 1;
        if (strcmp((const char *)localname, "opml") != 0)
            refuse(st, "not an OPML document (root element <%.40s>)",
                   (const char *)localname);
        return;
    }
    if (strcmp((const char *)localname, "outline") != 0) return;

    const xmlChar **url = NULL, **title = NULL, **text = NULL;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        const char *name = (const char *)a[0];
        if (!ascii_strcasecmp(name, "xmlUrl"))
            url = a;
        else if (!strcmp(name, "title"))
            title = a;
        else if (!strcmp(name, "text"))
            text = a;
    }
    if (!url) return;
    size_t ulen, tlen = 0;
    char *u = attr_copy(st, url[3], url[4], &ulen);
    if (ulen == 0) return; /* an empty xmlUrl is a placeholder, not a feed */
    if (ulen > OPML_MAX_URL) {
        refuse(st, "xmlUrl longer than %u bytes", OPML_MAX_URL);
        return;
    }
    if (st->out->n >= OPML_MAX_FEEDS) {
        refuse(st, "more than %u feeds", OPML_MAX_FEEDS);
        return;
    }
    const char *t = "";
    if (title) t = attr_copy(st, title[3], title[4], &tlen);
    if (tlen == 0 && text) t = attr_copy(st, text[3], text[4], &tlen);
    if (tlen > OPML_MAX_TITLE) {
        char *cut = arena_strndup(&st->out->mem, t, tlen);
        utf8_truncate(cut, &tlen, OPML_MAX_TITLE);
        t = cut;
    }

    opml_list *l = st->out;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].url = u;
    l->v[l->n].title = t;
    l->n++;
}

static void
on_end(void *ud, const xmlChar *localname, const xmlChar *prefix,
       const xmlChar *uri)
{
    opml_state *st = ud;
    UNUSED(localname);
    UNUSED(prefix);
    UNUSED(uri);
    st->depth--;
}

static void
on_entity_decl(void *ud, const xmlChar *name, int type, const xmlChar *pub,
               const xmlChar *sys, xmlChar *content)
{
    opml_state *st = ud;
    UNUSED(type);
    UNUSED(pub);
    UNUSED(content);
    refuse(st,
           "entity declarations are refused (<!ENTITY %.40s%s>): an OPML "
           "file needs none",
           (const char *)name, sys ? " SYSTEM ..." : "");
}

static void
on_error(void *ud, xmlErrorPtr e)
{
    opml_state *st = ud;
    if (!e || e->level < XML_ERR_ERROR || st->xml_err[0]) return;
    snprintf(st->xml_err, sizeof st->xml_err, "%s",
             e->message ? e->message : "");
    one_line(st->xml_err);
    st->xml_err_line = e->line;
    st->xml_err_code = e->code;
}

int
opml_parse(const char *data, size_t len, opml_list *out, char *err,
           size_t errlen)
{
    if (len > OPML_MAX_BYTES) {
        snprintf(err, errlen, "larger than %u MiB", OPML_MAX_BYTES >> 20);
        return -1;
    }
    if (len == 0) {
        snprintf(err, errlen, "empty document");
        return -1;
    }
    xmlInitParser();

    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.entityDecl = on_entity_decl;
    sax.serror = on_error;

    opml_state st = {0};
    st.out = out;
    st.err = err;
    st.errlen = errlen;
    err[0] = '\0';

    st.ctxt = xmlCreatePushParserCtxt(&sax, &st, NULL, 0, NULL);
    if (!st.ctxt) {
        snprintf(err, errlen, "cannot create an XML parser");
        return -1;
    }
    /* NONET and nothing else: no NOENT (no entity substitution), no
     * DTDLOAD/DTDATTR/DTDVALID (no external DTD), no HUGE (libxml2's own
     * caps on depth and text length stay on). */
    xmlCtxtUseOptions(st.ctxt, XML_PARSE_NONET);
    int rc = xmlParseChunk(st.ctxt, data, (int)len, 1);
    int wellformed = st.ctxt->wellFormed;
    /* Even in SAX mode libxml2 may build a document to hold an internal
     * subset's entities; the context does not own it. */
    if (st.ctxt->myDoc) xmlFreeDoc(st.ctxt->myDoc);
    st.ctxt->myDoc = NULL;
    xmlFreeParserCtxt(st.ctxt);
    st.ctxt = NULL;

    if (st.failed) return -1;
    /* The push parser reports a truncated document as "extra content at
     * the end", which is the opposite of what happened. */
    if (st.xml_err_code == XML_ERR_DOCUMENT_END && st.depth > 0)
        snprintf(st.xml_err, sizeof st.xml_err,
                 "the document ends inside an element");
    if (rc != 0 || !wellformed) {
        if (st.xml_err_line > 0)
            snprintf(err, errlen, "line %d: not well-formed XML: %s",
                     st.xml_err_line, st.xml_err[0] ? st.xml_err : "error");
        else
            snprintf(err, errlen, "not well-formed XML: %s",
                     st.xml_err[0] ? st.xml_err : "error");
        return -1;
    }
    if (!st.seen_root) {
        snprintf(err, errlen, "empty document");
        return -1;
    }
    return 0;
}

void
opml_free(opml_list *l)
{
    free(l->v);
    arena_free(&l->mem);
    memset(l, 0, sizeof *l);
}
