"""Helpers shared by the adapter tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.sourcekinds.rss import FeedCursor
from core.model import FetchResult, SourceSpec, SourceState

FIXTURES = Path(__file__).parent / "fixtures"
# What the test feed server needs opened: fetches refuse loopback addresses by default.
LOOPBACK = ("127.0.0.1",)
SEEDS = Path(__file__).resolve().parents[2] / "seeds"

# Small limits so failure cases finish in well under a second each.
FAST = {
    "connect_timeout_s": 1.0,
    "read_timeout_s": 0.5,
    "total_timeout_s": 3.0,
    "retries": 1,
    "backoff_s": 0.01,
}


def rss_spec(name: str, url: str, **options: Any) -> SourceSpec:
    """An rss source with test-sized timeouts (override any option by keyword)."""
    return SourceSpec(name=name, kind="rss", location=url, options={**FAST, **options})


def fixture_bytes(name: str) -> bytes:
    """The bytes of a file under fixtures/."""
    return (FIXTURES / name).read_bytes()


def feed_cursor(result: FetchResult) -> FeedCursor:
    """What an rss fetch left in its cursor (validators, body hash, feed TTL)."""
    assert result.cursor is not None, f"{result.source}: no cursor returned"
    return FeedCursor.read(result.cursor)


def state_after(result: FetchResult) -> SourceState:
    """The state the store hands the next fetch after this successful one."""
    assert result.cursor is not None, f"{result.source}: no cursor returned"
    return SourceState(result.cursor)
