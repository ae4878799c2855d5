"""The naive peer: the feed watcher a user would write in an afternoon and run from cron.

    python bench/peer_naive.py FEEDS.txt STATE.db

Reads one feed URL per line, fetches each in turn with feedparser (conditional GET with the
ETag and Last-Modified it kept), matches a hand-written keyword regex against title and
summary, and inserts every new item with its keyword hits into SQLite. No detection, no
near-duplicates, no alerts: the bench compares what Watchfloor costs against this. Standalone on
purpose (only feedparser and the standard library), so its process pays no import of the
project.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from pathlib import Path

import feedparser

# A user's watch list: a few dozen words, in one case-insensitive alternation.
KEYWORDS = re.compile(
    r"\b(attack\w*|bomb\w*|blast|explosion|shooting|gunmen|killed|kidnap\w*|hostage\w*|"
    r"protest\w*|riot\w*|curfew|strike|evacuat\w*|earthquake|flood\w*|cyclone|wildfire|"
    r"outbreak|cholera|coup|arrest\w*|clash\w*|ceasefire|airstrike\w*|missile\w*|"
    r"closed|suspended|cancel\w*|emergency)\b",
    re.IGNORECASE,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, etag TEXT, modified TEXT);
CREATE TABLE IF NOT EXISTS items (
    guid TEXT PRIMARY KEY, feed TEXT, title TEXT, link TEXT, summary TEXT,
    published TEXT, keywords TEXT
);
"""


def poll(db: sqlite3.Connection, url: str) -> int:
    """Fetch one feed and store its new items; the number of items inserted."""
    row = db.execute("SELECT etag, modified FROM feeds WHERE url = ?", (url,)).fetchone()
    etag, modified = row if row else (None, None)
    parsed = feedparser.parse(url, etag=etag, modified=modified)
    if parsed.get("status") == 304:
        return 0
    inserted = 0
    for entry in parsed.entries:
        title, summary = entry.get("title", ""), entry.get("summary", "")
        hits = sorted({m.lower() for m in KEYWORDS.findall(f"{title}\n{summary}")})
        cursor = db.execute(
            "INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry.get("id") or entry.get("link"),
                url,
                title,
                entry.get("link"),
                summary,
                entry.get("published"),
                ",".join(hits),
            ),
        )
        inserted += cursor.rowcount
    db.execute(
        "INSERT OR REPLACE INTO feeds VALUES (?, ?, ?)",
        (url, parsed.get("etag"), parsed.get("modified")),
    )
    return inserted


def main(feeds_path: str, db_path: str) -> None:
    """Poll every feed of the list once, one transaction for the run."""
    lines = Path(feeds_path).read_text(encoding="utf-8").splitlines()
    urls = [line.strip() for line in lines if line.strip()]
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA)
    with db:
        new = sum(poll(db, url) for url in urls)
    db.close()
    print(f"{len(urls)} feeds, {new} new items")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
