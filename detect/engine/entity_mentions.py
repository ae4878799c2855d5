"""Entity mentions in one article: aliases, spelling variants of known people, titled names of
unknown people, surnames standing for a person named earlier, and capitals standing for states.

Mentions never overlap, so the spans taken so far are kept sorted and a new span is tested
against its neighbours by bisection; titles and cues next to a name are looked up by position.
Comparing every word with every mention (or every mention with every cue) was quadratic in the
article, and a long article names the same people hundreds of times.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence

from detect.rules.aliases import Entity, EntityMention, EntityTable
from detect.rules.ruleset import EntityCues
from detect.text.names import name_key, similar, skeleton, split_name
from detect.text.normalize import NormText, is_cjk
from detect.text.terms import Hit

_NAME_RUN = re.compile(r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)*(?: [A-Z][a-z]+(?:-[A-Za-z][a-z]+)*)*")
# The runs of _NAME_RUN that hold two words or more, the only ones a spelling variant of a known
# name can span (three quarters of the runs in news are one capitalised word: a sentence's
# first word, a place). The same spans as filtering _NAME_RUN's (tests/detect/test_fast_paths.py).
_NAME_RUN_OF_WORDS = re.compile(
    r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)*(?: [A-Z][a-z]+(?:-[A-Za-z][a-z]+)*)+"
)
_KNOWN_PEOPLE_CACHED = 65536  # spellings whose person is remembered per table (then forgotten)
_WORD = re.compile(r"\b[A-Z][a-z]+\b")
_WORD_START = re.compile(r"\b[A-Z]")
_FUZZY_GIVEN = 0.75  # given names this alike (surnames equal) are one person: "Sanaa" ~ "Sanae"


def _longest(spans: Iterable[tuple[int, int, object]]) -> list[tuple[int, int, object]]:
    kept: list[tuple[int, int, object]] = []
    for start, end, value in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, value))
    return kept


def _word_spans(words: list[str], start: int) -> list[tuple[int, int]]:
    """(start, end) of each of `words`, written one space apart from `start` on."""
    spans = []
    for word in words:
        spans.append((start, start + len(word)))
        start += len(word) + 1
    return spans


def variant_spans(cased: str, surnames: Collection[str]) -> Iterator[tuple[int, int]]:
    """The spans of two or three capitalised words that may spell a known person: a known name
    starts or ends with a known surname (a skeleton in `surnames`), so only those spans are
    worth a look, and most runs of capitalised words have none. Three-word spans of a run
    first, then two-word ones."""
    for run in _NAME_RUN_OF_WORDS.finditer(cased):
        # A run's words are one space apart.
        names = run.group().split(" ")
        known = [skeleton(name) in surnames for name in names]
        if not any(known):
            continue
        words = _word_spans(names, run.start())
        for size in (3, 2):
            for i in range(len(words) - size + 1):
                if known[i] or known[i + size - 1]:
                    yield words[i][0], words[i + size - 1][1]


def titled_name(cased: str, start: int, end: int) -> tuple[int, list[str]] | None:
    """(start, words) of the name of two or three capitalised words that the title at
    [start, end) introduces ("Defense Minister Nobuo Kishi"), if any. Only a capitalised title
    introduces a name: "President Lee", not "company president"."""
    if not cased[start].isupper() or cased[end : end + 1] != " ":
        return None
    run = _NAME_RUN.match(cased, end + 1)
    if run is None:
        return None
    words = run.group().split(" ")[:3]
    return (run.start(), words) if len(words) >= 2 else None


def surname_words(cased: str, start: int = 0, end: int | None = None) -> Iterator[re.Match[str]]:
    """The capitalised words that may stand alone for a person named elsewhere in the article
    (their skeleton is then that person's surname): all, or those starting in [start, end).

    With `end`, the search reads no further than the last word starting before `end`: a
    search for the next word past it would read on to the next capital letter, as far as the
    text's end in a text without one, and doing so for each of many sentences is quadratic.
    A word starts only at a capital letter after a word boundary, so each such letter is
    matched in the whole text, where a word running past `end` is whole."""
    if end is None:
        yield from _WORD.finditer(cased, start)
        return
    for capital in _WORD_START.finditer(cased, start, end):
        word = _WORD.match(cased, capital.start())
        if word is not None:
            yield word


class _Spans:
    """Disjoint spans, sorted (so their ends are sorted too)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def overlapping(self, start: int, end: int) -> tuple[int, int]:
        """The index range of the spans that overlap [start, end)."""
        return bisect_right(self.ends, start), bisect_left(self.starts, end)

    def free(self, start: int, end: int) -> bool:
        low, high = self.overlapping(start, end)
        return low >= high

    def add(self, start: int, end: int) -> None:
        index = bisect_left(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, end)

    def remove(self, low: int, high: int) -> None:
        del self.starts[low:high], self.ends[low:high]


class _Resolver:
    def __init__(self, text: NormText, hits: Sequence[Hit], table: EntityTable, cues: EntityCues):
        self.text = text
        self.table = table
        self.cues = cues
        self.hits = hits
        self.cue_hits = [h for h in hits if h.term in cues.locative or h.term in cues.former]
        # By span, in the order found (which person a surname stands for depends on it).
        self.found: dict[tuple[int, int], EntityMention] = {}
        self.spans = _Spans()
        self.titles = _longest(
            (h.start, h.end, table.title_terms[h.term]) for h in hits if h.term in table.title_terms
        )
        # Titles are disjoint: one at most ends (or starts) at a given position.
        self.title_ending = {end: (start, role) for start, end, role in self.titles}
        self.title_starting = {start: role for start, _end, role in self.titles}
        self.cue_starts = [h.start for h in self.cue_hits]

    @property
    def mentions(self) -> list[EntityMention]:
        """The mentions found so far, in the order found."""
        return list(self.found.values())

    def add(self, start: int, end: int, entity: Entity) -> None:
        self.found[(start, end)] = EntityMention(start, end, entity, entity.role)
        self.spans.add(start, end)

    def aliases(self) -> None:
        spans = _longest(
            (h.start, h.end, self.table.alias_terms[h.term])
            for h in self.hits
            if h.term in self.table.alias_terms
        )
        for start, end, name in spans:
            self.add(start, end, self.table.entities[str(name)])

    def variants(self) -> None:
        """Known people under another spelling ("Ahn Kyu Baek", "Sanaa Takaichi")."""
        for start, end in variant_spans(self.text.cased, self.table.surnames):
            person = self.known_person(self.text.cased[start:end])
            if person is not None and self.claim(start, end, person):
                self.add(start, end, person)

    def claim(self, start: int, end: int, person: Entity) -> bool:
        """Whether a name span can be taken: it is free, or it only covers shorter mentions of
        the same person ("Takaichi" inside "Sanaa Takaichi"), which it then replaces."""
        low, high = self.spans.overlapping(start, end)
        inside = [
            self.found[span]
            for span in zip(self.spans.starts[low:high], self.spans.ends[low:high], strict=True)
        ]
        if any(m.entity != person or m.start < start or m.end > end for m in inside):
            return False
        for mention in inside:
            del self.found[(mention.start, mention.end)]
        self.spans.remove(low, high)
        return True

    def known_person(self, candidate: str) -> Entity | None:
        """The known person `candidate` spells, remembered per table: the same names recur
        from article to article, and the fuzzy comparison is a good part of reading them."""
        known = self.table.known_people
        try:
            return known[candidate]
        except KeyError:  # (not `in`, then [ ]: another thread may clear it in between)
            pass
        if len(known) >= _KNOWN_PEOPLE_CACHED:
            known.clear()
        person = known[candidate] = self._known_person(candidate)
        return person

    def _known_person(self, candidate: str) -> Entity | None:
        exact = self.table.person_keys.get(name_key(candidate))
        if exact is not None:
            return self.table.entities[exact]
        parts = split_name(candidate)
        # The fuzzy fallback needs the surname to match exactly: "Kim Gyu-back" is not
        # "Ahn Gyu-back" however alike the given names are.
        for surname, given in ((parts[0], parts[1:]), (parts[-1], parts[:-1])):
            for name in self.table.surnames.get(skeleton(surname), ()):
                person = self.table.entities[name]
                own = [p for p in split_name(name) if skeleton(p) != skeleton(person.surname or "")]
                if similar(skeleton("".join(given)), skeleton("".join(own))) >= _FUZZY_GIVEN:
                    return person
        return None

    def titled(self) -> None:
        """Unknown people named after a title ("Defense Minister Nobuo Kishi")."""
        for start, end, role in self.titles:
            name = titled_name(self.text.cased, start, end)
            if name is None:
                continue
            name_start, words = name
            name_end = name_start + len(" ".join(words))
            if self.spans.free(name_start, name_end):
                person = Entity(" ".join(words), "person", role=str(role), surname=words[-1])
                self.add(name_start, name_end, person)

    def surnames(self) -> None:
        """A surname alone stands for the person of that surname the article has named."""
        named: dict[str, Entity] = {}
        for mention in self.mentions:
            if mention.kind == "person":
                parts = split_name(mention.name)
                # Unknown people have no declared surname: it may come first or last.
                known = mention.name in self.table.entities
                for part in {mention.entity.surname or parts[-1], *([] if known else parts[:1])}:
                    named.setdefault(skeleton(part), mention.entity)
        if not named:
            return
        for word in surname_words(self.text.cased):
            person = named.get(skeleton(word.group()))
            if person is not None and self.spans.free(word.start(), word.end()):
                self.add(word.start(), word.end(), person)

    def contextual_roles(self) -> None:
        """A title next to a name says the role it has here ("Foreign Minister Kishida",
        "岸田文雄外務大臣"), over the table's; "former" ends a role; a capital not governed by a
        place preposition acts for its state."""
        resolved = []
        for mention in sorted(self.mentions, key=lambda m: m.start):
            role = mention.role
            if mention.kind == "person":
                role = self.title_at(mention) or role
                if self.cue_before(self.lead_start(mention.start), self.cues.former, 3):
                    role = "former"
            as_state = None
            if mention.entity.actor and not self.cue_before(mention.start, self.cues.locative, 2):
                as_state = mention.entity.actor
            if role != mention.role or as_state != mention.as_state:
                mention = EntityMention(mention.start, mention.end, mention.entity, role, as_state)
            resolved.append(mention)
        self.found = {(m.start, m.end): m for m in resolved}

    def title_at(self, mention: EntityMention) -> str | None:
        """The role of a title right before the name, or, for a name in Korean, Japanese or
        Chinese, right after it ("김용현 국방부 장관", "王毅外长")."""
        before = self.title_before(mention.start)
        if before is not None or not is_cjk(self.text.cased[mention.end - 1]):
            return before
        for title_start in (mention.end, mention.end + 1):
            if title_start in self.title_starting:
                return str(self.title_starting[title_start])
        return None

    def title_ending_before(self, start: int) -> tuple[int, object] | None:
        """(start, role) of the title that ends right before `start` (a space between)."""
        for title_end in (start - 1, start):
            if title_end in self.title_ending:
                return self.title_ending[title_end]
        return None

    def lead_start(self, start: int) -> int:
        title = self.title_ending_before(start)
        return title[0] if title is not None else start

    def title_before(self, start: int) -> str | None:
        title = self.title_ending_before(start)
        return str(title[1]) if title is not None else None

    def cue_before(self, start: int, cue_terms: frozenset[int], words: int) -> bool:
        """Whether a cue of `cue_terms` ends before `start` within `words` words of it (only the
        cues starting that near are read: hits are sorted by start)."""
        token = self.text.token_at(start)
        for index in range(bisect_left(self.cue_starts, start) - 1, -1, -1):
            hit = self.cue_hits[index]
            if token - self.text.token_at(hit.start) > words:
                return False
            if hit.end <= start and hit.term in cue_terms:
                return True
        return False


def resolve_entities(
    text: NormText, hits: Sequence[Hit], table: EntityTable, cues: EntityCues
) -> list[EntityMention]:
    """Every entity mention of an article, earliest first, none overlapping."""
    resolver = _Resolver(text, hits, table, cues)
    resolver.aliases()
    resolver.variants()
    resolver.titled()
    resolver.surnames()
    resolver.contextual_roles()
    return sorted(resolver.mentions, key=lambda m: m.start)
