"""Keyed log lines (logfmt: `event key=value key="two words"`), so an operator can grep and
parse what a run did: one line per source outcome, one per stage summary.

Source outcomes go to the `watchfloor.sources` logger: INFO for a source that was read, WARNING
for one that failed. It is quiet by default (Prefect's root level is WARNING, so only failures
show); `PREFECT_LOGGING_ROOT_LEVEL=INFO` prints every line, and
`PREFECT_LOGGING_EXTRA_LOGGERS=watchfloor` sends them to the Prefect API with the run's logs.
Stage summaries go to the run's logger (Prefect's, so they show on the run's page).

Formatting is hand-written: a dozen lines, where a logging library would replace Prefect's own
handlers. Values are outside text (source names, errors): quoting keeps each line one line.
"""

from __future__ import annotations

import logging
import sys

from core.model import FetchResult

SOURCES = logging.getLogger("watchfloor.sources")
log = logging.getLogger(__name__)

_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+")


def keyed(event: str, **fields: object) -> str:
    """`event` followed by `key=value` for every field that is not None."""
    pairs = (f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
    return " ".join((event, *pairs))


def _value(value: object) -> str:
    """A value as logfmt writes it: bare when it is one plain word, else double-quoted with
    backslash, quote and every control character escaped."""
    if isinstance(value, float):
        value = f"{value:.3f}"
    text = str(value)
    if text and all(ch in _BARE for ch in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(_escape(ch) for ch in escaped) + '"'


def _escape(ch: str) -> str:
    if ch == "\n":
        return "\\n"
    if ch.isprintable() or ch == " ":
        return ch
    # Fixed widths, as Python writes them, so the digits after an escape stay text.
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def log_source_outcome(result: FetchResult, new_items: int) -> None:
    """One line for what one source's fetch gave (quiet unless INFO is enabled)."""
    if not SOURCES.isEnabledFor(logging.INFO):
        return
    failed = result.status == "error"
    SOURCES.info(
        keyed(
            "source",
            name=result.source,
            status=result.status,
            http=result.http_status,
            items=len(result.articles),
            new=new_items,
            transient=result.transient if failed else None,
            retry_after_s=result.retry_after_s,
            fresh_for_s=result.fresh_for_s,
            error=result.error,
        )
    )


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """Prefect's run logger inside a flow or task run (the line shows on the run's page), else
    this module's."""
    if "prefect.context" not in sys.modules:  # no run without Prefect; importing it costs ~2 s
        return log
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return log


def log_stage(stage: str, **fields: object) -> None:
    """The one summary line of a stage of a run."""
    run_logger().info(keyed("stage", name=stage, **fields))
