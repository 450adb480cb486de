#!/usr/bin/env python3
"""A test SMTP server for starchive's email sinks: Python 3 standard library only.

Binds 127.0.0.1 on a free port, writes "PORT p" to --port-file, and speaks enough SMTP (RFC 5321:
HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real sendmail (msmtp) to hand it mail. Each
message is appended to --out as one JSON line {"from", "to": [...], "data"}, flushed before the
reply."""
import argparse
import json
import os
import socketserver
import threading
import time

OPTS = None
LOCK = threading.Lock()


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.reply("220 127.0.0.1 starchive test SMTP")
        mail_from, rcpts = None, []
        while True:
            raw = self.rfile.readline(65536)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("HELO", "EHLO"):
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                mail_from, rcpts = line[10:].strip(), []
                self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                rcpts.append(line[8:].strip())
                self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("503 5.5.1 no valid recipients")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                data = []
                while True:
                    d = self.rfile.readline(1 << 20)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                    if d.startswith(b".."):
                        d = d[1:]
                    data.append(d)
                with LOCK, open(OPTS.out, "a") as f:
                    f.write(json.dumps({"from": mail_from, "to": rcpts,
                                        "data": b"".join(data).decode("utf-8", "replace")}) + "\n")
                    f.flush()
                self.reply("250 2.0.0 queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 not implemented")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global OPTS
    ap = argparse.ArgumentParser(description="starchive test SMTP server (binds 127.0.0.1 only)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True, help="append one JSON line per message here")
    ap.add_argument("--lifetime", type=float, default=60)
    OPTS = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(OPTS.port_file + ".tmp", "w") as f:
        f.write("PORT %d\n" % srv.server_address[1])
    os.replace(OPTS.port_file + ".tmp", OPTS.port_file)
    time.sleep(OPTS.lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
