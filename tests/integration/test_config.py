"""`vigie check`: good and bad configs, exit codes, the exact error line."""
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import unittest

from vigietest import ROOT, VIGIE, fixture, run


def cfg(name):
    return fixture(os.path.join("config", name))


def run_in(cwd, *args):
    """vigie with another working directory."""
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    return subprocess.run([VIGIE, *args], capture_output=True, timeout=60,
                          cwd=cwd, env=e)


class CheckFixturesTest(unittest.TestCase):
    def test_good_config(self):
        r = run("check", "-c", cfg("good.lua"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # 3 feeds of its own + 6 from feeds/example.opml (folders flattened,
        # the note without xmlUrl skipped)
        self.assertEqual(
            r.stdout.decode(),
            cfg("good.lua") + ": ok: 9 feeds, 3 webhooks, 1 script\n")
        self.assertEqual(r.stderr, b"")

    def expect(self, name, message):
        r = run("check", "-c", cfg(name))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(r.stderr.decode(), "vigie: " + message + "\n")

    def test_interval_below_min_interval(self):
        self.expect("bad_interval.lua",
                    cfg("bad_interval.lua") + ': feeds[2].interval: "30s" '
                    "is below min_interval (1m)")

    def test_unknown_key_with_line_and_suggestion(self):
        self.expect("bad_unknown_key.lua",
                    cfg("bad_unknown_key.lua") + ":3: intervall: unknown "
                    'setting (did you mean "interval"?)')

    def test_syntax_error_names_file_and_line(self):
        self.expect("bad_syntax.lua",
                    cfg("bad_syntax.lua") + ":3: '}' expected (to close '{' "
                    "at line 1) near '{'")

    def test_endless_loop_is_cut(self):
        self.expect("bad_loop.lua",
                    cfg("bad_loop.lua") + ":2: ran more than 200000000 Lua "
                    "instructions (an endless loop?)")

    def test_duplicate_after_normalisation(self):
        self.expect("bad_duplicate.lua",
                    cfg("bad_duplicate.lua") + ': feeds[2]: duplicate feed '
                    '"https://news.EXAMPLE:443/rss" (same as feeds[1])')

    def test_unknown_webhook_format(self):
        self.expect("bad_webhook.lua",
                    cfg("bad_webhook.lua") + ': webhooks.ops.format: unknown '
                    'format "teams" (use json, slack, discord, mattermost, '
                    "ntfy, matrix or a function)")

    def test_script_with_syntax_error(self):
        self.expect("bad_script.lua",
                    cfg("rules/broken.lua") + ":4: unexpected symbol near "
                    "'then'")

    def test_sandbox_has_no_os_execute(self):
        marker = "/tmp/vigie-config-sandbox-escaped"
        if os.path.exists(marker):
            os.unlink(marker)
        self.expect("bad_sandbox.lua",
                    cfg("bad_sandbox.lua") + ":2: attempt to call a nil value "
                    "(field 'execute')")
        self.assertFalse(os.path.exists(marker))


class CheckCommandLineTest(unittest.TestCase):
    def test_help(self):
        for flag in ("-h", "--help"):
            r = run("check", flag)
            self.assertEqual(r.returncode, 0)
            self.assertIn(b"usage: vigie check [-c FILE]", r.stdout)
            self.assertIn(b"/etc/vigie/vigie.lua", r.stdout)

    def test_listed_in_help(self):
        r = run("help")
        self.assertIn(b"vigie check [-c FILE]", r.stdout)

    def test_missing_argument(self):
        r = run("check", "-c")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, b"vigie: check: -c needs a file name\n")

    def test_unexpected_argument(self):
        r = run("check", "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"vigie: check: extra: unexpected argument\n", r.stderr)

    def test_other_spellings_of_c(self):
        for args in (["--config", cfg("good.lua")],
                     ["--config=" + cfg("good.lua")],
                     ["-c" + cfg("good.lua")]):
            r = run("check", *args)
            self.assertEqual(r.returncode, 0, (args, r.stderr))

    def test_default_path(self):
        if os.path.exists("/etc/vigie/vigie.lua"):
            self.skipTest("/etc/vigie/vigie.lua exists on this machine")
        r = run("check")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(
            r.stderr,
            b"vigie: /etc/vigie/vigie.lua: No such file or directory\n")


class CheckTempTreeTest(unittest.TestCase):
    """Configs written to a temporary directory."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vigie-itest-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, rel, text):
        p = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_relative_paths_follow_the_config_not_the_cwd(self):
        self.write("conf/rules/r.lua", "function on_item(i) end\n")
        self.write("conf/lists/subs.opml",
                   '<opml><body><outline xmlUrl="https://a.example/"/>'
                   "</body></opml>")
        p = self.write("conf/vigie.lua",
                       'scripts = { "rules/r.lua" }\n'
                       'feeds = { vigie.opml("lists/subs.opml"),'
                       ' { path = "../data/x.xml" } }\n')
        elsewhere = tempfile.mkdtemp(prefix="vigie-itest-cwd-")
        try:
            r = run_in(elsewhere, "check", "-c", p)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b": ok: 2 feeds, 0 webhooks, 1 script\n", r.stdout)
            # and a relative -c is taken from the cwd
            r = run_in(self.dir, "check", "-c", "conf/vigie.lua")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(
                r.stdout.decode(),
                os.path.join(self.dir, "conf/vigie.lua") +
                ": ok: 2 feeds, 0 webhooks, 1 script\n")
        finally:
            shutil.rmtree(elsewhere)

    def test_missing_feed_file_is_a_warning_naming_it(self):
        """A local feed that is not there yet warns; check still passes, so
        a start or reload is not refused for a file another program
        writes later."""
        self.write("data/here.xml", "<rss/>")
        p = self.write("vigie.lua",
                       'feeds = { { path = "data/here.xml" },'
                       ' { path = "data/not-yet.xml" } }\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("warning: %s: feeds[2].path: %s: No such file" % (
            p, os.path.join(self.dir, "data/not-yet.xml")), err)
        self.assertNotIn("here.xml", err)
        self.assertIn(b": ok: 2 feeds", r.stdout)

    def test_international_domain_names(self):
        """A host written in Unicode is the feed of its punycode form (one
        key, so the same feed twice is caught); a name that is not a valid
        IDN is refused here, with the form to use, not at each poll."""
        p = self.write("vigie.lua", 'feeds = { "http://bücher.example/x" }\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b": ok: 1 feed", r.stdout)
        p = self.write("vigie.lua", 'feeds = { "http://bücher.example/x",'
                       ' "http://xn--bcher-kva.example/x" }\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.decode(),
                         'vigie: %s: feeds[2]: duplicate feed '
                         '"http://xn--bcher-kva.example/x" (same as feeds[1])\n'
                         % p)
        p = self.write("vigie.lua", 'feeds = { "http://b\\255cher.example/" }\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode(errors="replace")
        self.assertTrue(err.startswith("vigie: %s: feeds[1]: " % p), err)
        self.assertIn("not a valid international domain name", err)
        self.assertIn("xn--", err)

    def test_unreadable_script(self):
        if os.geteuid() == 0:
            self.skipTest("root reads everything")
        s = self.write("r.lua", "function on_item(i) end\n")
        os.chmod(s, 0)
        p = self.write("vigie.lua", 'scripts = "r.lua"\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.decode(),
                         "vigie: %s:1: scripts: %s: Permission denied\n"
                         % (p, s))

    def test_external_entity_is_never_opened(self):
        # The entity names a FIFO and is used in element content: a parser
        # that opened it (xmllint --noent does) would block with no writer,
        # so the check would hang and time out instead of refusing the file.
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        self.write("evil.opml",
                   '<?xml version="1.0"?>\n'
                   '<!DOCTYPE opml [<!ENTITY x SYSTEM "%s">]>\n'
                   "<opml><head><title>&x;</title></head><body>"
                   '<outline xmlUrl="http://a/"/></body></opml>\n' % fifo)
        p = self.write("vigie.lua", 'feeds = { vigie.opml("evil.opml") }\n')
        r = run("check", "-c", p, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(
            r.stderr.decode(),
            "vigie: %s:1: vigie.opml: %s: line 2: entity declarations are "
            "refused (<!ENTITY x SYSTEM ...>): an OPML file needs none\n"
            % (p, os.path.join(self.dir, "evil.opml")))
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_opml_error_is_one_line(self):
        # libxml2's message for bad bytes spans two lines; ours never does
        path = os.path.join(self.dir, "latin1.opml")
        with open(path, "wb") as f:
            f.write(b'<?xml version="1.0"?><opml><head><title>caf\xe9 bar'
                    b'</title></head><body><outline xmlUrl="http://a/"/>'
                    b'</body></opml>')
        p = self.write("vigie.lua", 'feeds = { vigie.opml("latin1.opml") }\n')
        r = run("check", "-c", p)
        self.assertEqual(r.returncode, 2)
        err = r.stderr.decode()
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("not proper UTF-8", err)

    def test_opml_fetches_nothing_from_the_network(self):
        # A DTD and an entity on a local port: a connection would show up
        # in the listener. NONET and the entity refusal keep it silent.
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        srv.settimeout(0.1)
        port = srv.getsockname()[1]
        hits = []

        def accept():
            try:
                c, _ = srv.accept()
                hits.append(1)
                c.close()
            except OSError:
                pass

        self.write("dtd.opml",
                   '<?xml version="1.0"?>\n'
                   '<!DOCTYPE opml SYSTEM "http://127.0.0.1:%d/x.dtd">\n'
                   '<opml><body><outline xmlUrl="https://a.example/"/>'
                   "</body></opml>\n" % port)
        p = self.write("vigie.lua", 'feeds = { vigie.opml("dtd.opml") }\n')
        r = run("check", "-c", p)
        t = threading.Thread(target=accept)
        t.start()
        t.join()
        srv.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(hits, [])

    def test_shipped_config_in_a_copy_of_the_tree(self):
        # etc/vigie.lua as shipped, with the files it points at stubbed:
        # the scripts and samples are other parts of the project.
        etc = self.write("etc/vigie.lua",
                         open(os.path.join(ROOT, "etc", "vigie.lua")).read())
        self.write("scripts/balkans.lua", "function on_item(item) end\n")
        self.write("feeds/samples/a.xml", "<rss/>")
        self.write("feeds/samples/b.xml", "<feed/>")
        r = run("check", "-c", etc, env={"STATE_DIRECTORY": self.dir})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(),
                         etc + ": ok: 2 feeds, 1 webhook, 1 script\n")

    def test_shipped_config_in_place(self):
        if not os.path.exists(os.path.join(ROOT, "scripts", "balkans.lua")):
            self.skipTest("scripts/balkans.lua is not in this tree yet")
        r = run("check", "-c", os.path.join(ROOT, "etc", "vigie.lua"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r": ok: \d+ feeds?, ")


if __name__ == "__main__":
    unittest.main()
