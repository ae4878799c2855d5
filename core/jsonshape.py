"""The JSON shape of a development, shared by the CLI (`developments --json`) and the web API.

It lives in the vocabulary so `flows` and `web` print one shape without importing each other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    """Dates to ISO strings and tuples to lists, recursively, for JSON output."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def development_json(view: Any) -> dict[str, Any]:
    """One stored development (db.DevelopmentView) as `replay`, `run`, `developments --json` and
    `/api/developments` print it."""
    return jsonable(
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
        }
    )
