"""Development titles from a rule's template: "{actor} fires {count} ballistic missile(s)".

A field is `{name}` or `{name|default}`; a field with no value renders its default (or nothing),
and the spaces left behind are tidied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?:\|([^{}]*))?\}")
_STRAY = re.compile(r"\s+([,;:)])|([(])\s+")
_EMPTY = re.compile(r"\(\s*[,;]?\s*\)|(?<=\()\s*[,;]\s*|\s*[,;]\s*(?=\))")
FIXED_FIELDS = frozenset({"actor", "actors", "place", "date", "status", "category"})


def template_fields(template: str) -> list[str]:
    """Names of the fields a template uses."""
    return [m.group(1) for m in _FIELD.finditer(template)]


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value if str(v)]
        if len(items) > 2:
            return ", ".join(items[:-1]) + " and " + items[-1]
        return " and ".join(items)
    return "" if value is None else str(value)


def render(template: str, values: Mapping[str, Any]) -> str:
    """The template with every field filled in."""

    def fill(match: re.Match[str]) -> str:
        return _text(values.get(match.group(1))) or (match.group(2) or "")

    text = " ".join(_FIELD.sub(fill, template).split())
    text = _STRAY.sub(lambda m: m.group(1) or m.group(2), text)
    return " ".join(_EMPTY.sub("", text).split()).strip(" ,;:-")
