"""A local feed server for the benchmarks, run as its own process on 127.0.0.1.

    python -m bench.feedserver --feeds 1000 --items 10 [--seed 1] [--port 0]

prints `PORT` on its first stdout line once it listens, then serves until killed:

  GET  /feed/I.xml   feed I: the generator's articles I*items .. I*items+items-1 as RSS 2.0,
                     with ETag and Last-Modified; 304 when the request's validators match
  POST /hook         a webhook receiver (Apprise json://): counts deliveries
  GET  /stats        {"200": n, "304": n, "hooks": n, "bytes": n} as JSON
  POST /reset        zero the counters

Every body is generated before the port is printed, so serving costs the server little CPU:
on two cores, generating during a poll would steal time from the client being measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.generator import ArticleGenerator, event_sentences, rss_feed

LAST_MODIFIED = "Wed, 28 Jan 2026 01:00:00 GMT"
_FEED_PATH = re.compile(r"^/feed/(\d+)\.xml$")


class FeedServer(ThreadingHTTPServer):
    """Serves generated feeds and counts what it answered."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # a burst of connections must not meet a full accept queue

    def __init__(self, port: int, generator: ArticleGenerator, feeds: int, items: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.generator = generator
        self.feeds = feeds
        self.items = items
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self._bodies: dict[int, tuple[bytes, str]] = {}

    def feed(self, index: int) -> tuple[bytes, str]:
        """(body, etag) of feed `index`, generated on first use."""
        with self.lock:
            cached = self._bodies.get(index)
        if cached is not None:
            return cached
        start = index * self.items
        base = f"http://127.0.0.1:{self.server_address[1]}"
        articles = list(self.generator.articles(start, start + self.items))
        body = rss_feed(f"Bench feed {index}", base, articles)
        entry = (body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
        with self.lock:
            self._bodies[index] = entry
        return entry

    def count(self, key: str, amount: int = 1) -> None:
        """Add to a counter (thread-safe)."""
        with self.lock:
            self.counts[key] += amount


class _Handler(BaseHTTPRequestHandler):
    server: FeedServer
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
    # Each response leaves in one send: headers and body gather in a write buffer larger than
    # any feed, which the base class flushes once per request; and TCP_NODELAY. Headers and
    # body in two sends under Nagle's algorithm made a keep-alive client wait ~40 ms per
    # response for its delayed ACK, and skewed wall times against one-at-a-time clients.
    wbufsize = 1 << 18
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Silence: one line per request would cost more than the request."""

    def do_GET(self) -> None:
        match = _FEED_PATH.match(self.path.split("?", 1)[0])
        if self.path == "/stats":
            with self.server.lock:
                self._send(200, json.dumps(dict(self.server.counts)).encode(), "application/json")
            return
        if match is None or int(match[1]) >= self.server.feeds:
            self._send(404, b"not found", "text/plain")
            return
        body, etag = self.server.feed(int(match[1]))
        if (
            self.headers.get("If-None-Match") == etag
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.server.count("304")
            self._send(304, b"", None, etag)
            return
        self.server.count("200")
        self.server.count("bytes", len(body))
        self._send(200, body, "application/rss+xml; charset=utf-8", etag)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/reset":
            with self.server.lock:
                self.server.counts.clear()
        else:
            self.server.count("hooks")
        self._send(200, b"{}", "application/json")

    def _send(self, status: int, body: bytes, ctype: str | None, etag: str | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    """Start the server and print its port."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rules-dir", default=str(Path(__file__).parent.parent / "rules"))
    args = parser.parse_args(argv)
    generator = ArticleGenerator(event_sentences(args.rules_dir), seed=args.seed)
    server = FeedServer(args.port, generator, args.feeds, args.items)
    for index in range(args.feeds):
        server.feed(index)
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
