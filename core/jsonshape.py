"""The JSON shape of a development, shared by the CLI (`developments --json`) and the web API.

It lives in the vocabulary so `flows` and `web` print one shape without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from core.model import DevelopmentView


def jsonable(value: Any) -> Any:
    """Dates to ISO strings and tuples to lists, recursively, for JSON output."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return jsonable_object(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def jsonable_object(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """A JSON object: string keys, each value made JSON-ready by `jsonable`."""
    return {str(k): jsonable(v) for k, v in fields.items()}


def development_json(view: DevelopmentView) -> dict[str, Any]:
    """One stored development as `replay`, `run`, `developments --json` and `/api/developments`
    print it."""
    return jsonable_object(
        {
            "id": view.id,
            "category": view.category,
            "status": view.status,
            "background": view.background,
            "title": view.title,
            "event_date": view.event_date,
            "place": view.place,
            "actors": list(view.actors),
            "facts": dict(view.facts),
            "evidence": list(view.evidence),
            "regions": list(view.regions),
            # An analyst's verdict: None, "false_alarm" or "merged" (then into `merged_into`).
            "dismissed": view.dismissed_as,
            "merged_into": view.merged_into,
        }
    )
