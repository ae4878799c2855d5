"""Fixtures for adapter tests: a real feed server on 127.0.0.1, started once per session, a fetch
context allowed to reach it, and a guard that no test sends a packet beyond loopback."""

from __future__ import annotations

import ipaddress
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from adapters import FetchContext
from tests.adapters.adapterkit import LOOPBACK
from tests.adapters.feedserver import FeedServer, serving_feeds

_GUARDING = threading.Event()
_BLOCKED: list[str] = []


def _loopback_only(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook: while guarding, a connection or name lookup beyond loopback is stopped
    (PermissionError) and recorded. Tests of refused addresses thereby prove the refusal came
    first: had the fetcher tried to connect, the address would be recorded here."""
    if not _GUARDING.is_set():
        return
    if event == "socket.connect" and isinstance(args[1], tuple):
        target = str(args[1][0])
    elif event == "socket.getaddrinfo":
        target = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
    else:
        return
    if not _is_local(target):
        _BLOCKED.append(f"{event} {target}")
        raise PermissionError(f"tests stay on loopback: {event} to {target} stopped")


def _is_local(target: str) -> bool:
    if target in ("localhost", "None"):
        return True
    try:
        return ipaddress.ip_address(target.strip("[]")).is_loopback
    except ValueError:
        return False


sys.addaudithook(_loopback_only)  # hooks cannot be removed: it only acts while _GUARDING is set


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Every adapter test: no connection or lookup beyond loopback happens, or it fails."""
    _BLOCKED.clear()
    _GUARDING.set()
    try:
        yield
    finally:
        _GUARDING.clear()
    assert not _BLOCKED, f"traffic beyond loopback was attempted: {_BLOCKED}"


@pytest.fixture(scope="session")
def server_session() -> Iterator[FeedServer]:
    with serving_feeds() as server:
        yield server


@pytest.fixture
def server(server_session: FeedServer) -> FeedServer:
    """The shared feed server with its counters reset for this test."""
    server_session.reset_counters()
    server_session.files.clear()
    return server_session


@pytest.fixture
def local() -> Iterator[FetchContext]:
    """A fetch context for this test that may reach the loopback feed server."""
    with FetchContext(concurrency=8, per_host=8, allow_networks=LOOPBACK) as context:
        yield context
