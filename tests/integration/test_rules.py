"""`vigie test` and the shipped rules: the actions they produce on fixtures,
the sandbox seen from the command line, exit codes."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

from vigietest import ROOT, VIGIE, fixture, parse_json_lines, run


def script(name):
    return os.path.join(ROOT, "scripts", name)


def rules_fixture(name):
    return fixture(os.path.join("rules", name))


def by_item(actions, kind):
    return {a["item"]["id"]: a for a in actions if a["action"] == kind}


class LargeWatchListTest(unittest.TestCase):
    def test_thousand_keywords_under_the_sandbox(self):
        # Sorting a large keyword list makes glibc ask the kernel how much
        # memory there is (sysinfo): the worker's seccomp filter must let
        # that fail politely, not kill the worker.
        words = ["Ključ%04d" % i for i in range(1000)] + ["Kosovo"]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write("local m = vigie.keywords{%s}\n" % ", ".join('"%s"' % w for w in words))
            f.write("function on_item(it)\n"
                    "  local h = m:match(it.title .. ' ' .. it.summary)\n"
                    "  if #h > 0 then vigie.alert('x', { k = h }) end\nend\n")
            path = f.name
        try:
            r = run("test", "-s", path, os.path.join(ROOT, "feeds/samples/nato-en.xml"))
        finally:
            os.unlink(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        alerts = [a for a in parse_json_lines(r.stdout) if a["action"] == "alert"]
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["payload"]["k"], ["Kosovo"])


class BalkansTest(unittest.TestCase):
    def test_seed_press_release_in_french(self):
        r = run("test", "-s", script("balkans.lua"), rules_fixture("nato-fr.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        stores, alerts = by_item(acts, "store"), by_item(acts, "alert")
        seed = "https://www.nato.int/cps/fr/natohq/news_228530.htm"
        # only the press release matches; the Oslo/Otaniemi item does not
        self.assertEqual(set(stores), {seed})
        self.assertEqual(set(alerts), {seed})
        tags = stores[seed]["tags"]
        # the French text writes the officials without their diacritics
        for name in ["Western Balkans", "Boris Ruge", "Bosnia and Herzegovina",
                     "Kosovo", "KFOR", "Mitrovica", "Pristina",
                     "Aleksandar Vučić", "Marko Đurić", "Elmedin Konaković"]:
            self.assertIn(name, tags)
        self.assertEqual(len(tags), len(set(tags)))
        self.assertEqual(tags[:2], ["Western Balkans", "Boris Ruge"])
        alert = alerts[seed]
        self.assertEqual(alert["target"], "analyst")
        self.assertEqual(alert["payload"]["keywords"], tags)
        self.assertTrue(alert["payload"]["text"].startswith(
            "[Western Balkans, Boris Ruge, "))
        self.assertEqual(alert["payload"]["published"], "2024-08-23T13:27:00Z")
        self.assertEqual(alert["payload"]["source"], "OTAN - Actualités")
        self.assertEqual(alert["item"]["feed"]["title"], "OTAN - Actualités")
        self.assertIn(b"2 items, 2 actions (1 alert, 1 store, 0 logs), 0 errors",
                      r.stderr)

    def test_english_variants_and_decoys(self):
        r = run("test", "-s", script("balkans.lua"), "--name", "nato-en",
                rules_fixture("balkans-en.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        stores = by_item(acts, "store")
        self.assertEqual(set(stores), {"nato-228531", "ascii-1", "mitrovica-1"})
        self.assertEqual(stores["nato-228531"]["tags"],
                         ["Western Balkans", "Aleksandar Vučić", "Boris Ruge",
                          "Marko Đurić", "KFOR"])
        # capitals, no diacritics
        self.assertEqual(stores["ascii-1"]["tags"],
                         ["Aleksandar Vučić", "Elmedin Konaković",
                          "Bosnia and Herzegovina"])
        self.assertEqual(stores["mitrovica-1"]["tags"],
                         ["Mitrovica", "Pristina", "KFOR"])
        alerts = by_item(acts, "alert")
        self.assertEqual(alerts["ascii-1"]["payload"]["source"], "nato-en")
        self.assertEqual(alerts["ascii-1"]["item"]["feed"]["name"], "nato-en")
        # Rugerio, KFORCE, Otaniemi, Kosovars: whole words only
        self.assertNotIn("decoy-1", stores)
        self.assertNotIn("weather-1", stores)


class ShippedScriptsTest(unittest.TestCase):
    def test_store_all(self):
        r = run("test", "-s", script("store-all.lua"),
                rules_fixture("security.rss"), rules_fixture("nato-fr.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([a["action"] for a in acts], ["store"] * 5)
        stores = by_item(acts, "store")
        self.assertEqual(stores["adv-2024-001"]["tags"], ["advisory", "critical"])
        self.assertEqual(stores["news-conf"]["tags"], [])

    def test_custom_payload_lists_stay_lists(self):
        # An empty list is [] in the payload, never {}: a typed receiver
        # must not see a field change type with its length.
        feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
                '<item><guid>a</guid><title>Fix for CVE-2024-12345</title></item>'
                '<item><guid>b</guid><title>Ransomware gang strikes</title></item>'
                '</channel></rss>')
        with tempfile.NamedTemporaryFile("w", suffix=".rss") as f:
            f.write(feed)
            f.flush()
            r = run("test", "-s", script("custom-payload.lua"), f.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        alerts = by_item(parse_json_lines(r.stdout), "alert")
        self.assertEqual(alerts["a"]["payload"]["cves"], ["CVE-2024-12345"])
        self.assertEqual(alerts["a"]["payload"]["matched"], [])
        self.assertEqual(alerts["b"]["payload"]["cves"], [])
        self.assertEqual(alerts["b"]["payload"]["matched"], ["ransomware"])

    def test_custom_payload(self):
        r = run("test", "-s", script("custom-payload.lua"),
                rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([a["action"] for a in acts], ["alert", "log"])
        alert = acts[0]
        self.assertEqual(alert["target"], "security")
        p = alert["payload"]
        self.assertEqual(p["schema"], "vigie.advisory/1")
        self.assertEqual(p["severity"], "high")
        self.assertEqual(p["cves"], ["CVE-2024-12345", "CVE-2024-12346"])
        self.assertEqual(p["matched"],
                         ["remote code execution", "actively exploited"])
        self.assertEqual(p["published"], 1725267600)
        self.assertEqual(p["url"], "https://cert.example.org/adv/2024-001")
        self.assertNotIn("text", p)  # the rule's own body, not {text=...}
        log = acts[1]
        self.assertEqual(log["level"], "info")
        self.assertEqual(log["item"]["id"], "adv-2024-002")
        self.assertIn("not urgent", log["message"])


class SandboxTest(unittest.TestCase):
    """What a broken rule looks like from the command line."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def bad_second_item(self, body):
        # security.rss: adv-2024-001, adv-2024-002, news-conf
        return self.write("bad.lua",
                          "function on_item(item)\n"
                          "  if item.id == 'adv-2024-002' then\n"
                          f"    {body}\n"
                          "  end\n"
                          "  vigie.store(item)\n"
                          "end\n")

    def check_fails_then_next(self, body, want, *opts):
        path = self.bad_second_item(body)
        r = run("test", "-s", path, *opts, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1, r.stderr)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([(a["action"], a["item"]["id"]) for a in acts],
                         [("store", "adv-2024-001"), ("error", "adv-2024-002"),
                          ("store", "news-conf")])
        self.assertIn(want, acts[1]["message"])
        self.assertEqual(acts[1]["script"], path)
        self.assertIn(b"1 error", r.stderr)
        return acts[1]

    def test_runtime_error_on_one_item(self):
        err = self.check_fails_then_next("local t = nil; t.x = 1",
                                         "bad.lua:3: attempt to index")
        self.assertIn("stack traceback", err["message"])

    def test_infinite_loop(self):
        self.check_fails_then_next("while true do end",
                                   "time budget exceeded (200 ms)",
                                   "--timeout", "200ms")

    def test_backtracking_find_is_killed(self):
        self.check_fails_then_next(
            "('a'):rep(5000):find(('(.-)'):rep(8) .. 'b')", "killed after",
            "--timeout", "200ms")

    def test_no_files_or_network(self):
        self.check_fails_then_next("io.open('/etc/passwd')", "(global 'io')")
        self.check_fails_then_next("require 'socket'",
                                   "module 'socket' is not available")

    def test_memory_cap(self):
        self.check_fails_then_next(
            "local t, s = {}, ('x'):rep(2^20)\n"
            "for i = 1, 10 * 2^10 do t[i] = s .. i end",
            "memory limit exceeded (16 MiB)", "--memory", "16MiB")

    def test_memory_error_caught_by_pcall_still_fails_the_call(self):
        self.check_fails_then_next(
            "pcall(function() local t = {}\n"
            "  for i = 1, 100 do t[i] = ('x'):rep(2^20) .. i end end)",
            "memory limit exceeded (16 MiB)", "--memory", "16MiB")

    def test_error_with_half_a_character(self):
        # The message is repaired, not refused on its way from the rule
        # worker: no worker restart, so the other script keeps its state.
        bad = self.write("half.lua",
                         "function on_item(item)\n"
                         "  if item.id == 'adv-2024-002' then\n"
                         "    error('x' .. ('\\195\\169'):sub(1, 1))\n"
                         "  end\nend\n")
        count = self.write("count.lua",
                           "local n = 0\n"
                           "function on_item(item) n = n + 1; vigie.log('info', 'n=%d', n) end\n")
        r = run("test", "-s", bad, "-s", count, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([a["message"] for a in acts if a["action"] == "log"],
                         ["n=1", "n=2", "n=3"])
        errs = [a for a in acts if a["action"] == "error"]
        self.assertEqual(len(errs), 1)
        self.assertTrue(errs[0]["message"].startswith("%s:3: x\ufffd" % bad),
                        errs[0]["message"])
        self.assertIn(b"3 actions (0 alerts, 0 stores, 3 logs), 1 error", r.stderr)

    def test_latin1_script_load_error_is_valid_json(self):
        path = os.path.join(self.dir.name, "latin1.lua")
        with open(path, "wb") as f:
            f.write(b'local m = vigie.keywords{"Herz\xe9govine}\n')
        r = run("test", "-s", path, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1)
        acts = parse_json_lines(r.stdout)  # strict UTF-8 JSON
        self.assertEqual(len(acts), 1)
        self.assertIn("Herz\ufffdgovine", acts[0]["message"])

    def test_load_errors_exit_1_once(self):
        path = self.write("syntax.lua", "function on_item(item)\n  x = = 1\nend\n")
        r = run("test", "-s", path, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1)
        acts = parse_json_lines(r.stdout)
        self.assertEqual(len(acts), 1)
        self.assertEqual(acts[0]["action"], "error")
        self.assertIsNone(acts[0]["item"])
        self.assertIn("syntax.lua:2:", acts[0]["message"])
        self.assertIn(b"syntax.lua:2:", r.stderr)
        path = self.write("top.lua", "error('refused at load')\n")
        r = run("test", "-s", path, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"top.lua:1: refused at load", r.stderr)

    def test_print_and_log_lines(self):
        path = self.write("talk.lua",
                          "print('loading')\n"
                          "function on_item(item)\n"
                          "  vigie.log('warning', 'seen %s', item.id)\n"
                          "end\n")
        r = run("test", "-s", path, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([(a["level"], a["message"]) for a in acts],
                         [("info", "loading"), ("warning", "seen adv-2024-001"),
                          ("warning", "seen adv-2024-002"),
                          ("warning", "seen news-conf")])
        self.assertIsNone(acts[0]["item"])

    def test_scripts_run_in_order(self):
        a = self.write("a.lua", "function on_item(item) vigie.alert('x', 'a') end\n")
        b = self.write("b.lua", "function on_item(item) vigie.alert('x', 'b') end\n")
        r = run("test", "-s", a, "-s", b, rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 0, r.stderr)
        acts = parse_json_lines(r.stdout)
        self.assertEqual([a["payload"]["text"] for a in acts], ["a", "b"] * 3)


def children(pid):
    """Process ids whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d))
    return out


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class StarvedWorkerTest(unittest.TestCase):
    """The budget is for what a rule does, not for what the machine does to
    it: a worker that gets no CPU (here: stopped) is not killed for it."""

    def test_a_stopped_worker_is_given_the_time_it_did_not_get(self):
        with tempfile.TemporaryDirectory() as d:
            rule = os.path.join(d, "slow.lua")
            with open(rule, "w") as f:
                # a C call the Lua hook cannot see: about 0.6 s of CPU here,
                # well under the 2 s budget (killed at 4.1 s)
                f.write("function on_item(item)\n"
                        "  ('a'):rep(55):find(('(.-)'):rep(5) .. 'b')\n"
                        "  vigie.store(item)\n"
                        "end\n")
            p = subprocess.Popen([VIGIE, "test", "-s", rule, "--timeout", "2s",
                                  rules_fixture("security.rss")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                worker = None
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and p.poll() is None:
                    kids = children(p.pid)
                    if kids and cpu_ticks(kids[0]) >= 10:  # inside a call
                        worker = kids[0]
                        break
                    time.sleep(0.01)
                self.assertIsNotNone(worker, "no busy rule worker seen")
                os.kill(worker, signal.SIGSTOP)
                time.sleep(6)  # longer than the 4.1 s it may take by the clock
                os.kill(worker, signal.SIGCONT)
                out, err = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        self.assertEqual(p.returncode, 0, err.decode())
        acts = parse_json_lines(out)
        self.assertEqual([a["action"] for a in acts], ["store"] * 3,
                         err.decode())


class UsageTest(unittest.TestCase):
    def test_usage_errors(self):
        feed = rules_fixture("security.rss")
        for args in [("test", feed), ("test", "-s", script("store-all.lua")),
                     ("test", "-s"), ("test", "--frobnicate", feed),
                     ("test", "-s", script("store-all.lua"), "--timeout", "2",
                      feed)]:
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(b"vigie: test:", r.stderr)

    def test_help(self):
        r = run("test", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"usage: vigie test -s SCRIPT", r.stdout)

    def test_missing_file_fails(self):
        r = run("test", "-s", script("store-all.lua"), "/nonexistent.rss",
                rules_fixture("security.rss"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"vigie: test: /nonexistent.rss:", r.stderr)
        self.assertEqual(len(parse_json_lines(r.stdout)), 3)
        self.assertIn(b"3 actions (0 alerts, 3 stores, 0 logs), 1 error", r.stderr)

    def test_not_a_feed_said_once(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write("hello\n")
            f.flush()
            r = run("test", "-s", script("store-all.lua"), f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b": not a feed: the document is neither XML nor JSON", r.stderr)
        self.assertNotIn(b"not a feed: not a feed", r.stderr)

    def test_many_files_keep_their_order(self):
        # The worker runs one file's rules while the next is parsed: the
        # output still comes file by file, item by item, and a bad file or
        # a failing item in between changes nothing around it.
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        d = tmp.name
        rule = os.path.join(d, "r.lua")
        with open(rule, "w") as f:
            f.write("function on_item(it)\n"
                    "  if it.title == 'boom' then error('boom') end\n"
                    "  vigie.alert('x', it.title)\nend\n")
        files, want = [], []
        for i in range(9):
            p = os.path.join(d, "%d.rss" % i)
            if i == 4:
                with open(p, "w") as f:
                    f.write("not a feed at all\n")
            else:
                titles = ["f%d-i%d" % (i, k) for k in range(i + 1)]
                if i == 6:
                    titles[1] = "boom"
                with open(p, "w") as f:
                    f.write("<rss><channel><title>c</title>%s</channel></rss>" %
                            "".join("<item><guid>%s-%d</guid><title>%s</title></item>"
                                    % (p, k, t) for k, t in enumerate(titles)))
                want += [("alert", t) if t != "boom" else ("error", None)
                         for t in titles]
            files.append(p)
        files.insert(7, os.path.join(d, "missing.rss"))
        r = run("test", "-s", rule, *files)
        self.assertEqual(r.returncode, 1)
        acts = parse_json_lines(r.stdout)
        got = [(a["action"], a["payload"]["text"] if a["action"] == "alert" else None)
               for a in acts]
        self.assertEqual(got, want)
        self.assertIn(b"not a feed", r.stderr)
        self.assertIn(b"missing.rss", r.stderr)
        self.assertIn(b"40 items, 39 actions (39 alerts, 0 stores, 0 logs), 3 errors",
                      r.stderr)

    def test_stdin(self):
        with open(rules_fixture("security.rss"), "rb") as f:
            r = run("test", "-s", script("store-all.lua"), "-", input=f.read())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(parse_json_lines(r.stdout)), 3)


if __name__ == "__main__":
    unittest.main()
