"""Retention: purge bodies (and optionally articles) but keep developments, evidence, alerts."""

from __future__ import annotations

from datetime import timedelta

from dbtestkit import T0, article, change, development, match, spec
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.model import NewRef
from db import (
    apply_changes,
    count_articles,
    list_alerts,
    list_developments,
    purge,
    route_alert,
    store_articles,
    upsert_sources,
)
from db.models import ArticleRow, DetectionQueueRow

OLD, NEW = T0 - timedelta(days=40), T0


def _setup(sessions: sessionmaker[Session]) -> int:
    """Old evidence, an old article linked to by a newer copy, an old plain article, a new one."""
    wire = {"title": "Wire copy", "text": "Same wire text"}
    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha"), spec("beta")])
        old = store_articles(
            session,
            ids,
            [article("alpha", 0), article("alpha", 1, **wire), article("alpha", 2)],
            OLD,
        )
        store_articles(session, ids, [article("beta", 0, **wire), article("beta", 1)], NEW)
        keys = {s.article.guid: s.id for s in old.new}
        [alert_id] = apply_changes(
            session, [change(NewRef(0), development(), [match("alpha-0")], "new")], keys, OLD
        )
        route_alert(session, alert_id, [("k", "json://...")], OLD)
    return alert_id


def test_purge_clears_old_bodies_and_keeps_history(sessions: sessionmaker[Session]) -> None:
    alert_id = _setup(sessions)
    with sessions.begin() as session:
        result = purge(session, T0 - timedelta(days=30))
    assert (result.bodies_cleared, result.articles_deleted) == (3, 0)
    with sessions() as session:
        rows = {r.guid: r for r in session.scalars(select(ArticleRow))}
        [dev] = list_developments(session)
        [alert] = list_alerts(session)
    assert {g for g, r in rows.items() if r.text is None and r.raw is None} == {
        "alpha-0",
        "alpha-1",
        "alpha-2",
    }
    assert rows["beta-0"].text == "Same wire text" and rows["beta-0"].raw is not None
    assert rows["alpha-0"].title == "Headline 0 from alpha"  # metadata stays
    assert dev.evidence == ["alpha-0"] and alert.id == alert_id
    assert len(alert.deliveries) == 1
    with sessions.begin() as session:
        # A purged article is still recognised: re-fetching it stores nothing.
        ids = upsert_sources(session, [spec("alpha")])
        assert store_articles(session, ids, [article("alpha", 2)], T0).new == []
        assert purge(session, T0 - timedelta(days=30)).bodies_cleared == 0  # nothing left


def test_purge_can_delete_articles_that_are_not_evidence(sessions: sessionmaker[Session]) -> None:
    _setup(sessions)
    with sessions.begin() as session:
        result = purge(session, T0 - timedelta(days=30), delete_articles=True)
        assert result.articles_deleted == 2
        assert count_articles(session) == 3
        rows = {r.guid: r for r in session.scalars(select(ArticleRow))}
        queued = set(session.scalars(select(DetectionQueueRow.article_id)))
    assert set(rows) == {"alpha-0", "beta-0", "beta-1"}  # evidence kept, new ones kept
    assert queued == {row.id for row in rows.values()}  # a deleted article leaves the queue
    assert rows["beta-0"].duplicate_of_id is None  # its original is gone: link cleared
    with sessions.begin() as session:
        [dev] = list_developments(session)
        assert dev.evidence == ["alpha-0"]
        assert len(list_alerts(session)) == 1
