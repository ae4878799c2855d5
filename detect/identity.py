"""When two reports are one event: the identity test shared by the article and the batch level.

Same event = compatible dates (within a day; an undated report fits any date), the same parties
(one side's actors all among the other's, or one side names none), equal places (or one side
names none). Among compatible candidates the best scored wins: close dates, shared actors, same
place, agreeing facts.

Parties nest, they do not merely overlap: outlets name the parties of one event partially ("North
Korea"; "North Korea and Russia"), but two events that share one party are two events (Japan's
talks with the Philippines and a US–Japan–South Korea exercise the same week share Japan only;
a minister's meetings with two counterparts share the minister only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from detect.dates import DateSpan
from detect.names import name_key

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
    """Whether `a` and `b` can be the same event."""
    if (
        a.span
        and b.span
        and (
            a.span.start - DATE_TOLERANCE > b.span.end or b.span.start - DATE_TOLERANCE > a.span.end
        )
    ):
        return False
    if not same_parties(a.actors, b.actors):
        return False
    return not (a.place and b.place and a.place != b.place)


def same_parties(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two actor sets can name the parties of one event: one names none, or every actor
    of one is an actor of the other (a partial list of the same parties)."""
    return not a or not b or a <= b or b <= a


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
