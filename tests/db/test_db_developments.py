"""Developments: changes in order, evidence, outbox alerts, idempotence, forward-only status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dbtestkit import T0, at, change, development, match, seed_articles
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.model import DevelopmentRef, NewRef, StoredRef
from db import (
    apply_changes,
    candidate_developments,
    developments_evidenced_by,
    list_alerts,
    list_developments,
    stored_ids,
)
from db.models import AlertRow, DevelopmentRow, EvidenceRow, evidence, sources


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _meeting(status: str) -> object:
    return development(
        category="ministerial_meeting",
        status=status,  # type: ignore[arg-type]
        title="Japan-South Korea defence ministers meet at Yokosuka",
        event_date=date(2026, 1, 30),
        place="Yokosuka",
        actors=("Shinjiro Koizumi", "Ahn Gyu-back"),
    )


def _meeting_match(key: str, status: str) -> object:
    return match(key, "ministerial_meeting.v1", category="ministerial_meeting", status=status)  # type: ignore[arg-type]


def _held(ref: DevelopmentRef, *keys: str) -> object:
    """The meeting's move from planned to occurred under `ref`, reported by the articles `keys`."""
    reports = [_meeting_match(key, "occurred") for key in keys]
    return change(ref, _meeting("occurred"), reports, "status_change", "planned")  # type: ignore[arg-type]


def test_new_development_created_then_status_changed_in_one_batch(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        scheduled = change(
            NewRef(0), _meeting("planned"), [_meeting_match("alpha-0", "planned")], "new"
        )
        held = _held(NewRef(0), "beta-0", "beta-1")
        alert_ids = apply_changes(session, [scheduled, held], keys, T0)
        assert len(alert_ids) == 2
        assert _count(session, DevelopmentRow) == 1
        assert _count(session, EvidenceRow) == 3
    with sessions() as session:
        [dev] = list_developments(session)
        alerts = list_alerts(session)
    assert dev.status == "occurred" and dev.evidence == ["alpha-0", "beta-0", "beta-1"]
    assert dev.first_seen == dev.last_seen == T0
    assert [(a.id, a.kind, a.status, a.previous_status) for a in alerts] == [
        (alert_ids[0], "new", "planned", None),
        (alert_ids[1], "status_change", "occurred", "planned"),
    ]


def test_evidence_is_unique_per_development_article_and_rule(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        m = match("alpha-0")
        apply_changes(session, [change(NewRef(0), development(), [m, m], "new")], keys, T0)
        [dev_id] = session.scalars(select(DevelopmentRow.id))
        again = change(
            StoredRef(dev_id), development(id=dev_id), [m, match("alpha-0", "other")], None
        )
        apply_changes(session, [again, again], keys, at(60))
        rules = sorted(session.scalars(select(EvidenceRow.rule_id)))
    assert rules == ["missile_launch.v1", "other"]
    row = {
        "development_id": dev_id,
        "article_id": keys["alpha-0"],
        "rule_id": "other",
        "terms": [],
        "snippet": "",
        "status_seen": "occurred",
        "created_at": T0,
    }
    with sessions.begin() as session, pytest.raises(IntegrityError):
        session.execute(insert(evidence), [row])


def test_a_retried_batch_writes_nothing_twice(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
    batch = [
        change(NewRef(0), development(), [match("alpha-0")], "new"),
        change(NewRef(1), _meeting("planned"), [_meeting_match("alpha-0", "planned")], "new"),
        _held(NewRef(1), "beta-0"),
    ]
    with sessions.begin() as session:
        assert len(apply_changes(session, batch, keys, T0)) == 3
    with sessions.begin() as session:
        assert apply_changes(session, batch, keys, at(60)) == []
        assert _count(session, DevelopmentRow) == 2
        assert _count(session, AlertRow) == 3
        assert _count(session, EvidenceRow) == 3


def test_one_article_two_developments_of_one_category(sessions: sessionmaker[Session]) -> None:
    """A retried batch must not merge two developments that share an article and rule."""
    with sessions.begin() as session:
        keys = seed_articles(session)
    today = development(event_date=date(2026, 1, 27))
    earlier = development(event_date=date(2026, 1, 4), background=True)
    batch = [
        change(NewRef(0), today, [match("alpha-0")], "new"),
        change(NewRef(1), earlier, [match("alpha-0", background=True)], None),
    ]
    for _ in range(2):
        with sessions.begin() as session:
            apply_changes(session, batch, keys, T0)
    with sessions() as session:
        devs = list_developments(session)
    assert [(d.event_date, d.background, d.evidence) for d in devs] == [
        (date(2026, 1, 27), False, ["alpha-0"]),
        (date(2026, 1, 4), True, ["alpha-0"]),
    ]


def test_status_only_moves_forward_and_alerts_only_real_moves(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        apply_changes(
            session,
            [change(NewRef(0), _meeting("planned"), [_meeting_match("alpha-0", "planned")], "new")],
            keys,
            T0,
        )
        [dev_id] = session.scalars(select(DevelopmentRow.id))
    ref = StoredRef(dev_id)
    held = _held(ref, "beta-0")
    with sessions.begin() as session:
        assert len(apply_changes(session, [held], keys, at(60))) == 1
    # A run that read the development before the move (stale snapshot) raises nothing twice.
    stale = _held(ref, "beta-1")
    late = change(ref, _meeting("planned"), [_meeting_match("alpha-1", "planned")], None)
    with sessions.begin() as session:
        assert apply_changes(session, [stale, late], keys, at(30)) == []
    with sessions() as session:
        [dev] = list_developments(session)
    assert dev.status == "occurred"  # the late "scheduled" article did not revert it
    assert dev.last_seen == at(60)  # seen_at never moves last_seen backwards
    assert dev.evidence == ["alpha-0", "beta-0", "beta-1", "alpha-1"]


def test_news_never_becomes_background_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        apply_changes(
            session, [change(NewRef(0), development(), [match("alpha-0")], "new")], keys, T0
        )
        [dev_id] = session.scalars(select(DevelopmentRow.id))
        context = change(
            StoredRef(dev_id),
            development(background=True),
            [match("beta-0", background=True)],
            None,
        )
        apply_changes(session, [context], keys, at(60))
        [dev] = list_developments(session)
    assert dev.background is False


def test_candidate_developments(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        apply_changes(
            session,
            [
                change(NewRef(0), development(), [match("alpha-0")], "new"),
                change(
                    NewRef(1), _meeting("planned"), [_meeting_match("alpha-1", "planned")], "new"
                ),
                change(
                    NewRef(2), _meeting("cancelled"), [_meeting_match("alpha-2", "cancelled")], None
                ),
            ],
            keys,
            T0,
        )
    with sessions.begin() as session:
        both = candidate_developments(session, ["missile_launch", "ministerial_meeting"], None)
        assert [(d.category, d.status) for d in both] == [
            ("missile_launch", "occurred"),
            ("ministerial_meeting", "planned"),
        ]
        assert all(d.id is not None for d in both)
        assert both[1].actors == ("Shinjiro Koizumi", "Ahn Gyu-back")
        assert both[0].facts == {"count": 2, "apogee_km": 80}
        assert candidate_developments(session, ["summit"], None) == []
        assert candidate_developments(session, ["missile_launch"], T0 + timedelta(seconds=1)) == []
        assert len(candidate_developments(session, ["missile_launch"], T0)) == 1


def test_bad_input_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        with pytest.raises(ValueError, match="not in article_ids"):
            apply_changes(
                session, [change(NewRef(0), development(), [match("nope")], "new")], keys, T0
            )
    with sessions.begin() as session, pytest.raises(ValueError, match="does not exist"):
        apply_changes(session, [change(StoredRef(999), development(), [], None)], keys, T0)


def test_developments_evidenced_by_articles(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session)
        apply_changes(
            session,
            [
                change(NewRef(0), development(), [match("alpha-0"), match("beta-0")], "new"),
                change(
                    NewRef(1), _meeting("planned"), [_meeting_match("beta-1", "planned")], "new"
                ),
            ],
            keys,
            T0,
        )
        source_ids = dict(session.execute(select(sources.c.name, sources.c.id)).tuples().all())
        read = stored_ids(session, source_ids, [("beta", "beta-0"), ("beta", "beta-1")])
        assert sorted(read) == sorted([keys["beta-0"], keys["beta-1"]])
        views = developments_evidenced_by(session, read)
        assert [(v.category, v.evidence) for v in views] == [
            ("missile_launch", ["alpha-0", "beta-0"]),
            ("ministerial_meeting", ["beta-1"]),
        ]
        assert [v.id for v in developments_evidenced_by(session, [keys["alpha-0"]])] == [
            views[0].id
        ]
        unknown = stored_ids(session, source_ids, [("alpha", "alpha-9"), ("nobody", "x")])
        assert unknown == [] and developments_evidenced_by(session, [keys["alpha-2"]]) == []
        assert list_developments(session, []) == []
