"""Per-process resources: one engine per database URL, migrated once.

Commands that write (replay, run, db upgrade) open the store with `transaction`, which creates
and migrates it on first use. Commands that only read use `read_transaction`, which never
creates a file, a folder or a table: a missing store, or one behind this code's schema, is a
StoreError telling the user which command to run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import db
from db.engine import (
    READ_ONLY,
    StoreError,
    check_reachable,
    head_revision,
    known_revisions,
    safe_url,
    sqlite_file,
)

_upgrade_lock = threading.Lock()
_upgraded: set[str] = set()


@cache
def engine_for(url: str) -> Engine:
    """The process's engine for `url`, created once (tasks run in threads of one process)."""
    return db.create_engine_for(url)


def ensure_schema(url: str) -> None:
    """Apply migrations once per process, so the SQLite default upgrades itself at start (a
    store at head is only read: `db.upgrade`). An unusable URL or an unreachable server is a
    StoreError naming it (password masked)."""
    with _upgrade_lock:
        if url in _upgraded:
            return
        engine = engine_for(url)
        check_reachable(engine)
        db.upgrade(engine)
        _upgraded.add(url)


def require_store(url: str) -> None:
    """Check, without creating anything, that a store at head exists at `url`; StoreError if not."""
    missing = (
        f"no store at {safe_url(url)}: run `watchfloor replay` or `watchfloor db upgrade` first"
    )
    path = sqlite_file(url)
    # Checked before any engine exists: connecting to a missing SQLite file creates it.
    if path is not None and not path.is_file():
        raise StoreError(missing)
    engine = engine_for(url)
    check_reachable(engine)
    revision = db.current_revision(engine)
    if revision is None:
        raise StoreError(missing)
    head = head_revision()
    if revision == head:
        return
    if revision in known_revisions():
        raise StoreError(
            f"the store at {safe_url(url)} is at schema {revision}, this Watchfloor needs {head}: "
            "run `watchfloor db upgrade`"
        )
    raise StoreError(
        f"the store at {safe_url(url)} is at schema {revision}, unknown to this Watchfloor "
        "(written by a newer version?): upgrade Watchfloor"
    )


def checkpoint(url: str) -> None:
    """End of a run: fold SQLite's write-ahead log into the database (see db.checkpoint_wal)."""
    db.checkpoint_wal(engine_for(url))


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine_for(url))


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session inside one transaction: committed on success, rolled back on error. Creates
    and migrates the store on first use."""
    ensure_schema(url)
    with _sessions(url)() as session, session.begin():
        yield session


@contextmanager
def snapshot(url: str) -> Iterator[Session]:
    """A transaction that only reads (`db.engine.READ_ONLY`): on SQLite it neither waits for
    the write lock nor keeps a writer waiting. Creates and migrates the store on first use."""
    ensure_schema(url)
    with _sessions(url)() as session, session.begin():
        session.connection(execution_options=READ_ONLY)
        yield session


@contextmanager
def read_transaction(url: str) -> Iterator[Session]:
    """A transaction on an existing, up-to-date store; never creates one (see require_store)."""
    require_store(url)
    with _sessions(url)() as session, session.begin():
        yield session
