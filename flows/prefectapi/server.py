"""Prefect's temporary API, served by the CLI process itself in a thread.

Without PREFECT_API_URL a Prefect client starts a temporary local API itself
(`prefect.server.api.server.SubprocessASGIServer`): a uvicorn subprocess serving Prefect's app,
stopped at exit. That subprocess imports Python, Prefect, pydantic, SQLAlchemy, httpx and the server
package again: ~2.9 CPU-s before it answers (a Prefect home whose database exists; this 2-core
machine). `temporary_api` serves the same app (`flows.prefectapi.app`) with uvicorn in a thread of
the CLI process instead, where all but the server package is already imported: ~1.3 CPU-s. The app,
its settings (the caller's, as Prefect passes them to its subprocess), its database and its start-up
timeout are Prefect's; the UI is off, as in Prefect's subprocess.

Its URL goes to Prefect in this process (its settings) and to the processes this one starts
(the environment), so no Prefect client here starts another. The socket is bound before the
thread starts, so no other process can take the port in between. A killed CLI takes the API
with it: it is part of the process.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prefect.settings import (
    PREFECT_API_DATABASE_MIGRATE_ON_START,
    PREFECT_API_URL,
    PREFECT_HOME,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from core.errors import WatchfloorError
from flows.prefectapi.migrated import migrations_needed, remember_migrated
from flows.prefectapi.reach import require_reachable_api

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("prefect.watchfloor.api")

STARTED_POLL_S = 0.02
STOP_GRACE_S = 5.0
THREAD_NAME = "watchfloor-prefect-api"


class TemporaryApiError(WatchfloorError):
    """Prefect's temporary API did not start (it stopped, or was not serving in time)."""


class TemporaryApi:
    """Prefect's API app served by uvicorn in a daemon thread of this process, on a socket
    bound before the thread starts."""

    def __init__(self) -> None:
        self._socket = loopback_socket()
        self.port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None  # once the app is built
        self._stopping = threading.Event()
        self.failure: BaseException | None = None
        # What failed the app's start-up (uvicorn logs it, with its traceback, and exits).
        self.startup_error = _StartupError()
        # Whether its start runs Prefect's migrations (`flows.prefectapi.migrated`).
        self.migrates = migrations_needed()
        # The caller's context: Prefect's server reads the caller's settings, as its own
        # subprocess would from the environment Prefect gives it.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._serve,), name=THREAD_NAME, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        self._thread.start()

    @property
    def serving(self) -> bool:
        """The app finished its start-up (migrations, block types) and accepts requests."""
        return self._server is not None and self._server.started

    @property
    def stopped(self) -> bool:
        return not self._thread.is_alive()

    def stop(self) -> None:
        """Ask the server to finish (its lifespan shuts Prefect's services down) and wait until
        it has: after a grace period without open connections and tasks.

        The wait has no bound because a daemon thread still running when the interpreter
        exits can abort the process (SIGABRT, seen in a start that timed out on a loaded
        machine while the API was still creating its database through aiosqlite's threads).
        What is left is finite: imports, or a start-up that returns as soon as it is done
        (uvicorn serves nothing once `should_exit` is set)."""
        self._stopping.set()
        server = self._server
        if server is not None:
            server.should_exit = True
        self._thread.join(STOP_GRACE_S)
        if self._thread.is_alive():
            server = self._server
            if server is not None and server.started:
                server.force_exit = True  # open connections and tasks are not waited for
            # A server still starting is left to finish its start-up and then its lifespan's
            # shutdown, which stops Prefect's services (cancelled instead, each logs a warning
            # with a traceback).
            log.info("Waiting for Prefect's temporary API server to finish before exiting")
            self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        try:
            import uvicorn

            from flows.prefectapi.ticks import PromptServer

            app = app_frozen_once_built()
            config = uvicorn.Config(app, log_config=None, log_level="error", lifespan="on")
            server = PromptServer(config)
            self._server = server
            unmigrated = (
                contextlib.nullcontext()
                if self.migrates
                else temporary_settings({PREFECT_API_DATABASE_MIGRATE_ON_START: False})
            )
            if not self._stopping.is_set():
                with self.startup_error.caught(), unmigrated:
                    server.run(sockets=[self._socket])
        except BaseException as exc:  # start_server reports it while starting; later, this log
            self.failure = exc
            if self.serving:
                log.error("Prefect's temporary API server stopped: %s", _reason(self))


def app_frozen_once_built() -> Any:
    """Prefect's API app (`flows.prefectapi.app`), its import and build out of the garbage
    collector's sight.

    Importing Prefect's server package leaves ~130,000 more objects tracked (SQLAlchemy's ORM,
    pydantic's schemas, FastAPI's routes), and the full collections its allocations set off
    walked every object the process already held too: Prefect's client, SQLAlchemy, and in a
    one-off run what ingest is reading meanwhile (`flows.runs.oneoff`). What the process holds when
    the import starts is frozen first (`gc.freeze`), so they walk the import's own objects only;
    what it loaded is frozen once the app is built, so no later collection walks Prefect's
    server either (`serve` keeps it up across cycles). In a process holding the CLI's imports,
    the import took 1.33 -> 1.17 CPU-s (medians of 6); a first poll holds more. Once per
    temporary API: at most what was cyclic garbage at those two moments is kept for good (as
    `flows.context.longlived`, which freezes what a process loaded at its first cycle, explains)."""
    gc.freeze()
    from flows.prefectapi.app import temporary_app

    app = temporary_app()
    gc.freeze()
    return app


@contextlib.contextmanager
def temporary_api() -> Iterator[bool]:
    """Inside the block Prefect's API is reachable from this process and its children: the one
    PREFECT_API_URL names, or a temporary one started here and stopped on the way out. Yields
    True when it started one. Raises ApiUnreachableError when the named one does not answer."""
    if given := PREFECT_API_URL.value():
        require_reachable_api(given)
        yield False
        return
    api = start_server()
    os.environ["PREFECT_API_URL"] = api.url
    try:
        with temporary_settings({PREFECT_API_URL: api.url}):
            yield True
    finally:
        try:
            drain_prefect_workers()
        finally:  # the server stops whatever draining met
            os.environ.pop("PREFECT_API_URL", None)
            api.stop()


def start_server() -> TemporaryApi:
    """Start the API and wait until it serves. Raises TemporaryApiError when it stops first or
    does not serve within Prefect's start-up timeout
    (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)."""
    timeout_s = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    deadline = time.monotonic() + timeout_s
    api = TemporaryApi()
    log.info("Starting temporary server on http://127.0.0.1:%d", api.port)
    api.start()
    try:
        while not api.serving:
            if api.stopped:
                raise TemporaryApiError(
                    f"Prefect's temporary API server stopped while starting "
                    f"(PREFECT_HOME {PREFECT_HOME.value()}): {_reason(api)}"
                )
            if time.monotonic() >= deadline:
                raise TemporaryApiError(
                    f"Prefect's temporary API server did not answer within {timeout_s:.0f} s "
                    "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); a loaded machine may "
                    "need more"
                )
            time.sleep(STARTED_POLL_S)
    except BaseException:
        api.stop()
        raise
    api.startup_error.started()
    if api.migrates:
        remember_migrated()
    return api


def drain_prefect_workers() -> None:
    """Send what Prefect's background workers still hold (a run's last logs and events) while
    the server is up. Prefect drains them when its threads shut down, which comes after the
    block that stops the server."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=STOP_GRACE_S)


class _StartupError(logging.Filter):
    """Keeps what failed the app's start-up (a Prefect database that cannot be opened or
    migrated, say) out of uvicorn's log, where it is a whole traceback, for start_server's
    one-line error. Only while starting: later errors are logged as they come."""

    def __init__(self) -> None:
        super().__init__()
        self.message: str | None = None
        self._starting = True

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._starting or record.levelno < logging.ERROR:
            return True
        if self.message is None:
            self.message = _exception_line(record)
        return False

    @contextlib.contextmanager
    def caught(self) -> Iterator[None]:
        uvicorn_log = logging.getLogger("uvicorn.error")
        uvicorn_log.addFilter(self)
        try:
            yield
        finally:
            uvicorn_log.removeFilter(self)

    def started(self) -> None:
        self._starting = False


def _exception_line(record: logging.LogRecord) -> str | None:
    """The exception a log record reports, as `Type: message` on one line: from its exc_info,
    or from the traceback text starlette sends uvicorn when an app's start-up fails (the line
    after the last traceback's frames)."""
    if record.exc_info and record.exc_info[1] is not None:
        return _one_line(record.exc_info[1])
    lines = record.getMessage().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if not starts:
        return None
    after = (line for line in lines[starts[-1] + 1 :] if line and not line[0].isspace())
    return next(after, None)


def _one_line(failure: BaseException) -> str:
    text = str(failure).strip()
    name = type(failure).__name__
    return f"{name}: {text.splitlines()[0]}" if text else name


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1 (the kernel's choice), not listening yet:
    until its server listens, a connection is refused, never answered by another process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _reason(api: TemporaryApi) -> str:
    """What stopped the server, on one line: its error, or what failed the app's start-up
    (uvicorn then exits)."""
    failure = api.failure
    if failure is not None and not isinstance(failure, SystemExit):
        return _one_line(failure)
    return api.startup_error.message or "no error was reported"
