/* sax_floor.c — the libxml2 floor for `vigie parse`: a SAX2 parse with
 * empty callbacks over every file named on the command line, in one
 * process. Nothing is built, nothing is printed per file: what is left is
 * the cost of reading the bytes, decoding them (iconv for windows-1252) and
 * tokenising the XML, which no libxml2-based parser can go below.
 *
 *   sax_floor [-c] FILE...
 *
 * prints "files N bytes B notwellformed E" (and "items I" with -c, which
 * counts <item> and <entry> start tags; the timed runs leave -c off so the
 * callbacks stay empty). Exit 1 if a file cannot be read. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

static long long items;

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
         const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
         int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri;
    (void)nb_namespaces, (void)namespaces, (void)nb_attributes;
    (void)nb_defaulted, (void)attributes;
}

static void
on_start_count(void *ctx, const xmlChar *localname, const xmlChar *prefix,
               const xmlChar *uri, int nb_namespaces,
               const xmlChar **namespaces, int nb_attributes,
               int nb_defaulted, const xmlChar **attributes)
{
    (void)ctx, (void)prefix, (void)uri, (void)nb_namespaces;
    (void)namespaces, (void)nb_attributes, (void)nb_defaulted;
    (void)attributes;
    if (strcmp((const char *)localname, "item") == 0 ||
        strcmp((const char *)localname, "entry") == 0)
        items++;
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
       const xmlChar *uri)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri;
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx, (void)ch, (void)len;
}

/* Keeps libxml2 from writing parse errors to stderr. */
static void
on_error(void *ctx, xmlErrorPtr err)
{
    (void)ctx, (void)err;
}

/* Reads a whole file into *buf (grown as needed). Returns its size or -1. */
static long
slurp(const char *path, char **buf, size_t *cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return -1;
    }
    size_t need = (size_t)st.st_size + 1;
    if (need > *cap) {
        char *nb = realloc(*buf, need);
        if (!nb) {
            fclose(f);
            return -1;
        }
        *buf = nb;
        *cap = need;
    }
    size_t n = fread(*buf, 1, (size_t)st.st_size, f);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : (long)n;
}

int
main(int argc, char **argv)
{
    int count = argc > 1 && strcmp(argv[1], "-c") == 0;
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = count ? on_start_count : on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.cdataBlock = on_chars;
    sax.serror = on_error;

    LIBXML_TEST_VERSION
    char *buf = NULL;
    size_t cap = 0;
    long long bytes = 0;
    int files = 0, bad = 0, status = 0;
    for (int i = 1 + count; i < argc; i++) {
        long n = slurp(argv[i], &buf, &cap);
        if (n < 0) {
            fprintf(stderr, "sax_floor: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        if (n > 0x7fffffffL) {
            fprintf(stderr, "sax_floor: %s: over 2 GiB\n", argv[i]);
            status = 1;
            continue;
        }
        xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(buf, (int)n);
        if (!ctxt) {
            fprintf(stderr, "sax_floor: %s: no parser context\n", argv[i]);
            status = 1;
            continue;
        }
        *ctxt->sax = sax; /* the context owns and frees its copy */
        ctxt->userData = NULL;
        /* What a feed parser must use: no network, no entity
         * substitution, no DTD loading. */
        xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOWARNING |
                                    XML_PARSE_NOERROR);
        xmlParseDocument(ctxt);
        if (!ctxt->wellFormed)
            bad++;
        xmlFreeParserCtxt(ctxt);
        bytes += n;
        files++;
    }
    free(buf);
    xmlCleanupParser();
    printf("files %d bytes %lld notwellformed %d", files, bytes, bad);
    if (count)
        printf(" items %lld", items);
    printf("\n");
    return status;
}
