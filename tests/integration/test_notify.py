"""The daemon speaks systemd's notify protocol: READY=1 once running,
RELOADING=1 + MONOTONIC_USEC then READY=1 around reloads (with a STATUS=
saying whether the reload failed), STOPPING=1, and WATCHDOG=1 pings from
the loop. A Unix datagram socket stands in for systemd."""
import os
import signal
import socket
import threading
import unittest

from daemon_util import Daemon, TempDir, wait_for, write_config
from feedserver import FeedServer


class NotifySocket:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode())

    def states(self):
        """Every assignment received, in order, watchdog pings left out."""
        out = []
        for m in list(self.messages):
            out.extend(l for l in m.split("\n") if l and l != "WATCHDOG=1")
        return out

    def close(self):
        self._stop = True
        self._t.join(2)
        self.sock.close()


class NotifyTest(unittest.TestCase):
    def test_start_reload_stop(self):
        tmp = TempDir()
        srv = FeedServer().start()
        ns = NotifySocket(tmp.file("notify.sock"))
        cfg = tmp.file("vigie.lua")
        feeds = [{"url": srv.url("/feed/n"), "interval": 60}]
        write_config(cfg, state_dir=tmp.file("state"), min_interval="1s",
                     allow_private_networks=True, feeds=feeds)
        d = Daemon(cfg, env={"NOTIFY_SOCKET": tmp.file("notify.sock"),
                             "WATCHDOG_USEC": "200000"})
        try:
            wait_for(lambda: "READY=1" in ns.states(), what="READY=1")
            # pings at half the watchdog interval, from the loop
            wait_for(lambda: sum(m == "WATCHDOG=1" for m in ns.messages) >= 3,
                     what="watchdog pings")
            # a good reload
            write_config(cfg, state_dir=tmp.file("state"), min_interval="1s",
                         allow_private_networks=True,
                         feeds=feeds + [{"url": srv.url("/feed/m"), "interval": 60}])
            d.signal(signal.SIGHUP)
            wait_for(lambda: ns.states().count("READY=1") >= 2, what="READY after reload")
            # a broken one
            with open(cfg, "a") as f:
                f.write("feeds = 42\n")
            d.signal(signal.SIGHUP)
            wait_for(lambda: ns.states().count("READY=1") >= 3,
                     what="READY after failed reload")
        finally:
            rc = d.stop()
            ns.close()
            srv.stop()
            tmp.cleanup()
        self.assertEqual(rc, 0)
        st = ns.states()
        kinds = [s.split("=")[0] for s in st if not s.startswith("STATUS=")]
        self.assertEqual(kinds, ["READY",
                                 "RELOADING", "MONOTONIC_USEC", "READY",
                                 "RELOADING", "MONOTONIC_USEC", "READY",
                                 "STOPPING"])
        statuses = [s for s in st if s.startswith("STATUS=")]
        self.assertIn("1 feeds", statuses[0])
        self.assertTrue(any(s.startswith("STATUS=reloaded: 2 feeds") for s in statuses))
        failed = [s for s in statuses if "reload failed" in s]
        self.assertEqual(len(failed), 1)
        self.assertIn("feeds", failed[0])
        usec = [int(s.split("=")[1]) for s in st if s.startswith("MONOTONIC_USEC=")]
        self.assertTrue(all(u > 0 for u in usec))
        self.assertLess(usec[0], usec[1])
        # the ping count proves the loop itself pings
        self.assertGreaterEqual(sum(m == "WATCHDOG=1" for m in ns.messages), 3)


if __name__ == "__main__":
    unittest.main()
