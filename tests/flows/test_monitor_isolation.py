"""One bad item never costs the others, through the real monitor flow against a local feed
server: an item whose analysis raises is recorded as failed (on the article, in the run report,
the Prefect artifact and `watchfloor articles failed`), an item the store cannot take is
skipped and reported, and every other item is stored and detected.

The failures are injected (the detector is made not to raise on any real text, tests/detect;
the store cleans what real feeds carry), because isolation must hold for any bug, present or
future: `detect.detect` raises on texts carrying MARK, and `db.store_articles` on a batch
holding the guid BROKEN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import db
import detect
from core.model import Article
from flows.cli.app import app
from flows.monitor import ARTIFACT_KEY
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, artifact_of, run_monitor, write_sources

pytestmark = pytest.mark.usefixtures("prefect_harness")
REAL_DETECT = detect.detect

MARK = "FAULT-INJECTED"
BROKEN = "wire-broken"
PUBLISHED = datetime(2026, 1, 27, 8, 0, tzinfo=UTC)
ITEMS = [
    (
        "wire-launch",
        "North Korea fires two ballistic missiles into the East Sea",
        "North Korea fired two ballistic missiles into the East Sea on Tuesday, South Korea's "
        "Joint Chiefs of Staff said.",
    ),
    ("wire-crash", "Markets close higher", f"Stocks rose in Seoul. {MARK}"),
    (BROKEN, "Weather", "Snow is expected in Gangwon province."),
    ("wire-culture", "Film festival opens", "The Busan film festival opened on Tuesday."),
]


def feed() -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>https://wire.example/{guid}</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>{format_datetime(PUBLISHED)}</pubDate><description>{text}</description></item>"
        for guid, title, text in ITEMS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"<link>https://wire.example/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    feeds.files["wire.xml"] = feed()
    yield feeds
    feeds.close()


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> None:
    real_detect = detect.detect
    real_store = db.store_articles

    def faulty_detect(ruleset: detect.RuleSet, item: Any) -> list[Any]:
        if MARK in item.text:
            raise IndexError("list index out of range (injected)")
        return real_detect(ruleset, item)

    def faulty_store(session: Any, ids: Any, batch: Sequence[Article], *args: Any) -> Any:
        if any(article.guid == BROKEN for article in batch):
            raise ValueError("cannot store this item (injected)")
        return real_store(session, ids, batch, *args)

    monkeypatch.setattr(detect, "detect", faulty_detect)
    monkeypatch.setattr(db, "store_articles", faulty_store)


@pytest.mark.usefixtures("faults")
def test_a_crashing_and_an_unstorable_item_cost_only_themselves(
    server: FeedServer, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(tmp_path / "sources.yaml", server, [Src("wire", "/feed/wire.xml")])
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", sqlite_url)
    report, run_id = run_monitor(sources_file=str(sources), all_sources=True)

    assert report.articles == 4 and report.new_articles == 3
    assert any(BROKEN in problem and "not stored" in problem for problem in report.problems)
    [failed] = report.failed_articles
    assert failed.guid == "wire-crash" and "IndexError" in failed.error
    assert report.detected == 3
    [launch] = [d for d in report.developments if d.category == "missile_launch"]
    assert launch.status == "occurred"

    artifact = artifact_of(run_id, ARTIFACT_KEY)["data"]
    assert "## Articles that failed detection" in artifact
    assert "wire-crash" in artifact and "IndexError" in artifact

    listed = CliRunner().invoke(app, ["articles", "failed", "--json", "--db", sqlite_url])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["source"], row["guid"]) == ("wire", "wire-crash")
    assert "IndexError" in row["error"] and row["rules_version"]

    # The bug is fixed: `articles redetect` takes the article again, and it is done.
    monkeypatch.setattr(detect, "detect", REAL_DETECT)
    again = CliRunner().invoke(app, ["articles", "redetect", "--json", "--db", sqlite_url])
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert (summary["requeued"], summary["detected"], summary["failed"]) == (1, 1, [])
    listed = CliRunner().invoke(app, ["articles", "failed", "--json", "--db", sqlite_url])
    assert json.loads(listed.stdout) == []
