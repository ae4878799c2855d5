"""One pass over an article shared by every rule: normalise, find every term, split sentences,
and bucket the terms per sentence; entities and dates on first use.

The work is a cascade, cheapest first, because most articles report nothing: an automaton over
the rules' anchor terms alone, and a look at the sentences holding them
(`detect.engine.prefilter.could_fire`), decide whether any rule could fire at all; only those
articles get the pass over every term (`find_terms`: cue lists hold very common words, ~95 hits
per news article) and are split into sentences; entities and dates, the costliest readings, are
resolved only when some rule reads a sentence closely (`ArticleScan.entities`, `.dates`). Each
reading covers the whole article when it happens, so what a rule sees never depends on what was
skipped."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TypeVar

from core.model import DetectionInput
from detect.engine.entity_mentions import resolve_entities
from detect.rules.aliases import EntityMention
from detect.rules.ruleset import CueKind, RuleSet
from detect.text.dates import DateExpr, find_dates, sane_reference
from detect.text.normalize import NormText, normalize_parts
from detect.text.sentences import Sentence, split_sentences
from detect.text.terms import Hit

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


class SentenceIndexes:
    """Each sentence's `SentenceIndex`, sorted out on first look: detection reads only the
    sentences that hold an event word (a few of ~30 in a news article)."""

    def __init__(self, ruleset: RuleSet, hits: list[list[Hit]]) -> None:
        self._ruleset = ruleset
        self._hits = hits
        self._built: dict[int, SentenceIndex] = {}

    def __len__(self) -> int:
        return len(self._hits)

    def __getitem__(self, sentence: int) -> SentenceIndex:
        found = self._built.get(sentence)
        if found is None:
            found = self._built[sentence] = index_sentence(self._ruleset, self._hits[sentence])
        return found

    def __iter__(self) -> Iterator[SentenceIndex]:
        return (self[sentence] for sentence in range(len(self._hits)))


@dataclass(frozen=True, slots=True)
class ArticleText:
    """An article's normalised text (title and body, each on its own line), where title and
    body lie in it."""

    text: NormText
    title_range: tuple[int, int]
    body_range: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ArticleTerms:
    """The automaton pass over an article: its normalised text, where title and body lie in it,
    and every term hit, sorted by position."""

    text: NormText
    title_range: tuple[int, int]
    body_range: tuple[int, int]
    hits: list[Hit]


@dataclass
class ArticleScan:
    """Everything found in one article, per sentence. Entities, dates and the principal states
    are resolved on first use (see the module docstring)."""

    key: str
    text: NormText
    sentences: list[Sentence]
    hits: list[list[Hit]]
    reference: date | None
    dated: bool
    index: SentenceIndexes
    ruleset: RuleSet = field(repr=False)
    all_hits: list[Hit] = field(repr=False)

    @cached_property
    def entity_mentions(self) -> list[EntityMention]:
        """Every entity mention of the article, earliest first."""
        ruleset = self.ruleset
        return resolve_entities(self.text, self.all_hits, ruleset.entities, ruleset.entity_cues)

    @cached_property
    def entities(self) -> list[list[EntityMention]]:
        """Entity mentions per sentence."""
        return _bucket(self.entity_mentions, self.sentences)

    @cached_property
    def dates(self) -> list[list[DateExpr]]:
        """Date expressions per sentence."""
        return _bucket(find_dates(self.text), self.sentences)

    @cached_property
    def principal_states(self) -> tuple[str, ...]:
        """The states the article is about, most mentioned first: what "the two countries"
        means. Counter keeps first-seen order among equals: ties go to the state named first."""
        states = Counter(
            state
            for mention in self.entity_mentions
            if (state := mention.as_state or _state_of(mention)) is not None
        )
        return tuple(name for name, _n in states.most_common())

    def anchored_sentences(self) -> dict[int, list[int]]:
        """Rule index -> sentences holding one of its anchor terms (the only ones worth
        reading), from the hits themselves: no sentence is sorted out for this."""
        anchors = self.ruleset.anchor_rules
        found: dict[int, set[int]] = {}
        for sentence, hits in enumerate(self.hits):
            for hit in hits:
                for rule_index in anchors.get(hit.term, ()):
                    found.setdefault(rule_index, set()).add(sentence)
        return {rule: sorted(sentences) for rule, sentences in found.items()}

    def in_lede(self, index: int) -> bool:
        """Whether a sentence is in the headline or the lede (the first LEDE_SENTENCES of the
        body): where a news article says what its news is. What only deeper sentences name
        is told as context unless they date it inside the news cycle."""
        sentence = self.sentences[index]
        if sentence.part == "title":
            return True
        first_body = next(s.number for s in self.sentences if s.part == "body")
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


def article_text(item: DetectionInput) -> ArticleText:
    """`item` normalised, as every reading of it sees it."""
    title, body = item.title[:MAX_TITLE_CHARS], item.text[:MAX_BODY_CHARS]
    text, (title_range, body_range) = normalize_parts([strip_dateline(title), strip_dateline(body)])
    return ArticleText(text, title_range, body_range)


def find_terms(ruleset: RuleSet, item: DetectionInput | ArticleText) -> ArticleTerms:
    """Find every term of `ruleset` in `item` (normalised first, unless it is already)."""
    read = item if isinstance(item, ArticleText) else article_text(item)
    hits = ruleset.matcher.scan(read.text)
    return ArticleTerms(read.text, read.title_range, read.body_range, hits)


def scan_article(
    ruleset: RuleSet, item: DetectionInput, terms: ArticleTerms | None = None
) -> ArticleScan:
    """Scan `item` once for every rule of `ruleset` (from its automaton pass `terms`, when the
    caller has it already)."""
    terms = terms or find_terms(ruleset, item)
    text = terms.text
    sentences = split_sentences(
        text.cased, [("title", *terms.title_range), ("body", *terms.body_range)]
    )
    per_sentence = _bucket(terms.hits, sentences)
    reference = sane_reference(item.reference)
    return ArticleScan(
        key=item.key,
        text=text,
        sentences=sentences,
        hits=per_sentence,
        reference=reference,
        dated=item.dated and reference is not None,
        index=SentenceIndexes(ruleset, per_sentence),
        ruleset=ruleset,
        all_hits=terms.hits,
    )


def _state_of(mention: EntityMention) -> str | None:
    """The state an entity mention speaks for: a state itself, or a person's country."""
    if mention.kind == "state":
        return mention.name
    return mention.entity.country if mention.kind == "person" else None
