"""`watchfloor run` honours what a feed says about its own freshness: Cache-Control max-age
and RSS <ttl> stretch the wait before its next poll, within the source's `max_poll_interval`,
and a 304 (which carries no body) keeps the feed's ttl in force."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.adapters.adapterkit import FAST
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import delay_s, health, run_json

pytestmark = pytest.mark.usefixtures("prefect_harness")

# (path on the feed server, max_poll_interval or None) -> expected wait after a 60 s interval
SOURCES: dict[str, tuple[str, str | None, float]] = {
    "Cached": ("/feed/rss2_korea.xml?cc=public,max-age=1800", None, 120.0),  # default: 2x
    "Long TTL": ("/feed/rss2_ttl.xml", "1h", 2700.0),  # <ttl>45</ttl>
    "Capped TTL": ("/feed/rss2_ttl.xml?cap", "20m", 1200.0),
    "Told nothing": ("/feed/atom_japan.xml", "1h", 60.0),
    "Asks less": ("/feed/rdf_taiwan.xml?cc=max-age=5", "1h", 60.0),  # never polled sooner
}


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


def write_sources(path: Path, server: FeedServer) -> Path:
    entries = []
    for name, (feed_path, ceiling, _) in SOURCES.items():
        entry: dict[str, Any] = {"name": name, "url": server.url(feed_path)}
        if ceiling is not None:
            entry["max_poll_interval"] = ceiling
        entries.append(entry)
    document = {"defaults": {"poll_interval": 60, "options": dict(FAST)}, "sources": entries}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_the_next_poll_honours_the_feeds_own_freshness(
    server: FeedServer, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    sources = write_sources(tmp_path / "sources.yaml", server)
    common = ("--sources", str(sources), "--db", sqlite_url)
    expected = {name: wait for name, (_, _, wait) in SOURCES.items()}

    first = run_json(*common)
    assert {s["name"]: s["status"] for s in first["sources"]} == dict.fromkeys(SOURCES, "ok")
    assert {name: delay_s(h) for name, h in health(sqlite_url).items()} == expected

    # Nothing is due right after: a plain `run` polls no source at all.
    assert run_json(*common)["sources"] == []

    again = run_json(*common, "--all")
    assert {s["name"]: s["status"] for s in again["sources"]} == dict.fromkeys(
        SOURCES, "not_modified"
    )
    assert {name: delay_s(h) for name, h in health(sqlite_url).items()} == expected
