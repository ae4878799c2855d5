"""Whether a sentence could name an entity, told without resolving the article's entities.

The prefilter (`detect.engine.prefilter`) asks it of a sentence holding an event word whose rule
needs an entity there ("North Korea fired", not "The company launched an investigation"). On
generated news (bench/generator.py, 15% event articles) nine in ten articles that the prefilter
passed without this test and that then reported nothing failed only for want of an entity in
their event word's sentence; each cost the whole path (every sentence split out, every term
found, every entity resolved: ~0.85 ms) to learn it. The test reads that one sentence, and the
article's titles once: detection of such articles took 13% less CPU (medians of 16
interleaved rounds of 1,500), the same on articles that all report events.

A "no" is exact: every entity mention `resolve_entities` can make starts, as its sentence
bucket reads it, at one of
- an alias hit (aliases are terms of the matcher: the sentence's hits hold them);
- a span of capitalised words with a known surname at one end (`variant_spans`);
- the name a capitalised title introduces (`titled_name`);
- a capitalised word whose skeleton is the surname of a person named anywhere in the article
  (`surname_words`): a known person's (`person_surnames`), or the first or last word of a
  titled name.
This takes each of them wherever it could be, without the tests that may then reject it (the
person a spelling stands for, a span already taken), so it can only say "yes" more often.
tests/detect/test_nameable.py holds it to `resolve_entities` on every corpus and on generated
names, titles and aliases.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from detect.engine.entity_mentions import surname_words, titled_name, variant_spans
from detect.rules.ruleset import RuleSet
from detect.text.names import skeleton, split_name
from detect.text.normalize import NormText
from detect.text.terms import Hit


class NameBound:
    """Where an entity mention could start in one article (each part worked out once, when a
    first sentence needs it)."""

    def __init__(self, ruleset: RuleSet, text: NormText) -> None:
        self.ruleset = ruleset
        self.text = text
        self._variant_starts: list[int] | None = None
        self._titled: tuple[list[int], frozenset[str]] | None = None

    def could_name(self, start: int, end: int, hits: Sequence[Hit]) -> bool:
        """Whether an entity mention could start in the sentence [start, end), whose hits are
        `hits` (those of the whole matcher starting there)."""
        aliases = self.ruleset.entities.alias_terms
        if any(hit.term in aliases for hit in hits):
            return True
        if _any_between(self.variant_starts(), start, end):
            return True
        name_starts, name_parts = self.titled()
        if _any_between(name_starts, start, end):
            return True
        surnames = self.ruleset.person_surnames
        for word in surname_words(self.text.cased, start, end):
            key = skeleton(word.group())
            if key in surnames or key in name_parts:
                return True
        return False

    def variant_starts(self) -> list[int]:
        """Where a spelling of a known person could start, in order."""
        if self._variant_starts is None:
            spans = variant_spans(self.text.cased, self.ruleset.entities.surnames)
            self._variant_starts = sorted({start for start, _end in spans})
        return self._variant_starts

    def titled(self) -> tuple[list[int], frozenset[str]]:
        """Where a name a title introduces starts, in order, and the skeletons of those names'
        first and last words (which `resolve_entities` reads as their surnames)."""
        if self._titled is None:
            starts: set[int] = set()
            parts: set[str] = set()
            for hit in self.ruleset.title_matcher.hits(self.text):
                name = titled_name(self.text.cased, hit.start, hit.end)
                if name is None:
                    continue
                name_start, words = name
                starts.add(name_start)
                parts.update((skeleton(words[-1]), skeleton(split_name(" ".join(words))[0])))
            self._titled = sorted(starts), frozenset(parts)
        return self._titled


def _any_between(positions: list[int], start: int, end: int) -> bool:
    """Whether any of the sorted `positions` lies in [start, end)."""
    index = bisect_left(positions, start)
    return index < len(positions) and positions[index] < end
