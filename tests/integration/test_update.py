"""An item whose content changes under the same id does not alert again,
unless a rule defines on_update(item, old), which then decides."""
import unittest

from daemon_util import TempDir, write_config
from feedserver import FeedServer
from receiver import Receiver
from vigietest import run

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>story-1</guid><title>{title}</title><link>http://example.org/1</link>
<description>Kosovo</description></item></channel></rss>"""

PLAIN = """
function on_item(item)
  vigie.store(item)
  vigie.alert("hook", { text = "new: " .. item.title })
end
"""

WITH_UPDATE = PLAIN + """
function on_update(item, old)
  vigie.alert("hook", { text = "changed: " .. old.title .. " -> " .. item.title })
end
"""


class OnceRuns(unittest.TestCase):
    """A feed server, a webhook receiver and a config with one rule, for
    tests made of `vigie run --once` runs on the same state."""

    def setUp(self):
        self.tmp = TempDir()
        self.srv = FeedServer().start()
        self.hook = Receiver().start()

    def tearDown(self):
        self.hook.stop()
        self.srv.stop()
        self.tmp.cleanup()

    def configure(self, script, path):
        with open(self.tmp.file("rule.lua"), "w") as f:
            f.write(script)
        write_config(self.tmp.file("vigie.lua"), state_dir=self.tmp.file("state"),
                     allow_private_networks=True, catch_up="forever",
                     scripts=[self.tmp.file("rule.lua")],
                     webhooks={"hook": {"url": self.hook.url("/")}},
                     feeds=[self.srv.url(path)])

    def once(self, ok=True):
        r = run("run", "-c", self.tmp.file("vigie.lua"), "--once")
        if ok:
            self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def texts(self):
        return [p.json()["payload"]["text"] for p in self.hook.snapshot()]


class UpdateTest(OnceRuns):
    def run_twice(self, script):
        self.configure(script, "/feed/story")
        self.srv.add_feed("/feed/story", FEED.format(title="First title").encode())
        self.once()
        self.srv.add_feed("/feed/story", FEED.format(title="Second title").encode())
        self.once()
        self.once()  # a third poll, unchanged: nothing at all
        return self.texts()

    def test_update_does_not_alert_by_default(self):
        self.assertEqual(self.run_twice(PLAIN), ["new: First title"])

    def test_on_update_decides(self):
        self.assertEqual(self.run_twice(WITH_UPDATE),
                         ["new: First title", "changed: First title -> Second title"])


TWO = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>First story</title></item>
<item><guid>b</guid><title>Western Balkans summit</title><link>http://example.org/b</link>
</item></channel></rss>"""


class CutDocumentTest(OnceRuns):
    """A body cut in the middle of an item (a server that fails midway,
    a dropped connection it did not announce) must not mark half an item
    seen: the whole item alerts when the whole document comes."""

    def test_item_cut_off_alerts_once_complete(self):
        self.configure(PLAIN, "/feed/two")
        cut = TWO[:TWO.index("Balkans")]  # inside the second title
        self.srv.add_feed("/feed/two", cut.encode())
        r = self.once(ok=False)
        self.assertIn(b"1 items, 1 new", r.stderr)
        self.assertIn(b"not well-formed: the document ends inside an item",
                      r.stderr)
        self.srv.add_feed("/feed/two", TWO.encode())
        r = self.once()
        self.assertIn(b"2 items, 1 new", r.stderr)
        self.assertEqual(self.texts(),
                         ["new: First story", "new: Western Balkans summit"])


STATUS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Status</title>
<link>https://status.example.com/</link>{items}</channel></rss>"""
INCIDENT = """<item><title>{title}</title><link>https://status.example.com/</link>
<description>Investigating</description></item>"""


class SharedIdTest(OnceRuns):
    """Items that come without an id of their own (a status page whose
    items all link to the page) or with one a CMS repeats are still
    different items: each alerts once, and one that was seen does not
    alert again when a new one arrives beside it."""

    def status(self, *titles):
        items = "".join(INCIDENT.format(title=t) for t in titles)
        self.srv.add_feed("/feed/status", STATUS.format(items=items).encode())

    def test_new_item_sharing_an_old_ones_link_alerts_once(self):
        self.configure(PLAIN, "/feed/status")
        self.status("Degraded performance in Kosovo")
        self.once()
        # the new incident comes first, beside the old one: both change
        # ids; the old one is known by its link and title
        self.status("Major outage in Serbia", "Degraded performance in Kosovo")
        r = self.once()
        self.assertIn(b"2 items, 1 new", r.stderr)
        self.once()  # unchanged: nothing
        self.assertEqual(self.texts(), ["new: Degraded performance in Kosovo",
                                        "new: Major outage in Serbia"])

    def test_a_repeated_guid_alerts_for_each_story(self):
        self.configure(PLAIN, "/feed/cms")
        doc = ("<rss version='2.0'><channel><title>CMS</title>"
               "<item><title>Kosovo border closed</title>"
               "<link>https://news.example/a/1</link>"
               "<guid isPermaLink='false'>post</guid></item>"
               "<item><title>Vucic meets Kurti</title>"
               "<link>https://news.example/a/2</link>"
               "<guid isPermaLink='false'>post</guid></item></channel></rss>")
        self.srv.add_feed("/feed/cms", doc.encode())
        self.once()
        self.once()
        self.assertEqual(self.texts(), ["new: Kosovo border closed",
                                        "new: Vucic meets Kurti"])
        # vigie test runs the rules on the same two items
        with open(self.tmp.file("cms.xml"), "w") as f:
            f.write(doc)
        r = run("test", "-s", self.tmp.file("rule.lua"), self.tmp.file("cms.xml"))
        self.assertEqual(r.stdout.count(b'"action":"alert"'), 2, r.stdout)


class OnceRetriesTest(OnceRuns):
    """run --once gives its alerts a bounded time to go out: a retry that
    falls within it is made in the same run, not left pending."""

    def test_a_quick_retry_is_made_before_exiting(self):
        self.hook.answer = lambda post: 200 if post.n_key > 1 else 500
        self.configure(PLAIN, "/feed/story")
        self.srv.add_feed("/feed/story", FEED.format(title="Retried").encode())
        r = self.once()
        self.assertIn(b"1 alerts delivered, 0 pending", r.stderr)
        self.assertEqual([p.status for p in self.hook.snapshot()], [500, 200])


if __name__ == "__main__":
    unittest.main()
