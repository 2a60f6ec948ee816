"""Health alerts: a feed failing for alert_after, or silent for
silent_after, raises one alert to the `health` webhook, and one when it
recovers — never one per poll, not even across restarts."""
import time
import unittest

from daemon_util import Daemon, TempDir, wait_for, write_config
from feedserver import FEED_TEMPLATE, FeedServer
from receiver import Receiver
from vigietest import run


class Recorder(Receiver):
    """The shared receiver, read as health events."""

    def events(self):
        return [p.json()["payload"]["event"] for p in self.snapshot()]

    def payloads(self):
        return [p.json()["payload"] for p in self.snapshot()]


class HealthTest(unittest.TestCase):
    def setUp(self):
        self.srv = FeedServer().start()
        self.rec = Recorder().start()
        self.tmp = TempDir()
        self.cfg = self.tmp.file("vigie.lua")
        self.up = True
        srv = self

        def toggle(h):
            if srv.up:
                h.send_body(200, FEED_TEMPLATE.format(name="toggle").encode())
            else:
                h.send_body(500, b"down")

        self.srv.add_route("/toggle", toggle)

    def tearDown(self):
        self.srv.stop()
        self.rec.stop()
        self.tmp.cleanup()

    def config(self, feeds, **kw):
        write_config(self.cfg, state_dir=self.tmp.file("state"), min_interval="1s",
                     allow_private_networks=True, feeds=feeds, health="ops",
                     webhooks={"ops": {"url": self.rec.url("/health"),
                                           "allow_private_networks": True}},
                     **kw)

    def test_down_once_then_up_across_restarts(self):
        self.config([{"url": self.srv.url("/toggle"), "name": "toggled"}], alert_after="1s")
        self.up = False
        for _ in range(3):  # three failing polls, three processes
            r = run("run", "-c", self.cfg, "--once")
            self.assertEqual(r.returncode, 1)
            time.sleep(1.1)  # so that the outage outlasts alert_after
        self.assertEqual(self.rec.events(), ["down"])
        self.assertIn("toggled", self.rec.payloads()[0]["text"])
        self.assertIn("HTTP 500", self.rec.payloads()[0]["error"])
        self.assertIn(b"health: feed toggled has been failing", r.stderr)
        self.up = True
        for _ in range(2):
            r = run("run", "-c", self.cfg, "--once")
            self.assertEqual(r.returncode, 0)
        self.assertEqual(self.rec.events(), ["down", "up"])

    def test_no_health_target_logs_only(self):
        write_config(self.cfg, state_dir=self.tmp.file("state"), min_interval="1s",
                     allow_private_networks=True, alert_after="1s",
                     feeds=[{"url": self.srv.url("/status/500"), "name": "bad"}])
        run("run", "-c", self.cfg, "--once")
        time.sleep(1.1)
        r = run("run", "-c", self.cfg, "--once")
        self.assertIn(b"health: feed bad has been failing", r.stderr)
        self.assertEqual(self.rec.count(), 0)

    def test_silence_and_talking_again(self):
        self.srv.add_feed("/feed/quiet", FEED_TEMPLATE.format(name="quiet").encode(),
                          etag='"q1"')
        self.config([{"url": self.srv.url("/feed/quiet"), "name": "quiet",
                      "interval": 1, "silent_after": "2s"}])
        d = Daemon(self.cfg)
        try:
            wait_for(lambda: "silent" in self.rec.events(), what="silence alert")
            n = len(self.srv.requests_to("/feed/quiet"))
            wait_for(lambda: len(self.srv.requests_to("/feed/quiet")) >= n + 2,
                     what="two more quiet polls")
            self.assertEqual(self.rec.events(), ["silent"])  # not one per poll
            body = FEED_TEMPLATE.format(name="quiet").replace(
                "<item>", "<item><title>fresh</title><guid>fresh-1</guid></item><item>", 1)
            self.srv.add_feed("/feed/quiet", body.encode(), etag='"q2"')
            wait_for(lambda: "talking" in self.rec.events(), what="talking again")
        finally:
            d.stop()
        # (and it may fall silent again afterwards: that is a new silence)
        self.assertEqual(self.rec.events()[:2], ["silent", "talking"])


if __name__ == "__main__":
    unittest.main()
