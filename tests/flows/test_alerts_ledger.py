"""The delivery ledger under deliver_pending: failures, backoff, giving up, crashes, leases,
quiet hours for critical alerts, digests larger than a claim batch. Real SQLite (and
PostgreSQL where concurrency semantics matter), real HTTP receiver, the clock passed in.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from apprise.decorators import notify as apprise_notify

import db
from flows.stages import delivery
from flows.stages.delivery import deliver_pending, retry_failed_deliveries
from notify import Subscribers
from tests.notify.alertkit import T0, deliveries, hook_url, seed_alerts
from tests.notify.notifykit import Subscriber, subscriber, subscribers
from tests.notify.receivers import HttpReceiver

MAX = 8


@apprise_notify(on="wfledgerfalse", name="Watchfloor ledger test: always False")
def _always_false(body: str, title: str, *args: object, **kwargs: object) -> bool:
    return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh store on each backend."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))


def hook(receiver: HttpReceiver, name: str = "hook", *tags: str) -> Subscriber:
    return subscriber(hook_url(receiver.port, name), *tags)


def to(*each: Subscriber) -> Subscribers:
    """The subscribers a run would hold: these ones."""
    return subscribers(*each)


def rows(url: str, key: str | None = None) -> list[tuple[str, int]]:
    return [(d["state"], d["attempts"]) for d in deliveries(url) if key in (None, d["target_key"])]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- what counts as a failure, backoff, giving up ------------------------------------------


def test_false_and_none_from_apprise_are_failures_and_retried(
    sqlite_url: str, http: HttpReceiver
) -> None:
    seed_alerts(sqlite_url, ["high"])
    false = subscriber("wfledgerfalse://")
    none = hook(http, "none")
    both = to(false, none)  # the run's Subscribers: its own channels, stubbed here
    both.channel(none.target).apprise.notify = lambda **_: None  # type: ignore[method-assign]

    outcome = deliver_pending(sqlite_url, both, MAX, T0)
    assert (outcome.delivered, outcome.failed, outcome.alerts_sent) == (0, 2, set())
    errors = {d["target_key"]: d["last_error"] for d in deliveries(sqlite_url)}
    assert "returned None" in errors[none.key]
    assert "Failed to send" in errors[false.key]  # what Apprise logged about the False
    assert rows(sqlite_url) == [("pending", 1), ("pending", 1)]

    assert deliver_pending(sqlite_url, both, MAX, at(0.5)).failed == 0  # backing off
    assert deliver_pending(sqlite_url, both, MAX, at(1.5)).failed == 2  # retried
    assert rows(sqlite_url) == [("pending", 2), ("pending", 2)]


def test_backoff_then_failed_with_the_reason_after_max_attempts(
    sqlite_url: str, http: HttpReceiver
) -> None:
    seed_alerts(sqlite_url, ["high"])
    http.respond(500)
    sub = hook(http)
    clock = T0
    for attempt in range(1, 4):
        outcome = deliver_pending(sqlite_url, to(sub), 3, clock)
        assert outcome.failed == 1
        assert outcome.gave_up == (1 if attempt == 3 else 0)
        (row,) = deliveries(sqlite_url)
        clock += timedelta(seconds=db.delivery_backoff_s(attempt) + 5)
    assert (row["state"], row["attempts"]) == ("failed", 3)
    assert "500" in row["last_error"]
    assert len(http.received) == 3
    http.respond(200)
    assert deliver_pending(sqlite_url, to(sub), 3, clock + timedelta(days=2)).delivered == 0
    assert len(http.received) == 3  # given up: only `alerts retry` brings it back


def test_a_sent_delivery_is_never_sent_again(sqlite_url: str, http: HttpReceiver) -> None:
    seed_alerts(sqlite_url, ["high", "medium"])
    sub = hook(http)
    assert deliver_pending(sqlite_url, to(sub), MAX, T0).delivered == 2
    for minutes in (1, 10, 600, 60 * 24 * 30):
        assert deliver_pending(sqlite_url, to(sub), MAX, at(minutes)).delivered == 0
    requeued, outcome = retry_failed_deliveries(sqlite_url, to(sub), MAX, at(1))
    assert requeued == 0 and outcome is not None and outcome.delivered == 0
    assert len(http.received) == 2
    assert rows(sqlite_url) == [("sent", 1), ("sent", 1)]


# --- crashes and leases -----------------------------------------------------------------------


class Crash(BaseException):
    """The process dying: nothing after it runs."""


def test_a_crash_between_send_and_record_repeats_only_that_message(
    any_url: str, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_alerts(any_url, ["high", "high", "high"])
    sub = hook(http)

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash  # the first send went out; its record never commits

    with monkeypatch.context() as patch:
        patch.setattr(db, "record_delivery", crash)
        with pytest.raises(Crash):
            deliver_pending(any_url, to(sub), MAX, T0)
    assert len(http.received) == 1
    assert [state for state, _ in rows(any_url)] == ["sending"] * 3  # claimed, leased

    assert deliver_pending(any_url, to(sub), MAX, at(1)).delivered == 0  # the lease still holds
    # The lease runs from the claim, on the run's clock (T0 plus the real time the crashed run
    # spent routing first): a minute's margin, not a second's, on a loaded machine.
    after_lease = T0 + timedelta(seconds=delivery.LEASE_S + 60)
    assert deliver_pending(any_url, to(sub), MAX, after_lease).delivered == 3
    sent = [r.json()["title"] for r in http.received]
    assert len(sent) == 4  # the message in flight went out twice, the other two once each
    assert len(set(sent)) == 3 and sent.count(sent[0]) == 2
    assert deliver_pending(any_url, to(sub), MAX, after_lease + timedelta(hours=1)).delivered == 0


class JumpingClock(delivery.RunClock):
    """A run whose every look at the clock finds 20 s more gone (a very slow channel)."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=20 * next(self._ticks))


def test_a_batch_near_the_end_of_its_lease_is_handed_back_not_outlived(
    any_url: str, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_alerts(any_url, ["medium"] * 30)
    monkeypatch.setattr(delivery, "RunClock", JumpingClock)
    claims: list[int] = []
    real_claim = db.claim_deliveries

    def counting_claim(*args: object, **kwargs: object) -> list[db.ClaimedDelivery]:
        found = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(len(found))
        return found

    monkeypatch.setattr(db, "claim_deliveries", counting_claim)
    outcome = deliver_pending(any_url, to(hook(http)), MAX, T0)
    assert outcome.delivered == 30
    assert len(claims) > 2  # the batch of 30 was handed back at least once and claimed again
    assert len(http.received) == 30
    assert len({r.json()["title"] for r in http.received}) == 30  # each exactly once
    assert rows(any_url) == [("sent", 1)] * 30


# --- configuration changes ---------------------------------------------------------------------


def test_a_subscriber_removed_from_the_configuration_fails_its_deliveries(
    sqlite_url: str, http: HttpReceiver
) -> None:
    seed_alerts(sqlite_url, ["high"])
    gone, kept = hook(http, "gone"), hook(http, "kept")
    http.respond(500)
    deliver_pending(sqlite_url, to(gone, kept), MAX, T0)  # both routed, both failed once
    http.respond(200)
    outcome = deliver_pending(sqlite_url, to(kept), MAX, at(2))  # "gone" left the configuration
    assert (outcome.delivered, outcome.failed) == (1, 1)
    assert rows(sqlite_url, kept.key) == [("sent", 2)]
    (row,) = [d for d in deliveries(sqlite_url) if d["target_key"] == gone.key]
    assert (row["state"], row["attempts"]) == ("pending", 2)
    assert row["last_error"] == delivery.NOT_CONFIGURED  # visible, retried, then failed


def test_retry_with_part_of_the_configuration_touches_only_those_subscribers(
    sqlite_url: str, http: HttpReceiver
) -> None:
    seed_alerts(sqlite_url, ["high"])
    one, other = hook(http, "one"), hook(http, "other")
    http.respond(500)
    deliver_pending(sqlite_url, to(one, other), 1, T0)  # one attempt: both fail for good
    assert rows(sqlite_url) == [("failed", 1), ("failed", 1)]
    http.respond(200)
    requeued, outcome = retry_failed_deliveries(sqlite_url, to(one), MAX, at(1))
    assert requeued == 2 and outcome is not None
    assert (outcome.delivered, outcome.failed) == (1, 0)
    assert rows(sqlite_url, one.key) == [("sent", 1)]
    assert rows(sqlite_url, other.key) == [("pending", 0)]  # left for the next run
    requeued, outcome = retry_failed_deliveries(sqlite_url, to(), MAX, at(2))
    assert (requeued, outcome) == (0, None)


def test_routing_to_nobody_is_recorded_as_unrouted(sqlite_url: str, http: HttpReceiver) -> None:
    seed_alerts(sqlite_url, ["high", "low"], category="summit")
    outcome = deliver_pending(sqlite_url, to(hook(http, "launches", "missile_launch")), MAX, T0)
    assert (outcome.unrouted, outcome.delivered) == (2, 0)
    from flows.context.runtime import transaction

    with transaction(sqlite_url) as session:
        assert [a.unrouted for a in db.list_alerts(session, "unrouted")] == [True, True]


def test_a_backlog_is_routed_in_several_transactions(
    sqlite_url: str, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "ROUTE_BATCH", 2)
    seed_alerts(sqlite_url, ["high"] * 5)
    outcome = deliver_pending(sqlite_url, to(hook(http)), MAX, T0)
    assert (outcome.delivered, outcome.unrouted) == (5, 0)
    assert len(http.received) == 5


# --- quiet hours and digests --------------------------------------------------------------------


def test_critical_alerts_bypass_quiet_hours(sqlite_url: str, http: HttpReceiver) -> None:
    critical, high = seed_alerts(sqlite_url, ["critical", "high"])
    sleepy = hook(http, "sleepy", "quiet:10-12")  # T0 is 10:05 UTC
    outcome = deliver_pending(sqlite_url, to(sleepy), MAX, T0)
    assert (outcome.delivered, outcome.held) == (1, 1)
    (first,) = http.received
    assert first.json()["title"].startswith("[MISSILE LAUNCH] occurred: Launch 0 (critical)")
    assert first.json()["type"] == "failure"
    assert deliver_pending(sqlite_url, to(sleepy), MAX, at(114)).delivered == 0  # 11:59
    assert deliver_pending(sqlite_url, to(sleepy), MAX, at(115)).delivered == 1  # 12:00
    assert [r.json()["title"].rsplit(" ", 1)[1] for r in http.received] == ["(critical)", "(high)"]
    assert {d["alert_id"]: d["state"] for d in deliveries(sqlite_url)} == {
        critical: "sent",
        high: "sent",
    }


def test_a_retry_falling_in_quiet_hours_waits_without_spending_an_attempt(
    sqlite_url: str, http: HttpReceiver
) -> None:
    seed_alerts(sqlite_url, ["high"])
    sub = hook(http, "night", "quiet:22-07")
    evening = datetime(2026, 1, 28, 21, 58, 30, tzinfo=UTC)
    http.respond(500)
    assert deliver_pending(sqlite_url, to(sub), MAX, evening).failed == 1  # retry due ~21:59:30
    http.respond(200)
    night = deliver_pending(sqlite_url, to(sub), MAX, evening + timedelta(minutes=5))
    assert (night.delivered, night.held) == (0, 1)
    (row,) = deliveries(sqlite_url)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert str(row["next_attempt_at"]).startswith("2026-01-29 07:00:00")
    assert len(http.received) == 1
    morning = datetime(2026, 1, 29, 7, 0, tzinfo=UTC)
    assert deliver_pending(sqlite_url, to(sub), MAX, morning).delivered == 1
    assert rows(sqlite_url) == [("sent", 2)]


def test_a_digest_larger_than_a_claim_batch_is_one_message(
    any_url: str, http: HttpReceiver
) -> None:
    count = delivery.CLAIM_BATCH + 10
    seed_alerts(any_url, ["medium"] * count)
    digest, now = hook(http, "digest", "digest:hourly"), hook(http, "now")
    first = deliver_pending(any_url, to(digest, now), MAX, T0)
    assert (first.delivered, first.held) == (count, count)
    assert deliver_pending(any_url, to(digest, now), MAX, at(54)).delivered == 0  # 10:59
    due = deliver_pending(any_url, to(digest, now), MAX, at(56))  # 11:01
    assert (due.delivered, due.digests) == (count, 1)
    (summary,) = [r.json() for r in http.received if r.path.startswith("/digest/")]
    assert summary["title"] == f"Watchfloor digest: {count} alerts ({count} MISSILE LAUNCH)"
    assert deliver_pending(any_url, to(digest, now), MAX, at(600)).delivered == 0
    assert len(http.received) == count + 1


def test_a_failed_digest_is_retried_as_one_digest(sqlite_url: str, http: HttpReceiver) -> None:
    seed_alerts(sqlite_url, ["low", "medium", "high"])
    daily = hook(http, "daily", "digest:daily@07")
    deliver_pending(sqlite_url, to(daily), MAX, T0)
    http.respond(503)
    seven = datetime(2026, 1, 29, 7, 0, tzinfo=UTC)
    failed = deliver_pending(sqlite_url, to(daily), MAX, seven)
    assert (failed.failed, failed.digests) == (3, 0)
    assert rows(sqlite_url) == [("pending", 1)] * 3
    http.respond(200)
    again = deliver_pending(sqlite_url, to(daily), MAX, seven + timedelta(minutes=2))
    assert (again.delivered, again.digests) == (3, 1)
    assert len(http.received) == 2  # the failed try and the successful one, 3 alerts each
    assert http.received[-1].json()["title"].startswith("Watchfloor digest: 3 alerts")


# --- throughput (printed with -s; nothing here asserts on time) ---------------------------------


@pytest.mark.slow
def test_100_alerts_to_smtp_and_a_webhook_through_the_ledger(
    sqlite_url: str, http: HttpReceiver
) -> None:
    import time

    from tests.notify.alertkit import mail_url
    from tests.notify.receivers import SmtpReceiver

    smtp = SmtpReceiver()
    try:
        seed_alerts(sqlite_url, ["medium"] * 100)
        both = to(subscriber(mail_url(smtp.port)), hook(http))
        started = time.perf_counter()
        outcome = deliver_pending(sqlite_url, both, MAX, T0)
        elapsed = time.perf_counter() - started
        print(f"\n100 alerts x (SMTP + webhook), routed, sent, recorded: {elapsed:.2f} s")
        assert (outcome.delivered, outcome.failed) == (200, 0)
        assert len(smtp.messages) == 100 and len(http.received) == 100
    finally:
        smtp.close()
