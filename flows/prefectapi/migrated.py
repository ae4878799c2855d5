"""Whether a temporary API's start needs Prefect's migrations, known without Alembic.

At every start Prefect's API runs Alembic's upgrade on its database (its setting
`PREFECT_API_DATABASE_MIGRATE_ON_START`): Alembic loads every one of Prefect's migration scripts
(114 for SQLite in Prefect 3.8) to find, nearly always, nothing to do. That was ~0.3 CPU-s of each
command that starts one (a first poll, a replay, `serve`), as much as the rest of the API's
start-up. As `db.upgrade` does for Watchfloor's own store, a database already migrated is told
without Alembic: after a start that migrated it, a memo in the Prefect home records Prefect's
version, the database file and the revision it reached; a later start whose database file still
holds that revision (one read-only query through the standard library's sqlite3), under the same
Prefect, skips the upgrade. Anything else (another Prefect, another or a new database file, a
revision that moved, a database that is not a SQLite file, a memo that cannot be read) migrates as
Prefect does. A user's own PREFECT_API_DATABASE_MIGRATE_ON_START=false holds either way.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing, suppress
from pathlib import Path

import prefect
from prefect.settings import PREFECT_HOME, get_current_settings

from db.engine import sqlite_file

MEMO_NAME = "watchfloor-migrated.json"


def migrations_needed() -> bool:
    """Whether the API about to start must run Prefect's migrations: False only when the memo
    says this Prefect migrated this database file to the revision it holds now."""
    if not get_current_settings().server.database.migrate_on_start:
        return False  # the user's choice: nothing to decide
    database = _database_file()
    if database is None:
        return True
    return _read_memo() != _memo_for(database, _revision_of(database))


def remember_migrated() -> None:
    """Record that the API which just started migrated its database (see the module). A memo
    that cannot be written is only a start that migrates again next time."""
    database = _database_file()
    revision = _revision_of(database) if database is not None else None
    if database is None or revision is None:
        return
    with suppress(OSError):
        _memo_path().write_text(json.dumps(_memo_for(database, revision)), encoding="utf-8")


def _database_file() -> Path | None:
    """The SQLite file of Prefect's database, or None when it is not a SQLite file."""
    url = get_current_settings().server.database.connection_url
    return sqlite_file(url.get_secret_value()) if url is not None else None


def _revision_of(database: Path) -> str | None:
    """The Alembic revision the database file is at; None when there is none to read."""
    if not database.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def _memo_for(database: Path, revision: str | None) -> dict[str, str | None]:
    return {"prefect": prefect.__version__, "database": str(database), "revision": revision}


def _memo_path() -> Path:
    return Path(PREFECT_HOME.value()) / MEMO_NAME


def _read_memo() -> object:
    try:
        return json.loads(_memo_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
