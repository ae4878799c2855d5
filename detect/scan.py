"""One pass over an article shared by every rule: normalise, split sentences, find every term,
entity and date expression, and bucket them per sentence."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from core.model import DetectionInput
from detect.dates import DateExpr, find_dates, sane_reference
from detect.entityscan import EntityMention, resolve_entities
from detect.matcher import Hit
from detect.model import CueKind, RuleSet
from detect.sentences import Sentence, split_sentences
from detect.textnorm import NormText, normalize_parts

_T = TypeVar("_T", Hit, EntityMention, DateExpr)
_PLACE = r"[A-Z][A-Za-z.'-]+(?: [A-Z][A-Za-z.'-]+){0,2}"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_MONTH_DAY = rf"{_MONTH}\.? \d{{1,2}}|\d{{1,2}} [A-Z][a-z]+"
# "SEOUL, Jan. 28 (Yonhap) --", "Tokyo, Jan 28 (IANS)", "Tokyo, Japan - ": where and when the
# story was filed, not where or when its events happened.
_DATELINE = re.compile(
    rf"^\s*{_PLACE}(?:, (?!{_MONTH}\b){_PLACE})?(?P<date>(?:,? )(?:{_MONTH_DAY})(?:, \d{{4}})?)?"
    r"\s*(?P<agency>\([A-Za-z .]{2,20}\))?\s*(?P<dash>--|[-–—:](?= ))?\s*"
)


MAX_BODY_CHARS = 100_000
"""How much of an article's body detection reads: the first 100,000 characters. Long real
articles (a few 10,000 characters; the longest of the labelled corpus has 3,600) are read in
full, and what reports news is at the top anyway; a megabyte of pasted or hostile text costs what
100 KB costs. The full text stays stored; this bounds only the work of one detection."""
MAX_TITLE_CHARS = 2_000
"""How much of a title detection reads: headlines run to a few hundred characters; a "title"
longer than this is a body pasted into the wrong field."""


LEDE_SENTENCES = 2
"""How many body sentences make the lede: the first paragraph of a wire story is one or two
sentences, and a feed often repeats its headline as the first line."""


@dataclass(slots=True)
class SentenceIndex:
    """One sentence's hits sorted out in one pass, so a rule reads only its own: `selections`
    maps a rule index to its (hit, selection name) pairs, `cues` an owner (a rule index, or
    COMMON) to its (hit, owner, kind) cues, and `anchors` lists the hits that are some rule's
    event word, with those rules."""

    selections: dict[int, list[tuple[Hit, str]]]
    cues: dict[int, list[tuple[Hit, int, CueKind]]]
    anchors: list[tuple[Hit, list[int]]]


@dataclass(slots=True)
class ArticleScan:
    """Everything found in one article, per sentence."""

    key: str
    text: NormText
    sentences: list[Sentence]
    hits: list[list[Hit]]
    entities: list[list[EntityMention]]
    dates: list[list[DateExpr]]
    reference: date | None
    dated: bool
    index: list[SentenceIndex]
    # The states the article is about, most mentioned first: what "the two countries" means.
    principal_states: tuple[str, ...] = ()

    def in_lede(self, index: int) -> bool:
        """Whether a sentence is in the headline or the lede (the first LEDE_SENTENCES of the
        body): where a news article says what its news is. What only deeper sentences name
        is told as context unless they date it inside the news cycle."""
        sentence = self.sentences[index]
        if sentence.part == "title":
            return True
        first_body = next(s.index for s in self.sentences if s.part == "body")
        return index - first_body < LEDE_SENTENCES

    def sentence_text(self, index: int) -> str:
        """A sentence as written (normalised spaces and quotes)."""
        sentence = self.sentences[index]
        return self.text.cased[sentence.start : sentence.end]


def _bucket(items: Sequence[_T], sentences: Sequence[Sentence]) -> list[list[_T]]:
    starts = [s.start for s in sentences]
    buckets: list[list[_T]] = [[] for _ in sentences]
    for item in items:
        index = bisect_right(starts, item.start) - 1
        if index >= 0 and item.start < sentences[index].end:
            buckets[index].append(item)
    return buckets


def strip_dateline(text: str) -> str:
    """`text` without a leading dateline."""
    match = _DATELINE.match(text)
    if match and (match["dash"] or match["agency"]) and (match["date"] or match["dash"]):
        return text[match.end() :]
    return text


def index_sentence(ruleset: RuleSet, hits: Sequence[Hit]) -> SentenceIndex:
    """Sort a sentence's hits by the rules and cue lists that use them."""
    index = SentenceIndex({}, {}, [])
    uses = ruleset.term_uses
    for hit in hits:
        found = uses.get(hit.term)
        if found is None:  # an alias or title only: entity resolution has used it already
            continue
        selection_users, cue_users, rules = found
        for owner, name in selection_users:
            index.selections.setdefault(owner, []).append((hit, name))
        for owner, kind in cue_users:
            index.cues.setdefault(owner, []).append((hit, owner, kind))
        if rules:
            index.anchors.append((hit, rules))
    return index


def scan_article(ruleset: RuleSet, item: DetectionInput) -> ArticleScan:
    """Scan `item` once for every rule of `ruleset`."""
    title, body = item.title[:MAX_TITLE_CHARS], item.text[:MAX_BODY_CHARS]
    parts = [strip_dateline(title), strip_dateline(body)]
    text, (title_range, body_range) = normalize_parts(parts)
    sentences = split_sentences(text.cased, [("title", *title_range), ("body", *body_range)])
    hits = ruleset.matcher.scan(text)
    entities = resolve_entities(text, hits, ruleset.entities, ruleset.entity_cues)
    dates = find_dates(text)
    reference = sane_reference(item.reference)
    per_sentence = _bucket(hits, sentences)
    states = Counter(
        state
        for mention in entities
        if (state := mention.as_state or _state_of(mention)) is not None
    )
    return ArticleScan(
        key=item.key,
        text=text,
        sentences=sentences,
        hits=per_sentence,
        entities=_bucket(entities, sentences),
        dates=_bucket(dates, sentences),
        reference=reference,
        dated=item.dated and reference is not None,
        index=[index_sentence(ruleset, sentence_hits) for sentence_hits in per_sentence],
        # Counter keeps first-seen order among equals: ties go to the state named first.
        principal_states=tuple(name for name, _n in states.most_common()),
    )


def _state_of(mention: EntityMention) -> str | None:
    """The state an entity mention speaks for: a state itself, or a person's country."""
    if mention.kind == "state":
        return mention.name
    return mention.entity.country if mention.kind == "person" else None
