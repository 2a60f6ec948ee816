"""`vigie parse`: one JSON line per file, exit codes, stdin, options, and
the defences that need a real process or a real server (external DTDs and
entities over HTTP must never be fetched)."""
import http.server
import json
import os
import tempfile
import threading
import unittest

from vigietest import fixture, parse_json_lines, run


class RecordingServer:
    """A local HTTP server that records every request it gets."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = b'<!ENTITY leak "LEAKED-FROM-SERVER">'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class ParseTest(unittest.TestCase):
    def test_one_line_per_file_in_order(self):
        r = run("parse", fixture("feeds/rss10.rdf"), fixture("feeds/atom10.xml"),
                fixture("feeds/jsonfeed11.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        docs = parse_json_lines(r.stdout)
        self.assertEqual([d["format"] for d in docs], ["rss1.0", "atom1.0", "jsonfeed"])
        for d in docs:
            self.assertEqual(set(d), {"feed", "format", "wellformed", "errors", "items"})
            self.assertEqual(set(d["feed"]),
                             {"title", "link", "subtitle", "language", "updated", "author"})
            for it in d["items"]:
                self.assertEqual(set(it), {"id", "title", "link", "summary", "content",
                                           "author", "categories", "published",
                                           "updated", "enclosures"})
                self.assertTrue(it["id"])

    def test_youtube_and_podcast_fields(self):
        # what YouTube keeps in media:group, podcasts in iTunes elements
        r = run("parse", fixture("feeds/youtube.xml"), fixture("feeds/podcast.xml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        yt, pod = parse_json_lines(r.stdout)
        video = yt["items"][0]
        self.assertEqual(video["title"], "Interview with Vučić")
        self.assertEqual(video["summary"],
                         "We discuss Kosovo and the Western Balkans with Boris Ruge.")
        self.assertEqual([e["type"] for e in video["enclosures"]],
                         ["application/x-shockwave-flash"])
        self.assertEqual(pod["feed"]["author"], "Jane Doe")
        self.assertEqual([(i["title"], i["author"]) for i in pod["items"]],
                         [("Ep. 41", "John Host"), ("Ep. 40: Bosnia", "Jane Doe")])
        self.assertEqual(pod["items"][0]["summary"],
                         "This week: Vučić, Kurti and the Kosovo talks.")

    def test_not_a_feed_exits_1_after_the_others(self):
        r = run("parse", fixture("feeds/html-page.html"), fixture("feeds/rss10.rdf"),
                fixture("feeds/empty.xml"))
        self.assertEqual(r.returncode, 1)
        docs = parse_json_lines(r.stdout)
        self.assertEqual(len(docs), 3)
        self.assertFalse(docs[0]["wellformed"])
        self.assertEqual(docs[0]["items"], [])
        self.assertIn("not a feed", docs[0]["errors"][0])
        self.assertEqual(docs[1]["format"], "rss1.0")
        self.assertEqual(len(docs[1]["items"]), 2)
        self.assertIn("empty", docs[2]["errors"][0])

    def test_recovered_feed_exits_0(self):
        r = run("parse", fixture("feeds/broken.xml"))
        self.assertEqual(r.returncode, 0)
        d = parse_json_lines(r.stdout)[0]
        self.assertFalse(d["wellformed"])
        self.assertEqual(len(d["items"]), 3)

    def test_stdin(self):
        with open(fixture("feeds/atom03.xml"), "rb") as f:
            r = run("parse", "-", input=f.read())
        self.assertEqual(r.returncode, 0)
        self.assertEqual(parse_json_lines(r.stdout)[0]["format"], "atom0.3")

    def test_missing_file(self):
        r = run("parse", "/nonexistent/feed.xml", fixture("feeds/rss090.rdf"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"vigie: parse: /nonexistent/feed.xml: No such file", r.stderr)
        docs = parse_json_lines(r.stdout)
        self.assertEqual(len(docs), 2)
        self.assertEqual(docs[1]["format"], "rss0.9x")

    def test_unreadable_file_with_a_non_utf8_name(self):
        r = run("parse", b"/nonexistent/no\xffsuch.xml")
        self.assertEqual(r.returncode, 1)
        d = parse_json_lines(r.stdout)[0]  # still valid UTF-8 JSON
        self.assertIn("\ufffd", d["errors"][0])

    def test_base_option(self):
        doc = b"<rss version='2.0'><channel><item><link>p/1</link></item></channel></rss>"
        r = run("parse", "--base", "https://feeds.example/x/rss", "-", input=doc)
        self.assertEqual(parse_json_lines(r.stdout)[0]["items"][0]["link"],
                         "https://feeds.example/x/p/1")

    def test_charset_option(self):
        doc = "<rss version='2.0'><channel><title>Šabac</title></channel></rss>".encode("cp1250")
        r = run("parse", "--charset", "windows-1250", "-", input=doc)
        self.assertEqual(parse_json_lines(r.stdout)[0]["feed"]["title"], "Šabac")

    def test_charset_option_over_a_wrong_utf8_declaration(self):
        """A template's encoding="UTF-8" on a windows-1251 or Shift_JIS
        body: the HTTP charset reads it, and errors say so."""
        def doc(title, enc):
            return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
                    "<channel><title>%s</title></channel></rss>" % title).encode(enc)

        for enc, cs, title in (("cp1251", "windows-1251", "Белград сегодня"),
                               ("shift_jis", "Shift_JIS", "東京で会見")):
            r = run("parse", "--charset", cs, "-", input=doc(title, enc))
            d = parse_json_lines(r.stdout)[0]
            self.assertEqual(d["feed"]["title"], title)
            self.assertTrue(d["wellformed"])
            self.assertEqual(len(d["errors"]), 1)
            self.assertIn("not UTF-8 as declared", d["errors"][0])
        # without a charset, the windows-1252 guess is named
        r = run("parse", "-", input=doc("Белград сегодня", "cp1251"))
        self.assertIn("read as windows-1252",
                      " ".join(parse_json_lines(r.stdout)[0]["errors"]))

    def test_usage_errors(self):
        self.assertEqual(run("parse").returncode, 2)
        r = run("parse", "--frobnicate", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown option", r.stderr)
        self.assertEqual(run("parse", "--help").returncode, 0)

    def test_option_without_value(self):
        for opt in ("--base", "--charset", "--max-size"):
            r = run("parse", opt)
            self.assertEqual(r.returncode, 2, opt)
            self.assertIn(("parse: %s needs a value" % opt).encode(), r.stderr)
            self.assertNotIn(b"unknown option", r.stderr)

    def test_max_size_option(self):
        doc = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
        r = run("parse", "--max-size", "1KiB", "-", input=doc)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run("parse", "--max-size", "20", "-", input=doc)
        self.assertEqual(r.returncode, 1)
        self.assertIn("input over 20 bytes", parse_json_lines(r.stdout)[0]["errors"][0])

    def test_max_size_refused(self):
        # as the config's max_body: a size from 1 byte to 1GiB
        for bad in ("-5", "18446744073709551617", "abc", "0", "2GiB", "1,5", ""):
            r = run("parse", "--max-size", bad, fixture("feeds/rss090.rdf"))
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(b"parse: --max-size", r.stderr)
            self.assertEqual(r.stdout, b"", bad)

    def test_input_over_cap(self):
        with tempfile.NamedTemporaryFile(suffix=".xml") as f:
            f.write(b"<rss version='2.0'><channel>" + b" " * (16 << 20))
            f.flush()
            r = run("parse", f.name)
        self.assertEqual(r.returncode, 1)
        d = parse_json_lines(r.stdout)[0]
        self.assertIn("over 16777216 bytes", d["errors"][0])

    def test_external_dtd_and_entities_never_fetched(self):
        with RecordingServer() as srv:
            base = "http://127.0.0.1:%d" % srv.port
            docs = [
                # an external DTD: never loaded
                '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "%s/rss.dtd">'
                '<rss version="2.0"><channel><title>t &leak;</title></channel></rss>' % base,
                # an external parameter entity: refused before anything is read
                '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY %% p SYSTEM "%s/p.dtd"> %%p;]>'
                '<rss version="2.0"><channel><title>&leak;</title></channel></rss>' % base,
                # an external general entity
                '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e SYSTEM "%s/e.txt">]>'
                '<rss version="2.0"><channel><title>&e;</title></channel></rss>' % base,
            ]
            with tempfile.TemporaryDirectory() as d:
                paths = []
                for i, doc in enumerate(docs):
                    p = os.path.join(d, "x%d.xml" % i)
                    with open(p, "w") as f:
                        f.write(doc)
                    paths.append(p)
                r = run("parse", *paths)
            self.assertEqual(srv.requests, [])
        self.assertNotIn(b"LEAKED", r.stdout)
        out = parse_json_lines(r.stdout)
        self.assertEqual(out[0]["format"], "rss2.0")
        self.assertIn("entity declarations are not allowed", out[1]["errors"][0])
        self.assertIn("entity declarations are not allowed", out[2]["errors"][0])


if __name__ == "__main__":
    unittest.main()
