"""Reliability: vigie's promises about state and alerts, tested against the
real daemon, a local feed server and a local webhook receiver.

Each test breaks if its guarantee is removed:
  - crash test: SIGKILL at 20 random moments (fetch, transaction, delivery)
    loses no alert, adds none, and never marks an item seen without its
    alert in the outbox;
  - delivery: connection refused, 500 and 429 are retried in order per
    target, Retry-After is respected; a 400 is dead at once, logged, and
    `vigie outbox retry` sends it again;
  - the state directory: read-only or full at start is a clear exit 2; full
    during a run fails the feed's transaction (nothing marked seen) and the
    alert goes out once space is back; a corrupt database is named and left
    as it was;
  - a clean restart re-alerts nothing and keeps the validators;
  - every POST is signed over its exact body, and redeliveries carry the
    same Idempotency-Key.

Assertions are on what the servers recorded, what vigie logged and what its
database holds. Waits are bounds against hanging, never speed assertions;
the only time measured is a gap vigie must leave (Retry-After), which is a
lower bound. The crash test's moments come from a seeded RNG: the seed is in
every failure message (set VIGIE_CRASH_SEED to replay one).

A full or read-only file system is real: the state directory gets a small
tmpfs (or a read-only bind) in a private mount namespace of the daemon
(`unshare -m` as root, else an unprivileged user namespace), invisible to
the rest of the machine and gone with the process. Where neither is
allowed those tests are skipped, saying why; a directory the daemon's user
may not write is tested everywhere (as root, by running vigie as nobody)."""
import collections
import email.utils
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from xml.sax.saxutils import escape

from daemon_util import WAIT, Daemon, TempDir, wait_for, write_config
from feedserver import FeedServer
from receiver import Receiver
from vigietest import SANITIZED, run

KEYWORD = "URGENT"

# Alerts on items whose title says URGENT; the target is named by the feed
# URL's "to" parameter (default "hook").
RULE = """
function on_item(item)
  if item.title:find("URGENT", 1, true) then
    local to = item.feed.url:match("[?&]to=([%w_]+)") or "hook"
    vigie.alert(to, { text = item.title })
  end
end
"""


# ---- feeds ------------------------------------------------------------------

def item(feed, n, keyword, date=None, summary=""):
    return {"id": "urn:test:%s:%d" % (feed, n),
            "title": "Story %s-%d%s" % (feed, n, " " + KEYWORD if keyword else ""),
            "link": "http://example.org/%s/%d" % (feed, n),
            "date": time.time() if date is None else date,
            "summary": summary}


def rss(name, items):
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
           "<channel><title>%s</title><link>http://example.org/%s</link>"
           "<description>test</description>" % (escape(name), escape(name))]
    for it in items:
        out.append("<item><title>%s</title><link>%s</link>"
                   '<guid isPermaLink="false">%s</guid><pubDate>%s</pubDate>'
                   "<description>%s</description></item>" % (
                       escape(it["title"]), escape(it["link"]),
                       escape(it["id"]),
                       email.utils.formatdate(it["date"], usegmt=True),
                       escape(it["summary"])))
    out.append("</channel></rss>\n")
    return "".join(out).encode()


class GrowingFeeds:
    """n feeds at /grow/I?to=hookJ on a FeedServer. Each request to a feed
    adds 1 to 3 items (ids deterministic; every other item's title has the
    keyword) and serves all of its items, with an ETag of the body, until
    freeze(): then the content stays as it is and a matching If-None-Match
    gets a 304. An item is "served" once a 200 carrying it was written."""

    def __init__(self, srv, n, hooks):
        self.srv = srv
        self.n = n
        self.hooks = hooks
        self.lock = threading.Lock()
        self.items = {i: [] for i in range(n)}
        self.requests = collections.Counter()
        self.after_freeze = collections.Counter()
        self.served = set()  # (feed index, item number)
        self.frozen = False
        self.before_answer = None  # fn(i) -> False: abort the response
        for i in range(n):
            srv.add_route("/grow/%d" % i, self._route(i))

    def url(self, i):
        return self.srv.url("/grow/%d?to=hook%d" % (i, i % self.hooks))

    def key(self, i):
        return self.url(i)  # already in the form vigie keys feeds by

    def item_id(self, i, n):
        return "urn:test:g%d:%d" % (i, n)

    def keyword(self, i, n):
        return (i + n) % 2 == 0

    def freeze(self):
        with self.lock:
            self.frozen = True

    def _route(self, i):
        def handle(h):
            with self.lock:
                r = self.requests[i]
                self.requests[i] += 1
                items = self.items[i]
                if self.frozen:
                    self.after_freeze[i] += 1
                else:
                    for _ in range(1 + (i * 7 + r * 13) % 3):
                        n = len(items)
                        items.append(item("g%d" % i, n, self.keyword(i, n)))
                snapshot = list(items)
            if self.before_answer and self.before_answer(i) is False:
                raise BrokenPipeError("the test killed vigie here")
            body = rss("g%d" % i, snapshot)
            etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            if h.headers.get("If-None-Match") == etag:
                return h.send_body(304, b"", [("ETag", etag)])
            h.send_body(200, body, [("ETag", etag),
                                    ("Content-Type", "application/rss+xml")])
            with self.lock:
                self.served.update((i, k) for k in range(len(snapshot)))
        return handle

    def served_keyword_items(self):
        """{(feed key, item id)} of served items the rule alerts on."""
        with self.lock:
            return {(self.key(i), self.item_id(i, n))
                    for i, n in self.served if self.keyword(i, n)}

    def all_items(self):
        with self.lock:
            return {(i, n) for i in self.items
                    for n in range(len(self.items[i]))}


# ---- the database, read from outside -----------------------------------------

def idh(item_id):
    """How store.c keys an item id in `seen`: SHA-256 of the id and its NUL,
    first 16 bytes."""
    return hashlib.sha256(item_id.encode() + b"\0").digest()[:16]


def open_ro(path):
    """A read-only connection: it neither checkpoints nor removes the WAL,
    so what a killed daemon left is read as the next start will find it."""
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)


def seen_without_alert(db, expected, failures_kept=False):
    """The (feed key, item id) of `expected` that the database marks seen
    but for which it holds no outbox row. With failures_kept, an item whose
    rule failed (say, killed over its time budget on a starved machine) is
    not lost either: its pending row in rule_failures makes the next start
    run it again."""
    if not os.path.exists(db):
        return []
    con = open_ro(db)
    try:
        if con.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'seen'"
                       ).fetchone()[0] == 0:
            return []  # killed before its first start had made the tables
        seen = set(con.execute(
            "SELECT f.key, s.idh FROM seen s JOIN feeds f ON f.id = s.feed"))
        queued = set(con.execute("SELECT feed_key, item_id FROM outbox"))
        if failures_kept:
            queued |= set(con.execute(
                "SELECT f.key, r.item_id FROM rule_failures r "
                "JOIN feeds f ON f.id = r.feed"))
    finally:
        con.close()
    return sorted((k, i) for k, i in expected
                  if (k, idh(i)) in seen and (k, i) not in queued)


# ---- mount namespaces: a small tmpfs for the state directory -----------------

def _ns_prefix():
    """A command prefix running a program in a private mount namespace where
    it may mount (plain `unshare -m` as root, else an unprivileged user
    namespace), or None when this machine allows neither. The mounts vanish
    with the process; the host's mount table is never touched."""
    probe = tempfile.mkdtemp(prefix="vigie-ns-")
    try:
        for pre in ((["unshare", "-m"] if os.geteuid() == 0 else []),
                    ["unshare", "-Urm"]):
            if not pre:
                continue
            try:
                r = subprocess.run(pre + ["--", "sh", "-c",
                                          'mount -t tmpfs -o size=64k tmpfs "$0"',
                                          probe], capture_output=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if r.returncode == 0:
                return pre
        return None
    finally:
        os.rmdir(probe)


NS_PREFIX = _ns_prefix()


def tmpfs_prefix(state_dir, size, fill=False, ro_bind=False):
    """Runs the daemon with state_dir on a fresh tmpfs of `size` (filled to
    the last byte when fill), or state_dir bind-mounted read-only."""
    if ro_bind:
        script = ('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"'
                  ' && exec "$@"')
    else:
        script = ('mkdir -p "$0" && mount -t tmpfs -o size=%s tmpfs "$0"'
                  ' || exit 99; ' % size)
        if fill:
            script += 'cat /dev/zero > "$0/filler" 2>/dev/null; '
        script += 'exec "$@"'
    return NS_PREFIX + ["--", "sh", "-c", script, state_dir]


def in_ns(pid, path):
    """A path as the process `pid` sees it (inside its mount namespace)."""
    return "/proc/%d/root%s" % (pid, os.path.abspath(path))


def ns_sql(pid, db, sql):
    """Rows of a read-only query on the database of the daemon `pid`, run
    inside its mount namespace (SQLite resolves the /proc/PID/root link, so
    it cannot open the file from outside)."""
    enter = ["nsenter", "-t", str(pid), "-m"]
    if NS_PREFIX != ["unshare", "-m"]:
        enter[3:3] = ["-U", "--preserve-credentials"]
    code = ("import json, sqlite3, sys\n"
            "c = sqlite3.connect('file:%s?mode=ro' % sys.argv[1], uri=True,"
            " timeout=30)\n"
            "print(json.dumps(c.execute(sys.argv[2]).fetchall()))\n")
    r = subprocess.run(enter + ["--", sys.executable, "-c", code, db, sql],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s: %s" % (sql, r.stderr.decode()))
    return json.loads(r.stdout)


def fill_up(path):
    """Writes zeros to path until the file system is full."""
    block = bytes(64 << 10)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)
        except OSError:
            pass
        # the last bytes a short write left
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass


# ---- the tests -----------------------------------------------------------------

class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.state = self.tmp.file("state")
        self.db = os.path.join(self.state, "vigie.db")
        self.cfg = self.tmp.file("vigie.lua")
        self.rule = self.tmp.file("rule.lua")
        with open(self.rule, "w") as f:
            f.write(RULE)
        self._daemons, self._servers = [], []

    def tearDown(self):
        for d in self._daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        for s in self._servers:
            s.stop()
        self.tmp.cleanup()

    def feedserver(self):
        srv = FeedServer().start()
        self._servers.append(srv)
        return srv

    def receiver(self):
        rcv = Receiver().start()
        self._servers.append(rcv)
        return rcv

    def config(self, feeds, webhooks, **kw):
        settings = dict(state_dir=self.state, min_interval="1s", interval="1s",
                        allow_private_networks=True, scripts=[self.rule],
                        feeds=feeds, webhooks=webhooks)
        settings.update(kw)
        write_config(self.cfg, **settings)

    @staticmethod
    def hooks(rcv, *names, **extra):
        return {n: dict(url=rcv.url("/" + n), **extra) for n in names}

    def start(self, **kw):
        d = Daemon(self.cfg, **kw)
        self._daemons.append(d)
        return d

    def outbox(self, which=None, ready=True):
        """`vigie outbox list [which] --json`: pending, sending and dead by
        default; "--all" adds the delivered ones. ready=False: None while
        the daemon has not created its database yet."""
        args = ["outbox", "--state-dir", self.state, "list"]
        if which:
            args.append(which)
        r = run(*args, "--json")
        if not ready and r.returncode != 0:
            return None
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(l) for l in r.stdout.decode().splitlines()]

    def drained(self):
        return self.outbox(ready=False) == []

    def delivered(self, n):
        """n alerts in the outbox, all delivered."""
        rows = self.outbox("--all", ready=False)
        return rows is not None and len(rows) == n and all(
            r["state"] == "delivered" for r in rows)


class Killer:
    """SIGKILLs one daemon at the n-th event of one kind (or at once)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.proc = None
        self.kind = None
        self.left = 0
        self.how = None
        self.fired = threading.Event()

    def arm(self, proc, kind, n):
        with self.lock:
            self.proc, self.kind, self.left, self.how = proc, kind, n, None
            self.fired.clear()

    def disarm(self):
        with self.lock:
            self.proc = self.kind = None

    def tick(self, kind):
        """One event of this kind happened; True if the daemon was killed."""
        with self.lock:
            if self.proc is None or self.kind != kind or self.fired.is_set():
                return False
            self.left -= 1
            return self.left <= 0 and self._kill(kind)

    def kill_now(self, how):
        with self.lock:
            return self.proc is not None and not self.fired.is_set() \
                and self._kill(how)

    def _kill(self, how):
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.how = how
        self.fired.set()
        return True


class CrashTest(Base):
    FEEDS = 200
    HOOKS = 8  # in order per target: eight queues drain side by side
    KILLS = 20
    KINDS = ("delay", "fetch", "commit", "post", "posted")

    def test_sigkill_at_random_moments(self):
        seed = int(os.environ.get("VIGIE_CRASH_SEED") or time.time_ns() % 2**32)
        rng = random.Random(seed)
        why = "VIGIE_CRASH_SEED=%d" % seed
        srv = self.feedserver()
        rcv = self.receiver()
        gf = GrowingFeeds(srv, self.FEEDS, self.HOOKS)
        self.config([gf.url(i) for i in range(self.FEEDS)],
                    self.hooks(rcv, *("hook%d" % h for h in range(self.HOOKS))),
                    per_host=16,
                    # this test is about kills, not budgets: a rule call
                    # starved of CPU on a busy machine must not time out
                    rule_timeout="10s")

        killer = Killer()
        gf.before_answer = lambda i: not killer.tick("fetch")
        rcv.on_post = lambda p: not killer.tick("post")
        rcv.after_answer = lambda p: killer.tick("posted")

        def on_line(line):
            if "alert to " in line:  # logged right after a commit
                killer.tick("commit")

        kinds = list(self.KINDS) * (self.KILLS // len(self.KINDS))
        rng.shuffle(kinds)
        bound = 8.0 if SANITIZED else 4.0
        how = collections.Counter()
        for k, kind in enumerate(kinds):
            d = self.start(on_line=on_line)
            n = {"delay": 0, "fetch": rng.randint(1, 250),
                 "commit": rng.randint(1, 80), "post": rng.randint(1, 60),
                 "posted": rng.randint(1, 60)}[kind]
            killer.arm(d.proc, kind, n)
            timer = None
            if kind == "delay":
                timer = threading.Timer(rng.uniform(0.05, 1.5), killer.kill_now,
                                        ("delay",))
                timer.start()
            if not killer.fired.wait(bound):
                killer.kill_now("late " + kind)  # still a random moment
            if timer:
                timer.cancel()
            d.wait_exit()
            how[killer.how] += 1
            killer.disarm()
            self.assertEqual(d.proc.returncode, -signal.SIGKILL,
                             "run %d died by itself (%s):\n%s"
                             % (k, why, d.log_text()[-3000:]))
            lost = seen_without_alert(self.db, gf.served_keyword_items(),
                                      failures_kept=True)
            self.assertEqual(lost, [], "after kill %d (%s, %s): items marked "
                             "seen without their alert" % (k, killer.how, why))

        # Last run: the feeds stop growing; once each was polled twice since
        # (the second poll proves the first committed), every served item has
        # been through the rules; then the outbox drains.
        t_final = time.monotonic()
        gf.freeze()
        d = self.start()
        wait_for(lambda: all(gf.after_freeze[i] >= 2 for i in range(self.FEEDS)),
                 3 * WAIT, lambda: "two polls of each feed after the freeze "
                 "(%s); log:\n%s" % (why, d.log_text()[-3000:]))
        t_polled = time.monotonic()
        wait_for(self.drained, 3 * WAIT,
                 lambda: "the outbox to drain (%s): %d left" % (why, len(self.outbox())))
        t_drained = time.monotonic()
        self.assertEqual(d.stop(), 0, d.log_text()[-3000:])

        expected = gf.served_keyword_items()
        self.assertEqual({(i, n) for i, n in gf.served}, gf.all_items(),
                         "every item was served in the end")
        self.assertGreater(len(expected), self.FEEDS)
        posts = rcv.snapshot()
        by_key = collections.defaultdict(list)
        for p in posts:
            by_key[p.key].append(p)
        # a redelivery is the same alert: same key, same bytes
        for key, ps in by_key.items():
            self.assertEqual(len(set(p.body for p in ps)), 1, key)
        got = collections.Counter()
        answered = set()  # a POST cut short by a kill is not received
        for key, ps in by_key.items():
            body = ps[0].json()
            self.assertEqual(body["id"], key)
            got[(body["feed"]["key"], body["item"]["id"])] += 1
            if any(p.status == 200 for p in ps):
                answered.add((body["feed"]["key"], body["item"]["id"]))
        self.assertEqual(sorted(expected - answered), [],
                         "alerts never received (%s)" % why)
        self.assertEqual(sorted(set(got) - expected), [],
                         "alerts for items the rule does not alert on (%s)" % why)
        twice = sorted(k for k, c in got.items() if c > 1)
        self.assertEqual(twice, [], "items alerted under two keys (%s)" % why)
        # the guarantees were exercised: some alerts were sent again after a
        # kill, and deliveries, fetches and commits were each interrupted
        self.assertTrue(any(len(ps) > 1 for ps in by_key.values()), how)
        for kind in ("fetch", "commit", "post", "posted"):
            self.assertGreater(how[kind], 0, "no kill during %s: %s (%s)"
                               % (kind, dict(how), why))

        if os.environ.get("VIGIE_CRASH_VERBOSE"):
            print("\n%s: kills %s; %d alerts, %d POSTs, %d sent again; "
                  "final run: %.1fs to poll, %.1fs to drain" % (
                why, dict(how), len(expected), len(posts),
                sum(len(ps) > 1 for ps in by_key.values()),
                t_polled - t_final, t_drained - t_polled))
        # the database agrees: every alerting item seen has its alert,
        # delivered; per target, first arrivals follow the queue's order
        self.assertEqual(seen_without_alert(self.db, expected), [], why)
        con = open_ro(self.db)
        try:
            states = collections.Counter(s for s, in con.execute(
                "SELECT state FROM outbox"))
            self.assertEqual(dict(states), {2: len(expected)}, why)
            for h in range(self.HOOKS):
                queued = [k for k, in con.execute(
                    "SELECT key FROM outbox WHERE target = ? ORDER BY id",
                    ("hook%d" % h,))]
                self.assertEqual(rcv.keys("/hook%d" % h), queued,
                                 "hook%d: order of first arrival (%s)" % (h, why))
        finally:
            con.close()


class DeliveryTest(Base):
    def static_feed(self, srv, name, items, **kw):
        srv.add_feed("/feed/" + name, rss(name, items), **kw)
        return srv.url("/feed/" + name)

    def rows(self, target):
        return sorted((r for r in self.outbox("--all", ready=False) or ()
                       if r["target"] == target), key=lambda r: r["id"])

    def test_refused_then_500_then_429_then_delivered_in_order(self):
        srv = self.feedserver()
        rcv = self.receiver()
        rcv.stop_listening()  # keeps its port: connections are refused
        items = [item("a", n, True) for n in range(4)]
        # ten growing feeds alert "b" all along: their commits wake the
        # delivery up at many moments, also while "a" waits out its 429
        gf = GrowingFeeds(srv, 10, 1)
        feeds = [self.static_feed(srv, "a", items) + "?to=a"]
        feeds += [gf.url(i).replace("to=hook0", "to=b") for i in range(10)]
        self.config(feeds, self.hooks(rcv, "a", "b"))

        def answer(p):
            if p.path == "/a" and p.n_path <= 2:
                return 500
            if p.path == "/a" and p.n_path == 3:
                # answered late in a wall-clock second: a wait reckoned
                # from whole seconds would end barely one second later
                time.sleep((0.9 - time.time() % 1) % 1)
                return (429, {"Retry-After": "2"})
            return 200
        rcv.answer = answer
        d = self.start()
        d.wait_log("to a: ")  # a failed attempt: nobody listening
        rcv.listen()
        wait_for(lambda: len(self.rows("a")) == 4 and all(
            r["state"] == "delivered" for r in self.rows("a")),
            3 * WAIT, lambda: "the alerts to a delivered; log:\n" + d.log_text())
        self.assertEqual(d.stop(), 0)

        refused = [l for l in d.log() if "to a: " in l and "retry" in l][0]
        self.assertIn("onnect", refused)  # curl: "Couldn't connect", "Connection refused"
        rows = self.rows("a")
        # in the order they were queued (which is the items' order)
        self.assertEqual(rcv.keys("/a"), [r["key"] for r in rows])
        self.assertEqual([r["item_id"] for r in rows], [i["id"] for i in items])
        posts = rcv.snapshot("/a")
        self.assertEqual([p.status for p in posts], [500, 500, 429, 200, 200, 200, 200])
        self.assertEqual(len({p.key for p in posts[:4]}), 1)  # the head, retried
        self.assertGreaterEqual(rows[0]["attempts"], 5)  # refused, 500, 500, 429, 200
        # Retry-After: 2 was honoured: the next POST to "a" came at least 2 s
        # after the 429 was answered (a lower bound vigie must respect)
        gap = posts[3].t - posts[2].t_answered
        self.assertGreaterEqual(gap, 2.0, "POST %.3fs after the 429" % gap)
        # "b" went on meanwhile, in its own order
        b = [r["key"] for r in self.rows("b")]
        self.assertGreater(len(rcv.keys("/b")), 0)
        self.assertEqual(rcv.keys("/b"), b[:len(rcv.keys("/b"))])

    def test_400_is_dead_at_once_and_retried_by_hand(self):
        srv = self.feedserver()
        rcv = self.receiver()
        rcv.answer = (400, {"Content-Type": "application/json"},
                      b'{"error":"bad payload: no channel"}\n')
        it = item("dead", 1, True)
        self.config([self.static_feed(srv, "dead", [it]) + "?to=hook"],
                    self.hooks(rcv, "hook"))
        d = self.start()
        line = d.wait_log("dead-lettered") and [
            l for l in d.log() if "dead-lettered" in l][0]
        self.assertRegex(line, r" error +alert ")  # at error level
        self.assertIn("HTTP 400", line)
        self.assertIn('{"error":"bad payload: no channel"}', line)
        self.assertIn(it["title"], line)
        [row] = self.outbox()
        self.assertEqual((row["state"], row["status"], row["attempts"]),
                         ("dead", 400, 1))
        self.assertEqual(row["response"], '{"error":"bad payload: no channel"} ')
        text = run("outbox", "--state-dir", self.state, "list").stdout.decode()
        self.assertIn("dead", text)
        self.assertIn('HTTP 400: {"error":"bad payload: no channel"}', text)
        # dead at once: no second POST while the feed is polled again
        # (well past the first retry a 5xx would have had)
        polls = sum("feed " in l for l in d.log())
        d.wait_log("feed ", polls + 3)
        self.assertEqual(rcv.count(), 1)

        rcv.answer = 200
        r = run("outbox", "--state-dir", self.state, "retry", str(row["id"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        # the daemon is told (SIGUSR1), not left to its 5-minute look
        self.assertIn(b"will be sent now (the daemon was told)", r.stdout)
        wait_for(lambda: rcv.count() >= 2, 2 * WAIT, "the retried alert")
        wait_for(lambda: self.outbox() == [], WAIT, "the retry recorded")
        self.assertEqual(d.stop(), 0)
        first, second = rcv.snapshot()
        self.assertEqual(second.key, first.key)
        self.assertEqual(second.key, row["key"])
        self.assertEqual(second.body, first.body)
        self.assertEqual([r["state"] for r in self.outbox("--all")], ["delivered"])

    def test_signature_and_stable_key(self):
        srv = self.feedserver()
        rcv = self.receiver()
        secret = "t0p-s3cret"
        rcv.answer = lambda p: 500 if p.n_key == 1 else 200  # each one twice
        items = [item("sig", n, True) for n in range(3)]
        self.config([self.static_feed(srv, "sig", items) + "?to=hook"],
                    self.hooks(rcv, "hook", secret=secret))
        d = self.start()
        wait_for(lambda: self.delivered(3), 3 * WAIT, lambda: "three alerts delivered; log:\n" + d.log_text())
        self.assertEqual(d.stop(), 0)
        posts = rcv.snapshot()
        self.assertEqual(len(posts), 6)
        for p in posts:
            self.assertTrue(p.signed_with(secret), (p, p.signature))
            self.assertFalse(p.signed_with(secret + "x"))
        by_key = collections.defaultdict(list)
        for p in posts:
            by_key[p.key].append(p)
        self.assertEqual(sorted(by_key), sorted(r["key"] for r in self.outbox("--all")))
        for key, (a, b) in by_key.items():
            self.assertRegex(key, "^[0-9a-f]{64}$")
            self.assertEqual((a.status, b.status), (500, 200))
            self.assertEqual(a.body, b.body)  # the same alert, byte for byte
            self.assertEqual(a.signature, b.signature)
            self.assertEqual(a.json()["id"], key)
        self.assertEqual(sorted(p.json()["item"]["id"] for p in posts[::2]),
                         sorted(i["id"] for i in items))

    def test_restart_after_clean_stop_realerts_nothing(self):
        srv = self.feedserver()
        rcv = self.receiver()
        v = [item("v", n, n < 3) for n in range(5)]    # with an ETag
        nv = [item("nv", n, n < 3) for n in range(5)]  # without validators
        feeds = [self.static_feed(srv, "v", v, etag='"v1"') + "?to=hook",
                 self.static_feed(srv, "nv", nv) + "?to=hook"]
        self.config(feeds, self.hooks(rcv, "hook"))
        d = self.start()
        wait_for(lambda: rcv.count() >= 6 and self.drained(), 2 * WAIT,
                 lambda: "six alerts delivered; log:\n" + d.log_text())
        self.assertEqual(d.stop(), 0)
        self.assertEqual(rcv.count(), 6)
        before = len(srv.requests)

        d = self.start()
        # a second poll of each feed means the first one was committed
        for f in ("/feed/v", "/feed/nv"):
            wait_for(lambda: len([r for r in srv.requests[before:]
                                  if r.path.startswith(f)]) >= 2, WAIT,
                     lambda: "two polls of %s; log:\n%s" % (f, d.log_text()))
        self.assertEqual(d.stop(), 0)
        again = srv.requests[before:]
        first_v = [r for r in again if r.path.startswith("/feed/v?")][0]
        self.assertEqual(first_v.header("if-none-match"), '"v1"')
        self.assertTrue(any(r.path.startswith("/feed/nv?") for r in again))
        self.assertNotIn("alert to", d.log_text())
        self.assertEqual(len(self.outbox("--all")), 6)
        self.assertEqual(rcv.count(), 6)


class StateDirTest(Base):
    def setUp(self):
        super().setUp()
        self.srv = self.feedserver()
        self.rcv = self.receiver()

    def run_vigie(self, prefix=(), preexec_fn=None):
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        from vigietest import VIGIE
        return subprocess.run([*prefix, VIGIE, "run", "-c", self.cfg, "--once"],
                              capture_output=True, timeout=120, env=env,
                              preexec_fn=preexec_fn)

    def plain_config(self, **kw):
        self.srv.add_feed("/feed/p", rss("p", [item("p", 1, False)]))
        self.config([self.srv.url("/feed/p")], self.hooks(self.rcv, "hook"), **kw)

    def need_ns(self):
        if NS_PREFIX is None:
            self.skipTest("needs a mount namespace (root, or unprivileged "
                          "user namespaces) to give the state a small tmpfs")

    def test_state_dir_not_writable_at_start(self):
        self.plain_config()
        os.makedirs(self.state)
        preexec = None
        if os.geteuid() == 0:
            # root writes anywhere: run as nobody, who may read the config
            # but not write the root-owned state directory
            os.chmod(self.tmp.path, 0o755)

            def preexec():
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
        else:
            os.chmod(self.state, 0o555)
        r = self.run_vigie(preexec_fn=preexec)
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode()
        self.assertTrue(err.startswith("vigie: %s: " % self.state), err)
        self.assertIn("not writable: Permission denied", err)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertEqual(os.listdir(self.state), [])

    def test_read_only_file_system_at_start(self):
        self.need_ns()
        self.plain_config()
        r = self.run_vigie()  # creates the database
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.db, "rb") as f:
            before = f.read()
        r = self.run_vigie(tmpfs_prefix(self.state, None, ro_bind=True))
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode()
        self.assertTrue(err.startswith("vigie: %s: " % self.state), err)
        self.assertIn("Read-only file system", err)
        self.assertEqual(err.count("\n"), 1, err)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_disk_full_at_start(self):
        self.need_ns()
        self.plain_config()
        r = self.run_vigie(tmpfs_prefix(self.state, "256k", fill=True))
        self.assertEqual(r.returncode, 2, r.stderr)
        err = r.stderr.decode()
        self.assertTrue(err.startswith("vigie: %s: " % self.db), err)
        self.assertIn("database or disk is full", err)
        self.assertEqual(err.count("\n"), 1, err)

    def test_disk_full_during_a_run(self):
        self.need_ns()
        path = "/feed/full"
        quiet = [item("full", 0, False)]
        self.srv.add_feed(path, rss("full", quiet))  # no validators: a 200 each time
        self.config([self.srv.url(path) + "?to=hook"], self.hooks(self.rcv, "hook"))
        d = self.start(prefix=tmpfs_prefix(self.state, "8m"))
        d.wait_log("1 new")
        filler = in_ns(d.proc.pid, os.path.join(self.state, "filler"))
        fill_up(filler)
        # a new item worth alerting, big enough that its transaction must
        # grow the database's files
        big = item("full", 1, True, summary="lorem ipsum " * 75000)
        body = rss("full", quiet + [big])
        served = []  # which polls of the feed carried it (1-based)

        def serve(h):
            served.append(len(self.srv.requests_to(path)))
            h.send_body(200, body, [("Content-Type", "application/rss+xml")])
        self.srv.add_route(path, serve)
        url = self.srv.url(path) + "?to=hook"

        def outcome_of_first_big_poll():
            # one line per poll, in order: "feed URL: ..."
            polls = [l for l in d.log() if "feed %s: " % url in l]
            return served and len(polls) >= served[0] and polls[served[0] - 1]
        line = wait_for(outcome_of_first_big_poll, WAIT,
                        lambda: "the big item's poll; log:\n" + d.log_text())
        self.assertRegex(line, r" error +feed ")
        self.assertIn("database or disk is full", line)
        self.assertIn(self.srv.url(path), line)
        # the next poll is the planned one (the interval is 1s), not a
        # backoff: a local failure is no reason to leave the feed alone
        self.assertLessEqual(int(line.split("retry in ")[1].split("s")[0]), 1,
                             line)
        # nothing of that poll was kept: the item is not seen, no alert
        seen = "SELECT count(*) FROM seen WHERE idh = x'%s'" % idh(big["id"]).hex()
        self.assertEqual(ns_sql(d.proc.pid, self.db, seen), [[0]])
        self.assertEqual(ns_sql(d.proc.pid, self.db, "SELECT count(*) FROM outbox"),
                         [[0]])
        # (the query can see what the daemon wrote)
        self.assertEqual(ns_sql(d.proc.pid, self.db, "SELECT count(*) FROM seen"),
                         [[1]])
        self.assertEqual(self.rcv.count(), 0)
        # space back: the next poll runs the rules again, the alert goes out
        os.unlink(filler)
        wait_for(lambda: self.rcv.count() >= 1, 2 * WAIT,
                 lambda: "the alert once space was back; log:\n" + d.log_text())
        polls = sum("feed " in l for l in d.log())
        d.wait_log("feed ", polls + 2)  # more polls: no second alert
        self.assertEqual(d.stop(), 0)
        [p] = self.rcv.snapshot()
        self.assertEqual(p.json()["item"]["id"], big["id"])

    def test_corrupt_database_is_named_and_left_alone(self):
        self.plain_config()
        os.makedirs(self.state)
        # garbage from the first byte
        garbage = random.Random(5).randbytes(64 << 10)
        with open(self.db, "wb") as f:
            f.write(garbage)
        r = self.run_vigie()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(self.db.encode(), r.stderr)
        self.assertIn(b"not an SQLite database", r.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), garbage)
        self.assertEqual(os.listdir(self.state), ["vigie.db"])
        # a real vigie database whose pages were damaged (header intact)
        os.unlink(self.db)
        self.assertEqual(self.run_vigie().returncode, 0)
        with open(self.db, "rb") as f:
            data = bytearray(f.read())
        data[100:] = random.Random(6).randbytes(len(data) - 100)
        with open(self.db, "wb") as f:
            f.write(data)
        for name in os.listdir(self.state):
            if name != "vigie.db":
                os.unlink(os.path.join(self.state, name))
        r = self.run_vigie()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertTrue(r.stderr.startswith(b"vigie: " + self.db.encode()), r.stderr)
        self.assertIn(b"malformed", r.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), bytes(data))
        self.assertEqual(os.listdir(self.state), ["vigie.db"])


if __name__ == "__main__":
    unittest.main()
