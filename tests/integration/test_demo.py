"""`make run`: the offline demo alerts within seconds, in the log and
through the local receiver, and Ctrl-C stops everything cleanly."""
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from vigietest import ROOT, SANITIZED, VIGIE

# The alerts scripts/balkans.lua must raise on feeds/samples/*.xml, by
# title: what the demo promises, and what the decoys must not trigger.
EXPECTED = {
    "Deputy Secretary General visits the Western Balkans",
    "KFOR continues to ensure a safe and secure environment in Kosovo",
    "VUCIC primio zamenika generalnog sekretara NATO",
    "Dialogue Belgrade–Pristina : l’UE salue la réouverture du pont",
}
SEED_TITLE_START = "En visite dans les Balkans occidentaux, Boris Ruge"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DemoTest(unittest.TestCase):
    def test_make_run_alerts_and_stops(self):
        env = dict(os.environ, VIGIE_DEMO_PORT=str(free_port()))
        env.pop("JOURNAL_STREAM", None)
        p = subprocess.Popen(["sh", "etc/run-demo.sh", VIGIE], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        lines = []
        reader = threading.Thread(
            target=lambda: lines.extend(l.decode("utf-8", "replace").rstrip("\n")
                                        for l in p.stdout), daemon=True)
        reader.start()
        received = lambda: [l for l in list(lines) if l.startswith("webhook /analyst:")]
        end = time.time() + (120 if SANITIZED else 60)
        while len(received()) < 5 and time.time() < end and p.poll() is None:
            time.sleep(0.1)
        # Ctrl-C: SIGINT to the whole foreground process group
        os.killpg(p.pid, signal.SIGINT)
        rc = p.wait(60)
        reader.join(5)
        out = "\n".join(lines)
        got = received()
        self.assertEqual(len(got), 5, out)
        for title in EXPECTED:
            self.assertTrue(any(l.endswith(title) for l in got), (title, out))
        self.assertTrue(any(SEED_TITLE_START in l for l in got), out)
        # the decoys (Otaniemi, KFORCE, Rugerio) never alert
        self.assertNotIn("Otaniemi", "\n".join(got))
        self.assertNotIn("KFORCE", "\n".join(got))
        self.assertNotIn("Rugerio", "\n".join(got))
        # the log shows each alert too, and the stop is clean
        self.assertEqual(sum("notice  alert to analyst" in l for l in lines), 5, out)
        self.assertIn("stopped", out)
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
