"""Small SQL helpers shared by the repository modules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.engine import dialect_name

T = TypeVar("T")

# Bound parameters per IN (...) list: far below SQLite's 32,766 variables and psycopg's 65,535.
IN_CHUNK = 900


def insert_for(session: Session, table: Table) -> Any:
    """The dialect's own INSERT (with ``on_conflict_do_nothing``) for `table`."""
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {name!r}")


def is_postgres(session: Session) -> bool:
    """True when `session` talks to PostgreSQL (row locks, SKIP LOCKED and advisory locks)."""
    return dialect_name(session) == "postgresql"


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def same_named_fields(record: type, *converted: str) -> tuple[str, ...]:
    """The fields of dataclass `record` that a row holds as they are, under the same names: all
    but `converted`, which the caller builds itself (a JSON list read back as a tuple, say)."""
    return tuple(f.name for f in fields(record) if f.name not in converted)


def read_fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    """The attributes `names` of `row` (an ORM object or a result row), by name."""
    return {name: getattr(row, name) for name in names}
