"""Event mentions of one rule in one sentence.

A sentence can name several events ("Koizumi hosted Ahn in Yokosuka, just as Takaichi hosted Lee
in Nara earlier this month"), so each anchor term (the rule's event word) is one candidate
mention, and every other thing found in the sentence (terms, entities, dates, cues) belongs to
the nearest anchor. A cue that introduces what follows ("days after", "following the") belongs
to the next anchor after it; a fronted adverbial ("Earlier this month, ...") to every anchor.
The condition is then checked per mention, so a leader named next to one "hosted" does not make
the other "hosted" a summit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from core.model import Status
from detect.conditions import evaluate
from detect.dates import DateExpr, DateSpan
from detect.entityscan import EntityMention
from detect.matcher import Hit
from detect.model import COMMON, CueKind, Rule, RuleSet, SelectionSpec
from detect.scan import ArticleScan

Temporal = Literal["recent", "background", "neutral"]
RECENT_DAYS = 7  # an event dated more than this many days before the article is background
_NEGATION_WORDS = 5  # a negation this close before the anchor denies the event
_FRONTED_WORDS = 6  # a leading clause this short, with no anchor in it, frames the whole sentence
_STATUS_ORDER: dict[str, int] = {"planned": 0, "cancelled": 1, "occurred": 2}


@dataclass(frozen=True, slots=True)
class Mention:
    """One report of one event in one sentence."""

    rule: Rule
    sentence: int
    anchor: str
    start: int
    end: int
    terms: tuple[str, ...]
    status: Status | None
    status_cue: str | None
    temporal: Temporal
    temporal_reason: str
    span: DateSpan | None
    actors: tuple[str, ...]
    people: tuple[str, ...]
    location: str | None
    place: str | None


@dataclass(frozen=True, slots=True)
class PartitionTrace:
    """What became of one anchor of a sentence (for `explain`)."""

    anchor: str
    selections: dict[str, tuple[str, ...]]
    condition: bool
    negated: bool
    mention: Mention | None


@dataclass(frozen=True, slots=True)
class SentenceTrace:
    """How a rule read one sentence (for `explain`)."""

    sentence: int
    text: str
    selections: dict[str, tuple[str, ...]]
    condition: bool
    partitions: tuple[PartitionTrace, ...]


@dataclass(slots=True)
class _Part:
    anchor: tuple[int, int]
    selection_hits: list[tuple[Hit, str]] = field(default_factory=list)
    cues: list[tuple[Hit, int, CueKind]] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)
    dates: list[DateExpr] = field(default_factory=list)


class _SentenceReader:
    """Reads one sentence for one rule."""

    def __init__(self, ruleset: RuleSet, rule_index: int, scan: ArticleScan, sentence: int):
        self.ruleset = ruleset
        self.rule = ruleset.rules[rule_index]
        self.scan = scan
        self.index = sentence
        self.text = scan.text
        hits = scan.hits[sentence]
        self.selection_hits = [
            (h, name)
            for h in hits
            for owner, name in ruleset.selection_users.get(h.term, ())
            if owner == rule_index
        ]
        self.cues = _outermost(
            [
                (h, owner, kind)
                for h in hits
                for owner, kind in ruleset.cue_users.get(h.term, ())
                if owner in (rule_index, COMMON)
            ]
        )
        self.entities = scan.entities[sentence]
        self.dates = scan.dates[sentence]

    def token(self, position: int) -> int:
        return self.text.token_at(position)

    def distance(self, start: int, end: int, anchor: tuple[int, int]) -> int:
        if end <= anchor[0]:
            return self.token(anchor[0]) - self.token(max(start, end - 1))
        if start >= anchor[1]:
            return self.token(start) - self.token(anchor[1] - 1)
        return 0

    def selection_state(
        self, hits: Sequence[tuple[Hit, str]], entities: Sequence[EntityMention]
    ) -> tuple[dict[str, bool], dict[str, list[int]], dict[str, tuple[str, ...]]]:
        present, positions, shown = {}, {}, {}
        by_name: dict[str, list[Hit]] = {}
        for hit, name in hits:
            by_name.setdefault(name, []).append(hit)
        for name, spec in self.rule.selections.items():
            own = by_name.get(name, [])
            if not own and not spec.uses_entities:
                # Nothing found: true only for a pure `none` selection.
                present[name] = bool(spec.none_terms) and not (spec.any_terms or spec.all_terms)
                positions[name], shown[name] = [], ()
                continue
            ok, where, what = _selection(spec, own, entities, self.ruleset, self.token)
            present[name], positions[name], shown[name] = ok, where, what
        return present, positions, shown

    def read(self) -> SentenceTrace | None:
        anchors = self.anchors()
        if not anchors:
            return None
        present, positions, shown = self.selection_state(self.selection_hits, self.entities)
        if not evaluate(self.rule.condition, present, positions):
            return SentenceTrace(self.index, self.scan.sentence_text(self.index), shown, False, ())
        parts = self.partition(anchors)
        traces = tuple(self.read_part(part) for part in parts)
        return SentenceTrace(self.index, self.scan.sentence_text(self.index), shown, True, traces)

    def anchors(self) -> list[tuple[int, int]]:
        spans = sorted(
            (h.start, h.end) for h, name in self.selection_hits if name in self.rule.anchors
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and self.token(start) - self.token(merged[-1][1] - 1) <= 1:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def fronted_end(self, anchors: Sequence[tuple[int, int]]) -> int:
        """End of a short leading clause with no anchor in it ("Earlier this month, ..."), or
        the sentence start when there is none."""
        sentence = self.scan.sentences[self.index]
        comma = self.text.cased.find(",", sentence.start, sentence.end)
        if comma < 0 or comma > anchors[0][0]:
            return sentence.start
        if self.token(comma) - self.token(sentence.start) > _FRONTED_WORDS:
            return sentence.start
        return comma

    def partition(self, anchors: list[tuple[int, int]]) -> list[_Part]:
        parts = [_Part(a) for a in anchors]
        fronted = self.fronted_end(anchors)

        def targets(start: int, end: int, forward: bool = False) -> list[_Part]:
            if end <= fronted:
                return parts
            if forward:
                after = [p for p in parts if p.anchor[0] >= end]
                return after[:1]
            return [min(parts, key=lambda p: (self.distance(start, end, p.anchor), p.anchor[0]))]

        for hit, name in self.selection_hits:
            for part in targets(hit.start, hit.end):
                part.selection_hits.append((hit, name))
        for hit, owner, kind in self.cues:
            for part in targets(hit.start, hit.end, forward=kind == "background_before"):
                part.cues.append((hit, owner, kind))
        for entity in self.entities:
            for part in targets(entity.start, entity.end):
                part.entities.append(entity)
        for expr in self.dates:
            for part in targets(expr.start, expr.end):
                part.dates.append(expr)
        return parts

    def read_part(self, part: _Part) -> PartitionTrace:
        anchor_text = self.text.cased[part.anchor[0] : part.anchor[1]]
        present, positions, shown = self.selection_state(part.selection_hits, part.entities)
        if not evaluate(self.rule.condition, present, positions):
            return PartitionTrace(anchor_text, shown, False, False, None)
        if self.negated(part):
            return PartitionTrace(anchor_text, shown, True, True, None)
        return PartitionTrace(
            anchor_text, shown, True, False, self.mention(part, anchor_text, shown)
        )

    def negated(self, part: _Part) -> bool:
        anchor_token = self.token(part.anchor[0])
        return any(
            kind == "negation"
            and hit.end <= part.anchor[0]
            and anchor_token - self.token(hit.start) <= _NEGATION_WORDS
            for hit, _owner, kind in part.cues
        )

    def mention(self, part: _Part, anchor_text: str, shown: dict[str, tuple[str, ...]]) -> Mention:
        status, cue = self.status(part)
        span, date_text = self.date(part, status == "planned")
        temporal, reason = self.temporal(part, span, date_text)
        terms = tuple(
            dict.fromkeys(t for name, ts in shown.items() if name in self.rule.positive for t in ts)
        )
        location = self.location(part)
        return Mention(
            rule=self.rule,
            sentence=self.index,
            anchor=anchor_text,
            start=part.anchor[0],
            end=part.anchor[1],
            terms=terms,
            status=status,
            status_cue=cue,
            temporal=temporal,
            temporal_reason=reason,
            span=span,
            actors=self.actors(part),
            people=self.people(part),
            location=location,
            place=location if "place" in self.rule.identity else None,
        )

    def status(self, part: _Part) -> tuple[Status | None, str | None]:
        """The status cue nearest the anchor: its own first, else the sentence's ("will visit
        Beijing for a summit": the summit is planned too)."""
        candidates = self.status_candidates(part, part.cues) or self.status_candidates(
            part, self.cues
        )
        if not candidates:
            return None, None
        *_, kind, hit = min(candidates, key=lambda c: c[:3])
        return kind, self.text.cased[hit.start : hit.end]  # type: ignore[return-value]

    def status_candidates(
        self, part: _Part, cues: Sequence[tuple[Hit, int, CueKind]]
    ) -> list[tuple[int, bool, int, str, Hit]]:
        return [
            (self.distance(h.start, h.end, part.anchor), owner == COMMON, -_STATUS_ORDER[k], k, h)
            for h, owner, k in cues
            if k in _STATUS_ORDER
        ]

    def date(self, part: _Part, future: bool) -> tuple[DateSpan | None, str | None]:
        if not part.dates:
            return None, None
        expr = min(part.dates, key=lambda d: self.distance(d.start, d.end, part.anchor))
        span = expr.resolve(self.scan.reference, self.scan.dated, future)
        if span is None and not expr.recent:
            return None, None
        return span, expr.text

    def temporal(
        self, part: _Part, span: DateSpan | None, date_text: str | None
    ) -> tuple[Temporal, str]:
        reference = self.scan.reference
        if span is not None and reference is not None:
            if span.end < reference - timedelta(days=RECENT_DAYS):
                return "background", f"date {date_text!r} is more than {RECENT_DAYS} days old"
            if span.start >= reference - timedelta(days=RECENT_DAYS):
                return "recent", f"date {date_text!r} is recent"
        elif date_text is not None:
            return "recent", f"{date_text!r} places it within days"
        for hit, _owner, kind in part.cues:
            if kind in ("background", "background_before"):
                return "background", f"background cue {self.text.cased[hit.start : hit.end]!r}"
        for hit, _owner, kind in part.cues:
            if kind == "recent":
                return "recent", f"recent cue {self.text.cased[hit.start : hit.end]!r}"
        return "neutral", "no date or background cue"

    def actors(self, part: _Part) -> tuple[str, ...]:
        spec = self.rule.actors
        candidates = [e for e in part.entities if _actor_name(e, spec.kinds, spec.roles)]
        if spec.mode == "agent":
            return self.agent(part, candidates)
        return tuple(
            dict.fromkeys(_actor_name(e, spec.kinds, spec.roles) or "" for e in candidates)
        )

    def agent(self, part: _Part, candidates: Sequence[EntityMention]) -> tuple[str, ...]:
        reports = [h for h, _o, kind in part.cues if kind == "reporting"]
        before = [
            e
            for e in candidates
            if e.end <= part.anchor[0]
            and not any(e.end <= h.start and h.end <= part.anchor[0] for h in reports)
        ]
        if before:
            chosen = max(before, key=lambda e: e.start)
            return (_actor_name(chosen, self.rule.actors.kinds, self.rule.actors.roles) or "",)
        # "launched from northern Pyongyang": the state of the place it came from.
        for entity in part.entities:
            if entity.kind == "place" and entity.entity.country:
                return (entity.entity.country,)
        return ()

    def people(self, part: _Part) -> tuple[str, ...]:
        """The people taking part: persons of the rule's actor roles, in office."""
        roles = self.rule.actors.roles
        return tuple(
            dict.fromkeys(
                e.name
                for e in part.entities
                if e.kind == "person" and e.role != "former" and (not roles or e.role in roles)
            )
        )

    def location(self, part: _Part) -> str | None:
        """The place named nearest the anchor."""
        places = [e for e in part.entities if e.kind == "place"]
        if not places:
            return None
        return min(places, key=lambda e: (self.distance(e.start, e.end, part.anchor), e.start)).name


def _actor_name(entity: EntityMention, kinds: frozenset[str], roles: frozenset[str]) -> str | None:
    if entity.kind in kinds and entity.kind != "person":
        return entity.name
    if entity.kind == "person" and "person" in kinds:
        return entity.name if (not roles or entity.role in roles) else None
    if entity.as_state and "state" in kinds:
        return entity.as_state
    return None


def _outermost(cues: list[tuple[Hit, int, CueKind]]) -> list[tuple[Hit, int, CueKind]]:
    """Cues not inside a longer cue: "held" in "will be held" is not a cue of its own."""
    return [
        cue
        for cue in cues
        if not any(
            o[0].start <= cue[0].start
            and cue[0].end <= o[0].end
            and (o[0].end - o[0].start) > (cue[0].end - cue[0].start)
            for o in cues
        )
    ]


def _selection(
    spec: SelectionSpec,
    hits: Sequence[Hit],
    entities: Sequence[EntityMention],
    ruleset: RuleSet,
    token: Callable[[int], int],
) -> tuple[bool, list[int], tuple[str, ...]]:
    ok = True
    positions: list[int] = []
    shown: list[str] = []
    if spec.terms:
        found = {h.term for h in hits}
        chosen = [h for h in hits if h.term in spec.any_terms or h.term in spec.all_terms]
        if spec.any_terms and not found & spec.any_terms:
            ok = False
        if spec.all_terms and not spec.all_terms <= found:
            ok = False
        if found & spec.none_terms:
            ok = False
        positions += [token(h.start) for h in chosen]
        shown += [ruleset.term_text(h.term) for h in chosen]
    if spec.uses_entities:
        fitting = [(e, name) for e in entities if (name := _entity_fit(spec, e))]
        if len({name for _e, name in fitting}) < spec.min_count:
            ok = False
        positions += [token(e.start) for e, _name in fitting]
        shown += [name for _e, name in fitting]
    return ok, positions, tuple(dict.fromkeys(shown))


def _entity_fit(spec: SelectionSpec, entity: EntityMention) -> str | None:
    """The name under which `entity` fits the selection (a capital may fit as its state)."""
    if spec.roles and entity.kind == "person" and entity.role not in spec.roles:
        return None
    if entity.name in spec.entity_names or entity.kind in spec.entity_kinds:
        return entity.name
    state = entity.as_state
    if state and ("state" in spec.entity_kinds or state in spec.entity_names):
        return state
    return None


def support_holds(ruleset: RuleSet, rule_index: int, scan: ArticleScan, sentence: int) -> bool:
    """Whether the rule's `support` condition holds on a whole sentence (one that adds facts to a
    nearby event without naming it, like "one of the missiles flew 350 km")."""
    rule = ruleset.rules[rule_index]
    if rule.support is None:
        return False
    reader = _SentenceReader(ruleset, rule_index, scan, sentence)
    present, positions, _shown = reader.selection_state(reader.selection_hits, reader.entities)
    return evaluate(rule.support, present, positions)


def read_sentence(
    ruleset: RuleSet, rule_index: int, scan: ArticleScan, sentence: int
) -> SentenceTrace | None:
    """How rule `rule_index` reads sentence `sentence`, or None when no anchor term is there."""
    return _SentenceReader(ruleset, rule_index, scan, sentence).read()
