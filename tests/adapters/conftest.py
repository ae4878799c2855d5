"""Fixtures for adapter tests: a real feed server on 127.0.0.1, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.feedserver import FeedServer


@pytest.fixture(scope="session")
def server_session() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.close()


@pytest.fixture
def server(server_session: FeedServer) -> FeedServer:
    """The shared feed server with its counters reset for this test."""
    server_session.reset_counters()
    server_session.files.clear()
    return server_session
