"""Typed errors, each carrying what a user needs to fix the problem.

WatchfloorError
 ├── ConfigError            bad configuration (rules, aliases, sources, subscribers): file:line
 ├── ConfigValidationError  every ConfigError found in one validation pass, reported together
 ├── SourceError            a source could not be read
 │    ├── FetchError        network fetch of a feed failed
 │    │    ├── TransientFetchError   worth retrying later: timeouts, 429, 5xx, resets
 │    │    └── PermanentFetchError   will not fix itself: 4xx, not a feed, body over the cap
 │    └── SourceReadError   a local file could not be read or decoded
 └── DeliveryError          an alert could not be delivered to a target
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class WatchfloorError(Exception):
    """Base of every error Watchfloor raises on purpose."""


@dataclass(eq=False)
class ConfigError(WatchfloorError):
    """Invalid configuration, pinned to a file and (when known) a 1-based line."""

    path: str
    reason: str
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"


class ConfigValidationError(WatchfloorError):
    """Every configuration error found in one validation pass, so a user fixes them all at once."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors: list[ConfigError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class SourceError(WatchfloorError):
    """A source (feed or folder) could not be read; recorded on the source, the run goes on."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class FetchError(SourceError):
    """A network fetch failed."""

    transient: bool = False

    def __init__(self, source: str, reason: str, http_status: int | None = None) -> None:
        self.http_status = http_status
        super().__init__(source, reason)


class TransientFetchError(FetchError):
    """Worth retrying later (timeouts, connection resets, 429, 5xx)."""

    transient = True

    def __init__(
        self,
        source: str,
        reason: str,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(source, reason, http_status)


class PermanentFetchError(FetchError):
    """Will not fix itself without a change on either side (404, 410, not a feed, too large)."""


class SourceReadError(SourceError):
    """A local article file could not be read or decoded."""


class DeliveryError(WatchfloorError):
    """An alert could not be delivered to one target. `target` is always the privacy-safe form."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"{target}: {reason}")


class FeedbackError(WatchfloorError):
    """A feedback action that cannot apply as asked: the message says why, in the user's terms
    (an unknown development, a merge into itself, evidence that is not the development's)."""
