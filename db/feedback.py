"""Analysts' feedback on developments: false alarms, merges and splits, each recorded.

A false alarm never alerts again: its deliveries not yet sent are withdrawn, and detection
still joins later reports to it (so they do not start a new development that alerts) but
writes no alert for it. A merged development points at the one it was merged into, its
evidence moves there, and later reports of it join that one. A split moves chosen evidence
to a new development. Every action is a `feedback` row with who and when, which
:func:`feedback_examples` turns into labelled articles for `watchfloor rules test`.

Like every repository function these take a Session and never commit; each takes the
detection lock first, so an action and a detection run never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core.errors import FeedbackError
from core.model import Status, advance_status, merge_regions
from db._sql import chunked, insert_for, read_fields, same_named_fields
from db.engine import DETECTION_LOCK, transaction_lock
from db.models import alerts, articles, deliveries, developments, evidence, feedback
from db.outbox import WITHDRAWN_REASON
from db.types import as_utc


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One recorded action. `target_id`: a merge's target, or the development a split made."""

    id: int
    action: str
    development_id: int
    target_id: int | None
    actor: str
    created_at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FeedbackExample:
    """A stored article that feedback touched, labelled with what it reports as the store now
    says after that feedback: the categories of the live developments it is news of."""

    article_id: int
    title: str
    text: str | None
    published: datetime | None
    offset_min: int | None
    categories: frozenset[str]
    reasons: tuple[str, ...]


def _locked_development(session: Session, development_id: int) -> Row[Any]:
    """The development's row, locked for this transaction; FeedbackError when there is none."""
    query = select(developments).where(developments.c.id == development_id).with_for_update()
    row = session.connection().execute(query).one_or_none()
    if row is None:
        raise FeedbackError(f"no development {development_id}")
    return row


def _refuse_dismissed(row: Row[Any]) -> None:
    if row.dismissed_as == "false_alarm":
        raise FeedbackError(f"development {row.id} is marked a false alarm")
    if row.dismissed_as == "merged":
        raise FeedbackError(f"development {row.id} was merged into {row.merged_into_id}")


def _record(
    session: Session,
    action: str,
    development_id: int,
    actor: str,
    now: datetime,
    details: dict[str, Any],
    target_id: int | None = None,
) -> FeedbackRecord:
    actor = actor.strip() or "unknown"
    values = {
        "action": action,
        "development_id": development_id,
        "target_id": target_id,
        "actor": actor,
        "created_at": now,
        "details": details,
    }
    stmt = insert_for(session, feedback).values(values).returning(feedback.c.id)
    new_id = int(session.connection().execute(stmt).scalar_one())
    return FeedbackRecord(new_id, action, development_id, target_id, actor, now, details)


def _evidence_rows(session: Session, development_id: int) -> list[Row[Any]]:
    query = (
        select(evidence.c.id, evidence.c.article_id, evidence.c.rule_id)
        .where(evidence.c.development_id == development_id)
        .order_by(evidence.c.id)
    )
    return list(session.connection().execute(query))


def _withdraw_deliveries(session: Session, development_id: int, now: datetime) -> int:
    """Withdraw what the development's alerts have not sent yet; return how many deliveries.

    Alerts not yet routed are marked routed now with no delivery, so no sender picks them up;
    a delivery being sent right now (`sending`) finishes and is recorded as it went."""
    raised = select(alerts.c.id).where(alerts.c.development_id == development_id)
    connection = session.connection()
    connection.execute(
        update(alerts)
        .where(alerts.c.development_id == development_id, alerts.c.routed_at.is_(None))
        .values(routed_at=now)
    )
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.alert_id.in_(raised), deliveries.c.state.in_(("pending", "failed")))
        .values(state="withdrawn", claimed_until=None, last_error=WITHDRAWN_REASON)
    )
    return int(result.rowcount or 0)


def mark_false_alarm(
    session: Session, development_id: int, actor: str, now: datetime
) -> FeedbackRecord:
    """Dismiss the development as a false alarm: it leaves the default views, its unsent
    deliveries are withdrawn, and it never alerts again (later reports join it silently)."""
    now = as_utc(now)
    transaction_lock(session, DETECTION_LOCK)
    row = _locked_development(session, development_id)
    _refuse_dismissed(row)
    session.connection().execute(
        update(developments)
        .where(developments.c.id == development_id)
        .values(dismissed_as="false_alarm", version=developments.c.version + 1)
    )
    withdrawn = _withdraw_deliveries(session, development_id, now)
    details = {
        "category": row.category,
        "title": row.title,
        "article_ids": sorted({ev.article_id for ev in _evidence_rows(session, development_id)}),
        "withdrawn_deliveries": withdrawn,
    }
    return _record(session, "false_alarm", development_id, actor, now, details)


def restore_development(
    session: Session, development_id: int, actor: str, now: datetime
) -> FeedbackRecord:
    """Undo a false alarm: the development is live again and alerts on its next change.
    The deliveries withdrawn when it was dismissed stay withdrawn."""
    now = as_utc(now)
    transaction_lock(session, DETECTION_LOCK)
    row = _locked_development(session, development_id)
    if row.dismissed_as != "false_alarm":
        raise FeedbackError(f"development {development_id} is not marked a false alarm")
    session.connection().execute(
        update(developments)
        .where(developments.c.id == development_id)
        .values(dismissed_as=None, version=developments.c.version + 1)
    )
    details = {"category": row.category, "title": row.title}
    return _record(session, "restore", development_id, actor, now, details)


def merge_developments(
    session: Session, source_id: int, target_id: int, actor: str, now: datetime
) -> FeedbackRecord:
    """Merge development `source_id` into `target_id` (one event reported as two).

    The source's evidence moves to the target (a report the target already has from the same
    rule is dropped, not doubled); the target takes the furthest status of the two and the
    union of their regions, silently: the merge itself alerts nobody. The source points at the
    target, leaves the default views and its unsent deliveries are withdrawn; later reports
    that fit it join it and count for the target. Developments merged into the source earlier
    now point at the target.
    """
    now = as_utc(now)
    if source_id == target_id:
        raise FeedbackError(f"cannot merge development {source_id} into itself")
    transaction_lock(session, DETECTION_LOCK)
    source = _locked_development(session, source_id)
    target = _locked_development(session, target_id)
    _refuse_dismissed(source)
    _refuse_dismissed(target)
    if source.category != target.category:
        raise FeedbackError(
            f"cannot merge a {source.category} development into a {target.category} one: "
            "a development has one category"
        )
    moved, dropped = _move_evidence(session, source_id, target_id)
    connection = session.connection()
    connection.execute(
        update(developments)
        .where(developments.c.id == target_id)
        .values(
            status=advance_status(cast(Status, target.status), cast(Status, source.status)),
            background=bool(target.background and source.background),
            regions=list(merge_regions(target.regions or (), source.regions or ())),
            first_seen_at=min(target.first_seen_at, source.first_seen_at),
            last_seen_at=max(target.last_seen_at, source.last_seen_at),
            version=developments.c.version + 1,
        )
    )
    connection.execute(
        update(developments)
        .where(developments.c.id == source_id)
        .values(dismissed_as="merged", merged_into_id=target_id, version=developments.c.version + 1)
    )
    connection.execute(
        update(developments)
        .where(developments.c.merged_into_id == source_id)
        .values(merged_into_id=target_id)
    )
    details = {
        "into": target_id,
        "evidence_ids": [ev.id for ev in moved],
        "article_ids": sorted({ev.article_id for ev in moved} | {ev.article_id for ev in dropped}),
        "dropped_evidence_ids": [ev.id for ev in dropped],
        "withdrawn_deliveries": _withdraw_deliveries(session, source_id, now),
    }
    return _record(session, "merge", source_id, actor, now, details, target_id=target_id)


def _move_evidence(
    session: Session, source_id: int, target_id: int
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """Move the source's evidence to the target; return (moved, dropped as already there)."""
    held = {(ev.article_id, ev.rule_id) for ev in _evidence_rows(session, target_id)}
    rows = _evidence_rows(session, source_id)
    moved = [ev for ev in rows if (ev.article_id, ev.rule_id) not in held]
    dropped = [ev for ev in rows if (ev.article_id, ev.rule_id) in held]
    connection = session.connection()
    for part in chunked([ev.id for ev in dropped]):
        connection.execute(delete(evidence).where(evidence.c.id.in_(part)))
    for part in chunked([ev.id for ev in moved]):
        connection.execute(
            update(evidence).where(evidence.c.id.in_(part)).values(development_id=target_id)
        )
    return moved, dropped


def split_development(
    session: Session,
    development_id: int,
    evidence_ids: Sequence[int],
    actor: str,
    now: datetime,
) -> FeedbackRecord:
    """Move the evidence `evidence_ids` of a development to a new development (two events
    reported as one); the record's `target_id` is the new development.

    The new development has the category, actors, place, level, tags and regions of the
    original, the title of the first report moved, and the furthest status those reports saw;
    its date is left unknown (the reports told two events apart, not their dates). Nothing is
    alerted: the analyst already knows. The original keeps its status.
    """
    now = as_utc(now)
    wanted = sorted(set(evidence_ids))
    if not wanted:
        raise FeedbackError("name at least one piece of evidence to split off")
    transaction_lock(session, DETECTION_LOCK)
    row = _locked_development(session, development_id)
    _refuse_dismissed(row)
    held = {ev.id: ev for ev in _evidence_rows(session, development_id)}
    foreign = [i for i in wanted if i not in held]
    if foreign:
        shown = ", ".join(str(i) for i in foreign)
        raise FeedbackError(f"evidence {shown} is not evidence of development {development_id}")
    if len(wanted) == len(held):
        raise FeedbackError(
            f"splitting off all evidence of development {development_id} would leave it empty"
        )
    new_id = _insert_split(session, row, wanted, now)
    for part in chunked(wanted):
        session.connection().execute(
            update(evidence).where(evidence.c.id.in_(part)).values(development_id=new_id)
        )
    details = {
        "new_development": new_id,
        "evidence_ids": wanted,
        "article_ids": sorted({held[i].article_id for i in wanted}),
    }
    return _record(session, "split", development_id, actor, now, details, target_id=new_id)


def _insert_split(session: Session, row: Row[Any], evidence_ids: list[int], now: datetime) -> int:
    """Insert the development a split makes of the reports `evidence_ids` of `row`."""
    query = (
        select(evidence.c.status_seen, evidence.c.background, articles.c.title)
        .join(articles, articles.c.id == evidence.c.article_id)
        .where(evidence.c.id.in_(evidence_ids))
        .order_by(evidence.c.id)
    )
    reports = list(session.connection().execute(query))
    status: Status = "planned"
    for report in reports:
        status = advance_status(status, cast(Status, report.status_seen))
    values = {
        "category": row.category,
        "status": status,
        "background": all(report.background for report in reports),
        "title": reports[0].title,
        "event_date": None,
        "place": row.place,
        "actors": list(row.actors or ()),
        "facts": {},
        "level": row.level,
        "tags": list(row.tags or ()),
        "regions": list(row.regions or ()),
        "first_seen_at": now,
        "last_seen_at": now,
        "version": 1,
    }
    stmt = insert_for(session, developments).values(values).returning(developments.c.id)
    return int(session.connection().execute(stmt).scalar_one())


def list_feedback(session: Session, development_id: int | None = None) -> list[FeedbackRecord]:
    """Every recorded action (or those on or into development `development_id`), oldest first."""
    query = select(feedback).order_by(feedback.c.id)
    if development_id is not None:
        query = query.where(
            (feedback.c.development_id == development_id) | (feedback.c.target_id == development_id)
        )
    return [
        FeedbackRecord(**read_fields(row, _RECORD_AS_STORED), details=dict(row.details or {}))
        for row in session.execute(query)
    ]


# What a feedback row holds as its FeedbackRecord does (details are a JSON mapping there).
_RECORD_AS_STORED = same_named_fields(FeedbackRecord, "details")


def feedback_examples(session: Session) -> list[FeedbackExample]:
    """The articles feedback touched, each labelled with the categories it reports as news
    (`occurred`, not background) in developments that are not false alarms: a false alarm's
    reports are examples of NOT being its category, merged and split reports of being it."""
    reasons: dict[int, list[str]] = {}
    for record in list_feedback(session):
        touched = set(record.details.get("article_ids") or ())
        if record.action == "false_alarm":
            touched |= _evidence_articles(session, record.development_id)
        for article_id in sorted(touched):
            reasons.setdefault(article_id, []).append(_reason(record))
    ids = sorted(reasons)
    labels = _live_positive_categories(session, ids)
    examples = []
    for part in chunked(ids):
        query = select(
            articles.c.id,
            articles.c.title,
            articles.c.text,
            func.coalesce(articles.c.published_at, articles.c.reference_at),
            articles.c.reference_offset_min,
        ).where(articles.c.id.in_(part))
        for article_id, title, text, published, offset in session.execute(query):
            examples.append(
                FeedbackExample(
                    article_id=article_id,
                    title=title,
                    text=text,
                    published=published,
                    offset_min=offset,
                    categories=frozenset(labels.get(article_id, ())),
                    reasons=tuple(reasons[article_id]),
                )
            )
    return sorted(examples, key=lambda example: example.article_id)


def _evidence_articles(session: Session, development_id: int) -> set[int]:
    return {ev.article_id for ev in _evidence_rows(session, development_id)}


def _reason(record: FeedbackRecord) -> str:
    what = {
        "false_alarm": f"development {record.development_id} marked a false alarm",
        "restore": f"development {record.development_id} restored",
        "merge": f"development {record.development_id} merged into {record.target_id}",
        "split": f"split from development {record.development_id} into {record.target_id}",
    }[record.action]
    return f"{what} by {record.actor} at {record.created_at.isoformat()}"


def _live_positive_categories(session: Session, article_ids: list[int]) -> dict[int, set[str]]:
    """Article id -> categories it is news of (`occurred`, not background) in developments
    that are not false alarms."""
    found: dict[int, set[str]] = {}
    for part in chunked(article_ids):
        query = (
            select(evidence.c.article_id, developments.c.category)
            .join(developments, developments.c.id == evidence.c.development_id)
            .where(
                and_(
                    evidence.c.article_id.in_(part),
                    evidence.c.status_seen == "occurred",
                    evidence.c.background.is_(False),
                    developments.c.dismissed_as.is_distinct_from("false_alarm"),
                )
            )
        )
        for article_id, category in session.execute(query):
            found.setdefault(article_id, set()).add(category)
    return found
