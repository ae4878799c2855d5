"""The Apprise asset Watchfloor hands to every Apprise object it builds."""

from __future__ import annotations

from apprise import AppriseAsset


def asset() -> AppriseAsset:
    """The Apprise asset Watchfloor uses everywhere: secure logging, in-memory storage only."""
    return AppriseAsset(
        app_id="Watchfloor",
        app_desc="Watchfloor security alerts",
        secure_logging=True,
        storage_mode="memory",
    )
