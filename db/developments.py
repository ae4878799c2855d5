"""Developments, their evidence, and the alerts (outbox rows) their changes raise."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.orm import Session

from core.model import (
    AlertKind,
    Development,
    DevelopmentChange,
    DevelopmentRef,
    DevelopmentView,
    Match,
    Status,
    StoredRef,
    advance_status,
    merge_regions,
    tag_regions,
)
from db._sql import chunked, insert_for, read_fields, same_named_fields
from db.engine import DETECTION_LOCK, transaction_lock
from db.models import DevelopmentRow, alerts, articles, developments, evidence, sources
from db.types import as_utc

# What a stored row holds as a Development holds it; the JSON lists and mapping are converted.
_AS_STORED = same_named_fields(Development, "actors", "facts", "tags", "regions")


def _development_fields(row: Any) -> dict[str, Any]:
    """What a Development and a DevelopmentView both read off a stored row (an ORM object or a
    result row), as they hold it."""
    return {
        **read_fields(row, _AS_STORED),
        "actors": tuple(row.actors or ()),
        "facts": dict(row.facts or {}),
        "tags": tuple(row.tags or ()),
        "regions": tuple(row.regions or ()),
    }


def _to_development(row: Any) -> Development:
    """A development as detection reads it, from an ORM row or a Core row of its columns."""
    return Development(**_development_fields(row))


def candidate_developments(
    session: Session, categories: Collection[str], since: datetime | None
) -> list[Development]:
    """Developments of `categories` that are not cancelled and were last seen at or after `since`.

    Also takes the detection lock for the rest of the transaction: call this, detect and
    :func:`apply_changes` inside ONE transaction, and two runs at once cannot both create the
    same development (the second waits, then sees the first's). On SQLite the transaction's
    write lock does the same.
    """
    transaction_lock(session, DETECTION_LOCK)
    if not categories:
        return []
    # Core rows, not ORM objects: a replay reads thousands per run, only to read them once.
    c = developments.c
    query = (
        select(developments)
        .where(c.category.in_(list(categories)))
        .where(c.status != "cancelled")
        .order_by(c.id)
    )
    if since is not None:
        query = query.where(c.last_seen_at >= as_utc(since))
    return [_to_development(row) for row in session.connection().execute(query)]


@dataclass(slots=True)
class _Batch:
    """State of one apply_changes call."""

    article_ids: Mapping[str, int]
    seen_at: datetime
    refs: dict[DevelopmentRef, int] = field(default_factory=dict)
    evidence: dict[tuple[int, int, str], dict[str, Any]] = field(default_factory=dict)
    alerts: dict[tuple[int, str, str], dict[str, Any]] = field(default_factory=dict)
    # Evidence article ids per development, for alert snapshots: this batch's, plus the stored
    # ones once a development raises an alert (read then, not for every update: a long-running
    # development's evidence grows with every chunk, and reading it all each time is quadratic).
    evidence_articles: dict[int, set[int]] = field(default_factory=dict)
    stored_evidence_read: set[int] = field(default_factory=set)
    # The regions the `region:` tags of each evidence article's source name.
    source_regions: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # Developments this batch updated: each as its updates left it, and its pending write (the
    # last update's values and how many updates it stands for). A chunk updates one development
    # many times; one write per development at the end saves a statement per update.
    current: dict[int, _Current] = field(default_factory=dict)
    writes: dict[int, dict[str, Any]] = field(default_factory=dict)

    def regions_of(self, change: DevelopmentChange) -> tuple[str, ...]:
        """The change's development's regions with those of its evidence's sources."""
        from_sources = (
            self.source_regions.get(self.article_ids.get(m.article_key, -1), ())
            for m in change.evidence
        )
        return merge_regions(change.development.regions, *from_sources)


def apply_changes(
    session: Session,
    changes: Sequence[DevelopmentChange],
    article_ids: Mapping[str, int],
    seen_at: datetime,
) -> list[int]:
    """Apply development changes in order, with their evidence and alerts; return new alert ids.

    A `NewRef` inserts a development the first time and later changes with the same ref update it; a
    `StoredRef` updates the development it names. Each update locks the row and re-checks the stored
    status, which only moves forward: a status_change alert is written only if the stored status
    really moved now (another run may have moved it first). Evidence rows and alerts are inserted ON
    CONFLICT DO NOTHING against their unique constraints (one "new" alert per development, one alert
    per status reached), so a retried batch writes nothing twice; a `NewRef` whose evidence is
    already attached to an identical development is that one. Does not commit: the caller's
    transaction holds the change and its alert together (outbox).
    """
    seen_at = as_utc(seen_at)
    transaction_lock(session, DETECTION_LOCK)
    batch = _Batch(article_ids=article_ids, seen_at=seen_at)
    batch.source_regions = _source_regions(
        session, {_article_id(batch, m) for change in changes for m in change.evidence}
    )
    for change in changes:
        _apply_change(session, batch, change)
    _write_updates(session, batch)
    if batch.evidence:
        stmt = insert_for(session, evidence).on_conflict_do_nothing()
        session.connection().execute(stmt, list(batch.evidence.values()))
    if not batch.alerts:
        return []
    stmt = insert_for(session, alerts).on_conflict_do_nothing().returning(alerts.c.id)
    result = session.connection().execute(stmt, list(batch.alerts.values()))
    return sorted(result.scalars())


def _source_regions(session: Session, article_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """Article id -> the regions its source's tags name, for the articles whose source has any.

    A source tagged `region:japan` (sources.yaml) says where its reports are about: that is
    joined here, by the store, because detection reads text and never knows the source."""
    found: dict[int, tuple[str, ...]] = {}
    for part in chunked(sorted(article_ids)):
        query = (
            select(articles.c.id, sources.c.tags)
            .join(sources, sources.c.id == articles.c.source_id)
            .where(articles.c.id.in_(part))
        )
        for article_id, tags in session.connection().execute(query):
            regions = tag_regions(tags or ())
            if regions:
                found[article_id] = regions
    return found


def _resolve_ref(session: Session, batch: _Batch, change: DevelopmentChange) -> int | None:
    """The stored development `change.ref` names, or None when it is one to create."""
    if change.ref in batch.refs:
        return batch.refs[change.ref]
    if isinstance(change.ref, StoredRef):
        return change.ref.id
    return _already_recorded(session, batch, change)


def _apply_change(session: Session, batch: _Batch, change: DevelopmentChange) -> None:
    """Create or update the change's development, then queue its evidence and alert."""
    snapshot = replace(change.development, regions=batch.regions_of(change))
    dev_id = _resolve_ref(session, batch, change)
    if dev_id is None:
        dev_id = _insert_development(session, snapshot, batch.seen_at)
        batch.refs[change.ref] = dev_id
        batch.stored_evidence_read.add(dev_id)  # new: nothing stored yet
        _queue(
            session, batch, change, snapshot, dev_id, previous=None, moved=True, kind=change.alert
        )
        return
    batch.refs[change.ref] = dev_id
    stored = _update_development(session, batch, dev_id, snapshot)
    if stored.merged_into is not None:
        _apply_to_merge_target(session, batch, change, stored.merged_into)
        return
    moved = stored.development.status != stored.previous
    # A false alarm takes its reports (so they start no new development) but never alerts.
    kind = None if stored.dismissed_as else change.alert
    _queue(
        session,
        batch,
        change,
        stored.development,
        dev_id,
        previous=stored.previous,
        moved=moved,
        kind=kind,
    )


def _apply_to_merge_target(
    session: Session, batch: _Batch, change: DevelopmentChange, target_id: int
) -> None:
    """A report of a merged development is the target's: its evidence goes there, and the
    target's status moves on with it (alerting that move, unless the target is dismissed or
    background). The target's own title, date, place and actors stay as they are."""
    _write_updates(session, batch)  # the target is read and written from the store
    stored = _advance_development(
        session, target_id, change.development.status, batch.regions_of(change), batch.seen_at
    )
    moved = stored.development.status != stored.previous
    live_news = not stored.dismissed_as and not stored.development.background
    kind: AlertKind | None = "status_change" if moved and live_news else None
    _queue(
        session,
        batch,
        change,
        stored.development,
        target_id,
        previous=stored.previous,
        moved=moved,
        kind=kind,
    )


def _stored_evidence_articles(session: Session, dev_id: int) -> set[int]:
    query = select(evidence.c.article_id).where(evidence.c.development_id == dev_id)
    return set(session.connection().execute(query).scalars())


def _described(dev: Development) -> dict[str, Any]:
    """The columns that describe the event, written as the latest snapshot has them on insert
    and on every update alike."""
    return {
        "title": dev.title,
        "event_date": dev.event_date,
        "place": dev.place,
        "actors": list(dev.actors),
        "facts": dict(dev.facts),
        "level": dev.level,
        "tags": list(dev.tags),
    }


def _insert_development(session: Session, dev: Development, seen_at: datetime) -> int:
    row = {
        "category": dev.category,
        "status": dev.status,
        "background": dev.background,
        **_described(dev),
        "regions": list(dev.regions),
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "version": 1,
    }
    stmt = insert_for(session, developments).values(row).returning(developments.c.id)
    return int(session.connection().execute(stmt).scalar_one())


@dataclass(frozen=True, slots=True)
class _Stored:
    """A development as an update left it: its status before, the development as written, and
    an analyst's verdict on it (db/feedback.py)."""

    previous: Status
    development: Development
    dismissed_as: str | None
    merged_into: int | None


@dataclass(frozen=True, slots=True)
class _Current:
    """What an update of a development reads of it (in `_CURRENT`'s column order)."""

    status: str
    background: bool
    last_seen_at: datetime
    regions: list[str] | None
    dismissed_as: str | None
    merged_into_id: int | None


def _current(session: Session, batch: _Batch, dev_id: int) -> _Current:
    """Development `dev_id` as the store holds it, or as this batch's updates left it.

    Read once per batch, locked (FOR UPDATE on PostgreSQL; SQLite's transaction holds the write
    lock), so the status and regions an update starts from are the ones it replaces.
    """
    known = batch.current.get(dev_id)
    if known is not None:
        return known
    row = session.connection().execute(_CURRENT, {"dev_id": dev_id}).one_or_none()
    if row is None:
        raise ValueError(f"apply_changes: development {dev_id} does not exist")
    return _Current(*row)


def _update_development(session: Session, batch: _Batch, dev_id: int, dev: Development) -> _Stored:
    """Queue the snapshot's write over development `dev_id`; return the stored status before
    and the development as written (its status only moved forward, its regions only grew)."""
    current = _current(session, batch, dev_id)
    seen_at = batch.seen_at
    before = cast(Status, current.status)
    after = replace(
        dev,
        status=advance_status(before, dev.status),
        regions=merge_regions(current.regions or (), dev.regions),
    )
    values = {
        "status": after.status,
        # Once a development is news it stays news; only background may become news.
        "background": bool(current.background and dev.background),
        **_described(dev),
        "regions": list(after.regions),
        "last_seen_at": max(current.last_seen_at, seen_at),
    }
    batch.current[dev_id] = replace(
        current,
        status=values["status"],
        background=values["background"],
        last_seen_at=values["last_seen_at"],
        regions=values["regions"],
    )
    updates = batch.writes.get(dev_id, {}).get("updates", 0) + 1
    batch.writes[dev_id] = {**values, "updates": updates}
    return _Stored(before, after, current.dismissed_as, current.merged_into_id)


def _write_updates(session: Session, batch: _Batch) -> None:
    """Write the batch's pending development updates, one row each (the version counts every
    update), and forget what they read: the store holds it now."""
    if batch.writes:
        parameters = [
            {"dev_id": dev_id, **{f"new_{name}": value for name, value in values.items()}}
            for dev_id, values in batch.writes.items()
        ]
        session.connection().execute(_WRITE, parameters)
    batch.writes.clear()
    batch.current.clear()


# The two statements of every update, built once: built per change, SQLAlchemy's walk of each
# new statement for its cache key cost more than SQLite's work (a replay updates developments
# hundreds of times per chunk). Parameter names differ from the columns', which SQLAlchemy
# keeps for the SET clause's own parameters.
_CURRENT = (
    select(
        developments.c.status,
        developments.c.background,
        developments.c.last_seen_at,
        developments.c.regions,
        developments.c.dismissed_as,
        developments.c.merged_into_id,
    )
    .where(developments.c.id == bindparam("dev_id"))
    .with_for_update()
)
_WRITTEN = (
    *("status", "background", "title", "event_date", "place", "actors", "facts", "level"),
    *("tags", "regions", "last_seen_at"),
)
_WRITE = (
    update(developments)
    .where(developments.c.id == bindparam("dev_id"))
    .values(
        {
            **{name: bindparam(f"new_{name}") for name in _WRITTEN},
            "version": developments.c.version + bindparam("new_updates"),
        }
    )
)


def _advance_development(
    session: Session, dev_id: int, status: Status, regions: Collection[str], seen_at: datetime
) -> _Stored:
    """Move development `dev_id`'s status forward to `status` and add `regions`, leaving the
    rest of it as stored (a merge target taking a report of a development merged into it)."""
    # populate_existing: this session may hold the row from before this batch's updates.
    query = (
        select(DevelopmentRow)
        .where(DevelopmentRow.id == dev_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalars(query).one()
    before = _to_development(row)
    after = replace(
        before,
        status=advance_status(before.status, status),
        regions=merge_regions(before.regions, regions),
    )
    session.connection().execute(
        update(developments)
        .where(developments.c.id == dev_id)
        .values(
            status=after.status,
            regions=list(after.regions),
            last_seen_at=max(row.last_seen_at, seen_at),
            version=developments.c.version + 1,
        )
    )
    return _Stored(before.status, after, row.dismissed_as, row.merged_into_id)


def _already_recorded(session: Session, batch: _Batch, change: DevelopmentChange) -> int | None:
    """The stored development a retried `NewRef` change already created, if any.

    It must carry evidence from the same (article, rule) and the same identity (category,
    event date, place, actors); anything less and a new development is created.
    """
    pairs = [(_article_id(batch, m), m.rule_id) for m in change.evidence]
    if not pairs:
        return None
    dev = change.development
    query = (
        select(
            developments.c.id,
            developments.c.event_date,
            developments.c.place,
            developments.c.actors,
        )
        .join(evidence, evidence.c.development_id == developments.c.id)
        .where(developments.c.category == dev.category)
        .where(tuple_(evidence.c.article_id, evidence.c.rule_id).in_(pairs))
        .order_by(developments.c.id)
    )
    for dev_id, event_date, place, actors in session.connection().execute(query):
        written = batch.writes.get(dev_id)
        if written is not None:  # updated by this batch, not written yet
            event_date, place, actors = written["event_date"], written["place"], written["actors"]
        if (event_date, place, set(actors or ())) == (dev.event_date, dev.place, set(dev.actors)):
            return int(dev_id)
    return None


def _article_id(batch: _Batch, match: Match) -> int:
    try:
        return batch.article_ids[match.article_key]
    except KeyError:
        raise ValueError(
            f"apply_changes: evidence names article {match.article_key!r}, "
            "which is not in article_ids"
        ) from None


def _queue(
    session: Session,
    batch: _Batch,
    change: DevelopmentChange,
    stored: Development,
    dev_id: int,
    *,
    previous: Status | None,
    moved: bool,
    kind: AlertKind | None,
) -> None:
    """Queue the change's evidence rows and, when it raises one (`kind`), its alert row
    (`stored` is the development as this change left it in the store)."""
    status = stored.status
    known = batch.evidence_articles.setdefault(dev_id, set())
    for match in change.evidence:
        article_id = _article_id(batch, match)
        batch.evidence.setdefault(
            (dev_id, article_id, match.rule_id),
            {
                "development_id": dev_id,
                "article_id": article_id,
                "rule_id": match.rule_id,
                "terms": list(match.terms),
                "snippet": match.snippet,
                "status_seen": match.status,
                "background": match.background,
                "created_at": batch.seen_at,
            },
        )
        known.add(article_id)
    if kind is None or (kind == "status_change" and not moved):
        return
    if dev_id not in batch.stored_evidence_read:
        known |= _stored_evidence_articles(session, dev_id)
        batch.stored_evidence_read.add(dev_id)
    why = change.evidence[-1] if change.evidence else None
    batch.alerts.setdefault(
        (dev_id, kind, status),
        {
            "development_id": dev_id,
            "kind": kind,
            "status": status,
            "previous_status": previous if kind == "status_change" else None,
            "rule_id": why.rule_id if why else None,
            "terms": list(why.terms) if why else None,
            "snapshot": _snapshot(stored, known),
            "created_at": batch.seen_at,
        },
    )


def _snapshot(dev: Development, article_ids: set[int]) -> dict[str, Any]:
    """The development as an alert shows it: these fields and these evidence articles."""
    return {
        "status": dev.status,
        "title": dev.title,
        "event_date": dev.event_date.isoformat() if dev.event_date else None,
        "place": dev.place,
        "actors": list(dev.actors),
        "facts": dict(dev.facts),
        "level": dev.level,
        "tags": list(dev.tags),
        "regions": list(dev.regions),
        "article_ids": sorted(article_ids),
    }


def list_developments(
    session: Session, ids: Collection[int] | None = None
) -> list[DevelopmentView]:
    """Every development (or those of `ids`) with the guids of its evidence articles, by id."""
    wanted = None if ids is None else sorted(set(ids))
    if wanted == []:
        return []
    # A dict per development keeps first-seen order and drops a repeated guid in constant time
    # (testing a list was quadratic in a development's reports).
    guids: dict[int, dict[str, None]] = {}
    query = (
        select(evidence.c.development_id, articles.c.guid)
        .join(articles, articles.c.id == evidence.c.article_id)
        .order_by(evidence.c.id)
    )
    rows_query = select(DevelopmentRow).order_by(DevelopmentRow.id)
    parts: list[Sequence[int] | None] = [None] if wanted is None else list(chunked(wanted))
    views: list[DevelopmentView] = []
    for part in parts:
        ev_query = query if part is None else query.where(evidence.c.development_id.in_(part))
        for dev_id, guid in session.execute(ev_query):
            guids.setdefault(dev_id, {})[guid] = None
        dev_query = rows_query if part is None else rows_query.where(DevelopmentRow.id.in_(part))
        views.extend(_view(row, list(guids.get(row.id, ()))) for row in session.scalars(dev_query))
    return views


def _view(row: DevelopmentRow, evidence_guids: list[str]) -> DevelopmentView:
    return DevelopmentView(
        **_development_fields(row),
        evidence=evidence_guids,
        first_seen=row.first_seen_at,
        last_seen=row.last_seen_at,
        dismissed_as=row.dismissed_as,
        merged_into=row.merged_into_id,
    )


def developments_evidenced_by(
    session: Session, *article_ids: Collection[int]
) -> list[DevelopmentView]:
    """The developments that the articles of any of the `article_ids` collections are
    evidence of.

    Each collection is read in slices as given (repeats are harmless): a set, a sorted copy or
    a concatenation of a 100,000-article run's ids cost megabytes at the end of a run, when its
    memory peaks."""
    dev_ids: set[int] = set()
    for given in article_ids:
        ids = given if isinstance(given, Sequence) else list(given)
        for part in chunked(ids):
            query = select(evidence.c.development_id).where(evidence.c.article_id.in_(list(part)))
            dev_ids.update(session.scalars(query))
    return list_developments(session, dev_ids)
