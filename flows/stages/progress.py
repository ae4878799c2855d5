"""Progress of a long run, for a person at a terminal.

The stages report what they have done through a `RunProgress` handed down to them (replay and
run flows -> ingest and detect stages); nothing is kept in module state. `terminal_progress`
gives the CLI one that draws rich progress bars on the terminal, or None when nobody would see
them: `--json` output, or stdout or stderr not a terminal (a pipe, a CI log, a cron mail).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Literal, Protocol, runtime_checkable

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

ReadUnit = Literal["files", "sources"]


@runtime_checkable
class RunProgress(Protocol):
    """What the stages of a run report as they go. Calls may come from several threads."""

    def reading(self, total: int, unit: ReadUnit) -> None:
        """The run is about to read `total` files (a replay) or sources (a monitor run)."""

    def stored(self, sources: int, articles: int) -> None:
        """A group of `sources` was fetched and stored, holding `articles` items."""

    def detected(self, articles: int, alerts: int) -> None:
        """A chunk of `articles` was detected, raising `alerts` alerts."""


class TerminalProgress:
    """RunProgress as rich progress bars: read (files or sources), then detect (articles)."""

    def __init__(self, bars: Progress) -> None:
        self._bars = bars
        self._lock = threading.Lock()
        self._unit: ReadUnit = "sources"
        self._read: TaskID | None = None
        self._detect: TaskID | None = None
        self._stored_articles = 0
        self._detected = 0
        self._alerts = 0

    def reading(self, total: int, unit: ReadUnit) -> None:
        with self._lock:
            self._unit = unit
            self._read = self._bars.add_task(f"read {unit}", total=total)

    def stored(self, sources: int, articles: int) -> None:
        with self._lock:
            self._stored_articles += articles
            if self._read is not None:
                # A replay counts its files by the articles they gave; a run, its sources.
                done = articles if self._unit == "files" else sources
                self._bars.advance(self._read, done)

    def detected(self, articles: int, alerts: int) -> None:
        with self._lock:
            self._detected += articles
            self._alerts += alerts
            if self._detect is None:
                self._detect = self._bars.add_task("detect articles", total=None)
            # Articles stored by this run, or more when earlier runs left some to detect.
            total = max(self._stored_articles, self._detected)
            self._bars.update(
                self._detect,
                completed=self._detected,
                total=total,
                description=f"detect articles ({self._alerts} alerts)",
            )


def wanted(as_json: bool) -> bool:
    """Whether progress bars would be seen: not in --json mode, both streams terminals."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


@contextlib.contextmanager
def terminal_progress(as_json: bool) -> Iterator[RunProgress | None]:
    """Progress bars on stderr for the block (lines printed meanwhile appear above them), or
    None when nobody would see them. The bars stay on screen, complete, when the block ends."""
    if not wanted(as_json):
        yield None
        return
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
        redirect_stdout=True,
        redirect_stderr=True,
    )
    with bars, _logs_above(bars.console):
        yield TerminalProgress(bars)


def _console_handlers() -> list[logging.Handler]:
    """The log handlers that print through a rich Console of their own (Prefect's)."""
    handlers = [*logging.getLogger().handlers, *logging.getLogger("prefect").handlers]
    return [h for h in handlers if isinstance(getattr(h, "console", None), Console)]


@contextlib.contextmanager
def _logs_above(console: Console) -> Iterator[None]:
    """Log lines printed through `console` while the bars show, so they go above the bars
    instead of into them (Prefect's handler holds the real stderr, which the bars do not see)."""
    swapped = [(handler, handler.console) for handler in _console_handlers()]  # type: ignore[attr-defined]
    for handler, _ in swapped:
        handler.console = console  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for handler, own in swapped:
            handler.console = own  # type: ignore[attr-defined]
