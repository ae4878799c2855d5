"""Event mentions of one rule in one sentence.

A sentence can name several events ("Koizumi hosted Ahn in Yokosuka, just as Takaichi hosted Lee
in Nara earlier this month"), so each anchor term (the rule's event word) is one candidate
mention, and every other thing found in the sentence (terms, entities, dates, cues) belongs to
the nearest anchor. A cue that introduces what follows ("days after", "following the") belongs
to the next anchor after it; a fronted adverbial ("Earlier this month, ...") to every anchor.
Dates and cues nearer to another rule's event word belong to that event ("sanctions approved
today over the missile tests": "today" dates the sanctions, not the tests).
The condition is then checked per mention, so a leader named next to one "hosted" does not make
the other "hosted" a summit.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from core.model import Status
from detect.engine.scan import ArticleScan
from detect.engine.selections import State, outermost, selection_state
from detect.engine.timing import Temporal, status_from_date, temporal
from detect.rules.aliases import EntityMention
from detect.rules.conditions import evaluate
from detect.rules.ruleset import COMMON, CueKind, Rule, RuleSet
from detect.text.dates import DateExpr, DateSpan
from detect.text.normalize import has_cjk, is_chinese
from detect.text.ordinals import ordinal_before
from detect.text.sentences import Sentence
from detect.text.terms import Hit

_NEGATION_WORDS = 5  # a negation this close before the anchor (after it, in CJK) denies it
_HYPOTHESIS_WORDS = 8  # "if", "fears that" this close before the anchor make it hypothetical
_ANCHOR_GAP = 2  # event words this close are one event: "held talks", "meet for talks"
_FRONTED_WORDS = 6  # a leading clause this short, with no anchor in it, frames the whole sentence
# How far a sentence's status cue reaches an anchor that has none of its own: words before it in
# spaced scripts; characters (one token each) or Korean words after it in CJK.
_GOVERNING_WORDS = 10
_GOVERNING_CJK = 30
_HANGUL_CUE_REACH = 3  # words between an anchor and a Korean past ending that is its own
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# "[event]を強行した / 을 강행한 [state] に対し / 에 대한": a past adnominal verb, then the state an
# action is aimed at.
_TARGET_REACH = 12
_ATTRIBUTIVE = re.compile(r"(?:を|을|를)?\s?[^\s、。,，]{0,5}(?:した|한)\s?")
_TARGETED = re.compile(r"\s?(?:に対し|に対する|への|에 대한|에 대해|을 겨냥|를 겨냥)")
# Topic and subject particles: a date right after one dates the sentence's main predicate.
_TOPIC_PARTICLES = frozenset("はが는은이가")
# On a tie between cues the weaker claim wins: "preparations ... completed" is not a test held.
_STATUS_ORDER: dict[Status, int] = {"planned": 0, "cancelled": 1, "occurred": 2}
# A short line with no full stop: a headline, wherever it stands.
_HEADLINE = re.compile(r"[^\n]{4,80}(?<![.!?。\"'」』)])")
_SELF_REPORT = re.compile(r"\s*(?:that\s+)?(?:it|they|its|their)\b", re.IGNORECASE)


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
    states: tuple[str, ...]
    people: tuple[str, ...]
    location: str | None
    place: str | None
    ordinal: int | None
    asserted: bool  # the text says it happened or when: a cue, a date, a headline, a verb


@dataclass(frozen=True, slots=True)
class PartitionTrace:
    """What became of one anchor of a sentence (for `explain`)."""

    anchor: str
    selections: dict[str, tuple[str, ...]]
    condition: bool
    blocked: str | None  # why a mention the condition allows was dropped (a negation...)
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


class _Overlaps:
    """Whether a span overlaps one of some hits (sorted by start), in logarithmic time: among
    the hits starting before the span ends, the furthest end tells."""

    def __init__(self, hits: Sequence[Hit]) -> None:
        self.starts = [h.start for h in hits]
        self.furthest = list(accumulate((h.end for h in hits), max))

    def overlaps(self, start: int, end: int) -> bool:
        count = bisect_left(self.starts, end)
        return count > 0 and self.furthest[count - 1] > start


def words_between(
    token: Callable[[int], int], start: int, end: int, anchor: tuple[int, int]
) -> int:
    """Words between the span [start, end) and an anchor (0 when they overlap), `token`
    giving the word position of a character."""
    if end <= anchor[0]:
        return token(anchor[0]) - token(max(start, end - 1))
    if start >= anchor[1]:
        return token(start) - token(anchor[1] - 1)
    return 0


class _NearestAnchor:
    """The anchor nearest a span in words (the earliest on a tie), found by bisection: anchors
    are disjoint and sorted, so only the last one before the span and the first one reaching
    into or past it can be nearest (reading every anchor for every term was quadratic in a
    sentence with many event words)."""

    def __init__(self, anchors: Sequence[tuple[int, int]], token: Callable[[int], int]) -> None:
        self.anchors = anchors
        self.token = token
        self.ends = [end for _start, end in anchors]
        self.starts = [start for start, _end in anchors]
        self.first = anchors[0][0] if anchors else 0
        # Per anchor, the earliest anchor ending in the same word: as near to what follows.
        self.same_word_from: list[int] = []
        for i, (_start, end) in enumerate(anchors):
            shares = i and token(self.ends[i - 1] - 1) == token(end - 1)
            self.same_word_from.append(self.same_word_from[i - 1] if shares else i)

    def anchor(self, start: int, end: int) -> tuple[int, int]:
        """The anchor nearest [start, end)."""
        ahead = bisect_right(self.ends, start)  # anchors from here end after `start`
        candidates = []
        if ahead:
            candidates.append(self.anchors[self.same_word_from[ahead - 1]])
        if ahead < len(self.anchors):
            candidates.append(self.anchors[ahead])
        return min(candidates, key=lambda a: (words_between(self.token, start, end, a), a[0]))

    def first_after(self, end: int) -> tuple[int, int] | None:
        """The first anchor starting at or after `end`."""
        index = bisect_left(self.starts, end)
        return self.anchors[index] if index < len(self.anchors) else None


class _SentenceReader:
    """Reads one sentence for one rule."""

    def __init__(self, ruleset: RuleSet, rule_index: int, scan: ArticleScan, sentence: int):
        self.ruleset = ruleset
        self.rule = ruleset.rules[rule_index]
        self.scan = scan
        self.index = sentence
        self.text = scan.text
        # `token(i)` is the word position of character i.
        self.token = scan.text.token_at
        index = scan.index[sentence]
        self.selection_hits = index.selections.get(rule_index, [])
        self.cues = outermost([*index.cues.get(COMMON, ()), *index.cues.get(rule_index, ())])
        self.entities = scan.entities[sentence]
        self.dates = scan.dates[sentence]
        self.parts: list[_Part] = []
        own = _Overlaps([h for h, name in self.selection_hits if name in self.rule.anchors])
        foreign = [
            h
            for h, rules in index.anchors
            if any(r != rule_index for r in rules) and not own.overlaps(h.start, h.end)
        ]
        # Other rules' event words, by end and by start, for the nearest on either side.
        self.foreign_by_end = sorted(foreign, key=lambda h: h.end)
        self.foreign_ends = [h.end for h in self.foreign_by_end]
        self.foreign_starts = sorted(h.start for h in foreign)
        self.nearest = _NearestAnchor([], self.token)

    def distance(self, start: int, end: int, anchor: tuple[int, int]) -> int:
        """Words between a span and an anchor (0 when they overlap)."""
        return words_between(self.token, start, end, anchor)

    def selection_state(
        self, hits: Sequence[tuple[Hit, str]], entities: Sequence[EntityMention]
    ) -> State:
        return selection_state(self.rule.selections, hits, entities, self.ruleset, self.token)

    def read(self) -> SentenceTrace | None:
        anchors = self.anchors()
        if not anchors:
            return None
        text = self.scan.sentence_text(self.index)
        if len(anchors) == 1:
            # One event word: its part holds every term and entity of the sentence, so the
            # sentence needs no test of its own.
            self.parts = self.partition(anchors)
            only = self.read_part(self.parts[0])
            return SentenceTrace(self.index, text, only.selections, only.condition, (only,))
        present, positions, shown = self.selection_state(self.selection_hits, self.entities)
        # A quick test on the whole sentence, before splitting it per anchor: what a `not`
        # excludes may belong to another anchor of the sentence, so it does not count yet.
        hopeful = {n: p and n in self.rule.positive for n, p in present.items()}
        if not evaluate(self.rule.condition, hopeful, positions):
            return SentenceTrace(self.index, text, shown, False, ())
        self.parts = self.partition(anchors)
        traces = tuple(self.read_part(part) for part in self.parts)
        return SentenceTrace(self.index, text, shown, True, traces)

    def anchors(self) -> list[tuple[int, int]]:
        spans = sorted(
            (h.start, h.end) for h, name in self.selection_hits if name in self.rule.anchors
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and self.token(start) - self.token(merged[-1][1] - 1) <= _ANCHOR_GAP:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def fronted_end(self, anchors: Sequence[tuple[int, int]]) -> int:
        """End of a short leading clause with no anchor in it ("Earlier this month, ..."), or
        the sentence start when there is none."""
        sentence = self.scan.sentences[self.index]
        commas = [self.text.cased.find(c, sentence.start, sentence.end) for c in ",、"]
        comma = min((c for c in commas if c >= 0), default=-1)
        if comma < 0 or comma > anchors[0][0]:
            return sentence.start
        if self.token(comma) - self.token(sentence.start) > _FRONTED_WORDS:
            return sentence.start
        return comma

    def claimed(self, start: int, end: int, cue: bool = False) -> bool:
        """Whether another rule's event word is strictly nearer to a date or cue than every
        anchor of this rule: then it dates or qualifies that other event. A status cue that
        stands before both governs both ("将于下月访华，与王毅举行会谈": the talks are planned
        too). Only the nearest event word on each side can be nearer."""
        if not self.foreign_starts:
            return False
        own = self.distance(start, end, self.nearest.anchor(start, end))
        before = bisect_right(self.foreign_ends, start)
        if before:
            hit = self.foreign_by_end[before - 1]
            if self.distance(start, end, (hit.start, hit.end)) < own:
                return True
        # A cue before the first anchor is not claimed by an event word between the two; no
        # other rule's event word straddles an anchor's start, so those all start before it.
        after_from = max(end, self.nearest.first) if cue else end
        after = bisect_left(self.foreign_starts, after_from)
        if after < len(self.foreign_starts):
            position = self.foreign_starts[after]
            return self.distance(start, end, (position, position + 1)) < own
        return False

    def describes_target(self, part: _Part) -> bool:
        """Whether the event is told in a Korean or Japanese relative clause describing the state
        another action targets ("6回目の核実験を強行した北朝鮮に対し制裁", "핵실험을 강행한 북한에
        대한 제재"): an attribute of the target, recalled, not reported."""
        end, text = part.anchor[1], self.text.cased
        for entity in self.entities:
            if entity.start < end or entity.start - end > _TARGET_REACH:
                continue
            if entity.kind != "state" and entity.as_state is None:
                continue
            if _ATTRIBUTIVE.fullmatch(text, end, entity.start) and _TARGETED.match(
                text, entity.end
            ):
                return True
        return False

    def after_topic(self, start: int) -> bool:
        """Whether a date stands right after a Korean or Japanese topic or subject particle."""
        before = self.text.cased[max(0, start - 2) : start].rstrip()
        return before[-1:] in _TOPIC_PARTICLES and before[-2:-1] not in ("", " ")

    def foreign_between(self, start: int, end: int) -> bool:
        """Whether another rule's event word starts in [start, end)."""
        return bisect_left(self.foreign_starts, start) < bisect_left(self.foreign_starts, end)

    def partition(self, anchors: list[tuple[int, int]]) -> list[_Part]:
        parts = [_Part(a) for a in anchors]
        fronted = self.fronted_end(anchors)
        self.nearest = _NearestAnchor(anchors, self.token)
        part_at = dict(zip(anchors, parts, strict=True))

        def targets(
            start: int, end: int, forward: bool = False, own: bool = False, cue: bool = False
        ) -> list[_Part]:
            if end <= fronted:
                return parts
            if forward:
                # A cue that introduces what follows ("days after", "a scenario in which")
                # belongs to the next event word, unless another rule's comes first: an event
                # word behind it ("the drill simulated a scenario") is not what it introduces.
                after = self.nearest.first_after(end)
                if after is None or (own and self.foreign_between(end, after[0])):
                    return []
                return [part_at[after]]
            if own and self.claimed(start, end, cue=cue):
                return []
            return [part_at[self.nearest.anchor(start, end)]]

        for hit, name in self.selection_hits:
            for part in targets(hit.start, hit.end):
                part.selection_hits.append((hit, name))
        for hit, owner, kind in self.cues:
            if kind == "background_after":
                # "발사에 대응해", "launch, in response to which": the event named just before.
                before = [p for p in parts if p.anchor[1] <= hit.start]
                if before and not self.claimed(hit.start, hit.end):
                    before[-1].cues.append((hit, owner, kind))
                continue
            # Korean and Japanese frames close their clause: "発射されたとの想定" looks back.
            forward = kind == "background_before" or (
                kind == "hypothetical" and not has_cjk(self.text.cased[hit.start : hit.end])
            )
            own = kind != "reporting"
            status = kind in _STATUS_ORDER or kind == "modal"
            for part in targets(hit.start, hit.end, forward=forward, own=own, cue=status):
                part.cues.append((hit, owner, kind))
        for entity in self.entities:
            for part in targets(entity.start, entity.end):
                part.entities.append(entity)
        opening = self.token(self.scan.sentences[self.index].start)
        for expr in self.dates:
            # A date that opens the sentence ("去年8月には...", "Last year, ..."), or follows
            # its Korean or Japanese topic ("外相は21日、訪問先で会談し", "장관은 7일"), dates it
            # all: it belongs to the main predicate, not to a nearer word in a modifier.
            if self.token(expr.start) == opening or self.after_topic(expr.start):
                for part in parts:
                    part.dates.append(expr)
                continue
            for part in targets(expr.start, expr.end, own=True):
                part.dates.append(expr)
        return parts

    def read_part(self, part: _Part) -> PartitionTrace:
        anchor_text = self.text.cased[part.anchor[0] : part.anchor[1]]
        present, positions, shown = self.selection_state(part.selection_hits, part.entities)
        if not evaluate(self.rule.condition, present, positions):
            return PartitionTrace(anchor_text, shown, False, None, None)
        negation = self.negation(part)
        if negation is not None:
            return PartitionTrace(anchor_text, shown, True, f"denied by {negation!r}", None)
        mention = self.mention(part, anchor_text, shown)
        only = self.rule.actors.only
        if only and not only & set(mention.actors):
            who = ", ".join(mention.actors) or "unknown"
            reason = f"actor {who} is not {' or '.join(sorted(only))}"
            return PartitionTrace(anchor_text, shown, True, reason, None)
        return PartitionTrace(anchor_text, shown, True, None, mention)

    def negation(self, part: _Part) -> str | None:
        """The negation that denies the event: shortly before the anchor ("did not fire"), or
        shortly after it in Korean and Japanese ("발사하지 않았다", "発射していない")."""
        return self.frame(part, "negation", _NEGATION_WORDS, after=True)

    def frame(self, part: _Part, kind: CueKind, words: int, after: bool) -> str | None:
        """A cue of `kind` within `words` words before the anchor (or, with `after`, a CJK one
        as close after it), as written."""
        start, end = self.token(part.anchor[0]), self.token(part.anchor[1] - 1)
        for hit, _owner, cue_kind in part.cues:
            if cue_kind != kind:
                continue
            before = hit.end <= part.anchor[0] and start - self.token(hit.start) <= words
            behind = (
                after
                and hit.start >= part.anchor[1]
                and has_cjk(self.text.cased[hit.start : hit.end])
                and self.token(hit.start) - end <= words
            )
            if before or behind:
                return self.text.cased[hit.start : hit.end]
        return None

    def mention(self, part: _Part, anchor_text: str, shown: dict[str, tuple[str, ...]]) -> Mention:
        status, cue, reach = self.own_status(part)
        if status is None:
            status, cue, reach = self.governing_status(part)
        expr = self.date_expr(part)
        span = None
        if expr is not None:
            span = expr.resolve(self.scan.reference, self.scan.dated, status == "planned")
            # Whichever is nearer the event word speaks: "launch this morning ... he would
            # discuss" is a launch that happened; "dispatched on Monday to conduct drills" not.
            by_date, date_cue = status_from_date(expr, span, self.scan.reference)
            nearer = status is None or self.distance(expr.start, expr.end, part.anchor) < reach
            if by_date and nearer:
                status, cue = by_date, date_cue
                span = expr.resolve(self.scan.reference, self.scan.dated, status == "planned")
        # Korean and Japanese frames close their clause ("発射されたとの想定"); Chinese and
        # English ones open it ("如果朝鲜发射").
        sentence = self.scan.sentences[self.index]
        head_final = not is_chinese(self.text.cased[sentence.start : sentence.end])
        hypothesis = self.frame(part, "hypothetical", _HYPOTHESIS_WORDS, after=head_final)
        if hypothesis is not None:
            # "If North Korea fires...", "fears that it had conducted a test": not a report.
            status, cue = "planned", hypothesis
        temporal, reason = self.timing(part, expr, span, status)
        if self.describes_target(part):
            temporal, reason = "background", "it describes the target of another action"
        asserted = status is not None or temporal == "recent" or self.bare_report(sentence)
        terms = tuple(
            dict.fromkeys(t for name, ts in shown.items() if name in self.rule.positive for t in ts)
        )
        location = self.location(part)
        actors = self.actors(part)
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
            actors=actors,
            states=self.states(actors),
            people=self.people(part),
            location=location,
            place=location if "place" in self.rule.identity else None,
            ordinal=ordinal_before(self.text.cased, part.anchor[0]),
            asserted=asserted,
        )

    def bare_report(self, sentence: Sentence) -> bool:
        """Whether a sentence reports its event with no cue or date: headline grammar
        ("N. Korea fires missile", "북한 미사일 발사"), whose tense does not say when (the
        body's cues decide the status), and Chinese, whose verbs carry no tense ("朝鲜发射导弹"
        states a launch as plainly as "fired"). Only the headline and the lede carry the news
        so: deeper in the body, a tenseless mention with no date is context ("与此同时，朝鲜也
        加速试射导弹")."""
        if not self.scan.in_lede(self.index):
            return False
        return (
            sentence.part == "title"
            # A feed often repeats its headline as the first line of the text.
            or _HEADLINE.fullmatch(self.scan.sentence_text(self.index)) is not None
            or is_chinese(self.text.cased[sentence.start : sentence.end])
        )

    def own_status(self, part: _Part) -> tuple[Status | None, str | None, int]:
        """The status cue nearest the anchor among its own, and how far it is."""
        candidates = self.status_candidates(part, part.cues)
        if not candidates:
            return None, None, 0
        distance, *_, kind, hit = min(candidates, key=lambda c: c[:3])
        return kind, self.text.cased[hit.start : hit.end], distance

    def governing_status(self, part: _Part) -> tuple[Status | None, str | None, int]:
        """A status cue of the sentence that governs the anchor: one before it ("will visit
        Beijing for a summit": the summit is planned too), or after it in Korean and Japanese,
        whose verbs end the clause."""
        governing = []
        for cue in self.cues:
            hit = cue[0]
            cjk = has_cjk(self.text.cased[hit.start])
            if not (hit.end <= part.anchor[0] or cjk):
                continue
            reach = _GOVERNING_CJK if cjk else _GOVERNING_WORDS
            if self.distance(hit.start, hit.end, part.anchor) <= reach and not self.claimed(
                hit.start, hit.end, cue=True
            ):
                governing.append(cue)
        candidates = self.status_candidates(part, governing)
        if not candidates:
            return None, None, 0
        distance, *_, kind, hit = min(candidates, key=lambda c: c[:3])
        return kind, self.text.cased[hit.start : hit.end], distance

    def status_candidates(
        self, part: _Part, cues: Sequence[tuple[Hit, int, CueKind]]
    ) -> list[tuple[int, bool, int, Status, Hit]]:
        """Status cues as (distance, shared, strength, status, hit). A modal ("will", "would")
        speaks only of the verb after it: "his visit would elevate ties" is no planned visit."""
        found = []
        for hit, owner, kind in cues:
            distance = self.distance(hit.start, hit.end, part.anchor)
            if kind == "modal" and hit.end <= part.anchor[0] and distance <= _GOVERNING_WORDS:
                kind = "planned"
            # A shared Korean past ending ("했다") speaks of the word it ends or the next: "방한을
            # 통해 ... 의미를 부여했다" is no visit held. Plans ("예정") govern their whole clause,
            # and so does a rule's own verb ("자산을 동결하기로 결정했다" for sanctions): the
            # event's evidence is often split between a noun and a verb further on.
            if (
                kind == "occurred"
                and owner == COMMON
                and distance > _HANGUL_CUE_REACH
                and _HANGUL.match(self.text.cased[hit.start])
            ):
                continue
            if kind in _STATUS_ORDER:
                found.append((distance, owner == COMMON, _STATUS_ORDER[kind], kind, hit))
        return found

    def date_expr(self, part: _Part) -> DateExpr | None:
        """The date expression nearest the anchor (intervals such as "since 2017" date nothing)."""
        dated = [d for d in part.dates if d.kind != "interval"]
        if not dated:
            return None
        return min(dated, key=lambda d: self.distance(d.start, d.end, part.anchor))

    def timing(
        self, part: _Part, expr: DateExpr | None, span: DateSpan | None, status: Status | None
    ) -> tuple[Temporal, str]:
        """News, context or unsaid, from the part's date and cues. In an undated article, an
        English calendar date ("on November 29") that is not the lede's is context: English news
        names the days of the past week by weekday and gives older events their date."""
        if (
            expr is not None
            and not self.scan.dated
            and expr.kind == "month_day"
            and status != "planned"
            and not has_cjk(expr.text)
            and not self.scan.in_lede(self.index)
        ):
            return "background", f"calendar date {expr.text!r} in an undated article"
        cues = [(kind, self.text.cased[h.start : h.end]) for h, _owner, kind in part.cues]
        return temporal(expr, span, status, self.scan.reference, cues)

    def actors(self, part: _Part) -> tuple[str, ...]:
        spec = self.rule.actors
        candidates = [e for e in part.entities if _actor_name(e, spec.kinds, spec.roles)]
        if spec.mode == "agent":
            return self.agent(part, candidates)
        found = tuple(
            dict.fromkeys(_actor_name(e, spec.kinds, spec.roles) or "" for e in candidates)
        )
        if not found and "state" in spec.kinds and self.names_a_pair():
            # "between the two countries' navies": the two states the article is about.
            return self.scan.principal_states[:2]
        return found

    def names_a_pair(self) -> bool:
        """Whether the sentence speaks of "the two countries" ("양국", "両国", "双方")."""
        return any(kind == "pair" for _hit, _owner, kind in self.cues)

    def states(self, actors: Sequence[str]) -> tuple[str, ...]:
        """The states of an event's actors: a state itself, a person's or body's country."""
        table = self.ruleset.entities.entities
        found = []
        for name in actors:
            entity = table.get(name)
            if entity is not None:
                found.append(name if entity.kind == "state" else entity.country)
        return tuple(dict.fromkeys(s for s in found if s))

    def agent(self, part: _Part, candidates: Sequence[EntityMention]) -> tuple[str, ...]:
        # "Japan said North Korea fired": who reports is not who acts; but in "North Korea said
        # it fired" the pronoun brings the reporter back as the actor.
        reports = [
            h
            for h, _o, kind in part.cues
            if kind == "reporting" and not _SELF_REPORT.match(self.text.cased, h.end)
        ]
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
    if entity.kind == "person" and "state" in kinds and entity.role != "former":
        return entity.entity.country  # "Kim Jong Un fired": the state the person acts for
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
