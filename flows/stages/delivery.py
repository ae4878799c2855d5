"""Delivering alerts: route each new alert to its subscribers, then send every due delivery.

Routing (once per alert): the subscribers whose tags select the alert get one `pending`
delivery row each, due at `notify.next_send_time` (now; the end of quiet hours for a
non-critical alert; the end of the digest period for a digest subscriber). An alert nobody
selects is marked `unrouted`: counted in the run summary and listed by `watchfloor alerts list`.

Sending: due rows are claimed (committed, state `sending`, leased for `LEASE_S`) before anything
is sent, then each outcome is recorded at once in its own short transaction:

- Apprise True: `sent`, never claimed or sent again (reruns, retries and `alerts retry` only
  ever touch `pending`, `failed` or lease-expired `sending` rows);
- Apprise False or None, an exception, a subscriber no longer configured: `pending` again after
  a backoff (60 s, doubling, at most 6 h; db.delivery_backoff_s), then `failed` with the
  reason once `max_attempts` are spent (settings.delivery_max_attempts, default 8: the last
  try about 2 h 7 min after the first);
- held (quiet hours began since it was scheduled): `pending` again at their end, no attempt
  counted.

Digest subscribers get every due alert of theirs in one message (`Subscribers.send_digest`); all the
alerts of one period fall due at the same moment, and each digest subscriber's rows are claimed
together so one period is never split over two messages.

The one window that can repeat a message: a crash (process killed, machine lost) after Apprise
handed a message to its channel and before the `sent` record committed. The row stays `sending`; the
next run on the same host sees that its claimer is dead (flows.context.liveness) and sends it again
at once, and a run on another host does when the lease expires. At most one message per crashed
sender is exposed (one digest for a digest subscriber), because outcomes are recorded one by one
right after each send. Claimed rows not yet sent when the sender died are simply sent later, never
twice. A claim is also never worked on after its lease has nearly run out (a slow channel): the rest
of the batch is handed back and claimed again with a fresh lease, so no second sender can take over
a row this one is about to send.

Time: `now` is the run's clock (the flow passes the wall clock; tests pass theirs). Routing and
"what is due" use `now`; records and leases use `now` plus the time the run has spent since.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import db
import notify
from core.model import Alert, Target
from flows.context.liveness import process_identity, process_is_gone
from flows.context.runtime import transaction
from flows.stages.outcomes import log_summary, logged_as
from notify import Subscribers

log = logging.getLogger(__name__)

CLAIM_BATCH = 50  # deliveries claimed at once: bounds the work done under one lease
DIGEST_CLAIM = 500  # one digest message covers at most this many alerts
ROUTE_BATCH = 500  # alerts routed per transaction
LEASE_S = 300
LEASE_MARGIN_S = 60  # stop working on a batch this long before its lease ends
MAX_BATCHES = 1000  # a run's hard stop (50,000 deliveries); the rest waits for the next run
NOT_CONFIGURED = "subscriber is no longer configured"


@dataclass(slots=True)
class SendOutcome:
    """What the send stage did.

    `alerts_sent`: alerts delivered to at least one subscriber. `delivered` / `failed`:
    deliveries recorded sent / failed this run (`gave_up`: of those, now `failed` for good).
    `held`: deliveries waiting for quiet hours or a digest. `unrouted`: alerts nobody selects.
    `digests`: digest messages sent.
    """

    alerts_sent: set[int] = field(default_factory=set, metadata=logged_as(None))
    delivered: int = field(default=0, metadata=logged_as("sent"))
    failed: int = 0
    gave_up: int = 0
    held: int = 0
    unrouted: int = 0
    digests: int = 0


class RunClock:
    """The run's `now`, moving forward with the real time spent since the run began."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._began)


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step of one delivery run shares."""

    database_url: str
    subscribers: Subscribers
    by_key: dict[str, Target]
    max_attempts: int
    clock: RunClock
    outcome: SendOutcome


def deliver_pending(
    database_url: str,
    subscribers: Subscribers,
    max_attempts: int,
    now: datetime,
    *,
    route_new: bool = True,
) -> SendOutcome:
    """Route unrouted alerts, then claim, send and record every delivery due at `now`.

    `route_new=False` (for `watchfloor alerts retry`) routes nothing and claims only the
    deliveries of `subscribers`, so a command run with part of the configuration never marks an
    alert unrouted or fails a delivery for a subscriber it was not given.
    """
    by_key = {t.key: t for t in subscribers}
    run = _Run(database_url, subscribers, by_key, max_attempts, RunClock(now), SendOutcome())
    if route_new:
        route_new_alerts(database_url, subscribers.targets, now, run.outcome)
    # Each digest subscriber in one claim of its own: a period's alerts make one message.
    for target in subscribers:
        if notify.is_digest(target):
            _work(run, _claim(run, now, [target.key], limit=DIGEST_CLAIM))
    only = None if route_new else list(run.by_key)
    for _ in range(MAX_BATCHES):
        claims = _claim(run, now, only, limit=CLAIM_BATCH)
        if not claims:
            break
        _work(run, claims)
    return run.outcome


def route_new_alerts(
    database_url: str, targets: Sequence[Target], now: datetime, outcome: SendOutcome
) -> None:
    """One pending delivery per selected subscriber for every unrouted alert, due when its
    schedule allows; alerts selected by nobody are marked unrouted. One transaction per
    ROUTE_BATCH alerts, so a backlog never holds the store's write lock for long."""
    while True:
        with transaction(database_url) as session:
            batch = db.unrouted_alerts(session, limit=ROUTE_BATCH)
            for alert in batch:
                chosen = notify.route(alert, targets)
                later = _not_before(alert, chosen, now)
                pairs = [(t.key, t.display) for t in chosen]
                db.route_alert(session, alert.id, pairs, now, later)
                outcome.unrouted += not chosen
                outcome.held += len(later)
        if len(batch) < ROUTE_BATCH:
            return


def _not_before(alert: Alert, chosen: Sequence[Target], now: datetime) -> dict[str, datetime]:
    """The subscribers that must wait for this alert (quiet hours, digests), and until when."""
    later = {}
    for target in chosen:
        due = notify.next_send_time(target, now, alert.level)
        if due > now:
            later[target.key] = due
    return later


def _claim(
    run: _Run, due_by: datetime, keys: Collection[str] | None, limit: int
) -> list[db.ClaimedDelivery]:
    with transaction(run.database_url) as session:
        dead = [holder for holder in db.sending_claimers(session) if process_is_gone(holder)]
        return db.claim_deliveries(
            session,
            run.clock(),
            lease_s=LEASE_S,
            limit=limit,
            max_attempts=run.max_attempts,
            target_keys=keys,
            due_by=due_by,
            claimer=process_identity(),
            dead_claimers=dead,
        )


def _work(run: _Run, claims: Sequence[db.ClaimedDelivery]) -> None:
    """Send one claimed batch, subscriber by subscriber, within its lease."""
    if not claims:
        return
    deadline = run.clock() + timedelta(seconds=LEASE_S - LEASE_MARGIN_S)
    groups: dict[str, list[db.ClaimedDelivery]] = defaultdict(list)
    for claim in claims:
        groups[claim.target_key].append(claim)
    pending = list(groups.items())
    while pending:
        if run.clock() >= deadline:  # hand the rest back rather than outlive the lease
            _defer(run, [c for _, group in pending for c in group], run.clock.start)
            return
        key, group = pending.pop(0)
        target = run.by_key.get(key)
        if target is None:
            _record(run, group, ok=False, error=NOT_CONFIGURED)
        elif notify.is_digest(target):
            _send_digest(run, target, group)
        else:
            _send_singles(run, target, group, deadline)


def _send_digest(run: _Run, target: Target, group: Sequence[db.ClaimedDelivery]) -> None:
    """All due alerts of a digest subscriber in one message, unless quiet hours hold it."""
    until = notify.hold_until(target, run.clock())
    if until is not None:
        _defer(run, group, until)
        return
    alerts = sorted((c.alert for c in group), key=lambda a: a.id)
    results = run.subscribers.send_digest(alerts, target)
    ok = all(r.ok for r in results)
    _record(run, group, ok=ok, error=None if ok else results[0].error)
    run.outcome.digests += ok


def _send_singles(
    run: _Run, target: Target, group: Sequence[db.ClaimedDelivery], deadline: datetime
) -> None:
    """One message per alert, each recorded the moment its send returns."""
    for index, claim in enumerate(group):
        if run.clock() >= deadline:
            _defer(run, group[index:], run.clock.start)
            return
        until = notify.hold_until(target, run.clock(), claim.alert.level)
        if until is not None:
            _defer(run, [claim], until)
            continue
        result = run.subscribers.send(claim.alert, target)
        _record(run, [claim], ok=result.ok, error=result.error)


def _record(
    run: _Run, claims: Sequence[db.ClaimedDelivery], *, ok: bool, error: str | None
) -> None:
    """Record one send's outcome for its deliveries, committed before anything else is sent."""
    now = run.clock()
    with transaction(run.database_url) as session:
        for claim in claims:
            db.record_delivery(
                session, claim.delivery_id, ok, error, now, max_attempts=run.max_attempts
            )
    outcome = run.outcome
    if ok:
        outcome.delivered += len(claims)
        outcome.alerts_sent.update(c.alert.id for c in claims)
        return
    outcome.failed += len(claims)
    # record_delivery counts this attempt: the claim's count plus one.
    outcome.gave_up += sum(c.attempts + 1 >= run.max_attempts for c in claims)


def _defer(run: _Run, claims: Sequence[db.ClaimedDelivery], until: datetime) -> None:
    """Hand claims back unsent, due at `until`."""
    with transaction(run.database_url) as session:
        db.defer_deliveries(session, [c.delivery_id for c in claims], until)
    if until > run.clock.start:
        run.outcome.held += len(claims)


def retry_failed_deliveries(
    database_url: str,
    subscribers: Subscribers,
    max_attempts: int,
    now: datetime,
) -> tuple[int, SendOutcome | None]:
    """`watchfloor alerts retry`: failed deliveries pending again with fresh attempts, then sent
    now to `subscribers` (None when there are none: the next run sends them)."""
    with transaction(database_url) as session:
        requeued = db.retry_failed(session, now)
    if not subscribers:
        return requeued, None
    outcome = deliver_pending(database_url, subscribers, max_attempts, now, route_new=False)
    log_summary("send", outcome)
    return requeued, outcome
