"""`watchfloor run` over JSON Feeds from a real local feed server: a 1.1 and a 1.0 feed are
stored and detected like RSS (the launch and the meeting become developments), a broken JSON
Feed is one error on its own source, and a second run makes conditional requests only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, run_json, statuses_of, stored_items, write_sources

pytestmark = pytest.mark.usefixtures("prefect_harness")

BROKEN = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "title": '


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    feeds.files["broken.json"] = BROKEN
    yield feeds
    feeds.close()


def test_run_stores_and_detects_json_feeds_then_polls_conditionally(
    server: FeedServer, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    sources = write_sources(
        tmp_path / "sources.yaml",
        server,
        [
            Src("Peninsula JSON", "/feed/jsonfeed11_korea.json?v=etag"),
            Src("Tokyo JSON", "/raw/jsonfeed10_japan.json?ct=application/json"),
            Src("Broken JSON", "/feed/broken.json"),
        ],
    )
    common = ("--sources", str(sources), "--db", sqlite_url)

    first = run_json(*common)
    lines = {s["name"]: (s["status"], s["items"], s["error"]) for s in first["sources"]}
    assert lines["Peninsula JSON"] == ("ok", 3, None)
    assert lines["Tokyo JSON"] == ("ok", 2, None)
    status, items, error = lines["Broken JSON"]
    assert (status, items) == ("error", 0)
    assert error.startswith("not a feed (application/feed+json): invalid JSON (line 1 column")
    assert first["articles"] == 5 and first["failed_articles"] == []
    stored = stored_items(sqlite_url)
    assert sum(stored.values()) == 5 and set(stored.values()) == {1}
    categories = {d["category"] for d in first["developments"]}
    assert "missile_launch" in categories, first["developments"]
    launch = next(d for d in first["developments"] if d["category"] == "missile_launch")
    assert "AEN20260127004851315" in launch["evidence"]

    again = run_json(*common, "--all")
    lines = {s["name"]: (s["status"], s["http_status"]) for s in again["sources"]}
    assert lines["Peninsula JSON"] == ("not_modified", 304)
    assert lines["Tokyo JSON"] == ("unchanged", 200)
    assert again["articles"] == 0 and again["developments"] == []
    assert statuses_of(server, "jsonfeed11_korea") == [200, 304]
    assert stored_items(sqlite_url) == stored
