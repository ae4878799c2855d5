"""Subscriber tags: the one vocabulary of tag kinds, and the reading of one tag.

Routing (notify.targets.routing), timing (notify.targets.schedule) and the config check
(notify.targets.config) all read tags through `read_tag`, so a tag means the same everywhere and a
new kind is one row in WORDS or PREFIXES plus, when its value has a form, one parser in
_VALUE_PARSERS.

| tag                               | kind     | value                                        |
|-----------------------------------|----------|----------------------------------------------|
| `missile_launch`, ... (any word)  | topic    | a category the loaded rules produce          |
| `all`                             | wildcard |                                              |
| `digest`                          | digest   | (= `digest:daily`)                           |
| `digest:<period>`                 | digest   | `hourly`, `daily`, `daily@HH` (HH 00-23)     |
| `quiet:<from>-<to>`               | quiet    | `HH-HH` or `HH:MM-HH:MM`                     |
| `tz:<zone>`                       | tz       | an IANA zone, any case (`Asia/Seoul`)        |
| `region:<name>`                   | region   | a region a rule or an entity carries         |
| `level:<level>`                   | level    | `low`, `medium`, `high`, `critical`          |
| `team:<text>`, `label:<text>`     | label    | free text that nothing reads (`team:ops`)    |

Any other `prefix:value` is an error: a misspelt prefix (`quite:22-07`) would otherwise turn
a subscriber's quiet hours into a label that nobody reads.

Tags are compared case-insensitively (Apprise lower-cases them); messages show a tag as given.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, time, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from core.model import LEVELS, Level

DigestPeriod = Literal["hourly", "daily"]

DEFAULT_DIGEST_HOUR = 8


class Kind(StrEnum):
    """What a tag is about: who reads it (routing, schedule) follows from its kind."""

    TOPIC = "topic"
    WILDCARD = "wildcard"
    DIGEST = "digest"
    QUIET = "quiet"
    TZ = "tz"
    REGION = "region"
    LEVEL = "level"
    LABEL = "label"


# Bare words with a meaning of their own; every other bare word is a topic.
WORDS: Mapping[str, Kind] = {"all": Kind.WILDCARD, "digest": Kind.DIGEST}

# The prefixes of `prefix:value` tags.
PREFIXES: Mapping[str, Kind] = {
    "digest": Kind.DIGEST,
    "quiet": Kind.QUIET,
    "tz": Kind.TZ,
    "region": Kind.REGION,
    "level": Kind.LEVEL,
    "team": Kind.LABEL,
    "label": Kind.LABEL,
}

DIGEST_PERIODS: tuple[DigestPeriod, ...] = ("hourly", "daily")

# A bare word this close to one of WORDS is taken for a misspelling of it even when the
# categories are unknown: no category is named like `digets` or `al`.
_WORD_CUTOFF = 0.8

_QUIET = re.compile(r"^(?P<start>\d{1,2}(?::\d{2})?)-(?P<end>\d{1,2}(?::\d{2})?)$")
_DIGEST = re.compile(r"^(?P<period>[^@]*)(?:@(?P<hour>.*))?$")


class TagError(ValueError):
    """A tag that does not say what its writer meant; the message names it and a fix."""


@dataclass(frozen=True, slots=True)
class Tag:
    """One subscriber tag, read: lower-case text, its kind, the part after the prefix ("" for a
    bare word)."""

    text: str
    kind: Kind
    value: str


@dataclass(frozen=True, slots=True)
class Produced:
    """The categories and regions the loaded rules can produce (regions: those of the rules'
    tags and of the entities, rules/entities.yaml); None when not checked."""

    categories: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    @classmethod
    def of(cls, categories: Collection[str] | None, regions: Collection[str] | None) -> Produced:
        """Normalised: lower case; a region given as a tag (`region:east-asia`) by its name."""
        return cls(
            None if categories is None else frozenset(c.strip().casefold() for c in categories),
            None if regions is None else frozenset(_region_name(r) for r in regions),
        )


def _region_name(region: str) -> str:
    name = region.strip().casefold()
    return name.removeprefix("region:")


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to `word` (case-insensitive), as the choice is spelt, or None."""
    spelt = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(word.casefold(), list(spelt), n=1, cutoff=cutoff)
    return spelt[close[0]] if close else None


def _hint(suggestion: str | None, otherwise: str) -> str:
    return f" (did you mean {suggestion!r}?)" if suggestion else f" ({otherwise})"


# --- values of the kinds that have a form ---------------------------------------------------


def parse_level(value: str) -> Level:
    """The level a `level:` tag names."""
    for level in LEVELS:
        if level == value.casefold():
            return level
    close = did_you_mean(value, LEVELS)
    raise TagError(
        f"unknown level {value!r} in tag 'level:{value}'"
        + _hint(close and f"level:{close}", f"use one of {', '.join(LEVELS)}")
    )


def parse_digest(value: str) -> tuple[DigestPeriod, int]:
    """Period and hour of a `digest:` tag's value: `hourly`, `daily` or `daily@HH`."""
    tag = f"digest:{value}"
    match = _DIGEST.match(value.casefold())
    assert match is not None  # the pattern matches every string
    period, hour = match["period"], match["hour"]
    if period not in DIGEST_PERIODS:
        close = did_you_mean(period, DIGEST_PERIODS)
        fixed = close and f"digest:{close}" + (f"@{hour}" if hour is not None else "")
        raise TagError(
            f"malformed tag {tag!r}"
            + _hint(fixed, "use digest, digest:hourly, digest:daily or digest:daily@HH")
        )
    if hour is None:
        return period, DEFAULT_DIGEST_HOUR
    if period != "daily":
        raise TagError(f"an hour only applies to daily digests: {tag!r} (use digest:daily@HH)")
    if not (hour.isdigit() and len(hour) <= 2 and int(hour) <= 23):
        raise TagError(f"no such hour {hour!r} in tag {tag!r} (use 00 to 23)")
    return period, int(hour)


def _clock(text: str, tag: str) -> time:
    """`HH` or `HH:MM` as a time of day."""
    hour, _, minute = text.partition(":")
    value_h, value_m = int(hour), int(minute or 0)
    if not (0 <= value_h <= 23 and 0 <= value_m <= 59):
        raise TagError(f"no such time of day {text!r} in tag {tag!r} (hours 00-23, minutes 00-59)")
    return time(value_h, value_m)


def parse_quiet(value: str) -> tuple[time, time]:
    """Start and end of the quiet hours of a `quiet:` tag's value (the span may cross midnight)."""
    tag = f"quiet:{value}"
    match = _QUIET.match(value)
    if match is None:
        raise TagError(f"malformed tag {tag!r} (use quiet:HH-HH or quiet:HH:MM-HH:MM)")
    start, end = _clock(match["start"], tag), _clock(match["end"], tag)
    if start == end:
        raise TagError(f"quiet hours start and end at the same time: {tag!r}")
    return start, end


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    # Apprise lower-cases tags, while zone names are case-sensitive on most systems.
    return {name.casefold(): name for name in available_timezones()}


def parse_zone(value: str) -> tzinfo:
    """The IANA zone of a `tz:` tag, matched case-insensitively."""
    if value.casefold() in {"utc", "z"}:
        return UTC
    real = _zones_by_folded_name().get(value.casefold())
    if real is None:
        close = did_you_mean(value, _zones_by_folded_name().values())
        raise TagError(
            f"unknown time zone {value!r} in tag 'tz:{value}'"
            + _hint(close and f"tz:{close}", "use an IANA zone such as tz:Asia/Seoul")
        )
    return ZoneInfo(real)


def _parse_region(value: str) -> str:
    if not value:
        raise TagError("empty region in tag 'region:'")
    return value


# Each kind whose value has a form, and the parser that checks it.
_VALUE_PARSERS: Mapping[Kind, Callable[[str], object]] = {
    Kind.DIGEST: parse_digest,
    Kind.QUIET: parse_quiet,
    Kind.TZ: parse_zone,
    Kind.REGION: _parse_region,
    Kind.LEVEL: parse_level,
}


# --- one tag --------------------------------------------------------------------------------


def read_tag(raw: str) -> Tag:
    """One tag, its kind known and its value checked; TagError when it is neither."""
    given = raw.strip()
    prefix, sep, value = given.partition(":")
    if not sep:
        return Tag(given.casefold(), WORDS.get(given.casefold(), Kind.TOPIC), "")
    kind = PREFIXES.get(prefix.casefold())
    if kind is None:
        close = did_you_mean(prefix, PREFIXES)
        kinds = ", ".join(f"{p}:" for p in PREFIXES)
        raise TagError(
            f"unknown tag {given!r}" + _hint(close and f"{close}:{value}", f"known: {kinds}")
        )
    parse = _VALUE_PARSERS.get(kind)
    if parse is not None:
        parse(value)
    return Tag(given.casefold(), kind, value.casefold())


def check_tag(raw: str, produced: Produced) -> None:
    """`read_tag`, and a topic or region must be one the loaded rules can produce."""
    tag = read_tag(raw)
    if tag.kind is Kind.TOPIC:
        _check_topic(raw.strip(), produced.categories)
    elif tag.kind is Kind.REGION and produced.regions is not None:
        _check_region(raw.strip(), tag.value, produced.regions)


def _check_topic(given: str, categories: frozenset[str] | None) -> None:
    word = given.casefold()
    if categories is None:
        close = did_you_mean(word, WORDS, cutoff=_WORD_CUTOFF)
        if close:
            raise TagError(f"unknown tag {given!r} (did you mean {close!r}?)")
    elif word not in categories:
        close = did_you_mean(word, [*categories, *WORDS])
        known = f"no loaded rule has this category; categories: {', '.join(sorted(categories))}"
        raise TagError(f"unknown tag {given!r}{_hint(close, known)}")


def _check_region(given: str, name: str, regions: frozenset[str]) -> None:
    if name not in regions:
        close = did_you_mean(name, regions)
        known = f"no rule or entity carries it; regions: {', '.join(sorted(regions)) or 'none'}"
        raise TagError(
            f"unknown region in tag {given!r}{_hint(close and f'region:{close}', known)}"
        )
