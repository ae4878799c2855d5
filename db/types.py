"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# JSONB on PostgreSQL (indexable, compact); SQLite stores JSON as text. Python None is SQL NULL
# (not the JSON literal null), so "IS NULL" finds purged or absent values.
JSONType: TypeEngine[Any] = JSON(none_as_null=True).with_variant(
    JSONB(none_as_null=True), "postgresql"
)


# What orjson would write its own way goes to `default` (str), as with `json`: dates and times
# as str() writes them, dataclasses as their repr.
_ORJSON_AS_JSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_dumps(value: Any) -> str:
    """Serialise JSON columns; unknown types (dates, struct_time members) become strings.

    Feed `raw` fields and rule facts may carry dates or other objects that `json` refuses; a
    stored string is better than a failed batch.

    orjson first: every stored article has its `raw` feed entry serialised, ~36 µs each with
    `json` (~0.3 CPU-s of a 10,000-article first poll, in the storing thread), ~5 µs with
    orjson. It writes the same values (without `json`'s spaces) but for a float NaN or
    infinity, which it writes as null where `json` wrote `NaN`, text that is no JSON and that
    PostgreSQL refuses. What orjson cannot write (an integer beyond 64 bits, a lone surrogate,
    a non-text key, nesting beyond 254 levels) `json` writes as before.
    """
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_AS_JSON).decode()
    except (orjson.JSONEncodeError, TypeError):
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
