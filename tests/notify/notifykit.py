"""Helpers of the notify tests: a sample alert and loaded targets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import notify
from core.model import Alert, EvidenceRef, Target

MAIL_QUERY = "from=alerts@example.com&to=ops@example.com"


def make_alert(**changes: Any) -> Alert:
    """The seed missile launch as an Alert; any field can be changed."""
    fields: dict[str, Any] = {
        "id": 1,
        "development_id": 1,
        "kind": "new",
        "category": "missile_launch",
        "status": "occurred",
        "previous_status": None,
        "title": "North Korea fires two ballistic missiles",
        "event_date": date(2026, 1, 27),
        "place": "northern Pyongyang",
        "actors": ("North Korea",),
        "facts": {"count": 2, "apogee_km": 80, "range_km": 350, "local_time": "15:50"},
        "level": "high",
        "tags": ("region:korean_peninsula",),
        "rule_id": "missile_launch",
        "terms": ("fired", "ballistic missiles"),
        "evidence": (
            EvidenceRef("Yonhap", "N. Korea fires 2 ballistic missiles", "https://yna.example/1"),
            EvidenceRef("NHK", "North Korea launches missiles", "https://nhk.example/2"),
            EvidenceRef("Kyodo", "Missiles land outside EEZ", None),
        ),
        "created_at": datetime(2026, 1, 28, 1, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return Alert(**fields)


def target(url: str, *tags: str) -> Target:
    """A Target loaded the way flows load one (validated, secrets registered)."""
    loaded = notify.target_from_url(url)
    return Target(loaded.key, loaded.url, loaded.display, frozenset(tags))
