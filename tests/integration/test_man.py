"""The man pages: built from man/*.scd by `make man`, rendered by man(1)
without a single groff warning, within 80 columns, and covering what they
must (every command in daemon/main.c, every config key in daemon/config.c)."""
import os
import re
import shutil
import subprocess
import unittest

from vigietest import ROOT, VIGIE

PAGES = ("vigie.1", "vigie.lua.5")


def clean_make_env():
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


def render(path):
    """(text, warnings) of a roff page at 80 columns."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    if shutil.which("man"):
        cmd = ["man", "--warnings=w", "-l", path]
    else:
        cmd = ["groff", "-k", "-ww", "-man", "-Tutf8", "-rLL=80n", path]
    r = subprocess.run(cmd, capture_output=True, env=env, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s failed: %s" % (cmd, r.stderr.decode()))
    # Drop overstrike bold/underline (x\bx, _\bx) if the pager kept them.
    text = re.sub(r".\x08", "", r.stdout.decode("utf-8"))
    return text, r.stderr.decode("utf-8")


def c_string_table(source, name):
    """The strings of `static const char *const NAME[] = { ... };`."""
    m = re.search(r"\b%s\[\]\s*=\s*\{(.*?)\};" % re.escape(name), source, re.S)
    return re.findall(r'"([^"]*)"', m.group(1)) if m else []


class ManTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("scdoc"):
            raise unittest.SkipTest("scdoc is not installed "
                                    "(apt-get install scdoc)")
        if not (shutil.which("man") or shutil.which("groff")):
            raise AssertionError("neither man nor groff: apt-get install man-db")
        build = os.path.dirname(os.path.abspath(VIGIE))
        r = subprocess.run(["make", "--no-print-directory", "-C", ROOT,
                            "BUILD=" + build, "man"], capture_output=True,
                           env=clean_make_env(), timeout=120)
        if r.returncode != 0:
            raise AssertionError("make man failed: " + r.stderr.decode())
        cls.text = {}
        cls.warnings = {}
        for page in PAGES:
            path = os.path.join(build, "man", page)
            assert os.path.exists(path), path
            cls.text[page], cls.warnings[page] = render(path)

    def test_render_without_warnings(self):
        for page in PAGES:
            self.assertEqual(self.warnings[page], "", page)
            self.assertIn("NAME", self.text[page])

    def test_fit_in_80_columns(self):
        for page in PAGES:
            for line in self.text[page].splitlines():
                self.assertLessEqual(len(line), 80, "%s: %r" % (page, line))

    def test_version_substituted(self):
        with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
            version = re.search(r"^VERSION\s*:=\s*(\S+)", f.read(), re.M)[1]
        for page in PAGES:
            self.assertIn("vigie " + version, self.text[page])
            self.assertNotIn("@", re.sub(r"\S+@\S+", "", self.text[page]))

    def test_vigie_1_documents_every_command(self):
        text = self.text["vigie.1"]
        with open(os.path.join(ROOT, "daemon", "main.c"),
                  encoding="utf-8") as f:
            commands = re.findall(r'\{\s*"([a-z]+)",\s*cmd_', f.read())
        self.assertIn("version", commands)
        # DESIGN.md "Command line", whether or not each exists yet.
        commands += ["run", "check", "parse", "test", "search", "outbox",
                     "status", "fetch", "help"]
        for c in commands:
            self.assertRegex(text, r"(?m)^\s+%s\b" % c,
                             "vigie(1) lacks an entry for '%s'" % c)
        for word in ("EXIT STATUS", "SIGNALS", "SIGHUP", "SIGTERM", "SIGINT",
                     "ENVIRONMENT", "NOTIFY_SOCKET", "JOURNAL_STREAM",
                     "WATCHDOG_USEC", "FILES", "/etc/vigie/vigie.lua",
                     "/var/lib/vigie", "--once", "--config"):
            self.assertIn(word, text)

    def test_vigie_lua_5_documents_every_key(self):
        text = self.text["vigie.lua.5"]
        keys = ["state_dir", "interval", "timeout", "max_body", "user_agent",
                "per_host", "max_concurrent", "min_interval",
                "allow_private_networks", "feeds", "webhooks", "catch_up",
                "keep_seen", "keep_items", "dedup", "alert_after",
                "silent_after", "health", "url", "path", "name", "scripts",
                "headers", "format", "secret", "max_per_minute",
                "give_up_after"]
        # Once the config loader is merged, its own key tables are the truth.
        config_c = os.path.join(ROOT, "daemon", "config.c")
        if os.path.exists(config_c):
            with open(config_c, encoding="utf-8") as f:
                src = f.read()
            for table in ("top_keys", "feed_keys", "webhook_keys"):
                keys += c_string_table(src, table)
        for k in keys:
            self.assertRegex(text, r"\b%s\b" % re.escape(k),
                             "vigie.lua(5) does not mention '%s'" % k)
        for api in ("on_item", "vigie.keywords", "m:match", "m:find",
                    "vigie.fold", "vigie.log", "vigie.store", "vigie.alert",
                    "vigie.opml", "Durations", '"90s"', '"15m"', '"2h"'):
            self.assertIn(api, text)


if __name__ == "__main__":
    unittest.main()
