"""Sources: configuration, conditional-fetch validators and health with recovering backoff."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.model import FetchResult, SourceSpec, SourceState
from db._sql import chunked, insert_for
from db.models import Source, sources
from db.types import as_utc

DEFAULT_POLL_INTERVAL_S = 600
MAX_BACKOFF_S = 24 * 3600
SUCCESS_STATUSES = frozenset({"ok", "not_modified", "unchanged"})


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the store knows about one source's recent fetches."""

    name: str
    kind: str
    location: str
    tags: tuple[str, ...]
    last_status: str | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    http_status: int | None
    consecutive_failures: int
    last_error: str | None
    next_due_at: datetime | None
    items_seen: int

    @property
    def healthy(self) -> bool:
        """True unless the latest fetch failed."""
        return self.consecutive_failures == 0


def failure_delay_s(interval_s: float, failures: int, retry_after_s: float | None = None) -> float:
    """Seconds to wait before polling again after `failures` consecutive failures.

    The first failure waits the normal interval (it may be a blip), then the wait doubles with
    every further failure, up to 24 h (or the interval, if that is longer). A server's
    Retry-After is honoured when it asks for longer, but never beyond that cap.
    """
    cap = max(float(MAX_BACKOFF_S), interval_s)
    delay = min(interval_s * 2 ** min(max(failures - 1, 0), 32), cap)
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, cap))
    return delay


def upsert_sources(session: Session, specs: Sequence[SourceSpec]) -> dict[str, int]:
    """Insert or update the configured sources; return their ids by name.

    Health and validators of existing sources are kept. A name given twice keeps its last spec.
    """
    by_name = {spec.name: spec for spec in specs}
    if not by_name:
        return {}
    rows = [
        {"name": s.name, "kind": s.kind, "location": s.location, "tags": list(s.tags)}
        for s in by_name.values()
    ]
    stmt = insert_for(session, sources)
    stmt = stmt.on_conflict_do_update(
        index_elements=[sources.c.name],
        set_={
            "kind": stmt.excluded.kind,
            "location": stmt.excluded.location,
            "tags": stmt.excluded.tags,
        },
    )
    session.execute(stmt, rows)
    return _ids_by_name(session, list(by_name))


def _ids_by_name(session: Session, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in chunked(names):
        query = select(sources.c.name, sources.c.id).where(sources.c.name.in_(part))
        ids.update(dict(session.execute(query).all()))
    return ids


def source_states(session: Session, names: Collection[str]) -> dict[str, SourceState]:
    """The validators (ETag, Last-Modified, body hash) of each named source.

    Every name is in the result; a source never fetched (or unknown) has an empty SourceState.
    """
    states = {name: SourceState() for name in names}
    for part in chunked(list(states)):
        query = select(
            sources.c.name, sources.c.etag, sources.c.last_modified, sources.c.body_hash
        ).where(sources.c.name.in_(part))
        for name, etag, last_modified, body_hash in session.execute(query):
            states[name] = SourceState(etag=etag, last_modified=last_modified, body_hash=body_hash)
    return states


def record_fetches(
    session: Session,
    results: Sequence[FetchResult],
    now: datetime,
    poll_intervals: Mapping[str, int],
) -> None:
    """Record what each fetch did to its source's health and validators, in one batch.

    Success (ok, not_modified, unchanged): failures reset to 0, next poll after the source's
    interval, validators saved (on not_modified/unchanged a missing validator keeps the stored
    one); `last_error` then holds the fetch's problems (e.g. a malformed feed read anyway), if
    any. Failure: failures + 1, next poll after :func:`failure_delay_s`, validators kept. A
    source is never disabled: it is polled again, later and later, and recovers on success.
    Raises ValueError for a result whose source was never upserted.
    """
    latest = {result.source: result for result in results}
    if not latest:
        return
    now = as_utc(now)
    current = _current_health(session, list(latest))
    missing = sorted(set(latest) - set(current))
    if missing:
        raise ValueError(f"record_fetches: unknown sources {missing}: upsert_sources first")
    rows = [
        _health_row(current[name], result, now, poll_intervals.get(name, DEFAULT_POLL_INTERVAL_S))
        for name, result in latest.items()
    ]
    rows.sort(key=lambda row: row["id"])  # one lock order for every writer
    session.execute(update(Source), rows)


def _current_health(session: Session, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    cols = (
        sources.c.id,
        sources.c.name,
        sources.c.consecutive_failures,
        sources.c.last_success_at,
        sources.c.etag,
        sources.c.last_modified,
        sources.c.body_hash,
        sources.c.items_seen,
    )
    found: dict[str, dict[str, Any]] = {}
    for part in chunked(sorted(names)):
        # Row locks on PostgreSQL so two runs recording the same source cannot lose a failure.
        query = select(*cols).where(sources.c.name.in_(part)).order_by(sources.c.id)
        for row in session.execute(query.with_for_update()).mappings():
            found[row["name"]] = dict(row)
    return found


def _health_row(
    old: Mapping[str, Any], result: FetchResult, now: datetime, interval_s: int
) -> dict[str, Any]:
    """The full new health row of one source (every row has the same keys: one executemany)."""
    ok = result.status in SUCCESS_STATUSES
    state = result.state
    if result.status == "ok":
        validators = (state.etag, state.last_modified, state.body_hash)
    else:
        # 304 / unchanged bodies may omit validators they did not need to repeat.
        validators = (
            state.etag or old["etag"],
            state.last_modified or old["last_modified"],
            state.body_hash or old["body_hash"],
        )
    failures = 0 if ok else old["consecutive_failures"] + 1
    if ok:
        delay = float(interval_s)
        error = "; ".join(result.problems) or None
    else:
        delay = failure_delay_s(interval_s, failures, result.retry_after_s)
        error = result.error or "; ".join(result.problems) or "fetch failed"
    return {
        "id": old["id"],
        "last_status": result.status,
        "last_fetch_at": now,
        "last_success_at": now if ok else old["last_success_at"],
        "http_status": result.http_status,
        "consecutive_failures": failures,
        "last_error": error,
        "next_due_at": now + timedelta(seconds=delay),
        "etag": validators[0] if ok else old["etag"],
        "last_modified": validators[1] if ok else old["last_modified"],
        "body_hash": validators[2] if ok else old["body_hash"],
        "items_seen": old["items_seen"] + len(result.articles),
    }


def due_source_names(session: Session, names: Sequence[str], now: datetime) -> list[str]:
    """The names (in the given order) due for a poll: never fetched, unknown, or next due <= now."""
    now = as_utc(now)
    due_at: dict[str, datetime | None] = {}
    for part in chunked(list(dict.fromkeys(names))):
        query = select(sources.c.name, sources.c.next_due_at).where(sources.c.name.in_(part))
        due_at.update(dict(session.execute(query).all()))
    return [name for name in names if (when := due_at.get(name)) is None or when <= now]


def source_health(session: Session) -> list[SourceHealth]:
    """Health of every known source, by name."""
    rows = session.scalars(select(Source).order_by(Source.name))
    return [
        SourceHealth(
            name=row.name,
            kind=row.kind,
            location=row.location,
            tags=tuple(row.tags or ()),
            last_status=row.last_status,
            last_fetch_at=row.last_fetch_at,
            last_success_at=row.last_success_at,
            http_status=row.http_status,
            consecutive_failures=row.consecutive_failures,
            last_error=row.last_error,
            next_due_at=row.next_due_at,
            items_seen=row.items_seen,
        )
        for row in rows
    ]
