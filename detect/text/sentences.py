"""Sentence splitting for English and for CJK text (。！？ need no space after them).

Linear in the text, whatever it holds: hostile or broken input ("...." ten thousand times, ". .
." spaced ellipses, "a. a. a." a megabyte long) must not cost more than ordinary prose. So the
end-of-sentence pattern uses possessive quantifiers and starts only at the first character of a
punctuation run (no backtracking, no re-scan of the run from each of its characters), and the
word before a full stop is found from the last space seen so far instead of by re-slicing the
line at every candidate stop.

A "sentence" longer than `MAX_SENTENCE_CHARS` (a text with no full stops, a pasted table) is cut
into pieces of at most that length, at a space where there is one: everything read per sentence
(anchors, cues, entities, dates) then costs a bounded amount per piece, so the article as a
whole stays linear.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import itemgetter
from typing import Literal, NamedTuple

Part = Literal["title", "body"]

# A sentence ends at . ! ? before a space, at ! ? before CJK text (NFKC turns ！？ into !?), at
# the CJK full stop, which needs no space after it, and at a full stop that pasted text glued to
# the next sentence ("on Wednesday.The JCS said"). A run that fails at its first character
# fails at every later one (they reach the same end), hence the look-behinds ("not after a
# stop"). Each branch reads as `(?<![.!?])[.!?]++...`, but is written with its first character
# taken before the branches and its look-behinds after it: a pattern that opens with a
# character class lets `re` jump from one candidate character to the next, where a leading
# look-behind is tried at every position of the text (12x slower on news; a property test
# checks both forms agree).
_END = re.compile(
    r"[.!?。！？](?:"
    r"(?<![.!?].)(?<=[.!?])[.!?]*+[\"')\]]*+(?=\s)"
    r"|(?<![!?].)(?<=[!?])[!?]*+[\"'」』)）]*+(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|(?<=[。！？])[。！？]*+[\"'」』)）]*+"
    r"|(?<=[a-z]{2}\.)(?=[A-Z][a-z]))"
)
_LINE = re.compile(r"[^\n]+")
# Three times the longest sentence of the labelled corpus and the seeds (664 characters): real
# sentences are never cut, a text without full stops is read in pieces of this size.
MAX_SENTENCE_CHARS = 2000
# Words that end in a period without ending the sentence.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt"),
        *("sen", "rep", "gov", "pres", "st", "no", "vs", "etc", "inc", "corp", "co", "ltd"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("approx", "est"),
    }
)
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Za-z]")  # U.S, N, a.m, p.m, S.Korea's first part


class Sentence(NamedTuple):
    """One sentence: its number among the article's sentences (from 0), the part it is in and
    its position in the article's normalised text (a tuple: an article makes dozens, and a
    frozen dataclass cost twice as much to build; `number`, since a tuple has an `index`)."""

    number: int
    part: Part
    start: int
    end: int


def _is_abbreviation(word: str) -> bool:
    """Whether `word`, the last word before a full stop, is an abbreviation or initials.
    Initials are one letter or hold a full stop: other words skip the regular expression."""
    bare = word.lstrip("\"'([").rstrip(".")
    if bare.lower() in _ABBREVIATIONS:
        return True
    return (len(bare) == 1 or "." in bare) and _INITIALS.fullmatch(bare) is not None


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for line in _LINE.finditer(text, start, end):
        cut = line.start()
        # Where the word before the current stop starts: one past the last space seen so far.
        # Each stretch of the line is searched for spaces once, whatever the number of stops.
        word_start, searched = cut, cut
        for stop in _END.finditer(text, line.start(), line.end()):
            word_end = _skip_spaces_back(text, stop.start(), cut)
            space = text.rfind(" ", searched, word_end)
            if space >= 0:
                word_start = space + 1
            searched = word_end
            if text[stop.start()] == "." and _is_abbreviation(
                text[max(cut, word_start) : word_end]
            ):
                continue
            spans.append((cut, stop.end()))
            cut = stop.end()
        if text[cut : line.end()].strip():
            spans.append((cut, line.end()))
    return spans


def _skip_spaces_back(text: str, position: int, floor: int) -> int:
    """`position` moved back over the spaces before it, not below `floor` ("Co ." ends "Co")."""
    while position > floor and text[position - 1] == " ":
        position -= 1
    return position


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into pieces of at most MAX_SENTENCE_CHARS, each after a space when the
    second half of the piece has one (CJK text has none: cut anywhere)."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        space = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, limit)
        cut = space + 1 if space >= 0 else limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _line_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence in [start, end), in order."""
    sentences = []
    for span_start, span_end in _line_spans(text, start, end):
        if span_end - span_start <= MAX_SENTENCE_CHARS:  # one piece: most sentences
            pieces = [(span_start, span_end)]
        else:
            pieces = _pieces(text, span_start, span_end)
        for s, e in pieces:
            while s < e and text[s] == " ":
                s += 1
            sentences.append((s, e))
    return sentences


def split_sentences(text: str, parts: list[tuple[Part, int, int]]) -> list[Sentence]:
    """Sentences of `text` (cased, normalised) inside each (part, start, end) range, in order."""
    sentences: list[Sentence] = []
    for part, start, end in parts:
        for s, e in _line_sentences(text, start, end):
            sentences.append(Sentence(len(sentences), part, s, e))
    return sentences


# A line's (start, end) -> its sentences, kept by a caller that asks about many positions.
LineSentences = dict[tuple[int, int], list[tuple[int, int]]]


def sentence_around(
    text: str, start: int, end: int, position: int, lines: LineSentences | None = None
) -> tuple[int, int] | None:
    """(start, end) of the sentence of `split_sentences` over the range [start, end) that holds
    `position` (`start <= position < end` of the sentence), or None when no sentence does.
    Reads only the line holding `position`: lines are split independently of each other. With
    `lines`, each line is split once whatever the number of positions asked about in it (a
    text of one long line with an event word in every sentence was split once per word)."""
    if not start <= position < end or text[position] == "\n":
        return None
    line_start = text.rfind("\n", start, position) + 1 or start
    line_end = text.find("\n", position, end)
    line = (line_start, end if line_end < 0 else line_end)
    sentences = lines.get(line) if lines is not None else None
    if sentences is None:
        sentences = _line_sentences(text, *line)
        if lines is not None:
            lines[line] = sentences
    index = bisect_right(sentences, position, key=itemgetter(0)) - 1
    if index >= 0 and position < sentences[index][1]:
        return sentences[index]
    return None
