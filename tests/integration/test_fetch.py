"""`vigie fetch` against feedserver.py: the HTTP behaviour of fetch.c and the
caps of evcurl.c. Assertions are on what the server recorded and what vigie
printed, never on wall-clock time."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from feedserver import FeedServer, http_date
from vigietest import VIGIE, run

MIB = 1024 * 1024
UA = "vigie/0.1.0 (+https://github.com/vigie-monitor/vigie)"  # the daemon's too


def fetch(*args, timeout=120):
    """Runs vigie fetch; returns (exit code, {url: result}, [results])."""
    r = run("fetch", *args, timeout=timeout)
    # Under `make asan` a leak or UB report is a failure of every test.
    for bad in (b"Sanitizer", b"runtime error:"):
        if bad in r.stderr:
            raise AssertionError(r.stderr.decode(errors="replace"))
    lines = [json.loads(x) for x in r.stdout.decode().splitlines() if x]
    return r, {x["url"]: x for x in lines}, lines


class FetchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = FeedServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        self.srv.reset()

    def one(self, path, *opts, private=True):
        url = self.srv.url(path)
        args = (["--allow-private"] if private else []) + list(opts) + [url]
        r, by_url, lines = fetch(*args)
        self.assertEqual(len(lines), 1, r.stderr)
        return r, lines[0]

    # -- the SSRF guard ------------------------------------------------
    def test_default_refuses_loopback(self):
        r, res = self.one("/feed/a", private=False)
        self.assertEqual(r.returncode, 1)
        self.assertFalse(res["ok"])
        self.assertEqual(res["outcome"], "refused")
        self.assertEqual(res["error"], "refused: 127.0.0.1 is a loopback "
                         "address (allow_private_networks is off)")
        self.assertEqual(self.srv.requests, [])

    def test_numeric_spellings_are_refused(self):
        port = self.srv.port
        urls = ["http://2130706433:%d/feed/a" % port,
                "http://0x7f.1:%d/feed/a" % port,
                "http://0177.0.0.1:%d/feed/a" % port,
                "http://localhost:%d/feed/a" % port,
                "http://[::ffff:127.0.0.1]:%d/feed/a" % port]
        r, by_url, lines = fetch(*urls)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(lines), len(urls))
        for u in urls:
            self.assertTrue(by_url[u]["error"].startswith("refused: "), u)
            self.assertIn("loopback address (allow_private_networks is off)",
                          by_url[u]["error"])
        self.assertIn("IPv4-mapped", by_url[urls[-1]]["error"])
        self.assertEqual(self.srv.requests, [])

    def test_output_is_utf8_json_whatever_the_url(self):
        """argv is bytes: the line stays valid JSON in UTF-8, the URL as
        given (invalid bytes as U+FFFD); a host that is not a valid
        international domain name is refused, saying so."""
        bad = b"http://127.0.0.1:%d/\xff\xc3\xa9" % self.srv.port
        broken = b"http://b\xffcher.example/"
        r = subprocess.run([VIGIE, "fetch", bad, broken], capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        lines = [json.loads(x) for x in r.stdout.decode("utf-8").splitlines()]
        by_url = {x["url"]: x for x in lines}
        self.assertEqual(set(by_url), {
            "http://127.0.0.1:%d/\ufffd\u00e9" % self.srv.port,
            "http://b\ufffdcher.example/"})
        self.assertEqual(by_url["http://b\ufffdcher.example/"]["outcome"],
                         "refused")
        self.assertIn("not a valid international domain name",
                      by_url["http://b\ufffdcher.example/"]["error"])
        self.assertEqual(self.srv.requests, [])

    # -- a plain fetch -------------------------------------------------
    def test_plain_fetch_and_request_headers(self):
        r, res = self.one("/feed/plain")
        self.assertEqual(r.returncode, 0, r.stderr)
        feed = self.srv.default_feed("plain")
        self.assertTrue(res["ok"])
        self.assertEqual(res["outcome"], "ok")
        self.assertEqual(res["status"], 200)
        self.assertEqual(res["bytes"], len(feed.body))
        self.assertEqual(res["body_bytes"], len(feed.body))
        self.assertEqual(res["etag"], feed.etag)
        self.assertEqual(res["last_modified"], feed.last_modified)
        self.assertEqual(res["charset"], "utf-8")
        self.assertEqual(res["final_url"], self.srv.url("/feed/plain"))
        self.assertIsNone(res["error"])
        (req,) = self.srv.requests
        self.assertEqual(req.header("user-agent"), UA)
        enc = req.header("accept-encoding", "")
        for e in ("gzip", "deflate", "br"):
            self.assertIn(e, enc)
        self.assertIn("application/rss+xml", req.header("accept", ""))
        self.assertIsNone(req.header("if-none-match"))
        self.assertIsNone(req.header("if-modified-since"))
        self.assertIsNone(req.header("cookie"))

    def test_user_agent_and_extra_headers(self):
        r, res = self.one("/feed/ua", "--user-agent", "custom/2",
                          "-H", "X-Token: abc", "-H", "Accept-Language: fr")
        self.assertTrue(res["ok"])
        (req,) = self.srv.requests
        self.assertEqual(req.header("user-agent"), "custom/2")
        self.assertEqual(req.header("x-token"), "abc")
        self.assertEqual(req.header("accept-language"), "fr")

    def test_header_injection_is_refused(self):
        # refused before any request, like the configuration refuses it
        r = run("fetch", "--allow-private", "-H", "X-A: 1\r\nX-B: 2",
                self.srv.url("/feed/inj"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"contains a control character", r.stderr)
        self.assertEqual(self.srv.requests, [])

    # -- conditional GET -----------------------------------------------
    def test_etag_gives_304_without_body(self):
        feed = self.srv.default_feed("cond")
        r, res = self.one("/feed/cond", "--etag", feed.etag)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(res["status"], 304)
        self.assertEqual(res["outcome"], "not_modified")
        self.assertTrue(res["ok"])
        self.assertEqual(res["bytes"], 0)
        self.assertEqual(res["etag"], feed.etag)
        (req,) = self.srv.requests
        self.assertEqual(req.header("if-none-match"), feed.etag)

    def test_last_modified_gives_304(self):
        feed = self.srv.default_feed("lm")
        r, res = self.one("/feed/lm", "--last-modified", feed.last_modified)
        self.assertEqual(res["status"], 304)
        (req,) = self.srv.requests
        self.assertEqual(req.header("if-modified-since"), feed.last_modified)

    def test_stale_etag_gets_full_body(self):
        r, res = self.one("/feed/stale", "--etag", '"old"')
        self.assertEqual(res["status"], 200)
        self.assertGreater(res["bytes"], 0)
        self.assertEqual(self.srv.requests[0].header("if-none-match"),
                         '"old"')

    # -- bodies and caps -----------------------------------------------
    def test_gzip_is_decoded(self):
        r, res = self.one("/gzip/zipped")
        self.assertTrue(res["ok"])
        self.assertEqual(res["bytes"],
                         len(self.srv.default_feed("zipped").body))

    def test_small_cap(self):
        r, res = self.one("/feed/capped", "--max-body", "100")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(res["outcome"], "too_big")
        self.assertEqual(res["error"], "body over 100 bytes")
        self.assertEqual(res["body_bytes"], 0)
        self.assertLessEqual(res["bytes"], 100)

    def test_100_mib_chunked_body_is_cut_at_16_mib(self):
        r, res = self.one("/big?mib=100")
        self.assertEqual(res["outcome"], "too_big")
        self.assertEqual(res["error"], "body over 16 MiB")
        self.assertEqual(res["body_bytes"], 0)
        self.assertLessEqual(res["bytes"], 16 * MIB)
        self.assertGreater(res["bytes"], 15 * MIB)
        # The server could not send its 100 MiB: vigie hung up.
        (req,) = self.srv.requests
        for _ in range(100):
            if req.completed is not None:
                break
            time.sleep(0.05)
        self.assertIs(req.completed, False)

    def test_gzip_bomb_is_cut_on_decoded_bytes(self):
        r, res = self.one("/bomb?mib=1024")
        self.assertEqual(res["outcome"], "too_big")
        self.assertEqual(res["error"], "body over 16 MiB")
        self.assertEqual(res["body_bytes"], 0)
        self.assertLessEqual(res["bytes"], 16 * MIB)
        self.assertGreater(res["bytes"], 15 * MIB)

    def test_closed_mid_body_is_an_error(self):
        for path in ("/close?after=1000", "/close-chunked"):
            r, res = self.one(path)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(res["outcome"], "net_error", path)
            self.assertTrue(
                res["error"].startswith("connection closed mid-body"),
                res["error"])
            self.assertEqual(res["body_bytes"], 0)

    # -- statuses ------------------------------------------------------
    def test_429_with_retry_after_seconds(self):
        r, res = self.one("/status/429?retry_after=600")
        self.assertEqual(res["status"], 429)
        self.assertEqual(res["outcome"], "http_error")
        self.assertEqual(res["retry_after"], 600)
        self.assertEqual(res["error"], "429, retry in 600s")

    def test_429_with_retry_after_http_date(self):
        when = urllib.parse.quote(http_date(time.time() + 600))
        r, res = self.one("/status/429?retry_after=" + when)
        self.assertEqual(res["status"], 429)
        # Clock tolerance only: the date is 600 s ahead when written.
        self.assertGreater(res["retry_after"], 500)
        self.assertLessEqual(res["retry_after"], 601)
        self.assertRegex(res["error"], r"^429, retry in \d+s$")

    def test_503_with_retry_after(self):
        r, res = self.one("/status/503?retry_after=120")
        self.assertEqual(res["retry_after"], 120)
        self.assertEqual(res["error"], "503, retry in 120s")

    def test_429_without_retry_after(self):
        r, res = self.one("/status/429")
        self.assertIsNone(res["retry_after"])
        self.assertEqual(res["error"], "HTTP 429")

    def test_500_then_success(self):
        # Same URL three times, one at a time: the FIFO keeps the order.
        url = self.srv.url("/fail/2/flaky")
        r, by_url, lines = fetch("--allow-private", "--per-host", "1",
                                 url, url, url)
        self.assertEqual([x["status"] for x in lines], [500, 500, 200])
        self.assertEqual(lines[0]["error"], "HTTP 500")
        self.assertEqual(lines[0]["body_bytes"], 0)
        self.assertTrue(lines[2]["ok"])
        self.assertEqual(r.returncode, 1)

    def test_410_is_gone(self):
        r, res = self.one("/status/410")
        self.assertEqual(res["outcome"], "gone")
        self.assertEqual(res["error"], "410 gone")

    def test_404(self):
        r, res = self.one("/status/404")
        self.assertEqual(res["outcome"], "http_error")
        self.assertEqual(res["error"], "HTTP 404")
        self.assertIsNone(res["etag"])

    # -- redirects -----------------------------------------------------
    def test_permanent_redirects(self):
        for code in (301, 308):
            r, res = self.one("/redirect/%d?to=/feed/moved" % code)
            self.assertTrue(res["ok"], res)
            self.assertEqual(res["redirects"], 1)
            self.assertEqual(res["permanent_redirect"],
                             self.srv.url("/feed/moved"))
            self.assertFalse(res["temporary_redirect"])
            self.assertEqual(res["final_url"], self.srv.url("/feed/moved"))

    def test_temporary_redirects_are_not_permanent(self):
        for code in (302, 307):
            r, res = self.one("/redirect/%d?to=/feed/moved" % code)
            self.assertTrue(res["ok"], res)
            self.assertIsNone(res["permanent_redirect"])
            self.assertTrue(res["temporary_redirect"])
            self.assertEqual(res["final_url"], self.srv.url("/feed/moved"))

    def test_permanent_then_temporary_keeps_the_permanent_hop(self):
        inner = "/redirect/302?to=/feed/end"
        r, res = self.one("/redirect/301?to=" + urllib.parse.quote(inner))
        self.assertEqual(res["redirects"], 2)
        self.assertEqual(res["permanent_redirect"], self.srv.url(inner))
        self.assertTrue(res["temporary_redirect"])

    def test_temporary_then_permanent_is_not_permanent(self):
        inner = "/redirect/301?to=/feed/end"
        r, res = self.one("/redirect/302?to=" + urllib.parse.quote(inner))
        self.assertIsNone(res["permanent_redirect"])

    def test_redirect_loop(self):
        r, res = self.one("/loop/a")
        self.assertEqual(res["error"], "redirect loop")
        self.assertFalse(res["ok"])
        self.assertLessEqual(len(self.srv.requests), 6)

    def test_five_redirects_ok_six_too_many(self):
        r, res = self.one("/chain/5")
        self.assertTrue(res["ok"])
        self.assertEqual(res["redirects"], 5)
        r, res = self.one("/chain/6")
        self.assertEqual(res["error"], "too many redirects (more than 5)")

    def test_redirect_to_other_scheme_refused(self):
        for target in ("file:///etc/passwd", "ftp://127.0.0.1/x",
                       "gopher://127.0.0.1/"):
            r, res = self.one("/redirect/302?to=" +
                              urllib.parse.quote(target))
            self.assertEqual(res["outcome"], "refused", target)
            self.assertIn("only http and https", res["error"])

    # -- a feed's headers and credentials stay with its origin ----------
    def secret_fetch(self, path, host=None, user=""):
        """vigie fetch of this server's path with an API key header and a
        bearer token; returns the result."""
        url = self.srv.url(path, host=host).replace("://", "://" + user, 1)
        r, by_url, lines = fetch("--allow-private", "-H", "X-Api-Key: K3Y",
                                 "-H", "Authorization: Bearer B34R3R", url)
        self.assertEqual(len(lines), 1, r.stderr)
        return lines[0]

    def assertNoSecrets(self, req):
        for name in ("x-api-key", "authorization"):
            self.assertIsNone(req.header(name), (req, name))

    def test_headers_not_sent_to_another_origin(self):
        """libcurl strips only Authorization and cookies when a redirect
        changes host: an X-Api-Key went along. Another port, another host
        name of the same address, another scheme: another origin."""
        other = FeedServer().start()
        self.addCleanup(other.stop)
        targets = [other.url("/feed/elsewhere"),
                   self.srv.url("/feed/elsewhere", host="localhost")]
        for code in (301, 302, 307, 308):
            for to in targets:
                self.srv.reset()
                other.reset()
                res = self.secret_fetch("/redirect/%d?to=%s" % (
                    code, urllib.parse.quote(to, safe="")))
                self.assertTrue(res["ok"], res)
                self.assertEqual(res["final_url"], to)
                (first,) = self.srv.requests_to("/redirect/")
                self.assertEqual(first.header("x-api-key"), "K3Y")
                self.assertEqual(first.header("authorization"),
                                 "Bearer B34R3R")
                (hop,) = (other.requests + self.srv.requests_to("/feed/"))
                self.assertNoSecrets(hop)
                # and the feed does not move there: its next polls would
                # carry the headers
                self.assertIsNone(res["permanent_redirect"], (code, to))

    def test_headers_not_sent_after_leaving_the_origin(self):
        """A hop through another origin and back: the hop away gets
        nothing, the way home gets the headers again."""
        other = FeedServer().start()
        self.addCleanup(other.stop)
        home = self.srv.url("/feed/home")
        away = other.url("/redirect/302?to=" + urllib.parse.quote(home, safe=""))
        res = self.secret_fetch("/redirect/302?to=" + urllib.parse.quote(
            away, safe=""))
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["redirects"], 2)
        (hop,) = other.requests
        self.assertNoSecrets(hop)
        (back,) = self.srv.requests_to("/feed/home")
        self.assertEqual(back.header("x-api-key"), "K3Y")

    def test_headers_and_credentials_kept_on_the_same_origin(self):
        for to in ("/feed/same", self.srv.url("/feed/same")):
            self.srv.reset()
            res = self.secret_fetch("/redirect/301?to=" + urllib.parse.quote(
                to, safe=""))
            self.assertTrue(res["ok"], res)
            self.assertEqual(res["permanent_redirect"],
                             self.srv.url("/feed/same"))
            (hop,) = self.srv.requests_to("/feed/same")
            self.assertEqual(hop.header("x-api-key"), "K3Y")
            self.assertEqual(hop.header("authorization"), "Bearer B34R3R")

    def test_url_credentials_follow_an_absolute_redirect_home_only(self):
        """user:password of the feed URL: kept for an absolute Location on
        the same origin (as libcurl does), never sent to another."""
        other = FeedServer().start()
        self.addCleanup(other.stop)
        basic = "Basic dTpwdw=="  # u:pw
        for to, srv in ((self.srv.url("/feed/abs"), self.srv),
                        (other.url("/feed/abs"), other)):
            self.srv.reset()
            other.reset()
            url = self.srv.url("/redirect/301?to=" + urllib.parse.quote(
                to, safe="")).replace("://", "://u:pw@", 1)
            r, res = fetch("--allow-private", url)[0:2]
            self.assertEqual(r.returncode, 0, r.stderr)
            (hop,) = srv.requests_to("/feed/abs")
            if srv is self.srv:
                self.assertEqual(hop.header("authorization"), basic)
                self.assertEqual(res[url.replace("u:pw@", "u:***@")]
                                 ["permanent_redirect"],
                                 to.replace("://", "://u:***@", 1))
            else:
                self.assertIsNone(hop.header("authorization"))

    def test_permanent_redirect_elsewhere_moves_a_feed_without_headers(self):
        other = FeedServer().start()
        self.addCleanup(other.stop)
        to = other.url("/feed/moved")
        r, res = self.one("/redirect/301?to=" + urllib.parse.quote(to, safe=""))
        self.assertTrue(res["ok"], res)
        self.assertEqual(res["permanent_redirect"], to)

    def test_no_cookies(self):
        r, res = self.one("/cookie")
        self.assertTrue(res["ok"])
        self.assertEqual(len(self.srv.requests), 2)
        self.assertIsNone(self.srv.requests[1].header("cookie"))

    # -- time limits ---------------------------------------------------
    def test_low_speed_cut(self):
        r, res = self.one("/drip?n=600", "--low-speed-time", "2")
        self.assertEqual(res["outcome"], "net_error")
        self.assertEqual(res["error"], "too slow: under 100 bytes/s for 2s")
        self.assertEqual(res["body_bytes"], 0)

    def test_total_timeout(self):
        r, res = self.one("/drip?n=600", "--timeout", "2")
        self.assertEqual(res["error"], "timeout after 2s")
        self.assertEqual(res["body_bytes"], 0)

    def test_connect_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        r, by_url, (res,) = fetch("--allow-private",
                                  "http://127.0.0.1:%d/" % port)
        self.assertEqual(res["error"], "connect refused")
        self.assertEqual(res["outcome"], "net_error")

    def test_usage_errors(self):
        for args in (["--max-body", "lots", "http://x/"],
                     ["--timeout", "0", "http://x/"],
                     ["--per-host", "0", "http://x/"],
                     ["--bogus", "http://x/"], []):
            r = run("fetch", *args)
            self.assertEqual(r.returncode, 2, args)
        # the message names the option, whichever way its value was given
        for args, says in ((["--timeout", "0"], "--timeout 0: "),
                           (["--timeout", "99999999999999999999"],
                            "want from 1s to 24h"),
                           (["--connect-timeout=2d"], "--connect-timeout 2d: "),
                           (["--max-body", "16M"], "ambiguous unit"),
                           # the configuration's header rules
                           (["--user-agent", "ua\r\nInjected: 1"],
                            "--user-agent: contains a control character"),
                           (["-H", "Host: evil"], "set by vigie, not by the caller"),
                           (["-H", "X: a\nY: b"], "contains a control character"),
                           (["-H", "NoColon"], "not 'Name: value'"),
                           (["-H", "Bad Name: v"], "not a valid header name"),
                           (["--user-agent", "ua\tx"],
                            "--user-agent: contains a control character")):
            r = run("fetch", *args, "http://x/")
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(says, r.stderr.decode(), args)

    def test_durations_and_sizes_as_in_the_config(self):
        """--timeout takes "90s", "1m" or bare seconds; --max-body "1MiB"."""
        for args in (["--timeout", "90s"], ["--timeout", "1m"],
                     ["--timeout", "45"], ["--max-body", "2KiB"]):
            r, by_url, (res,) = fetch("--allow-private", *args,
                                      self.srv.url("/feed/capped"))
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            self.assertTrue(res["ok"], (args, res))
        # a unit means what it says: 1MiB is 2^20 bytes, 2MB 2*10^6
        r, by_url, (res,) = fetch("--allow-private", "--max-body", "1MiB",
                                  self.srv.url("/big?mib=1"))
        self.assertEqual(res["outcome"], "ok", res)
        self.assertEqual(res["bytes"], MIB)
        r, by_url, (res,) = fetch("--allow-private", "--max-body", "1000KB",
                                  self.srv.url("/big?mib=1"))
        self.assertEqual(res["outcome"], "too_big")
        self.assertEqual(res["error"], "body over 1000000 bytes")

    # -- caps ----------------------------------------------------------
    def test_per_host_cap_and_hosts_in_parallel(self):
        a = [self.srv.url("/slow/a%d?delay=0.3" % i) for i in range(50)]
        b = [self.srv.url("/slow/b%d?delay=0.3" % i, host="localhost")
             for i in range(8)]
        r, by_url, lines = fetch("--allow-private", "--per-host", "4",
                                 "--max-concurrent", "16", *a, *b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(lines), 58)
        self.assertTrue(all(x["ok"] for x in lines))
        host_a = "127.0.0.1:%d" % self.srv.port
        host_b = "localhost:%d" % self.srv.port
        seen = self.srv.max_in_flight_by_host
        self.assertEqual(seen[host_a], 4)  # the cap, reached, never passed
        self.assertLessEqual(seen[host_b], 4)
        # The second host ran alongside the first, not after it.
        self.assertGreater(self.srv.max_in_flight, 4)
        reqs = self.srv.requests
        first_b = min(r.seq for r in reqs if r.host == host_b)
        a_seqs = sorted(r.seq for r in reqs if r.host == host_a)
        self.assertLess(first_b, a_seqs[10])

    def test_global_cap(self):
        urls = [self.srv.url("/slow/g%d?delay=0.2" % i) for i in range(10)]
        urls += [self.srv.url("/slow/h%d?delay=0.2" % i, host="localhost")
                 for i in range(10)]
        r, by_url, lines = fetch("--allow-private", "--per-host", "4",
                                 "--max-concurrent", "3", *urls)
        self.assertEqual(len(lines), 20)
        self.assertEqual(self.srv.max_in_flight, 3)


def make_expired_cert(d):
    """A self-signed certificate for 127.0.0.1 that expired in 2020."""
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = CA_default\n[CA_default]\n"
                "database = %s/index.txt\nnew_certs_dir = %s\n"
                "serial = %s/serial\ndefault_md = sha256\n"
                "policy = policy_any\ncopy_extensions = copy\n"
                "[policy_any]\ncommonName = supplied\n" % (d, d, d))
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    key, csr, crt = (os.path.join(d, n) for n in ("k.pem", "r.csr", "c.pem"))
    q = dict(check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], **q)
    subprocess.run(["openssl", "ca", "-batch", "-config", cnf, "-selfsign",
                    "-keyfile", key, "-in", csr, "-out", crt,
                    "-startdate", "20200101000000Z",
                    "-enddate", "20200102000000Z"], **q)
    return crt, key


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command")
class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vigie-tls-")
        cls.crt, cls.key = make_expired_cert(cls.dir)
        cls.srv = FeedServer(tls=(cls.crt, cls.key)).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        shutil.rmtree(cls.dir)

    def test_untrusted_certificate(self):
        r, by_url, (res,) = fetch("--allow-private",
                                  self.srv.url("/feed/tls"))
        self.assertEqual(res["outcome"], "net_error")
        self.assertTrue(res["error"].startswith("TLS: "), res["error"])
        self.assertIn("self-signed", res["error"])

    def test_expired_certificate(self):
        r, by_url, (res,) = fetch("--allow-private", "--cacert", self.crt,
                                  self.srv.url("/feed/tls"))
        self.assertEqual(res["error"], "TLS: certificate has expired")
        self.assertFalse(res["ok"])


if __name__ == "__main__":
    unittest.main()
