"""A misbehaving-on-demand HTTP server for vigie's integration tests.

Standard library only; listens on 127.0.0.1, port 0 (the kernel picks), in
a thread of the test process. Every request is recorded (`requests`), and
concurrency is measured (`max_in_flight`, `max_in_flight_by_host`), so tests
assert on what the server saw, never on wall-clock time.

    srv = FeedServer().start()
    srv.add_feed("/a.xml", body=b"<rss>...</rss>", etag='"v1"')
    url = srv.url("/a.xml")                # http://127.0.0.1:PORT/a.xml
    url2 = srv.url("/a.xml", host="localhost")  # same server, other host
    ...
    srv.stop()

Behaviour is chosen by the path, so one server serves every test:

  /feed/NAME          a small RSS feed (or one registered with add_feed),
                      with ETag and Last-Modified; answers 304 to a
                      matching If-None-Match or If-Modified-Since
  /gzip/NAME          the same feed, gzip-encoded when the client asks
  /status/CODE        that status; ?retry_after=V adds Retry-After: V,
                      ?location=U adds Location: U, ?delay=S answers
                      after S seconds
  /fail/N/KEY         500 for the first N requests to KEY, then a feed
  /redirect/CODE      CODE with Location: ?to= (default /feed/target)
  /chain/N            N redirects (302) in a row, then a feed
  /loop/a, /loop/b    302 to each other, forever
  /cookie             sets a cookie and redirects (302) to /feed/after-cookie
  /drip?n=N           Content-Length N, then one byte per second
  /big?mib=M          M MiB, chunked, generated lazily
  /bomb?mib=M         gzip stream decoding to M MiB (default 1024) of
                      zeros, compressed lazily while sending
  /close?after=N      promises 2N bytes, sends N, closes
  /close-chunked      a few chunks, then closes without the last chunk
  /slow/NAME?delay=S  a feed after S seconds (default 0.2): for caps

add_route(path, fn) installs a custom handler fn(handler) -> None for an
exact path (later: webhook receivers); handler.send_body(code, body,
headers) is the helper to answer.
"""
import email.utils
import gzip
import hashlib
import http.server
import ssl
import threading
import time
import urllib.parse
import zlib

FEED_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title>
<link>http://example.org/{name}</link><description>test feed</description>
<item><title>Item of {name}</title><link>http://example.org/{name}/1</link>
<guid>{name}-1</guid><pubDate>Fri, 23 Aug 2024 13:27:00 GMT</pubDate>
<description>Western Balkans, Vučić, Kosovo.</description></item>
</channel></rss>
"""

LAST_MODIFIED = "Fri, 23 Aug 2024 13:27:00 GMT"


class Feed:
    def __init__(self, body, etag=None, last_modified=None,
                 content_type="application/rss+xml; charset=utf-8"):
        self.body = body
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type


class Request:
    """One request as the server saw it."""

    def __init__(self, seq, method, path, headers, host):
        self.seq = seq
        self.method = method
        self.path = path          # with the query string
        self.headers = headers    # dict, names lower-cased
        self.host = host          # Host header
        self.completed = None     # True: whole response written

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "Request(%d %s %s)" % (self.seq, self.method, self.path)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # for chunked bodies; we close anyway
    server_version = "feedserver/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- helpers ------------------------------------------------------
    def _begin(self):
        fs = self.server.feedserver
        u = urllib.parse.urlsplit(self.path)
        self.route = u.path
        self.query = dict(urllib.parse.parse_qsl(u.query))
        headers = {k.lower(): v for k, v in self.headers.items()}
        host = self.headers.get("Host", "")
        with fs.lock:
            fs._seq += 1
            self.rec = Request(fs._seq, self.command, self.path, headers, host)
            fs.requests.append(self.rec)
            self._epoch = fs._epoch
            fs._in_flight += 1
            fs._by_host[host] = fs._by_host.get(host, 0) + 1
            fs.max_in_flight = max(fs.max_in_flight, fs._in_flight)
            fs.max_in_flight_by_host[host] = max(
                fs.max_in_flight_by_host.get(host, 0), fs._by_host[host])
            # Who else was in flight when this one arrived.
            self.rec.concurrent_hosts = dict(fs._by_host)
        self._tracking = True
        self.close_connection = True

    def done_tracking(self):
        """Called just before the last bytes go out: the client cannot
        start its next request before it has them, so the count never
        includes a request the client already considers finished."""
        if not self._tracking:
            return
        fs = self.server.feedserver
        with fs.lock:
            if self._epoch == fs._epoch:  # not from before a reset()
                fs._in_flight -= 1
                fs._by_host[self.rec.host] -= 1
        self._tracking = False

    def send_head(self, code, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()

    def send_body(self, code, body=b"", headers=()):
        headers = list(headers) + [("Content-Length", str(len(body)))]
        self.done_tracking()
        self.send_head(code, headers)
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def stopping(self):
        return self.server.feedserver._stop.is_set()

    # -- dispatch -----------------------------------------------------
    def do_GET(self):
        self._begin()
        try:
            self._dispatch()
            self.rec.completed = True
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.rec.completed = False
        finally:
            self.done_tracking()

    do_POST = do_GET
    do_HEAD = do_GET

    def _dispatch(self):
        fs = self.server.feedserver
        fn = fs.routes.get(self.route)
        if fn:
            return fn(self)
        parts = self.route.strip("/").split("/")
        kind = parts[0]
        name = parts[-1] if len(parts) > 1 else "feed"
        meth = getattr(self, "r_" + kind.replace("-", "_"), None)
        if meth is None:
            return self.send_body(404, b"not found\n")
        return meth(parts, name)

    # -- routes -------------------------------------------------------
    def serve_feed(self, name, encode_gzip=False):
        fs = self.server.feedserver
        feed = fs.feeds.get(self.route) or fs.default_feed(name)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        validators = []
        if feed.etag:
            validators.append(("ETag", feed.etag))
        if feed.last_modified:
            validators.append(("Last-Modified", feed.last_modified))
        if (inm and feed.etag and inm == feed.etag) or (
                not inm and ims and feed.last_modified
                and ims == feed.last_modified):
            return self.send_body(304, b"", validators)
        body = feed.body
        headers = validators + [("Content-Type", feed.content_type)]
        if encode_gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        return self.send_body(200, body, headers)

    def r_feed(self, parts, name):
        return self.serve_feed(name)

    def r_gzip(self, parts, name):
        return self.serve_feed(name, encode_gzip=True)

    def r_status(self, parts, name):
        code = int(parts[1])
        if "delay" in self.query:
            self.server.feedserver._stop.wait(float(self.query["delay"]))
        headers = []
        if "retry_after" in self.query:
            headers.append(("Retry-After", self.query["retry_after"]))
        if "location" in self.query:
            headers.append(("Location", self.query["location"]))
        return self.send_body(code, b"status %d\n" % code, headers)

    def r_fail(self, parts, name):
        fs = self.server.feedserver
        n = int(parts[1])
        with fs.lock:
            seen = fs._fail_counts.get(self.route, 0)
            fs._fail_counts[self.route] = seen + 1
        if seen < n:
            return self.send_body(500, b"try again\n")
        return self.serve_feed(name)

    def r_redirect(self, parts, name):
        to = self.query.get("to", "/feed/target")
        return self.send_body(int(parts[1]), b"", [("Location", to)])

    def r_chain(self, parts, name):
        n = int(parts[1])
        if n <= 0:
            return self.serve_feed("chain")
        return self.send_body(302, b"", [("Location", "/chain/%d" % (n - 1))])

    def r_loop(self, parts, name):
        other = "/loop/b" if name == "a" else "/loop/a"
        return self.send_body(302, b"", [("Location", other)])

    def r_cookie(self, parts, name):
        return self.send_body(302, b"", [
            ("Set-Cookie", "session=secret; Path=/"),
            ("Location", "/feed/after-cookie")])

    def r_drip(self, parts, name):
        n = int(self.query.get("n", "600"))
        self.send_head(200, [("Content-Type", "application/rss+xml"),
                             ("Content-Length", str(n))])
        self.wfile.flush()
        for i in range(n):
            if self.stopping():
                raise BrokenPipeError("server stopping")
            if i == n - 1:
                self.done_tracking()
            self.wfile.write(b"x")
            self.wfile.flush()
            self.server.feedserver._stop.wait(1.0)

    def r_big(self, parts, name):
        mib = int(self.query.get("mib", "100"))
        self.send_head(200, [("Content-Type", "application/rss+xml"),
                             ("Transfer-Encoding", "chunked")])
        block = b"<x>" + b"y" * (64 * 1024 - 7) + b"</x>"
        total = mib * 1024 * 1024
        sent = 0
        while sent < total:
            if self.stopping():
                raise BrokenPipeError("server stopping")
            chunk = block[:min(len(block), total - sent)]
            self.write_chunk(chunk)
            sent += len(chunk)
        self.done_tracking()
        self.wfile.write(b"0\r\n\r\n")

    def r_bomb(self, parts, name):
        mib = int(self.query.get("mib", "1024"))
        self.send_head(200, [("Content-Type", "application/rss+xml"),
                             ("Content-Encoding", "gzip"),
                             ("Transfer-Encoding", "chunked")])
        z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip wrapper
        zeros = bytes(1024 * 1024)
        for _ in range(mib):
            if self.stopping():
                raise BrokenPipeError("server stopping")
            out = z.compress(zeros)
            if out:
                self.write_chunk(out)
        out = z.flush()
        self.done_tracking()
        self.write_chunk(out)
        self.wfile.write(b"0\r\n\r\n")

    def r_close(self, parts, name):
        n = int(self.query.get("after", "1000"))
        self.send_head(200, [("Content-Type", "application/rss+xml"),
                             ("Content-Length", str(2 * n))])
        self.done_tracking()
        self.wfile.write(b"x" * n)
        self.wfile.flush()

    def r_close_chunked(self, parts, name):
        self.send_head(200, [("Content-Type", "application/rss+xml"),
                             ("Transfer-Encoding", "chunked")])
        self.done_tracking()
        for _ in range(3):
            self.write_chunk(b"<x>" + b"z" * 1000 + b"</x>")
        self.wfile.flush()

    def r_slow(self, parts, name):
        delay = float(self.query.get("delay", "0.2"))
        self.server.feedserver._stop.wait(delay)
        return self.serve_feed(name)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class FeedServer:
    def __init__(self, host="127.0.0.1", tls=None):
        """tls: (certfile, keyfile) to serve HTTPS instead of HTTP."""
        self.host = host
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.lock = threading.Lock()
        self.requests = []
        self.feeds = {}
        self.routes = {}
        self.max_in_flight = 0
        self.max_in_flight_by_host = {}
        self._in_flight = 0
        self._by_host = {}
        self._fail_counts = {}
        self._seq = 0
        self._epoch = 0
        self._stop = threading.Event()
        self._httpd = None
        self._thread = None

    # -- lifecycle ----------------------------------------------------
    def start(self):
        self._httpd = _Server((self.host, 0), _Handler)
        self._httpd.feedserver = self
        self.port = self._httpd.server_address[1]
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket,
                                                 server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- configuration ------------------------------------------------
    def url(self, path, host=None):
        return "%s://%s:%d%s" % (self.scheme, host or self.host, self.port,
                                 path)

    def add_feed(self, path, body, etag=None, last_modified=None,
                 content_type="application/rss+xml; charset=utf-8"):
        if isinstance(body, str):
            body = body.encode()
        self.feeds[path] = Feed(body, etag, last_modified, content_type)

    def add_route(self, path, fn):
        self.routes[path] = fn

    def default_feed(self, name):
        body = FEED_TEMPLATE.format(name=name).encode()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        return Feed(body, etag, LAST_MODIFIED)

    # -- assertions ---------------------------------------------------
    def requests_to(self, prefix):
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def reset(self):
        """Forgets requests and counts; responses still being sent (a drip
        from the previous test) no longer count as in flight."""
        with self.lock:
            self.requests = []
            self.max_in_flight = 0
            self.max_in_flight_by_host = {}
            self._in_flight = 0
            self._by_host = {}
            self._fail_counts = {}
            self._epoch += 1


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


if __name__ == "__main__":
    # Handy by hand: python3 feedserver.py, then curl the printed URL.
    srv = FeedServer().start()
    print(srv.url("/feed/demo"), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
