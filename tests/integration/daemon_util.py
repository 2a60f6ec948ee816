"""Running `vigie run` in the background from tests: config files, the
process, its log, and waiting for something to happen (the wait is a
bound against hanging, never an assertion about speed)."""
import os
import signal
import subprocess
import tempfile
import threading
import time

from vigietest import SANITIZED, VIGIE

WAIT = 60 if SANITIZED else 30


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return lua_str(v)
    if isinstance(v, dict):
        return "{" + ", ".join("[%s] = %s" % (lua_str(k), lua_value(x))
                               for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(lua_value(x) for x in v) + "}"
    if v is None:
        return "nil"
    raise TypeError(v)


def write_config(path, **settings):
    """Writes a vigie.lua with the given globals (Python values)."""
    with open(path, "w") as f:
        for k, v in settings.items():
            f.write("%s = %s\n" % (k, lua_value(v)))


def wait_for(pred, timeout=WAIT, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + (what() if callable(what) else what))


class Daemon:
    """`vigie run -c CONFIG` in the background, its stderr collected.

    prefix: a command that runs the daemon (e.g. ["unshare", "-m", ...]:
    it must exec vigie, so that the pid is the daemon's); on_line(line) is
    called from the reader thread for each log line as it arrives."""

    def __init__(self, config, args=(), env=None, prefix=(), on_line=None,
                 preexec_fn=None):
        e = dict(os.environ)
        e.pop("JOURNAL_STREAM", None)
        e.pop("NOTIFY_SOCKET", None)
        if env:
            e.update(env)
        self.on_line = on_line
        self.lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen([*prefix, VIGIE, "run", "-c", config,
                                      *args],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=e,
                                     preexec_fn=preexec_fn)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            if self.on_line:
                self.on_line(line)

    def log(self):
        with self._lock:
            return list(self.lines)

    def log_text(self):
        return "\n".join(self.log())

    def wait_log(self, needle, count=1, timeout=WAIT):
        return wait_for(lambda: sum(needle in l for l in self.log()) >= count,
                        timeout, lambda: "log line %r x%d; log so far:\n%s"
                        % (needle, count, self.log_text()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=WAIT):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._reader.join(5)
        return rc

    def wait_exit(self, timeout=WAIT):
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc


class TempDir:
    def __init__(self):
        self.td = tempfile.TemporaryDirectory()
        self.path = self.td.name

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        self.td.cleanup()
