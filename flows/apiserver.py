"""Prefect's temporary API server, started by the CLI without importing Prefect's server.

Without PREFECT_API_URL a Prefect client starts a temporary local API itself
(`prefect.server.api.server.SubprocessASGIServer`): a uvicorn subprocess serving Prefect's app,
stopped at exit. To get there it imports the whole server package into the client process
first, ~830 modules and ~1.8 s of CPU that a `watchfloor run`, `replay` or `serve` never uses
(the subprocess imports them again to serve). `temporary_api` starts the same subprocess with
the same command line and environment, waits for its health check as Prefect does, and hands
its URL to Prefect in this process (its settings) and to the processes this one starts (the
environment), so no Prefect client here starts another.

A killed CLI leaves the subprocess to `flows.process.watch_for_orphans`: it inherits the CLI's
marker like every process the CLI starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import prefect
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    get_current_settings,
    temporary_settings,
)

from core.errors import WatchfloorError

log = logging.getLogger("prefect.watchfloor.api")

# What SubprocessASGIServer runs (prefect 3.8), no UI, ephemeral mode: Prefect's app, with a
# background worker that polls less often (flows.apiapp).
APP_FACTORY = "flows.apiapp:create_app"
SERVER_ENVIRONMENT = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
PORT_IN_USE_EXIT = 3  # uvicorn's exit status when it cannot bind its port
HEALTH_POLL_S = 0.1
STOP_GRACE_S = 5.0


class TemporaryApiError(WatchfloorError):
    """Prefect's temporary API did not start (it exited, or never answered its health check)."""


@contextlib.contextmanager
def temporary_api() -> Iterator[bool]:
    """Inside the block Prefect's API is reachable from this process and its children: the one
    PREFECT_API_URL names, or a temporary one started here and stopped on the way out. Yields
    True when it started one."""
    if PREFECT_API_URL.value():
        yield False
        return
    server, api_url = start_server()
    os.environ["PREFECT_API_URL"] = api_url
    try:
        with temporary_settings({PREFECT_API_URL: api_url}):
            yield True
    finally:
        try:
            drain_prefect_workers()
        finally:  # the server stops whatever draining met
            os.environ.pop("PREFECT_API_URL", None)
            stop_server(server)


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    """Start the server on a free loopback port and wait until it answers; (process, API URL).
    Raises TemporaryApiError when it exits or does not answer within Prefect's start-up
    timeout (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)."""
    timeout_s = float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    deadline = time.monotonic() + timeout_s
    port = free_port()
    server = _launch(port)
    log.info("Starting temporary server on http://127.0.0.1:%d", port)
    try:
        with httpx.Client(trust_env=False) as client:
            while time.monotonic() < deadline:
                if server.poll() == PORT_IN_USE_EXIT:  # taken since it was found free
                    port = free_port()
                    server = _launch(port)
                elif server.poll() is not None:
                    raise TemporaryApiError(
                        f"Prefect's temporary API server exited with status {server.returncode}"
                    )
                elif _healthy(client, port):
                    return server, f"http://127.0.0.1:{port}/api"
                time.sleep(HEALTH_POLL_S)
    except BaseException:
        stop_server(server)
        raise
    stop_server(server)
    raise TemporaryApiError(
        f"Prefect's temporary API server did not answer within {timeout_s:.0f} s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); a loaded machine may need more"
    )


def drain_prefect_workers() -> None:
    """Send what Prefect's background workers still hold (a run's last logs and events) while
    the server is up. Prefect drains them when its threads shut down, which comes after the
    block that stops the server."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=STOP_GRACE_S)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Terminate the server, and kill it if it has not exited after a grace period."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def free_port() -> int:
    """A loopback port nothing listens on now (the kernel's choice)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _launch(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(_prefect_parent())]
    command += ["--factory", APP_FACTORY, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "error", "--lifespan", "on"]
    settings = get_current_settings().to_environment_variables(exclude_unset=True)
    return subprocess.Popen(command, env={**os.environ, **SERVER_ENVIRONMENT, **settings})


def _prefect_parent() -> Path:
    """The folder holding the `prefect` package, as SubprocessASGIServer gives uvicorn."""
    return Path(prefect.__module_path__).parent


def _healthy(client: httpx.Client, port: int) -> bool:
    try:
        return client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
    except httpx.TransportError:
        return False
