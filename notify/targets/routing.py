"""Tag routing: which subscribers an alert goes to.

Subscriber tags (Apprise `tag:` values, lower case) are read by notify.targets.tags, which holds
their vocabulary. The kinds that filter:

| tag                    | kind     | an alert passes when                                      |
|------------------------|----------|-----------------------------------------------------------|
| `missile_launch`, ...  | topic    | its category, or one of its own bare tags, is that word   |
| `region:<name>`        | region   | its regions, or its rule's tags, hold `<name>`            |
| `level:<lvl>`          | level    | its level >= `<lvl>` (low < medium < high < critical)     |
| `all`                  | wildcard | always (satisfies the topic and region kinds)             |

Schedule tags (`digest...`, `quiet:...`, `tz:...`, see notify.targets.schedule) and labels
(`team:ops`) select nothing.

Combination: tags of one kind are OR-ed (`missile_launch, nuclear_test` = either), kinds are
AND-ed (`missile_launch, region:korea` = a launch in Korea), and the level is a floor on top
(several level tags: the lowest floor applies). A subscriber with no topic, region or level tag
(untagged, or only schedule/label tags) receives every alert; `all` says so explicitly.

An alert's regions are its development's (from its actors and places, rules/entities.yaml,
and its sources' `region:` tags); a rule's own `region:` tag (the shipped rules all carry
`region:east-asia`) counts too, so `region:east-asia` still selects every alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.model import REGION_PREFIX, Alert, Level, Target, level_rank
from notify.targets.tags import Kind, parse_level, read_tag


@dataclass(frozen=True, slots=True)
class Interest:
    """What one subscriber wants, parsed from its tags."""

    topics: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    min_level: Level | None = None
    everything: bool = False

    def accepts(self, alert: Alert) -> bool:
        """Whether `alert` passes every kind of filter this subscriber has."""
        if self.min_level is not None and level_rank(alert.level) < level_rank(self.min_level):
            return False
        if self.everything:
            return True
        alert_tags = {tag.casefold() for tag in alert.tags}
        if self.topics:
            bare = {tag for tag in alert_tags if ":" not in tag}
            if not self.topics & (bare | {alert.category.casefold()}):
                return False
        if not self.regions:
            return True
        regions = {f"{REGION_PREFIX}{region.casefold()}" for region in alert.regions}
        return bool(self.regions & (alert_tags | regions))


def parse_interest(tags: Iterable[str]) -> Interest:
    """Parse subscriber tags into an Interest; ValueError (TagError) for a malformed tag."""
    topics: set[str] = set()
    regions: set[str] = set()
    floors: list[Level] = []
    wildcard = False
    for tag in map(read_tag, filter(str.strip, tags)):
        if tag.kind is Kind.TOPIC:
            topics.add(tag.text)
        elif tag.kind is Kind.WILDCARD:
            wildcard = True
        elif tag.kind is Kind.REGION:
            regions.add(tag.text)
        elif tag.kind is Kind.LEVEL:
            floors.append(parse_level(tag.value))
    min_level = min(floors, key=level_rank, default=None)
    # No topic or region tag leaves those kinds unconstrained (only the level floor applies).
    everything = wildcard or not (topics or regions)
    return Interest(frozenset(topics), frozenset(regions), min_level, everything)


@lru_cache(maxsize=1024)
def _interest_of(tags: frozenset[str]) -> Interest:
    return parse_interest(tags)


def interest_of(target: Target) -> Interest:
    """The parsed interest of a target (cached per tag set)."""
    return _interest_of(target.tags)


def route(alert: Alert, targets: Sequence[Target]) -> list[Target]:
    """The targets whose tags select `alert`, in the given order.

    Digest subscribers are included: whether a target gets single messages or a digest is a
    question of timing (notify.targets.schedule), not of interest.
    """
    return [target for target in targets if interest_of(target).accepts(alert)]


def with_tag(targets: Sequence[Target], tag: str | None) -> list[Target]:
    """The targets carrying `tag` (all of them for None): `watchfloor alerts test --tag TAG`."""
    if tag is None:
        return list(targets)
    wanted = tag.strip().casefold()
    return [target for target in targets if wanted in {t.casefold() for t in target.tags}]
