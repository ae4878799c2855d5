"""The structured part of a JSON webhook (`json://`, `jsons://`): an alert's fields as JSON.

Apprise's JSON plugin posts `{"version", "title", "message", "attachments", "type"}`. Watchfloor
adds the development's fields beside them, as JSON values (objects and lists, not a JSON text
inside `message`), so a receiver reads `payload["evidence"][0]["url"]` without parsing prose.
The fields are versioned by `"watchfloor": PAYLOAD_VERSION`: a field is only ever added within
a version; renaming or removing one makes the next version.

Field names never collide with Apprise's own five: the development's title is `headline`
(`title` stays the alert's title line, `message` its rendered text). A subscriber URL may still
rename or drop Apprise's fields (`?:message=text`), as Apprise documents.

Values are what the alert carries, unescaped: a receiver that shows them in HTML escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from core.model import Alert, EvidenceRef

PAYLOAD_VERSION = 1
# Apprise's own fields: a field of ours with one of these names would rename Apprise's instead.
APPRISE_FIELDS = frozenset({"version", "title", "message", "attachments", "type"})


def _json_value(value: Any) -> Any:
    """A fact value as JSON: dates as ISO 8601, tuples and sets as lists, the rest as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _evidence(ref: EvidenceRef) -> dict[str, Any]:
    return {
        "outlet": ref.source,
        "title": ref.title,
        "url": ref.url,
        "published": ref.published.isoformat() if ref.published else None,
    }


def alert_fields(alert: Alert) -> dict[str, Any]:
    """One alert's structured fields (version 1), ready for json.dumps."""
    return {
        "watchfloor": PAYLOAD_VERSION,
        "alert_id": alert.id,
        "development_id": alert.development_id,
        "category": alert.category,
        "status": alert.status,
        "previous_status": alert.previous_status,
        "change": alert.kind,
        "level": alert.level,
        "regions": list(alert.regions),
        "event_date": alert.event_date.isoformat() if alert.event_date else None,
        "place": alert.place,
        "actors": list(alert.actors),
        "facts": _json_value(dict(alert.facts or {})),
        "headline": alert.title,
        "rule": alert.rule_id,
        "evidence": [_evidence(ref) for ref in alert.evidence],
        "created_at": alert.created_at.isoformat(),
    }


def digest_fields(alerts: Sequence[Alert]) -> dict[str, Any]:
    """A digest's structured fields: every alert it covers, each as `alert_fields` gives it."""
    return {"watchfloor": PAYLOAD_VERSION, "alerts": [alert_fields(a) for a in alerts]}


def probe_fields() -> dict[str, Any]:
    """The structured fields of `watchfloor alerts test`: only the version, and that it is one."""
    return {"watchfloor": PAYLOAD_VERSION, "test": True}
