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


class UpdateTest(unittest.TestCase):
    def run_twice(self, script):
        tmp = TempDir()
        srv = FeedServer().start()
        hook = Receiver().start()
        try:
            with open(tmp.file("rule.lua"), "w") as f:
                f.write(script)
            write_config(tmp.file("vigie.lua"), state_dir=tmp.file("state"),
                         allow_private_networks=True, catch_up="forever",
                         scripts=[tmp.file("rule.lua")],
                         webhooks={"hook": {"url": hook.url("/")}},
                         feeds=[srv.url("/feed/story")])
            srv.add_feed("/feed/story", FEED.format(title="First title").encode())
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            srv.add_feed("/feed/story", FEED.format(title="Second title").encode())
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            # a third poll, unchanged: nothing at all
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            return [p.json()["payload"]["text"] for p in hook.snapshot()]
        finally:
            hook.stop()
            srv.stop()
            tmp.cleanup()

    def test_update_does_not_alert_by_default(self):
        self.assertEqual(self.run_twice(PLAIN), ["new: First title"])

    def test_on_update_decides(self):
        self.assertEqual(self.run_twice(WITH_UPDATE),
                         ["new: First title", "changed: First title -> Second title"])


TWO = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>First story</title></item>
<item><guid>b</guid><title>Western Balkans summit</title><link>http://example.org/b</link>
</item></channel></rss>"""


class CutDocumentTest(unittest.TestCase):
    """A body cut in the middle of an item (a server that fails midway,
    a dropped connection it did not announce) must not mark half an item
    seen: the whole item alerts when the whole document comes."""

    def test_item_cut_off_alerts_once_complete(self):
        tmp = TempDir()
        srv = FeedServer().start()
        hook = Receiver().start()
        try:
            with open(tmp.file("rule.lua"), "w") as f:
                f.write(PLAIN)
            write_config(tmp.file("vigie.lua"), state_dir=tmp.file("state"),
                         allow_private_networks=True, catch_up="forever",
                         scripts=[tmp.file("rule.lua")],
                         webhooks={"hook": {"url": hook.url("/")}},
                         feeds=[srv.url("/feed/two")])
            cut = TWO[:TWO.index("Balkans")]  # inside the second title
            srv.add_feed("/feed/two", cut.encode())
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertIn(b"1 items, 1 new", r.stderr)
            self.assertIn(b"not well-formed: the document ends inside an item",
                          r.stderr)
            srv.add_feed("/feed/two", TWO.encode())
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"2 items, 1 new", r.stderr)
            self.assertEqual([p.json()["payload"]["text"] for p in hook.snapshot()],
                             ["new: First story", "new: Western Balkans summit"])
        finally:
            hook.stop()
            srv.stop()
            tmp.cleanup()


class OnceRetriesTest(unittest.TestCase):
    """run --once gives its alerts a bounded time to go out: a retry that
    falls within it is made in the same run, not left pending."""

    def test_a_quick_retry_is_made_before_exiting(self):
        tmp = TempDir()
        srv = FeedServer().start()
        hook = Receiver().start()
        hook.answer = lambda post: 200 if post.n_key > 1 else 500
        try:
            with open(tmp.file("rule.lua"), "w") as f:
                f.write(PLAIN)
            write_config(tmp.file("vigie.lua"), state_dir=tmp.file("state"),
                         allow_private_networks=True, catch_up="forever",
                         scripts=[tmp.file("rule.lua")],
                         webhooks={"hook": {"url": hook.url("/")}},
                         feeds=[srv.url("/feed/story")])
            srv.add_feed("/feed/story", FEED.format(title="Retried").encode())
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"1 alerts delivered, 0 pending", r.stderr)
            self.assertEqual([p.status for p in hook.snapshot()], [500, 200])
        finally:
            hook.stop()
            srv.stop()
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
