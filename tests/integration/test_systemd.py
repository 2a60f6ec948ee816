"""The shipped unit: `systemd-analyze verify` is clean and
`systemd-analyze security --offline=yes` scores 1.5 or lower.

Neither needs a running systemd. verify wants the ExecStart binary to exist,
so the test checks a copy of systemd/vigie.service whose @BINDIR@ is a
temporary directory holding the vigie under test, and (for the
Documentation= lines) a MANPATH with the man pages built from man/."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from vigietest import ROOT, VIGIE

UNIT = os.path.join(ROOT, "systemd", "vigie.service")
MAX_EXPOSURE = 1.5


def systemd_analyze():
    """The systemd-analyze binary, installing Debian's systemd package if
    it is missing and we may; None if it cannot be had."""
    path = shutil.which("systemd-analyze")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                        "systemd"], env=env, capture_output=True, timeout=600)
    return shutil.which("systemd-analyze")


def build_man_pages(build):
    """Builds the man pages in build/man; returns a MANPATH-style directory
    holding them (man1/, man5/), or None if scdoc is missing."""
    if not shutil.which("scdoc"):
        return None
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT,
                        "BUILD=" + build, "man"], capture_output=True,
                       env=clean_make_env(), timeout=120)
    if r.returncode != 0:
        raise AssertionError("make man failed: " + r.stderr.decode())
    return os.path.join(build, "man")


def clean_make_env():
    """The environment for a nested make: not the outer make's flags (its
    jobserver descriptors are not inherited)."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(k, None)
    return env


class SystemdUnitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.analyze = systemd_analyze()
        if not cls.analyze:
            raise unittest.SkipTest(
                "systemd-analyze is not installed and could not be installed "
                "(apt-get install systemd)")
        cls.tmp = tempfile.mkdtemp(prefix="vigie-systemd-")
        bindir = os.path.join(cls.tmp, "bin")
        os.mkdir(bindir)
        shutil.copy(VIGIE, os.path.join(bindir, "vigie"))
        with open(UNIT, encoding="utf-8") as f:
            cls.source = f.read()
        text = cls.source.replace("@BINDIR@", bindir)
        text = text.replace("@SYSCONFDIR@", "/etc")
        cls.unit = os.path.join(cls.tmp, "vigie.service")
        with open(cls.unit, "w", encoding="utf-8") as f:
            f.write(text)

        # The man pages, laid out for MANPATH (verify runs `man` on each
        # Documentation=man:... entry).
        built = build_man_pages(os.path.dirname(os.path.abspath(VIGIE)))
        cls.manpath = None
        if built:
            cls.manpath = os.path.join(cls.tmp, "man")
            for page, sect in (("vigie.1", "man1"), ("vigie.lua.5", "man5")):
                os.makedirs(os.path.join(cls.manpath, sect), exist_ok=True)
                shutil.copy(os.path.join(built, page),
                            os.path.join(cls.manpath, sect, page))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def analyze_run(self, *args):
        env = dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0")
        if self.manpath:
            env["MANPATH"] = self.manpath
        return subprocess.run([self.analyze, *args], capture_output=True,
                              env=env, cwd=self.tmp, timeout=120)

    def test_placeholders_are_the_ones_install_replaces(self):
        self.assertEqual(sorted(set(re.findall(r"@[A-Z]+@", self.source))),
                         ["@BINDIR@", "@SYSCONFDIR@"])

    def test_verify_is_clean(self):
        args = ["verify"]
        if not self.manpath:
            args.append("--man=no")  # scdoc missing: no pages to find
        r = self.analyze_run(*args, self.unit)
        out = (r.stdout + r.stderr).decode()
        self.assertEqual(r.returncode, 0, out)
        self.assertEqual(out.strip(), "", "verify is not clean:\n" + out)

    def test_verify_catches_a_broken_unit(self):
        # The check above means something: a typo is reported.
        broken = os.path.join(self.tmp, "broken", "vigie.service")
        os.makedirs(os.path.dirname(broken), exist_ok=True)
        with open(self.unit, encoding="utf-8") as f:
            text = f.read().replace("ProtectClock=yes", "ProtectClok=yes")
        with open(broken, "w", encoding="utf-8") as f:
            f.write(text)
        r = self.analyze_run("verify", "--man=no", broken)
        self.assertIn("ProtectClok", (r.stdout + r.stderr).decode())

    def test_security_exposure(self):
        r = self.analyze_run("security", "--offline=yes", "--no-pager",
                             self.unit)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        m = re.search(r"Overall exposure level for vigie\.service: "
                      r"([0-9]+\.[0-9]+)", out)
        self.assertIsNotNone(m, "no exposure line in:\n" + out)
        score = float(m.group(1))
        self.assertLessEqual(score, MAX_EXPOSURE,
                             "exposure %.1f > %.1f:\n%s" %
                             (score, MAX_EXPOSURE, out))

    def test_stated_score_is_the_same_everywhere(self):
        """The unit's comment and the README quote one measurement."""
        stated = re.search(r"security --offline=yes vigie\.service +"
                           r"\(([0-9.]+) at release\)", self.source)
        self.assertIsNotNone(stated)
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = re.search(r"`systemd-analyze security`\s+scores it "
                               r"([0-9.]+)", f.read())
        self.assertIsNotNone(readme)
        self.assertEqual(stated.group(1), readme.group(1).rstrip("."))

    def test_contract_directives(self):
        # DESIGN.md "Running under systemd" and issue 6.
        lines = [l.strip() for l in self.source.splitlines()
                 if l.strip() and not l.lstrip().startswith("#")]
        self.assertIn("Type=notify", lines)
        reload = [l for l in lines if l.startswith("ExecReload=")]
        self.assertEqual(len(reload), 2)
        self.assertRegex(reload[0],
                         r"^ExecReload=@BINDIR@/vigie check -c \S+$")
        self.assertEqual(reload[1], "ExecReload=/bin/kill -HUP $MAINPID")
        for want in ("StateDirectory=vigie", "ConfigurationDirectory=vigie",
                     "DynamicUser=yes", "WatchdogSec=", "Restart=on-failure",
                     "ExecStartPre=@BINDIR@/vigie check -c ",
                     "ExecStart=@BINDIR@/vigie run -c ",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                     "CapabilityBoundingSet="):
            self.assertTrue(any(l.startswith(want) for l in lines), want)

    def syscall_groups(self):
        """{"@group": [members...]} from systemd's own tables."""
        r = self.analyze_run("syscall-filter", "--no-pager")
        groups, cur = {}, None
        for line in r.stdout.decode().splitlines():
            if line.startswith("@"):
                cur = groups.setdefault(line.strip(), [])
            elif cur is not None and line.strip() and \
                    not line.strip().startswith("#"):
                cur.append(line.strip())
        return groups

    def test_rule_worker_syscalls_allowed(self):
        # The rule worker is forked, may set rlimits and install a seccomp
        # filter of its own, and talks to the daemon over a socketpair: the
        # unit's SystemCallFilter must leave all that allowed.
        groups = self.syscall_groups()

        def expand(names):
            out = set()
            for n in names:
                if n.startswith("@"):
                    out |= expand(groups[n])
                else:
                    out.add(n)
            return out

        allowed = set()
        for line in self.source.splitlines():
            line = line.strip()
            if not line.startswith("SystemCallFilter="):
                continue
            spec = line.split("=", 1)[1]
            if spec.startswith("~"):
                allowed -= expand(spec[1:].split())
            else:
                allowed |= expand(spec.split())
        self.assertTrue(allowed, "no SystemCallFilter allow list")
        for call in ("fork", "clone", "clone3", "wait4", "kill", "prctl",
                     "seccomp", "prlimit64", "socketpair", "sendmsg",
                     "recvmsg", "connect", "sendto", "epoll_wait", "poll",
                     "fdatasync", "fsync", "fcntl", "mmap", "getrandom",
                     "execve"):
            self.assertIn(call, allowed)
        for call in ("setuid", "chown", "mount", "reboot", "settimeofday",
                     "ptrace", "setpriority", "sched_setscheduler",
                     "init_module"):
            self.assertNotIn(call, allowed)

if __name__ == "__main__":
    unittest.main()
