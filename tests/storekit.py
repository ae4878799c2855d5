"""A store opened by URL for a test's look inside: an engine that is disposed of after, and the
rows of one query (what a process under test left behind, read from outside it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from db.engine import create_engine_for


@contextmanager
def engine_at(url: str) -> Iterator[sa.Engine]:
    """Watchfloor's engine for `url`, disposed of afterwards."""
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


def rows_of(url: str, sql: str) -> list[sa.Row[Any]]:
    """The rows `sql` selects in the store at `url`."""
    with engine_at(url) as engine, engine.connect() as connection:
        return list(connection.execute(sa.text(sql)).all())
