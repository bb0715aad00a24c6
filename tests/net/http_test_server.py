#!/usr/bin/env python3
"""Loopback HTTP server for tests/net/test_http_uv.c.

Usage: http_test_server.py [CERT.pem KEY.pem]
Binds 127.0.0.1 on a free port (and, given a certificate, a second free port
speaking HTTPS), prints "PLAIN_PORT TLS_PORT" on stdout (TLS_PORT 0 without a
certificate), and serves on both:
  /json            200 {"ok": true}
  /echo...         200 text: method, path, Authorization, Content-Type, Accept, body
                   (?delay=MS waits first)
  /429             429 with Retry-After: 2 and a Matrix M_LIMIT_EXCEEDED body
  /retry-date      503 with Retry-After in the HTTP-date form
  /500             500
  /early-hints     103 with Retry-After: 5, then 200 without one
  /slow?ms=MS      waits MS milliseconds, then 200
  /large           200 with 5 MiB of "0123456789abcdef" repeated
  /huge            200 with a Content-Length of 40 MiB (over the client's cap)
  /huge-stream     200 with 40 MiB and no Content-Length (ends with the connection)
  /drop            promises 1000 bytes, sends 10, closes the connection
  /reset-next      200, and the next request on the same connection is read and
                   answered with a reset (a keep-alive connection the server dropped)
  /retry-future    429 with Retry-After as an HTTP-date two minutes ahead
  http://...       (an absolute URL, as a client sends to a proxy) 200 "proxied URL"
It exits when its parent (the test) goes away, and after 300 s in any case.
"""
import email.utils
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATTERN = b"0123456789abcdef"
MIB = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client reuses connections

    def log_message(self, format, *args):  # quiet: the test prints what matters
        pass

    def send(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def route(self):
        body = self.read_body()
        if getattr(self, "reset_next", False):
            # What a server closing an idle keep-alive connection looks like
            # to a client that has just sent a request on it.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        path = url.path
        if self.path.startswith("http://"):  # an absolute URL: we are being used as a proxy
            self.send(200, ("proxied %s" % self.path).encode(), "text/plain")
        elif path == "/json":
            self.send(200, b'{"ok": true}')
        elif path.startswith("/echo"):
            delay = int(query.get("delay", ["0"])[0])
            if delay:
                time.sleep(delay / 1000)
            text = "method: %s\npath: %s\nauth: %s\ncontent-type: %s\naccept: %s\nbody: %s\n" % (
                self.command, self.path,
                self.headers.get("Authorization", "(none)"),
                self.headers.get("Content-Type", "(none)"),
                self.headers.get("Accept", "(none)"),
                body.decode("utf-8", "replace"))
            self.send(200, text.encode(), "text/plain")
        elif path == "/429":
            self.send(429, b'{"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", '
                      b'"retry_after_ms": 2000}', extra=[("Retry-After", "2")])
        elif path == "/retry-date":
            self.send(503, b"{}", extra=[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")])
        elif path == "/early-hints":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nRetry-After: 5\r\n"
                             b"Link: </a.css>; rel=preload\r\n\r\n")
            self.send(200, b'{"ok": true}')
        elif path == "/reset-next":
            self.reset_next = True
            self.send(200, b'{"ok": true}')
        elif path == "/retry-future":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.send(429, b'{"errcode": "M_LIMIT_EXCEEDED"}', extra=[("Retry-After", when)])
        elif path == "/500":
            self.send(500, b'{"errcode": "M_UNKNOWN", "error": "boom"}')
        elif path == "/slow":
            time.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
            self.send(200, b'{"slow": true}')
        elif path == "/large":
            self.send(200, PATTERN * (5 * MIB // len(PATTERN)), "application/octet-stream")
        elif path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(40 * MIB))
            self.end_headers()
            self.stream(40)
        elif path == "/huge-stream":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.stream(40)
        elif path == "/drop":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send(404, b'{"errcode": "M_UNRECOGNIZED"}')

    def stream(self, mib):
        chunk = PATTERN * (MIB // len(PATTERN))
        for _ in range(mib):
            self.wfile.write(chunk)

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (cancel, timeout, cap)

    do_GET = do_POST = do_PUT = do_DELETE = route


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the test opens 50 connections at once

    def handle_error(self, request, client_address):
        pass


def watchdog(parent):
    deadline = time.monotonic() + 300
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.2)
    os._exit(0)


def tls_server(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = Server(("127.0.0.1", 0), Handler)
    # The handshake then happens in the request's thread, so a client that
    # rejects the certificate cannot stall the accept loop.
    server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)
    return server


def main():
    plain = Server(("127.0.0.1", 0), Handler)
    secure = tls_server(sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else None
    threading.Thread(target=watchdog, args=(os.getppid(),), daemon=True).start()
    if secure:
        threading.Thread(target=secure.serve_forever, daemon=True).start()
    print(plain.server_address[1], secure.server_address[1] if secure else 0, flush=True)
    plain.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
