"""`vigie status`: every feed, failing first, and the outbox, read from the
state database (also while the daemon runs)."""
import json
import os
import unittest

from daemon_util import Daemon, TempDir, write_config
from feedserver import FeedServer
from vigietest import ROOT, run


class StatusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        self.tmp = TempDir()
        self.cfg = self.tmp.file("vigie.lua")
        self.feeds = [
            {"url": self.srv.url("/feed/good"), "name": "good feed"},
            {"url": self.srv.url("/status/500"), "name": "broken feed"},
            {"url": self.srv.url("/status/410"), "name": "gone feed"},
            {"path": os.path.join(ROOT, "feeds/samples/nato-fr.xml"), "name": "nato"},
        ]
        self.write()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, extra=()):
        write_config(self.cfg, state_dir=self.tmp.file("state"), min_interval="1s",
                     allow_private_networks=True, interval="2s",
                     feeds=self.feeds + list(extra))

    def test_failing_first_and_totals(self):
        run("run", "-c", self.cfg, "--once")
        # a feed added since the last poll shows as never polled
        self.write([{"url": self.srv.url("/feed/later"), "name": "later feed"}])
        r = run("status", "-c", self.cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("STATE"))
        body = lines[1:6]
        self.assertEqual([l.split()[0] for l in body],
                         ["failing", "disabled", "ok", "ok", "new"])
        self.assertIn("broken feed", body[0])
        self.assertIn("HTTP 500", body[0])
        self.assertIn("gone feed", body[1])
        self.assertIn("410", body[1])
        self.assertIn("feeds: 2 ok, 1 failing, 1 disabled, 1 never polled", r.stdout.decode())
        self.assertIn("outbox: 0 pending", r.stdout.decode())

    def test_json(self):
        run("run", "-c", self.cfg, "--once")
        r = run("status", "-c", self.cfg, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        feeds = {f["name"]: f for f in doc["feeds"]}
        self.assertEqual(feeds["broken feed"]["state"], "failing")
        self.assertEqual(feeds["broken feed"]["failures"], 1)
        self.assertEqual(feeds["broken feed"]["http_status"], 500)
        self.assertEqual(feeds["gone feed"]["state"], "disabled")
        self.assertTrue(feeds["gone feed"]["disabled_why"])
        self.assertEqual(feeds["good feed"]["items"], 1)
        self.assertEqual(feeds["nato"]["items"], 3)
        self.assertIsNone(feeds["good feed"]["error"])
        self.assertEqual(doc["totals"]["ok"], 2)
        self.assertEqual(doc["totals"]["failing"], 1)
        self.assertEqual(doc["totals"]["disabled"], 1)
        self.assertIn("outbox_pending", doc["totals"])

    def test_while_the_daemon_runs(self):
        d = Daemon(self.cfg)
        try:
            d.wait_log("feed nato:")
            r = run("status", "-c", self.cfg, "--json")
        finally:
            d.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [f["name"] for f in json.loads(r.stdout)["feeds"]]
        self.assertIn("nato", names)

    def test_times_in_utc(self):
        """QA: the text printed local times without a zone, while `outbox
        list`, `search` and health alerts print UTC: the text now shows the
        same RFC 3339 UTC times as --json, whatever TZ says."""
        run("run", "-c", self.cfg, "--once")
        tz = {"TZ": "Asia/Kolkata"}  # UTC+5:30: no hour or minute in common
        text = run("status", "-c", self.cfg, env=tz)
        doc = run("status", "-c", self.cfg, "--json", env=tz)
        self.assertEqual(text.returncode, 0, text.stderr)
        good = json.loads(doc.stdout)["feeds"]
        good = [f for f in good if f["name"] == "good feed"][0]
        self.assertRegex(good["last_poll"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        line = [l for l in text.stdout.decode().splitlines() if "good feed" in l][0]
        self.assertIn(" %s " % good["last_poll"], line)
        self.assertIn(" %s " % good["next_poll"], line)

    def test_state_dir_instead_of_the_configs(self):
        """--state-dir reads the database there (under systemd, where
        StateDirectory puts it), not at the config's state_dir."""
        run("run", "-c", self.cfg, "--once")
        moved = self.tmp.file("moved")
        os.rename(self.tmp.file("state"), moved)
        r = run("status", "-c", self.cfg)
        self.assertEqual(r.returncode, 1)  # nothing at state_dir now
        r = run("status", "-c", self.cfg, "--state-dir", moved, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        feeds = {f["name"]: f for f in json.loads(r.stdout)["feeds"]}
        self.assertEqual(feeds["nato"]["items"], 3)

    def test_state_dir_alone(self):
        """--state-dir without -c reads no configuration, as search and
        outbox do: every feed the database knows is listed (QA: status
        wanted /etc/vigie/vigie.lua all the same)."""
        run("run", "-c", self.cfg, "--once")
        state = self.tmp.file("state")
        os.unlink(self.cfg)
        r = run("status", "--state-dir", state, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        feeds = {f["name"]: f for f in doc["feeds"]}
        self.assertEqual(sorted(feeds), ["broken feed", "gone feed",
                                         "good feed", "nato"])
        self.assertEqual(doc["feeds"][0]["name"], "broken feed")  # failing first
        self.assertEqual(feeds["broken feed"]["state"], "failing")
        self.assertEqual(feeds["gone feed"]["state"], "disabled")
        self.assertEqual(feeds["nato"]["items"], 3)
        self.assertEqual(feeds["good feed"]["url"], self.srv.url("/feed/good"))
        self.assertEqual(doc["totals"]["ok"], 2)
        r = run("status", "--state-dir", state)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("feeds: 2 ok, 1 failing, 1 disabled, 0 never polled",
                      r.stdout.decode())
        # -c still names the configuration to read
        r = run("status", "-c", self.cfg, "--state-dir", state)
        self.assertEqual(r.returncode, 2)

    def test_archive_counts_every_stored_item(self):
        """QA: "archive: N items stored" summed the feeds of the current
        configuration: after a feed was removed (or its URL changed) the
        count dropped although `vigie search` still found every item."""
        store_all = os.path.join(ROOT, "scripts", "store-all.lua")
        write_config(self.cfg, state_dir=self.tmp.file("state"),
                     catch_up="forever", scripts=[store_all],
                     feeds=self.feeds[3:])  # nato: 3 items
        r = run("run", "-c", self.cfg, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        write_config(self.cfg, state_dir=self.tmp.file("state"),
                     allow_private_networks=True,
                     feeds=[{"url": self.srv.url("/feed/good")}])
        r = run("status", "-c", self.cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("archive: 3 items stored", r.stdout.decode())
        r = run("status", "-c", self.cfg, "--json")
        self.assertEqual(json.loads(r.stdout)["totals"]["items_stored"], 3)

    def test_no_database_yet(self):
        r = run("status", "-c", self.cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"vigie:", r.stderr)

    def test_usage(self):
        self.assertEqual(run("status", "--bogus").returncode, 2)
        self.assertEqual(run("status", "--help").returncode, 0)


if __name__ == "__main__":
    unittest.main()
