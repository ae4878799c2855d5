"""A local feed server for the benchmarks, run as its own process on 127.0.0.1.

    python -m bench.feedserver --feeds 1000 --items 10 [--seed 1] [--port 0]

prints `PORT` on its first stdout line once it listens, then serves until killed:

  GET  /feed/I.xml   feed I: the generator's articles I*items .. I*items+items-1 as RSS 2.0,
                     with ETag and Last-Modified; 304 when the request's validators match
  GET  /feed/slow.xml  a feed like the others (the generator's next `items` articles) that
                     first sleeps the stall set by POST /stall (none until then); its own
                     thread sleeps, so the other feeds answer meanwhile
  GET  /feed/news.xml  a feed like the others plus, on top, the item last published
  POST /publish      {"guid", "title", "text"}: that item becomes the top of news.xml (in
                     place of the one published before), dated now; answers {"published_at"}
  POST /stall        {"seconds": S}: slow.xml sleeps S seconds before each answer (0: none)
  POST /hook         a webhook receiver (Apprise json://): counts deliveries, records each
                     one's arrival time and body
  GET  /stats        {"200": n, "304": n, "hooks": n, "bytes": n} as JSON
  GET  /events       since the last reset: {"hooks": [{"at", "body"}], "feeds": {"first_at",
                     "last_at", "200", "304"} (the numbered feeds), "slow": [{"start", "end"}]
                     (end null while it sleeps), "news": [{"at", "status"}]}; times in
                     seconds since the epoch
  POST /reset        zero the counters and forget the events

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
import time
from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.generator import ArticleGenerator, event_sentences, rss_feed

LAST_MODIFIED = "Wed, 28 Jan 2026 01:00:00 GMT"
_FEED_PATH = re.compile(r"^/feed/(\d+|slow|news)\.xml$")
HOOK_BODY_MAX = 20_000  # characters of each webhook body kept for /events


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
        self.stall_s = 0.0
        self.published: tuple[bytes, str] | None = None  # (RSS <item>, guid) on top of news
        self.events: dict[str, Any] = _no_events()

    def index(self, name: str) -> int | None:
        """The generated feed behind path name `name` ("12", "slow", "news"), or None."""
        if name == "slow":
            return self.feeds
        if name == "news":
            return self.feeds + 1
        index = int(name)
        return index if index < self.feeds else None

    def news(self) -> tuple[bytes, str]:
        """(body, etag) of news.xml: its generated items with the published one on top."""
        body, etag = self.feed(self.feeds + 1)
        with self.lock:
            published = self.published
        if published is None:
            return body, etag
        item, guid = published
        marker = b"</description>"  # the channel's own, before the first item
        head, tail = body.split(marker, 1)
        return head + marker + item + tail, '"' + hashlib.sha1(guid.encode()).hexdigest()[:16] + '"'

    def publish(self, guid: str, title: str, text: str) -> float:
        """Put one item on top of news.xml, dated now; the time it was published."""
        now = time.time()
        base = f"http://127.0.0.1:{self.server_address[1]}"
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))
        item = (
            "<item>"
            f"<title>{escape(title)}</title>"
            f"<link>{escape(base)}/news/{escape(guid)}</link>"
            f'<guid isPermaLink="false">{escape(guid)}</guid>'
            f"<pubDate>{format_datetime(datetime.fromtimestamp(now, UTC))}</pubDate>"
            f"<description>{escape(paragraphs)}</description>"
            "</item>"
        ).encode()
        with self.lock:
            self.published = (item, guid)
        return now

    def record(self, key: str, entry: dict[str, Any]) -> None:
        """Append an event (thread-safe)."""
        with self.lock:
            self.events[key].append(entry)

    def fed(self, status: int, numbered: bool) -> None:
        """Count a feed answer; for the numbered feeds, also in the events, with the time of
        the first and the last since the reset."""
        now = time.time()
        with self.lock:
            self.counts[str(status)] += 1
            if not numbered:
                return
            feeds = self.events["feeds"]
            feeds["first_at"] = feeds["first_at"] or now
            feeds["last_at"] = now
            feeds[str(status)] += 1

    def reset(self) -> None:
        """Zero the counters and forget the events."""
        with self.lock:
            self.counts.clear()
            self.events = _no_events()

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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hung up (one that gave up on slow.xml): no traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def count(self, key: str, amount: int = 1) -> None:
        """Add to a counter (thread-safe)."""
        with self.lock:
            self.counts[key] += amount


def _no_events() -> dict[str, Any]:
    return {
        "hooks": [],
        "feeds": {"first_at": None, "last_at": None, "200": 0, "304": 0},
        "slow": [],
        "news": [],
    }


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
        if self.path in ("/stats", "/events"):
            with self.server.lock:
                found = self.server.counts if self.path == "/stats" else self.server.events
                data = json.dumps(found).encode()
            self._send(200, data, "application/json")
            return
        index = None if match is None else self.server.index(match[1])
        if match is None or index is None:
            self._send(404, b"not found", "text/plain")
            return
        if match[1] == "slow":
            self._stall()
        body, etag = self.server.news() if match[1] == "news" else self.server.feed(index)
        modified = self.headers.get("If-None-Match") != etag and (
            match[1] == "news" or self.headers.get("If-Modified-Since") != LAST_MODIFIED
        )
        status = 200 if modified else 304
        if match[1] == "news":
            self.server.record("news", {"at": time.time(), "status": status})
        self.server.fed(status, numbered=match[1].isdigit())
        if not modified:
            self._send(304, b"", None, etag)
            return
        self.server.count("bytes", len(body))
        self._send(200, body, "application/rss+xml; charset=utf-8", etag)

    def _stall(self) -> None:
        """Sleep the stall set by POST /stall (in this request's thread only)."""
        entry: dict[str, float | None] = {"start": time.time(), "end": None}
        self.server.record("slow", entry)
        time.sleep(self.server.stall_s)
        with self.server.lock:
            entry["end"] = time.time()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        answer: dict[str, Any] = {}
        if self.path == "/reset":
            self.server.reset()
        elif self.path == "/publish":
            item = json.loads(data)
            answer["published_at"] = self.server.publish(item["guid"], item["title"], item["text"])
        elif self.path == "/stall":
            self.server.stall_s = float(json.loads(data)["seconds"])
        else:
            self.server.count("hooks")
            text = data.decode("utf-8", "replace")[:HOOK_BODY_MAX]
            self.server.record("hooks", {"at": time.time(), "body": text})
        self._send(200, json.dumps(answer).encode(), "application/json")

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
    for index in range(args.feeds + 2):  # the numbered feeds, slow.xml and news.xml
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
