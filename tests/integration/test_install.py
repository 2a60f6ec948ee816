"""`make install` into a temporary DESTDIR, and `make uninstall`.

Installs the tree as a packager would (PREFIX=/usr/local DESTDIR=tmp) and
checks every file lands where vigie(1) says, that an edited config survives
a second install, and that uninstall removes everything but the config."""
import filecmp
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from vigietest import ROOT, VIGIE

PREFIX = "/usr/local"
FIXTURE_CONFIG = os.path.join(ROOT, "tests", "fixtures", "install", "vigie.lua")
REPO_CONFIG = os.path.join(ROOT, "etc", "vigie.lua")


def make(*args):
    env = dict(os.environ)
    # Not the outer make's flags: its jobserver descriptors are not ours.
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    build = os.path.dirname(os.path.abspath(VIGIE))
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT,
                        "BUILD=" + build, *args], capture_output=True,
                       env=env, timeout=300)
    return r


def files_under(top):
    out = set()
    for d, _, names in os.walk(top):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), top))
    return out


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigie-install-")
        cls.config_src = REPO_CONFIG if os.path.exists(REPO_CONFIG) \
            else FIXTURE_CONFIG
        cls.install(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def install(cls, destdir, config_src=None):
        r = make("install", "PREFIX=" + PREFIX, "DESTDIR=" + destdir,
                 "CONFIG_SRC=" + (config_src or cls.config_src))
        if r.returncode != 0:
            raise AssertionError("make install failed:\n" +
                                 (r.stdout + r.stderr).decode())
        return r

    def path(self, *parts):
        return os.path.join(self.tmp, *[p.lstrip("/") for p in parts])

    def unit_path(self, destdir=None):
        found = [f for f in files_under(destdir or self.tmp)
                 if f.endswith("systemd/system/vigie.service")]
        self.assertEqual(len(found), 1, found)
        return os.path.join(destdir or self.tmp, found[0])

    def test_binary(self):
        exe = self.path(PREFIX, "bin", "vigie")
        mode = os.stat(exe).st_mode
        self.assertTrue(mode & stat.S_IXOTH)
        r = subprocess.run([exe, "version"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"vigie "))

    def test_config_installed_with_paths_rewritten(self):
        conf = self.path("/etc/vigie/vigie.lua")
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        # no Lua string value left relative to etc/ (prose may quote one)
        self.assertNotRegex(text, r"""[({=,]\s*["']\.\./(scripts|feeds)/""")
        self.assertNotIn("../build", text)
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o644)

    def test_relative_paths_point_at_the_shared_directory(self):
        # The fixture has the shapes etc/vigie.lua uses; check the rewrite
        # line by line.
        d = tempfile.mkdtemp(prefix="vigie-install-cfg-")
        try:
            self.install(d, FIXTURE_CONFIG)
            with open(os.path.join(d, "etc/vigie/vigie.lua"),
                      encoding="utf-8") as f:
                text = f.read()
            share = PREFIX + "/share/vigie"
            # systemd's StateDirectory= still decides, as the comment says
            self.assertIn('state_dir = os.getenv("STATE_DIRECTORY") or '
                          '"/var/lib/vigie"\n', text)
            self.assertIn('scripts = { "%s/scripts/balkans.lua" }' % share,
                          text)
            self.assertIn("vigie.glob('%s/feeds/samples/*.xml')" % share, text)
            self.assertIn('path = "%s/feeds/samples/nato-fr.xml"' % share,
                          text)
            self.assertIn('{ url = "https://example.org/feed.xml" }', text)
            # commented-out examples work once uncommented ...
            self.assertIn('-- { path = "%s/feeds/samples/ec-en.xml" },' % share,
                          text)
            # ... but prose about the source tree stays true
            self.assertIn('-- In the source tree "../feeds/samples/nato-fr.xml" '
                          'is feeds/samples/nato-fr.xml.\n', text)
            self.assertIn("-- Check it with: vigie check -c "
                          "/etc/vigie/vigie.lua\n", text)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_scripts_and_feeds(self):
        share = self.path(PREFIX, "share", "vigie")
        self.assertTrue(os.path.isdir(os.path.join(share, "scripts")))
        self.assertTrue(os.path.isdir(os.path.join(share, "feeds")))
        src_scripts = os.path.join(ROOT, "scripts")
        if os.path.isdir(src_scripts):
            for n in os.listdir(src_scripts):
                if n.endswith(".lua"):
                    self.assertTrue(filecmp.cmp(
                        os.path.join(src_scripts, n),
                        os.path.join(share, "scripts", n), shallow=False), n)
        src_feeds = os.path.join(ROOT, "feeds")
        if os.path.isdir(src_feeds):
            for rel in files_under(src_feeds):
                self.assertTrue(filecmp.cmp(
                    os.path.join(src_feeds, rel),
                    os.path.join(share, "feeds", rel), shallow=False), rel)

    def test_unit_file(self):
        unit = self.unit_path()
        with open(unit, encoding="utf-8") as f:
            text = f.read()
        self.assertNotRegex(text, r"@[A-Z]+@")
        # comments stay true once the placeholders are filled in
        self.assertNotIn("replaces %s/bin" % PREFIX, text)
        self.assertIn("the config in /etc/vigie.", text)
        self.assertIn("\nExecStart=%s/bin/vigie run -c /etc/vigie/vigie.lua\n"
                      % PREFIX, text)
        self.assertIn("\nExecStartPre=%s/bin/vigie check -c "
                      "/etc/vigie/vigie.lua\n" % PREFIX, text)
        self.assertIn("\nExecReload=%s/bin/vigie check -c "
                      "/etc/vigie/vigie.lua\n" % PREFIX, text)
        self.assertEqual(stat.S_IMODE(os.stat(unit).st_mode), 0o644)

    def test_man_pages(self):
        if not shutil.which("scdoc"):
            self.skipTest("scdoc is not installed: make install skips the "
                          "man pages")
        for rel in ("man1/vigie.1", "man5/vigie.lua.5"):
            p = self.path(PREFIX, "share", "man", rel)
            with open(p, encoding="utf-8") as f:
                self.assertIn(".TH", f.read())

    def test_no_temporary_files_left(self):
        self.assertEqual([f for f in files_under(self.tmp)
                          if f.endswith(".tmp")], [])

    def test_second_install_keeps_edited_config(self):
        d = tempfile.mkdtemp(prefix="vigie-install-twice-")
        try:
            self.install(d)
            conf = os.path.join(d, "etc/vigie/vigie.lua")
            with open(conf, "a", encoding="utf-8") as f:
                f.write("-- edited by the operator\n")
            with open(conf, encoding="utf-8") as f:
                edited = f.read()
            r = self.install(d)
            self.assertIn(b"keeping existing", r.stdout)
            with open(conf, encoding="utf-8") as f:
                self.assertEqual(f.read(), edited)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_missing_config_source_is_a_clear_error(self):
        d = tempfile.mkdtemp(prefix="vigie-install-noconf-")
        try:
            r = make("install", "PREFIX=" + PREFIX, "DESTDIR=" + d,
                     "CONFIG_SRC=" + os.path.join(d, "nope.lua"))
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"nope.lua is missing", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_uninstall_keeps_only_the_config(self):
        d = tempfile.mkdtemp(prefix="vigie-uninstall-")
        try:
            self.install(d)
            before = files_under(d)
            self.assertIn("etc/vigie/vigie.lua", before)
            r = make("uninstall", "PREFIX=" + PREFIX, "DESTDIR=" + d)
            self.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())
            self.assertEqual(files_under(d), {"etc/vigie/vigie.lua"})
            self.assertFalse(os.path.exists(
                os.path.join(d, PREFIX.lstrip("/"), "share", "vigie")))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_installed_tree_runs(self):
        """Installed for real under a temporary prefix (no DESTDIR), so the
        absolute paths the installed config names exist. With a PREFIX
        other than /usr and /usr/local the config is PREFIX/etc/vigie, and
        the installed binary reads it without -c; its state directory is
        $STATE_DIRECTORY, as under systemd."""
        top = tempfile.mkdtemp(prefix="vigie-prefix-")
        try:
            prefix = os.path.join(top, "opt", "vigie")
            before = os.stat(VIGIE).st_mtime_ns
            r = make("install", "PREFIX=" + prefix, "UNITDIR=" + os.path.join(top, "unit"),
                     "CONFIG_SRC=" + self.config_src)
            self.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())
            # the tree's binary (other tests may be running it) is untouched
            self.assertEqual(os.stat(VIGIE).st_mtime_ns, before)
            vigie = os.path.join(prefix, "bin", "vigie")
            conf = os.path.join(prefix, "etc", "vigie", "vigie.lua")
            with open(conf) as f:
                text = f.read()
            self.assertIn(os.path.join(prefix, "share", "vigie", "scripts"), text)
            with open(os.path.join(top, "unit", "vigie.service")) as f:
                self.assertIn("\nExecStart=%s run -c %s\n" % (vigie, conf),
                              f.read())
            state = os.path.join(top, "state")
            env = dict(os.environ, STATE_DIRECTORY=state)
            env.pop("VIGIE_DEMO", None)
            r = subprocess.run([vigie, "run", "--help"], capture_output=True,
                               env=env, timeout=60)
            self.assertIn(conf.encode(), r.stdout)
            r = subprocess.run([vigie, "check"], capture_output=True,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn(b": ok: 5 feeds", r.stdout)
            self.assertTrue(r.stdout.startswith(conf.encode()), r.stdout)
            r = subprocess.run([vigie, "run", "--once"], capture_output=True,
                               env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn(b"done: 5 feeds polled, 5 ok, 0 failed", r.stderr)
            self.assertTrue(os.path.exists(os.path.join(state, "vigie.db")))
            r = subprocess.run([vigie, "status"], capture_output=True,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        finally:
            shutil.rmtree(top, ignore_errors=True)

    def test_tree_binary_reads_etc(self):
        r = subprocess.run([VIGIE, "run", "--help"], capture_output=True,
                           timeout=30)
        self.assertIn(b"/etc/vigie/vigie.lua", r.stdout)

if __name__ == "__main__":
    unittest.main()
