"""Detection is durable work taken from the store: whatever run stored an article, some run
detects it, exactly once per rules version; one article whose analysis fails is recorded on it
and skipped, never the chunk; a changed text under a known guid is detected as a revision.

The stages run as plain functions (`.fn`) on real SQLite files over the real seeds and rules;
where a test needs an article whose analysis raises, it injects that fault into `detect.detect`
for one marked text (the detector itself is made not to raise on any real text, see
tests/detect), because the isolation must hold for any bug, present or future.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import adapters
import db
import detect
from adapters.feeds.parse import parse_feed
from adapters.sourcekinds.rss import source_zone
from core.model import Article, FetchResult, SourceSpec
from db.models import ArticleRow, DetectionQueueRow, alerts
from flows.context.config import RunConfig, load_run_config
from flows.context.runtime import transaction
from flows.context.settings import load_settings
from flows.runs.replayplan import replay_source
from flows.stages.analysis import analysed
from flows.stages.ingest import FetchPolicy, register_batch, store_batch
from flows.stages.tasks import detect_stage, record_chunk
from tests.conftest import ROOT, RULES, SEEDS

MARK = "FAULT-INJECTED"
CORPUS = ROOT / "tests" / "data" / "corpus" / "articles.jsonl"


def config_for(url: str) -> RunConfig:
    return load_run_config(load_settings(database_url=url, rules_dir=RULES))


def seed_results(url: str) -> tuple[list[SourceSpec], list[FetchResult]]:
    spec = replay_source([str(SEEDS)])
    states = register_batch(url, [spec], FetchPolicy(4, 2, conditional=False)).states
    return [spec], adapters.fetch_many([spec], states)


def developments(url: str) -> list[tuple[Any, ...]]:
    """The store's developments, comparable across stores (no ids)."""
    with transaction(url) as session:
        views = db.list_developments(session)
    return sorted(
        (v.category, v.status, v.background, v.title, v.event_date, tuple(sorted(v.evidence)))
        for v in views
    )


def alert_rows(url: str) -> list[tuple[str, str]]:
    with transaction(url) as session:
        return sorted(session.execute(select(alerts.c.kind, alerts.c.status)).tuples().all())


def states(url: str) -> dict[str, int]:
    with transaction(url) as session:
        rows = session.execute(select(DetectionQueueRow.state)).scalars().all()
    return {state: rows.count(state) for state in sorted(set(rows))}


def detect_all(config: RunConfig, chunk_size: int = 200) -> Any:
    return detect_stage.fn(
        config.database_url, config.ruleset, config.rules_version, 30, chunk_size
    )


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def clean_run(tmp_path: Path) -> str:
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    config = config_for(clean)
    store_batch(clean, *seed_results(clean))
    detect_all(config)
    return clean


def test_articles_stored_by_a_run_that_died_are_detected_by_the_next(
    url: str, tmp_path: Path
) -> None:
    config = config_for(url)
    stored = store_batch(url, *seed_results(url))
    assert stored.new == 5 and states(url) == {"pending": 5}
    # The run "dies" here: nothing detected. The next run stores nothing new, yet detects all.
    again = store_batch(url, *seed_results(url))
    assert again.new == 0
    outcome = detect_all(config)
    assert outcome.articles == 5 and not outcome.failed
    assert states(url) == {"done": 5}
    assert developments(url) == developments(clean_run(tmp_path))
    assert len(alert_rows(url)) == 4  # the seed acceptance: 1 + 2 + 1
    # Nothing is detected twice.
    assert detect_all(config).articles == 0
    assert len(alert_rows(url)) == 4


def test_chunk_boundaries_do_not_change_the_result(url: str, tmp_path: Path) -> None:
    config = config_for(url)
    store_batch(url, *seed_results(url))
    outcome = detect_all(config, chunk_size=1)
    assert outcome.articles == 5
    assert developments(url) == developments(clean_run(tmp_path))
    assert alert_rows(url) == alert_rows(clean_run(tmp_path / "again"))


@pytest.fixture
def faulty_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """detect.detect raises on any article whose text carries MARK (fault injection)."""
    real = detect.detect

    def faulty(ruleset: detect.RuleSet, item: Any) -> list[Any]:
        if MARK in item.text:
            raise IndexError("list index out of range (injected)")
        return real(ruleset, item)

    monkeypatch.setattr(detect, "detect", faulty)


def with_bad_article(url: str) -> tuple[list[SourceSpec], list[FetchResult]]:
    specs, results = seed_results(url)
    [result] = results
    first = result.articles[0]
    bad = Article(
        source=first.source,
        guid="bad-article",
        title="North Korea fires a ballistic missile",
        text=f"North Korea fired a ballistic missile. {MARK} end",
        url=None,
        published=first.published,
    )
    articles = (*result.articles[:2], bad, *result.articles[2:])
    return specs, [replace(result, articles=articles)]


def test_a_chunk_leaves_out_what_another_run_detected_since_it_was_read(
    url: str, tmp_path: Path
) -> None:
    config = config_for(url)
    store_batch(url, *seed_results(url))
    with transaction(url) as session:
        queued = db.pending_detection(session, config.rules_version, 10)
    first, later = analysed(config.ruleset, queued[:2]), analysed(config.ruleset, queued)
    # Another run records the first two articles between this run's read and its write.
    with transaction(url) as session:
        assert record_chunk(session, first, config.rules_version, 30).articles == 2
    with transaction(url) as session:
        outcome = record_chunk(session, later, config.rules_version, 30)
    assert outcome.articles == 3
    assert list(outcome.article_ids) == [item.id for item in queued[2:]]
    assert states(url) == {"done": 5}
    assert developments(url) == developments(clean_run(tmp_path))
    assert len(alert_rows(url)) == 4


@pytest.mark.usefixtures("faulty_detector")
def test_an_article_whose_analysis_fails_is_recorded_and_the_rest_goes_on(
    url: str, tmp_path: Path
) -> None:
    config = config_for(url)
    store_batch(url, *with_bad_article(url))
    outcome = detect_all(config)
    assert outcome.articles == 6
    [failed] = outcome.failed
    assert failed.guid == "bad-article" and "IndexError" in failed.error
    assert states(url) == {"done": 5, "failed": 1}
    assert developments(url) == developments(clean_run(tmp_path))
    with transaction(url) as session:
        [listed] = db.failed_articles(session)
    assert (listed.guid, listed.rules_version) == ("bad-article", config.rules_version)
    # The same rules do not take it again; other rules do.
    assert detect_all(config).articles == 0
    other = RunConfig(url, config.ruleset, "other-rules", config.subscribers, config.settings)
    assert detect_all(other).articles == 1


@pytest.mark.usefixtures("faulty_detector")
def test_a_failed_article_requeued_is_detected_when_the_fault_is_gone(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_for(url)
    store_batch(url, *with_bad_article(url))
    detect_all(config)
    monkeypatch.undo()  # the bug is fixed
    with transaction(url) as session:
        assert db.requeue_failed(session) == 1
    outcome = detect_all(config)
    assert (outcome.articles, outcome.failed) == (1, [])
    assert states(url) == {"done": 6}


def test_lone_surrogates_and_nuls_are_stored_cleaned(url: str) -> None:
    specs, [result] = seed_results(url)
    odd = Article(source="replay", guid="odd\ud800", title="t\x00\udfff", text="x\ud800y")
    outcome = store_batch(url, specs, [replace(result, articles=(odd,))])
    assert (outcome.new, outcome.failed) == (1, [])
    with transaction(url) as session:
        row = session.execute(select(ArticleRow.title, ArticleRow.text)).one()
    assert tuple(row) == ("t?", "x?y")


def test_an_item_that_fails_the_store_is_skipped_and_the_rest_stored(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: storing any batch holding the "broken" item raises, as an unknown bug
    # on one malformed item would.
    real = db.store_articles

    def faulty(session: Any, ids: Any, batch: Sequence[Article], *args: Any) -> Any:
        if any(a.guid == "broken" for a in batch):
            raise ValueError("cannot store this item (injected)")
        return real(session, ids, batch, *args)

    monkeypatch.setattr(db, "store_articles", faulty)
    specs, [result] = seed_results(url)
    broken = Article(source="replay", guid="broken", title="t", text="x")
    items = (broken, *result.articles)
    outcome = store_batch(url, specs, [replace(result, articles=items)])
    assert outcome.new == 5
    [problem] = outcome.failed
    assert "'broken' not stored: ValueError: cannot store this item" in problem
    assert states(url) == {"pending": 5}


def test_items_at_the_edges_of_the_calendar_are_stored_undated(url: str) -> None:
    specs, [result] = seed_results(url)
    east = timezone(timedelta(hours=9))
    west = timezone(timedelta(hours=-5))
    items = [
        Article(
            source="replay",
            guid="y1",
            title="a",
            text="a",
            published=datetime(1, 1, 1, tzinfo=east),
        ),
        Article(
            source="replay",
            guid="y9999",
            title="b",
            text="b",
            published=datetime(9999, 12, 31, 23, tzinfo=west),
        ),
    ]
    outcome = store_batch(url, specs, [replace(result, articles=tuple(items))])
    assert (outcome.new, outcome.failed) == (2, [])
    with transaction(url) as session:
        dates = session.execute(select(ArticleRow.published_at)).scalars().all()
    assert dates == [None, None]


def test_a_revision_under_a_known_guid_moves_its_development(url: str) -> None:
    config = config_for(url)
    spec = SourceSpec(name="wire", kind="rss", location="https://wire.example/feed")

    def item(text: str, published: datetime) -> FetchResult:
        article = Article(
            source="wire",
            guid="wire-1",
            title="Japan, South Korea defence ministers to meet in Yokosuka",
            text=text,
            url="https://wire.example/1",
            published=published,
        )
        return FetchResult(source="wire", status="ok", articles=(article,))

    planned = (
        "Japanese Defense Minister Shinjiro Koizumi and South Korean Defense Minister Ahn "
        "Gyu-back will hold talks in Yokosuka on January 30, the ministry said."
    )
    held = (
        "Japanese Defense Minister Shinjiro Koizumi and South Korean Defense Minister Ahn "
        "Gyu-back held talks in Yokosuka on January 30, the ministry said."
    )
    monday = datetime(2026, 1, 26, 1, 0, tzinfo=UTC)
    friday = datetime(2026, 1, 30, 9, 0, tzinfo=UTC)
    store_batch(url, [spec], [item(planned, monday)])
    detect_all(config)
    first = developments(url)
    assert [d[1] for d in first if d[0] == "ministerial_meeting"] == ["planned"]
    revised = store_batch(url, [spec], [item(held, friday)])
    assert (revised.new, revised.revised) == (1, 1)
    detect_all(config)
    after = developments(url)
    assert [d[1] for d in after if d[0] == "ministerial_meeting"] == ["occurred"]
    assert ("status_change", "occurred") in alert_rows(url)
    # The same text again is no news.
    assert store_batch(url, [spec], [item(held, friday)]).new == 0


@pytest.mark.parametrize(
    ("pub_date", "zone"),
    [
        ("Tue, 01 Dec 2026 08:30:00 +0900", None),  # the offset the feed wrote
        ("Tue, 01 Dec 2026 08:30:00 KST", None),  # a name feedparser reads as UTC
        ("Mon, 30 Nov 2026 23:30:00 GMT", "Asia/Tokyo"),  # UTC, read in the source's zone
    ],
)
def test_relative_dates_resolve_on_the_publishers_calendar(
    url: str, pub_date: str, zone: str | None
) -> None:
    """08:30 in Tokyo on the 1st is 23:30 UTC on the 30th: "on the 1st" is today's launch, not
    one a month ago (which would be background, never alerted)."""
    spec = SourceSpec(name="nhk", kind="rss", location="https://nhk.example/feed", timezone=zone)
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>NHK</title><item>'
        "<title>North Korea fires ballistic missile</title><guid>nhk-1</guid>"
        f"<pubDate>{pub_date}</pubDate><description>North Korea fired a ballistic missile "
        "toward the Sea of Japan early on the 1st, the Defense Ministry said.</description>"
        "</item></channel></rss>"
    ).encode()
    feed = parse_feed(body, source="nhk", url=spec.location, zone=source_zone(spec))
    store_batch(url, [spec], [FetchResult(source="nhk", status="ok", articles=feed.articles)])
    detect_all(config_for(url))
    [launch] = [d for d in developments(url) if d[0] == "missile_launch"]
    assert (launch[1], launch[2], launch[4]) == ("occurred", False, date(2026, 12, 1))


def corpus_at_one_moment(feeds: int) -> list[tuple[SourceSpec, FetchResult]]:
    """The labelled corpus as `feeds` feeds whose every item was published at the same moment
    (a first poll of outlets that give only a date does that)."""
    published = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    records = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    fetched = []
    for k in range(feeds):
        name = f"Desk {k}"
        items = tuple(
            Article(name, r["id"], r["title"], r["text"], published=published)
            for r in records[k::feeds]
        )
        spec = SourceSpec(name, "rss", f"http://127.0.0.1:9/{k}.xml")
        fetched.append((spec, FetchResult(name, "ok", items)))
    return fetched


def test_reports_of_one_moment_group_alike_whichever_feed_was_stored_first(
    tmp_path: Path,
) -> None:
    """Storing order follows fetch timing; detection joins reports one at a time, so the order
    among reports of one moment must not depend on it: the same news stored feed by feed in
    opposite orders, detected in chunks of different sizes, groups into the same developments
    and raises the same alerts."""
    fetched = corpus_at_one_moment(5)
    stores = []
    for name, order, chunk in (("forward", fetched, 200), ("backward", fetched[::-1], 37)):
        url = f"sqlite:///{tmp_path / name}.db"
        for spec, result in order:
            store_batch(url, [spec], [result])
        detected = detect_all(config_for(url), chunk_size=chunk)
        assert detected.articles == sum(len(result.articles) for _, result in fetched)
        stores.append(url)
    forward, backward = stores
    assert len(developments(forward)) > 50
    assert developments(forward) == developments(backward)
    assert alert_rows(forward) == alert_rows(backward)
