"""A temporary API's start runs Prefect's migrations only when its database may need them
(flows.prefectapi.migrated): once per Prefect version and database file, as a memo in the Prefect
home records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flows.prefectapi.migrated import MEMO_NAME, migrations_needed
from tests.clikit import run_python_in_home

# A fresh interpreter: Alembic stays out of sys.modules unless the start migrates.
PROBE = """
import sys
import httpx
from flows.prefectapi.server import start_server
api = start_server()
try:
    health = httpx.get(api.url + "/health", timeout=30).status_code
    print(api.migrates, "alembic" in sys.modules, health)
finally:
    api.stop()
"""


def start_in(home: Path) -> list[str]:
    """(whether it migrated, whether Alembic was loaded, /health's status) of a temporary API
    started and stopped in `home` by a process of its own."""
    return run_python_in_home(PROBE, home).split()


def test_a_database_migrated_once_is_not_migrated_again_until_prefect_changes(
    tmp_path: Path, used_prefect_home: Path
) -> None:
    home = tmp_path / ".prefect"
    shutil.copytree(used_prefect_home, home)
    assert start_in(home) == ["True", "True", "200"]
    memo = json.loads((home / MEMO_NAME).read_text())
    assert memo["database"] == str(home / "prefect.db") and memo["revision"]
    assert start_in(home) == ["False", "False", "200"]
    # Another Prefect (an upgrade): its migrations may have work to do.
    (home / MEMO_NAME).write_text(json.dumps(memo | {"prefect": "0.0.1"}))
    assert start_in(home) == ["True", "True", "200"]
    # A new database file in the same place: Prefect creates it.
    (home / "prefect.db").unlink()
    assert start_in(home) == ["True", "True", "200"]


def test_only_a_sqlite_file_under_a_memo_skips_and_the_users_setting_holds(tmp_path: Path) -> None:
    from prefect.settings import (
        PREFECT_API_DATABASE_CONNECTION_URL,
        PREFECT_API_DATABASE_MIGRATE_ON_START,
        PREFECT_HOME,
        temporary_settings,
    )

    (tmp_path / MEMO_NAME).write_text("not json")
    with temporary_settings({PREFECT_HOME: str(tmp_path)}):
        assert migrations_needed()  # no database file, an unreadable memo
        url = "postgresql+asyncpg://user:secret@127.0.0.1:5432/prefect"
        with temporary_settings({PREFECT_API_DATABASE_CONNECTION_URL: url}):
            assert migrations_needed()
        with temporary_settings({PREFECT_API_DATABASE_MIGRATE_ON_START: False}):
            assert not migrations_needed()
