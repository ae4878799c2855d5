"""SQLAlchemy 2 typed models: the tables of the store.

The initial Alembic migration (db/migrations/versions/0001_initial.py) creates exactly these
tables; tests/db compare the two on SQLite and PostgreSQL so they cannot drift apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import JSONType, UTCDateTime

# Deterministic constraint names, so migrations can refer to (and drop) them on any backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUS_CHECK = "status IN ('planned', 'occurred', 'cancelled')"
LEVEL_CHECK = "level IN ('low', 'medium', 'high', 'critical')"
ALERT_KINDS = ("new", "status_change")
# `withdrawn`: never to be sent, because an analyst dismissed the development (feedback).
DELIVERY_STATES = ("pending", "sending", "sent", "failed", "withdrawn")
DELIVERY_STATE_CHECK = "state IN ('pending', 'sending', 'sent', 'failed', 'withdrawn')"
# What an analyst's feedback made of a development (NULL: nothing, it is live).
DISMISSALS = ("false_alarm", "merged")
DISMISSAL_CHECK = "dismissed_as IN ('false_alarm', 'merged')"
FEEDBACK_ACTIONS = ("false_alarm", "restore", "merge", "split")
FEEDBACK_ACTION_CHECK = "action IN ('false_alarm', 'restore', 'merge', 'split')"
DETECT_STATE_CHECK = "state IN ('pending', 'done', 'failed')"


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and its naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class Source(Base):
    """A configured source and its health: what happened on the last fetches, when to poll next."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    location: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_fetch_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    http_status: Mapped[int | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None]
    # The kind's own memory of the source (`core.cursor`): a JSON object the store keeps as the
    # kind last returned it and never reads; NULL before the first successful fetch.
    cursor: Mapped[dict[str, Any] | None]
    items_seen: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class ArticleRow(Base):
    """One stored item. `text` and `raw` become NULL when retention purges the body."""

    __tablename__ = "articles"
    __table_args__ = (
        # An item is (source, guid); a changed text under a known guid is its next revision.
        # The constraint settles two processes storing the same item at once.
        UniqueConstraint("source_id", "guid", "revision"),
        # Not unique: a new guid repeating earlier text can be a new event (a flash headline
        # reused for a second launch). content_hash leads so the index also serves the
        # cross-source lookup by hash.
        Index(None, "content_hash", "source_id"),
        Index(None, "source_id", "canonical_url"),
        Index(None, "fetched_at"),
        Index(None, "duplicate_of_id"),
        Index(None, "simhash_band0"),
        Index(None, "simhash_band1"),
        Index(None, "simhash_band2"),
        Index(None, "simhash_band3"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    guid: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    raw: Mapped[dict[str, Any] | None]
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    # SimHash of the text and its four 16-bit bands (core.text.simhash_bands): an exact match
    # on any band finds near-duplicate candidates through an index.
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    simhash_band0: Mapped[int | None]
    simhash_band1: Mapped[int | None]
    simhash_band2: Mapped[int | None]
    simhash_band3: Mapped[int | None]
    # 0 for the first text seen under (source, guid); each changed text is the next revision.
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    # "Now" for the article as the run that stored it read it (its own date, or the replay
    # clock) and whether that is the article's own date: detection reads it against this.
    reference_at: Mapped[datetime | None]
    # The reading's UTC offset in minutes (the publisher's), so detection reads its calendar
    # day, not UTC's: 08:30 in Tokyo is the previous day in UTC.
    reference_offset_min: Mapped[int | None]
    dated: Mapped[bool] = mapped_column(default=True, server_default=true())


class DetectionQueueRow(Base):
    """Where a stored article stands in detection: one row per article, written with it.

    Detection is durable work taken from the store: `pending` until a detect stage analyses
    the article and commits its development changes (then `done`), or records why it could not
    (`failed`, retried when the rules change). `rules_version` is the rules it was read with.

    A table of its own, not columns of `articles`: SQLite writes a changed row whole, so marking
    an article detected in `articles` read and wrote its text and raw entry again (two or three
    overflow pages each, half the I/O of a first poll). The article's key and reading are
    copied here, as stored and never changed, so the queue is read in order by walking its
    index and a chunk's reading comes from this row, not from past the article's raw entry.
    """

    __tablename__ = "detection_queue"
    __table_args__ = (CheckConstraint(DETECT_STATE_CHECK, name="state"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), server_default="pending")
    rules_version: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # Copies of the article's (articles.reference_at, reference_offset_min, dated, and key).
    reference_at: Mapped[datetime | None]
    reference_offset_min: Mapped[int | None]
    dated: Mapped[bool]
    guid: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int]
    revision: Mapped[int]


# The queue in the order it is read: by reference time, dated before undated, equals in key
# order (storing order follows fetch timing). `dated` descends as the queue reads it, so a chunk
# is read by walking the index, with no sort.
Index(
    "ix_detection_queue_order",
    DetectionQueueRow.state,
    DetectionQueueRow.reference_at,
    DetectionQueueRow.dated.desc(),
    DetectionQueueRow.guid,
    DetectionQueueRow.source_id,
    DetectionQueueRow.revision,
)
# The queue in storing order, as the analysis ahead of it reads it (`db.awaiting_after`).
Index("ix_detection_queue_state_article_id", DetectionQueueRow.state, DetectionQueueRow.article_id)


class DevelopmentRow(Base):
    """One real-world event. `version` grows with every update (optimistic concurrency)."""

    __tablename__ = "developments"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint(LEVEL_CHECK, name="level"),
        CheckConstraint(DISMISSAL_CHECK, name="dismissed_as"),
        Index(None, "category", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    background: Mapped[bool] = mapped_column(default=False, server_default=false())
    title: Mapped[str] = mapped_column(Text)
    event_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(Text)
    actors: Mapped[list[Any]] = mapped_column(default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    level: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Sorted region names: from the actors and places, and the sources' `region:` tags.
    regions: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    # An analyst's verdict (db/feedback.py): a false alarm never alerts again and a merged
    # development points at the one it was merged into; both leave the default views, and
    # later reports still join them (silently) rather than start a new development.
    dismissed_as: Mapped[str | None] = mapped_column(String(16))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("developments.id"))


class EvidenceRow(Base):
    """One rule firing on one article, attached to a development."""

    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("development_id", "article_id", "rule_id"),
        CheckConstraint("status_seen IN ('planned', 'occurred', 'cancelled')", name="status_seen"),
        Index(None, "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    rule_id: Mapped[str] = mapped_column(String(128))
    terms: Mapped[list[Any]] = mapped_column(default=list)
    snippet: Mapped[str] = mapped_column(Text, default="")
    status_seen: Mapped[str] = mapped_column(String(16))
    background: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]


class AlertRow(Base):
    """The outbox: one row per new development and per status change, written with the change.

    `rule_id`/`terms` record why this alert fired (the change's evidence), which the development's
    latest evidence may no longer say by the time the alert is sent.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        # One alert per status reached, and one "new" alert per development (partial unique
        # index): reruns and retried tasks cannot alert twice.
        UniqueConstraint("development_id", "kind", "status"),
        Index(
            "uq_alerts_one_new_per_development",
            "development_id",
            unique=True,
            sqlite_where=text("kind = 'new'"),
            postgresql_where=text("kind = 'new'"),
        ),
        CheckConstraint("kind IN ('new', 'status_change')", name="kind"),
        CheckConstraint(STATUS_CHECK, name="status"),
        Index(None, "routed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(16))
    rule_id: Mapped[str | None] = mapped_column(String(128))
    terms: Mapped[list[Any] | None]
    # The development as this change left it, and the evidence articles it had then: the
    # message says what was known when it happened, not what later articles added.
    snapshot: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    routed_at: Mapped[datetime | None]
    unrouted: Mapped[bool] = mapped_column(default=False, server_default=false())


class DeliveryRow(Base):
    """The delivery ledger: one row per (alert, target). `target_key` is a hash, never the URL."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "target_key"),
        CheckConstraint(DELIVERY_STATE_CHECK, name="state"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    target_key: Mapped[str] = mapped_column(String(128))
    target_display: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    # Who holds the claim (host, pid and process start): a claim whose process is gone is taken
    # over by the next run at once instead of waiting for the lease to lapse.
    claimed_by: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class FeedbackRow(Base):
    """One analyst action on developments, who took it and when (the learning record).

    `details` says what it did: the evidence moved (ids and their articles), the deliveries
    withdrawn, the development a split created; `target_id` is a merge's target or a split's
    new development.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(FEEDBACK_ACTION_CHECK, name="action"),
        Index(None, "development_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    development_id: Mapped[int] = mapped_column(ForeignKey("developments.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("developments.id"))
    actor: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class LockRow(Base):
    """A named lease held across transactions (e.g. one monitor run at a time, on any machine)."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


def _table_of(model: type[Base]) -> Table:
    """The Table a model maps: SQLAlchemy types `__table__` as any FromClause, since a class
    may map a join or a select; each model here declares a table of its own."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


sources = _table_of(Source)
articles = _table_of(ArticleRow)
detection_queue = _table_of(DetectionQueueRow)
developments = _table_of(DevelopmentRow)
evidence = _table_of(EvidenceRow)
alerts = _table_of(AlertRow)
deliveries = _table_of(DeliveryRow)
locks = _table_of(LockRow)
feedback = _table_of(FeedbackRow)

# Evidence with the article it cites and that article's outlet: what every evidence list reads.
evidence_join = evidence.join(articles, articles.c.id == evidence.c.article_id).join(
    sources, sources.c.id == articles.c.source_id
)
