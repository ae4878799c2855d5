"""Engine set-up and Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from adapters import FetchContext, get_adapter
from core.model import SourceSpec
from db import checkpoint_wal, create_engine_for, current_revision, register_sources, upgrade
from db.engine import (
    SQLITE_BUSY_TIMEOUT_S,
    StoreError,
    alembic_config,
    known_revisions,
    migration_transaction,
)
from db.engine import head_revision as engine_head_revision
from db.models import Base
from tests.adapters.feedserver import FeedServer
from tests.storekit import engine_at

TABLES = {"sources", "articles", "developments", "evidence", "alerts", "deliveries"}


def test_upgrade_from_empty_then_again_is_a_noop(empty_url: str) -> None:
    with engine_at(empty_url) as engine:
        assert current_revision(engine) is None
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        head = current_revision(engine)
        assert head == head_revision()
        upgrade(engine)  # a second start must change nothing
        assert current_revision(engine) == head


def test_migrations_match_the_models_exactly(empty_url: str) -> None:
    """The `alembic check` comparison: the migrated schema has no drift from db/models.py."""
    with engine_at(empty_url) as engine:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []


def head_revision() -> str:
    """The newest migration in db/migrations/versions."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_revisions_are_read_from_the_scripts_as_alembic_reads_them() -> None:
    """db.engine reads the head and the known revisions without importing Alembic."""
    scripts = ScriptDirectory.from_config(alembic_config())
    assert engine_head_revision() == scripts.get_current_head()
    assert known_revisions() == {script.revision for script in scripts.walk_revisions()}


def downgrade_in_process(engine: Engine, revision: str) -> None:
    """Alembic's downgrade to `revision` on `engine`, as `db.upgrade` runs migrations."""
    from alembic import command

    config = alembic_config()
    with migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    with engine_at(empty_url) as engine:
        upgrade(engine)
        downgrade_in_process(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current_revision(engine) == head_revision()


def test_upgrade_works_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with engine_at(f"sqlite:///{tmp_path / 'a' / 'b' / 'deep.db'}") as engine:
        upgrade(engine)  # also created the missing parent directories
        assert current_revision(engine) == head_revision()


def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    with engine_at(f"sqlite:///{tmp_path / 'p.db'}") as engine, engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30000


def test_switching_to_wal_waits_for_a_writer_in_another_connection(tmp_path: Path) -> None:
    """SQLite refuses the journal switch at once, busy handler or not, while another
    connection writes to a fresh rollback-journal file: two processes opening one new store."""
    path = tmp_path / "fresh.db"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    release.start()
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        release.join()
        engine.dispose()
        writer.close()


def write_rows(engine: Engine, rows: int) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES (?)", [("x" * 1000,) for _ in range(rows)])


def test_a_checkpoint_folds_the_write_ahead_log_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with engine_at(f"sqlite:///{path}") as engine:
        write_rows(engine, 2_000)
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 1_000_000  # SQLite alone leaves the log at its largest
        checkpoint_wal(engine)
        assert wal.stat().st_size == 0
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2_000
    with sqlite3.connect(path) as bare:  # the rows are in the database file itself
        assert bare.execute("SELECT count(*) FROM t").fetchone() == (2_000,)


def test_a_checkpoint_beside_a_reader_is_partial_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with engine_at(f"sqlite:///{path}") as engine, closing(sqlite3.connect(path)) as reader:
        reader.isolation_level = None
        write_rows(engine, 10)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (10,)  # holds a snapshot
        write_rows(engine, 10)
        # Cannot truncate past the reader's snapshot: no exception, and no wait for the reader
        # to finish (it finishes only after the checkpoint has ended, or the wait has run out).
        checkpoint = threading.Thread(target=checkpoint_wal, args=(engine,))
        checkpoint.start()
        checkpoint.join(timeout=SQLITE_BUSY_TIMEOUT_S / 2)
        ended_beside_the_reader = not checkpoint.is_alive()
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (10,)
        reader.execute("COMMIT")
        checkpoint.join()
        assert ended_beside_the_reader
        with engine.connect() as connection:  # the pooled connection waits for locks again
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert timeout == SQLITE_BUSY_TIMEOUT_S * 1000
        checkpoint_wal(engine)
        assert Path(f"{path}-wal").stat().st_size == 0


def test_a_checkpoint_on_postgresql_does_nothing(pg_url: str) -> None:
    with engine_at(pg_url) as engine:
        checkpoint_wal(engine)
        with engine.connect() as connection:
            assert connection.execute(text("select 1")).scalar() == 1


def test_postgresql_urls_use_psycopg(pg_server: str) -> None:
    bare = pg_server.replace("postgresql+psycopg://", "postgresql://")
    for url in (bare, pg_server, bare.replace("postgresql://", "postgres://")):
        engine = create_engine_for(url)
        try:
            assert engine.dialect.driver == "psycopg"
            with engine.connect() as connection:
                assert connection.execute(text("select 1")).scalar() == 1
        finally:
            engine.dispose()


def test_unsupported_url_is_refused_without_leaking_the_password() -> None:
    with pytest.raises(ValueError, match="unsupported database URL") as err:
        create_engine_for("mysql://user:s3cret@host/db")
    assert "s3cret" not in str(err.value)


def test_alembic_command_line_config_is_packaged() -> None:
    config = alembic_config()
    assert Path(config.get_main_option("script_location") or "").is_dir()
    assert Path(config.config_file_name or "").is_file()


# --- Upgrading a store that holds rows ------------------------------------------------------
#
# A store is upgraded from every revision it can be found at, holding rows in every table, and
# every row must come through unchanged. On SQLite a table rebuild (Alembic batch mode: create
# a copy, drop the old table, rename) done with foreign keys enforced either fails outright
# (the rows referring to the dropped table) or, worse, silently fires ON DELETE actions:
# articles.duplicate_of_id (ON DELETE SET NULL) lost every near-duplicate link in 0004.

REVISIONS = [
    script.revision
    for script in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))
]
T1 = datetime(2026, 1, 28, 9, 0, tzinfo=UTC)

# Rows for every table, with a value for every column the table has ever had: a store at an
# older revision gets the columns that exist there (the rest come from the migrations). Two
# rows per table at least, linked the way the app links them: a near-duplicate article, the
# evidence of two developments, a new and a status-change alert, deliveries in several states.
ROWS: dict[str, list[dict[str, Any]]] = {
    "sources": [
        {
            "id": 1,
            "name": "yonhap",
            "kind": "rss",
            "location": "https://yonhap.example/feed",
            "tags": ["region:kr", "lang:en"],
            "last_status": "ok",
            "last_fetch_at": T1,
            "last_success_at": T1,
            "http_status": 200,
            "consecutive_failures": 0,
            "last_error": None,
            "next_due_at": T1 + timedelta(minutes=5),
            "etag": '"abc"',
            "last_modified": "Wed, 28 Jan 2026 09:00:00 GMT",
            "body_hash": "b" * 64,
            "feed_ttl_s": 2700,
            "items_seen": 42,
            # Up to 0008 the four columns above; from 0009 the same values in the kind's cursor.
            "cursor": {
                "etag": '"abc"',
                "last_modified": "Wed, 28 Jan 2026 09:00:00 GMT",
                "body_hash": "b" * 64,
                "feed_ttl_s": 2700,
            },
        },
        {
            "id": 2,
            "name": "kcna-watch",
            "kind": "rss",
            "location": "https://kcna.example/feed",
            "tags": [],
            "last_status": "error",
            "last_fetch_at": T1,
            "last_success_at": None,
            "http_status": 503,
            "consecutive_failures": 3,
            "last_error": "HTTP 503",
            "next_due_at": T1 + timedelta(hours=1),
            "etag": None,
            "last_modified": None,
            "body_hash": None,
            "feed_ttl_s": None,
            "items_seen": 7,
            "cursor": None,
        },
    ],
    "articles": [
        {
            "id": 1,
            "source_id": 1,
            "guid": "yonhap-1",
            "url": "https://yonhap.example/news/1",
            "canonical_url": "https://yonhap.example/news/1",
            "title": "North Korea fires ballistic missile",
            "text": "North Korea fired a ballistic missile into the East Sea on Wednesday.",
            "published_at": T1 - timedelta(minutes=30),
            "fetched_at": T1,
            "content_hash": "1" * 64,
            "raw": {"id": "yonhap-1", "tags": ["defence"]},
            "duplicate_of_id": None,
            "simhash": -6_148_914_691_236_517_206,  # a signed 64-bit value, high bit set
            "simhash_band0": 43690,
            "simhash_band1": 21845,
            "simhash_band2": 43690,
            "simhash_band3": 21845,
            "revision": 0,
            "detect_state": "done",
            "rules_version": "r1",
            "detect_error": None,
            "reference_at": T1,
            "dated": True,
            "reference_offset_min": 540,
        },
        {
            "id": 2,
            "source_id": 2,
            "guid": "kcna-9",
            "url": "https://kcna.example/9",
            "canonical_url": "https://kcna.example/9",
            "title": "Missile launched into the East Sea",
            "text": "A ballistic missile was fired into the East Sea, officials said.",
            "published_at": T1 - timedelta(minutes=20),
            "fetched_at": T1 + timedelta(seconds=5),
            "content_hash": "2" * 64,
            "raw": None,
            "duplicate_of_id": 1,  # a near-duplicate wire copy: the link that was lost
            "simhash": 6_148_914_691_236_517_205,
            "simhash_band0": 21845,
            "simhash_band1": 43690,
            "simhash_band2": 21845,
            "simhash_band3": 43690,
            "revision": 0,
            "detect_state": "failed",
            "rules_version": "r1",
            "detect_error": "ValueError: bad date",
            "reference_at": T1 + timedelta(seconds=5),
            "dated": False,
            "reference_offset_min": None,
        },
        {
            "id": 3,
            "source_id": 1,
            "guid": "yonhap-2",
            "url": None,
            "canonical_url": None,
            "title": "Summit planned for March",
            "text": None,
            "published_at": None,
            "fetched_at": T1 + timedelta(seconds=10),
            "content_hash": "3" * 64,
            "raw": {},
            "duplicate_of_id": None,
            "simhash": None,
            "simhash_band0": None,
            "simhash_band1": None,
            "simhash_band2": None,
            "simhash_band3": None,
            "revision": 0,
            "detect_state": "pending",
            "rules_version": None,
            "detect_error": None,
            "reference_at": None,
            "dated": True,
            "reference_offset_min": -300,
        },
    ],
    # From 0012 the queue's state, with copies of the article's key and reading.
    "detection_queue": [
        {
            "article_id": 1,
            "state": "done",
            "rules_version": "r1",
            "error": None,
            "reference_at": T1,
            "reference_offset_min": 540,
            "dated": True,
            "guid": "yonhap-1",
            "source_id": 1,
            "revision": 0,
        },
        {
            "article_id": 2,
            "state": "failed",
            "rules_version": "r1",
            "error": "ValueError: bad date",
            "reference_at": T1 + timedelta(seconds=5),
            "reference_offset_min": None,
            "dated": False,
            "guid": "kcna-9",
            "source_id": 2,
            "revision": 0,
        },
        {
            "article_id": 3,
            "state": "pending",
            "rules_version": None,
            "error": None,
            "reference_at": None,
            "reference_offset_min": -300,
            "dated": True,
            "guid": "yonhap-2",
            "source_id": 1,
            "revision": 0,
        },
    ],
    "developments": [
        {
            "id": 1,
            "category": "missile_launch",
            "status": "occurred",
            "background": False,
            "title": "Ballistic missile launch into the East Sea",
            "event_date": date(2026, 1, 28),
            "place": "East Sea",
            "actors": ["North Korea"],
            "facts": {"count": 1},
            "level": "high",
            "tags": ["region:kr"],
            "regions": ["korea", "north-korea"],
            "first_seen_at": T1,
            "last_seen_at": T1 + timedelta(seconds=5),
            "version": 2,
            "dismissed_as": None,
            "merged_into_id": None,
        },
        {
            "id": 2,
            "category": "summit",
            "status": "planned",
            "background": True,
            "title": "Inter-Korean summit",
            "event_date": None,
            "place": None,
            "actors": [],
            "facts": {},
            "level": "low",
            "tags": [],
            "regions": [],
            "first_seen_at": T1 + timedelta(seconds=10),
            "last_seen_at": T1 + timedelta(seconds=10),
            "version": 1,
            "dismissed_as": "merged",
            "merged_into_id": 1,
        },
    ],
    "evidence": [
        {
            "id": 1,
            "development_id": 1,
            "article_id": 1,
            "rule_id": "missile_launch.v1",
            "terms": ["fired", "ballistic missile"],
            "snippet": "fired a ballistic missile",
            "status_seen": "occurred",
            "background": False,
            "created_at": T1,
        },
        {
            "id": 2,
            "development_id": 1,
            "article_id": 2,
            "rule_id": "missile_launch.v1",
            "terms": ["ballistic missile"],
            "snippet": "A ballistic missile was fired",
            "status_seen": "occurred",
            "background": False,
            "created_at": T1 + timedelta(seconds=5),
        },
        {
            "id": 3,
            "development_id": 2,
            "article_id": 3,
            "rule_id": "summit.v1",
            "terms": ["summit"],
            "snippet": "Summit planned",
            "status_seen": "planned",
            "background": True,
            "created_at": T1 + timedelta(seconds=10),
        },
    ],
    "alerts": [
        {
            "id": 1,
            "development_id": 1,
            "kind": "new",
            "status": "planned",
            "previous_status": None,
            "rule_id": "missile_launch.v1",
            "terms": ["fired"],
            "created_at": T1,
            "routed_at": T1 + timedelta(seconds=1),
            "unrouted": False,
            "snapshot": {"title": "Ballistic missile launch", "status": "planned"},
        },
        {
            "id": 2,
            "development_id": 1,
            "kind": "status_change",
            "status": "occurred",
            "previous_status": "planned",
            "rule_id": None,
            "terms": None,
            "created_at": T1 + timedelta(seconds=5),
            "routed_at": None,
            "unrouted": True,
            "snapshot": None,
        },
    ],
    "deliveries": [
        {
            "id": 1,
            "alert_id": 1,
            "target_key": "ops-mail",
            "target_display": "mailto://ops",
            "state": "sent",
            "attempts": 1,
            "last_error": None,
            "next_attempt_at": T1,
            "claimed_until": None,
            "sent_at": T1 + timedelta(seconds=2),
            "created_at": T1,
            "claimed_by": None,
        },
        {
            "id": 2,
            "alert_id": 1,
            "target_key": "ops-chat",
            "target_display": "slack://ops",
            "state": "failed",
            "attempts": 5,
            "last_error": "HTTP 500",
            "next_attempt_at": T1 + timedelta(minutes=30),
            "claimed_until": None,
            "sent_at": None,
            "created_at": T1,
            "claimed_by": None,
        },
        {
            "id": 3,
            "alert_id": 2,
            "target_key": "ops-mail",
            "target_display": "mailto://ops",
            "state": "sending",
            "attempts": 0,
            "last_error": None,
            "next_attempt_at": T1 + timedelta(seconds=5),
            "claimed_until": T1 + timedelta(minutes=2),
            "sent_at": None,
            "created_at": T1 + timedelta(seconds=5),
            "claimed_by": "host-1:4242",
        },
    ],
    "locks": [
        {
            "name": "watchfloor:poll",
            "holder": "host-1:4242",
            "acquired_at": T1,
            "expires_at": T1 + timedelta(minutes=10),
        },
    ],
    "feedback": [
        {
            "id": 1,
            "action": "merge",
            "development_id": 2,
            "target_id": 1,
            "actor": "analyst",
            "created_at": T1 + timedelta(minutes=1),
            "details": {"evidence_ids": [2], "article_ids": [2]},
        },
        {
            "id": 2,
            "action": "false_alarm",
            "development_id": 1,
            "target_id": None,
            "actor": "web",
            "created_at": T1 + timedelta(minutes=2),
            "details": {"withdrawn_deliveries": 0},
        },
    ],
}
VALIDATORS = ("etag", "last_modified", "body_hash", "feed_ttl_s")


def cursor_from_validators(row: dict[str, Any], before: set[str]) -> Any:
    """0009 moves a source's non-NULL validators (those its revision had) into its cursor."""
    cursor = {k: row[k] for k in VALIDATORS if k in before and row[k] is not None}
    return cursor or None


def validator_from_cursor(column: str) -> Callable[[dict[str, Any], set[str]], Any]:
    """Downgrading 0009 fills each validator column back from the cursor."""
    return lambda row, before: (row["cursor"] or {}).get(column)


# What the migrations give the rows of an older store in the columns they add: a value, or a
# function of the row as written and the columns its revision had.
ADDED_BY_MIGRATIONS: dict[tuple[str, str], Any] = {
    ("articles", "revision"): 0,
    ("articles", "detect_state"): "done",  # stored before 0004: detected by the run that stored it
    ("articles", "dated"): True,
    ("developments", "regions"): [],  # developments stored before 0006 start with none
    ("sources", "cursor"): cursor_from_validators,
    **{("sources", column): validator_from_cursor(column) for column in VALIDATORS},
}


KEY = ("guid", "source_id", "revision")
# Tables a migration created from another's columns: table -> (origin, its column -> origin's).
MOVED_BY_MIGRATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "detection_queue": (
        "articles",
        {
            "article_id": "id",
            "state": "detect_state",
            "rules_version": "rules_version",
            "error": "detect_error",
            **{c: c for c in ("reference_at", "reference_offset_min", "dated", *KEY)},
        },
    ),
}


def comparable(value: Any) -> Any:
    """`value` as it compares across backends: timestamps as naive UTC (SQLite stores text and
    gives naive datetimes back, PostgreSQL gives them in UTC with an offset)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def reflected(connection: Connection) -> dict[str, Table]:
    """The store's tables as the database describes them (not as db/models.py does), so rows
    are written and read with the schema of the revision the store is at."""
    metadata = MetaData()
    metadata.reflect(connection)
    return {name: table for name, table in metadata.tables.items() if name != "alembic_version"}


def populate(engine: Engine, revision: str) -> None:
    """Write ROWS into a store at `revision`, each row with the columns that exist there."""
    with engine.begin() as connection:
        tables = reflected(connection)
        # Every table and every column of the revision gets data: a migration adding a table or
        # a column must add it to ROWS, or its upgrade is tested on empty ground. (Tables that
        # later revisions add are written only where they exist.)
        assert set(tables) <= set(ROWS), f"ROWS lacks tables of {revision}"
        for name, table in tables.items():
            missing = {column.name for column in table.columns} - set(ROWS[name][0])
            assert not missing, f"ROWS lacks columns of {name} at {revision}: {missing}"
        for name in (name for name in ROWS if name in tables):  # parents before children
            columns = {column.name for column in tables[name].columns}
            for row in ROWS[name]:
                # None as SQL NULL, as the app writes it (a reflected JSON column would store
                # the JSON literal null).
                values = {k: sa.null() if v is None else v for k, v in row.items() if k in columns}
                connection.execute(tables[name].insert().values(values))


def columns_at(engine: Engine) -> dict[str, set[str]]:
    """Each table's column names."""
    with engine.connect() as connection:
        return {
            name: {c.name for c in table.columns} for name, table in reflected(connection).items()
        }


def assert_rows_survived(engine: Engine, before: dict[str, set[str]]) -> None:
    """Every row of ROWS is in the store with every value it was written with (in the columns
    it still has); the columns a migration added hold what that migration promises."""
    with engine.connect() as connection:
        tables = reflected(connection)
        for name, table in tables.items():
            key = next(iter(table.primary_key.columns))
            stored = [row._asdict() for row in connection.execute(table.select().order_by(key))]
            for written, got in zip_strict(name, expected_rows(name, before), stored):
                for column, value in written.items():
                    if column not in got:
                        continue  # dropped by a downgrade
                    assert comparable(got[column]) == comparable(value), (
                        f"{name} {got[key.name]}.{column}: {got[column]!r} != {value!r}"
                    )


def zip_strict(name: str, expected: list[dict[str, Any]], stored: list[dict[str, Any]]) -> Any:
    assert len(stored) == len(expected), f"{name}: {len(stored)} rows, expected {len(expected)}"
    return zip(expected, stored, strict=True)


def expected_rows(name: str, before: dict[str, set[str]]) -> list[dict[str, Any]]:
    """The rows of table `name` after migrating a store whose tables had the columns `before`:
    ROWS as written, with what the migrations put in the columns they added; a table a
    migration added holds what it moved there (or nothing)."""
    if name in before:
        return [{c: expected_value(name, c, row, before) for c in row} for row in ROWS[name]]
    if name not in MOVED_BY_MIGRATIONS:
        return []
    origin, columns = MOVED_BY_MIGRATIONS[name]
    return [
        {new: expected_value(origin, old, row, before) for new, old in columns.items()}
        for row in ROWS[origin]
    ]


def expected_value(
    name: str, column: str, written: dict[str, Any], before: dict[str, set[str]]
) -> Any:
    """What `column` of a row written as `written` holds after migrating."""
    if column in before[name]:
        return written[column]
    if (name, column) in ADDED_BY_MIGRATIONS:
        expected = ADDED_BY_MIGRATIONS[(name, column)]
        return expected(written, before[name]) if callable(expected) else expected
    return None  # a nullable column the row predates


def assert_sqlite_store_is_sound(engine: Engine) -> None:
    """No dangling foreign keys (rows or whole tables: a key naming a dropped
    `_alembic_tmp_*` or renamed table fails here), and an intact file."""
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        assert run("PRAGMA foreign_keys").scalar() == 1
        assert run("PRAGMA foreign_key_check").all() == []
        assert run("PRAGMA integrity_check").all() == [("ok",)]
        tables = {row[0] for row in run("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not {t for t in tables if t.startswith("_alembic_tmp")}
        for table in tables:
            for fk in run(f"PRAGMA foreign_key_list({table})").mappings():
                assert fk["table"] in tables, f"{table} refers to missing table {fk['table']}"


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrading_a_store_with_rows_keeps_every_row(empty_url: str, revision: str) -> None:
    with engine_at(empty_url) as engine:
        upgrade(engine, revision)
        populate(engine, revision)
        before = columns_at(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert_rows_survived(engine, before)
        if engine.dialect.name == "sqlite":
            assert_sqlite_store_is_sound(engine)
        with engine.connect() as connection:  # the same schema as a store migrated empty
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []


def test_after_a_migration_the_pooled_connection_enforces_foreign_keys(tmp_path: Path) -> None:
    """Foreign keys are off only for the migration: the one connection of the pool (the one
    that migrated) enforces them again afterwards, after a success and after a failure."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    with engine_at(url) as setup:
        upgrade(setup, "0003")
        populate(setup, "0003")
    with closing(sqlite3.connect(tmp_path / "one.db")) as bare:  # foreign keys off by default
        bare.execute("UPDATE evidence SET article_id = 99 WHERE id = 3")  # an orphan
        bare.commit()
    engine = create_engine_for(url, poolclass=StaticPool)
    try:
        with pytest.raises(StoreError, match=r"1 row\(s\) referring to missing rows"):
            upgrade(engine)
        assert current_revision(engine) == "0003"  # rolled back: nothing changed
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            connection.exec_driver_sql("UPDATE evidence SET article_id = 3 WHERE id = 3")
            connection.commit()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
                connection.exec_driver_sql("UPDATE evidence SET article_id = 99 WHERE id = 3")
    finally:
        engine.dispose()


def test_downgrading_a_store_with_rows_keeps_every_row(empty_url: str) -> None:
    """Downgrades rebuild tables too (SQLite drops a column by copying the table): the
    alembic command line, run as an operator would, keeps every row of the older schema."""
    target = REVISIONS[0]
    with engine_at(empty_url) as engine:
        upgrade(engine)
        populate(engine, head_revision())
        before = columns_at(engine)
    command = [sys.executable, "-m", "alembic", "-c", str(alembic_config().config_file_name)]
    env = {**os.environ, "WATCHFLOOR_DATABASE_URL": empty_url}  # not argv: URLs carry passwords
    done = subprocess.run([*command, "downgrade", target], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with engine_at(empty_url) as engine:
        assert current_revision(engine) == target
        assert_rows_survived(engine, before)
        if engine.dialect.name == "sqlite":
            assert_sqlite_store_is_sound(engine)


def test_validators_migrated_into_the_cursor_still_get_a_304(empty_url: str) -> None:
    """A store of 0008 holding the validators and TTL of a feed: after the upgrade the rss kind
    reads them from the cursor and sends the same conditional GET, which a real server answers
    with 304, and the feed's TTL still sets the next poll."""
    server = FeedServer().start()
    try:
        url = server.url("/feed/rss2_ttl.xml")
        answer = httpx.get(url)  # what a Watchfloor before 0009 stored of it
        with engine_at(empty_url) as engine:
            upgrade(engine, "0008")
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO sources (id, name, kind, location, tags, consecutive_failures,"
                        " items_seen, etag, last_modified, body_hash, feed_ttl_s) VALUES (1, 'f',"
                        " 'rss', :url, '[]', 0, 3, :etag, :last_modified, :body_hash, 2700)"
                    ),
                    {
                        "url": url,
                        "etag": answer.headers["etag"],
                        "last_modified": answer.headers["last-modified"],
                        "body_hash": hashlib.sha256(answer.content).hexdigest(),
                    },
                )
            upgrade(engine)
            feed = SourceSpec("f", "rss", url)
            with Session(engine) as session, session.begin():  # as the next run reads it
                state = register_sources(session, [feed]).states["f"]
        with FetchContext(allow_networks=("127.0.0.1",)) as context:
            result = get_adapter("rss", context).fetch(feed, state)
        assert result.status == "not_modified", result
        _, headers = server.requests[-1]
        assert headers["if-none-match"] == answer.headers["etag"]
        assert headers["if-modified-since"] == answer.headers["last-modified"]
        assert result.fresh_for_s == 2700
    finally:
        server.close()


def test_downgrading_keeps_only_the_cursor_values_the_old_columns_can_hold(
    empty_url: str,
) -> None:
    cursors = [
        {"etag": 5, "body_hash": "h", "feed_ttl_s": True, "position": {"page": 2}},
        {"etag": '"e"', "feed_ttl_s": 600},
        [1, 2],  # not an object: nothing to keep
    ]
    with engine_at(empty_url) as engine:
        upgrade(engine)
        with engine.begin() as connection:
            sources = reflected(connection)["sources"]
            for n, cursor in enumerate(cursors, start=1):
                connection.execute(
                    sources.insert().values(
                        id=n, name=f"s{n}", kind="x", location="l", tags=[], cursor=cursor
                    )
                )
        downgrade_in_process(engine, "0008")
        with engine.connect() as connection:
            query = "SELECT etag, body_hash, feed_ttl_s FROM sources ORDER BY id"
            assert connection.exec_driver_sql(query).all() == [
                (None, "h", None),
                ('"e"', None, 600),
                (None, None, None),
            ]


def test_downgrading_the_queue_table_puts_each_state_back_in_its_article(empty_url: str) -> None:
    """0012's downgrade: done, failed (with its rules and error) and pending come back into the
    articles' columns, and their index is back."""
    with engine_at(empty_url) as engine:
        upgrade(engine)
        populate(engine, head_revision())
        downgrade_in_process(engine, "0011")
        with engine.connect() as connection:
            query = "SELECT id, detect_state, rules_version, detect_error FROM articles ORDER BY id"
            assert connection.exec_driver_sql(query).all() == [
                (row["article_id"], row["state"], row["rules_version"], row["error"])
                for row in ROWS["detection_queue"]
            ]
            assert "detection_queue" not in inspect(connection).get_table_names()
            indexes = {ix["name"] for ix in inspect(connection).get_indexes("articles")}
            assert "ix_articles_detect_queue" in indexes
