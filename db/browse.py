"""Read-only queries for browsing the store (the web console): filtered, paged developments,
one development with its evidence (near-duplicates grouped under their original), timeline and
alerts, and the store's pulse for /healthz."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from core.model import DevelopmentView
from db.developments import list_developments
from db.feedback import FeedbackRecord, list_feedback
from db.models import alerts, articles, deliveries, developments, evidence, evidence_join, sources
from db.outbox import AlertView, deliveries_by_alert

DEFAULT_PAGE_SIZE = 50
# DevelopmentQuery.dismissed: every development, live or dismissed.
DISMISSED_ALL = "all"
DISMISSED_FILTERS = (DISMISSED_ALL, "false_alarm", "merged")


@dataclass(frozen=True, slots=True)
class DevelopmentQuery:
    """What a reader asks for: every field optional; text matches title, place or actors."""

    category: str | None = None
    status: str | None = None
    region: str | None = None
    level: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    outlet: str | None = None
    text: str | None = None
    # Developments an analyst dismissed are left out unless asked for: "all", or only
    # "false_alarm" or "merged" ones.
    dismissed: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class DevelopmentPage:
    """One page of developments, newest first, and whether another page follows."""

    developments: list[DevelopmentView]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One report of a development: the article, its outlet, and what the rule saw in it."""

    id: int
    article_id: int
    outlet: str
    title: str
    url: str | None
    published_at: datetime | None
    snippet: str
    status_seen: str
    rule_id: str
    background: bool
    created_at: datetime
    # The article this one is a near-duplicate of (a wire copy at another outlet), if any.
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class EvidenceGroup:
    """An article and the evidence that copies it: `original` is the original's evidence (one
    item per rule that saw it), empty when the original is not evidence of this development:
    its copies still go together."""

    article_id: int
    original: tuple[EvidenceItem, ...]
    copies: tuple[EvidenceItem, ...]


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """A status the development reached, when, and the report that moved it there (if known)."""

    status: str
    previous_status: str | None
    at: datetime
    article: EvidenceItem | None


@dataclass(frozen=True, slots=True)
class DevelopmentDetail:
    """Everything the development page shows."""

    development: DevelopmentView
    evidence: list[EvidenceItem]
    evidence_groups: list[EvidenceGroup]
    timeline: list[TimelineStep]
    alerts: list[AlertView]
    feedback: list[FeedbackRecord]


@dataclass(frozen=True, slots=True)
class StorePulse:
    """What /healthz reports from the store.

    The store keeps no record of monitor cycles: the latest `sources.last_fetch_at` is the
    moment the last cycle fetched anything, the closest fact it has.
    """

    last_cycle_at: datetime | None
    failing_sources: int
    pending_deliveries: int


def _like_fragment(value: str) -> str:
    """`value` for a LIKE pattern, its wildcards taken literally (escape character `\\`)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(query: DevelopmentQuery) -> list[Any]:
    """The WHERE conditions of `query`; regions and actors are JSON lists matched as text."""
    where: list[Any] = []
    if query.dismissed is None:
        where.append(developments.c.dismissed_as.is_(None))
    elif query.dismissed != DISMISSED_ALL:
        where.append(developments.c.dismissed_as == query.dismissed)
    if query.category:
        where.append(developments.c.category == query.category)
    if query.status:
        where.append(developments.c.status == query.status)
    if query.level:
        where.append(developments.c.level == query.level)
    if query.date_from:
        where.append(developments.c.event_date >= query.date_from)
    if query.date_to:
        where.append(developments.c.event_date <= query.date_to)
    if query.region:
        region = query.region.strip().casefold().removeprefix("region:")
        # Regions are stored as a JSON list of plain names: the quoted name is one element.
        pattern = f'%"{_like_fragment(region)}"%'
        where.append(cast(developments.c.regions, Text).like(pattern, escape="\\"))
    if query.outlet:
        where.append(
            exists()
            .where(evidence.c.development_id == developments.c.id)
            .where(articles.c.id == evidence.c.article_id)
            .where(sources.c.id == articles.c.source_id)
            .where(sources.c.name == query.outlet)
        )
    if query.text:
        pattern = f"%{_like_fragment(query.text.strip().casefold())}%"
        where.append(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        developments.c.title,
                        developments.c.place,
                        cast(developments.c.actors, Text),
                    )
                )
            )
        )
    return where


def browse_developments(session: Session, query: DevelopmentQuery) -> DevelopmentPage:
    """The page `query.page` of the developments matching `query`, newest first."""
    page = max(query.page, 1)
    ids_query = (
        select(developments.c.id)
        .where(and_(True, *_conditions(query)))
        .order_by(developments.c.first_seen_at.desc(), developments.c.id.desc())
        .offset((page - 1) * query.page_size)
        .limit(query.page_size + 1)  # one more tells whether a next page exists
    )
    ids = list(session.scalars(ids_query))
    shown = ids[: query.page_size]
    by_id = {view.id: view for view in list_developments(session, shown)}
    return DevelopmentPage(
        developments=[by_id[i] for i in shown if i in by_id],
        page=page,
        has_next=len(ids) > query.page_size,
    )


def development_detail(session: Session, development_id: int) -> DevelopmentDetail | None:
    """The development `development_id` with its evidence, timeline and alerts; None if unknown."""
    found = list_developments(session, [development_id])
    if not found:
        return None
    items = _evidence_items(session, development_id)
    raised = _development_alerts(session, found[0])
    return DevelopmentDetail(
        development=found[0],
        evidence=items,
        evidence_groups=group_near_duplicates(items),
        timeline=[_step(alert, items) for alert in raised],
        alerts=raised,
        feedback=list_feedback(session, development_id),
    )


# An EvidenceItem's columns, labelled as its fields.
_EVIDENCE_ITEM_COLUMNS = (
    *(evidence.c[name] for name in ("id", "article_id", "snippet", "status_seen", "rule_id")),
    *(evidence.c[name] for name in ("background", "created_at")),
    *(articles.c[name] for name in ("title", "url", "published_at")),
    sources.c.name.label("outlet"),
    articles.c.duplicate_of_id.label("duplicate_of"),
)


def _evidence_items(session: Session, development_id: int) -> list[EvidenceItem]:
    query = (
        select(*_EVIDENCE_ITEM_COLUMNS)
        .select_from(evidence_join)
        .where(evidence.c.development_id == development_id)
        .order_by(evidence.c.created_at, evidence.c.id)
    )
    return [EvidenceItem(**row) for row in session.execute(query).mappings()]


def group_near_duplicates(items: list[EvidenceItem]) -> list[EvidenceGroup]:
    """`items` grouped by the article they are or copy, in the order each group's first item
    appears; within a group the original's evidence leads and its copies follow in order.
    Every item is in exactly one group."""
    originals: dict[int, list[EvidenceItem]] = {}
    copies: dict[int, list[EvidenceItem]] = {}
    for item in items:
        article_id = item.duplicate_of or item.article_id
        originals.setdefault(article_id, [])
        copies.setdefault(article_id, [])
        (copies if item.duplicate_of else originals)[article_id].append(item)
    return [
        EvidenceGroup(article_id=key, original=tuple(originals[key]), copies=tuple(copies[key]))
        for key in originals
    ]


def _development_alerts(session: Session, view: DevelopmentView) -> list[AlertView]:
    rows = list(
        session.execute(
            select(alerts).where(alerts.c.development_id == view.id).order_by(alerts.c.id)
        ).mappings()
    )
    by_alert = deliveries_by_alert(session, [row["id"] for row in rows])
    return [
        AlertView(
            id=row["id"],
            development_id=view.id,
            kind=row["kind"],
            category=view.category,
            status=row["status"],
            previous_status=row["previous_status"],
            title=(row["snapshot"] or {}).get("title", view.title),
            level=(row["snapshot"] or {}).get("level", view.level),
            created_at=row["created_at"],
            routed_at=row["routed_at"],
            unrouted=row["unrouted"],
            deliveries=tuple(by_alert.get(row["id"], [])),
        )
        for row in rows
    ]


def _step(alert: AlertView, items: list[EvidenceItem]) -> TimelineStep:
    """An alert as a timeline step: every status reached raised exactly one alert, and the first
    report that saw that status is what moved it."""
    mover = next((item for item in items if item.status_seen == alert.status), None)
    return TimelineStep(
        status=alert.status,
        previous_status=alert.previous_status,
        at=alert.created_at,
        article=mover,
    )


def store_pulse(session: Session) -> StorePulse:
    """The last fetch of any source, failing sources and deliveries still to send."""
    last = session.scalar(select(func.max(sources.c.last_fetch_at)))
    failing = session.scalar(
        select(func.count()).select_from(sources).where(sources.c.consecutive_failures > 0)
    )
    pending = session.scalar(
        select(func.count())
        .select_from(deliveries)
        .where(deliveries.c.state.in_(("pending", "sending")))
    )
    return StorePulse(
        last_cycle_at=last, failing_sources=failing or 0, pending_deliveries=pending or 0
    )


def daily_counts(session: Session, since: datetime) -> list[tuple[date, str, int]]:
    """Live developments first seen per UTC day and category since `since`, oldest day first."""
    day = func.date(developments.c.first_seen_at)
    query = (
        select(day, developments.c.category, func.count())
        .where(developments.c.first_seen_at >= since)
        .where(developments.c.dismissed_as.is_(None))
        .group_by(day, developments.c.category)
        .order_by(day, developments.c.category)
    )
    # SQLite's date() answers text, PostgreSQL's a date: both start with YYYY-MM-DD.
    return [
        (date.fromisoformat(str(when)[:10]), category, count)
        for when, category, count in session.execute(query)
    ]
