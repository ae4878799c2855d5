"""Engine set-up and Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from db import checkpoint_wal, create_engine_for, current_revision, upgrade
from db.engine import alembic_config
from db.models import Base

TABLES = {"sources", "articles", "developments", "evidence", "alerts", "deliveries"}


@contextmanager
def engine_at(url: str) -> Iterator[Engine]:
    """A fresh engine for `url`, disposed of afterwards."""
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


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


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    from alembic import command

    with engine_at(empty_url) as engine:
        upgrade(engine)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
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
        checkpoint_wal(engine)  # cannot truncate past the reader's snapshot: no exception
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (10,)
        reader.execute("COMMIT")
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
