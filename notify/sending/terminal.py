"""`watchfloor://terminal`: an Apprise schema that prints alerts to the terminal.

Flows use it when no subscriber is configured, so a first run still shows its alerts. It is a
real Apprise plugin (a NotifyBase registered for the schema), so it goes through the same
routing, rendering and delivery code as any other channel.

A long replay can raise hundreds of alerts: each terminal subscriber prints the first
`FULL_MESSAGES` in full, then one line per alert (its title: category, status, headline), so the
run's summary table is still on screen at the end. The count is the plugin's own, and a run
loads its subscribers once, so it counts one run's messages.
"""

from __future__ import annotations

import sys
from typing import Any

from apprise import NotifyBase, NotifyFormat, NotifyType
from apprise.manager_plugins import NotificationManager

SCHEMA = "watchfloor"
TERMINAL_URL = f"{SCHEMA}://terminal"
FULL_MESSAGES = 10
_RULE = "─" * 72
SWITCH_NOTE = (
    f"(more than {FULL_MESSAGES} alerts: one line each from here;"
    " `watchfloor alerts list` lists them all)"
)


class TerminalNotify(NotifyBase):
    """Writes each message to stdout (looked up at call time, so redirections apply)."""

    # Apprise's URLBase declares both as a bare `= None`, so mypy takes their type to be None.
    service_name = "Watchfloor terminal"  # type: ignore[assignment]
    protocol = SCHEMA  # type: ignore[assignment]
    notify_format = NotifyFormat.TEXT
    request_rate_per_sec = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.printed = 0

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str:
        """The URL carries nothing secret; its privacy form (the subscriber's display in the
        delivery ledger) is the bare schema, as it always was."""
        return f"{SCHEMA}://" if privacy else TERMINAL_URL

    # Apprise calls a plugin's parse_url(url) alone, and its own plugins override it so; its
    # NotifyBase and URLBase give it more (and differing) keyword parameters.
    @staticmethod
    def parse_url(url: str) -> dict[str, Any] | None:  # type: ignore[override]
        """Apprise's reading of `watchfloor://terminal` (no host check: the host is a word)."""
        return NotifyBase.parse_url(url, verify_host=False)

    def send(
        self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any
    ) -> bool:
        self.printed += 1
        if self.printed <= FULL_MESSAGES or not title:
            lines = [_RULE, *([title, ""] if title else []), body]
        else:
            lines = [_RULE, SWITCH_NOTE] if self.printed == FULL_MESSAGES + 1 else []
            lines.append(f"• {title}")
        out = sys.stdout
        out.write("\n".join(lines) + "\n")
        out.flush()
        return True


def register() -> None:
    """Register the schema once per process."""
    manager = NotificationManager()
    if SCHEMA not in manager:
        manager.add(TerminalNotify, schemas=SCHEMA)


register()
