"""Delivering alerts: route each new alert to its subscribers, then send every due delivery.

Each delivery is claimed (committed) before it is sent and recorded right after, so a crash can
repeat at most the one message that was in flight (the claim's lease expires, and the next run
sends it again). Everything else about a delivery is exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import db
import notify
from core.model import Target
from flows.runtime import transaction


@dataclass(slots=True)
class SendOutcome:
    """What the send stage did: alerts delivered to at least one target, and failures."""

    alerts_sent: set[int] = field(default_factory=set)
    delivered: int = 0
    failed: int = 0
    unrouted: int = 0


def deliver_pending(
    database_url: str, targets: Sequence[Target], max_attempts: int, now: datetime
) -> SendOutcome:
    """Route unrouted alerts, then claim, send and record every delivery due at `now`."""
    outcome = SendOutcome()
    with transaction(database_url) as session:
        for alert in db.unrouted_alerts(session):
            chosen = notify.route(alert, targets)
            db.route_alert(session, alert.id, [(t.key, t.display) for t in chosen], now)
            outcome.unrouted += not chosen
    with transaction(database_url) as session:
        claims = db.claim_deliveries(session, now, max_attempts=max_attempts)
    by_key = {target.key: target for target in targets}
    for claim in claims:
        target = by_key.get(claim.target_key)
        if target is None:
            ok, error = False, "subscriber is no longer configured"
        else:
            result = notify.send(claim.alert, target)
            ok, error = result.ok, result.error
        with transaction(database_url) as session:
            db.record_delivery(
                session, claim.delivery_id, ok, error, datetime.now(UTC), max_attempts=max_attempts
            )
        if ok:
            outcome.alerts_sent.add(claim.alert.id)
            outcome.delivered += 1
        else:
            outcome.failed += 1
    return outcome
