"""`watchfloor://terminal`: an Apprise schema that prints alerts to the terminal.

Flows use it when no subscriber is configured, so a first run still shows its alerts. It is a
real Apprise plugin (registered with `apprise.decorators.notify`), so it goes through the same
routing, rendering and delivery code as any other channel.
"""

from __future__ import annotations

import sys
from typing import Any

from apprise.decorators import notify as apprise_notify
from apprise.manager_plugins import NotificationManager

SCHEMA = "watchfloor"
TERMINAL_URL = f"{SCHEMA}://terminal"
_RULE = "─" * 72


def print_alert(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """Write one message to stdout (looked up at call time, so redirections apply)."""
    out = sys.stdout
    lines = [_RULE]
    if title:
        lines.append(title)
        lines.append("")
    lines.append(body)
    out.write("\n".join(lines) + "\n")
    out.flush()
    return True


def register() -> None:
    """Register the schema once per process (Apprise refuses a second registration)."""
    if SCHEMA not in NotificationManager():
        apprise_notify(on=SCHEMA, name="Watchfloor terminal")(print_alert)


register()
