"""A source kind's cursor: its own memory of one source between fetches, opaque to the rest.

Modelled on the Singer SDK's per-stream state (a bookmark such as a replication key's value):
the store keeps one JSON object per source and hands it back to the kind on the next fetch,
without reading it. What it holds is the kind's business: the `rss` kind keeps its HTTP
validators (ETag, Last-Modified), the hash of the last body and the feed's own TTL; the
`seedfiles` kind the hash of the files it read. A new kind keeps whatever it needs with no
migration.

A Cursor is read-only and holds JSON values only (objects become Cursors, arrays tuples), so it
can be passed around, compared and stored as it is. A value JSON cannot carry (a date, NaN, a
non-string key) is refused when the cursor is built, in the kind that built it, not when the
store writes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any


class Cursor(Mapping[str, Any]):
    """A read-only JSON object: a kind's memory of one source (see the module docstring)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        """Copy `items` into read-only form; TypeError names a value JSON cannot carry."""
        self._items = {_key(key): _frozen(value) for key, value in (items or {}).items()}

    @classmethod
    def from_json(cls, value: object) -> Cursor:
        """The cursor of a stored JSON value; anything but an object (NULL, a list, text left
        by a corrupt write) is the empty cursor, so reading a store never fails on it."""
        if not isinstance(value, Mapping):
            return cls()
        try:
            return cls(value)
        except TypeError:
            return cls()

    def to_json(self) -> dict[str, Any]:
        """A plain JSON object (dicts and lists) for `json.dumps` or a JSON column."""
        return {key: _thawed(value) for key, value in self._items.items()}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_json(), sort_keys=True))

    def __repr__(self) -> str:
        return f"Cursor({self.to_json()!r})"


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"cursor keys must be strings, not {type(key).__name__}")
    return key


def _frozen(value: object) -> Any:
    """`value` as a cursor holds it; TypeError for anything JSON cannot carry."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"cursor values must be finite numbers, not {value}")
        return value
    if isinstance(value, Mapping):
        return value if isinstance(value, Cursor) else Cursor(value)
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    raise TypeError(f"cursor values must be JSON values, not {type(value).__name__}")


def _thawed(value: Any) -> Any:
    if isinstance(value, Cursor):
        return value.to_json()
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    return value
