"""Engines, sessions, locks and schema upgrades for SQLite and PostgreSQL.

SQLite transactions all start with ``BEGIN IMMEDIATE``: a transaction takes the database's single
write lock when it starts, not at its first write. Every read-modify-write (claiming deliveries,
reading candidate developments then applying changes) is therefore serialised across threads and
processes, and no transaction can fail half-way with SQLITE_BUSY because its snapshot went stale.
The price: keep SQLite transactions short, and never hold one open while waiting for another
session of the same database. WAL mode lets connections outside a transaction read meanwhile.

PostgreSQL runs at READ COMMITTED; the repository takes row locks (``FOR UPDATE [SKIP LOCKED]``)
and transaction-scoped advisory locks (:func:`transaction_lock`) where it needs them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from db.types import json_dumps

_HERE = Path(__file__).resolve().parent
SQLITE_BUSY_TIMEOUT_S = 30.0
MIGRATION_LOCK = "watchfloor:migrations"
DETECTION_LOCK = "watchfloor:detection"


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured for Watchfloor.

    SQLite: the parent directory of the file is created; WAL, ``synchronous=NORMAL``, foreign keys
    on, a 30 s busy timeout and ``BEGIN IMMEDIATE`` transactions (see the module docstring).
    PostgreSQL: ``postgresql://`` and ``postgres://`` URLs use psycopg 3, as does
    ``postgresql+psycopg://``. Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(parsed, json_serializer=json_dumps, **kwargs)
    if backend == "sqlite":
        _ensure_sqlite_parent(parsed)
        engine = sa.create_engine(
            parsed,
            json_serializer=json_dumps,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    shown = parsed.render_as_string(hide_password=True)
    raise ValueError(
        f"unsupported database URL {shown!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def _ensure_sqlite_parent(url: URL) -> None:
    """Create the directory of a SQLite file so a fresh checkout needs no setup step."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    """Pragmas on every new connection, and SQLAlchemy-issued ``BEGIN IMMEDIATE``."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # sqlite3's legacy transaction handling would BEGIN lazily (DEFERRED) on first write;
        # take transaction control so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL needs a lock another process may hold.
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory for `engine`. Objects stay readable after commit (no expiry)."""
    return sessionmaker(engine, expire_on_commit=False)


def dialect_name(session: Session | Connection) -> str:
    """``"sqlite"`` or ``"postgresql"`` for the database behind `session`."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.dialect.name


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a PostgreSQL advisory lock named `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def transaction_lock(session: Session | Connection, name: str) -> None:
    """Hold the store-wide lock `name` until the current transaction ends.

    PostgreSQL: ``pg_advisory_xact_lock`` (waits for another holder; released at commit or
    rollback). SQLite: nothing to do, a transaction already holds the database write lock from
    its ``BEGIN IMMEDIATE``.
    """
    if dialect_name(session) == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(name))))


def alembic_config() -> Config:
    """The packaged Alembic configuration, with absolute paths so any working directory works."""
    config = Config(str(_HERE / "alembic.ini"))
    # ConfigParser interpolates '%': escape it in paths.
    config.set_main_option("script_location", str(_HERE / "migrations").replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (default: the latest).

    Safe when several processes call it at once: the migration runs in one transaction under a
    lock (an advisory lock on PostgreSQL, the write lock on SQLite), and whoever comes second
    finds the schema at head and does nothing.
    """
    config = alembic_config()
    with engine.begin() as connection:
        transaction_lock(connection, MIGRATION_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
