"""Sources: configuration, each kind's cursor (`core.cursor`) and health with recovering backoff."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, bindparam, case, null, select, update
from sqlalchemy.orm import Session

from core.cursor import Cursor
from core.model import FetchResult, SourceSpec, SourceState
from db._sql import chunked, insert_for, read_fields, same_named_fields
from db.models import Source, sources
from db.types import as_utc

DEFAULT_POLL_INTERVAL_S = 600
MAX_BACKOFF_S = 24 * 3600
SUCCESS_STATUSES = frozenset({"ok", "not_modified", "unchanged"})
# A healthy source is due a quarter of its interval before its next poll time, but at least
# 30 s and at most 60 s (never more than half the interval), so jitter from cycle to cycle
# never pushes it to the tick after (see poll_opens_at).
DUE_SLACK_FRACTION = 0.25
DUE_SLACK_MIN_S = 30.0
DUE_SLACK_MAX_S = 60.0


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


@dataclass(frozen=True, slots=True)
class RegisteredSources:
    """The configured sources as stored once registered: each one's id and its kind's cursor,
    read in one query (a cycle used to read the same rows three times: for the cursors, the
    upsert and the health record)."""

    ids: dict[str, int]
    states: dict[str, SourceState]


def register_sources(session: Session, specs: Sequence[SourceSpec]) -> RegisteredSources:
    """Insert or update the configured sources; return their ids and cursors by name.

    Health and cursors of existing sources are kept, except that a source whose kind changed
    loses its cursor: it was the old kind's, opaque to the new one. A name given twice keeps
    its last spec. A new source, or one whose stored cursor is not a JSON object, has an empty
    state.
    """
    by_name = {spec.name: spec for spec in specs}
    if not by_name:
        return RegisteredSources({}, {})
    stored = _stored_definitions(session, list(by_name))
    changed = [
        s
        for s in by_name.values()
        if s.name not in stored or stored[s.name].definition != (s.kind, s.location, list(s.tags))
    ]
    ids = {name: row.id for name, row in stored.items()}
    states = {
        name: SourceState(Cursor.from_json(stored[name].cursor))
        if name in stored
        else SourceState()
        for name in by_name
    }
    if not changed:  # every source stored as configured: each cycle of an unchanged file
        return RegisteredSources(ids, states)
    _write_definitions(session, changed)
    for spec in changed:  # new, or a changed kind's cursor dropped (see _write_definitions)
        if spec.name not in stored or stored[spec.name].definition[0] != spec.kind:
            states[spec.name] = SourceState()
    return RegisteredSources(ids | _ids_by_name(session, [s.name for s in changed]), states)


def upsert_sources(session: Session, specs: Sequence[SourceSpec]) -> dict[str, int]:
    """Insert or update the configured sources (see :func:`register_sources`); their ids."""
    return register_sources(session, specs).ids


def _write_definitions(session: Session, changed: Sequence[SourceSpec]) -> None:
    rows = [
        {"name": s.name, "kind": s.kind, "location": s.location, "tags": list(s.tags)}
        for s in changed
    ]
    stmt = insert_for(session, sources)
    stmt = stmt.on_conflict_do_update(
        index_elements=[sources.c.name],
        set_={
            "kind": stmt.excluded.kind,
            "location": stmt.excluded.location,
            "tags": stmt.excluded.tags,
            "cursor": case((sources.c.kind == stmt.excluded.kind, sources.c.cursor), else_=null()),
        },
    )
    session.execute(stmt, rows)


@dataclass(frozen=True, slots=True)
class _StoredDefinition:
    id: int
    definition: tuple[str, str, list[str]]  # kind, location, tags
    cursor: Any


def _stored_definitions(session: Session, names: Sequence[str]) -> dict[str, _StoredDefinition]:
    """The id, stored (kind, location, tags) and cursor of each of `names` already stored: the
    sources whose definition is unchanged need no write (a write per source per cycle was
    most of a no-change cycle's store time)."""
    c = sources.c
    found: dict[str, _StoredDefinition] = {}
    for part in chunked(names):
        query = select(c.name, c.id, c.kind, c.location, c.tags, c.cursor).where(c.name.in_(part))
        for name, source_id, kind, location, tags, cursor in session.execute(query):
            found[name] = _StoredDefinition(source_id, (kind, location, list(tags or ())), cursor)
    return found


def _ids_by_name(session: Session, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in chunked(names):
        query = select(sources.c.name, sources.c.id).where(sources.c.name.in_(part))
        ids.update(dict(session.execute(query).tuples().all()))
    return ids


def record_fetches(
    session: Session,
    results: Sequence[FetchResult],
    now: datetime,
    poll_intervals: Mapping[str, int],
    source_ids: Mapping[str, int] | None = None,
) -> None:
    """Record what each fetch did to its source's health and cursor, in one batch.

    Success (ok, not_modified, unchanged): failures reset to 0, next poll after the source's
    entry in `poll_intervals` (its interval, which the caller may have stretched to honour the
    source's own freshness hint), the kind's new cursor saved as it is (a result without one
    keeps the stored one); `last_error` then holds the fetch's problems (e.g. a malformed feed
    read anyway), if any. Failure: failures + 1, next poll after :func:`failure_delay_s`,
    cursor kept. A source is never disabled: it is polled again, later and later, and
    recovers on success.
    `source_ids`: the sources' ids, when the caller has them (:func:`register_sources`); else
    they are looked up.
    Raises ValueError for a result whose source was never upserted.
    """
    latest = {result.source: result for result in results}
    if not latest:
        return
    now = as_utc(now)
    if any(result.status not in SUCCESS_STATUSES for result in latest.values()):
        _record_with_failures(session, latest, now, poll_intervals)
        return
    ids = _ids_by_name(session, list(latest)) if source_ids is None else source_ids
    _raise_for_unknown(set(latest) - set(ids))
    _write_successes(session, ids, latest, now, poll_intervals)


def _write_successes(
    session: Session,
    ids: Mapping[str, int],
    results: Mapping[str, FetchResult],
    now: datetime,
    poll_intervals: Mapping[str, int],
) -> None:
    rows = [
        _success_row(ids[name], result, now, poll_intervals.get(name, DEFAULT_POLL_INTERVAL_S))
        for name, result in results.items()
    ]
    rows.sort(key=lambda row: row["row_id"])  # one lock order for every writer
    shared = _shared_outcome(rows)
    if shared is None:
        if rows:
            session.execute(_RECORD_SUCCESS, rows)
        return
    # Every row the same outcome (a no-change cycle of sources polled at one interval): one
    # statement per chunk of ids instead of a row of parameters each, whose binding was most
    # of a 1,000-source no-change cycle's store time.
    for part in chunked([row["row_id"] for row in rows]):
        session.execute(_RECORD_SAME_SUCCESS, {**shared, "row_ids": list(part)})


def _shared_outcome(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The parameters every row of a batch of successes shares but its id, when they share all
    of them and keep their cursors (a new cursor is each source's own); else None."""
    if not rows or not rows[0]["keep_cursor"]:
        return None
    shared = {name: value for name, value in rows[0].items() if name != "row_id"}
    for row in rows:
        for name, value in shared.items():
            if row[name] != value:
                return None
    return shared


def _raise_for_unknown(missing: Collection[str]) -> None:
    if missing:
        raise ValueError(f"record_fetches: unknown sources {sorted(missing)}: upsert_sources first")


def _record_with_failures(
    session: Session,
    latest: Mapping[str, FetchResult],
    now: datetime,
    poll_intervals: Mapping[str, int],
) -> None:
    """A batch with a failure: a failure's count and backoff follow the stored count, so the
    batch's rows are read and locked first (all of them, in one order, before any write), then
    the successes written as in a batch of successes and the failures in full."""
    current = _current_health(session, list(latest))
    _raise_for_unknown(set(latest) - set(current))
    ok = {name: r for name, r in latest.items() if r.status in SUCCESS_STATUSES}
    ids = {name: row["id"] for name, row in current.items()}
    _write_successes(session, ids, ok, now, poll_intervals)
    rows = [
        _failure_row(current[name], result, now, poll_intervals.get(name, DEFAULT_POLL_INTERVAL_S))
        for name, result in latest.items()
        if name not in ok
    ]
    rows.sort(key=lambda row: row["id"])  # one lock order for every writer
    session.execute(update(Source), rows)


# A batch of successes needs nothing read: each row's new health follows from the fetch alone,
# the counts and the kept cursor from the row itself. One executemany, no read of the 250 rows
# (most of a no-change cycle's store time was that read and the ORM's bulk update).
_SUCCESS_VALUES = {
    "last_status": bindparam("status"),
    "last_fetch_at": bindparam("now"),
    "last_success_at": bindparam("now"),
    "http_status": bindparam("http"),
    "consecutive_failures": 0,
    "last_error": bindparam("error"),
    "next_due_at": bindparam("due"),
    "cursor": case(
        (bindparam("keep_cursor", type_=Boolean), sources.c.cursor),
        else_=bindparam("new_cursor", type_=sources.c.cursor.type),
    ),
    "items_seen": sources.c.items_seen + bindparam("read", type_=Integer),
}
_RECORD_SUCCESS = update(sources).where(sources.c.id == bindparam("row_id")).values(_SUCCESS_VALUES)
# The same for a chunk of rows that share every parameter but their ids.
_RECORD_SAME_SUCCESS = (
    update(sources)
    .where(sources.c.id.in_(bindparam("row_ids", expanding=True)))
    .values(_SUCCESS_VALUES)
)


def _success_row(
    source_id: int, result: FetchResult, now: datetime, interval_s: int
) -> dict[str, Any]:
    """The parameters of one successful fetch's row in :data:`_RECORD_SUCCESS`."""
    return {
        "row_id": source_id,
        "status": result.status,
        "now": now,
        "http": result.http_status,
        "error": "; ".join(result.problems) or None,
        "due": now + timedelta(seconds=interval_s),
        "keep_cursor": result.cursor is None,
        "new_cursor": None if result.cursor is None else result.cursor.to_json(),
        "read": len(result.articles),
    }


def _current_health(session: Session, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    cols = (
        sources.c.id,
        sources.c.name,
        sources.c.consecutive_failures,
        sources.c.items_seen,
    )
    found: dict[str, dict[str, Any]] = {}
    for part in chunked(sorted(names)):
        # Row locks on PostgreSQL so two runs recording the same source cannot lose a failure.
        query = select(*cols).where(sources.c.name.in_(part)).order_by(sources.c.id)
        for row in session.execute(query.with_for_update()).mappings():
            found[row["name"]] = dict(row)
    return found


def _failure_row(
    old: Mapping[str, Any], result: FetchResult, now: datetime, interval_s: int
) -> dict[str, Any]:
    """The new health of a source whose fetch failed: one more failure, the next poll after
    its backoff, cursor and last success kept (every row has the same keys: one executemany)."""
    failures = old["consecutive_failures"] + 1
    delay = failure_delay_s(interval_s, failures, result.retry_after_s)
    return {
        "id": old["id"],
        "last_status": result.status,
        "last_fetch_at": now,
        "http_status": result.http_status,
        "consecutive_failures": failures,
        "last_error": result.error or "; ".join(result.problems) or "fetch failed",
        "next_due_at": now + timedelta(seconds=delay),
        "items_seen": old["items_seen"] + len(result.articles),
    }


def poll_opens_at(
    next_due_at: datetime, last_fetch_at: datetime | None, consecutive_failures: int
) -> datetime:
    """The earliest time a cycle may poll a source whose next poll is due at `next_due_at`.

    Why not `next_due_at` itself: it is counted from the end of the last fetch, seconds into
    that cycle, while the next cycle checks for due sources seconds into *its* run. With a
    schedule as long as the interval (the shipped `*/10` cron and `poll_interval: 10m`), the
    check comes a moment before the due time whenever this cycle started sooner after its tick
    than the last one fetched, and the source waits a whole extra period: polled every 20
    minutes instead of 10 (measured: every 120 s under `* * * * *` and `1m`).

    So a healthy source opens early by a quarter of its interval, clamped to 30-60 s (and never
    more than half the interval): 30 s for the 1-minute minimum, 60 s for 4 minutes and more.
    The slack absorbs what varies from one cycle to the next: process start-up and the time a
    fetch takes within its cycle (a stalled feed holds later batches for up to its 60 s
    deadline). Neither grows with the interval, hence the bounds in seconds. The 30 s floor:
    under `serve` on a loaded 2-core machine, fetches came 22-49 s after their ticks and up to
    10 s sooner after their tick than the one before, with the check some 5 s before its
    fetch; a quarter of a minute (15 s) would have had no margin left. A fetch that ends more
    than the slack later in its cycle (behind a stalled feed) can still miss the next tick.
    Early polls stay bounded: under a schedule finer than the interval, a source is polled at
    most that slack (30-60 s, half of the 1-minute minimum) sooner than asked.

    Why not a window from the schedule (due if the next poll time falls before the next tick):
    a flow run does not know its schedule (a one-off `run`, a Prefect server's own cron), and
    that window polls early by up to a whole period: a 15-minute source under a 10-minute
    schedule would be polled every 10 minutes.

    A failing source gets no slack: its delay is a backoff or a server's Retry-After, and a
    server that asked to be left alone must not hear from us sooner; at worst the retry comes
    one tick later.
    """
    if consecutive_failures or last_fetch_at is None:
        return next_due_at
    interval_s = (next_due_at - last_fetch_at).total_seconds()
    slack_s = min(
        max(interval_s * DUE_SLACK_FRACTION, DUE_SLACK_MIN_S), DUE_SLACK_MAX_S, interval_s / 2
    )
    return next_due_at - timedelta(seconds=slack_s)


def due_source_names(session: Session, names: Sequence[str], now: datetime) -> list[str]:
    """The names (in the given order) due for a poll at `now`: never fetched, unknown, or whose
    poll has opened (see :func:`poll_opens_at`: a healthy source is due slightly before its
    next poll time, a failing one only once its backoff has passed)."""
    now = as_utc(now)
    opens: dict[str, datetime] = {}
    for part in chunked(list(dict.fromkeys(names))):
        query = select(
            sources.c.name,
            sources.c.next_due_at,
            sources.c.last_fetch_at,
            sources.c.consecutive_failures,
        ).where(sources.c.name.in_(part))
        for name, next_due_at, last_fetch_at, failures in session.execute(query):
            if next_due_at is not None:
                opens[name] = poll_opens_at(next_due_at, last_fetch_at, failures)
    return [name for name in names if (when := opens.get(name)) is None or when <= now]


def source_health(session: Session) -> list[SourceHealth]:
    """Health of every known source, by name."""
    rows = session.scalars(select(Source).order_by(Source.name))
    return [
        SourceHealth(**read_fields(row, _HEALTH_AS_STORED), tags=tuple(row.tags or ()))
        for row in rows
    ]


# What a source's row holds as its SourceHealth does (tags are a JSON list there).
_HEALTH_AS_STORED = same_named_fields(SourceHealth, "tags")
