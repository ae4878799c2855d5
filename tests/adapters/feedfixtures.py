"""The feed server as a fixture for every test package (registered in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.feedserver import FeedServer, serving_feeds


@pytest.fixture(scope="module")
def feed_server() -> Iterator[FeedServer]:
    """One feed server on 127.0.0.1 for the test module; tests reset its counters as they need."""
    with serving_feeds() as server:
        yield server
