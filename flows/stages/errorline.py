"""An error as the store records it on an article or a source: one bounded line.

A module of its own so that pure work (`flows.stages.analysis`, which the process analysing ahead
imports) records errors as ingest does without importing ingest and its adapters."""

from __future__ import annotations

import db


def describe(exc: BaseException) -> str:
    """One line for an error: its type and message, bounded."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[: db.MAX_ERROR_CHARS]
