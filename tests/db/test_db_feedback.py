"""Feedback in the store, on SQLite and PostgreSQL: false alarms stay silent and keep taking
their reports, merges and splits move evidence, and the record labels examples."""

from __future__ import annotations

import pytest
from dbtestkit import T0, at, change, development, match, seed_articles
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.errors import FeedbackError
from core.model import NewRef, StoredRef
from db import (
    apply_changes,
    claim_deliveries,
    feedback_examples,
    list_alerts,
    list_developments,
    list_feedback,
    mark_false_alarm,
    merge_developments,
    route_alert,
    split_development,
    unrouted_alerts,
)
from db.models import alerts, deliveries, evidence

TARGETS = [("key-hook", "json://127.0.0.1/...")]


def new_development(
    session: Session, keys: dict[str, int], key: str, *, place: str = "Pyongyang"
) -> tuple[int, int]:
    """A planned development reported by article `key`, with its "new" alert; (dev, alert)."""
    dev = development(status="planned", place=place)
    report = match(key, status="planned")
    [alert_id] = apply_changes(session, [change(NewRef(0), dev, [report], "new")], keys, T0)
    dev_id = session.scalar(select(alerts.c.development_id).where(alerts.c.id == alert_id))
    assert dev_id is not None
    return dev_id, alert_id


def held_report(dev_id: int, key: str) -> list:
    """A report that moves development `dev_id` from planned to occurred."""
    held = development(status="occurred", id=dev_id)
    return [change(StoredRef(dev_id), held, [match(key)], "status_change", "planned")]


def delivery_states(session: Session, alert_id: int) -> list[str]:
    query = select(deliveries.c.state).where(deliveries.c.alert_id == alert_id)
    return list(session.scalars(query))


def test_a_false_alarm_takes_later_reports_without_alerting(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        dev_id, _ = new_development(session, keys, "alpha-0")
        record = mark_false_alarm(session, dev_id, "alice", at(10))
        assert (record.action, record.actor, record.details["article_ids"]) == (
            "false_alarm",
            "alice",
            [keys["alpha-0"]],
        )
    with sessions() as session, session.begin():
        assert apply_changes(session, held_report(dev_id, "alpha-1"), keys, at(20)) == []
        (view,) = list_developments(session, [dev_id])
        assert view.status == "occurred" and view.dismissed_as == "false_alarm"
        assert view.evidence == ["alpha-0", "alpha-1"]
        with pytest.raises(FeedbackError, match="false alarm"):
            mark_false_alarm(session, dev_id, "bob", at(30))


def test_a_false_alarm_withdraws_what_its_alerts_have_not_sent(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        dev_id, routed = new_development(session, keys, "alpha-0")
        route_alert(session, routed, TARGETS, T0)
        [unrouted] = apply_changes(session, held_report(dev_id, "alpha-1"), keys, at(1))
        other_id, other_alert = new_development(session, keys, "beta-0", place="Wonsan")
        route_alert(session, other_alert, TARGETS, T0)
        record = mark_false_alarm(session, dev_id, "alice", at(10))
        assert record.details["withdrawn_deliveries"] == 1
    with sessions() as session, session.begin():
        assert delivery_states(session, routed) == ["withdrawn"]
        assert unrouted not in {alert.id for alert in unrouted_alerts(session)}
        claimed = claim_deliveries(session, at(60))
        assert [c.alert.development_id for c in claimed] == [other_id]
        assert {a.id for a in list_alerts(session, "pending")} == {other_alert}


def test_a_delivery_routed_after_the_dismissal_is_withdrawn_not_sent(
    sessions: sessionmaker[Session],
) -> None:
    """Routing does not take the detection lock: an alert routed as it was dismissed."""
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        dev_id, alert_id = new_development(session, keys, "alpha-0")
        mark_false_alarm(session, dev_id, "alice", at(10))
        route_alert(session, alert_id, TARGETS, at(11))  # as a racing router would
    with sessions() as session, session.begin():
        assert claim_deliveries(session, at(60)) == []
        assert delivery_states(session, alert_id) == ["withdrawn"]


def test_reports_of_a_merged_development_count_for_its_target(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        source, _ = new_development(session, keys, "alpha-0")
        target, _ = new_development(session, keys, "beta-0", place="Wonsan")
        record = merge_developments(session, source, target, "bob", at(10))
        assert (record.development_id, record.target_id) == (source, target)
        (moved,) = record.details["evidence_ids"]
    with sessions() as session, session.begin():
        [alert_id] = apply_changes(session, held_report(source, "alpha-1"), keys, at(20))
        row = session.execute(select(alerts).where(alerts.c.id == alert_id)).one()
        assert (row.development_id, row.kind, row.status) == (target, "status_change", "occurred")
        merged, kept = list_developments(session, [source, target])
        assert (merged.dismissed_as, merged.merged_into, merged.evidence) == ("merged", target, [])
        assert (kept.status, kept.place) == ("occurred", "Wonsan")
        assert sorted(kept.evidence) == ["alpha-0", "alpha-1", "beta-0"]
        assert session.scalar(select(evidence.c.development_id).where(evidence.c.id == moved)) == (
            target
        )
        with pytest.raises(FeedbackError, match=f"merged into {target}"):
            merge_developments(session, target, source, "bob", at(30))


def test_a_split_makes_a_development_of_the_chosen_evidence(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        dev_id, _ = new_development(session, keys, "alpha-0")
        apply_changes(session, held_report(dev_id, "alpha-1"), keys, at(1))
        ids = list(
            session.scalars(select(evidence.c.id).where(evidence.c.development_id == dev_id))
        )
        with pytest.raises(FeedbackError, match="leave it empty"):
            split_development(session, dev_id, ids, "carol", at(5))
        with pytest.raises(FeedbackError, match="at least one"):
            split_development(session, dev_id, [], "carol", at(5))
        record = split_development(session, dev_id, [ids[1]], "carol", at(10))
    with sessions() as session, session.begin():
        original, split = list_developments(session, [dev_id, record.target_id or 0])
        assert original.evidence == ["alpha-0"] and split.evidence == ["alpha-1"]
        assert (split.category, split.status, split.event_date) == (
            "missile_launch",
            "occurred",
            None,
        )
        assert [r.action for r in list_feedback(session)] == ["split"]


def test_examples_label_a_false_alarms_reports_as_not_its_category(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        keys = seed_articles(session)
        dismissed, _ = new_development(session, keys, "alpha-0")
        apply_changes(session, held_report(dismissed, "alpha-1"), keys, at(1))
        live, _ = new_development(session, keys, "beta-0", place="Wonsan")
        apply_changes(session, held_report(live, "beta-1"), keys, at(2))
        mark_false_alarm(session, dismissed, "alice", at(10))
        ids = list(session.scalars(select(evidence.c.id).where(evidence.c.development_id == live)))
        split_development(session, live, [ids[1]], "alice", at(11))
    with sessions() as session, session.begin():
        examples = {e.article_id: e for e in feedback_examples(session)}
        assert set(examples) == {keys["alpha-0"], keys["alpha-1"], keys["beta-1"]}
        assert examples[keys["alpha-1"]].categories == frozenset()
        assert examples[keys["beta-1"]].categories == {"missile_launch"}  # held: a positive
        assert examples[keys["alpha-0"]].text and "false alarm by alice" in " ".join(
            examples[keys["alpha-0"]].reasons
        )
