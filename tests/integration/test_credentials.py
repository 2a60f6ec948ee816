"""A feed URL may carry credentials (http://user:secret@host/feed). They go
in the HTTP request and nowhere else: not in the log, not in `vigie
status`, `search` or `outbox`, not in a webhook body (feed.url, feed.key,
health alerts), not in what a rule sees (item.feed.url), not in the links
of the items. Shown, the password reads "***"."""
import base64
import json
import unittest
import urllib.parse

from daemon_util import TempDir, write_config
from feedserver import FeedServer
from receiver import Receiver
from vigietest import run

SECRET = "s3cr3t"
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Members only</title>
<link>/members</link><description>d</description>
<item><title>Private news</title><link>/private/1</link><guid>p-1</guid>
<pubDate>Fri, 23 Aug 2024 13:27:00 GMT</pubDate></item>
</channel></rss>
"""
RULE = """function on_item(it)
  vigie.store(it)
  vigie.alert("hook", { text = it.title, feed_url = it.feed.url, link = it.link })
end
"""


class CredentialsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()
        cls.srv.add_feed("/feed/private", FEED.encode())
        cls.rcv = Receiver().start()
        cls.tmp = TempDir()
        with open(cls.tmp.file("rule.lua"), "w") as f:
            f.write(RULE)
        cls.cfg = cls.tmp.file("vigie.lua")
        base = "http://user:%s@127.0.0.1:%d" % (SECRET, cls.srv.port)
        cls.shown = "http://user:***@127.0.0.1:%d" % cls.srv.port
        write_config(cls.cfg, state_dir=cls.tmp.file("state"),
                     catch_up="forever", allow_private_networks=True,
                     alert_after="1ms", health="hook",
                     scripts=[cls.tmp.file("rule.lua")],
                     webhooks={"hook": {"url": cls.rcv.url("/hook")}},
                     # unnamed: the log and status name them by their URL
                     feeds=[base + "/redirect/301?to=/feed/private",
                            base + "/status/500"])
        cls.first = run("run", "-c", cls.cfg, "--once")
        cls.second = run("run", "-c", cls.cfg, "--once")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.rcv.stop()
        cls.tmp.cleanup()

    def assertHidden(self, out, what):
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        self.assertNotIn(SECRET, out, what)

    def test_sent_in_the_request(self):
        auth = "Basic " + base64.b64encode(
            ("user:" + SECRET).encode()).decode()
        reqs = self.srv.requests_to("/feed/private")
        self.assertTrue(reqs)
        for r in reqs:
            self.assertEqual(r.headers.get("authorization"), auth)

    def test_not_in_the_log(self):
        for r in (self.first, self.second):
            self.assertHidden(r.stderr, "log")
        err = self.first.stderr.decode()
        self.assertIn("feed %s/status/500: HTTP 500" % self.shown, err)
        self.assertIn("moved permanently to %s/feed/private" % self.shown, err)
        self.assertIn("health: feed %s/status/500 has been failing" % self.shown,
                      err)

    def test_not_in_webhook_bodies(self):
        posts = self.rcv.snapshot("/hook")
        self.assertEqual(sorted(p.json()["payload"].get("event", "item")
                                for p in posts), ["down", "item"])
        for p in posts:
            self.assertHidden(p.body, "webhook body")
        item = [p.json() for p in posts
                if "event" not in p.json()["payload"]][0]
        self.assertEqual(item["payload"]["feed_url"],
                         self.shown + "/feed/private")
        self.assertEqual(item["payload"]["link"], "http://127.0.0.1:%d/private/1"
                         % self.srv.port)
        self.assertEqual(item["item"]["link"], item["payload"]["link"])
        self.assertEqual(item["feed"]["key"],
                         self.shown + "/redirect/301?to=/feed/private")
        self.assertEqual(item["feed"]["url"], self.shown + "/feed/private")
        down = [p.json() for p in posts if "event" in p.json()["payload"]][0]
        self.assertEqual(down["payload"]["url"], self.shown + "/status/500")
        self.assertEqual(down["feed"]["url"], self.shown + "/status/500")

    def test_not_in_the_command_line_tools(self):
        for args in (["status"], ["status", "--json"],
                     ["search", "private"], ["search", "--json", "private"],
                     ["outbox", "list", "--all"],
                     ["outbox", "list", "--all", "--json"]):
            r = run(args[0], "-c", self.cfg, *args[1:])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertHidden(r.stdout + r.stderr, args)
            self.assertTrue(r.stdout, args)
        r = run("status", "-c", self.cfg, "--json")
        feeds = json.loads(r.stdout)["feeds"]
        self.assertEqual(sorted(f["url"] for f in feeds),
                         [self.shown + "/feed/private",
                          self.shown + "/status/500"])
        r = run("search", "-c", self.cfg, "--json", "private")
        hit = json.loads(r.stdout.splitlines()[0])
        self.assertEqual(hit["feed_url"], self.shown + "/feed/private")

    def test_not_in_vigie_fetch(self):
        url = "http://user:%s@127.0.0.1:%d/redirect/301?to=/feed/private" % (
            SECRET, self.srv.port)
        r = run("fetch", "--allow-private", url)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertHidden(r.stdout + r.stderr, "fetch")
        res = json.loads(r.stdout)
        self.assertEqual(res["url"], self.shown + "/redirect/301?to=/feed/private")
        self.assertEqual(res["permanent_redirect"], self.shown + "/feed/private")
        self.assertEqual(res["final_url"], "http://127.0.0.1:%d/feed/private"
                         % self.srv.port)

    def test_not_in_check_errors(self):
        cfg = self.tmp.file("bad.lua")
        with open(cfg, "w") as f:
            f.write('feeds = { "http://user:%s@127.0.0.1:99999/" }\n' % SECRET)
        r = run("check", "-c", cfg)
        self.assertEqual(r.returncode, 2)
        self.assertHidden(r.stderr, "check")
        self.assertIn('"http://user:***@127.0.0.1:99999/": bad port',
                      r.stderr.decode())


TOKEN = "glpat-T0K3N"


class QueryTokenTest(unittest.TestCase):
    """A token in a feed URL's query string (the usual form for private
    feeds) is a credential too: sent, and shown as "***" everywhere."""

    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()
        cls.srv.add_feed("/feed/tokened", FEED.replace("p-1", "t-1").encode())
        cls.rcv = Receiver().start()
        cls.tmp = TempDir()
        with open(cls.tmp.file("rule.lua"), "w") as f:
            f.write(RULE)
        cls.cfg = cls.tmp.file("vigie.lua")
        base = "http://127.0.0.1:%d" % cls.srv.port
        cls.ok = base + "/feed/tokened?private_token=%s&page=1" % TOKEN
        cls.ok_shown = base + "/feed/tokened?private_token=***&page=1"
        cls.bad_shown = base + "/status/500?access_token=***"
        write_config(cls.cfg, state_dir=cls.tmp.file("state"),
                     catch_up="forever", allow_private_networks=True,
                     alert_after="1ms", health="hook",
                     scripts=[cls.tmp.file("rule.lua")],
                     webhooks={"hook": {"url": cls.rcv.url("/hook")}},
                     feeds=[cls.ok, base + "/status/500?access_token=" + TOKEN])
        cls.first = run("run", "-c", cls.cfg, "--once")
        cls.second = run("run", "-c", cls.cfg, "--once")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.rcv.stop()
        cls.tmp.cleanup()

    def assertHidden(self, out, what):
        if isinstance(out, bytes):
            out = out.decode("utf-8", "replace")
        self.assertNotIn(TOKEN, out, what)

    def test_sent_in_the_request(self):
        reqs = self.srv.requests_to("/feed/tokened")
        self.assertTrue(reqs)
        for r in reqs:
            self.assertIn("private_token=" + TOKEN, r.path)

    def test_not_in_the_log(self):
        for r in (self.first, self.second):
            self.assertHidden(r.stderr, "log")
        err = self.first.stderr.decode()
        self.assertIn("feed %s: HTTP 500" % self.bad_shown, err)
        self.assertIn("feed %s: 200" % self.ok_shown, err)

    def test_not_in_webhook_bodies(self):
        posts = self.rcv.snapshot("/hook")
        self.assertEqual(sorted(p.json()["payload"].get("event", "item")
                                for p in posts), ["down", "item"])
        for p in posts:
            self.assertHidden(p.body, "webhook body")
        item = [p.json() for p in posts
                if "event" not in p.json()["payload"]][0]
        self.assertEqual(item["payload"]["feed_url"], self.ok_shown)
        self.assertEqual(item["feed"]["url"], self.ok_shown)
        self.assertEqual(item["feed"]["key"], self.ok_shown)
        down = [p.json() for p in posts if "event" in p.json()["payload"]][0]
        self.assertEqual(down["payload"]["url"], self.bad_shown)

    def test_not_in_the_command_line_tools(self):
        for args in (["status"], ["status", "--json"],
                     ["search", "private"], ["search", "--json", "private"],
                     ["outbox", "list", "--all"],
                     ["outbox", "list", "--all", "--json"]):
            r = run(args[0], "-c", self.cfg, *args[1:])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertHidden(r.stdout + r.stderr, args)
            self.assertTrue(r.stdout, args)
        r = run("status", "-c", self.cfg, "--json")
        self.assertEqual(sorted(f["url"] for f in json.loads(r.stdout)["feeds"]),
                         sorted([self.ok_shown, self.bad_shown]))

    def test_not_in_vigie_fetch(self):
        r = run("fetch", "--allow-private", self.ok)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertHidden(r.stdout + r.stderr, "fetch")
        res = json.loads(r.stdout)
        self.assertEqual(res["url"], self.ok_shown)
        self.assertEqual(res["final_url"], self.ok_shown)

    def test_webhook_url_not_in_check_errors(self):
        """For Slack or Discord the URL is the secret: an error about it
        names the scheme and host only."""
        cfg = self.tmp.file("bad-hook.lua")
        with open(cfg, "w") as f:
            f.write('webhooks = { ops = { url = "https://hooks.slack.com/'
                    'services/T000/B000/%s ", format = "slack" } }\n' % TOKEN)
        r = run("check", "-c", cfg)
        self.assertEqual(r.returncode, 2)
        self.assertHidden(r.stderr, "check")
        self.assertIn('webhooks.ops.url: "https://hooks.slack.com/…": contains '
                      'a space', r.stderr.decode())


class FeedHeadersTest(unittest.TestCase):
    """A feed's configured headers (an API key, GitLab's PRIVATE-TOKEN)
    are for its own origin: a redirect elsewhere gets none of them, and
    does not move the feed there."""

    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()
        cls.other = FeedServer().start()
        cls.tmp = TempDir()
        cls.cfg = cls.tmp.file("vigie.lua")
        away = urllib.parse.quote(cls.other.url("/feed/elsewhere"), safe="")
        cls.headers = {"Authorization": "Bearer AUTH" + SECRET,
                       "X-Api-Key": "KEY" + SECRET,
                       "PRIVATE-TOKEN": "GITLAB" + SECRET}
        write_config(cls.cfg, state_dir=cls.tmp.file("state"),
                     allow_private_networks=True,
                     feeds=[{"url": cls.srv.url("/redirect/301?to=" + away),
                             "name": "P", "headers": cls.headers}])
        cls.first = run("run", "-c", cls.cfg, "--once")
        cls.second = run("run", "-c", cls.cfg, "--once")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.other.stop()
        cls.tmp.cleanup()

    def test_sent_to_the_feed(self):
        self.assertEqual(self.first.returncode, 0, self.first.stderr)
        reqs = self.srv.requests_to("/redirect/")
        self.assertEqual(len(reqs), 2)  # not moved: polled there again
        for r in reqs:
            for name, value in self.headers.items():
                self.assertEqual(r.header(name), value)

    def test_not_sent_where_it_redirects(self):
        reqs = self.other.requests
        self.assertEqual(len(reqs), 2)
        for r in reqs:
            for name in self.headers:
                self.assertIsNone(r.header(name), name)
            self.assertNotIn(SECRET, repr(r.headers))

    def test_not_in_the_log(self):
        for r in (self.first, self.second):
            self.assertNotIn(SECRET, r.stderr.decode())
            self.assertNotIn("moved permanently", r.stderr.decode())


class MovedFeedHeadersTest(unittest.TestCase):
    """A feed that moved to another origin (a 301 taken while it had no
    headers) and is then given headers: they stay at its own origin."""

    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()
        cls.other = FeedServer().start()
        cls.tmp = TempDir()
        cls.cfg = cls.tmp.file("vigie.lua")
        away = urllib.parse.quote(cls.other.url("/feed/elsewhere"), safe="")
        feed = {"url": cls.srv.url("/redirect/301?to=" + away), "name": "M"}
        write_config(cls.cfg, state_dir=cls.tmp.file("state"),
                     allow_private_networks=True, feeds=[feed])
        cls.first = run("run", "-c", cls.cfg, "--once")
        feed["headers"] = {"X-Api-Key": "KEY" + SECRET}
        write_config(cls.cfg, state_dir=cls.tmp.file("state"),
                     allow_private_networks=True, feeds=[feed])
        cls.second = run("run", "-c", cls.cfg, "--once")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.other.stop()
        cls.tmp.cleanup()

    def test_moved_then_polled_without_the_headers(self):
        self.assertEqual(self.first.returncode, 0, self.first.stderr)
        self.assertEqual(self.second.returncode, 0, self.second.stderr)
        self.assertIn("moved permanently", self.first.stderr.decode())
        # the second poll went straight to where the feed moved
        self.assertEqual(len(self.srv.requests_to("/redirect/")), 1)
        reqs = self.other.requests
        self.assertEqual(len(reqs), 2)
        for r in reqs:
            self.assertIsNone(r.header("X-Api-Key"))
            self.assertNotIn(SECRET, repr(r.headers))


if __name__ == "__main__":
    unittest.main()
