"""Articles: idempotent batched storage, duplicates, cross-source links, bulk rate."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from dbtestkit import T0, article, spec
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from db import canonical_url, count_articles, store_articles, upsert_sources
from db.models import ArticleRow, DetectionQueueRow


def _sources(session: Session, *names: str) -> dict[str, int]:
    return upsert_sources(session, [spec(name) for name in names or ("alpha",)])


def queued_states(sessions: sessionmaker[Session]) -> dict[int, str]:
    """Article id -> its state in the detection queue."""
    with sessions() as session:
        query = select(DetectionQueueRow.article_id, DetectionQueueRow.state)
        return dict(session.execute(query).tuples().all())


def test_each_stored_row_is_queued_once_with_its_key_and_reading(
    sessions: sessionmaker[Session],
) -> None:
    """The queue copies what it is read by from the article; a repeat queues nothing."""
    seoul = timezone(timedelta(hours=9))
    dated = article("alpha", 1)
    undated = article("alpha", 2, published=None)
    readings = {
        ("alpha", "alpha-1"): (T0.astimezone(seoul), True),
        ("alpha", "alpha-2"): (T0, False),
    }
    with sessions.begin() as session:
        ids = _sources(session)
        store_articles(session, ids, [dated, undated], T0, readings)
        store_articles(session, ids, [dated, undated], T0, readings)  # a repeat: not stored
        store_articles(session, ids, [article("alpha", 1, text="Revised.")], T0)  # revision 1
    copied = ("guid", "source_id", "revision", "reference_at", "reference_offset_min", "dated")
    with sessions() as session:
        stored = session.execute(
            select(ArticleRow.id, *(getattr(ArticleRow, name) for name in copied))
        ).all()
        queued = session.execute(
            select(DetectionQueueRow.article_id, *(getattr(DetectionQueueRow, c) for c in copied))
        ).all()
    assert sorted(queued) == sorted(stored)
    assert len(stored) == 3 and {row.reference_offset_min for row in stored} == {540, 0, None}
    assert set(queued_states(sessions).values()) == {"pending"}


def test_second_store_of_the_same_batch_stores_nothing(sessions: sessionmaker[Session]) -> None:
    batch = [article("alpha", n) for n in range(5)]
    with sessions.begin() as session:
        ids = _sources(session)
        first = store_articles(session, ids, batch, T0)
    assert [s.article for s in first.new] == batch  # input order
    assert len({s.id for s in first.new}) == 5
    assert (first.duplicates, first.linked) == (0, 0)
    with sessions.begin() as session:
        second = store_articles(session, ids, batch, T0 + timedelta(minutes=10))
        assert count_articles(session) == 5
    assert (second.new, second.duplicates) == ([], 5)


def test_same_source_new_guid_same_url_new_text_is_a_revision(
    sessions: sessionmaker[Session],
) -> None:
    original = article("alpha", 1, url="https://alpha.example/news/1?utm_source=rss")
    reissued = article(
        "alpha", 1, guid="alpha-1-v2", text="Updated text.", url="https://ALPHA.example/news/1/#top"
    )
    with sessions.begin() as session:
        ids = _sources(session)
        assert len(store_articles(session, ids, [original], T0).new) == 1
        result = store_articles(session, ids, [reissued], T0)
        assert [(s.article, s.revision) for s in result.new] == [(reissued, 1)]
        assert result.revised == 1
        again = store_articles(session, ids, [reissued, original], T0)
        rows = session.execute(select(ArticleRow.guid, ArticleRow.revision)).all()
    # The URL's item keeps its guid; its texts are revisions; the original text again is the
    # earlier revision again, which is news once more only if it changed: here it did.
    assert sorted(rows) == [("alpha-1", 0), ("alpha-1", 1), ("alpha-1", 2)]
    assert [s.revision for s in again.new] == [2] and again.duplicates == 1


def test_known_guid_with_changed_text_is_a_revision_awaiting_detection(
    sessions: sessionmaker[Session],
) -> None:
    first = article("alpha", 1, text="N. Korea fires a missile, flight 300 km.")
    lead = article("alpha", 1, title="(LEAD) " + first.title, text="Flight 350 km, JCS says.")
    with sessions.begin() as session:
        ids = _sources(session)
        store_articles(session, ids, [first], T0)
        session.execute(update(DetectionQueueRow).values(state="done"))
        result = store_articles(session, ids, [lead], T0)
        unchanged = store_articles(session, ids, [lead], T0)
        rows = session.execute(
            select(ArticleRow.revision, ArticleRow.text, DetectionQueueRow.state)
            .join(DetectionQueueRow, DetectionQueueRow.article_id == ArticleRow.id)
            .order_by(ArticleRow.revision)
        ).all()
    assert [s.revision for s in result.new] == [1] and result.revised == 1
    assert (unchanged.new, unchanged.duplicates) == ([], 1)  # an unchanged re-poll: no-op
    assert rows == [(0, first.text, "done"), (1, lead.text, "pending")]


def test_same_source_new_guid_same_content_is_a_duplicate(sessions: sessionmaker[Session]) -> None:
    original = article("alpha", 1)
    # Same title and text (modulo case and whitespace): same content hash, new guid and URL.
    copy = article(
        "alpha",
        1,
        guid="other-guid",
        url="https://alpha.example/other",
        title=original.title.upper(),
        text="  " + original.text.replace(" ", "   "),
    )
    assert copy.content_hash == original.content_hash
    with sessions.begin() as session:
        ids = _sources(session)
        result = store_articles(session, ids, [original, copy], T0)  # also within one batch
    assert [s.article for s in result.new] == [original]
    assert result.duplicates == 1


def test_new_guid_repeating_a_text_with_a_new_date_is_a_new_publication(
    sessions: sessionmaker[Session],
) -> None:
    flash = {"title": "URGENT: N. Korea fires ballistic missile", "text": "Details to follow."}
    first = article("alpha", 1, published=T0, **flash)
    second = article("alpha", 2, published=T0 + timedelta(days=9), **flash)
    undated = article("alpha", 3, published=None, **flash)
    with sessions.begin() as session:
        ids = _sources(session)
        store_articles(session, ids, [first], T0)
        result = store_articles(session, ids, [second, undated], T0)
        rows = {r.guid: r for r in session.scalars(select(ArticleRow))}
    assert [s.article for s in result.new] == [second]  # undated: cannot tell, same article
    assert result.linked == 1
    assert rows["alpha-2"].duplicate_of_id == rows["alpha-1"].id
    assert queued_states(sessions) == {rows["alpha-1"].id: "pending", rows["alpha-2"].id: "pending"}


def test_same_content_at_another_source_is_stored_and_linked(
    sessions: sessionmaker[Session],
) -> None:
    wire = {"title": "N. Korea fires missiles", "text": "Seoul, Jan 28 (Yonhap) -- wire copy."}
    at_alpha = article("alpha", 1, **wire)
    at_beta = article("beta", 7, **wire)
    at_gamma = article("gamma", 3, **wire)
    with sessions.begin() as session:
        ids = _sources(session, "alpha", "beta", "gamma")
        first = store_articles(session, ids, [at_alpha], T0)
        later = store_articles(session, ids, [at_beta, at_gamma], T0)
    assert [s.article for s in later.new] == [at_beta, at_gamma]  # evidence from other outlets
    assert later.linked == 2 and later.duplicates == 0
    with sessions() as session:
        rows = {r.guid: r for r in session.scalars(select(ArticleRow))}
    original_id = first.new[0].id
    assert rows["alpha-1"].duplicate_of_id is None
    assert rows["beta-7"].duplicate_of_id == original_id
    assert rows["gamma-3"].duplicate_of_id == original_id


def test_cross_source_copies_in_one_batch_link_to_the_first(
    sessions: sessionmaker[Session],
) -> None:
    wire = {"title": "Same", "text": "Same text"}
    with sessions.begin() as session:
        ids = _sources(session, "alpha", "beta")
        result = store_articles(
            session, ids, [article("alpha", 1, **wire), article("beta", 1, **wire)], T0
        )
        rows = {r.guid: r for r in session.scalars(select(ArticleRow))}
    assert len(result.new) == 2 and result.linked == 1
    assert rows["beta-1"].duplicate_of_id == rows["alpha-1"].id


def test_fields_round_trip_with_aware_utc_datetimes(sessions: sessionmaker[Session]) -> None:
    kst = timezone(timedelta(hours=9))
    published = datetime(2026, 1, 28, 15, 50, tzinfo=kst)
    item = article(
        "alpha", 1, published=published, raw={"when": published, "nested": {"list": [1, "two"]}}
    )
    fetched = datetime(2026, 1, 28, 7, 0, tzinfo=UTC)
    with sessions.begin() as session:
        ids = _sources(session)
        store_articles(session, ids, [item], fetched)
    with sessions() as session:
        row = session.scalars(select(ArticleRow)).one()
    assert row.published_at == published and row.published_at.tzinfo == UTC
    assert row.fetched_at == fetched and row.fetched_at.utcoffset() == timedelta(0)
    assert (row.title, row.text, row.url) == (item.title, item.text, item.url)
    assert row.canonical_url == "https://alpha.example/news/1"
    assert row.content_hash == item.content_hash
    assert row.raw == {"when": str(published), "nested": {"list": [1, "two"]}}


def test_hostile_values_do_not_fail_the_batch(sessions: sessionmaker[Session]) -> None:
    long_guid = "https://alpha.example/?" + "x" * 5000
    items = [
        article("alpha", 1, guid=long_guid, url=long_guid),
        article("alpha", 2, title="NUL\x00title", text="body\x00with NUL", raw={"k\x00": "v\x00"}),
        article("alpha", 3, published=datetime(2026, 1, 1, 12, 0)),  # naive: read as UTC
        article("alpha", 4, url=None),
        article("alpha", 5, url=None),
    ]
    with sessions.begin() as session:
        ids = _sources(session)
        assert len(store_articles(session, ids, items, T0).new) == 5
        assert len(store_articles(session, ids, items, T0).new) == 0  # stable keys
        texts = set(session.scalars(select(ArticleRow.text)))
    assert "bodywith NUL" in texts


def test_raw_fields_json_writes_its_own_way_are_stored_on_every_backend(
    sessions: sessionmaker[Session],
) -> None:
    # db/types.py: orjson writes a NaN as null (json's bare NaN was refused by PostgreSQL);
    # an integer past 64 bits and nesting past orjson's depth go to json.
    deep: object = "deep"
    for _ in range(300):
        deep = [deep]
    items = [
        article("alpha", 1, raw={"score": float("nan"), "top": float("inf")}),
        article("alpha", 2, raw={"id": 2**70}),
        article("alpha", 3, raw={"deep": deep}),
    ]
    with sessions.begin() as session:
        ids = _sources(session)
        assert len(store_articles(session, ids, items, T0).new) == 3
    with sessions() as session:
        raws = dict(session.execute(select(ArticleRow.guid, ArticleRow.raw)).tuples().all())
    assert raws == {
        "alpha-1": {"score": None, "top": None},
        "alpha-2": {"id": 2**70},
        "alpha-3": {"deep": deep},
    }


def test_unknown_source_is_an_error(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session, pytest.raises(ValueError, match="nobody"):
        store_articles(session, {}, [article("nobody", 1)], T0)


def test_canonical_url() -> None:
    assert canonical_url(None) is None
    assert canonical_url("  ") is None
    assert (
        canonical_url("HTTPS://Example.COM:443/a/b/?utm_source=x&id=3&fbclid=y#frag")
        == "https://example.com/a/b?id=3"
    )
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"
    assert canonical_url("not a url") == "not a url"


@pytest.mark.slow
def test_bulk_store_of_5000_articles_in_one_transaction(
    sessions: sessionmaker[Session], backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"src{i}" for i in range(50)]
    batch = [article(name, n) for name in names for n in range(100)]
    with sessions.begin() as session:
        ids = _sources(session, *names)
    started = time.perf_counter()
    with sessions.begin() as session:
        result = store_articles(session, ids, batch, T0)
    elapsed = time.perf_counter() - started
    assert len(result.new) == 5000
    started = time.perf_counter()
    with sessions.begin() as session:
        again = store_articles(session, ids, batch, T0)
    elapsed_again = time.perf_counter() - started
    assert again.duplicates == 5000
    with sessions() as session:
        assert count_articles(session) == 5000
    with capsys.disabled():
        print(
            f"\n[{backend}] stored 5,000 articles of ~2.4 kB: {5000 / elapsed:,.0f}/s; "
            f"all-duplicate re-store: {5000 / elapsed_again:,.0f}/s"
        )
