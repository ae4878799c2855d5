"""The JSON shape of a development, shared by the CLI (`developments --json`) and the web API.

It lives in the vocabulary so `flows` and `web` print one shape without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Protocol


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


class DevelopmentFields(Protocol):
    """What `development_json` reads of a stored development (db.DevelopmentView has them)."""

    @property
    def id(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def background(self) -> bool: ...
    @property
    def title(self) -> str: ...
    @property
    def event_date(self) -> date | None: ...
    @property
    def place(self) -> str | None: ...
    @property
    def actors(self) -> Iterable[str]: ...
    @property
    def facts(self) -> Mapping[str, Any]: ...
    @property
    def evidence(self) -> Iterable[str]: ...
    @property
    def regions(self) -> Iterable[str]: ...
    @property
    def dismissed_as(self) -> str | None: ...
    @property
    def merged_into(self) -> int | None: ...


def development_json(view: DevelopmentFields) -> dict[str, Any]:
    """One stored development (db.DevelopmentView) as `replay`, `run`, `developments --json` and
    `/api/developments` print it."""
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
