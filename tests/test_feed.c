/* test_feed.c — the feed parser: formats, text, links, ids, dates,
 * encodings, entities, recovery and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "feed.h"
#include "feed_json.h"
#include "url.h"
#include "utf8.h"

static feed F;

static const char *
fixture_dir(void)
{
    const char *d = getenv("VIGIE_FIXTURES");
    return d ? d : "tests/fixtures";
}

static void
parse_file_opt(const char *name, const feed_options *opt)
{
    char path[512];
    snprintf(path, sizeof path, "%s/feeds/%s", fixture_dir(), name);
    buf b = {0};
    if (read_file(path, 64u << 20, &b) != 0) fail_msg("cannot read %s", path);
    feed_parse(b.p ? b.p : "", b.len, opt, &F);
    buf_free(&b);
}

static void
parse_file(const char *name)
{
    parse_file_opt(name, NULL);
}

static void
parse_str(const char *s)
{
    feed_parse(s, strlen(s), NULL, &F);
}

static int
teardown(void **state)
{
    UNUSED(state);
    feed_free(&F);
    return 0;
}

static char *
slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/feeds/%s", fixture_dir(), name);
    buf b = {0};
    if (read_file(path, 1 << 20, &b) != 0) fail_msg("cannot read %s", path);
    return buf_detach(&b);
}

static const char *
date_str(int64_t t)
{
    static char tmp[DATE_RFC3339_LEN];
    if (t == DATE_NONE) return "null";
    date_format_rfc3339(t, tmp);
    return tmp;
}

static bool
has_error(const char *needle)
{
    for (size_t i = 0; i < F.nerrors; i++)
        if (strstr(F.errors[i], needle)) return true;
    return false;
}

/* ---- formats ---- */

static void
test_rss20_full(void **state)
{
    UNUSED(state);
    parse_str("<?xml version='1.0'?><rss version='2.0' "
              "xmlns:dc='http://purl.org/dc/elements/1.1/' "
              "xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
              "<channel><title>T</title><link>https://n.example/</link>"
              "<description>D</description><language>fr</language>"
              "<lastBuildDate>Fri, 23 Aug 2024 13:27:00 GMT</lastBuildDate>"
              "<managingEditor>ed@n.example (Ed)</managingEditor>"
              "<image><title>WRONG</title><link>http://wrong/</link></image>"
              "<item><title>A</title><link>https://n.example/a</link>"
              "<guid isPermaLink='false'>id-a</guid>"
              "<description>&lt;p&gt;S&lt;/p&gt;</description>"
              "<content:encoded><![CDATA[<p>C <b>c</b></p>]]></content:encoded>"
              "<dc:creator>Jean</dc:creator><author>x@y</author>"
              "<category>c1</category><category>c2</category><category>c1</category>"
              "<pubDate>Fri, 23 Aug 2024 15:27:00 +0200</pubDate>"
              "<enclosure url='https://n.example/a.mp3' length='10' type='audio/mpeg'/>"
              "<source url='http://other/'>Other title</source>"
              "</item></channel></rss>");
    assert_int_equal(F.format, FEED_RSS20);
    assert_true(F.wellformed);
    assert_int_equal(F.nerrors, 0);
    assert_string_equal(F.title, "T");
    assert_string_equal(F.link, "https://n.example/");
    assert_string_equal(F.subtitle, "D");
    assert_string_equal(F.language, "fr");
    assert_string_equal(date_str(F.updated), "2024-08-23T13:27:00Z");
    assert_string_equal(F.author, "ed@n.example (Ed)");
    assert_int_equal(F.nitems, 1);
    feed_item *it = &F.items[0];
    assert_string_equal(it->id, "id-a");
    assert_string_equal(it->title, "A");
    assert_string_equal(it->link, "https://n.example/a");
    assert_string_equal(it->summary, "S");
    assert_string_equal(it->content, "<p>C <b>c</b></p>");
    assert_string_equal(it->author, "Jean"); /* dc:creator beats author */
    assert_int_equal(it->ncategories, 2);   /* duplicates dropped */
    assert_string_equal(it->categories[0], "c1");
    assert_string_equal(it->categories[1], "c2");
    assert_string_equal(date_str(it->published), "2024-08-23T13:27:00Z");
    assert_string_equal(date_str(it->updated), "null");
    assert_int_equal(it->nenclosures, 1);
    assert_string_equal(it->enclosures[0].url, "https://n.example/a.mp3");
    assert_string_equal(it->enclosures[0].type, "audio/mpeg");
    assert_int_equal(it->enclosures[0].length, 10);
}

static void
test_rss091_with_doctype_and_html_entities(void **state)
{
    UNUSED(state);
    parse_file("rss091.xml");
    assert_int_equal(F.format, FEED_RSS09X);
    assert_string_equal(F.title, "Le Monde édition");
    assert_string_equal(F.subtitle, "Actualités\xc2\xa0: politique");
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "Café & crème");
    assert_string_equal(F.items[0].summary, "Un texte «\xc2\xa0" "cité\xc2\xa0» ici.");
}

static void
test_rss092_item_without_title(void **state)
{
    UNUSED(state);
    parse_file("rss092.xml");
    assert_int_equal(F.format, FEED_RSS09X);
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "");
    assert_string_equal(F.items[0].summary, "An item with only a description link.");
    assert_int_equal(F.items[0].enclosures[0].length, 12216320);
    /* no guid, no link: a hash, never empty, and stable */
    assert_true(strncmp(F.items[0].id, "urn:vigie:", 10) == 0);
    char *id = xstrdup(F.items[0].id);
    feed_free(&F);
    parse_file("rss092.xml");
    assert_string_equal(F.items[0].id, id);
    free(id);
}

static void
test_rss090(void **state)
{
    UNUSED(state);
    parse_file("rss090.rdf");
    assert_int_equal(F.format, FEED_RSS09X);
    assert_string_equal(F.title, "Mozilla Dot Org");
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[1].title, "Bugzilla Reorganized");
    assert_string_equal(F.items[1].id, "http://www.mozilla.org/bugs/");
}

static void
test_rss10(void **state)
{
    UNUSED(state);
    parse_file("rss10.rdf");
    assert_int_equal(F.format, FEED_RSS10);
    assert_string_equal(F.language, "sr-Latn");
    assert_string_equal(date_str(F.updated), "2024-08-22T08:00:00Z");
    assert_int_equal(F.nitems, 2);
    feed_item *it = &F.items[0];
    assert_string_equal(it->title, "Vučić se sastao sa Rugeom");
    assert_string_equal(it->author, "Redakcija");
    assert_string_equal(date_str(it->published), "2024-08-21T16:30:00Z"); /* dc:date */
    assert_string_equal(date_str(it->updated), "2024-08-22T07:15:00Z");   /* dcterms:modified */
    assert_string_equal(it->categories[0], "Politika");
    assert_string_equal(it->content, "<p>Predsednik <b>Srbije</b>…</p>");
    /* rdf:about is the id; a relative link resolves against the channel link */
    assert_string_equal(F.items[1].id, "http://www.example.rs/vesti/2");
    assert_string_equal(F.items[1].link, "http://www.example.rs/vesti/2");
}

static void
test_atom10(void **state)
{
    UNUSED(state);
    parse_file("atom10.xml");
    assert_int_equal(F.format, FEED_ATOM10);
    assert_true(F.wellformed);
    assert_string_equal(F.title, "Western Balkans <watch>"); /* type=text */
    assert_string_equal(F.subtitle, "Notes & news");          /* type=html */
    assert_string_equal(F.link, "http://example.org/blog/");  /* not rel=self */
    assert_string_equal(F.language, "en");
    assert_string_equal(F.author, "Jane Analyst");
    assert_int_equal(F.nitems, 2);
    feed_item *a = &F.items[0], *b = &F.items[1];
    assert_string_equal(a->title, "Bosnie-Herzégovine talks");
    assert_string_equal(a->link, "http://example.org/blog/2024/08/bih");
    assert_string_equal(a->summary, "Plain <b>summary</b> kept as text");
    assert_string_equal(a->content, "<div><p>XHTML <b>content</b> &amp; more</p></div>");
    assert_string_equal(a->author, "Boris Analyst");
    assert_string_equal(a->categories[0], "balkans");
    assert_string_equal(date_str(a->published), "2024-08-22T06:00:00Z");
    assert_string_equal(date_str(a->updated), "2024-08-23T11:27:00Z");
    assert_int_equal(a->nenclosures, 1);
    assert_string_equal(a->enclosures[0].url, "http://example.org/media/talk.mp3");
    assert_int_equal(a->enclosures[0].length, 1337);
    /* type=xhtml title, nested xml:base, &amp; in an attribute */
    assert_string_equal(b->title, "Kosovo and KFOR");
    assert_string_equal(b->link, "http://other.example.com/news/item?id=2&x=1");
    assert_string_equal(date_str(b->updated), "2024-08-21T00:00:00Z");
    /* only content: the summary is its text; atom:source is not the entry */
    assert_string_equal(b->summary, "Only content, no summary: KFOR");
    assert_string_equal(b->id, "tag:example.org,2024:kosovo");
}

static void
test_atom03(void **state)
{
    UNUSED(state);
    parse_file("atom03.xml");
    assert_int_equal(F.format, FEED_ATOM03);
    assert_string_equal(F.subtitle, "Das Neueste"); /* tagline, mode=escaped */
    assert_string_equal(F.language, "de");
    assert_string_equal(date_str(F.updated), "2024-08-20T12:00:00Z");
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "Grüße aus Priština");
    assert_string_equal(F.items[0].summary, "Kurz über KFOR");
    assert_string_equal(date_str(F.items[0].published), "2024-08-19T08:00:00Z"); /* issued */
    assert_string_equal(date_str(F.items[0].updated), "2024-08-20T12:00:00Z");   /* modified */
}

/* A YouTube channel: everything about a video is in its media:group. */
static void
test_youtube_media_group(void **state)
{
    UNUSED(state);
    parse_file("youtube.xml");
    assert_int_equal(F.format, FEED_ATOM10);
    assert_int_equal(F.nerrors, 0);
    assert_int_equal(F.nitems, 1);
    feed_item *it = &F.items[0];
    assert_string_equal(it->title, "Interview with Vučić"); /* not media:title */
    assert_string_equal(it->summary,
                        "We discuss Kosovo and the Western Balkans with Boris Ruge.");
    assert_string_equal(it->content, "");
    assert_string_equal(it->author, "Some Channel");
    assert_int_equal(it->nenclosures, 1); /* not the thumbnail */
    assert_string_equal(it->enclosures[0].url,
                        "https://www.youtube.com/v/dQw4w9WgXcQ?version=3");
    assert_string_equal(it->enclosures[0].type, "application/x-shockwave-flash");
    assert_int_equal(it->enclosures[0].length, 0);
}

/* media:title and media:description stand in for an item's own title and
 * summary only when it has none (an empty one is none); the text of its
 * content comes first. They are plain text unless type="html". */
static void
test_media_title_and_description(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0' xmlns:media='http://search.yahoo.com/mrss/' "
              "xmlns:dc='http://purl.org/dc/elements/1.1/' "
              "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
              "<media:title>not the feed's</media:title>"
              /* 0: nothing else; plain text keeps what looks like tags */
              "<item><guid>0</guid><media:title>Press &lt;b&gt;conference"
              "&lt;/b&gt;</media:title><media:description type='plain'>"
              "Ruge  on\nKosovo &amp;lt; 1</media:description>"
              "<media:group><media:content url='https://v.example/0.mp4' "
              "type='video/mp4' fileSize='1000'/><media:content "
              "url='https://v.example/0.webm' fileSize='x'/></media:group></item>"
              /* 1: type=html; empty title and description hide nothing */
              "<item><guid>1</guid><title> </title><description></description>"
              "<media:group><media:title type='html'>A &lt;i&gt;b&lt;/i&gt;"
              "</media:title><media:description type='html'>&lt;p&gt;Para"
              "&lt;/p&gt;&lt;p&gt;two &amp;amp; more&lt;/p&gt;</media:description>"
              "</media:group></item>"
              /* 2: the item's own title and description win */
              "<item><guid>2</guid><title>Own</title><description>Own sum"
              "</description><media:title>M</media:title>"
              "<media:description>M sum</media:description></item>"
              /* 3: dc:title beats media:title; content beats description */
              "<item><guid>3</guid><media:title>M</media:title>"
              "<dc:title>DC</dc:title><media:description>M sum</media:description>"
              "<content:encoded>&lt;p&gt;From content&lt;/p&gt;</content:encoded>"
              "</item>"
              /* 4: content with no text: the description is the summary */
              "<item><guid>4</guid><content:encoded>&lt;img src='x.png'&gt;"
              "</content:encoded><media:description>M sum</media:description>"
              "</item>"
              /* 5: inside media:content, a caption of that file only */
              "<item><guid>5</guid><media:content url='https://v.example/p.jpg'>"
              "<media:title>Photo</media:title><media:description>A caption"
              "</media:description></media:content></item>"
              "</channel></rss>");
    assert_true(F.wellformed);
    assert_string_equal(F.title, "");
    assert_int_equal(F.nitems, 6);
    feed_item *it = F.items;
    assert_string_equal(it[0].title, "Press <b>conference</b>");
    assert_string_equal(it[0].summary, "Ruge on Kosovo &lt; 1");
    assert_int_equal(it[0].nenclosures, 2);
    assert_string_equal(it[0].enclosures[0].url, "https://v.example/0.mp4");
    assert_string_equal(it[0].enclosures[0].type, "video/mp4");
    assert_int_equal(it[0].enclosures[0].length, 1000);
    assert_string_equal(it[0].enclosures[1].url, "https://v.example/0.webm");
    assert_int_equal(it[0].enclosures[1].length, 0);
    assert_string_equal(it[1].title, "A b");
    assert_string_equal(it[1].summary, "Para two & more");
    assert_string_equal(it[2].title, "Own");
    assert_string_equal(it[2].summary, "Own sum");
    assert_string_equal(it[3].title, "DC");
    assert_string_equal(it[3].summary, "From content");
    assert_string_equal(it[4].summary, "M sum");
    assert_string_equal(it[5].title, "");
    assert_string_equal(it[5].summary, "");
    assert_int_equal(it[5].nenclosures, 1);
}

/* A podcast: the iTunes title, summary and author stand in for an
 * episode's own when it has none, and the show's author is the feed's and
 * that of every episode without one. */
static void
test_podcast_itunes(void **state)
{
    UNUSED(state);
    parse_file("podcast.xml");
    assert_int_equal(F.format, FEED_RSS20);
    assert_int_equal(F.nerrors, 0);
    assert_non_null(F.author);
    assert_string_equal(F.author, "Jane Doe"); /* not the owner */
    assert_int_equal(F.nitems, 2);
    feed_item *it = F.items;
    assert_string_equal(it[0].title, "Ep. 41");
    assert_string_equal(it[0].summary,
                        "This week: Vučić, Kurti and the Kosovo talks.");
    assert_string_equal(it[0].author, "John Host");
    assert_string_equal(it[1].title, "Ep. 40: Bosnia");
    assert_string_equal(it[1].summary, "Mostar and Sarajevo.");
    assert_string_equal(it[1].author, "Jane Doe");
    assert_string_equal(it[1].enclosures[0].url, "https://cdn.example/40.mp3");
}

/* The standard fields win over the iTunes ones when they say something,
 * an empty one hides nothing, the text of the content comes before
 * itunes:summary, and itunes:subtitle (a tagline) is the last resort. */
static void
test_itunes_precedence(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0' xmlns:itunes='http://www.itunes.com/dtds/"
              "podcast-1.0.dtd' xmlns:media='http://search.yahoo.com/mrss/' "
              "xmlns:dc='http://purl.org/dc/elements/1.1/' "
              "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel>"
              "<managingEditor>ed@x (Ed)</managingEditor>"
              "<itunes:author>Show</itunes:author>"
              /* 0: every standard field given */
              "<item><guid>0</guid><title>T</title><description>D</description>"
              "<author>a@x (A)</author><itunes:title>IT</itunes:title>"
              "<itunes:summary>IS</itunes:summary>"
              "<itunes:author>IA</itunes:author></item>"
              /* 1: empty standard fields; iTunes over Media RSS */
              "<item><guid>1</guid><title></title><description> </description>"
              "<dc:creator></dc:creator><media:title>MT</media:title>"
              "<itunes:subtitle>ISub</itunes:subtitle><media:description>MD"
              "</media:description><itunes:summary>IS</itunes:summary>"
              "<itunes:title>IT</itunes:title><itunes:author>IA</itunes:author>"
              "</item>"
              /* 2: dc:title over itunes:title; content over itunes:summary */
              "<item><guid>2</guid><itunes:title>IT</itunes:title>"
              "<dc:title>DC</dc:title><itunes:summary>IS</itunes:summary>"
              "<content:encoded>&lt;p&gt;C&lt;/p&gt;</content:encoded></item>"
              /* 3: only a subtitle; no author: the show's */
              "<item><guid>3</guid><itunes:subtitle>ISub</itunes:subtitle>"
              "<media:title>MT</media:title></item>"
              "</channel></rss>");
    assert_true(F.wellformed);
    assert_string_equal(F.author, "ed@x (Ed)"); /* managingEditor wins */
    assert_int_equal(F.nitems, 4);
    feed_item *it = F.items;
    assert_string_equal(it[0].title, "T");
    assert_string_equal(it[0].summary, "D");
    assert_string_equal(it[0].author, "a@x (A)");
    assert_string_equal(it[1].title, "IT");
    assert_string_equal(it[1].summary, "IS");
    assert_string_equal(it[1].author, "IA");
    assert_string_equal(it[2].title, "DC");
    assert_string_equal(it[2].summary, "C");
    assert_string_equal(it[3].title, "MT");
    assert_string_equal(it[3].summary, "ISub");
    assert_string_equal(it[3].author, "Show"); /* not managingEditor's */
    feed_free(&F);
    /* Atom: the feed's own author wins, and its entries inherit it; an
     * entry's itunes:author is its own. Apple's old namespace spelling. */
    parse_str("<feed xmlns='http://www.w3.org/2005/Atom' "
              "xmlns:itunes='http://www.itunes.com/DTDs/PodCast-1.0.dtd'>"
              "<itunes:author>Show</itunes:author>"
              "<entry><id>1</id></entry>"
              "<entry><id>2</id><itunes:author>IA</itunes:author></entry>"
              "<author><name>Feed</name></author></feed>");
    assert_string_equal(F.author, "Feed");
    assert_string_equal(F.items[0].author, "Feed");
    assert_string_equal(F.items[1].author, "IA");
    feed_free(&F);
    parse_str("<feed xmlns='http://www.w3.org/2005/Atom' "
              "xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd'>"
              "<itunes:author>Show</itunes:author><entry><id>1</id></entry>"
              "</feed>");
    assert_non_null(F.author);
    assert_string_equal(F.author, "Show");
    assert_string_equal(F.items[0].author, "Show");
}

static void
test_atom_without_namespace(void **state)
{
    UNUSED(state);
    parse_str("<feed><title>No ns</title><entry><title>E</title><id>e1</id>"
              "<link href='http://x/1'/></entry></feed>");
    assert_int_equal(F.format, FEED_ATOM10);
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "E");
    assert_string_equal(F.items[0].link, "http://x/1");
}

static void
test_jsonfeed(void **state)
{
    UNUSED(state);
    parse_file("jsonfeed11.json");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_true(F.wellformed);
    assert_string_equal(F.title, "JSON Balkans");
    assert_string_equal(F.link, "https://example.net/");
    assert_string_equal(F.author, "Ana");
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].title, "Vučić meets Ruge");
    assert_string_equal(F.items[0].content, "<p>Hello <b>world</b></p>");
    assert_string_equal(F.items[0].summary, "Short");
    assert_string_equal(F.items[0].author, "Bob");
    assert_string_equal(date_str(F.items[0].published), "2024-08-23T11:27:00Z");
    assert_int_equal(F.items[0].ncategories, 2);
    assert_int_equal(F.items[0].enclosures[0].length, 42);
    assert_string_equal(F.items[1].id, "2"); /* a number id */
    assert_string_equal(F.items[1].link, "https://example.net/2");
    assert_string_equal(F.items[1].summary, "Only text, no title");
    feed_free(&F);
    parse_file("jsonfeed10.json");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_string_equal(F.author, "Zed");
    assert_string_equal(F.items[0].summary, "x");
}

/* One quirk somewhere in the document must not cost the whole feed. */
static void
test_jsonfeed_duplicate_keys(void **state)
{
    UNUSED(state);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":"
              "[{\"id\":\"1\",\"title\":\"a\",\"title\":\"b\"}]}");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "b"); /* the last one wins */
}

/* Integers beyond int64 and reals beyond double, which jansson refuses:
 * read as text, so a numeric id keeps its exact digits. */
static void
test_jsonfeed_numbers_too_big(void **state)
{
    UNUSED(state);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\","
              "\"_x\":{\"n\":18446744073709551616,\"r\":-1.5e400,"
              "\"ok\":[-9223372036854775808,1e-400,0.000e999]},\"items\":["
              "{\"id\":123456789012345678901234567890,\"title\":\"a\"},"
              "{\"id\":9223372036854775807,\"title\":\"99999999999999999999\"}]}");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_true(F.wellformed);
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].id, "123456789012345678901234567890");
    assert_string_equal(F.items[1].id, "9223372036854775807");
    assert_string_equal(F.items[1].title, "99999999999999999999");
    assert_true(has_error("3 out-of-range numbers read as text"));
}

/* Half a surrogate pair, as JavaScript writes a string cut mid-emoji:
 * U+FFFD, and the rest of the feed kept. */
static void
test_jsonfeed_lone_surrogates(void **state)
{
    UNUSED(state);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":["
              "{\"id\":\"1\",\"title\":\"cut \\ud83d\"},"
              "{\"id\":\"2\",\"title\":\"\\uDE00 \\ud83d\\ud83d\\ude00 \\udbff\\n\"},"
              "{\"id\":\"3\",\"title\":\"\\\\ud83d \\ud83d\\ude00\"}]}");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_true(F.wellformed);
    assert_int_equal(F.nitems, 3);
    assert_string_equal(F.items[0].title, "cut \xef\xbf\xbd");
    assert_string_equal(F.items[1].title, "\xef\xbf\xbd \xef\xbf\xbd\xf0\x9f\x98\x80 \xef\xbf\xbd");
    /* an escaped backslash before "ud83d" is no escape; a pair is kept */
    assert_string_equal(F.items[2].title, "\\ud83d \xf0\x9f\x98\x80");
    assert_true(has_error("4 lone surrogate escapes replaced"));
    feed_free(&F);
    /* valid pairs only: nothing to say */
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":["
              "{\"id\":\"1\",\"title\":\"\\ud83d\\ude00\"}]}");
    assert_string_equal(F.items[0].title, "\xf0\x9f\x98\x80");
    assert_int_equal(F.nerrors, 0);
    feed_free(&F);
    /* cut at the very end of the document: still an error, no overread */
    parse_str("{\"items\":[{\"title\":\"\\ud83d");
    assert_int_equal(F.format, FEED_UNKNOWN);
}

/* "\u0000" must not cut a string short: the NUL is dropped. */
static void
test_jsonfeed_nul_escapes(void **state)
{
    UNUSED(state);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":["
              "{\"id\":\"i\\u0000d\",\"title\":\"a\\u0000b\",\"tags\":[\"\\u0000t\"],"
              "\"attachments\":[{\"url\":\"https://x.example/a\\u0000.mp3\"}]}]}");
    assert_int_equal(F.format, FEED_JSONFEED);
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].id, "id");
    assert_string_equal(F.items[0].title, "ab");
    assert_string_equal(F.items[0].categories[0], "t");
    assert_string_equal(F.items[0].enclosures[0].url, "https://x.example/a.mp3");
    assert_true(has_error("NUL characters"));
}

/* An enclosure length is a plain integer in range, or 0 (unknown): never
 * the number some prefix of the text happens to make. */
static void
test_enclosure_length_strict(void **state)
{
    UNUSED(state);
    static const struct {
        const char *in;
        int64_t want;
    } cases[] = {
        {"12345", 12345},
        {" 42\n", 42},
        {"007", 7},
        {"0", 0},
        {"9223372036854775807", INT64_MAX},
        {"9223372036854775808", 0},
        {"12345678901234567890", 0},
        {"1,234", 0},
        {"1e6", 0},
        {"1.5", 0},
        {"-5", 0},
        {"+5", 0},
        {"12 34", 0},
        {"", 0},
        {"abc", 0},
    };
    buf doc = {0};
    buf_adds(&doc, "<rss version='2.0'><channel><item><title>t</title>");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        buf_printf(&doc, "<enclosure url='https://x.example/%zu' length='%s'/>",
                   i, cases[i].in);
    buf_adds(&doc, "</item></channel></rss>");
    parse_str(doc.p);
    buf_free(&doc);
    assert_int_equal(F.nitems, 1);
    assert_int_equal(F.items[0].nenclosures, ARRAY_LEN(cases));
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        if (F.items[0].enclosures[i].length != cases[i].want)
            fail_msg("length '%s': got %lld, want %lld", cases[i].in,
                     (long long)F.items[0].enclosures[i].length,
                     (long long)cases[i].want);
    }
    feed_free(&F);
    /* JSON Feed's size_in_bytes: only an integer in range counts */
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{"
              "\"id\":\"1\",\"attachments\":["
              "{\"url\":\"https://x.example/a\",\"size_in_bytes\":1234},"
              "{\"url\":\"https://x.example/b\",\"size_in_bytes\":-5},"
              "{\"url\":\"https://x.example/c\",\"size_in_bytes\":1e6},"
              "{\"url\":\"https://x.example/d\",\"size_in_bytes\":\"77\"},"
              "{\"url\":\"https://x.example/e\",\"size_in_bytes\":12345678901234567890}]}]}");
    assert_int_equal(F.items[0].nenclosures, 5);
    assert_int_equal(F.items[0].enclosures[0].length, 1234);
    assert_int_equal(F.items[0].enclosures[1].length, 0);
    assert_int_equal(F.items[0].enclosures[2].length, 0);
    assert_int_equal(F.items[0].enclosures[3].length, 0);
    assert_int_equal(F.items[0].enclosures[4].length, 0);
}

static void
test_format_from_content_not_name(void **state)
{
    UNUSED(state);
    parse_file("json-not-feed.json");
    assert_int_equal(F.format, FEED_UNKNOWN);
    feed_free(&F);
    /* an Atom document in a .json file, with leading whitespace */
    parse_str("\n\n  <feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>");
    assert_int_equal(F.format, FEED_ATOM10);
}

/* ---- the seed ---- */

static void
test_seed_press_release_exact(void **state)
{
    UNUSED(state);
    char *title = slurp("seed-fr.title.txt");
    char *summary = slurp("seed-fr.summary.txt");
    parse_file("seed-fr.rss");
    assert_true(F.wellformed);
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, title);
    assert_string_equal(F.items[0].summary, summary);
    assert_string_equal(F.subtitle, "Communiqués de presse de l’OTAN");
    assert_string_equal(date_str(F.items[0].published), "2024-08-23T13:27:00Z");
    free(title);
    free(summary);
}

/* ---- text ---- */

static void
test_html_stripping_and_entities(void **state)
{
    UNUSED(state);
    parse_file("html-entities.xml");
    assert_int_equal(F.nitems, 1);
    feed_item *it = &F.items[0];
    /* HTML named entities in XML without a DTD are recovered; "&lt;ok&gt;"
     * names no element: it is text */
    assert_string_equal(it->title,
                        "Boris\xc2\xa0Ruge — l’OTAN é \xcc\x8c & <ok>");
    /* double-escaped HTML decoded exactly once */
    assert_string_equal(it->summary, "double été \xc2\xa0x &lt; é");
    assert_string_equal(it->link, "http://example.com/?a=1&b=2");
    assert_string_equal(F.title, "Entés");
}

static void
test_inline_vs_block_elements(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><item><description>"
              "&lt;p&gt;Bosnie-&lt;b&gt;Herzégovine&lt;/b&gt;&lt;/p&gt;&lt;p&gt;"
              "Kosovo&lt;br&gt;KFOR&lt;/p&gt;&lt;ul&gt;&lt;li&gt;a&lt;/li&gt;&lt;li&gt;b"
              "&lt;/li&gt;&lt;/ul&gt;&lt;script&gt;var x=1;&lt;/script&gt;"
              "</description></item></channel></rss>");
    assert_string_equal(F.items[0].summary, "Bosnie-Herzégovine Kosovo KFOR a b");
}

static void
test_whitespace_collapsed_and_cdata(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><item><title>\n  Balkans\n\t  occidentaux  "
              "</title><description><![CDATA[  <p>a   <i>b</i>\n c</p> ]]></description>"
              "</item></channel></rss>");
    assert_string_equal(F.items[0].title, "Balkans occidentaux");
    assert_string_equal(F.items[0].summary, "a b c");
}

static void
test_unescaped_xhtml_in_description(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><item><description><p>One <b>two</b></p>"
              "<p>three &amp; four</p></description></item></channel></rss>");
    assert_string_equal(F.items[0].summary, "One two three & four");
}

static void
test_nfc(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><item><title>Vuc\xcc\x8c" "ic\xcc\x81 "
              "Vuc&#x30C;ic&#x301;</title></item></channel></rss>");
    assert_string_equal(F.items[0].title, "Vučić Vučić");
}

/* ---- links and ids ---- */

static void
test_links_resolve_against_feed_link_then_base(void **state)
{
    UNUSED(state);
    const char *doc = "<rss version='2.0'><channel><link>https://site.example/news/</link>"
                      "<item><link>a/1</link></item><item><link>/b</link></item>"
                      "<item><link>https://abs.example/c</link></item></channel></rss>";
    parse_str(doc);
    assert_string_equal(F.items[0].link, "https://site.example/news/a/1");
    assert_string_equal(F.items[1].link, "https://site.example/b");
    assert_string_equal(F.items[2].link, "https://abs.example/c");
    feed_free(&F);
    /* a fragment alone stays on the page it names */
    parse_str("<rss version='2.0'><channel><link>https://ex.org/changelog</link>"
              "<item><link>#v2</link></item></channel></rss>");
    assert_string_equal(F.items[0].link, "https://ex.org/changelog#v2");
    feed_free(&F);
    /* no feed link: the URL the feed came from */
    const char *doc2 = "<rss version='2.0'><channel><item><link>x/2</link></item></channel></rss>";
    feed_options opt = {.base_url = "http://from.example/feeds/rss.xml"};
    feed_parse(doc2, strlen(doc2), &opt, &F);
    assert_string_equal(F.items[0].link, "http://from.example/feeds/x/2");
    assert_string_equal(F.items[0].id, "http://from.example/feeds/x/2");
}

/* Only http(s) links reach rules and webhooks: a javascript: link in a
 * Slack or Matrix message is a click away from running script. */
static void
test_links_only_http(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><title>t</title><link>https://s.example/</link>"
              "<item><title>js</title><link>javascript:alert(document.cookie)</link></item>"
              "<item><title>JS</title><link> JavaScript:alert(1)</link><guid>g2</guid></item>"
              "<item><title>data</title><link>data:text/html,&lt;script&gt;x&lt;/script&gt;</link>"
              "<guid>g3</guid></item>"
              "<item><title>vb</title><link>vbscript:msgbox(1)</link><guid>g4</guid></item>"
              "<item><title>ok</title><link>HTTPS://s.example/ok</link><guid>g5</guid></item>"
              "</channel></rss>");
    assert_int_equal(F.nitems, 5);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(F.items[i].link, "");
    assert_string_equal(F.items[4].link, "HTTPS://s.example/ok");
    /* the id an item without a guid had is kept: no upgrade re-alerts it */
    assert_string_equal(F.items[0].id, "javascript:alert(document.cookie)");
    assert_true(F.wellformed);
    assert_true(has_error("a link that is not http or https was left out (javascript:)"));
    assert_true(has_error("(JavaScript:)"));
    assert_true(has_error("(data:)"));
    assert_true(has_error("(vbscript:)"));
    feed_free(&F);
    /* Atom and JSON Feed alike, and the feed's own link */
    parse_str("<feed xmlns='http://www.w3.org/2005/Atom'><link href='javascript:x()'/>"
              "<entry><id>1</id><link href='vbscript:y'/></entry></feed>");
    assert_string_equal(F.link, "");
    assert_string_equal(F.items[0].link, "");
    feed_free(&F);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\","
              "\"home_page_url\":\"javascript:x()\",\"items\":["
              "{\"id\":\"1\",\"url\":\"javascript:y()\"}]}");
    assert_string_equal(F.link, "");
    assert_string_equal(F.items[0].link, "");
    feed_free(&F);
    /* a relative link nothing resolves is no link either */
    parse_str("<rss version='2.0'><channel><item><guid>1</guid><link>a/1</link>"
              "</item></channel></rss>");
    assert_string_equal(F.items[0].link, "");
    assert_true(has_error("a relative link with no base to resolve it against was left out"));
}

/* A guid that is a permalink (isPermaLink absent or "true") is the link
 * of an item that gives none, resolved like one. */
static void
test_permalink_guid_is_the_link(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
              "<channel><title>t</title><link>https://site.example/news/</link>"
              "<item><title>1</title><guid>/2024/09/post-1</guid></item>"
              "<item><title>2</title><guid isPermaLink='true'>post-2</guid></item>"
              "<item><title>3</title><guid isPermaLink='False'>/2024/09/post-3</guid></item>"
              "<item><title>4</title><guid>12345</guid></item>"
              "<item><title>5</title><guid>tag:site.example,2024:5</guid></item>"
              "<item><title>6</title><guid>/a/6</guid><link>https://site.example/six</link></item>"
              "<item><title>7</title><link>https://site.example/news/7</link>"
              "<content:encoded><![CDATA[<p><a href=\"/2024/08/older\">older</a> "
              "<img src=\"img/chart.png\"></p>]]></content:encoded><guid>g7</guid></item>"
              "</channel></rss>");
    assert_int_equal(F.nitems, 7);
    assert_string_equal(F.items[0].link, "https://site.example/2024/09/post-1");
    assert_string_equal(F.items[0].id, "/2024/09/post-1"); /* the id as given */
    assert_string_equal(F.items[1].link, "https://site.example/news/post-2");
    assert_string_equal(F.items[2].link, ""); /* not a permalink */
    /* without isPermaLink, a bare "12345" is an id that only looks like a
     * relative path: many feeds leave the attribute out */
    assert_string_equal(F.items[3].link, "");
    assert_string_equal(F.items[4].link, "");
    assert_string_equal(F.items[5].link, "https://site.example/six");
    /* relative URLs inside HTML content are left as they are */
    assert_non_null(strstr(F.items[6].content, "href=\"/2024/08/older\""));
    assert_non_null(strstr(F.items[6].content, "src=\"img/chart.png\""));
    assert_int_equal(F.nerrors, 0);
}

/* RFC 3986 section 5.4.1, every normal example. */
static void
test_url_resolve_rfc3986_examples(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"g:h", "g:h"}, {"g", "http://a/b/c/g"}, {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"}, {"/g", "http://a/g"}, {"//g", "http://g/"},
        {"?y", "http://a/b/c/d;p?y"}, {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"}, {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"}, {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"}, {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {".", "http://a/b/c/"}, {"./", "http://a/b/c/"}, {"..", "http://a/b/"},
        {"../", "http://a/b/"}, {"../g", "http://a/b/g"}, {"../..", "http://a/"},
        {"../../", "http://a/"}, {"../../g", "http://a/g"},
    };
    arena a = {0};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = url_resolve(&a, "http://a/b/c/d;p?q", cases[i][0]);
        if (strcmp(got, cases[i][1]) != 0)
            fail_msg("'%s': got '%s', want '%s'", cases[i][0], got, cases[i][1]);
    }
    /* a base with a fragment of its own */
    assert_string_equal(url_resolve(&a, "https://ex.org/log?v=1#top", "#v2"),
                        "https://ex.org/log?v=1#v2");
    arena_free(&a);
}

static void
test_nested_xml_base(void **state)
{
    UNUSED(state);
    const char *doc = "<feed xmlns='http://www.w3.org/2005/Atom' xml:base='http://a.example/x/'>"
                      "<link href='http://home.example/'/>"
                      "<entry xml:base='y/'><id>1</id><link href='z'/></entry>"
                      "<entry xml:base='/root/'><id>2</id><link xml:base='deep/' href='w'/></entry>"
                      "</feed>";
    feed_options opt = {.base_url = "http://ignored.example/"};
    feed_parse(doc, strlen(doc), &opt, &F);
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].link, "http://a.example/x/y/z");
    assert_string_equal(F.items[1].link, "http://a.example/root/deep/w");
}

static void
test_ids_never_empty(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel>"
              "<item><guid>g1</guid><link>http://l/1</link></item>"
              "<item><guid>  </guid><link>http://l/2</link></item>"
              "<item><title>t</title></item><item/>"
              "<item><guid>http://perma/3</guid></item>"
              "</channel></rss>");
    assert_int_equal(F.nitems, 5);
    assert_string_equal(F.items[0].id, "g1");
    assert_string_equal(F.items[1].id, "http://l/2");
    assert_true(strlen(F.items[2].id) > 10);
    assert_true(strlen(F.items[3].id) > 10);
    assert_string_not_equal(F.items[2].id, F.items[3].id);
    /* a permalink guid is also the link when there is none */
    assert_string_equal(F.items[4].link, "http://perma/3");
}

/* ---- ids unique within a document ---- */

/* The item titled `title`, which must be there once. */
static const feed_item *
item_titled(const char *title)
{
    const feed_item *found = NULL;
    for (size_t i = 0; i < F.nitems; i++) {
        if (strcmp(F.items[i].title, title)) continue;
        if (found) fail_msg("two items titled '%s'", title);
        found = &F.items[i];
    }
    if (!found) fail_msg("no item titled '%s'", title);
    return found;
}

/* id is base + "#vigie-" + 16 lowercase hex digits. */
static void
assert_told_apart(const char *id, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(id, base, n) || strncmp(id + n, "#vigie-", 7) ||
        strlen(id + n + 7) != 16 || strspn(id + n + 7, "0123456789abcdef") != 16)
        fail_msg("id '%s' is not '%s#vigie-<16 hex>'", id, base);
}

static void
assert_ids_unique(void)
{
    for (size_t i = 0; i < F.nitems; i++)
        for (size_t j = i + 1; j < F.nitems; j++)
            if (!strcmp(F.items[i].id, F.items[j].id))
                fail_msg("items %zu and %zu share the id '%s'", i, j, F.items[i].id);
}

#define RSS_HEAD "<rss version='2.0'><channel><title>t</title><link>https://s.example/</link>"
#define RSS_TAIL "</channel></rss>"

/* A status page: no guid, every item links to the page itself. */
static void
test_ids_shared_link_told_apart(void **state)
{
    UNUSED(state);
    parse_str(RSS_HEAD
              "<item><title>Major outage</title><link>https://s.example/incidents</link>"
              "<description>Investigating a full outage</description></item>"
              "<item><title>Degraded performance</title><link>https://s.example/incidents</link>"
              "<description>Investigating</description></item>" RSS_TAIL);
    assert_int_equal(F.nitems, 2);
    assert_told_apart(F.items[0].id, "https://s.example/incidents");
    assert_told_apart(F.items[1].id, "https://s.example/incidents");
    assert_ids_unique();
    /* the link itself is untouched */
    assert_string_equal(F.items[0].link, "https://s.example/incidents");
    assert_true(F.wellformed);
    assert_true(has_error("2 items shared an id; told apart by their content"));
}

/* Hourly bulletins: same title, no link, no guid; only the enclosure and
 * the date differ. */
static void
test_ids_bulletins_told_apart_by_enclosure(void **state)
{
    UNUSED(state);
    parse_str(RSS_HEAD
              "<item><title>Hourly news</title>"
              "<enclosure url='https://cdn.example/1500.mp3' type='audio/mpeg'/></item>"
              "<item><title>Hourly news</title>"
              "<enclosure url='https://cdn.example/1400.mp3' type='audio/mpeg'/></item>"
              "<item><title>Hourly news</title><pubDate>Tue, 03 Sep 2024 13:00:00 GMT</pubDate>"
              "<enclosure url='https://cdn.example/1400.mp3' type='audio/mpeg'/></item>"
              RSS_TAIL);
    assert_int_equal(F.nitems, 3);
    assert_ids_unique();
    assert_true(!strncmp(F.items[0].id, "urn:vigie:", 10));
    const char *hash_id = "urn:vigie:0123456789abcdef";
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(strlen(F.items[i].id), strlen(hash_id) + 7 + 16);
    assert_true(has_error("3 items shared an id"));
}

/* Podcast episodes with neither title nor description (the text is in
 * tags vigie does not read), nor guid, nor link. */
static void
test_ids_empty_podcast_items_told_apart(void **state)
{
    UNUSED(state);
    parse_str(RSS_HEAD
              "<item><enclosure url='https://cdn.example/ep2.mp3'/>"
              "<pubDate>Tue, 03 Sep 2024 15:00:00 GMT</pubDate></item>"
              "<item><enclosure url='https://cdn.example/ep1.mp3'/>"
              "<pubDate>Mon, 02 Sep 2024 15:00:00 GMT</pubDate></item>"
              "<item><enclosure url='https://cdn.example/ep0.mp3'/></item>" RSS_TAIL);
    assert_int_equal(F.nitems, 3);
    assert_ids_unique();
    for (size_t i = 0; i < 3; i++) assert_true(*F.items[i].id);
}

/* A CMS that gives every story the same guid: both stories are kept,
 * each under an id of its own. */
static void
test_ids_repeated_guid_different_stories(void **state)
{
    UNUSED(state);
    parse_str(RSS_HEAD
              "<item><title>Kosovo border closed</title><link>https://n.example/a/1</link>"
              "<guid isPermaLink='false'>post</guid></item>"
              "<item><title>Vučić meets Kurti</title><link>https://n.example/a/2</link>"
              "<guid isPermaLink='false'>post</guid></item>"
              "<item><title>Unrelated</title><guid isPermaLink='false'>other</guid></item>"
              RSS_TAIL);
    assert_int_equal(F.nitems, 3);
    assert_told_apart(item_titled("Kosovo border closed")->id, "post");
    assert_told_apart(item_titled("Vučić meets Kurti")->id, "post");
    /* an item whose id is its own keeps it as it is */
    assert_string_equal(item_titled("Unrelated")->id, "other");
    assert_ids_unique();
    assert_true(has_error("2 items shared an id; told apart by their content"));
}

/* The same entry listed twice is one item, under its own id, without a
 * word in errors; a third, different one sharing the id is told apart
 * and the twins stay one. */
static void
test_ids_same_entry_twice_is_one_item(void **state)
{
    UNUSED(state);
#define ENTRY_A "<item><title>A</title><link>https://n.example/a</link><guid>g</guid>" \
                "<description>Text</description>"                                    \
                "<pubDate>Tue, 03 Sep 2024 15:00:00 GMT</pubDate></item>"
    parse_str(RSS_HEAD ENTRY_A "<item><title>B</title><guid>h</guid></item>" ENTRY_A RSS_TAIL);
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].id, "g");
    assert_string_equal(F.items[0].title, "A");
    assert_string_equal(F.items[1].id, "h");
    assert_int_equal(F.nerrors, 0);
    feed_free(&F);
    parse_str(RSS_HEAD ENTRY_A ENTRY_A
              "<item><title>C</title><link>https://n.example/c</link><guid>g</guid></item>"
              RSS_TAIL);
    assert_int_equal(F.nitems, 2);
    assert_told_apart(item_titled("A")->id, "g");
    assert_told_apart(item_titled("C")->id, "g");
    assert_ids_unique();
#undef ENTRY_A
}

/* The ids a document's items get: items[i] is titled titles[i]. */
static void
ids_of(const char *doc, const char *const *titles, size_t n, char ids[][64])
{
    parse_str(doc);
    assert_int_equal(F.nitems, n);
    for (size_t i = 0; i < n; i++) {
        const char *id = item_titled(titles[i])->id;
        assert_true(strlen(id) < 64);
        strcpy(ids[i], id);
    }
    feed_free(&F);
}

/* What tells items apart is their own content: the order of the items
 * and a sibling added or gone do not change an item's id, or a story
 * seen at one poll would alert again at the next. */
static void
test_ids_stable_across_polls(void **state)
{
    UNUSED(state);
#define ITEM(t) "<item><title>" t "</title><link>https://s.example/incidents</link></item>"
    static const char *const t[] = {"one", "two", "three"};
    char first[2][64], reordered[2][64], more[3][64];
    ids_of(RSS_HEAD ITEM("one") ITEM("two") RSS_TAIL, t, 2, first);
    ids_of(RSS_HEAD ITEM("two") ITEM("one") RSS_TAIL, t, 2, reordered);
    ids_of(RSS_HEAD ITEM("three") ITEM("one") ITEM("two") RSS_TAIL, t, 3, more);
    assert_string_not_equal(first[0], first[1]);
    assert_string_equal(first[0], reordered[0]);
    assert_string_equal(first[1], reordered[1]);
    assert_string_equal(first[0], more[0]);
    assert_string_equal(first[1], more[1]);
    /* no item keeps the shared id: a new sibling must not inherit the id
     * an old item had when it was alone */
    for (size_t i = 0; i < 3; i++) assert_told_apart(more[i], "https://s.example/incidents");
    /* alone, an item keeps the id it always had */
    parse_str(RSS_HEAD ITEM("one") RSS_TAIL);
    assert_string_equal(F.items[0].id, "https://s.example/incidents");
    assert_int_equal(F.nerrors, 0);
#undef ITEM
}

/* A status page showing one incident at a time, each item linking to the
 * page the feed itself names: the link is no id, or each new incident
 * would be an edit of the last one and never alert. */
static void
test_page_link_is_no_id(void **state)
{
    UNUSED(state);
#define ITEM(t) "<item><title>" t "</title><link>https://s.example/</link></item>"
    static const char *const t[] = {"Major outage", "Resolved"};
    char a[1][64], b[1][64], again[1][64];
    ids_of(RSS_HEAD ITEM("Major outage") RSS_TAIL, t, 1, a);
    ids_of(RSS_HEAD ITEM("Resolved") RSS_TAIL, t + 1, 1, b);
    ids_of(RSS_HEAD ITEM("Major outage") RSS_TAIL, t, 1, again);
    assert_told_apart(a[0], "https://s.example/");
    assert_told_apart(b[0], "https://s.example/");
    assert_string_not_equal(a[0], b[0]);
    assert_string_equal(a[0], again[0]); /* stable from poll to poll */
    parse_str(RSS_HEAD ITEM("Major outage") RSS_TAIL);
    assert_string_equal(F.items[0].link, "https://s.example/");
    assert_int_equal(F.nerrors, 0);
    feed_free(&F);
    /* a guid, or a link of its own, is still the id */
    parse_str(RSS_HEAD "<item><title>x</title><guid>g1</guid>"
              "<link>https://s.example/</link></item>"
              "<item><title>y</title><link>https://s.example/y</link></item>" RSS_TAIL);
    assert_string_equal(F.items[0].id, "g1");
    assert_string_equal(F.items[1].id, "https://s.example/y");
#undef ITEM
}

/* Enclosures are links as well: http(s) only. */
static void
test_enclosure_links_web_only(void **state)
{
    UNUSED(state);
    parse_str(RSS_HEAD "<item><title>x</title><guid>g</guid>"
              "<enclosure url='javascript:alert(1)' type='audio/mpeg'/>"
              "<enclosure url='data:audio/mpeg;base64,AAAA'/>"
              "<enclosure url='/ep1.mp3' type='audio/mpeg' length='12'/>"
              "</item>" RSS_TAIL);
    assert_int_equal(F.nitems, 1);
    assert_int_equal(F.items[0].nenclosures, 1);
    assert_string_equal(F.items[0].enclosures[0].url, "https://s.example/ep1.mp3");
    assert_true(has_error("a link that is not http or https was left out (javascript:)"));
    assert_true(has_error("a link that is not http or https was left out (data:)"));
}

/* JSON Feed items go through the same pass. */
static void
test_ids_unique_in_jsonfeed(void **state)
{
    UNUSED(state);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":["
              "{\"id\":\"1\",\"title\":\"a\"},{\"id\":\"1\",\"title\":\"b\"}]}");
    assert_int_equal(F.nitems, 2);
    assert_told_apart(F.items[0].id, "1");
    assert_told_apart(F.items[1].id, "1");
    assert_ids_unique();
}

/* ---- encodings ---- */

static void
test_encoding_latin1(void **state)
{
    UNUSED(state);
    parse_file("latin1.xml");
    assert_string_equal(F.title, "Actualités");
    /* windows-1252 bytes in a document declared ISO-8859-1 are repaired */
    assert_string_equal(F.items[0].title, "Café crème ’s «guillemets» – fin");
}

static void
test_encoding_declared_latin1_but_utf8(void **state)
{
    UNUSED(state);
    parse_file("declared-latin1-is-utf8.xml");
    assert_string_equal(F.items[0].title, "Vučić à Belgrade");
}

static void
test_encoding_cp1252_bytes_in_utf8(void **state)
{
    UNUSED(state);
    parse_file("cp1252-in-utf8.xml");
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "l’OTAN « cité » – Vučić");
}

static void
test_encoding_utf16_boms(void **state)
{
    UNUSED(state);
    parse_file("utf16le-bom.xml");
    assert_string_equal(F.title, "UTF-16 Été");
    assert_string_equal(F.items[0].title, "Ђурић Đurić");
    feed_free(&F);
    parse_file("utf16be-bom.xml");
    assert_string_equal(F.items[0].title, "Ђурић Đurić");
    feed_free(&F);
    parse_file("utf8-bom.xml");
    assert_string_equal(F.title, "BOM Été");
}

/* No BOM, and blank lines before the first '<': the NULs alternating with
 * ASCII still say UTF-16, as they do without the blank lines. */
static void
test_encoding_utf16_no_bom_leading_whitespace(void **state)
{
    UNUSED(state);
    parse_file("utf16le-nobom-leading-ws.xml");
    assert_true(F.wellformed);
    assert_int_equal(F.nerrors, 0);
    assert_string_equal(F.title, "Ελλάδα 東京 😀 Vučić");
    assert_string_equal(F.items[0].title, "Ђурић Đurić");
    feed_free(&F);
    parse_file("utf16be-nobom-leading-ws.xml");
    assert_true(F.wellformed);
    assert_int_equal(F.nerrors, 0);
    assert_string_equal(F.items[0].title, "Ђурић Đurić");
}

static void
test_encoding_windows1250_declared(void **state)
{
    UNUSED(state);
    parse_file("windows-1250.xml");
    assert_string_equal(F.items[0].title, "Vučić i Đurić, Šabac, Žepa");
}

static void
test_encoding_http_charset_hint(void **state)
{
    UNUSED(state);
    /* no declaration, not UTF-8: the caller's charset decides */
    const char doc[] = "<rss version='2.0'><channel><title>\xe8\xe6</title></channel></rss>";
    feed_options opt = {.charset = "windows-1250"};
    feed_parse(doc, sizeof doc - 1, &opt, &F);
    assert_string_equal(F.title, "čć");
    assert_int_equal(F.nerrors, 0);
    feed_free(&F);
    /* declared UTF-8 but not: the caller's charset still decides, and the
     * errors say the declaration was overruled */
    const char decl[] = "<?xml version='1.0' encoding='utf-8'?><rss "
                        "version='2.0'><channel><title>\xe8\xe6</title>"
                        "</channel></rss>";
    feed_parse(decl, sizeof decl - 1, &opt, &F);
    assert_string_equal(F.title, "čć");
    assert_true(F.wellformed);
    assert_true(has_error("not UTF-8 as declared: read as windows-1250"));
    feed_free(&F);
    /* and without one, the windows-1252 guess is named */
    feed_parse(decl, sizeof decl - 1, NULL, &F);
    assert_string_equal(F.title, "èæ");
    assert_true(has_error("read as windows-1252"));
}

static void
test_invalid_utf8_repaired(void **state)
{
    UNUSED(state);
    parse_file("invalid-utf8.xml");
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "Vučić broken \xef\xbf\xbd here \xef\xbf\xbd end à");
    assert_string_equal(F.title, "Vučić été");
    assert_true(has_error("repaired"));
}

static void
test_forbidden_control_chars_do_not_abort(void **state)
{
    UNUSED(state);
    parse_file("control-chars.xml");
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].title, "escape and bell and nul kept");
    assert_string_equal(F.items[0].summary, "after");
    assert_string_equal(F.items[1].title, "next");
}

/* ---- recovery ---- */

static void
test_recovery_keeps_items(void **state)
{
    UNUSED(state);
    parse_file("broken.xml");
    assert_int_equal(F.format, FEED_RSS20);
    assert_false(F.wellformed);
    assert_true(F.nerrors > 0);
    assert_int_equal(F.nitems, 3);
    assert_string_equal(F.items[0].title, "first unclosed");
    assert_string_equal(F.items[0].link, "http://e.com/1");
    assert_string_equal(F.items[1].link, "http://e.com/2");
    assert_string_equal(F.items[2].title, "third é");
    assert_true(has_error("after the root"));
}

static void
test_undefined_entity_kept_literally(void **state)
{
    UNUSED(state);
    parse_file("undefined-entity.xml");
    assert_false(F.wellformed);
    assert_true(has_error("&bogus;"));
    assert_string_equal(F.items[0].title, "before &bogus; after");
}

static void
test_truncated_document(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><title>Chan</title>"
              "<item><title>one</title></item>"
              "<item><title>two</title><link>http://x/2</li");
    assert_false(F.wellformed);
    /* the item the document ends in is left out: half an item marked
     * seen would never alert whole */
    assert_int_equal(F.nitems, 1);
    assert_string_equal(F.items[0].title, "one");
    assert_string_equal(F.title, "Chan");
    assert_true(has_error("the document ends inside an item"));
    feed_free(&F);
    /* items all closed, the end tags of the channel missing: nothing lost */
    parse_str("<rss version='2.0'><channel><item><title>one</title></item>"
              "<item><title>two</title></item>");
    assert_int_equal(F.nitems, 2);
    assert_false(has_error("ends inside an item"));
}

/* Atom and JSON Feed entries without an author have the feed's (wherever
 * the feed's author comes in the document); RSS items do not. */
static void
test_author_inherited_from_feed(void **state)
{
    UNUSED(state);
    parse_str("<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
              "<entry><id>1</id></entry>"
              "<author><name>Feed Author</name></author>"
              "<entry><id>2</id><author><name>Own</name></author></entry></feed>");
    assert_string_equal(F.items[0].author, "Feed Author");
    assert_string_equal(F.items[1].author, "Own");
    feed_free(&F);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\","
              "\"authors\":[{\"name\":\"JF\"}],\"items\":[{\"id\":\"1\"}]}");
    assert_string_equal(F.items[0].author, "JF");
    feed_free(&F);
    parse_str("<rss version='2.0'><channel><managingEditor>ed@x</managingEditor>"
              "<item><guid>1</guid></item></channel></rss>");
    assert_string_equal(F.items[0].author, "");
}

/* Several authors are all kept, joined with ", " in document order, each
 * once; a better source (dc:creator over RSS author, an Atom name over an
 * email) still replaces a worse one. */
static void
test_several_authors_joined(void **state)
{
    UNUSED(state);
    parse_str("<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>"
              "<author><name>F1</name></author><author><name>F2</name></author>"
              "<entry><id>1</id><author><name>Alice Martin</name></author>"
              "<author><email>b@x</email></author>"
              "<author><name>Boris Ruge</name></author>"
              "<author><name>Alice Martin</name></author></entry>"
              "<entry><id>2</id></entry></feed>");
    assert_string_equal(F.author, "F1, F2");
    assert_string_equal(F.items[0].author, "Alice Martin, Boris Ruge");
    assert_string_equal(F.items[1].author, "F1, F2");
    feed_free(&F);
    parse_str("<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
              "<channel><item><guid>1</guid><author>x@y (X)</author>"
              "<dc:creator></dc:creator><dc:creator>Smith, A.</dc:creator>"
              "<author>z@y (Z)</author><dc:creator>Jones, B.</dc:creator>"
              "</item><item><guid>2</guid><author>x@y (X)</author>"
              "<author>z@y (Z)</author></item></channel></rss>");
    assert_string_equal(F.items[0].author, "Smith, A., Jones, B.");
    assert_string_equal(F.items[1].author, "x@y (X), z@y (Z)");
    feed_free(&F);
    parse_str("{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"T\","
              "\"items\":[{\"id\":\"1\",\"authors\":[{\"name\":\"A\"},"
              "{\"url\":\"https://b.example/\"},{\"name\":\"C\"}]}]}");
    assert_string_equal(F.items[0].author, "A, C");
}

/* A list of authors is bounded in names and in bytes, and says so. */
static void
test_author_list_bounded(void **state)
{
    UNUSED(state);
    buf b = {0};
    buf_adds(&b, "<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
                 "<channel><item><guid>1</guid>");
    for (int i = 0; i < 1000; i++) buf_printf(&b, "<dc:creator>A%d</dc:creator>", i);
    buf_adds(&b, "</item><item><guid>2</guid><dc:creator>");
    for (int i = 0; i < 100; i++) buf_adds(&b, "x");
    buf_adds(&b, "</dc:creator><dc:creator>");
    for (int i = 0; i < 100; i++) buf_adds(&b, "y");
    buf_adds(&b, "</dc:creator></item></channel></rss>");
    feed_options opt = {.limits = {.max_field = 150}};
    feed_parse(b.p, b.len, &opt, &F);
    assert_int_equal(F.nitems, 2);
    /* 150 bytes: "A0, A1, ..., A37" */
    assert_true(strlen(F.items[0].author) <= 150);
    assert_non_null(strstr(F.items[0].author, "A0, A1, A2"));
    assert_string_equal(F.items[1].author,
                        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_true(has_error("the rest were left out"));
    feed_free(&F);
    feed_parse(b.p, b.len, NULL, &F);
    size_t commas = 0;
    for (const char *c = F.items[0].author; (c = strstr(c, ", ")); c++) commas++;
    assert_int_equal(commas + 1, 128);
    assert_true(has_error("more than 128 authors"));
    buf_free(&b);
}

/* '&' that starts no reference: libxml2's recovery drops text after it;
 * the document is read again with them escaped. */
static void
test_stray_ampersands(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><title>AT&T news</title>"
              "<link>http://x/?a=1&b=2</link>"
              "<item><title>two & three</title>"
              "<description>Q&amp;A x&y=1 &eacute; &#233; &#xE9;</description></item>"
              "<item><title><![CDATA[R&D &amp; co]]></title>"
              "<!-- a & b --></item></channel></rss>");
    assert_false(F.wellformed);
    assert_true(has_error("4 '&' that start no entity read as text"));
    assert_string_equal(F.title, "AT&T news");
    assert_string_equal(F.link, "http://x/?a=1&b=2");
    assert_int_equal(F.nitems, 2);
    assert_string_equal(F.items[0].title, "two & three");
    assert_string_equal(F.items[0].summary, "Q&A x&y=1 é é é");
    /* CDATA is copied as it is (escaped, "R&D" would read "R&amp;D") */
    assert_string_equal(F.items[1].title, "R&D & co");
    feed_free(&F);
    /* the escaped copy stays within the input cap: a document of '&'s
     * keeps its first reading and says why */
    char amps[3000];
    int len = snprintf(amps, sizeof amps, "<rss version='2.0'><channel><title>");
    memset(amps + len, '&', 2000);
    snprintf(amps + len + 2000, sizeof amps - (size_t)len - 2000,
             "</title></channel></rss>");
    feed_options small = {.limits = {.max_input = 4000}};
    feed_parse(amps, strlen(amps), &small, &F);
    assert_true(has_error("too many '&' that start no entity"));
    feed_free(&F);
    /* a well-formed document is not copied, nor noted */
    parse_str("<rss version='2.0'><channel><title>A &amp; B</title></channel></rss>");
    assert_true(F.wellformed);
    assert_int_equal(F.nerrors, 0);
}

/* ---- not feeds ---- */

static void
test_not_feeds(void **state)
{
    UNUSED(state);
    const char *files[] = {"html-page.html", "empty.xml", "binary.bin",
                           "json-not-feed.json"};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        parse_file(files[i]);
        assert_int_equal(F.format, FEED_UNKNOWN);
        assert_false(feed_is_feed(&F));
        assert_false(F.wellformed);
        assert_int_equal(F.nitems, 0);
        assert_true(F.nerrors >= 1);
        assert_non_null(strstr(F.errors[0], "not a feed"));
        feed_free(&F);
    }
    parse_file("html-page.html");
    assert_true(has_error("<html>"));
}

/* ---- hostile input ---- */

static void
test_billion_laughs_refused(void **state)
{
    UNUSED(state);
    parse_file("billion-laughs.xml");
    assert_false(feed_is_feed(&F));
    assert_true(has_error("entity declarations are not allowed"));
    assert_true(F.mem.total < (1u << 20));
}

static void
test_quadratic_blowup_refused(void **state)
{
    UNUSED(state);
    parse_file("quadratic-blowup.xml");
    assert_false(feed_is_feed(&F));
    assert_true(has_error("entity declarations are not allowed"));
    assert_true(F.mem.total < (1u << 20));
}

static void
test_xxe_local_file_never_read(void **state)
{
    UNUSED(state);
    char *secret = NULL;
    buf host = {0};
    if (read_file("/etc/hostname", 4096, &host) == 0) secret = buf_detach(&host);
    parse_file("xxe-file.xml");
    assert_true(has_error("entity declarations are not allowed"));
    buf out = {0};
    feed_write_json(&out, &F);
    if (secret && strlen(secret) > 2) {
        secret[strcspn(secret, "\n")] = '\0';
        assert_null(strstr(out.p, secret));
    }
    buf_free(&out);
    free(secret);
    feed_free(&F);
    parse_file("xxe-parameter.xml");
    assert_true(has_error("entity declarations are not allowed"));
}

static void
test_deep_nesting_bounded(void **state)
{
    UNUSED(state);
    buf b = {0};
    buf_adds(&b, "<rss version='2.0'><channel><item><title>ok</title></item>");
    for (int i = 0; i < 100000; i++) buf_adds(&b, "<a>");
    feed_parse(b.p, b.len, NULL, &F);
    assert_true(has_error("nested deeper than"));
    assert_false(F.wellformed);
    assert_int_equal(F.nitems, 1); /* what came before is kept */
    buf_free(&b);
}

static void
test_huge_text_node_bounded(void **state)
{
    UNUSED(state);
    size_t big = 50u << 20;
    buf b = {0};
    buf_adds(&b, "<rss version='2.0'><channel><item><title>");
    buf_grow(&b, big);
    memset(b.p + b.len, 'x', big);
    b.len += big;
    buf_adds(&b, "</title></item></channel></rss>");
    feed_options opt = {.limits = {.max_input = 64u << 20}};
    feed_parse(b.p, b.len, &opt, &F);
    assert_int_equal(F.nitems, 1);
    assert_true(strlen(F.items[0].title) <= (1u << 20));
    assert_true(has_error("was cut"));
    buf_free(&b);
}

static void
test_input_over_cap_refused(void **state)
{
    UNUSED(state);
    size_t cap = 16u << 20;
    char *p = xmalloc(cap + 1);
    memset(p, ' ', cap + 1);
    memcpy(p, "<rss>", 5);
    feed_parse(p, cap + 1, NULL, &F);
    assert_false(feed_is_feed(&F));
    assert_true(has_error("over 16777216 bytes"));
    free(p);
}

static void
test_item_cap(void **state)
{
    UNUSED(state);
    buf b = {0};
    buf_adds(&b, "<rss version='2.0'><channel>");
    for (int i = 0; i < 50; i++) buf_printf(&b, "<item><guid>%d</guid></item>", i);
    buf_adds(&b, "</channel></rss>");
    feed_options opt = {.limits = {.max_items = 10}};
    feed_parse(b.p, b.len, &opt, &F);
    assert_int_equal(F.nitems, 10);
    assert_true(has_error("more than 10 items"));
    buf_free(&b);
}

/* Categories (64) and enclosures (32) past the cap are left out with one
 * note per document, not silently. */
static void
test_category_and_enclosure_caps_noted(void **state)
{
    UNUSED(state);
    buf doc = {0};
    buf_adds(&doc, "<rss version='2.0'><channel><title>t</title>");
    for (int item = 0; item < 2; item++) {
        buf_printf(&doc, "<item><guid>%d</guid>", item);
        for (int i = 0; i < 70; i++) buf_printf(&doc, "<category>c%d</category>", i);
        for (int i = 0; i < 40; i++)
            buf_printf(&doc, "<enclosure url='https://x.example/%d.mp3'/>", i);
        buf_adds(&doc, "</item>");
    }
    buf_adds(&doc, "<item><guid>small</guid><category>a</category><category>a</category>"
                   "<enclosure url='https://x.example/a.mp3'/></item></channel></rss>");
    parse_str(doc.p);
    buf_free(&doc);
    assert_int_equal(F.nitems, 3);
    assert_int_equal(F.items[0].ncategories, 64);
    assert_int_equal(F.items[0].nenclosures, 32);
    assert_string_equal(F.items[0].categories[63], "c63");
    assert_true(F.wellformed);
    assert_int_equal(F.nerrors, 2); /* one note each, for both items */
    assert_true(has_error("an item with more than 64 categories: the rest were ignored"));
    assert_true(has_error("an item with more than 32 enclosures: the rest were ignored"));
    feed_free(&F);
    /* exactly at the cap, or a repeat past it, is no loss: no note */
    buf_adds(&doc, "<rss version='2.0'><channel><item><guid>1</guid>");
    for (int i = 0; i < 64; i++) buf_printf(&doc, "<category>c%d</category>", i);
    buf_adds(&doc, "<category>c0</category>");
    for (int i = 0; i < 32; i++)
        buf_printf(&doc, "<enclosure url='https://x.example/%d.mp3'/>", i);
    buf_adds(&doc, "</item></channel></rss>");
    parse_str(doc.p);
    buf_free(&doc);
    assert_int_equal(F.items[0].ncategories, 64);
    assert_int_equal(F.items[0].nenclosures, 32);
    assert_int_equal(F.nerrors, 0);
}

static void
test_json_output_shape(void **state)
{
    UNUSED(state);
    parse_str("<rss version='2.0'><channel><title>a\"b</title><item><title>x</title>"
              "</item></channel></rss>");
    buf out = {0};
    feed_write_json(&out, &F);
    assert_non_null(strstr(out.p, "{\"feed\":{\"title\":\"a\\\"b\",\"link\":\"\","));
    assert_non_null(strstr(out.p, "\"format\":\"rss2.0\",\"wellformed\":true,\"errors\":[],"));
    assert_non_null(strstr(out.p, "\"categories\":[],\"published\":null,\"updated\":null,"
                                  "\"enclosures\":[]}]}"));
    assert_non_null(strstr(out.p, "\"author\":null}"));
    buf_free(&out);
}

static void
check_utf8(const char *what, const char *s)
{
    if (s && !utf8_valid(s, strlen(s))) fail_msg("%s is not valid UTF-8", what);
}

/* Every string of a parsed feed, and its JSON, is valid UTF-8. */
static void
check_feed_utf8(const feed *f)
{
    check_utf8("feed title", f->title);
    check_utf8("feed link", f->link);
    check_utf8("feed subtitle", f->subtitle);
    check_utf8("feed language", f->language);
    check_utf8("feed author", f->author);
    for (size_t i = 0; i < f->nerrors; i++)
        check_utf8("error", f->errors[i]);
    for (size_t i = 0; i < f->nitems; i++) {
        const feed_item *it = &f->items[i];
        check_utf8("id", it->id);
        check_utf8("title", it->title);
        check_utf8("link", it->link);
        check_utf8("summary", it->summary);
        check_utf8("content", it->content);
        check_utf8("author", it->author);
        for (size_t k = 0; k < it->ncategories; k++)
            check_utf8("category", it->categories[k]);
        for (size_t k = 0; k < it->nenclosures; k++) {
            check_utf8("enclosure url", it->enclosures[k].url);
            check_utf8("enclosure type", it->enclosures[k].type);
        }
    }
    buf out = {0};
    feed_write_json(&out, f);
    if (!utf8_valid(out.p, out.len)) fail_msg("the JSON is not valid UTF-8");
    buf_free(&out);
}

static uint64_t rng = 88172645463325252ull;
static unsigned
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

/* Field text is not checked as UTF-8 once more when it is stored
 * (feedbuild.c, fb_keep): the charset pass, libxml2 and the text functions
 * keep it valid. Feeds of every kind with invalid bytes, cut sequences,
 * controls, references and markup thrown in must never give anything
 * else, whatever the encoding the document ends up read in. */
static void
test_fields_always_valid_utf8(void **state)
{
    UNUSED(state);
    static const char *const docs[] = {
        "rss091.xml",         "atom10.xml",        "atom03.xml",
        "rss10.rdf",          "seed-fr.rss",       "latin1.xml",
        "cp1252-in-utf8.xml", "invalid-utf8.xml",  "broken.xml",
        "jsonfeed11.json",    "html-entities.xml", "utf16le-bom.xml",
        "windows-1250.xml",   "youtube.xml",       "podcast.xml"};
    /* clang-format off */
    static const char *const junk[] = {
        "\xC3", "\xE2\x80", "\xF0\x9F\x98", "\x80", "\xBF", "\xC0\xAF",
        "\xED\xA0\x80", "\xEF\xBF\xBE", "\xFF", "\x92", "\xE9 ", "\x1B",
        "&#xD800;", "&#0;", "&#1114112;", "&eacute;", "&amp;eacute;", "&bogus;",
        "<![CDATA[\xC3]]>", "<b>", "</p>", "&lt;p&gt;", "\"", "é", "e\xCC\x81",
        "’"};
    /* clang-format on */
    buf doc = {0};
    for (size_t d = 0; d < ARRAY_LEN(docs); d++) {
        char path[512];
        snprintf(path, sizeof path, "%s/feeds/%s", fixture_dir(), docs[d]);
        buf src = {0};
        if (read_file(path, 1 << 20, &src) != 0)
            fail_msg("cannot read %s", path);
        for (int iter = 0; iter < 300; iter++) {
            buf_reset(&doc);
            buf_add(&doc, src.p, src.len);
            for (unsigned k = 1 + rnd() % 8; k > 0; k--) {
                const char *j = junk[rnd() % ARRAY_LEN(junk)];
                size_t at = rnd() % (doc.len + 1), jl = strlen(j);
                buf_grow(&doc, jl);
                memmove(doc.p + at + jl, doc.p + at, doc.len - at);
                memcpy(doc.p + at, j, jl);
                doc.len += jl;
            }
            feed_options opt = {.limits = {.max_field = 64 + rnd() % 512}};
            feed_parse(doc.p, doc.len, rnd() & 1 ? &opt : NULL, &F);
            check_feed_utf8(&F);
            feed_free(&F);
        }
        buf_free(&src);
    }
    buf_free(&doc);
}

int
main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_rss20_full),
        T(test_rss091_with_doctype_and_html_entities),
        T(test_rss092_item_without_title),
        T(test_rss090),
        T(test_rss10),
        T(test_atom10),
        T(test_atom03),
        T(test_atom_without_namespace),
        T(test_youtube_media_group),
        T(test_media_title_and_description),
        T(test_podcast_itunes),
        T(test_itunes_precedence),
        T(test_jsonfeed),
        T(test_jsonfeed_duplicate_keys),
        T(test_jsonfeed_numbers_too_big),
        T(test_jsonfeed_lone_surrogates),
        T(test_jsonfeed_nul_escapes),
        T(test_enclosure_length_strict),
        T(test_format_from_content_not_name),
        T(test_seed_press_release_exact),
        T(test_html_stripping_and_entities),
        T(test_inline_vs_block_elements),
        T(test_whitespace_collapsed_and_cdata),
        T(test_unescaped_xhtml_in_description),
        T(test_nfc),
        T(test_links_resolve_against_feed_link_then_base),
        T(test_links_only_http),
        T(test_permalink_guid_is_the_link),
        T(test_url_resolve_rfc3986_examples),
        T(test_nested_xml_base),
        T(test_ids_never_empty),
        T(test_ids_shared_link_told_apart),
        T(test_page_link_is_no_id),
        T(test_enclosure_links_web_only),
        T(test_ids_bulletins_told_apart_by_enclosure),
        T(test_ids_empty_podcast_items_told_apart),
        T(test_ids_repeated_guid_different_stories),
        T(test_ids_same_entry_twice_is_one_item),
        T(test_ids_stable_across_polls),
        T(test_ids_unique_in_jsonfeed),
        T(test_encoding_latin1),
        T(test_encoding_declared_latin1_but_utf8),
        T(test_encoding_cp1252_bytes_in_utf8),
        T(test_encoding_utf16_boms),
        T(test_encoding_utf16_no_bom_leading_whitespace),
        T(test_encoding_windows1250_declared),
        T(test_encoding_http_charset_hint),
        T(test_invalid_utf8_repaired),
        T(test_forbidden_control_chars_do_not_abort),
        T(test_recovery_keeps_items),
        T(test_stray_ampersands),
        T(test_author_inherited_from_feed),
        T(test_several_authors_joined),
        T(test_author_list_bounded),
        T(test_undefined_entity_kept_literally),
        T(test_truncated_document),
        T(test_not_feeds),
        T(test_billion_laughs_refused),
        T(test_quadratic_blowup_refused),
        T(test_xxe_local_file_never_read),
        T(test_deep_nesting_bounded),
        T(test_huge_text_node_bounded),
        T(test_input_over_cap_refused),
        T(test_item_cap),
        T(test_category_and_enclosure_caps_noted),
        T(test_json_output_shape),
        T(test_fields_always_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
