"""What a webhook answers beyond its status does not change the outcome:
a 2xx is a delivery, logged and counted like any other, whatever body
comes with it. vigie keeps at most 64 KiB of an answer (for the log of a
failure); the rest is ignored, never a reason to retry or to stay quiet."""
import os
import re
import unittest

from daemon_util import Daemon, TempDir, wait_for, write_config
from receiver import HANG, Receiver
from vigietest import ROOT, run

RULE = 'function on_item(it) vigie.alert("hook", { text = it.title }) end\n'
FEED = os.path.join(ROOT, "feeds/samples/tech-en.xml")  # two items


class WebhookAnswerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.rcv = Receiver().start()
        with open(self.tmp.file("rule.lua"), "w") as f:
            f.write(RULE)
        self.config = self.tmp.file("vigie.lua")
        write_config(self.config, state_dir=self.tmp.file("state"),
                     catch_up="forever", scripts=[self.tmp.file("rule.lua")],
                     webhooks={"hook": {"url": self.rcv.url("/hook"),
                                        "allow_private_networks": True}},
                     feeds=[{"path": FEED}])

    def tearDown(self):
        self.rcv.stop()
        self.tmp.cleanup()

    def check_delivered_with_answer(self, body):
        self.rcv.answer = (200, {"Content-Type": "text/plain"}, body)
        r = run("run", "-c", self.config, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(self.rcv.keys("/hook")), 2)
        err = r.stderr.decode()
        self.assertEqual(err.count("delivered (HTTP 200, attempt 1)"), 2, err)
        self.assertIn("2 alerts delivered, 0 pending, 0 dead", err)
        # the outbox agrees, and nothing is sent again
        r = run("outbox", "-c", self.config, "list", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = re.findall(rb"^\d+ +(\w+) +hook ", r.stdout, re.M)
        self.assertEqual(rows, [b"delivered", b"delivered"], r.stdout)
        r = run("run", "-c", self.config, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.rcv.count("/hook"), 2)

    def test_answer_one_byte_over_the_cap(self):
        self.check_delivered_with_answer(b"x" * (64 * 1024 + 1))

    def test_answer_of_four_megabytes(self):
        self.check_delivered_with_answer(b"y" * (4 << 20))

    def test_restart_after_kill_names_each_interrupted_alert_once(self):
        # QA: after a kill -9 the restart said the same thing twice, in
        # two ways ("1 alert(s) were being sent..." and "outbox: 1 alerts
        # interrupted..."), naming no alert
        self.rcv.answer = HANG
        d = Daemon(self.config)
        try:
            wait_for(lambda: self.rcv.count("/hook") >= 1,
                     what="a POST in flight")
        finally:
            d.proc.kill()
            d.wait_exit()
        self.rcv.release()
        self.rcv.answer = 200
        r = run("run", "-c", self.config, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        again = [l for l in err.splitlines() if "again" in l]
        self.assertEqual(len(again), 1, err)
        self.assertRegex(again[0], r"notice +alert 1 \([0-9a-f]{12}\) to hook: "
                         r"was being sent when vigie stopped; sending it "
                         r"again \(same key\)$")
        key = again[0].split("(")[1].split(")")[0]
        self.assertIn("alert 1 (%s) to hook: delivered (HTTP 200" % key, err)

    def test_redirect_is_not_followed_and_says_so(self):
        # QA: a 308 was dead-lettered as "HTTP 308: nope: receiver said
        # no", as if the receiver had refused the alert
        self.rcv.answer = (308, {"Location": self.rcv.url("/moved")},
                           b"nope: receiver said no")
        r = run("run", "-c", self.config, "--once")
        err = r.stderr.decode()
        dead = [l for l in err.splitlines() if "dead-lettered" in l]
        self.assertEqual(len(dead), 2, err)
        for line in dead:
            self.assertIn("HTTP 308: redirected to %s (webhook redirects are "
                          "not followed: update its url)"
                          % self.rcv.url("/moved"), line)
            self.assertNotIn("receiver said no", line)
        # one POST each, to the configured URL only
        self.assertEqual(self.rcv.count("/hook"), 2)
        self.assertEqual(self.rcv.count("/moved"), 0)
        r = run("outbox", "-c", self.config, "list", "--dead")
        self.assertIn(b"HTTP 308: redirected", r.stdout)

    def test_redirect_location_is_made_ascii(self):
        # a receiver's Location goes into the log and the outbox: control
        # bytes and raw non-ASCII are percent-encoded, not passed on
        self.rcv.answer = (308, {"Location": "/moved\x1b[31m\xe9"}, b"")
        r = run("run", "-c", self.config, "--once")
        self.assertNotIn(b"\x1b", r.stderr)
        self.assertIn(b"/moved%1B[31m%E9 (webhook redirects", r.stderr)



class WebhookHeadersTest(unittest.TestCase):
    """A POST carries each header once; a configured Content-Type replaces
    the format's own instead of adding to it."""

    def post_headers(self, hook):
        tmp = TempDir()
        rcv = Receiver().start()
        try:
            with open(tmp.file("rule.lua"), "w") as f:
                f.write(RULE)
            hook = dict(hook, url=rcv.url("/hook"), allow_private_networks=True)
            write_config(tmp.file("vigie.lua"), state_dir=tmp.file("state"),
                         catch_up="forever", scripts=[tmp.file("rule.lua")],
                         webhooks={"hook": hook}, feeds=[{"path": FEED}])
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            return rcv.snapshot()[0].header_list
        finally:
            rcv.stop()
            tmp.cleanup()

    def test_each_header_once(self):
        hl = self.post_headers({"secret": "k"})
        names = [k for k, _ in hl]
        self.assertEqual(len(names), len(set(names)), hl)
        self.assertIn(("content-type", "application/json"), hl)
        self.assertIn("x-vigie-signature", names)

    def test_configured_content_type_replaces(self):
        hl = self.post_headers({"headers": {"Content-Type": "text/plain"}})
        self.assertEqual([v for k, v in hl if k == "content-type"], ["text/plain"])


if __name__ == "__main__":
    unittest.main()
