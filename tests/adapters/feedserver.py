"""A real HTTP server on 127.0.0.1 (random port) that serves fixture feeds and misbehaves on
request, for testing the RSS adapter without mocks.

Routes (all GET; FILE is a name under fixtures/):
  /feed/FILE?v=both|etag|lastmod|none&ct=TYPE   200 with validators; 304 when they match
      &cc=VALUE&expires=VALUE                    ... with that Cache-Control / Expires (on 304s too)
  /raw/FILE?ct=TYPE|none                         the bytes exactly, with that Content-Type
  /gzip/FILE                                     gzip Content-Encoding
  /hop/N/CODE/FILE                               N redirects (CODE) then /feed/FILE
  /relhop/FILE                                   a redirect with a relative Location
  /cookiehop/FILE                                a redirect setting a cookie (wf=hop)
  /loop/a, /loop/b                               redirect to each other
  /status/CODE                                   that status, small body
  /fail/TOKEN/TIMES/CODE/FILE?retry_after=X      CODE the first TIMES times (per TOKEN), then FILE
  /reset                                         TCP reset before any response
  /stall/SECONDS                                 headers and part of the body, then silence
  /silent/SECONDS                                no response at all for SECONDS
  /big/BYTES?cl=1                                a feed-looking body of BYTES (Content-Length if cl)
  /trickle/MS                                    one body byte every MS milliseconds, forever
  /trickleheaders/MS                             one header line every MS milliseconds, forever
  /to?url=URL&code=302                           a redirect to any URL (another host, too)
  /slow/MS/FILE                                  waits MS milliseconds, then serves FILE
  /afterpost/SECONDS/FILE                        FILE once a POST has come; 503 if none in SECONDS
  /empty                                         200 with an empty body
  POST /hook/NAME                                records the body (an Apprise json:// receiver)

`requests` logs (path, headers) of every GET, `statuses` (path, status) of every response and
`posts` (path, body) of every POST, so tests can check what was asked and answered.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
LAST_MODIFIED = "Wed, 28 Jan 2026 01:00:00 GMT"
CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/feed+json",
}


class FeedServer(ThreadingHTTPServer):
    """The server, its counters and a stop event that ends stalled handlers at teardown."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops SYNs under a burst: 1 s retransmit stalls

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stop = threading.Event()
        self.posted = threading.Event()  # set by the first POST
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.tokens: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, lower-cased headers)
        self.statuses: list[tuple[str, int]] = []  # (path, status) of every response sent
        self.posts: list[tuple[str, bytes]] = []  # (path, body) of every POST
        self.in_flight = 0
        self.max_in_flight = 0
        self.connections = 0
        self.waiting = 0  # handlers inside /slow's wait: the client holds its host slot throughout
        self.max_waiting = 0
        self.files: dict[str, bytes] = {}  # tests may add generated bodies by name

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Absolute URL of `path` on this server."""
        return self.base + path

    def reset_counters(self) -> None:
        with self.lock:
            self.hits.clear()
            self.tokens.clear()
            self.requests.clear()
            self.statuses.clear()
            self.posts.clear()
            self.posted.clear()
            self.max_in_flight = 0
            self.connections = 0
            self.max_waiting = 0

    def body_of(self, name: str) -> bytes:
        return self.files.get(name) or (FIXTURES / name).read_bytes()

    def start(self) -> FeedServer:
        threading.Thread(target=self.serve_forever, daemon=True, name="feedserver").start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()


@contextmanager
def serving_feeds() -> Iterator[FeedServer]:
    """A FeedServer answering on 127.0.0.1 for the length of the block."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.close()


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real feed servers do

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms) on a kept-alive connection, as no real server does.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.lock:
            self.server.connections += 1  # one handler per TCP connection

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self.server.lock:
            self.server.hits[parts.path] += 1
            headers = {key.lower(): value for key, value in self.headers.items()}
            self.server.requests.append((self.path, headers))
            self.server.in_flight += 1
            self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        try:
            route = getattr(self, f"route_{segments[0]}", None) if segments else None
            if route is None:
                self.send_body(404, b"no such route", "text/plain")
            else:
                route(segments[1:], query)
        finally:
            with self.server.lock:
                self.server.in_flight -= 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.posts.append((self.path, body))
        self.server.posted.set()
        self.send_body(200, b"ok", "text/plain")

    def send_response(self, code: int, message: str | None = None) -> None:
        with self.server.lock:
            self.server.statuses.append((self.path, code))
        super().send_response(code, message)

    # --- helpers ---------------------------------------------------------------------------

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, code: int, location: str) -> None:
        self.send_body(code, b"moved", "text/plain", {"Location": location})

    def serve_file(self, name: str, query: dict[str, str]) -> None:
        body = self.server.body_of(name)
        content_type = query.get("ct") or CONTENT_TYPES.get(Path(name).suffix, "application/xml")
        validators = query.get("v", "both")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        caching = {"Cache-Control": query.get("cc"), "Expires": query.get("expires")}
        headers = {key: value for key, value in caching.items() if value is not None}
        if validators in ("both", "lastmod"):
            headers["Last-Modified"] = LAST_MODIFIED  # on a 304 too, as servers commonly send it
        if validators in ("both", "etag"):
            headers["ETag"] = etag
            if self.headers.get("If-None-Match") == etag:
                self.send_body(304, b"", None, headers)
                return
        if validators == "lastmod" and self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send_body(304, b"", None, headers)
            return
        self.send_body(200, body, None if content_type == "none" else content_type, headers)

    # --- routes ----------------------------------------------------------------------------

    def route_feed(self, args: list[str], query: dict[str, str]) -> None:
        self.serve_file(args[0], query)

    def route_raw(self, args: list[str], query: dict[str, str]) -> None:
        self.serve_file(args[0], {**query, "v": "none"})

    def route_gzip(self, args: list[str], query: dict[str, str]) -> None:
        body = gzip.compress(self.server.body_of(args[0]))
        self.send_body(200, body, CONTENT_TYPES[".xml"], {"Content-Encoding": "gzip"})

    def route_hop(self, args: list[str], query: dict[str, str]) -> None:
        count, code, name = int(args[0]), int(args[1]), args[2]
        target = f"/hop/{count - 1}/{code}/{name}" if count > 1 else f"/feed/{name}"
        self.redirect(code, self.server.url(target))

    def route_relhop(self, args: list[str], query: dict[str, str]) -> None:
        self.redirect(302, f"../feed/{args[0]}")

    def route_cookiehop(self, args: list[str], query: dict[str, str]) -> None:
        headers = {"Location": self.server.url(f"/feed/{args[0]}"), "Set-Cookie": "wf=hop; Path=/"}
        self.send_body(302, b"moved", "text/plain", headers)

    def route_loop(self, args: list[str], query: dict[str, str]) -> None:
        self.redirect(302, "/loop/b" if args[0] == "a" else "/loop/a")

    def route_status(self, args: list[str], query: dict[str, str]) -> None:
        self.send_body(int(args[0]), b"<html><body>status page</body></html>", "text/html")

    def route_fail(self, args: list[str], query: dict[str, str]) -> None:
        token, times, code, name = args[0], int(args[1]), int(args[2]), args[3]
        with self.server.lock:
            self.server.tokens[token] += 1
            seen = self.server.tokens[token]
        if seen <= times:
            extra = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            self.send_body(code, b"try later", "text/plain", extra)
        else:
            self.serve_file(name, query)

    def route_reset(self, args: list[str], query: dict[str, str]) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def route_stall(self, args: list[str], query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[".xml"])
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>stall')
        self.wfile.flush()
        self.server.stop.wait(float(args[0]))
        self.close_connection = True

    def route_silent(self, args: list[str], query: dict[str, str]) -> None:
        self.server.stop.wait(float(args[0]))
        self.close_connection = True

    def route_big(self, args: list[str], query: dict[str, str]) -> None:
        size = int(args[0])
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
        filler = b"<!-- " + b"x" * 65_000 + b" -->"
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[".xml"])
        if query.get("cl"):
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            for piece in _pieces(head, filler, size):
                if self.server.stop.is_set():
                    break
                if query.get("cl"):
                    self.wfile.write(piece)
                else:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                sent += len(piece)
            if not query.get("cl"):
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its cap, as it should
        self.close_connection = True

    def route_trickle(self, args: list[str], query: dict[str, str]) -> None:
        # A byte now and then: each read succeeds in time, only a total deadline stops it.
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[".xml"])
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')
            while not self.server.stop.wait(int(args[0]) / 1000):
                self.wfile.write(b"x")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def route_trickleheaders(self, args: list[str], query: dict[str, str]) -> None:
        # The headers never end: each line arrives well within a read timeout.
        with self.server.lock:
            self.server.statuses.append((self.path, 200))
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n")
            line = 0
            while not self.server.stop.wait(int(args[0]) / 1000):
                line += 1
                self.wfile.write(f"X-Padding-{line}: {'x' * 20}\r\n".encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up at its deadline, as it should
        self.close_connection = True

    def route_to(self, args: list[str], query: dict[str, str]) -> None:
        self.redirect(int(query.get("code", "302")), query["url"])

    def route_slow(self, args: list[str], query: dict[str, str]) -> None:
        with self.server.lock:
            self.server.waiting += 1
            self.server.max_waiting = max(self.server.max_waiting, self.server.waiting)
        self.server.stop.wait(int(args[0]) / 1000)
        with self.server.lock:
            self.server.waiting -= 1
        self.serve_file(args[1], query)

    def route_afterpost(self, args: list[str], query: dict[str, str]) -> None:
        if self.server.posted.wait(float(args[0])):
            self.serve_file(args[1], query)
        else:
            self.send_body(503, b"no POST came", "text/plain")

    def route_empty(self, args: list[str], query: dict[str, str]) -> None:
        self.send_body(200, b"", CONTENT_TYPES[".xml"])


def _pieces(head: bytes, filler: bytes, size: int):
    yield head[:size]
    left = size - len(head)
    while left > 0:
        piece = filler[:left]
        left -= len(piece)
        yield piece
