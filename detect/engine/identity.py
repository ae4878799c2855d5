"""When two reports are one event: the identity tests of the article and the batch level.

Same event = compatible dates (within a day; an undated report fits any date), equal places (or
one side names none), and the same parties. Within one article (`compatible`) mentions need
only share an actor: the article names the states and bodies of its event piecemeal, with
bystanders. Across reports, and for participants named as people even within one article
(`same_event`), the parties must nest or share two: outlets name the parties of one
event partially ("North Korea"; "North Korea and Russia"), but two events that share one party
are two events (Japan's talks with the Philippines and a US–Japan–South Korea exercise the same
week share Japan only; a minister's meetings with two counterparts share the minister only).
Among the candidates that fit, the best scored wins: close dates, shared actors, same place,
agreeing facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from detect.text.dates import DateSpan
from detect.text.names import name_key

DATE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Identity:
    """What identifies an event: its days, actors (as name keys) and place."""

    span: DateSpan | None
    actors: frozenset[str]
    place: str | None
    facts: Mapping[str, Any] = field(default_factory=dict)


def identity_of(
    day: date | DateSpan | None,
    actors: Iterable[str],
    place: str | None,
    facts: Mapping[str, Any] | None = None,
) -> Identity:
    """An identity from plain values (a day, actor names, a place name)."""
    span = DateSpan(day, day) if isinstance(day, date) else day
    keys = frozenset(name_key(a) for a in actors)
    return Identity(span, keys, place.casefold() if place else None, facts or {})


def compatible(a: Identity, b: Identity) -> bool:
    """Whether two mentions in one article can be the same event: their actors overlap. An
    article names the parties of its event sentence by sentence, with whoever else the sentence
    names ("the coast guard" here, "China" there), so its mentions share a party, not a list."""
    if a.actors and b.actors and not a.actors & b.actors:
        return False
    return _time_and_place_fit(a, b)


def same_event(a: Identity, b: Identity) -> bool:
    """Whether two reports (or a report and a development) can be the same event: their
    parties nest or share two (see `same_parties`), with compatible dates and places."""
    return same_parties(a.actors, b.actors) and _time_and_place_fit(a, b)


def same_parties(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two actor sets can name the parties of one event: one names none, one is a
    partial list of the other, or they share at least two parties (each outlet adds whoever
    else it names: "South Korea, the US and Japan" and "South Korea, the US and North Korea").
    One party in common is not enough: that is how two events of the same week differ."""
    if not a or not b:
        return True
    shared = len(a & b)
    return shared == min(len(a), len(b)) or shared >= 2


def _time_and_place_fit(a: Identity, b: Identity) -> bool:
    """Dates within a day of each other (or one undated) and one place (or one unnamed)."""
    if (
        a.span
        and b.span
        and (
            a.span.start - DATE_TOLERANCE > b.span.end or b.span.start - DATE_TOLERANCE > a.span.end
        )
    ):
        return False
    return not (a.place and b.place and a.place != b.place)


def score(a: Identity, b: Identity) -> float:
    """How strongly `a` and `b` look like one event (only meaningful when compatible)."""
    total = 0.0
    if a.span and b.span:
        gap = max(a.span.start, b.span.start) - min(a.span.end, b.span.end)
        exact = a.span.exact and b.span.exact
        total += (3.0 if exact else 1.0) - max(0, gap.days)
    total += len(a.actors & b.actors)
    if a.place and a.place == b.place:
        total += 1.0
    for key in a.facts.keys() & b.facts.keys():
        left, right = a.facts[key], b.facts[key]
        if isinstance(left, int | float | str) and isinstance(right, int | float | str):
            total += 0.5 if left == right else -0.5
    return total
