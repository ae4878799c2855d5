"""The test session's Prefect API, started on a database that Prefect created once per session.

Every test process starts one temporary Prefect API (`prefect_test_harness`): each xdist worker,
and each inner pytest session of the secrets-audit tests. Prefect creates the API's SQLite
database at its first start (its Alembic migrations, its block types): ~3.6 of the ~7 CPU-s of
that start. So the first process of a session to start one keeps a copy of its database as the
API created it, before any flow ran (`TEMPLATE_NAME` in the folder named by `TEMPLATE_FOLDER`,
which the outermost process makes and its children inherit); the others wait for it and start
theirs on a copy. What Prefect does after its start is the same on both.

The API process is the one a Watchfloor command serves itself: `flows.apiapp`'s app (Prefect's,
whose background-task worker checks every 2 s instead of 250 ms and whose in-memory Redis waits
on its loop), with the Prefect defaults of a Watchfloor command (`flows.process`: no automation
services, which no test and no part of Watchfloor uses). Prefect's stock API process took
3.5-3.6 CPU-s to start on a copy and 0.41-0.43 CPU-s per 30 s idle; this one 3.1-3.3 and 0.12-0.16
(/proc, 3-6 starts each): with 5 workers, ~20 CPU-s less a `make test`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
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
# The folder `flows.apiapp` is imported from.
PROJECT = Path(__file__).resolve().parent.parent


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
    """Prefect's test harness, its API process Watchfloor's (`flows.apiapp`, with a Watchfloor
    command's Prefect defaults)."""
    import prefect.testing.utilities

    from flows.process import apply_prefect_defaults

    with contextlib.ExitStack() as harness:
        # Only while the harness starts its API process, which inherits the environment (the
        # harness's settings, which it builds then, hold the defaults too; only a server reads
        # them). setattr fails loudly if a Prefect upgrade no longer builds its server there.
        with pytest.MonkeyPatch.context() as patch:
            server_environ = dict(os.environ)
            apply_prefect_defaults(server_environ)
            for name in server_environ.keys() - os.environ.keys():
                patch.setenv(name, server_environ[name])
            patch.setattr(prefect.testing.utilities, "SubprocessASGIServer", _api_server_class())
            harness.enter_context(
                prefect.testing.utilities.prefect_test_harness(
                    server_startup_timeout=STARTUP_TIMEOUT_S
                )
            )
        yield


def _api_server_class() -> type:
    """Prefect's API subprocess (`SubprocessASGIServer`), serving `flows.apiapp`'s app."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    class WatchfloorAPIServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[bytes]:
            """Prefect's command and environment (prefect 3.8's `_run_uvicorn_command`), for
            `flows.apiapp`'s app, imported from the project's folder, and not `final`
            (PREFECT__SERVER_FINAL), as `flows.apiapp.temporary_app` says why."""
            app = ["--app-dir", str(PROJECT), "--factory", "flows.apiapp:temporary_app"]
            address = ["--host", "127.0.0.1", "--port", str(self.port)]
            quiet = ["--log-level", "error", "--lifespan", "on"]
            return subprocess.Popen(
                args=[sys.executable, "-m", "uvicorn", *app, *address, *quiet],
                env={
                    **os.environ,
                    "PREFECT_UI_ENABLED": "0",
                    "PREFECT__SERVER_EPHEMERAL": "1",
                    **get_current_settings().to_environment_variables(exclude_unset=True),
                },
            )

    return WatchfloorAPIServer


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
