"""Engines, sessions, locks and schema upgrades for SQLite and PostgreSQL.

SQLite transactions all start with ``BEGIN IMMEDIATE``: a transaction takes the database's single
write lock when it starts, not at its first write. Every read-modify-write (claiming deliveries,
reading candidate developments then applying changes) is therefore serialised across threads and
processes, and no transaction can fail half-way with SQLITE_BUSY because its snapshot went stale.
The price: keep SQLite transactions short, and never hold one open while waiting for another
session of the same database. WAL mode lets connections outside a transaction read meanwhile,
and a transaction that only reads may say so (`READ_ONLY`): it begins DEFERRED, reading one
snapshot without waiting for the write lock.

PostgreSQL runs at READ COMMITTED; the repository takes row locks (``FOR UPDATE [SKIP LOCKED]``)
and transaction-scoped advisory locks (:func:`transaction_lock`) where it needs them.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from core.errors import WatchfloorError
from db.types import json_dumps

if TYPE_CHECKING:
    from alembic.config import Config

_HERE = Path(__file__).resolve().parent
_VERSIONS = _HERE / "migrations" / "versions"
# Alembic's table of the revision a store is at (its default name, which env.py keeps).
_VERSION_TABLE = "alembic_version"
SQLITE_BUSY_TIMEOUT_S = 30.0
# How long a checkpoint waits for readers of an older snapshot: a page being read ends well
# within it; a reader that stays longer only leaves the checkpoint partial.
CHECKPOINT_WAIT_S = 1.0
MIGRATION_LOCK = "watchfloor:migrations"
DETECTION_LOCK = "watchfloor:detection"


class StoreError(WatchfloorError):
    """The store cannot be used as asked: the message names the problem and the fix, and never
    carries a password."""


class DatabaseUrlError(StoreError, ValueError):
    """A database URL Watchfloor cannot use (no scheme, unknown driver, missing driver)."""


SUPPORTED = "use sqlite:///PATH or postgresql://USER@HOST/DB"


def safe_url(url: str | URL) -> str:
    """`url` as it may be shown: the password masked, even when the URL does not parse."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        # Unparseable: anything before an '@' may be credentials.
        return f"***@{url.rsplit('@', 1)[1]}" if "@" in url else url


def parse_database_url(url: str) -> URL:
    """`url` parsed and checked to name a backend Watchfloor supports; DatabaseUrlError if not."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        if "://" not in url and "@" not in url:
            raise DatabaseUrlError(
                f"database URL {url!r} has no scheme: for a SQLite file use sqlite:///{url}"
            ) from None
        raise DatabaseUrlError(
            f"cannot parse database URL {safe_url(url)!r}: {SUPPORTED}"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise DatabaseUrlError(
            f"unsupported database URL {safe_url(parsed)!r} (unknown driver {parsed.drivername!r}):"
            f" {SUPPORTED}"
        )
    if backend == "sqlite" and parsed.host:
        path = "/".join(part for part in (parsed.host, parsed.database) if part)
        raise DatabaseUrlError(
            f"database URL {safe_url(parsed)!r} names a host, which SQLite has not: for a file "
            f"use three slashes, sqlite:///{path}"
        )
    return parsed


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other backends and in-memory databases."""
    parsed = parse_database_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # SQLite URI filename: file:PATH?mode=...
        return Path(database[len("file:") :].split("?", 1)[0]).expanduser()
    return Path(database).expanduser()


def create_engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured for Watchfloor.

    SQLite: the parent directory of the file is created; WAL, ``synchronous=NORMAL``, foreign keys
    on, a 30 s busy timeout and ``BEGIN IMMEDIATE`` transactions (see the module docstring).
    PostgreSQL: ``postgresql://`` and ``postgres://`` URLs use psycopg 3, as does
    ``postgresql+psycopg://``. Extra keyword arguments go to :func:`sqlalchemy.create_engine`.
    A URL Watchfloor cannot use raises DatabaseUrlError.
    """
    parsed = parse_database_url(url)
    try:
        return _create_engine(parsed, **kwargs)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise DatabaseUrlError(
            f"database driver {parsed.drivername!r} is not available ({exc.__class__.__name__}): "
            f"{SUPPORTED}"
        ) from None


def _create_engine(parsed: URL, **kwargs: Any) -> Engine:
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(parsed, json_serializer=json_dumps, **kwargs)
    _ensure_sqlite_parent(parsed)
    engine = sa.create_engine(
        parsed,
        json_serializer=json_dumps,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        **kwargs,
    )
    _configure_sqlite(engine)
    return engine


def check_reachable(engine: Engine) -> None:
    """Open one connection, so an unreachable or refusing server is a one-line StoreError with
    the host, the port and the server's reason (password masked), not a driver traceback."""
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        raise StoreError(unreachable_message(engine.url, exc)) from None


def unreachable_message(url: URL, exc: sa.exc.DBAPIError) -> str:
    """ "cannot reach the database at host:port: reason", with no password in it."""
    reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    if url.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {url.database}: {reason}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"cannot reach the database at {where}: {reason}"


def _ensure_sqlite_parent(url: URL) -> None:
    """Create the directory of a SQLite file so a fresh checkout needs no setup step."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


# Execution options of a connection whose transactions only read (`Session.connection(
# execution_options=READ_ONLY)` first in the transaction). On SQLite such a transaction begins
# DEFERRED: it reads one snapshot without taking the write lock, so it neither waits for a
# writer nor keeps one waiting; it never writes, so it cannot fail on a stale snapshot.
READ_ONLY = {"watchfloor_read_only": True}


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
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        reading = connection.get_execution_options().get("watchfloor_read_only", False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def _switch_to_wal(cursor: Any) -> None:
    """Put the database file in WAL mode, waiting out another process that holds a lock.

    Leaving rollback-journal mode needs an exclusive lock, and SQLite answers "database is
    locked" at once, without its busy handler, while another connection holds a write lock on
    a file still in that mode (two processes opening a fresh database at the same moment).
    WAL is persistent, so only the first opening of a file ever waits here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def checkpoint_wal(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the database file and truncate the log; other
    databases: nothing.

    SQLite only checkpoints automatically in small steps and never shrinks the log, so a
    1,000-feed first poll left a 23 MB `-wal` beside an 86 MB database. A reader in another
    process holding an old snapshot leaves the checkpoint partial (SQLite reports it busy
    without raising); a later run finishes it, so that is not an error. SQLite's busy handler
    would make the checkpoint wait for such a reader as long as any statement waits for a lock
    (SQLITE_BUSY_TIMEOUT_S): a run ending while `watchfloor web` reads would stall that long.
    The checkpoint waits CHECKPOINT_WAIT_S at most.
    """
    if engine.dialect.name != "sqlite":
        return
    # The raw connection, outside SQLAlchemy's transaction: the checkpoint cannot run inside
    # the BEGIN IMMEDIATE that every SQLAlchemy transaction on SQLite opens.
    connection = engine.raw_connection()
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(CHECKPOINT_WAIT_S * 1000)}")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        # The connection goes back to the pool: its statements wait as long as any others.
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        connection.close()


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
    # Alembic is imported where migrations run: importing it costs ~0.1 s of CPU, which
    # commands that only read the store need not pay (they read revisions without it, below).
    from alembic.config import Config

    config = Config(str(_HERE / "alembic.ini"))
    # ConfigParser interpolates '%': escape it in paths.
    config.set_main_option("script_location", str(_HERE / "migrations").replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` (default: the latest).

    Safe when several processes call it at once: the migration runs in one transaction under a
    lock (an advisory lock on PostgreSQL, the write lock on SQLite), and whoever comes second
    finds the schema at head and does nothing. On SQLite, see :func:`migration_transaction`.

    A store already at head is only read (one query), without Alembic: its upgrade would load
    every migration script and its environment to find nothing to do (~0.1 s of CPU, paid by
    every command that opens a store for writing and each of `serve`'s forked runs).
    """
    if revision == "head" and current_revision(engine) == head_revision():
        return
    from alembic import command

    config = alembic_config()
    with migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction holding the migration lock, for Alembic to migrate through.

    SQLite: foreign keys are not enforced while the migrations run, and are checked in full
    before the transaction commits. SQLite changes a table other than by adding a column only
    by rebuilding it (Alembic batch mode: create a copy, fill it, drop the old table, rename
    the copy), and with foreign keys enforced the DROP is an implicit DELETE of every row:
    rows of other tables referring to them fail it ("FOREIGN KEY constraint failed"), and
    ON DELETE actions fire, on the copy too, whose keys already name the table being dropped
    (articles.duplicate_of_id, ON DELETE SET NULL, lost every near-duplicate link that way).
    `PRAGMA defer_foreign_keys` does not help: the actions still fire, and the violations the
    DROP counts are not uncounted by the RENAME, so the commit fails. This is the procedure of
    https://www.sqlite.org/lang_altertable.html ("Making Other Kinds Of Table Schema Changes").
    `PRAGMA foreign_keys` is a no-op inside a transaction, so it is switched off on the DBAPI
    connection before the BEGIN IMMEDIATE, and back on before the connection returns to the
    pool. A migration that leaves a row referring to a missing one raises StoreError and is
    rolled back: the store stays at the revision it was at.
    """
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                transaction_lock(connection, MIGRATION_LOCK)
                yield connection
            return
        _set_sqlite_foreign_keys(connection, enabled=False)
        try:
            with connection.begin():
                before = _revision_of(connection)
                yield connection
                # A start that finds the store at head checks nothing: the check reads every
                # referring row, and every process start passes here.
                if _revision_of(connection) != before:
                    _check_sqlite_foreign_keys(connection, before)
        finally:
            try:
                _set_sqlite_foreign_keys(connection, enabled=True)
            except Exception:
                # Never let a connection without foreign keys back into the pool; the
                # migration's own outcome (committed or raised) is what the caller must see.
                connection.invalidate()


def _set_sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    """Switch foreign key enforcement on `connection` (outside any transaction), and check
    that it took: SQLite silently ignores the pragma inside a transaction."""
    if connection.in_transaction():
        raise RuntimeError("PRAGMA foreign_keys is a no-op inside a transaction")
    # The DBAPI connection, not connection.exec_driver_sql: that would autobegin a SQLAlchemy
    # transaction, whose "begin" hook issues BEGIN IMMEDIATE before the pragma.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:
        raise RuntimeError("the connection was invalidated: no DBAPI connection to set a pragma on")
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if enabled else 'OFF'}")
        (state,) = cursor.execute("PRAGMA foreign_keys").fetchone()
    finally:
        cursor.close()
    if state != int(enabled):
        raise StoreError(f"cannot switch SQLite foreign keys {'on' if enabled else 'off'}")


def _revision_of(connection: Connection) -> str | None:
    """The Alembic revision as `connection` sees it (inside its transaction), or None for an
    empty database: the one row of Alembic's version table, read as Alembic reads it."""
    if not sa.inspect(connection).has_table(_VERSION_TABLE):
        return None
    return connection.execute(
        sa.select(sa.column("version_num")).select_from(sa.table(_VERSION_TABLE))
    ).scalar_one_or_none()


def _check_sqlite_foreign_keys(connection: Connection, before: str | None) -> None:
    """StoreError, which rolls the migration back, if any row refers to a missing row."""
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if not violations:
        return
    shown = "; ".join(
        f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in violations[:5]
    )
    at = before or "none (empty)"
    raise StoreError(
        f"migrating the SQLite store would leave {len(violations)} row(s) referring to missing "
        f"rows ({shown}); nothing was changed, the store stays at revision {at}"
    )


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return _revision_of(connection)


@functools.cache
def _migration_graph() -> dict[str, tuple[str, ...]]:
    """Each migration's revision and the revisions it follows, read once from the scripts'
    `revision` and `down_revision` lines (they are this code's, and do not change while it
    runs). Alembic would import every script, and itself: ~0.1 s of CPU that every command
    reading the store paid to compare two revisions. tests/db checks these against Alembic's."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(_VERSIONS.glob("*.py")):
        if path.name == "__init__.py":
            continue
        values = dict(
            re.findall(r"^(revision|down_revision)\b[^=\n]*=(.+)$", path.read_text(), re.M)
        )
        if "revision" not in values:
            raise RuntimeError(f"{path}: no `revision = ...` line")
        follows = ast.literal_eval(values.get("down_revision", "None").strip())
        revision = ast.literal_eval(values["revision"].strip())
        graph[revision] = (follows,) if isinstance(follows, str) else tuple(follows or ())
    return graph


def head_revision() -> str:
    """The latest schema revision this code knows: the one no other migration follows."""
    graph = _migration_graph()
    followed = {parent for parents in graph.values() for parent in parents}
    heads = [revision for revision in graph if revision not in followed]
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {_VERSIONS}, found {heads}")
    return heads[0]


def known_revisions() -> set[str]:
    """Every schema revision this code knows (a store at another one is newer than the code)."""
    return set(_migration_graph())
