#!/usr/bin/env python3
"""A tiny webhook receiver for trying vigie: prints every POST it gets.

    tools/webhook-receiver.py [--port 8808] [--secret S]

Listens on 127.0.0.1 only. With --secret it checks X-Vigie-Signature and
says whether it matches. Answers 200. Ctrl-C stops it."""
import argparse
import hashlib
import hmac
import http.server
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8808)
    ap.add_argument("--secret")
    ap.add_argument("--ready-file", help="created once listening")
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, 1 << 20))
            sig = self.headers.get("X-Vigie-Signature", "")
            line = "webhook %s: " % self.path
            try:
                doc = json.loads(body)
                payload = doc.get("payload", doc)
                text = payload.get("text") or (doc.get("item") or {}).get("title") or body[:200].decode()
            except (ValueError, AttributeError):
                text = body[:200].decode("utf-8", "replace")
            line += text
            if args.secret:
                want = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
                line += "  [signature %s]" % ("ok" if hmac.compare_digest(want, sig) else "BAD")
            print(line, flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("webhook receiver listening on http://127.0.0.1:%d/" % args.port, flush=True)
    if args.ready_file:
        open(args.ready_file, "w").close()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
