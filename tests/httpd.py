#!/usr/bin/env python3
"""A test HTTP server for starchive's fetch tests: Python 3 standard library only.

Binds 127.0.0.1 on free ports (one per --ports; two ports look like two hosts to a client),
prints "PORTS p1 p2 ..." on standard output (and writes the same line to --port-file), serves
files under --root at /files/..., and misbehaves on demand. With --tls-cert and --tls-key one more
port, last on the PORTS line, speaks TLS with that certificate (a self-signed one: a client that
verifies must refuse it). --blackhole-file FILE gets a port where connecting never completes.

  /fault/304-etag            JSON with a weak ETag that changes with /_ctl/bump; honours If-None-Match
  /fault/304-lm              JSON with a Last-Modified that changes with /_ctl/bump; honours If-Modified-Since
  /fault/429?retry-after=V   429 with "Retry-After: V" (seconds or an HTTP-date); also /fault/503
  /fault/500                 500 with an HTML error page (?huge=1: one that never ends)
  /fault/slow?ms=N           JSON after N ms (counts requests in flight per port: /_ctl/stats)
  /fault/drip?ms=N           200, then one byte every N ms, forever
  /fault/stall               reads the request and never answers (?after=headers: sends headers first)
  /fault/redirect-loop       302 to itself, forever
  /fault/redirect-chain?n=K  K redirects, then JSON
  /fault/redirect-file       302 to file:///etc/passwd
  /fault/redirect?to=URL     302 to URL
  /fault/gzip-bomb           a gzip-encoded body of 64 MiB that is a few dozen KiB on the wire
  /fault/huge                an endless body (Content-Length 1 GiB; ?chunked=1: chunked, no length)
  /fault/truncated           Content-Length 4096, then 100 bytes and a closed connection
  /fault/bad-gzip            "Content-Encoding: gzip" over bytes that are not gzip
  /fault/html                200 text/html: a CDN bot-check page where JSON was expected
  /PATH (with --serve-root)  the file PATH under --root; /history?page=2 is the file history-page-2(.html)
  /_ctl/bump                 change the ETags and Last-Modified of the /fault/304-* resources
  /_ctl/stats                "port=P slow_max=N conns_max=N requests=N" lines and "all slow_max=N"
                             (the most /fault/slow requests in flight at once); /_ctl/reset zeroes them

A webhook receiver takes POSTs (each is appended to --hook-log, flushed, before it is answered, as
one JSON line {"path","method","headers" (names lowercased),"body" (as text),"status" (null when
none is sent)}):

  /hook/ok                   200 with a short JSON body
  /hook/500                  500 with a short JSON body
  /hook/429?retry-after=V    429 with "Retry-After: V" (default 120)
  /hook/stall                reads the request and never answers
  /hook/flaky?fail=N         500 to the first N requests for this path and query, then 200
                             (the counts go back to zero with /_ctl/reset)
  /hook/slow?ms=N            200 after N ms (default 300)
  /hook/redirect             302 to /hook/ok (a webhook client must not follow it)
  /hook/huge                 200 with an endless body (chunked)

Every request is logged to --log as one line of tab-separated key=value pairs (port, method, path,
if-none-match, if-modified-since, user-agent, accept-encoding, accept; "-" when absent), so tests
can assert what a client sent. The server exits by itself after --lifetime seconds, and at once
when its standard input closes if --watch-stdin is given (a crashed parent cannot leave it behind).
"""

import argparse
import email.utils
import gzip
import hashlib
import json
import mimetypes
import os
import select
import socket
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE_TIME = 1736942400  # 2025-01-15T12:00:00Z: Last-Modified of the generation-0 resources

SUMMARY = (b'{"page":{"id":"kctbh9vrtdwd","name":"GitHub","url":"https://www.githubstatus.com",'
           b'"time_zone":"Etc/UTC","updated_at":"2025-01-15T11:58:04.212Z"},'
           b'"status":{"indicator":"none","description":"All Systems Operational"}}\n')

INTERSTITIAL = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>\
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\
<meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow">\
<meta name="viewport" content="width=device-width,initial-scale=1"></head><body class="no-js">\
<div class="main-wrapper" role="main"><div class="main-content">\
<h1 class="zone-name-title h1">status.example.com</h1>\
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>\
<noscript><div id="challenge-error-title"><div class="h2"><span class="icon-wrapper"></span>\
<span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></div></noscript>\
</div></div></body></html>
"""

ERROR_500 = b"""<html>\r
<head><title>500 Internal Server Error</title></head>\r
<body>\r
<center><h1>500 Internal Server Error</h1></center>\r
<hr><center>nginx</center>\r
</body>\r
</html>\r
"""


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.gen = 0
        self.stats = {}
        self.slow = 0       # /fault/slow requests in flight on all ports together ...
        self.slow_max = 0   # ... and the most at once since the last reset
        self.bomb = None
        self.hooks = {}     # /hook/flaky requests seen, per path and query

    def port_stats(self, port):
        return self.stats.setdefault(port, {"slow": 0, "slow_max": 0, "conns": 0, "conns_max": 0,
                                            "requests": 0})

    def bump(self, port, key, delta):
        with self.lock:
            s = self.port_stats(port)
            s[key] += delta
            if key + "_max" in s and s[key] > s[key + "_max"]:
                s[key + "_max"] = s[key]

    def gzip_bomb(self):
        with self.lock:
            if self.bomb is None:
                z = zlib.compressobj(6, zlib.DEFLATED, 31)
                chunk = b" " * (1 << 20)
                parts = [z.compress(b"[")]
                for _ in range(64):
                    parts.append(z.compress(chunk))
                parts.append(z.compress(b"]"))
                parts.append(z.flush())
                self.bomb = b"".join(parts)
            return self.bomb


STATE = State()
OPTS = None
LOG_LOCK = threading.Lock()


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self):
        return "starchive-test-httpd/1"

    def setup(self):
        super().setup()
        self.port = self.server.server_address[1]
        STATE.bump(self.port, "conns", 1)

    def finish(self):
        STATE.bump(self.port, "conns", -1)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        if not OPTS.log:
            return
        fields = [("port", str(self.port)), ("method", self.command), ("path", self.path)]
        for h in ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept-Encoding", "Accept"):
            fields.append((h.lower(), self.headers.get(h, "-")))
        line = "\t".join("%s=%s" % kv for kv in fields) + "\n"
        with LOG_LOCK, open(OPTS.log, "a", encoding="utf-8", errors="replace") as f:
            f.write(line)

    # ---- helpers ----

    def send(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def wait_for_close(self, limit):
        """Sleep until the client closes the connection or limit seconds pass."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            r, _, _ = select.select([self.connection], [], [], 0.2)
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return
                except OSError:
                    return
                time.sleep(0.2)
        self.close_connection = True

    def conditional_etag(self, etag, last_modified, body):
        """200 with validators, or 304 when the client's validators still match."""
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        headers = []
        if etag:
            headers.append(("ETag", etag))
        if last_modified is not None:
            headers.append(("Last-Modified", http_date(last_modified)))
        headers.append(("Cache-Control", "max-age=0, private, must-revalidate"))
        fresh = False
        if inm is not None:
            if etag:
                weak = lambda t: t.strip()[2:] if t.strip().startswith("W/") else t.strip()
                fresh = any(t.strip() == "*" or weak(t) == weak(etag) for t in inm.split(","))
        elif ims is not None and last_modified is not None:
            try:
                fresh = email.utils.parsedate_to_datetime(ims).timestamp() >= last_modified
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            self.send(304, headers=headers)
        else:
            self.send(200, body, headers=headers)

    # ---- routes ----

    def do_GET(self):
        STATE.bump(self.port, "requests", 1)
        self.log_request_line()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = url.path
        try:
            if path.startswith("/_ctl/"):
                return self.control(path, q)
            if path.startswith("/files/"):
                return self.serve_file(path[len("/files/"):])
            if OPTS.serve_root and not path.startswith("/fault/"):
                return self.serve_file(path.lstrip("/"), url.query)
            route = getattr(self, "fault_" + path[len("/fault/"):].replace("-", "_"), None) \
                if path.startswith("/fault/") else None
            if route is None:
                return self.send(404, b"not found\n", "text/plain")
            return route(q)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def control(self, path, q):
        if path == "/_ctl/bump":
            with STATE.lock:
                STATE.gen += 1
                gen = STATE.gen
            return self.send(200, b"gen %d\n" % gen, "text/plain")
        if path == "/_ctl/stats":
            with STATE.lock:
                lines = ["port=%d slow_max=%d conns_max=%d requests=%d" %
                         (p, s["slow_max"], s["conns_max"], s["requests"])
                         for p, s in sorted(STATE.stats.items())]
                lines.append("all slow_max=%d" % STATE.slow_max)
            return self.send(200, ("\n".join(lines) + "\n").encode(), "text/plain")
        if path == "/_ctl/reset":
            with STATE.lock:
                for s in STATE.stats.values():
                    s["slow_max"] = s["slow"]
                    s["conns_max"] = s["conns"]
                    s["requests"] = 0
                STATE.slow_max = STATE.slow
                STATE.hooks.clear()
            return self.send(200, b"reset\n", "text/plain")
        return self.send(404, b"not found\n", "text/plain")

    def serve_file(self, rel, query=""):
        root = os.path.realpath(OPTS.root) if OPTS.root else None
        if query:  # /history?page=2 is the file history-page-2
            rel += "-" + query.replace("=", "-").replace("&", "-")
        full = os.path.realpath(os.path.join(root, urllib.parse.unquote(rel))) if root else None
        if full and not os.path.isfile(full) and os.path.isfile(full + ".html"):
            full += ".html"  # extension-less pages, as status pages serve /incidents/<code>
        if not full or not full.startswith(root + os.sep) or not os.path.isfile(full):
            return self.send(404, b"not found\n", "text/plain")
        with open(full, "rb") as f:
            body = f.read()
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:20]
        mtime = int(os.stat(full).st_mtime)
        headers = [("ETag", etag), ("Last-Modified", http_date(mtime)), ("Vary", "Accept-Encoding")]
        inm = self.headers.get("If-None-Match")
        if inm is not None and etag in [t.strip() for t in inm.split(",")]:
            return self.send(304, headers=headers)
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        return self.send(200, body, ctype, headers)

    def fault_304_etag(self, q):
        with STATE.lock:
            gen = STATE.gen
        self.conditional_etag('W/"%d-1a2b3c"' % (gen + 1), BASE_TIME + gen * 3600, SUMMARY)

    def fault_304_lm(self, q):
        with STATE.lock:
            gen = STATE.gen
        self.conditional_etag(None, BASE_TIME + gen * 3600, SUMMARY)

    def fault_429(self, q, status=429):
        ra = q.get("retry-after", "120")
        body = b'{"error":"rate limited"}\n' if status == 429 else b"Service Unavailable\n"
        self.send(status, body, "application/json" if status == 429 else "text/plain",
                  [("Retry-After", ra)])

    def fault_503(self, q):
        self.fault_429(q, 503)

    def fault_500(self, q):
        if q.get("huge") != "1":
            return self.send(500, ERROR_500, "text/html")
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.chunk(ERROR_500)
        end = time.monotonic() + OPTS.lifetime
        while time.monotonic() < end:
            self.chunk(b"<!-- padding -->\n" * 4096)
        self.close_connection = True

    def fault_slow(self, q):
        STATE.bump(self.port, "slow", 1)
        with STATE.lock:
            STATE.slow += 1
            STATE.slow_max = max(STATE.slow_max, STATE.slow)
        try:
            time.sleep(int(q.get("ms", "300")) / 1000)
        finally:
            STATE.bump(self.port, "slow", -1)
            with STATE.lock:
                STATE.slow -= 1
        self.send(200, SUMMARY)

    def fault_drip(self, q):
        delay = int(q.get("ms", "200")) / 1000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        end = time.monotonic() + OPTS.lifetime
        while time.monotonic() < end:
            self.chunk(b" ")
            time.sleep(delay)
        self.close_connection = True

    def fault_stall(self, q):
        if q.get("after") == "headers":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
        self.wait_for_close(OPTS.lifetime)
        self.close_connection = True

    def fault_redirect_loop(self, q):
        n = int(q.get("n", "0"))
        self.send(302, b"", "text/plain", [("Location", "/fault/redirect-loop?n=%d" % (n + 1))])

    def fault_redirect_chain(self, q):
        n = int(q.get("n", "0"))
        if n <= 0:
            return self.send(200, SUMMARY)
        self.send(302, b"", "text/plain", [("Location", "/fault/redirect-chain?n=%d" % (n - 1))])

    def fault_redirect_file(self, q):
        self.send(302, b"", "text/plain", [("Location", "file:///etc/passwd")])

    def fault_redirect(self, q):
        self.send(302, b"", "text/plain", [("Location", q.get("to", "/files/"))])

    def fault_gzip_bomb(self, q):
        self.send(200, STATE.gzip_bomb(), "application/json", [("Content-Encoding", "gzip")])

    def fault_huge(self, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        chunked = q.get("chunked") == "1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        block = b"[" + b"0," * 32767 + b"0"
        end = time.monotonic() + OPTS.lifetime
        while time.monotonic() < end:
            if chunked:
                self.chunk(block)
            else:
                self.wfile.write(block)
        self.close_connection = True

    def fault_truncated(self, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "4096")
        self.end_headers()
        self.wfile.write(SUMMARY[:100])
        self.wfile.flush()
        self.close_connection = True

    def fault_bad_gzip(self, q):
        self.send(200, b"this is not gzip at all" * 10, "application/json", [("Content-Encoding", "gzip")])

    def fault_html(self, q):
        self.send(200, INTERSTITIAL, "text/html; charset=UTF-8", [("Cache-Control", "no-cache")])

    # ---- the webhook receiver ----

    def do_POST(self):
        STATE.bump(self.port, "requests", 1)
        self.log_request_line()
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self.read_body()
            route = getattr(self, "hook_" + url.path[len("/hook/"):].replace("-", "_"), None) \
                if url.path.startswith("/hook/") else None
            if route is None:
                return self.send(404, b"not found\n", "text/plain")
            return route(q, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def hook_log(self, body, status):
        if not OPTS.hook_log:
            return
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        line = json.dumps({"path": self.path, "method": self.command, "headers": headers,
                           "body": body.decode("utf-8", errors="replace"), "status": status},
                          sort_keys=True) + "\n"
        with LOG_LOCK, open(OPTS.hook_log, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()

    def hook_ok(self, q, body):
        self.hook_log(body, 200)
        self.send(200, b'{"ok":true}\n')

    def hook_500(self, q, body):
        self.hook_log(body, 500)
        self.send(500, b'{"error":"internal error"}\n')

    def hook_429(self, q, body):
        ra = q.get("retry-after", "120")
        self.hook_log(body, 429)
        self.send(429, b'{"error":"rate limited"}\n', headers=[("Retry-After", ra)])

    def hook_stall(self, q, body):
        self.hook_log(body, None)
        self.wait_for_close(OPTS.lifetime)
        self.close_connection = True

    def hook_flaky(self, q, body):
        with STATE.lock:
            seen = STATE.hooks[self.path] = STATE.hooks.get(self.path, 0) + 1
        status = 500 if seen <= int(q.get("fail", "1")) else 200
        self.hook_log(body, status)
        self.send(status, b'{"ok":%s}\n' % (b"true" if status == 200 else b"false"))

    def hook_slow(self, q, body):
        self.hook_log(body, 200)
        time.sleep(int(q.get("ms", "300")) / 1000)
        self.send(200, b'{"ok":true}\n')

    def hook_redirect(self, q, body):
        self.hook_log(body, 302)
        self.send(302, b"", "text/plain", [("Location", "/hook/ok")])

    def hook_huge(self, q, body):
        self.hook_log(body, 200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b"[" + b"0," * 32767 + b"0"
        end = time.monotonic() + OPTS.lifetime
        while time.monotonic() < end:
            self.chunk(block)
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # clients hanging up (timeouts, caps) are the point of most faults: stay quiet about them
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def main():
    global OPTS
    ap = argparse.ArgumentParser(description="starchive test HTTP server (binds 127.0.0.1 only)")
    ap.add_argument("--root", help="serve this directory at /files/")
    ap.add_argument("--ports", type=int, default=1, help="how many ports to listen on (default 1)")
    ap.add_argument("--port-file", help="write the PORTS line here too (atomically)")
    ap.add_argument("--log", help="append one line per request here")
    ap.add_argument("--hook-log", help="append one JSON line per webhook POST here")
    ap.add_argument("--lifetime", type=float, default=60, help="exit after this many seconds (default 60)")
    ap.add_argument("--watch-stdin", action="store_true", help="exit when standard input closes")
    ap.add_argument("--serve-root", action="store_true",
                    help="also serve --root at / (a query maps to a file: /history?page=2 is history-page-2)")
    ap.add_argument("--tls-cert", help="also listen with TLS on one more port, with this certificate (PEM) ...")
    ap.add_argument("--tls-key", help="... and this key; its port comes last on the PORTS line")
    ap.add_argument("--blackhole-file", help="write here a port whose connections never complete (its accept "
                    "queue is full, so the kernel drops new SYNs): a client's connect timeout fires")
    OPTS = ap.parse_args()
    if OPTS.blackhole_file:
        import socket
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        fillers = []
        for _ in range(4):  # fill the queue; never accepted
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(hole.getsockname())
            except BlockingIOError:
                pass
            fillers.append(c)
        time.sleep(0.2)
        with open(OPTS.blackhole_file + ".tmp", "w") as f:
            f.write("%d\n" % hole.getsockname()[1])
        os.replace(OPTS.blackhole_file + ".tmp", OPTS.blackhole_file)

    servers = [Server(("127.0.0.1", 0), Handler) for _ in range(max(1, OPTS.ports))]
    if OPTS.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(OPTS.tls_cert, OPTS.tls_key)
        tls = Server(("127.0.0.1", 0), Handler)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        servers.append(tls)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    STATE.gzip_bomb()  # built before the ports are announced: a loaded machine cannot time the request out
    line = "PORTS " + " ".join(str(s.server_address[1]) for s in servers) + "\n"
    if OPTS.port_file:
        tmp = OPTS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(line)
        os.replace(tmp, OPTS.port_file)
    sys.stdout.write(line)
    sys.stdout.flush()

    if OPTS.watch_stdin:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except OSError:
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    time.sleep(OPTS.lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
