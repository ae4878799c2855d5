"""Development regions in the store: detection's regions joined with the region tags of the
evidence's sources, kept in alert snapshots, only growing; and the migration that adds them to
a store written before they existed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dbtestkit import T0, article, at, change, development, match, spec
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.model import NewRef, StoredRef
from db import (
    apply_changes,
    candidate_developments,
    create_engine_for,
    current_revision,
    list_developments,
    load_alerts,
    make_sessionmaker,
    store_articles,
    upgrade,
    upsert_sources,
)
from db.models import DevelopmentRow


def _store(session: Session, tags: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """One article from each source (name -> its tags); article key (guid) -> id."""
    ids = upsert_sources(session, [spec(name, tags=t) for name, t in tags.items()])
    stored = store_articles(session, ids, [article(name) for name in tags], T0)
    return {item.article.guid: item.id for item in stored.new}


def test_sources_region_tags_join_detection_regions(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = _store(
            session,
            {
                "japan-desk": ("region:Japan", "lang:en"),  # tags are read case-insensitively
                "plain": ("wire",),
            },
        )
        launch = replace(development(), regions=("korea", "north-korea"))
        evidence = [match("plain-0")]
        (alert_id,) = apply_changes(session, [change(NewRef(0), launch, evidence, "new")], keys, T0)
        japan = [match("japan-desk-0")]
        apply_changes(session, [change(StoredRef(1), launch, japan, None)], keys, at(60))
    with sessions.begin() as session:
        (view,) = list_developments(session)
        assert view.regions == ("japan", "korea", "north-korea")
        # The alert was raised before the Japanese desk's report: it says what was known then.
        assert load_alerts(session, [alert_id])[alert_id].regions == ("korea", "north-korea")


def test_regions_only_grow_and_reach_detection_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = _store(session, {"seoul": ("region:korea",), "tokyo": ("region:japan",)})
        first = replace(development(), regions=("north-korea",))
        apply_changes(session, [change(NewRef(0), first, [match("seoul-0")], "new")], keys, T0)
        # A later snapshot that knows fewer regions (another run's) never drops any.
        later = replace(development(), regions=())
        apply_changes(
            session, [change(StoredRef(1), later, [match("tokyo-0")], None)], keys, at(60)
        )
    with sessions.begin() as session:
        (known,) = candidate_developments(session, ["missile_launch"], None)
        assert known.regions == ("japan", "korea", "north-korea")


def test_an_old_store_upgrades_and_its_developments_gain_regions(tmp_path: Path) -> None:
    """A store at 0005 with a development and an alert: upgraded in place, the development
    starts with no regions, the old alert routes on the development's regions, and the next
    report adds detection's and the source's regions."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine_for(url)
    try:
        upgrade(engine, revision="0005")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO developments (category, status, background, title, place, "
                    "actors, facts, level, tags, first_seen_at, last_seen_at, version) VALUES "
                    "('missile_launch', 'occurred', 0, 'Launch', 'Pyongyang', "
                    "'[\"North Korea\"]', '{}', 'high', '[\"region:east-asia\"]', "
                    "'2026-01-27 00:00:00', '2026-01-27 00:00:00', 1)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO alerts (development_id, kind, status, snapshot, created_at) "
                    "VALUES (1, 'new', 'occurred', :snapshot, '2026-01-27 00:00:00')"
                ),
                {
                    "snapshot": '{"status": "occurred", "title": "Launch", "event_date": null, '
                    '"place": "Pyongyang", "actors": ["North Korea"], "facts": {}, '
                    '"level": "high", "tags": ["region:east-asia"], "article_ids": []}'
                },
            )
        upgrade(engine)
        assert (current_revision(engine) or "") >= "0006"  # at head, whatever came later
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            stored = session.scalars(select(DevelopmentRow)).one()
            assert stored.regions == []
            assert load_alerts(session, [1])[1].regions == ()
            keys = _store(session, {"seoul": ("region:south-korea",)})
            (known,) = candidate_developments(session, ["missile_launch"], None)
            now = replace(known, regions=("korea", "north-korea"))
            apply_changes(
                session, [change(StoredRef(1), now, [match("seoul-0")], None)], keys, at(60)
            )
        with sessions.begin() as session:
            (view,) = list_developments(session)
            assert view.regions == ("korea", "north-korea", "south-korea")
            # An alert written before snapshots had regions routes on the development's now.
            assert load_alerts(session, [1])[1].regions == view.regions
    finally:
        engine.dispose()
