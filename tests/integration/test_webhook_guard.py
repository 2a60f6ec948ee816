"""Webhook URLs pass the same connect-time guard as feeds: a receiver on a
loopback or private address is refused unless allow_private_networks says
so for it (or globally). A refused alert is dead-lettered with the reason,
never silently dropped, and `vigie outbox retry` sends it once allowed."""
import os
import unittest

from daemon_util import TempDir, write_config
from receiver import Receiver
from vigietest import ROOT, run

RULE = 'function on_item(it) vigie.alert("hook", { text = it.title }) end\n'


class WebhookGuardTest(unittest.TestCase):
    def test_loopback_receiver_refused_by_default(self):
        tmp = TempDir()
        rcv = Receiver().start()
        try:
            with open(tmp.file("rule.lua"), "w") as f:
                f.write(RULE)

            def config(allow):
                hook = {"url": rcv.url("/hook")}
                if allow:
                    hook["allow_private_networks"] = True
                write_config(tmp.file("vigie.lua"), state_dir=tmp.file("state"),
                             catch_up="forever", scripts=[tmp.file("rule.lua")],
                             webhooks={"hook": hook},
                             feeds=[{"path": os.path.join(ROOT, "feeds/samples/tech-en.xml")}])

            config(False)
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)  # the feed was fine
            self.assertEqual(rcv.count(), 0)               # nothing reached it
            self.assertIn(b"127.0.0.1 is a loopback address", r.stderr)
            dead = run("outbox", "-c", tmp.file("vigie.lua"), "list", "--dead")
            self.assertEqual(dead.returncode, 0, dead.stderr)
            self.assertEqual(dead.stdout.count(b"dead"), 2, dead.stdout)
            self.assertIn(b"loopback", dead.stdout)
            # said explicitly for this webhook, the same alerts go out
            config(True)
            r = run("outbox", "-c", tmp.file("vigie.lua"), "retry", "--all")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = run("run", "-c", tmp.file("vigie.lua"), "--once")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(rcv.keys("/hook")), 2)
        finally:
            rcv.stop()
            tmp.cleanup()


if __name__ == "__main__":
    unittest.main()
