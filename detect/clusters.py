"""From the mentions of one rule in one article to Matches: one per event the article reports.

Mentions of one event (same identity) are merged: the union of terms and facts, the strongest
status cue, and background only when some mention says so and none says the event is recent
(so "Lee's visit" two sentences after "Lee's visit to Japan earlier this month" stays context).
A mention dated recent and one dated as context, or two with different ordinals ("the sixth
test", "the fifth test"), are two events. An event no mention asserts (no status cue, no date,
not in the headline: "sanctions over the missile tests") is context too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.model import Match, Status, status_rank
from detect.facts import DERIVED, extract, first_match
from detect.identity import Identity, compatible, identity_of, score
from detect.mentions import Mention
from detect.model import Rule
from detect.scan import ArticleScan
from detect.templates import render

# A supporting sentence adds facts to an event named (or supported) at most this many sentences
# before it, so a paragraph of outcomes after "the ministers met" all counts.
SUPPORT_REACH = 4
SNIPPET_LIMIT = 300


@dataclass(slots=True)
class Cluster:
    """The mentions of one event in one article, and the sentences that add facts to it."""

    mentions: list[Mention]
    support: list[int] = field(default_factory=list)
    _identity: Identity | None = field(default=None, init=False, repr=False, compare=False)

    def add(self, mention: Mention) -> None:
        """One more mention of the event."""
        self.mentions.append(mention)
        self._identity = None

    def identity(self) -> Identity:
        """Identity of the event so far (kept until a mention is added)."""
        if self._identity is None:
            exact = [m.span for m in self.mentions if m.span and m.span.exact]
            spans = exact or [m.span for m in self.mentions if m.span]
            actors = [a for m in self.mentions for a in m.actors]
            place = next((m.place for m in self.mentions if m.place), None)
            self._identity = identity_of(spans[0] if spans else None, actors, place)
        return self._identity

    def admits(self, mention: Mention) -> bool:
        """Whether `mention` can report this event as far as time and ordinal tell: what the
        article reports as news now and what it sets in the past are two events."""
        if mention.temporal == "background" and any(_news(m) for m in self.mentions):
            return False
        if _news(mention) and any(m.temporal == "background" for m in self.mentions):
            return False
        ordinals = {m.ordinal for m in self.mentions if m.ordinal is not None}
        return mention.ordinal is None or not ordinals or mention.ordinal in ordinals

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
    """Mentions grouped by event identity, in article order."""
    clusters: list[Cluster] = []
    for mention in mentions:
        own = identity_of(mention.span, mention.actors, mention.place)
        candidates = [c for c in clusters if c.admits(mention) and compatible(c.identity(), own)]
        if candidates:
            best = max(
                candidates, key=lambda c: (score(c.identity(), own), c.mentions[-1].sentence)
            )
            best.add(mention)
        else:
            clusters.append(Cluster([mention]))
    return clusters


def attach_support(clusters: Sequence[Cluster], sentences: Sequence[int]) -> None:
    """Give each supporting sentence (in article order) to the event named or supported nearest
    to it, earlier on a tie."""
    for sentence in sorted(sentences):
        reach = [
            (abs(point - sentence), point > sentence, i)
            for i, cluster in enumerate(clusters)
            for point in cluster.sentences
            if abs(point - sentence) <= SUPPORT_REACH
        ]
        if reach:
            clusters[min(reach)[2]].support.append(sentence)


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
    days = [m.span.exact for m in mentions if m.span and m.span.exact]
    if not days:
        return None
    counts = Counter(days)
    return max(days, key=lambda d: (counts[d], -days.index(d)))


def _ranked(names: Sequence[str]) -> tuple[str, ...]:
    """Distinct names, most frequent first, then in order of first mention."""
    counts = Counter(names)
    return tuple(sorted(dict.fromkeys(names), key=lambda a: (-counts[a], names.index(a))))


def _actors(mentions: Sequence[Mention]) -> tuple[str, ...]:
    return _ranked([a for m in mentions for a in m.actors])


def _facts(rule: Rule, scan: ArticleScan, cluster: Cluster) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for spec in rule.facts:
        if spec.name in DERIVED:
            value = _derived(spec.name, cluster.mentions)
            if value:
                facts[spec.name] = value
            continue
        if not spec.builtin and not spec.many:
            value = first_match(spec, [scan.sentence_text(s) for s in cluster.sentences])
            if value is not None:
                facts[spec.name] = value
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
    )
