"""The wall clock of flows: the one place they read it, so tests can set it
(`monkeypatch.setattr("flows.context.clock.utcnow", ...)`); callers look it up as
`clock.utcnow()`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)
