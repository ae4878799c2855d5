"""The outbox and delivery ledger: routing, claiming, recording, retries, listing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dbtestkit import T0, at, change, development, match, seed_alert, seed_articles
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.model import DeliveryOutcome, EvidenceRef, NewRef
from db import (
    apply_changes,
    claim_deliveries,
    delivery_backoff_s,
    has_pending_alerts,
    list_alerts,
    record_delivery,
    record_outcome,
    retry_failed,
    route_alert,
    sending_claimers,
    unrouted_alerts,
)
from db.models import AlertRow, DeliveryRow

TARGETS = [("key-mail", "mailto://o...@example.com"), ("key-hook", "json://127.0.0.1/...")]


def _delivery(session: Session, delivery_id: int) -> DeliveryRow:
    row = session.get(DeliveryRow, delivery_id, populate_existing=True)
    assert row is not None
    return row


def _claim_one(sessions: sessionmaker[Session], now: object, **kw: object) -> list[int]:
    with sessions.begin() as session:
        return [c.delivery_id for c in claim_deliveries(session, now, **kw)]  # type: ignore[arg-type]


def test_unrouted_alerts_carry_every_evidence_article(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        keys = seed_articles(session, per_source=2)
        evidence = [match("alpha-0"), match("beta-1"), match("alpha-0", "second.rule")]
        [alert_id] = apply_changes(
            session, [change(NewRef(0), development(), evidence, "new")], keys, T0
        )
    with sessions() as session:
        [alert] = unrouted_alerts(session)
    assert alert.id == alert_id and alert.kind == "new" and alert.status == "occurred"
    assert alert.category == "missile_launch" and alert.level == "high"
    assert alert.actors == ("North Korea",) and alert.facts == {"count": 2, "apogee_km": 80}
    assert alert.rule_id == "second.rule" and alert.terms == ("fired", "ballistic missile")
    assert alert.created_at == T0
    assert alert.evidence == (
        EvidenceRef(
            "alpha", "Headline 0 from alpha", "https://alpha.example/news/0", T0
        ),  # each article's publication time comes along (seed_articles: T0 - n minutes)
        EvidenceRef(
            "beta", "Headline 1 from beta", "https://beta.example/news/1", T0 - timedelta(minutes=1)
        ),
    )


def test_routing_creates_deliveries_once_and_unrouted_is_visible(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        routed = seed_alert(session, TARGETS)
        route_alert(session, routed, TARGETS, at(5))  # routing twice is harmless
        keys = seed_articles(session, sources=("gamma",), per_source=1)
        [nobody] = apply_changes(
            session,
            [change(NewRef(0), development(category="summit"), [match("gamma-0")], "new")],
            keys,
            T0,
        )
        route_alert(session, nobody, [], T0)
        assert unrouted_alerts(session) == []
    with sessions() as session:
        views = {a.id: a for a in list_alerts(session)}
        [unrouted] = list_alerts(session, "unrouted")
    assert [d.target_key for d in views[routed].deliveries] == ["key-mail", "key-hook"]
    assert all(d.state == "pending" for d in views[routed].deliveries)
    assert unrouted.id == nobody and unrouted.unrouted and unrouted.routed_at == T0


def test_a_sent_delivery_is_never_sent_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    [claimed] = _claim_one(sessions, T0)
    with sessions.begin() as session:
        record_delivery(session, claimed, True, None, at(1))
    for later in (at(2), at(10_000), T0 + timedelta(days=30)):
        assert _claim_one(sessions, later) == []
    with sessions.begin() as session:
        record_delivery(session, claimed, False, "late failure report", at(3))  # ignored
        row = _delivery(session, claimed)
        assert (row.state, row.sent_at, row.attempts, row.last_error) == ("sent", at(1), 1, None)
        assert retry_failed(session, at(4)) == 0


def test_claims_carry_the_alert_and_a_lease(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        alert_id = seed_alert(session, TARGETS)
    with sessions.begin() as session:
        claims = claim_deliveries(session, T0, lease_s=120)
    assert [c.target_key for c in claims] == ["key-mail", "key-hook"]
    assert claims[0].alert.id == alert_id and claims[0].attempts == 0
    assert claims[0].target_display == "mailto://o...@example.com"
    with sessions() as session:
        row = _delivery(session, claims[0].delivery_id)
    assert (row.state, row.claimed_until) == ("sending", at(120))
    assert _claim_one(sessions, at(119)) == []  # leased: nobody else takes it


def test_a_failed_send_stays_pending_with_growing_backoff(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    now = T0
    waits = []
    for attempt in range(1, 4):
        [delivery_id] = _claim_one(sessions, now)
        with sessions.begin() as session:
            record_delivery(session, delivery_id, False, "HTTP 500 from json://127.0.0.1/...", now)
            row = _delivery(session, delivery_id)
        assert (row.state, row.attempts) == ("pending", attempt)
        assert row.last_error == "HTTP 500 from json://127.0.0.1/..."
        waits.append(row.next_attempt_at - now)
        assert _claim_one(sessions, row.next_attempt_at - timedelta(seconds=1)) == []
        now = row.next_attempt_at
    assert waits == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    assert delivery_backoff_s(30) == 6 * 3600
    [delivery_id] = _claim_one(sessions, now)
    with sessions.begin() as session:
        record_delivery(session, delivery_id, True, None, now)
        assert _delivery(session, delivery_id).state == "sent"


def test_max_attempts_then_failed_then_retry(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    now = T0
    for _ in range(3):
        [delivery_id] = _claim_one(sessions, now)
        with sessions.begin() as session:
            record_delivery(session, delivery_id, False, "refused", now, max_attempts=3)
            now = _delivery(session, delivery_id).next_attempt_at
    with sessions() as session:
        row = _delivery(session, delivery_id)
        [failed] = list_alerts(session, "failed")
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "refused")
    assert failed.deliveries[0].state == "failed"
    assert _claim_one(sessions, now + timedelta(days=1)) == []
    with sessions.begin() as session:
        assert retry_failed(session, now) == 1
    assert _claim_one(sessions, now) == [delivery_id]


def test_an_expired_lease_is_reclaimed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    [crashed] = _claim_one(sessions, T0, lease_s=300)  # this sender "dies" here
    assert _claim_one(sessions, at(299)) == []
    with sessions.begin() as session:
        [again] = claim_deliveries(session, at(301), lease_s=300)
    assert again.delivery_id == crashed and again.attempts == 1  # the lost try counts
    with sessions.begin() as session:
        record_delivery(session, crashed, True, None, at(302))
    assert _claim_one(sessions, at(10_000)) == []


def test_a_claim_of_a_dead_process_is_taken_over_at_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    [crashed] = _claim_one(sessions, T0, lease_s=300, claimer="host:1:10")  # dies here
    with sessions.begin() as session:
        assert sending_claimers(session) == ["host:1:10"]
    assert _claim_one(sessions, at(1), claimer="host:2:20", dead_claimers=["other:9:9"]) == []
    with sessions.begin() as session:
        [again] = claim_deliveries(session, at(1), claimer="host:2:20", dead_claimers=["host:1:10"])
        assert sending_claimers(session) == ["host:2:20"]
    assert again.delivery_id == crashed and again.attempts == 1  # the lost try counts


def test_a_sender_that_keeps_dying_ends_failed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_alert(session, TARGETS[:1])
    now = T0
    for _ in range(3):  # the first try and two reclaims, each "crashing"
        assert len(_claim_one(sessions, now, lease_s=10, max_attempts=3)) == 1
        now += timedelta(seconds=11)
    assert _claim_one(sessions, now, lease_s=10, max_attempts=3) == []
    with sessions() as session:
        [view] = list_alerts(session, "failed")
    assert view.deliveries[0].last_error.startswith("lease expired")  # type: ignore[union-attr]


def test_list_alerts_filters(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        alert_id = seed_alert(session)
    with sessions() as session:
        assert [a.id for a in list_alerts(session, "pending")] == [alert_id]  # not routed yet
    with sessions.begin() as session:
        route_alert(session, alert_id, TARGETS, T0)
    claims = _claim_one(sessions, T0)
    with sessions.begin() as session:
        for delivery_id in claims:
            record_delivery(session, delivery_id, True, None, T0)
    with sessions() as session:
        assert list_alerts(session, "pending") == []
        [sent] = list_alerts(session, "sent")
        assert sent.id == alert_id and {d.state for d in sent.deliveries} == {"sent"}
        with pytest.raises(ValueError, match="unknown state"):
            list_alerts(session, "bogus")


def test_list_alerts_by_ids_reads_only_those(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert not has_pending_alerts(session)
        first, second, third = (seed_alert(session) for _ in range(3))
    with sessions.begin() as session:
        assert has_pending_alerts(session)
        assert [a.id for a in list_alerts(session, ids=[third, first, third])] == [first, third]
        assert list_alerts(session, ids=[]) == []
        route_alert(session, second, TARGETS, T0)
        assert [a.id for a in list_alerts(session, "pending", ids=[second, third])] == [
            second,
            third,
        ]


def test_a_delivery_waiting_out_its_backoff_is_no_work_until_it_is_due(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        seed_alert(session)  # not routed yet: work at any time
        assert has_pending_alerts(session, due_by=T0)
        [alert_id] = [seed_alert(session, TARGETS[:1])]
    with sessions.begin() as session:
        session.execute(update(AlertRow).values(routed_at=T0).where(AlertRow.id != alert_id))
    [delivery_id] = _claim_one(sessions, T0)
    with sessions() as session:
        assert has_pending_alerts(session, due_by=T0), "being sent: its sender may have died"
    with sessions.begin() as session:
        record_delivery(session, delivery_id, False, "HTTP 500", T0)
        retry_at = _delivery(session, delivery_id).next_attempt_at
    with sessions() as session:
        assert has_pending_alerts(session), "still pending"
        assert not has_pending_alerts(session, due_by=retry_at - timedelta(seconds=1))
        assert has_pending_alerts(session, due_by=retry_at)


def test_record_outcome_by_alert_and_target(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        alert_id = seed_alert(session, TARGETS[:1])
    _claim_one(sessions, T0)
    with sessions.begin() as session:
        record_outcome(session, DeliveryOutcome(alert_id, "key-mail", ok=True), at(1))
        assert session.scalar(select(DeliveryRow.state)) == "sent"
        with pytest.raises(ValueError, match="no delivery"):
            record_outcome(session, DeliveryOutcome(alert_id, "key-none", ok=True), at(1))


def test_quiet_hours_hold_a_delivery(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        alert_id = seed_alert(session)
        route_alert(session, alert_id, TARGETS, T0, not_before={"key-mail": at(3600)})
    with sessions.begin() as session:
        [hook] = claim_deliveries(session, T0)  # only the hook
        record_delivery(session, hook.delivery_id, True, None, T0)
    assert hook.target_key == "key-hook"
    assert _claim_one(sessions, at(3599)) == []
    assert len(_claim_one(sessions, at(3600))) == 1  # the mail, after quiet hours
