"""One daemon per state directory: a second `vigie run` on the same
state_dir is refused at start (exit 2), naming the pid of the one that
runs, instead of polling every feed and sending every alert twice. The
commands made to be used beside the daemon (check, status, search,
outbox) still work, and the lock goes with the process, however it ends."""
import os
import signal
import unittest

from daemon_util import Daemon, TempDir, write_config
from vigietest import ROOT, run

RULE = 'function on_item(it) vigie.store(it) end\n'


class StateLockTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.state = self.tmp.file("state")
        with open(self.tmp.file("rule.lua"), "w") as f:
            f.write(RULE)
        self.cfg = self.tmp.file("vigie.lua")
        write_config(self.cfg, state_dir=self.state, catch_up="forever",
                     scripts=[self.tmp.file("rule.lua")],
                     feeds=[{"path": os.path.join(
                         ROOT, "feeds/samples/tech-en.xml")}])

    def tearDown(self):
        self.tmp.cleanup()

    def start(self):
        d = Daemon(self.cfg)
        self.addCleanup(d.stop)
        d.wait_log("vigie 0.1.0: ")  # logged once the state is open
        return d

    def test_second_daemon_is_refused_naming_the_first(self):
        d = self.start()
        for args in (["--once"], []):  # without --once it would never end
            r = run("run", "-c", self.cfg, *args)
            self.assertEqual(r.returncode, 2, r.stderr)
            err = r.stderr.decode()
            self.assertEqual(
                err, "vigie: %s: in use by another vigie run (pid %d); stop "
                "it first, or give this one another state_dir\n"
                % (self.state, d.proc.pid))
        self.assertIsNone(d.proc.poll())  # the first one is untouched
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("state_dir", d.log_text())
        # gone with it: the next one starts
        r = run("run", "-c", self.cfg, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_other_commands_work_beside_it(self):
        self.start()
        for args in (["check"], ["status"], ["status", "--json"],
                     ["search", "quantum"], ["outbox", "list", "--all"]):
            r = run(args[0], "-c", self.cfg, *args[1:])
            self.assertEqual(r.returncode, 0, (args, r.stderr))

    def test_lock_goes_with_a_killed_daemon(self):
        d = self.start()
        d.signal(signal.SIGKILL)
        d.wait_exit()
        r = run("run", "-c", self.cfg, "--once")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
