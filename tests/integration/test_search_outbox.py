"""`vigie search` and `vigie outbox` against a real database.

The database is written by the real store and outbox code: the unit test
binary `test_store --write-fixture DIR` (built next to the vigie binary by
`make test`) archives three NATO items, queues three alerts, delivers one,
dead-letters one with a 400 and leaves one waiting after a 503."""
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from vigietest import VIGIE, run

WRITER = os.path.join(os.path.dirname(VIGIE), "tests", "test_store")


class SearchOutboxTest(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(WRITER):
            self.skipTest("needs %s (make test builds it)" % WRITER)
        self.dir = tempfile.mkdtemp(prefix="vigie-it-store-")
        r = subprocess.run([WRITER, "--write-fixture", self.dir],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.db = os.path.join(self.dir, "vigie.db")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def vigie(self, *args):
        return run(args[0], "--state-dir", self.dir, *args[1:])

    def rows(self):
        con = sqlite3.connect(self.db)
        try:
            return {r[0]: r[1:] for r in con.execute(
                "SELECT id, state, target, attempts, due, status FROM outbox")}
        finally:
            con.close()

    # ---- search --------------------------------------------------------

    def test_search_ignores_accents(self):
        for q in ("Vucic", "VUCIC", "vučić"):
            r = self.vigie("search", q)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            self.assertIn("Aleksandar Vučić", out)
            self.assertIn("https://example.org/nato/1", out)
            self.assertIn("[NATO FR]", out)
            self.assertNotIn("Western Balkans: statement", out)

    def test_search_json_newest_first(self):
        r = self.vigie("search", "--json", "balkans")
        self.assertEqual(r.returncode, 0, r.stderr)
        hits = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual([h["id"] for h in hits], ["urn:nato:1", "urn:nato:2"])
        self.assertEqual(hits[0]["published"], "2024-08-23T13:27:00Z")
        self.assertEqual(hits[0]["feed"], "NATO FR")
        self.assertEqual(hits[0]["feed_url"], "https://example.org/nato.xml")
        self.assertEqual(hits[0]["tags"], ["Vučić", "Balkans occidentaux"])
        self.assertEqual(hits[1]["link"], "https://example.org/nato/2")

    def test_search_content_tags_phrases_limit(self):
        r = self.vigie("search", "--json", "ruge")  # only in the HTML content
        self.assertEqual([json.loads(l)["id"] for l in
                          r.stdout.decode().splitlines()], ["urn:nato:2"])
        r = self.vigie("search", "--json", "tags:vucic")
        self.assertEqual([json.loads(l)["id"] for l in
                          r.stdout.decode().splitlines()], ["urn:nato:1"])
        r = self.vigie("search", "--json", '"balkans occidentaux"')
        self.assertEqual(len(r.stdout.decode().splitlines()), 1)
        r = self.vigie("search", "--json", "--limit", "1", "balkans")
        self.assertEqual(len(r.stdout.decode().splitlines()), 1)
        r = self.vigie("search", "boris", "ruge")  # words are ANDed
        self.assertIn("Western Balkans: statement", r.stdout.decode())
        r = self.vigie("search", "nothingmatchesthis")
        self.assertEqual((r.returncode, r.stdout), (0, b""))

    def test_bad_query_is_usage_error(self):
        for q in ('"unterminated', "Bosnie-Herzégovine", "nosuchcolumn:x"):
            r = self.vigie("search", q)
            self.assertEqual(r.returncode, 2, q)
            self.assertTrue(r.stderr.startswith(b"vigie: search: bad query"),
                            r.stderr)
            self.assertEqual(r.stdout, b"")
        r = self.vigie("search")
        self.assertEqual(r.returncode, 2)
        r = self.vigie("search", "--limit", "0", "x")
        self.assertEqual(r.returncode, 2)

    def test_missing_database_is_not_created(self):
        empty = tempfile.mkdtemp(prefix="vigie-it-empty-")
        try:
            for cmd in (("search", "x"), ("outbox", "list"),
                        ("outbox", "retry", "--all")):
                r = run(cmd[0], "--state-dir", empty, *cmd[1:])
                self.assertEqual(r.returncode, 1, cmd)
                self.assertIn(b"no database yet", r.stderr)
                self.assertIn(empty.encode(), r.stderr)
            self.assertEqual(os.listdir(empty), [])
        finally:
            shutil.rmtree(empty)

    def test_reading_leaves_no_wal_files(self):
        # run by root next to a stopped daemon, leftover -wal/-shm files
        # would be root's, and the daemon's user could not open the database
        self.assertEqual(os.listdir(self.dir), ["vigie.db"])
        for args in (("search", "vucic"), ("outbox", "list"),
                     ("outbox", "retry", "--all")):
            r = self.vigie(*args)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(os.listdir(self.dir), ["vigie.db"], args)

    def test_corrupt_database_named(self):
        with open(self.db, "r+b") as f:
            f.write(b"garbage garbage!")
        r = self.vigie("search", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.db.encode(), r.stderr)
        self.assertIn(b"untouched", r.stderr)

    # ---- outbox --------------------------------------------------------

    def states(self):
        r = self.vigie("outbox", "list", "--all", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(l) for l in r.stdout.decode().splitlines()]

    def test_list_shows_waiting_and_dead(self):
        r = self.vigie("outbox")  # list is the default
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("dead", out)
        self.assertIn('HTTP 400: {"error":"bad payload"}', out)
        self.assertIn("pending", out)
        self.assertIn("HTTP 503", out)
        self.assertNotIn("delivered", out)
        r = self.vigie("outbox", "list", "--dead")
        self.assertEqual(r.stdout.decode().count("dead"), 1)
        self.assertIn("Western Balkans: statement", r.stdout.decode())
        rows = self.states()
        self.assertEqual([x["state"] for x in rows],
                         ["delivered", "dead", "pending"])
        dead = rows[1]
        self.assertEqual((dead["target"], dead["status"], dead["attempts"]),
                         ("ops", 400, 1))
        self.assertEqual(len(dead["key"]), 64)
        self.assertEqual(dead["response"], '{"error":"bad payload"}')

    def test_retry_makes_a_dead_alert_due_now(self):
        dead = self.states()[1]
        before = int(time.time() * 1000)
        r = self.vigie("outbox", "retry", str(dead["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        # no daemon holds the state dir: nobody to tell
        self.assertIn(b"will be sent by the daemon within 5 minutes", r.stdout)
        state, target, attempts, due, _ = self.rows()[dead["id"]]
        self.assertEqual((state, target, attempts), (0, "ops", 0))
        # waiting again: no "done" time left from when it died
        [row] = [r for r in self.states() if r["id"] == dead["id"]]
        self.assertIsNone(row["done"])
        self.assertGreaterEqual(due, before - 1000)
        self.assertLessEqual(due, int(time.time() * 1000) + 1000)
        # a delivered alert is not retried; an unknown id is an error
        delivered = self.states()[0]
        r = self.vigie("outbox", "retry", str(delivered["id"]))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"was delivered already", r.stderr)
        r = self.vigie("outbox", "retry", "999")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no such alert", r.stderr)
        r = self.vigie("outbox", "retry", "x1")
        self.assertEqual(r.returncode, 2)

    def test_retry_all_and_drop(self):
        r = self.vigie("outbox", "retry", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"2 alert(s)"), r.stdout)
        rows = self.states()
        self.assertEqual([x["state"] for x in rows],
                         ["delivered", "pending", "pending"])
        r = self.vigie("outbox", "drop", str(rows[2]["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(rows[2]["id"], self.rows())
        r = self.vigie("outbox", "drop", str(rows[0]["id"]))  # delivered
        self.assertEqual(r.returncode, 1)
        self.assertIn(rows[0]["id"], self.rows())

    def claim(self, alert_id, lease_until):
        """Makes the row look as the daemon leaves it while it POSTs."""
        con = sqlite3.connect(self.db, isolation_level=None)
        try:
            con.execute("UPDATE outbox SET state = 1, lease_until = ?"
                        " WHERE id = ?", (lease_until, alert_id))
        finally:
            con.close()

    def test_drop_and_retry_leave_an_alert_being_sent(self):
        # QA: `drop` on an alert being sent said "dropped" and exited 0,
        # and the receiver got it anyway
        waiting = self.states()[2]
        self.claim(waiting["id"], int(time.time() * 1000) + 120000)
        r = self.vigie("outbox", "drop", str(waiting["id"]))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"alert %d is being sent right now; it may already "
                      b"have arrived" % waiting["id"], r.stderr)
        r = self.vigie("outbox", "retry", str(waiting["id"]))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"is being sent right now", r.stderr)
        self.assertEqual(self.rows()[waiting["id"]][0], 1)
        # its sender died and nobody restarted it: once the lease ran
        # out, it is nobody's and may go
        self.claim(waiting["id"], int(time.time() * 1000) - 1000)
        r = self.vigie("outbox", "drop", str(waiting["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(waiting["id"], self.rows())

    def queue_behind(self, alert_id):
        """A copy of alert_id queued after it, to the same target, due
        long ago; the original due in an hour. Returns the copy's id."""
        con = sqlite3.connect(self.db, isolation_level=None)
        try:
            cols = [r[1] for r in con.execute("PRAGMA table_info(outbox)")
                    if r[1] != "id"]
            copy = ["key || '-behind'" if c == "key" else c for c in cols]
            cur = con.execute("INSERT INTO outbox (%s) SELECT %s FROM outbox"
                              " WHERE id = ?" % (", ".join(cols), ", ".join(copy)),
                              (alert_id,))
            con.execute("UPDATE outbox SET due = 1000 WHERE id = ?",
                        (cur.lastrowid,))
            con.execute("UPDATE outbox SET due = ? WHERE id = ?",
                        (int(time.time() * 1000) + 3600000, alert_id))
            return cur.lastrowid
        finally:
            con.close()

    def test_list_shows_an_alert_waiting_behind_another(self):
        # QA: an alert queued behind a failing one of the same target was
        # listed "next try <a time long past>": it goes after that one
        head = self.states()[2]
        behind = self.queue_behind(head["id"])
        r = self.vigie("outbox", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        [line] = [l for l in r.stdout.decode().splitlines()
                  if l.startswith("%-6d " % behind)]
        self.assertIn(" after alert %d" % head["id"], line)
        self.assertNotIn("next try", line)
        [row] = [x for x in self.states() if x["id"] == behind]
        self.assertEqual((row["after_alert"], row["next_attempt"]),
                         (head["id"], None))
        [row] = [x for x in self.states() if x["id"] == head["id"]]
        self.assertIsNone(row["after_alert"])
        self.assertIsNotNone(row["next_attempt"])

    def test_retry_all_with_nothing_to_retry(self):
        for row in self.states()[1:]:  # the dead and the waiting one
            r = self.vigie("outbox", "drop", str(row["id"]))
            self.assertEqual(r.returncode, 0, r.stderr)
        r = self.vigie("outbox", "retry", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"nothing to retry: no alert is dead or "
                         b"waiting\n")

    def test_works_while_another_connection_reads(self):
        # the daemon holds the database open; WAL lets both proceed
        con = sqlite3.connect(self.db, isolation_level=None)
        try:
            con.execute("BEGIN")
            con.execute("SELECT count(*) FROM outbox").fetchone()
            r = self.vigie("outbox", "retry", "--all")
            self.assertEqual(r.returncode, 0, r.stderr)
            con.execute("COMMIT")
        finally:
            con.close()
        self.assertEqual(sorted(s for s, *_ in self.rows().values()),
                         [0, 0, 2])

    def test_state_dir_from_config(self):
        # a relative state_dir is relative to the config file's directory
        conf = os.path.join(self.dir, "vigie.lua")
        with open(conf, "w") as f:
            f.write('state_dir = "."\n')
        r = run("search", "-c", conf, "--json", "vucic")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 1)
        r = run("outbox", "--config", conf, "list", "--dead")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"HTTP 400", r.stdout)
        with open(conf, "w") as f:
            f.write('state_dir = 42\n')
        r = run("search", "-c", conf, "vucic")
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(b"vigie: " + conf.encode()),
                        r.stderr)

    def test_usage(self):
        for args in (("outbox", "frob"), ("outbox", "list", "--dead",
                                          "--all"),
                     ("outbox", "retry"), ("outbox", "drop", "--all"),
                     ("outbox", "retry", "0"), ("outbox", "retry", "x1"),
                     # past int64: refused, not clamped to another id
                     ("outbox", "retry", "99999999999999999999")):
            r = self.vigie(*args)
            self.assertEqual(r.returncode, 2, args)
        self.assertEqual(run("outbox", "-h").returncode, 0)
        self.assertEqual(run("search", "--help").returncode, 0)


if __name__ == "__main__":
    unittest.main()
