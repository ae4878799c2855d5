"""Builders for the storage tests (core dataclasses with sensible defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.model import (
    AlertKind,
    Article,
    Development,
    DevelopmentChange,
    DevelopmentRef,
    Match,
    NewRef,
    SourceSpec,
    Status,
)
from db import apply_changes, route_alert, store_articles, upsert_sources

T0 = datetime(2026, 1, 28, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def spec(name: str, kind: str = "rss", tags: Sequence[str] = ("region:kr",)) -> SourceSpec:
    """A source spec."""
    return SourceSpec(
        name=name, kind=kind, location=f"https://{name}.example/feed", tags=tuple(tags)
    )


def article(source: str = "alpha", n: int = 0, **fields: Any) -> Article:
    """Article number `n` of `source`, with distinct guid, URL and text unless overridden."""
    values: dict[str, Any] = {
        "source": source,
        "guid": f"{source}-{n}",
        "title": f"Headline {n} from {source}",
        "text": f"Body {n} of {source}. " + "North Korea fired a ballistic missile. " * 60,
        "url": f"https://{source}.example/news/{n}",
        "published": T0 - timedelta(minutes=n),
        "raw": {"id": f"{source}-{n}", "tags": ["a", "b"]},
    }
    values.update(fields)
    return Article(**values)


def match(
    key: str,
    rule_id: str = "missile_launch.v1",
    *,
    category: str = "missile_launch",
    status: Status = "occurred",
    background: bool = False,
    terms: Sequence[str] = ("fired", "ballistic missile"),
) -> Match:
    """A match of `rule_id` on article `key`."""
    return Match(
        article_key=key,
        rule_id=rule_id,
        category=category,
        status=status,
        background=background,
        event_date=date(2026, 1, 27),
        place="Pyongyang",
        actors=("North Korea",),
        facts={"count": 2},
        terms=tuple(terms),
        snippet="North Korea fired two ballistic missiles",
        level="high",
        tags=("region:kp",),
        title="North Korea fires two ballistic missiles",
    )


def development(
    *,
    category: str = "missile_launch",
    status: Status = "occurred",
    background: bool = False,
    title: str = "North Korea fires two ballistic missiles",
    event_date: date | None = date(2026, 1, 27),
    place: str | None = "Pyongyang",
    actors: Sequence[str] = ("North Korea",),
    facts: dict[str, Any] | None = None,
    id: int | None = None,
) -> Development:
    """A development snapshot."""
    return Development(
        category=category,
        status=status,
        background=background,
        title=title,
        event_date=event_date,
        place=place,
        actors=tuple(actors),
        facts=facts if facts is not None else {"count": 2, "apogee_km": 80},
        level="high",
        tags=("region:kp", "missile_launch"),
        id=id,
    )


def change(
    ref: DevelopmentRef,
    dev: Development,
    evidence: Sequence[Match],
    alert: AlertKind | None,
    previous_status: Status | None = None,
) -> DevelopmentChange:
    """A development change."""
    return DevelopmentChange(
        ref=ref,
        development=dev,
        evidence=tuple(evidence),
        is_new=isinstance(ref, NewRef),
        previous_status=previous_status,
        alert=alert,
    )


def seed_articles(
    session: Session, sources: Sequence[str] = ("alpha", "beta"), per_source: int = 3
) -> dict[str, int]:
    """Store `per_source` articles for each source; return article key (guid) -> id."""
    ids = upsert_sources(session, [spec(name) for name in sources])
    batch = [article(name, n) for name in sources for n in range(per_source)]
    result = store_articles(session, ids, batch, T0)
    return {stored.article.guid: stored.id for stored in result.new}


def seed_alert(session: Session, targets: Sequence[tuple[str, str]] = ()) -> int:
    """One development with one "new" alert, routed to `targets` when given; return the alert id."""
    keys = seed_articles(session, per_source=1)
    dev = development()
    evidence = [match(key) for key in keys]
    [alert_id] = apply_changes(session, [change(NewRef(0), dev, evidence, "new")], keys, T0)
    if targets:
        route_alert(session, alert_id, targets, T0)
    return alert_id
