/* feed.c — feed_parse(): the bytes of a document in, one normalised feed
 * out. Decides the encoding (charset.c), the syntax (JSON or XML, from the
 * content, never the file name), and hands over to feed_xml.c or
 * feed_jsonfeed.c, which share feedbuild.c. */
#include "feed.h"

#include <stdlib.h>

#include "charset.h"
#include "feedbuild.h"

void feed_parse_xml(feed_builder *b, const char *data, size_t len);
size_t feed_xml_escape_stray_amps(const char *data, size_t len, size_t max,
                                  buf *out);
void feed_parse_jsonfeed(feed_builder *b, const char *data, size_t len);

const char *
feed_format_name(feed_format f)
{
    switch (f) {
    case FEED_RSS09X: return "rss0.9x";
    case FEED_RSS10: return "rss1.0";
    case FEED_RSS20: return "rss2.0";
    case FEED_ATOM03: return "atom0.3";
    case FEED_ATOM10: return "atom1.0";
    case FEED_JSONFEED: return "jsonfeed";
    case FEED_UNKNOWN: break;
    }
    return "unknown";
}

static size_t
skip_space(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* An XML document; one whose '&'s libxml2 tripped over ("AT&T", "Q & A":
 * its recovery drops text after them) is read again with them escaped.
 * Only broken documents pay for the copy. */
static void
parse_xml(feed_builder *b, feed *out, const feed_options *opt, const char *s,
          size_t n)
{
    feed_parse_xml(b, s, n);
    if (!b->stray_amp) return;
    buf fixed = {0};
    size_t k = feed_xml_escape_stray_amps(s, n, b->lim.max_input, &fixed);
    if (k == SIZE_MAX) {
        fb_error(b, "too many '&' that start no entity to read them as text");
    } else if (k) {
        fb_free(b);
        feed_free(out);
        fb_init(b, out, opt);
        feed_parse_xml(b, fixed.p, fixed.len);
        fb_error(b, "%zu '&' that start%s no entity read as text", k,
                 k == 1 ? "s" : "");
    }
    buf_free(&fixed);
}

void
feed_parse(const char *data, size_t len, const feed_options *opt, feed *out)
{
    feed_builder b;
    fb_init(&b, out, opt);
    if (len > b.lim.max_input) {
        fb_error(&b, "not a feed: input over %zu bytes", b.lim.max_input);
        fb_free(&b);
        return;
    }
    buf conv = {0};
    charset_result cs;
    charset_to_utf8(data, len, opt ? opt->charset : NULL, &conv, &cs);
    /* Servers often send whitespace before the XML declaration, which XML
     * forbids; skipping it costs nothing and saves the feed. */
    size_t start = skip_space(cs.data, cs.len, 0);
    if (start == cs.len) {
        fb_error(&b, "not a feed: empty document");
    } else if (cs.data[start] == '{' || cs.data[start] == '[') {
        feed_parse_jsonfeed(&b, cs.data + start, cs.len - start);
    } else if (cs.data[start] == '<') {
        parse_xml(&b, out, opt, cs.data + start, cs.len - start);
    } else {
        fb_error(&b, "not a feed: the document is neither XML nor JSON");
    }
    /* Encoding repairs come after what the parse found: less important. */
    if (cs.unsupported)
        fb_note(&b, "unknown encoding, read as %s", cs.encoding);
    if (cs.note[0]) fb_note(&b, "%s", cs.note);
    if (cs.repaired)
        fb_note(&b, "%zu invalid byte sequences repaired (read as %s)",
                cs.repaired, cs.encoding);
    if (cs.dropped)
        fb_note(&b, "%zu control characters that XML forbids were dropped",
                cs.dropped);
    fb_finish(&b);
    if (out->format == FEED_UNKNOWN) {
        out->wellformed = false;
        out->nitems = 0;
        if (!out->nerrors) fb_error(&b, "not a feed: no RSS, Atom or JSON Feed root");
    }
    fb_free(&b);
    buf_free(&conv);
}

void
feed_free(feed *f)
{
    free(f->items);
    arena_free(&f->mem);
    memset(f, 0, sizeof *f);
}
