"""Development titles from a rule's template: "{actor} fires {count/weapon_type|missile}".

A field is `{name}` or `{name|default}`; a field with no value renders its default (or nothing),
and the spaces left behind are tidied. A list renders as "a and b"; `{name:dash}` joins it with
a spaced en dash ("Lee Jae-myung – Sanae Takaichi"), `{name:pair}` with a bare one
("Japan–South Korea"). `{count/noun|default}` is the noun counted by `count`: "two ballistic
missiles" for 2, "ballistic missile" for 1 or no count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_FIELD = re.compile(
    r"\{(?:(?P<counter>[A-Za-z_][A-Za-z0-9_]*)/)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?::(?P<style>dash|pair))?(?:\|(?P<default>[^{}]*))?\}"
)
_STRAY = re.compile(r"\s+([,;:)])|([(])\s+")
_EMPTY = re.compile(r"\(\s*[,;]?\s*\)|(?<=\()\s*[,;]\s*|\s*[,;]\s*(?=\))")
FIXED_FIELDS = frozenset({"actor", "actors", "states", "place", "date", "status", "category"})
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# Nouns whose plural is not the noun + "s" (an all-capital abbreviation takes a plain "s").
_PLURALS = {"vehicle": "vehicles", "projectile": "projectiles", "rocket": "rockets"}


def template_fields(template: str) -> list[str]:
    """Names of the fields a template uses (both names of a counted noun)."""
    names = []
    for match in _FIELD.finditer(template):
        if match["counter"]:
            names.append(match["counter"])
        names.append(match["name"])
    return names


def _text(value: Any, style: str | None) -> str:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value if str(v)]
        if style:
            return ("–" if style == "pair" else " – ").join(items)
        if len(items) > 2:
            return ", ".join(items[:-1]) + " and " + items[-1]
        return " and ".join(items)
    return "" if value is None else str(value)


def plural(noun: str) -> str:
    """The plural of a noun phrase: "ballistic missile" -> "ballistic missiles", "ICBM" ->
    "ICBMs"."""
    head, _, last = noun.rpartition(" ")
    if last in _PLURALS:
        last = _PLURALS[last]
    elif last.endswith(("s", "x", "ch", "sh")) and not last.isupper():
        last += "es"
    else:
        last += "s"
    return f"{head} {last}".strip()


def counted(count: Any, noun: str) -> str:
    """A noun with its count in words: "two ballistic missiles"; one or an unknown count
    reads as a headline does, "ballistic missile"."""
    if not isinstance(count, int) or count <= 1:
        return noun
    number = _NUMBERS[count] if count < len(_NUMBERS) else str(count)
    return f"{number} {plural(noun)}"


def render(template: str, values: Mapping[str, Any]) -> str:
    """The template with every field filled in."""

    def fill(match: re.Match[str]) -> str:
        text = _text(values.get(match["name"]), match["style"]) or (match["default"] or "")
        if match["counter"] and text:
            return counted(values.get(match["counter"]), text)
        return text

    text = " ".join(_FIELD.sub(fill, template).split())
    text = _STRAY.sub(lambda m: m.group(1) or m.group(2), text)
    return " ".join(_EMPTY.sub("", text).split()).strip(" ,;:-")
