"""Shared helpers for vigie's integration tests: run the binary, find files."""
import json
import os
import subprocess

ROOT = os.environ.get("VIGIE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
VIGIE = os.environ.get("VIGIE") or os.path.join(ROOT, "build", "vigie")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SANITIZED = os.environ.get("VIGIE_SANITIZED") == "1"


def fixture(name):
    return os.path.join(FIXTURES, name)


def run(*args, input=None, timeout=60, env=None):
    """Runs vigie with args; returns CompletedProcess (text mode)."""
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    if env:
        e.update(env)
    return subprocess.run([VIGIE, *args], input=input, capture_output=True,
                          timeout=timeout, env=e)


def parse_json_lines(data):
    return [json.loads(line) for line in data.decode().splitlines() if line]
