"""The test session's Prefect API, started on a database that Prefect created once per session.

Every test process starts one temporary Prefect API (as Prefect's `prefect_test_harness`): each
xdist worker, and each inner pytest session of the secrets-audit tests. Prefect creates the API's
SQLite database at its first start (its Alembic migrations, its block types): ~3.6 of the ~7 CPU-s
of that start. So the first process of a session to start one keeps a copy of its database as the
API created it, before any flow ran (`TEMPLATE_NAME` in the folder named by `TEMPLATE_FOLDER`, which
the outermost process makes and its children inherit); the others wait for it and start theirs on a
copy. What Prefect does after its start is the same on both.

The API process serves what a Watchfloor command serves itself: `flows.prefectapi.app`'s app
(Prefect's, whose background-task worker checks every 2 s instead of 250 ms and whose in-memory
Redis waits on its loop), with the Prefect defaults of a Watchfloor command
(`flows.prefectapi.process`: no automation services, which no test and no part of Watchfloor uses).
Prefect's stock API process took 3.5-3.6 CPU-s to start on a copy and 0.41-0.43 CPU-s per 30 s idle;
this one 3.1-3.3 and 0.12-0.16 (/proc, 3-6 starts each): with 5 workers, ~20 CPU-s less a `make
test`. Built and frozen as a command's own API builds it (`tests.apiprocess`), with cyclic
collection off until then: 4.1-4.2
-> 3.3-3.6 CPU-s a start on a copy. The harness is this
module's, not `prefect_test_harness`, whose module imports Prefect's server package (~1 CPU-s a
process) into a test process that only needs a client.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# The environment variable naming the session's template folder (not WATCHFLOOR_*: the test
# session clears those).
TEMPLATE_FOLDER = "TESTS_PREFECT_TEMPLATE_DIR"
TEMPLATE_NAME = "prefect-test.db"
# The harness's database, in a folder of its own.
HARNESS_DATABASE = "prefect-test.db"
DATABASE_PREFIX = "watchfloor-prefect-api-"
STARTUP_TIMEOUT_S = 120
# The folder the API process (`tests.apiprocess`) runs in, and imports from.
PROJECT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def session_api(template_folder: Path) -> Iterator[None]:
    """This process's test harness (a temporary Prefect API), on a copy of the session's
    template database; the first process to get here makes the template from its own
    harness's database, the others wait for it."""
    template = template_folder / TEMPLATE_NAME
    template_folder.mkdir(parents=True, exist_ok=True)  # an inherited folder may be gone
    with contextlib.ExitStack() as harness:
        with _exclusive(template_folder / "lock"):
            first = not template.exists()
            if first:
                harness.enter_context(_harness(Path(tempfile.mkdtemp(prefix=DATABASE_PREFIX))))
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
def _harness(database_folder: Path) -> Iterator[None]:
    """This process's temporary Prefect API, as Prefect's `prefect_test_harness` starts one but
    without importing Prefect's server package here (~1 CPU-s a process, which only the API
    process needs): on the SQLite database in `database_folder` (created by the API at its first
    start there), named by PREFECT_API_URL in this process's settings. The folder is removed
    when this process exits, as Prefect removes its own: after the secrets audit searched it."""
    import prefect.context
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_DATABASE_CONNECTION_URL,
        temporary_settings,
    )

    from flows.prefectapi.server import drain_prefect_workers

    atexit.register(shutil.rmtree, database_folder, ignore_errors=True)
    database = f"sqlite+aiosqlite:///{database_folder / HARNESS_DATABASE}"
    with contextlib.ExitStack() as harness:
        harness.enter_context(
            temporary_settings(updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: database})
        )
        api_url = harness.enter_context(_api_process())
        harness.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
        # As Prefect's harness: also the process-wide settings, for code running in a context
        # copied before the harness started.
        harness.enter_context(
            prefect.context._temporary_global_settings_context(
                prefect.context.get_settings_context()
            )
        )
        yield
        drain_prefect_workers()  # the last logs and events, while the API still answers


@contextlib.contextmanager
def _api_process() -> Iterator[str]:
    """Watchfloor's API process (`flows.prefectapi.app`) on 127.0.0.1, with this process's Prefect
    settings and a Watchfloor command's Prefect defaults; its API URL once it answers. Stopped
    on the way out (and at exit, should the process end without unwinding).

    The socket is bound here and handed to the API process, as a command binds its own API's
    before serving it (`flows.prefectapi.server`): no other process can take the port in between.
    A port chosen free here and bound by the API process seconds later could be, and was:
    two workers starting their APIs at once were given the same free port, the second's API
    exited for want of it while the second worker's health check was answered by the first's,
    and the second worker used the first's API until that one stopped with its worker."""
    from flows.prefectapi.server import loopback_socket

    with contextlib.closing(loopback_socket()) as sock:
        port = int(sock.getsockname()[1])
        process = _start_api(sock)
    atexit.register(_stop, process)
    try:
        _await_answer(port, process)
    except BaseException:
        _stop(process)
        raise
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        _stop(process)


def _start_api(sock: socket.socket) -> subprocess.Popen[bytes]:
    """The API process (`tests.apiprocess`: `flows.prefectapi.app`'s app, built and frozen as a
    command's own temporary API builds it) serving on `sock` (inherited), run from the
    project's folder, with the environment of Prefect's API process command (prefect 3.8's
    `SubprocessASGIServer`) but not `final` (PREFECT__SERVER_FINAL), as
    `flows.prefectapi.app.temporary_app` says why."""
    from prefect.settings import get_current_settings

    from flows.prefectapi.process import apply_prefect_defaults

    environment = dict(os.environ)
    apply_prefect_defaults(environment)  # only a server reads them
    environment |= {
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        **get_current_settings().to_environment_variables(exclude_unset=True),
    }
    fd = sock.fileno()
    return subprocess.Popen(
        [sys.executable, "-m", "tests.apiprocess", str(fd)],
        cwd=PROJECT,
        env=environment,
        pass_fds=(fd,),
    )


def _await_answer(port: int, process: subprocess.Popen[bytes]) -> None:
    """Return once the API on `port` answers its health check; RuntimeError when its process
    ended first, or it did not answer within STARTUP_TIMEOUT_S."""
    import httpx

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Prefect's test API exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    return
            time.sleep(0.1)
    raise RuntimeError(f"Prefect's test API did not answer within {STARTUP_TIMEOUT_S} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the API process (SIGTERM, then SIGKILL after 5 s), as Prefect's harness does."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def _harness_on_copy_of(template: Path) -> Iterator[None]:
    """The harness, on a copy of `template` in its database folder: Prefect then only checks
    the database."""
    folder = Path(tempfile.mkdtemp(prefix=DATABASE_PREFIX))
    shutil.copyfile(template, folder / HARNESS_DATABASE)
    with _harness(folder):
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
