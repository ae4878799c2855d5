"""A SQLite transaction that says it only reads (db.engine.READ_ONLY) reads the last committed
snapshot while another connection holds the write lock, instead of waiting for it; the next
transaction on the same pooled connection takes the lock again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from db import create_engine_for, make_sessionmaker
from db.engine import READ_ONLY


def test_a_read_only_transaction_reads_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    writer = make_sessionmaker(create_engine_for(url))
    reader = make_sessionmaker(create_engine_for(url))
    with writer.begin() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
    with writer.begin() as writing:
        writing.execute(text("INSERT INTO t VALUES (2)"))  # holds the write lock
        with reader() as session, session.begin():
            session.connection(execution_options=READ_ONLY)
            assert session.execute(text("SELECT count(*) FROM t")).scalar() == 1
    with reader.begin() as session:  # the pooled connection writes as before
        session.execute(text("INSERT INTO t VALUES (3)"))
    with reader.begin() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 3
