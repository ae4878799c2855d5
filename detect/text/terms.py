"""One multi-pattern matcher for every term of every rule, cue list and alias table.

All literal terms go into a single Aho-Corasick automaton over the folded text, so the cost of
scanning an article barely grows with the number of rules. Spaced-script terms must sit on word
boundaries; Korean, Japanese and Chinese terms match as substrings (particles attach to words).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

import ahocorasick

from detect.text.normalize import (
    ASCII_NOT_WORD,
    NormText,
    has_cjk,
    is_cjk,
    is_word_char,
    normalize_term,
    squash,
)


@dataclass(frozen=True, slots=True)
class TermSpec:
    """How one term is searched for. `text` is the term as written in the rule (for reports)."""

    text: str
    pattern: str
    prefix: bool = False
    substring: bool = False
    case: bool = False
    regex: bool = False
    cased: str = ""


class Hit(NamedTuple):
    """One occurrence of a term in an article's normalised text (a tuple: articles make many)."""

    term: int
    start: int
    end: int


def term_spec(raw: str, modifiers: frozenset[str] = frozenset()) -> TermSpec:
    """The spec of a term as written in a rule: a trailing `*` lets the word go on ("launch*")."""
    if "regex" in modifiers:
        return TermSpec(raw, raw, regex=True, case="case" in modifiers)
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    return TermSpec(
        raw,
        normalize_term(body),
        prefix=prefix,
        substring="substring" in modifiers,
        case="case" in modifiers,
        cased=squash(body),
    )


class Lexicon:
    """Collects term specs (equal specs share one id) and compiles them into a `Matcher`."""

    def __init__(self) -> None:
        self.specs: list[TermSpec] = []
        self._ids: dict[tuple[str, bool, bool, bool, bool], int] = {}

    def add(self, spec: TermSpec) -> int:
        """The id of `spec`, registering it on first sight."""
        key = (spec.pattern, spec.prefix, spec.substring, spec.case, spec.regex)
        if key not in self._ids:
            self._ids[key] = len(self.specs)
            self.specs.append(spec)
        return self._ids[key]

    def compile(self) -> Matcher:
        """A matcher for every term added so far."""
        return Matcher(tuple(self.specs))


# Everything that cannot continue a word of a spaced script (punctuation, spaces, CJK) reads
# as a space in the text whole-word terms are searched in.
_NOT_LATIN_WORD = re.compile(
    r"[\W_\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff]"
)


def word_view(folded: str) -> str:
    """`folded` with a space before and after and every non-word character as a space, so a
    whole-word term " in " is found only where it stands alone (one automaton pass, no
    rejected candidates inside "missing" or "joint"). An ASCII text goes through a byte table
    (`ASCII_NOT_WORD`; a test compares it with the regular expression)."""
    if folded.isascii():
        return " " + folded.encode("ascii").translate(ASCII_NOT_WORD).decode("ascii") + " "
    return " " + _NOT_LATIN_WORD.sub(" ", folded) + " "


_new_hit = tuple.__new__  # Hit(...) without the Python-level __new__ of a NamedTuple


class _RegexTerm(NamedTuple):
    """A regex term: the pattern as searched, and for a case-insensitive term a case-sensitive
    twin that gives the same matches on an ASCII text (None when there is no such twin)."""

    term: int
    regex: re.Pattern[str]
    on_ascii: re.Pattern[str] | None


def _regex_term(term_id: int, spec: TermSpec) -> _RegexTerm:
    """Case-insensitive regexes search the folded (lower-case) text, and IGNORECASE costs ~6x:
    with it, `re` can no longer jump to the pattern's first word but tries every position. An
    ASCII pattern without capitals finds exactly the same matches case-sensitively in a folded
    ASCII text (every letter of which is lower case); only a non-ASCII text, where IGNORECASE
    also pairs letters such as "ſ" and "s" or "İ" and "i", needs the slow form."""
    if spec.case:
        return _RegexTerm(term_id, re.compile(spec.pattern), None)
    regex = re.compile(spec.pattern, re.IGNORECASE)
    ascii_lower = spec.pattern.isascii() and spec.pattern == spec.pattern.lower()
    return _RegexTerm(term_id, regex, re.compile(spec.pattern) if ascii_lower else None)


def _automaton(keys: dict[str, list[int]]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, ids in keys.items():
        automaton.add_word(key, (len(key), tuple(ids)))
    automaton.make_automaton()
    return automaton


def _word_automaton(
    keys: dict[str, list[int]], specs: tuple[TermSpec, ...]
) -> ahocorasick.Automaton | None:
    """The whole-word automaton: each key's value is (key length, term length, the ids found
    wherever the key is, the ids that must also match in capitals), so that the common hit, one
    term in any case, costs no look-up of its spec."""
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, ids in keys.items():
        plain = tuple(t for t in ids if not specs[t].case)
        cased = tuple(t for t in ids if specs[t].case)
        automaton.add_word(key, (len(key), len(specs[ids[0]].pattern), plain, cased))
    automaton.make_automaton()
    return automaton


class Matcher:
    """Finds every term of a lexicon in a normalised text: one automaton pass for whole-word
    terms, one for CJK and substring terms (when the text has any CJK), one per regex."""

    def __init__(self, specs: tuple[TermSpec, ...], only: frozenset[int] | None = None) -> None:
        """A matcher for `specs` (term ids are positions in it); with `only`, for those term ids
        alone: what it finds of them is what the whole matcher finds of them, since whether a
        term occurs never depends on the other terms."""
        self.specs = specs
        words: dict[str, list[int]] = {}
        substrings: dict[str, list[int]] = {}
        self._regexes: list[_RegexTerm] = []
        for term_id, spec in enumerate(specs):
            if only is not None and term_id not in only:
                continue
            if spec.regex:
                self._regexes.append(_regex_term(term_id, spec))
            elif spec.substring or has_cjk(spec.pattern):
                substrings.setdefault(spec.pattern, []).append(term_id)
            else:
                key = word_view(spec.pattern)[: -1 if spec.prefix else None]
                words.setdefault(key, []).append(term_id)
        # Substring terms that need a look at their edges or capitals; pure CJK terms do not.
        self._edgy = [
            spec.case
            or not (spec.substring or (is_cjk(spec.pattern[0]) and is_cjk(spec.pattern[-1])))
            for spec in specs
        ]
        self._words = _word_automaton(words, specs)
        self._substrings = _automaton(substrings)
        # The longest key of each automaton: how far past a range a hit starting in it reaches.
        self._word_reach = max(map(len, words), default=0)
        self._substring_reach = max(map(len, substrings), default=0)
        self._substring_latin = self._substrings is not None and any(
            not has_cjk(k) for k in substrings
        )

    def scan(self, text: NormText) -> list[Hit]:
        """Every term occurrence in `text`, sorted by position."""
        hits = list(self.hits(text))
        hits.sort(key=lambda h: (h.start, -h.end, h.term))
        return hits

    def hits(self, text: NormText) -> Iterator[Hit]:
        """Every term occurrence in `text` as the passes find them (not in order): `scan`,
        for a caller that may stop early."""
        return chain(self._word_hits(text), self._substring_hits(text), self._regex_hits(text))

    def regex_hits(self, text: NormText) -> list[Hit]:
        """The hits of the regex terms alone (for `scan_range`)."""
        return list(self._regex_hits(text))

    def scan_range(self, text: NormText, start: int, end: int, regex_hits: list[Hit]) -> list[Hit]:
        """The hits of `scan` that start in [start, end), reading only that stretch of the text
        and what a hit starting there can reach, given `regex_hits(text)` (the regexes, few,
        search the whole text: their look-arounds may read anything). The automata find every
        key in the stretch, and the stretch keeps one real character before `start` and the
        longest key after `end`, so each hit sees the same word boundaries as in `scan`."""
        words = self._word_hits_in(text, max(0, start - 1), end + self._word_reach)
        substrings = self._substring_hits_in(text, start, end + self._substring_reach)
        hits = [h for h in chain(words, substrings, regex_hits) if start <= h.start < end]
        hits.sort(key=lambda h: (h.start, -h.end, h.term))
        return hits

    def _word_hits(self, text: NormText) -> Iterator[Hit]:
        return self._word_hits_in(text, 0, len(text.folded))

    def _word_hits_in(self, text: NormText, begin: int, stop: int) -> Iterator[Hit]:
        """Whole-word hits in `text.folded[begin:stop]` read as if it were the whole text (the
        edges of the stretch count as word boundaries), at their positions in `text`."""
        if self._words is None:
            return
        view = word_view(text.folded[begin:stop])
        for last, (length, size, plain, cased) in self._words.iter(view):
            # The key starts with the padding space: the term starts one later, and the
            # view is one ahead of the text.
            start = last - length + 1 + begin
            for t in plain:
                yield _new_hit(Hit, (t, start, start + size))
            for t in cased:
                if self._cased_ok(t, text, start):
                    yield _new_hit(Hit, (t, start, start + size))

    def _substring_hits(self, text: NormText) -> Iterator[Hit]:
        return self._substring_hits_in(text, 0, len(text.folded))

    def _substring_hits_in(self, text: NormText, begin: int, stop: int) -> Iterator[Hit]:
        """Substring hits inside `text.folded[begin:stop]`, at their positions in `text` (their
        edges are checked in the whole text)."""
        folded = text.folded[begin:stop]
        if self._substrings is None or not (self._substring_latin or has_cjk(folded)):
            return
        for last, (length, ids) in self._substrings.iter(folded):
            start = last - length + 1 + begin
            end = last + 1 + begin
            for t in ids:
                if not self._edgy[t] or self._edges_ok(t, text, start, end):
                    yield Hit(t, start, end)

    def _regex_hits(self, text: NormText) -> Iterator[Hit]:
        for term_id, regex, on_ascii in self._regexes:
            source = text.cased if self.specs[term_id].case else text.folded
            if on_ascii is not None and source.isascii():
                regex = on_ascii
            for m in regex.finditer(source):
                yield Hit(term_id, m.start(), m.end())

    def _cased_ok(self, term: int, text: NormText, start: int) -> bool:
        spec = self.specs[term]
        return not spec.case or text.cased.startswith(spec.cased, start)

    def _edges_ok(self, term: int, text: NormText, start: int, end: int) -> bool:
        """A CJK term with a Latin end keeps that end on a word boundary."""
        spec = self.specs[term]
        folded = text.folded
        if not spec.substring:
            if not is_cjk(spec.pattern[0]) and start > 0 and is_word_char(folded[start - 1]):
                return False
            if not is_cjk(spec.pattern[-1]) and end < len(folded) and is_word_char(folded[end]):
                return False
        return self._cased_ok(term, text, start)
