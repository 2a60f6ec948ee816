"""A webhook receiver for vigie's integration tests.

Standard library only; listens on 127.0.0.1 (port 0: the kernel picks, and
the port is kept when the receiver stops and starts listening again). Every
POST is recorded with its headers, body and monotonic arrival time, and the
time its answer was written, so tests assert on what the receiver saw (and
on gaps vigie must respect), never on how fast vigie is.

    rcv = Receiver().start()
    url = rcv.url("/ops")                  # http://127.0.0.1:PORT/ops
    rcv.answer = 500                       # every POST gets a 500
    rcv.answer = (429, {"Retry-After": "2"})
    rcv.answer = (400, {}, b'{"error":"bad payload"}')
    rcv.answer = lambda post: 200 if post.n_key > 1 else 500
    rcv.answer = HANG                      # never answer (until stop/release)
    rcv.stop_listening()                   # connection refused from now on
    rcv.listen()                           # same port again
    rcv.on_post = fn                       # fn(post) before the answer;
                                           # False: close without one
    rcv.after_answer = fn                  # fn(post) once it was written
    ...
    rcv.stop()

An answer is a status, (status, headers), (status, headers, body), HANG, or
a function of the Post returning one of those.
"""
import hashlib
import hmac
import http.server
import json
import threading
import time

HANG = "hang"
HANG_MAX_S = 120  # a hung answer is released at the latest after this


class Post:
    """One POST as the receiver saw it."""

    def __init__(self, seq, path, headers, body, t):
        self.seq = seq            # 1, 2, ... in arrival order
        self.path = path
        self.headers = headers    # dict, names lower-cased
        self.header_list = []     # [(name lower-cased, value)], repeats kept
        self.body = body          # bytes, exactly as received
        self.t = t                # time.monotonic() at arrival
        self.status = None        # what it was answered (None: no answer)
        self.t_answered = None    # time.monotonic() once the answer was out
        self.n_key = 0            # how many POSTs with this key so far, this one included
        self.n_path = 0           # how many POSTs to this path so far

    @property
    def key(self):
        return self.headers.get("idempotency-key")

    @property
    def signature(self):
        return self.headers.get("x-vigie-signature")

    def json(self):
        return json.loads(self.body)

    def signed_with(self, secret):
        """True when X-Vigie-Signature is the HMAC-SHA256 of the body."""
        want = "sha256=" + hmac.new(secret.encode(), self.body,
                                    hashlib.sha256).hexdigest()
        return self.signature is not None and hmac.compare_digest(
            self.signature, want)

    def __repr__(self):
        return "Post(%d %s %s -> %s)" % (self.seq, self.path,
                                         (self.key or "")[:12], self.status)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "receiver/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_POST(self):
        rcv = self.server.receiver
        t = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        try:
            body = self.rfile.read(n) if n > 0 else b""
        except (ConnectionResetError, BrokenPipeError, TimeoutError):
            return
        if len(body) < n:
            return  # the sender went away mid-request: nothing was posted
        headers = {k.lower(): v for k, v in self.headers.items()}
        with rcv.lock:
            rcv._seq += 1
            post = Post(rcv._seq, self.path, headers, body, t)
            post.header_list = [(k.lower(), v) for k, v in self.headers.items()]
            rcv._by_key[post.key] = rcv._by_key.get(post.key, 0) + 1
            rcv._by_path[post.path] = rcv._by_path.get(post.path, 0) + 1
            post.n_key = rcv._by_key[post.key]
            post.n_path = rcv._by_path[post.path]
            rcv.posts.append(post)
        self.close_connection = True
        if rcv.on_post and rcv.on_post(post) is False:
            return  # closed without an answer
        answer = rcv.answer
        if callable(answer):
            answer = answer(post)
        if answer == HANG:
            rcv._release.wait(HANG_MAX_S)
            return  # the connection closes without an answer
        if isinstance(answer, int):
            answer = (answer,)
        status = answer[0]
        extra = answer[1] if len(answer) > 1 else {}
        out = answer[2] if len(answer) > 2 else b"ok\n"
        try:
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(out)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        post.status = status
        post.t_answered = time.monotonic()
        if rcv.after_answer:
            rcv.after_answer(post)

    do_PUT = do_POST


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Receiver:
    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = 0
        self.lock = threading.Lock()
        self.posts = []
        self.answer = 200
        self.on_post = None
        self.after_answer = None
        self._seq = 0
        self._by_key = {}
        self._by_path = {}
        self._release = threading.Event()
        self._httpd = None
        self._thread = None

    # -- lifecycle ----------------------------------------------------
    def listen(self):
        """Starts listening (again, on the same port once it has one)."""
        if self._httpd:
            return self
        self._release.clear()
        self._httpd = _Server((self.host, self.port), _Handler)
        self._httpd.receiver = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    start = listen

    def stop_listening(self):
        """Closes the listening socket: connections are refused until
        listen() is called again. Hung answers are released."""
        self._release.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    stop = stop_listening

    def release(self):
        """Lets hung answers go (their connections close unanswered)."""
        self._release.set()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- use ----------------------------------------------------------
    def url(self, path="/"):
        if not self.port:
            raise RuntimeError("the receiver has no port yet: start() it")
        return "http://%s:%d%s" % (self.host, self.port, path)

    def snapshot(self, path=None):
        with self.lock:
            return [p for p in self.posts if path is None or p.path == path]

    def count(self, path=None):
        return len(self.snapshot(path))

    def keys(self, path=None):
        """Distinct Idempotency-Keys, in order of first arrival."""
        seen, out = set(), []
        for p in self.snapshot(path):
            if p.key not in seen:
                seen.add(p.key)
                out.append(p.key)
        return out

    def reset(self):
        with self.lock:
            self.posts = []
            self._seq = 0
            self._by_key = {}
            self._by_path = {}
