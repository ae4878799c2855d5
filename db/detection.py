"""The detection queue: stored articles awaiting detection, taken in bounded chunks.

Detection is durable work taken from the store, like the alert outbox. The store queues every
article it writes (`detection_queue`, state `pending`); a detect stage (of whichever run) takes
the oldest pending articles, analyses them and, in the SAME transaction as their development
changes and alerts, marks them `done`, or `failed` with the error and the rules version when
their analysis raised. A run killed anywhere leaves its articles pending for the next one; none
is detected twice. Failed articles are taken again when the rules change (another rules
version), or on request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from db._sql import chunked, is_postgres
from db.models import articles, detection_queue, sources

# An error message is kept short enough to read in a table and to store on any backend.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class QueuedArticle:
    """A stored article awaiting detection, with the reading its run recorded."""

    id: int
    source: str
    guid: str
    title: str
    text: str
    reference: datetime | None
    dated: bool
    # With the guid, the article's place among articles reported at the same moment.
    source_id: int
    revision: int


@dataclass(frozen=True, slots=True)
class FailedArticle:
    """An article whose analysis raised: what, with which rules, and where it came from."""

    id: int
    source: str
    guid: str
    title: str
    error: str
    rules_version: str | None
    fetched_at: datetime


def _awaiting(rules_version: str) -> ColumnElement[bool]:
    """Pending articles, and failed ones read with other rules (the new rules may cope)."""
    return or_(_pending(), _retry(rules_version))


def _pending() -> ColumnElement[bool]:
    return detection_queue.c.state == "pending"


def _retry(rules_version: str) -> ColumnElement[bool]:
    """Failed articles read with other rules than `rules_version`."""
    q = detection_queue.c
    other_rules = or_(q.rules_version.is_(None), q.rules_version != rules_version)
    return and_(q.state == "failed", other_rules)


def pending_detection(session: Session, rules_version: str, limit: int) -> list[QueuedArticle]:
    """The first `limit` articles awaiting detection under `rules_version`, in time order: by
    reference time, dated before undated at the same time, then by guid (and source, and
    revision). So a run detects in the order events were reported, however its
    articles were cut into batches, and articles reported at one moment in the same order
    whichever feed answered first: storing order follows fetch timing, and detection joins
    reports to developments one at a time, so an order that followed it would group one run's
    reports differently from the next's.

    Articles without a reading sort as the database sorts a missing value: first on SQLite,
    last on PostgreSQL (each walks its index in its own order).

    Call it inside the transaction that takes the detection lock and then marks the same
    articles: two runs cannot take one article, and a rolled-back chunk stays pending.
    """
    # Two queries, each walking the queue index in order and stopping at `limit`: one query
    # with OR makes the database sort every waiting row for each chunk.
    pending = _queued(session, _pending(), limit)
    retried = _queued(session, _retry(rules_version), limit)
    if not pending or not retried:  # the usual case: the database's own order, as it is
        return pending or retried
    key = _queue_order(unread_first=not is_postgres(session))
    return sorted([*pending, *retried], key=key)[:limit]


# Time order, then a place among equals that does not depend on when each article was stored.
_QUEUE_ORDER = (
    detection_queue.c.reference_at,
    detection_queue.c.dated.desc(),
    detection_queue.c.guid,
    detection_queue.c.source_id,  # ids follow storing order too; tie only on a shared guid
    detection_queue.c.revision,
)


def take_awaiting(session: Session, rules_version: str, ids: Collection[int]) -> set[int]:
    """Mark those of `ids` that still await detection under `rules_version` (not taken by
    another run since they were read) detected with it, and return them.

    One UPDATE ... RETURNING per slice: reading the states first and writing them after would
    read each row twice. The caller's transaction writes the taken articles' changes too, and
    `mark_failed` turns those whose analysis raised into failures.
    """
    taken: set[int] = set()
    for part in chunked(sorted(ids)):
        query = (
            update(detection_queue)
            .where(detection_queue.c.article_id.in_(part), _awaiting(rules_version))
            .values(state="done", rules_version=rules_version, error=None)
            .returning(detection_queue.c.article_id)
        )
        taken.update(session.execute(query).scalars())
    return taken


def _queued(
    session: Session, condition: Any, limit: int, order: Any = _QUEUE_ORDER
) -> list[QueuedArticle]:
    q = detection_queue.c
    query = (
        select(
            q.article_id,
            sources.c.name,
            q.source_id,
            q.guid,
            q.revision,
            articles.c.title,
            articles.c.text,
            q.reference_at,
            q.reference_offset_min,
            q.dated,
        )
        .select_from(detection_queue)
        .join(articles, articles.c.id == q.article_id)
        .join(sources, sources.c.id == q.source_id)
        .where(condition)
        .order_by(*order)
        .limit(limit)
    )
    return [
        QueuedArticle(
            id_,
            source,
            guid,
            title or "",
            text or "",
            _local(reference, offset),
            bool(dated),
            source_id,
            revision,
        )
        for id_, source, source_id, guid, revision, title, text, reference, offset, dated in (
            session.execute(query).tuples()
        )
    ]


def awaiting_after(
    session: Session, rules_version: str, after_id: int, limit: int
) -> list[QueuedArticle]:
    """The first `limit` articles awaiting detection under `rules_version` whose store id is
    above `after_id`, in id order (storing order), read as `pending_detection` reads them: for
    work done ahead of the queue (`flows.stages.ahead`), which takes nothing.

    Two queries, each walking the (state, id) index from `after_id` and stopping at `limit`:
    with OR the database collected every waiting article after `after_id`, text included, and
    sorted them for each read (a replay read 200 at a time re-read what it stored, ~0.1 ms an
    article each time).
    """
    after = detection_queue.c.article_id > after_id
    by_id = (detection_queue.c.article_id,)
    found = [
        *_queued(session, and_(_pending(), after), limit, order=by_id),
        *_queued(session, and_(_retry(rules_version), after), limit, order=by_id),
    ]
    return sorted(found, key=lambda item: item.id)[:limit]


def _local(reference: datetime | None, offset_min: int | None) -> datetime | None:
    """The stored reading in the offset its run read it in (UTC when none was kept)."""
    if reference is None or offset_min is None:
        return reference
    try:
        return reference.astimezone(timezone(timedelta(minutes=offset_min)))
    except (OverflowError, ValueError):  # at the calendar's edge: keep the UTC reading
        return reference


def _queue_order(
    unread_first: bool,
) -> Callable[[QueuedArticle], tuple[bool, datetime, bool, str, int, int]]:
    """The order of `_queued`'s ORDER BY, with a missing reference first or last as the
    database sorts it (SQLite first, PostgreSQL last)."""

    def key(item: QueuedArticle) -> tuple[bool, datetime, bool, str, int, int]:
        unread = item.reference is None
        return (
            not unread if unread_first else unread,
            item.reference or datetime.min.replace(tzinfo=UTC),
            not item.dated,
            item.guid,
            item.source_id,
            item.revision,
        )

    return key


def count_pending_detection(session: Session, rules_version: str) -> int:
    """How many articles await detection under `rules_version`."""
    query = select(func.count()).select_from(detection_queue).where(_awaiting(rules_version))
    return int(session.scalar(query) or 0)


def mark_failed(session: Session, errors: Mapping[int, str], rules_version: str) -> None:
    """Record why each article's analysis failed, so it is skipped now and listed for people."""
    for article_id, error in sorted(errors.items()):
        session.execute(
            update(detection_queue)
            .where(detection_queue.c.article_id == article_id)
            .values(state="failed", rules_version=rules_version, error=error[:MAX_ERROR_CHARS])
        )


def failed_articles(session: Session, limit: int | None = None) -> list[FailedArticle]:
    """Articles whose analysis failed, oldest first."""
    q = detection_queue.c
    query = (
        select(
            q.article_id,
            sources.c.name,
            q.guid,
            articles.c.title,
            q.error,
            q.rules_version,
            articles.c.fetched_at,
        )
        .select_from(detection_queue)
        .join(articles, articles.c.id == q.article_id)
        .join(sources, sources.c.id == q.source_id)
        .where(q.state == "failed")
        .order_by(q.reference_at.asc().nulls_first(), q.dated.desc(), q.article_id)
        .limit(limit)
    )
    return [FailedArticle(*row) for row in session.execute(query).tuples()]


def requeue_failed(session: Session, ids: Collection[int] | None = None) -> int:
    """Put failed articles (all, or `ids`) back in the queue; return how many."""
    stmt = update(detection_queue).where(detection_queue.c.state == "failed")
    if ids is not None:
        stmt = stmt.where(detection_queue.c.article_id.in_(sorted(ids)))
    # An UPDATE returns a CursorResult; Session.execute is typed with the Result it extends.
    result = cast(CursorResult[Any], session.execute(stmt.values(state="pending")))
    return int(result.rowcount or 0)
