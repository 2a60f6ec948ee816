"""The README's commands work: every fenced block marked ```sh test runs,
in order, in one shell (a block may export what a later one uses), from
the top of the tree, with build/vigie first on PATH. A block fails the
test if any command in it fails (sh -e)."""
import os
import re
import subprocess
import tempfile
import unittest

from vigietest import ROOT, SANITIZED, VIGIE

BLOCK = re.compile(r"^```sh test\n(.*?)^```", re.S | re.M)


class ReadmeTest(unittest.TestCase):
    def test_runnable_blocks(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            blocks = BLOCK.findall(f.read())
        self.assertGreaterEqual(len(blocks), 5, "the README lost its runnable blocks")
        script = ["set -e"]
        for i, b in enumerate(blocks, 1):
            script.append("echo '=== README block %d' >&2" % i)
            script.append(b)
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env["PATH"] = os.path.dirname(os.path.abspath(VIGIE)) + os.pathsep + env["PATH"]
            env["TMPDIR"] = tmp
            env["STATE_DIRECTORY"] = os.path.join(tmp, "state")
            for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "VIGIE_DEMO"):
                env.pop(k, None)
            r = subprocess.run(["sh", "-c", "\n".join(script)], cwd=ROOT, env=env,
                               capture_output=True, timeout=300 if SANITIZED else 120)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        self.assertEqual(r.returncode, 0, out[-4000:])
        # what the blocks promise, checked on their output
        self.assertIn("ok: 5 feeds, 1 webhook, 1 script", out)
        self.assertIn("Vučić", out)          # vigie search Vucic found it
        self.assertIn("feeds: 5 ok", out)    # vigie status


if __name__ == "__main__":
    unittest.main()
