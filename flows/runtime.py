"""Per-process resources shared by tasks: one engine per database URL, migrated once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import db

_upgrade_lock = threading.Lock()
_upgraded: set[str] = set()


@cache
def engine_for(url: str) -> Engine:
    """The process's engine for `url`, created once (tasks run in threads of one process)."""
    return db.create_engine_for(url)


def ensure_schema(url: str) -> None:
    """Apply migrations once per process, so the SQLite default upgrades itself at start."""
    with _upgrade_lock:
        if url in _upgraded:
            return
        db.upgrade(engine_for(url))
        _upgraded.add(url)


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine_for(url))


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on error."""
    ensure_schema(url)
    with _sessions(url)() as session, session.begin():
        yield session
