"""Collect what Apprise logged during one call, to tell a user *why* it failed.

Apprise reports failures as a False return value and explains them only in its log. While a
call runs, a handler on the `apprise` logger keeps the warnings and errors emitted by the calling
thread (other threads sending at the same time are not mixed in), plus the `... Exception: ...`
debug lines that carry the underlying cause (a 550 reply, a read timeout) when the logger is
enabled for debug; levels are never changed here. Records reach it already scrubbed of secrets
(notify.sending.privacy' filter runs on the logger, before any handler).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from apprise import LOGGER_NAME


class _ThreadCapture(logging.Handler):
    """Keeps the messages of records logged by one thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._thread = threading.get_ident()
        self._messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self._thread:
            return
        message = record.getMessage()
        if record.levelno >= logging.WARNING or "Exception:" in message:
            self._messages.append(message)

    def messages(self) -> list[str]:
        """The captured messages, oldest first, without repeats."""
        return list(dict.fromkeys(self._messages))


@contextlib.contextmanager
def capture_apprise_log() -> Iterator[_ThreadCapture]:
    """Capture Apprise's failure explanations logged by this thread during the block."""
    handler = _ThreadCapture()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
