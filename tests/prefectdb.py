"""The test session's Prefect API, started on a database that Prefect created once per session.

Every test process starts one temporary Prefect API (`prefect_test_harness`): each xdist worker,
and each inner pytest session of the secrets-audit tests. Prefect creates the API's SQLite
database at its first start (its Alembic migrations, its block types): ~3.6 of the ~7 CPU-s of
that start. So the first process of a session to start one keeps a copy of its database as the
API created it, before any flow ran (`TEMPLATE_NAME` in the folder named by `TEMPLATE_FOLDER`,
which the outermost process makes and its children inherit); the others wait for it and start
theirs on a copy. What Prefect does after its start is the same on both.

The API runs without Prefect's automation services (`SERVER_SETTINGS`): no test and no part of
Watchfloor makes an automation, and idle they poll the database every 5 s, ~10% of the idle
API's CPU (0.61 instead of 0.68 CPU-s a minute, ~2 CPU-s a `make test`). The rest is pydocket's
worker polling its in-memory broker (every 100-250 ms), which Prefect 3.8 has no setting for.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The environment variable naming the session's template folder (not WATCHFLOOR_*: the test
# session clears those).
TEMPLATE_FOLDER = "TESTS_PREFECT_TEMPLATE_DIR"
TEMPLATE_NAME = "prefect-test.db"
# What `prefect_test_harness` names its database, in the folder it makes with `mkdtemp`.
HARNESS_DATABASE = "prefect-test.db"
STARTUP_TIMEOUT_S = 120
# Prefect settings of the session's API process: its automation services (reactive and proactive
# triggers, and the actions they would take) off.
SERVER_SETTINGS = {
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_ACTIONS_ENABLED": "false",
}


@contextlib.contextmanager
def session_api(template_folder: Path) -> Iterator[None]:
    """Prefect's test harness, on a copy of the session's template database; the first process
    to get here makes the template from its own harness's database, the others wait for it."""
    template = template_folder / TEMPLATE_NAME
    template_folder.mkdir(parents=True, exist_ok=True)  # an inherited folder may be gone
    with contextlib.ExitStack() as harness:
        with _exclusive(template_folder / "lock"):
            first = not template.exists()
            if first:
                harness.enter_context(_harness())
                copy_running_database(harness_database(), template)
        if not first:
            harness.enter_context(_harness_on_copy_of(template))
        yield


def harness_database() -> Path:
    """The SQLite file of the Prefect API that this process's settings point at."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    return Path(str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value()).split(":///", 1)[1])


def copy_running_database(source: Path, target: Path) -> None:
    """A whole copy of the SQLite database `source`, which a running API has open (SQLite's
    backup), at `target`, which appears complete or not at all."""
    partial = target.with_name(target.name + ".partial")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(partial)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
    partial.replace(target)


@contextlib.contextmanager
def _harness() -> Iterator[None]:
    """Prefect's test harness, its API process started with `SERVER_SETTINGS`."""
    from prefect.testing.utilities import prefect_test_harness

    with contextlib.ExitStack() as harness:
        # In the environment only while the harness starts its API process, which inherits it
        # (the harness's settings, which it builds then, hold them too, but only the server reads
        # them); the processes tests start later do not inherit them.
        with pytest.MonkeyPatch.context() as patch:
            for name, value in SERVER_SETTINGS.items():
                patch.setenv(name, value)
            harness.enter_context(prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT_S))
        yield


@contextlib.contextmanager
def _harness_on_copy_of(template: Path) -> Iterator[None]:
    """Prefect's test harness, whose database folder (its `mkdtemp`, removed at exit as Prefect
    removes its own) already holds a copy of `template`: Prefect then only checks it."""
    import prefect.testing.utilities

    folder = tempfile.mkdtemp(prefix="watchfloor-prefect-api-")
    shutil.copyfile(template, Path(folder) / HARNESS_DATABASE)
    with contextlib.ExitStack() as harness:
        # Only while the harness starts: it makes its folder then. setattr fails loudly if a
        # Prefect upgrade no longer calls `mkdtemp` from that module.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(prefect.testing.utilities, "mkdtemp", lambda: folder)
            harness.enter_context(_harness())
        yield


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Held by one process of the session at a time (an advisory lock on `lock_path`)."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
