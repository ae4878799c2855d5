"""`assign`: matches -> development changes. Pure identity resolution over a batch.

Matches arrive grouped per article in publication order. Each joins the best development of its
category that is the same event (stored ones in `known`, or ones this batch created; see
`identity.same_event`: same parties, place and day) or starts a new one; two matches of
one rule in one article are two events and never join one development. One DevelopmentChange is
emitted per (article, development) transition, with the alert it raises: "new" the first time a
development is news (not background), "status_change" when the status of a development that is
news moves forward. Only a report that can tell progress moves a status on: news, naming a day,
a party or a place. Background developments never alert.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Any

from core.model import (
    AlertKind,
    Development,
    DevelopmentChange,
    DevelopmentRef,
    Match,
    NewRef,
    Status,
    StoredRef,
    advance_status,
    level_rank,
    merge_regions,
    status_rank,
)
from detect.engine.identity import Identity, identity_of, same_event, score


@dataclass(slots=True)
class _Open:
    """A development being built in this batch, with its batch reference and its identity as
    it stands (kept current by `_Batch.article`: every match is tested against every open
    development of its category, ~14 identities per match in the bench's replay, and a
    development changes only when a match joins it)."""

    ref: DevelopmentRef
    development: Development
    order: int
    identity: Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = _identity(self.development)


@dataclass(slots=True)
class _Touch:
    """What one article did to one development."""

    entry: _Open
    before: Development | None
    evidence: list[Match]


def _identity(development: Development) -> Identity:
    return identity_of(
        development.event_date, development.actors, development.place, development.facts
    )


def _match_identity(match: Match) -> Identity:
    return identity_of(match.event_date, match.actors, match.place, match.facts)


def _snapshot(development: Development) -> Development:
    return replace(development, facts=dict(development.facts))


def _create(match: Match) -> Development:
    return Development(
        category=match.category,
        status=match.status,
        background=match.background,
        title=match.title,
        event_date=match.event_date,
        place=match.place,
        actors=match.actors,
        facts=dict(match.facts),
        level=match.level,
        tags=match.tags,
        regions=match.regions,
    )


def _merge_facts(facts: dict[str, Any], new: Mapping[str, Any]) -> None:
    """The first value of a scalar fact stays; list facts are unioned."""
    for key, value in new.items():
        current = facts.get(key)
        if current is None:
            facts[key] = list(value) if isinstance(value, list) else value
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(v for v in value if v not in current)


def _reports_progress(match: Match) -> bool:
    """Whether a match can tell that an event moved on: it is news (not context an article sets
    in the past: "after the summit last month") and names what identifies the event, a day, a
    party or a place. A report naming none of them ("the talks were held") may be about any
    event of its kind: it joins the best fit, but announcing progress on its word would be
    a guess."""
    return not match.background and bool(match.event_date or match.actors or match.place)


def _merge(development: Development, match: Match) -> None:
    """Fold one match into a development: fill gaps, union actors and facts, move the status on
    when the match can report progress (a development known only as context takes its status
    from context)."""
    if not development.actors and match.actors:
        development.title = match.title  # a title that names who acted reads better
    development.event_date = development.event_date or match.event_date
    development.place = development.place or match.place
    development.actors = tuple(dict.fromkeys((*development.actors, *match.actors)))
    _merge_facts(development.facts, match.facts)
    if development.background or _reports_progress(match):
        development.status = advance_status(development.status, match.status)
    if development.background and not match.background:
        development.background = False
        development.title = match.title  # the title of its first news report reads best
    if level_rank(match.level) > level_rank(development.level):
        development.level = match.level
    development.tags = tuple(dict.fromkeys((*development.tags, *match.tags)))
    development.regions = merge_regions(development.regions, match.regions)


def _alert(before: Development | None, after: Development) -> AlertKind | None:
    if after.background:
        return None
    if before is None or before.background:
        return "new"
    if status_rank(after.status) > status_rank(before.status):
        return "status_change"
    return None


def _stored_ref(development: Development) -> StoredRef:
    """A known development's reference: known developments come from the store, with an id."""
    if development.id is None:
        raise ValueError(f"assign: a known development has no id: {development.title!r}")
    return StoredRef(development.id)


class _Batch:
    def __init__(self, known: Sequence[Development]) -> None:
        # Open developments by category: a match is only ever compared within its own.
        self.open: dict[str, list[_Open]] = {}
        for order, development in enumerate(known):
            self._add(_Open(_stored_ref(development), _snapshot(development), order))
        self.count = len(known)
        self.created = 0

    def _add(self, entry: _Open) -> None:
        self.open.setdefault(entry.development.category, []).append(entry)

    def best(self, match: Match, apart: Collection[DevelopmentRef]) -> _Open | None:
        """The development `match` fits best, except those in `apart` (by ref)."""
        own = _match_identity(match)
        candidates = [
            entry
            for entry in self.open.get(match.category, ())
            if entry.ref not in apart and same_event(entry.identity, own)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda e: (score(e.identity, own), e.order))

    def article(self, matches: Sequence[Match]) -> list[DevelopmentChange]:
        """The changes one article's matches make. Two matches of one rule in one article are
        two events by the article's own reading (its mentions were grouped by identity, and
        kept apart by date, ordinal, or news against context), so they never join one
        development; matches of two rules of one category may ("fired a missile" and "launched
        a satellite" of one launch)."""
        touched: dict[DevelopmentRef, _Touch] = {}
        # rule id -> refs its matches in this article joined
        taken: dict[str, set[DevelopmentRef]] = {}
        for match in matches:
            # An undated mention read as context ("after the missile launch") names no event of
            # its own: it neither keeps the article's other matches apart nor is kept apart.
            loose = _undated_context(match)
            apart = set() if loose else taken.setdefault(match.rule_id, set())
            entry = self.best(match, apart)
            if entry is None:
                self.created += 1
                entry = _Open(NewRef(self.created), _create(match), self.count)
                self.count += 1
                self._add(entry)
                touched[entry.ref] = _Touch(entry, None, [match])
                apart.add(entry.ref)
                continue
            apart.add(entry.ref)
            if entry.ref not in touched:
                touched[entry.ref] = _Touch(entry, _snapshot(entry.development), [])
            touched[entry.ref].evidence.append(match)
            _merge(entry.development, match)
            entry.identity = _identity(entry.development)
        return [self.change(t) for t in touched.values()]

    @staticmethod
    def change(touch: _Touch) -> DevelopmentChange:
        after = touch.entry.development
        previous: Status | None = touch.before.status if touch.before else None
        return DevelopmentChange(
            ref=touch.entry.ref,
            development=_snapshot(after),
            evidence=tuple(touch.evidence),
            is_new=touch.before is None,
            previous_status=previous,
            alert=_alert(touch.before, after),
        )


def _undated_context(match: Match) -> bool:
    return match.background and match.event_date is None


def assign(matches: Sequence[Match], known: Sequence[Development]) -> list[DevelopmentChange]:
    """Development changes for `matches` (grouped per article, in publication order), joining
    stored developments in `known` where the identity fits. One change per (article,
    development) transition, in order; every match is evidence of exactly one change."""
    batch = _Batch(known)
    changes: list[DevelopmentChange] = []
    for _key, group in groupby(matches, key=lambda m: m.article_key):
        changes += batch.article(list(group))
    return changes
