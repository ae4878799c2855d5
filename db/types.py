"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# JSONB on PostgreSQL (indexable, compact); SQLite stores JSON as text. Python None is SQL NULL
# (not the JSON literal null), so "IS NULL" finds purged or absent values.
JSONType: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    JSONB(none_as_null=True), "postgresql"
)


def json_dumps(value: Any) -> str:
    """Serialise JSON columns; unknown types (dates, struct_time members) become strings.

    Feed `raw` fields and rule facts may carry dates or other objects that `json` refuses; a
    stored string is better than a failed batch.
    """
    return json.dumps(value, ensure_ascii=False, default=str)


def as_utc(value: datetime) -> datetime:
    """`value` converted to UTC. Naive datetimes are refused: they are a bug at the caller."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores `timestamptz`. SQLite has no timestamp type: SQLAlchemy stores text and
    returns naive datetimes, so values are stored as naive UTC (one fixed format, so text order
    is time order) and come back with `tzinfo=UTC`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
