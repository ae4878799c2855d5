"""The alert outbox and the delivery ledger.

Life of a delivery: ``pending`` -> (claim) ``sending`` -> ``sent`` | back to ``pending`` with
backoff | ``failed`` after the last attempt. A claim holds a lease; a sender that dies leaves the
row ``sending`` until the lease expires and another run reclaims it. The one window that can
repeat a message: a sender crashing after the channel accepted the message and before
:func:`record_delivery` committed. Callers keep it small by recording each outcome as soon as
the send returns, in its own short transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, RowMapping, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from core.model import Alert, DeliveryOutcome, EvidenceRef
from db._sql import chunked, insert_for, is_postgres
from db.models import alerts, articles, deliveries, developments, evidence, evidence_join, sources
from db.types import as_utc

DELIVERY_BACKOFF_BASE_S = 60
DELIVERY_BACKOFF_MAX_S = 6 * 3600
LEASE_EXPIRED = "lease expired: the sender stopped before recording an outcome"


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """One delivery this caller now owns until its lease ends: send it, then record it."""

    delivery_id: int
    alert: Alert
    target_key: str
    attempts: int
    target_display: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One (alert, target) row of the ledger, safe to print (no secret URL)."""

    id: int
    target_key: str
    target_display: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert with the state of each of its deliveries."""

    id: int
    development_id: int
    kind: str
    category: str
    status: str
    previous_status: str | None
    title: str
    level: str
    created_at: datetime
    routed_at: datetime | None
    unrouted: bool
    deliveries: tuple[DeliveryView, ...]


def delivery_backoff_s(failed_attempts: int) -> float:
    """Wait before retrying after the `failed_attempts`-th failure: 60 s, 120 s, ... up to 6 h."""
    exponent = min(max(failed_attempts - 1, 0), 32)
    return float(min(DELIVERY_BACKOFF_BASE_S * 2**exponent, DELIVERY_BACKOFF_MAX_S))


# --- building core Alerts -------------------------------------------------------------------


class _Evidence(NamedTuple):
    """One evidence row of a development, as an alert needs it."""

    article_id: int
    source: str
    title: str
    url: str | None
    published: datetime | None
    rule_id: str
    terms: list[Any]


# The development fields an Alert carries.
_DEVELOPMENT_FIELDS = (
    developments.c.category,
    developments.c.title,
    developments.c.event_date,
    developments.c.place,
    developments.c.actors,
    developments.c.facts,
    developments.c.level,
    developments.c.tags,
    developments.c.regions,
)


def _evidence_by_development(
    session: Session, dev_ids: Sequence[int]
) -> dict[int, list[_Evidence]]:
    """Evidence rows per development, oldest first."""
    found: dict[int, list[_Evidence]] = {}
    for part in chunked(list(dev_ids)):
        query = (
            select(
                evidence.c.development_id,
                evidence.c.article_id,
                sources.c.name,
                articles.c.title,
                articles.c.url,
                articles.c.published_at,
                evidence.c.rule_id,
                evidence.c.terms,
            )
            .select_from(evidence_join)
            .where(evidence.c.development_id.in_(part))
            .order_by(evidence.c.id)
        )
        for dev_id, *rest in session.execute(query):
            found.setdefault(dev_id, []).append(_Evidence(*rest))
    return found


def load_alerts(session: Session, alert_ids: Sequence[int]) -> dict[int, Alert]:
    """Core Alerts for `alert_ids`, with every evidence article of their developments."""
    rows: list[RowMapping] = []
    for part in chunked(sorted(set(alert_ids))):
        query = (
            select(alerts, *_DEVELOPMENT_FIELDS)
            .join(developments, developments.c.id == alerts.c.development_id)
            .where(alerts.c.id.in_(part))
        )
        rows.extend(session.execute(query).mappings())
    ev = _evidence_by_development(session, sorted({row["development_id"] for row in rows}))
    return {row["id"]: _alert(row, ev.get(row["development_id"], [])) for row in rows}


# What an alerts row (joined to its development, for `category`) says of the change it
# announces: the outbox's `Alert` and the ledger's `AlertView` read these columns alike.
_ALERT_HEAD = (
    "id",
    "development_id",
    "kind",
    "category",
    "status",
    "previous_status",
    "created_at",
)


def _alert_head(row: RowMapping) -> dict[str, Any]:
    return {column: row[column] for column in _ALERT_HEAD}


def _alert(row: RowMapping, ev: Sequence[_Evidence]) -> Alert:
    # The development as the change left it (alerts written before snapshots existed show the
    # development as it is now).
    shown: Mapping[str, Any] = row["snapshot"] or {
        **row,
        "event_date": row["event_date"].isoformat() if row["event_date"] else None,
    }
    then = set(shown.get("article_ids") or ()) or {item.article_id for item in ev}
    refs: dict[int, EvidenceRef] = {}
    for item in ev:
        if item.article_id in then:
            refs.setdefault(
                item.article_id, EvidenceRef(item.source, item.title, item.url, item.published)
            )
    # Why it fired: the alert's own evidence; rows without it fall back to the latest evidence.
    rule_id, terms = row["rule_id"], row["terms"]
    if rule_id is None and ev:
        rule_id, terms = ev[-1].rule_id, ev[-1].terms
    return Alert(
        **_alert_head(row),
        title=shown["title"],
        event_date=date.fromisoformat(shown["event_date"]) if shown["event_date"] else None,
        place=shown["place"],
        actors=tuple(shown["actors"] or ()),
        facts=dict(shown["facts"] or {}),
        level=shown["level"],
        tags=tuple(shown["tags"] or ()),
        rule_id=rule_id or "",
        terms=tuple(terms or ()),
        evidence=tuple(refs.values()),
        # A snapshot written before developments had regions: the development's regions now.
        regions=tuple(shown.get("regions", row["regions"]) or ()),
    )


# --- routing ------------------------------------------------------------------------------


def unrouted_alerts(session: Session, limit: int = 1000) -> list[Alert]:
    """Alerts not yet routed to their targets, oldest first."""
    query = select(alerts.c.id).where(alerts.c.routed_at.is_(None)).order_by(alerts.c.id)
    ids = list(session.scalars(query.limit(limit)))
    built = load_alerts(session, ids)
    return [built[i] for i in ids if i in built]


def route_alert(
    session: Session,
    alert_id: int,
    targets: Sequence[tuple[str, str]],
    now: datetime,
    not_before: Mapping[str, datetime] | None = None,
) -> None:
    """Create one pending delivery per (target_key, display) and mark the alert routed.

    Deliveries already there are left alone (ON CONFLICT DO NOTHING), so routing twice is
    harmless. With no targets the alert is marked `unrouted`: recorded, visibly, not dropped.
    `not_before` maps a target key to its earliest send time (quiet hours, digests).
    """
    now = as_utc(now)
    later = {key: as_utc(when) for key, when in (not_before or {}).items()}
    rows = [
        {
            "alert_id": alert_id,
            "target_key": key,
            "target_display": display,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": max(now, later.get(key, now)),
            "created_at": now,
        }
        for key, display in dict(targets).items()
    ]
    if rows:
        session.connection().execute(insert_for(session, deliveries).on_conflict_do_nothing(), rows)
    session.connection().execute(
        update(alerts).where(alerts.c.id == alert_id).values(routed_at=now, unrouted=not rows)
    )


# --- claiming and recording ----------------------------------------------------------------


def claim_deliveries(
    session: Session,
    now: datetime,
    lease_s: int = 300,
    limit: int = 500,
    max_attempts: int = 8,
    *,
    target_keys: Collection[str] | None = None,
    due_by: datetime | None = None,
    claimer: str | None = None,
    dead_claimers: Collection[str] = (),
) -> list[ClaimedDelivery]:
    """Claim due deliveries for this caller: pending and due, or `sending` with an expired lease
    or claimed by a process known to be dead (`dead_claimers`).

    Claimed rows become `sending` until now + `lease_s`. PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
    so concurrent claimers take disjoint rows without waiting. SQLite: the transaction began
    with ``BEGIN IMMEDIATE`` and holds the only write lock, so claimers run one after another.
    An expired lease counts as an attempt (the outcome is unknown); one that exhausts
    `max_attempts` becomes `failed` instead of being claimed again. Commit right after this,
    before sending.

    `target_keys` limits the claim to those subscribers. `due_by` (default `now`) is the moment
    a pending row must be due at: a sender that keeps claiming during a long run passes its
    start time, so what it failed and rescheduled meanwhile waits for the next run.
    `claimer` names this caller on the claimed rows (see `sending_claimers`).
    """
    now = as_utc(now)
    due_at = as_utc(due_by) if due_by is not None else now
    due = or_(
        and_(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= due_at),
        and_(deliveries.c.state == "sending", deliveries.c.claimed_until < now),
    )
    if dead_claimers:
        taken_over = deliveries.c.claimed_by.in_(sorted(set(dead_claimers)))
        due = or_(due, and_(deliveries.c.state == "sending", taken_over))
    if target_keys is not None:
        due = and_(due, deliveries.c.target_key.in_(sorted(set(target_keys))))
    query = (
        select(
            deliveries.c.id,
            deliveries.c.alert_id,
            deliveries.c.target_key,
            deliveries.c.target_display,
            deliveries.c.state,
            deliveries.c.attempts,
        )
        .where(due)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    picked = session.connection().execute(query).all()
    picked = _withdraw_dismissed(session, picked)
    if not picked:
        return []
    lease_until = now + timedelta(seconds=lease_s)
    claims: list[tuple[Row[Any], int]] = []
    exhausted: list[tuple[Row[Any], int]] = []
    for row in picked:
        attempts = row.attempts + (1 if row.state == "sending" else 0)
        target = exhausted if attempts >= max_attempts else claims
        target.append((row, attempts))
    _mark(session, [r.id for r, _ in exhausted], state="failed", last_error=LEASE_EXPIRED)
    if claims:
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == bindparam("b_id"))
            .values(
                state="sending",
                claimed_until=lease_until,
                claimed_by=claimer,
                attempts=bindparam("b_attempts"),
            )
        )
        session.connection().execute(
            stmt, [{"b_id": r.id, "b_attempts": attempts} for r, attempts in claims]
        )
    built = load_alerts(session, sorted({r.alert_id for r, _ in claims}))
    return [
        ClaimedDelivery(
            delivery_id=r.id,
            alert=built[r.alert_id],
            target_key=r.target_key,
            attempts=attempts,
            target_display=r.target_display,
        )
        for r, attempts in claims
    ]


WITHDRAWN_REASON = "withdrawn: the development was dismissed by an analyst"


def _withdraw_dismissed(session: Session, picked: Sequence[Any]) -> list[Any]:
    """The picked rows whose development is live; the others are withdrawn, not sent.

    Feedback withdraws a dismissed development's deliveries itself; this catches those an
    alert routed at the same moment created (routing does not take the detection lock)."""
    alert_ids = sorted({row.alert_id for row in picked})
    dismissed: set[int] = set()
    for part in chunked(alert_ids):
        query = (
            select(alerts.c.id)
            .join(developments, developments.c.id == alerts.c.development_id)
            .where(alerts.c.id.in_(part), developments.c.dismissed_as.is_not(None))
        )
        dismissed.update(session.connection().execute(query).scalars())
    if not dismissed:
        return list(picked)
    withdrawn = [row.id for row in picked if row.alert_id in dismissed]
    _mark(session, withdrawn, state="withdrawn", claimed_until=None, last_error=WITHDRAWN_REASON)
    return [row for row in picked if row.alert_id not in dismissed]


def sending_claimers(session: Session) -> list[str]:
    """The holders of the deliveries now being sent (to find those that died)."""
    query = (
        select(deliveries.c.claimed_by)
        .where(deliveries.c.state == "sending", deliveries.c.claimed_by.is_not(None))
        .distinct()
    )
    return [holder for holder in session.scalars(query) if holder]


def defer_deliveries(session: Session, delivery_ids: Sequence[int], until: datetime) -> None:
    """Hand claimed deliveries back, due at `until`, without counting an attempt.

    For a claim that may not be sent yet after all (the subscriber's quiet hours began since it
    was scheduled). Rows no longer `sending` (recorded meanwhile) are left alone.
    """
    for part in chunked(list(delivery_ids)):
        session.connection().execute(
            update(deliveries)
            .where(deliveries.c.id.in_(part))
            .where(deliveries.c.state == "sending")
            .values(state="pending", next_attempt_at=as_utc(until), claimed_until=None)
        )


def _mark(session: Session, ids: Sequence[int], **values: Any) -> None:
    for part in chunked(list(ids)):
        session.connection().execute(
            update(deliveries).where(deliveries.c.id.in_(part)).values(**values)
        )


def record_delivery(
    session: Session,
    delivery_id: int,
    ok: bool,
    error: str | None,
    now: datetime,
    max_attempts: int = 8,
) -> None:
    """Record the outcome of one send. A delivery already `sent` is never touched again.

    ok: `sent` (with sent_at). Not ok: one more attempt; `pending` again after
    :func:`delivery_backoff_s`, or `failed` with the reason once `max_attempts` are spent.
    `error` must already be free of secrets (privacy-safe target forms only).
    """
    now = as_utc(now)
    query = (
        select(deliveries.c.state, deliveries.c.attempts)
        .where(deliveries.c.id == delivery_id)
        .with_for_update()
    )
    row = session.connection().execute(query).one_or_none()
    if row is None:
        raise ValueError(f"record_delivery: no delivery {delivery_id}")
    if row.state == "sent":
        return
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
    if ok:
        values |= {"state": "sent", "sent_at": now, "last_error": None}
    elif attempts >= max_attempts:
        values |= {"state": "failed", "last_error": error or "delivery failed"}
    else:
        retry_at = now + timedelta(seconds=delivery_backoff_s(attempts))
        values |= {"state": "pending", "next_attempt_at": retry_at, "last_error": error}
    session.connection().execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .where(deliveries.c.state != "sent")
        .values(values)
    )


def record_outcome(
    session: Session, outcome: DeliveryOutcome, now: datetime, max_attempts: int = 8
) -> None:
    """:func:`record_delivery` for a notify-layer outcome, found by (alert id, target key)."""
    query = select(deliveries.c.id).where(
        deliveries.c.alert_id == outcome.alert_id, deliveries.c.target_key == outcome.target_key
    )
    delivery_id = session.scalar(query)
    if delivery_id is None:
        raise ValueError(
            f"record_outcome: no delivery for alert {outcome.alert_id} / {outcome.target_key}"
        )
    record_delivery(session, delivery_id, outcome.ok, outcome.error, now, max_attempts)


def retry_failed(session: Session, now: datetime) -> int:
    """Give every failed delivery a fresh set of attempts, due now; return how many."""
    result = session.connection().execute(
        update(deliveries)
        .where(deliveries.c.state == "failed")
        .values(state="pending", attempts=0, next_attempt_at=as_utc(now), claimed_until=None)
    )
    return int(result.rowcount or 0)


# --- listing ------------------------------------------------------------------------------

ALERT_FILTERS = ("pending", "failed", "sent", "unrouted")


def list_alerts(
    session: Session, state: str | None = None, ids: Sequence[int] | None = None
) -> list[AlertView]:
    """Alerts (oldest first) with their deliveries, optionally filtered by `state` and to `ids`
    (a run's own alerts: the monitor reads those, never the whole table).

    pending: not yet routed, or a delivery still pending/sending. failed: a delivery failed.
    sent: routed and every delivery sent. unrouted: matched no subscriber.
    """
    query = (
        select(alerts, developments.c.category, developments.c.title, developments.c.level)
        .join(developments, developments.c.id == alerts.c.development_id)
        .order_by(alerts.c.id)
    )
    if state is not None:
        query = query.where(_alert_filter(state))
    if ids is None:
        rows = list(session.execute(query).mappings())
    else:
        parts = chunked(sorted(set(ids)))
        found = [session.execute(query.where(alerts.c.id.in_(p))).mappings() for p in parts]
        rows = sorted((row for part in found for row in part), key=lambda row: row["id"])
    by_alert = deliveries_by_alert(session, [row["id"] for row in rows])
    return [
        AlertView(
            **_alert_head(row),
            title=row["title"],
            level=row["level"],
            routed_at=row["routed_at"],
            unrouted=row["unrouted"],
            deliveries=tuple(by_alert.get(row["id"], [])),
        )
        for row in rows
    ]


def has_pending_alerts(session: Session, due_by: datetime | None = None) -> bool:
    """Whether any alert awaits routing or delivery (the `pending` filter, without listing).

    With `due_by`, a pending delivery counts only when it is due by then: a retry waiting out
    its backoff, or a delivery held until quiet hours end, is no work for a run before that.
    One being sent counts (its sender may have died; the send stage decides).
    """
    if due_by is None:
        return session.scalar(select(exists().where(_alert_filter("pending")))) or False
    unrouted = exists().where(alerts.c.routed_at.is_(None))
    due = exists().where(
        or_(
            deliveries.c.state == "sending",
            and_(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= as_utc(due_by)),
        )
    )
    return session.scalar(select(or_(unrouted, due))) or False


def _alert_filter(state: str) -> Any:
    def having(*states: str) -> Any:
        return exists().where(deliveries.c.alert_id == alerts.c.id, deliveries.c.state.in_(states))

    if state == "pending":
        return or_(alerts.c.routed_at.is_(None), having("pending", "sending"))
    if state == "failed":
        return having("failed")
    if state == "sent":
        return and_(
            alerts.c.routed_at.is_not(None),
            having("sent"),
            ~having("pending", "sending", "failed"),
        )
    if state == "unrouted":
        return alerts.c.unrouted.is_(True)
    raise ValueError(f"list_alerts: unknown state {state!r}; use one of {ALERT_FILTERS}")


def deliveries_by_alert(
    session: Session, alert_ids: Sequence[int]
) -> dict[int, list[DeliveryView]]:
    found: dict[int, list[DeliveryView]] = {}
    for part in chunked(list(alert_ids)):
        query = select(deliveries).where(deliveries.c.alert_id.in_(part)).order_by(deliveries.c.id)
        for row in session.execute(query).mappings():
            found.setdefault(row["alert_id"], []).append(
                DeliveryView(
                    id=row["id"],
                    target_key=row["target_key"],
                    target_display=row["target_display"],
                    state=row["state"],
                    attempts=row["attempts"],
                    last_error=row["last_error"],
                    next_attempt_at=row["next_attempt_at"],
                    sent_at=row["sent_at"],
                )
            )
    return found
