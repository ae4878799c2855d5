"""From the mentions of one rule in one article to Matches: one per event the article reports.

Mentions of one event (same identity: `identity.compatible`, or `same_event` for a rule
whose actors are the people taking part, so one article's two meetings of a minister with two
counterparts stay two) are merged: the union of terms and facts, the strongest status cue, and
background only when some mention says so and none says the event is recent (so "Lee's visit"
two sentences after "Lee's visit to Japan earlier this month" stays context).
A mention dated recent and one dated as context, or two with different ordinals ("the sixth
test", "the fifth test"), are two events. An event no mention asserts (no status cue, no date,
not in the headline: "sanctions over the missile tests") is context too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from core.model import Match, Status, status_rank
from detect.engine.event_mentions import Mention
from detect.engine.identity import Identity, compatible, identity_of, same_event, score
from detect.engine.scan import ArticleScan
from detect.rules.aliases import regions_of
from detect.rules.facts import DERIVED, extract, first_match
from detect.rules.ruleset import Rule
from detect.rules.templates import render
from detect.text.dates import DateSpan

# A supporting sentence adds facts to an event named (or supported) at most this many sentences
# before it, so a paragraph of outcomes after "the ministers met" all counts.
SUPPORT_REACH = 4
SNIPPET_LIMIT = 300
# A mention joins one of this many events the article mentioned last, or starts a new one. No
# news article reports more distinct events of one kind; a hostile text naming thousands then
# costs a bounded amount per mention instead of a comparison with every event before it.
OPEN_EVENTS = 64


@dataclass(slots=True)
class Cluster:
    """The mentions of one event in one article, and the sentences that add facts to it."""

    mentions: list[Mention]
    support: list[int] = field(default_factory=list)
    # What the identity is made of, kept up to date mention by mention (rebuilding it from
    # every mention at each addition made grouping quadratic in the mentions of one event).
    _exact: DateSpan | None = field(default=None, init=False, repr=False, compare=False)
    _span: DateSpan | None = field(default=None, init=False, repr=False, compare=False)
    _actors: dict[str, None] = field(default_factory=dict, init=False, repr=False, compare=False)
    _place: str | None = field(default=None, init=False, repr=False, compare=False)
    _identity: Identity | None = field(default=None, init=False, repr=False, compare=False)
    # What `admits` asks of every mention so far.
    _news: bool = field(default=False, init=False, repr=False, compare=False)
    _background: bool = field(default=False, init=False, repr=False, compare=False)
    _ordinals: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for mention in self.mentions:
            self._take(mention)

    def add(self, mention: Mention) -> None:
        """One more mention of the event."""
        self.mentions.append(mention)
        self._take(mention)

    def _take(self, mention: Mention) -> None:
        before = (self._exact, self._span, len(self._actors), self._place)
        if mention.span:
            self._span = self._span or mention.span
            if mention.span.exact and self._exact is None:
                self._exact = mention.span
        self._actors.update(dict.fromkeys(mention.actors))
        self._place = self._place or mention.place
        self._news = self._news or _news(mention)
        self._background = self._background or mention.temporal == "background"
        if mention.ordinal is not None:
            self._ordinals.add(mention.ordinal)
        if (self._exact, self._span, len(self._actors), self._place) != before:
            self._identity = None

    def identity(self) -> Identity:
        """Identity of the event so far: its first exact day (else first span), every actor,
        its first place."""
        if self._identity is None:
            self._identity = identity_of(self._exact or self._span, self._actors, self._place)
        return self._identity

    def admits(self, mention: Mention) -> bool:
        """Whether `mention` can report this event as far as time and ordinal tell: what the
        article reports as news now and what it sets in the past are two events."""
        if mention.temporal == "background" and self._news:
            return False
        if _news(mention) and self._background:
            return False
        return mention.ordinal is None or not self._ordinals or mention.ordinal in self._ordinals

    @property
    def sentences(self) -> list[int]:
        """Every sentence of the event, in article order."""
        return sorted({m.sentence for m in self.mentions} | set(self.support))


def _news(mention: Mention) -> bool:
    """A mention dated recent, or undated with a cue that says how it stands ("fired")."""
    if mention.temporal == "recent":
        return True
    return mention.temporal == "neutral" and mention.status_cue is not None


def group_mentions(mentions: Sequence[Mention]) -> list[Cluster]:
    """Mentions grouped by event identity, in article order. A mention is compared with the
    OPEN_EVENTS events mentioned last, not with every event so far: linear in the mentions."""
    clusters: list[Cluster] = []
    recent: dict[int, None] = {}  # cluster indices, least recently mentioned first
    fits = same_event if mentions and _names_participants(mentions[0].rule) else compatible
    for mention in mentions:
        own = identity_of(mention.span, mention.actors, mention.place)
        # In creation order, as every event was compared before, so ties resolve alike.
        open_events = sorted(islice(reversed(recent), OPEN_EVENTS))
        candidates = [
            i
            for i in open_events
            if clusters[i].admits(mention) and fits(clusters[i].identity(), own)
        ]
        if candidates:
            index = max(
                candidates,
                key=lambda i: (
                    score(clusters[i].identity(), own),
                    clusters[i].mentions[-1].sentence,
                ),
            )
            clusters[index].add(mention)
        else:
            clusters.append(Cluster([mention]))
            index = len(clusters) - 1
        recent.pop(index, None)
        recent[index] = None
    return clusters


def _names_participants(rule: Rule) -> bool:
    """Whether the rule's actors are the people who take part (ministers, leaders), named as
    such, rather than every state a sentence names."""
    return rule.actors.kinds == frozenset({"person"})


def attach_support(clusters: Sequence[Cluster], sentences: Sequence[int]) -> None:
    """Give each supporting sentence (in article order) to the event named or supported nearest
    to it, earlier on a tie (looked up among the sentences within reach, not every event's)."""
    at: dict[int, list[int]] = {}  # sentence -> events named or supported there
    for i, cluster in enumerate(clusters):
        for point in cluster.sentences:
            at.setdefault(point, []).append(i)
    for sentence in sorted(sentences):
        reach = [
            (abs(point - sentence), point > sentence, i)
            for point in range(sentence - SUPPORT_REACH, sentence + SUPPORT_REACH + 1)
            for i in at.get(point, ())
        ]
        if reach:
            chosen = min(reach)[2]
            clusters[chosen].support.append(sentence)
            events = at.setdefault(sentence, [])
            if chosen not in events:
                events.append(chosen)


def _status(rule: Rule, mentions: Sequence[Mention]) -> Status:
    seen = [m.status for m in mentions if m.status is not None]
    if not seen:
        return rule.default_status
    return max(seen, key=status_rank)


def _background(mentions: Sequence[Mention]) -> bool:
    temporals = {m.temporal for m in mentions}
    if "background" in temporals and "recent" not in temporals:
        return True
    return not any(m.asserted for m in mentions)


def _event_date(mentions: Sequence[Mention]) -> date | None:
    """The day most mentions give, the first given on a tie."""
    days = [m.span.exact for m in mentions if m.span and m.span.exact]
    if not days:
        return None
    return Counter(days).most_common(1)[0][0]  # Counter keeps first-seen order among equals


def _ranked(names: Sequence[str]) -> tuple[str, ...]:
    """Distinct names, most frequent first, then in order of first mention."""
    return tuple(name for name, _count in Counter(names).most_common())


def _actors(mentions: Sequence[Mention]) -> tuple[str, ...]:
    return _ranked([a for m in mentions for a in m.actors])


def _facts(rule: Rule, scan: ArticleScan, cluster: Cluster) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for spec in rule.facts:
        if spec.name in DERIVED:
            derived = _derived(spec.name, cluster.mentions)
            if derived:
                facts[spec.name] = derived
            continue
        if not spec.builtin and not spec.many:
            found = first_match(spec, [scan.sentence_text(s) for s in cluster.sentences])
            if found is not None:
                facts[spec.name] = found
            continue
        values: list[Any] = []
        for sentence in cluster.sentences:
            values += extract(spec, scan.sentence_text(sentence), scan.entities[sentence])
            if values and not spec.many:
                break
        if values:
            facts[spec.name] = (
                list(dict.fromkeys(str(v) for v in values)) if spec.many else values[0]
            )
    return facts


def _derived(name: str, mentions: Sequence[Mention]) -> str | list[str] | None:
    if name == "participants":
        return list(dict.fromkeys(p for m in mentions for p in m.people))
    return next((m.location for m in mentions if m.location), None)


def _snippet(scan: ArticleScan, mentions: Sequence[Mention]) -> str:
    best = min(mentions, key=lambda m: (m.temporal == "background", m.status is None, m.sentence))
    text = scan.sentence_text(best.sentence)
    return text if len(text) <= SNIPPET_LIMIT else text[: SNIPPET_LIMIT - 1].rstrip() + "…"


def to_match(rule: Rule, scan: ArticleScan, cluster: Cluster) -> Match:
    """The Match one event of one article makes."""
    mentions = cluster.mentions
    status = _status(rule, mentions)
    event_date = _event_date(mentions)
    actors = _actors(mentions)
    place = next((m.place for m in mentions if m.place), None)
    facts = _facts(rule, scan, cluster)
    values = {
        **facts,
        "actor": actors[0] if actors else None,
        "actors": list(actors),
        # In order of first mention: "Japan–South Korea" as the article puts it.
        "states": list(dict.fromkeys(s for m in mentions for s in m.states)),
        "place": place,
        "date": event_date.isoformat() if event_date else None,
        "status": status,
        "category": rule.category,
    }
    return Match(
        article_key=scan.key,
        rule_id=rule.id,
        category=rule.category,
        status=status,
        background=_background(mentions),
        event_date=event_date,
        place=place,
        actors=actors,
        facts=facts,
        terms=tuple(dict.fromkeys(t for m in mentions for t in m.terms)),
        snippet=_snippet(scan, mentions),
        level=rule.level,
        tags=rule.tags,
        title=render(rule.title, values),
        regions=_regions(scan, cluster, actors, place, facts),
    )


def _regions(
    scan: ArticleScan,
    cluster: Cluster,
    actors: Sequence[str],
    place: str | None,
    facts: Mapping[str, Any],
) -> tuple[str, ...]:
    """The regions of the event's actors, its place, where it happened (the `location` fact),
    who took part, and the places its sentences name ("fell in the Sea of Japan"): entities
    already resolved for the match, so this reads no text. A capital that stands for its
    state ("Seoul said", "talks in Beijing") is a voice or a venue more often than the scene,
    so it counts only as the event's place or actor."""
    participants = facts.get("participants")
    named = [*actors, place, facts.get("location"), *(participants or ())]
    named += [
        mention.name
        for sentence in cluster.sentences
        for mention in scan.entities[sentence]
        if mention.kind == "place" and mention.entity.actor is None
    ]
    return regions_of(scan.ruleset.entities, [n for n in named if isinstance(n, str)])
