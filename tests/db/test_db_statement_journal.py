"""A SQLite store keeps statement journals in memory (db/engine.py): marking a chunk of stored
articles detected, inside the detect stage's transaction, opens no temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from db import store_articles, take_awaiting, upsert_sources
from tests.db.dbtestkit import T0, article, spec

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # a SQLite pragma


def sqlite_temporary_files() -> set[str]:
    """The temporary files SQLite holds open in this process (it unlinks each on opening it, so
    only the process's open files show them)."""
    found = set()
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = str(descriptor.readlink())
        except OSError:  # closed since the listing
            continue
        if "etilqs_" in target:
            found.add(target)
    return found


def test_marking_a_chunk_detected_opens_no_temporary_file(
    sessions: sessionmaker[Session],
) -> None:
    # Rows of ~15 KB span several pages each, stored and then marked in one transaction: the
    # UPDATE changes pages the transaction has changed already, and must keep their earlier
    # contents until it ends (~4 MB here); SQLite spills such a journal over 64 KiB to a file.
    raw = {"summary": "Seoul said. " * 1_000}
    seen: set[str] = set()

    def look() -> int:
        seen.update(sqlite_temporary_files())
        return 0  # go on

    with sessions.begin() as session:
        ids = upsert_sources(session, [spec("alpha")])
        batch = [article(n=n, raw=raw) for n in range(300)]
        stored = {a.id for a in store_articles(session, ids, batch, T0).new}
        assert len(stored) == 300
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        dbapi.set_progress_handler(look, 2_000)
        try:
            assert take_awaiting(session, "rules-1", stored) == stored
        finally:
            dbapi.set_progress_handler(None, 0)
    assert seen == set()
