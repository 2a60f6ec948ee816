"""The command line contract: commands, usage errors, exit codes."""
import unittest

from vigietest import run


class CliTest(unittest.TestCase):
    def test_version(self):
        r = run("version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"vigie "))

    def test_version_rejects_extra_arguments(self):
        # QA: `vigie version extra` printed the version and exited 0
        r = run("version", "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"vigie: version: extra: unexpected argument", r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(run("version", "--help").returncode, 0)

    def test_unknown_command_is_usage_error(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"vigie: frobnicate: unknown command", r.stderr)

    def test_no_command_prints_usage(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"usage: vigie", r.stderr)

    def test_help_lists_commands(self):
        r = run("help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"vigie version", r.stdout)

    def test_help_command_is_its_help(self):
        r = run("help", "parse")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, run("parse", "--help").stdout)
        r = run("help", "nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"help: nosuch: unknown command", r.stderr)
        r = run("help", "run", "extra")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unexpected argument", r.stderr)


if __name__ == "__main__":
    unittest.main()
