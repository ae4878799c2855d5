"""Sentence splitting for English and for CJK text (。！？ need no space after them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Part = Literal["title", "body"]

# A sentence ends at . ! ? before a space, at ! ? before CJK text (NFKC turns ！？ into !?), at
# the CJK full stop, which needs no space after it, and at a full stop that pasted text glued to
# the next sentence ("on Wednesday.The JCS said").
_END = re.compile(
    r"[.!?]+[\"')\]]*(?=\s)|[!?]+[\"'」』)）]*(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|[。！？]+[\"'」』)）]*|(?<=[a-z]{2})\.(?=[A-Z][a-z])"
)
_LINE = re.compile(r"[^\n]+")
# Words that end in a period without ending the sentence.
_ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt"),
        *("sen", "rep", "gov", "pres", "st", "no", "vs", "etc", "inc", "corp", "co", "ltd"),
        *("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
        *("approx", "est"),
    }
)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")  # U.S, N, a.m, p.m, S.Korea's first part


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its position in the article's normalised text and the part it is in."""

    index: int
    part: Part
    start: int
    end: int


def _is_abbreviation(text: str, end: int) -> bool:
    word = text[:end].rsplit(None, 1)[-1] if end else ""
    bare = word.lstrip("\"'([").rstrip(".")
    return bare.lower() in _ABBREVIATIONS or bool(_INITIALS.match(bare))


def _line_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for line in _LINE.finditer(text, start, end):
        cut = line.start()
        for stop in _END.finditer(text, line.start(), line.end()):
            if stop.group()[0] == "." and _is_abbreviation(
                text[cut : stop.start()], stop.start() - cut
            ):
                continue
            spans.append((cut, stop.end()))
            cut = stop.end()
        if text[cut : line.end()].strip():
            spans.append((cut, line.end()))
    return spans


def split_sentences(text: str, parts: list[tuple[Part, int, int]]) -> list[Sentence]:
    """Sentences of `text` (cased, normalised) inside each (part, start, end) range, in order."""
    sentences: list[Sentence] = []
    for part, start, end in parts:
        for s, e in _line_spans(text, start, end):
            while s < e and text[s] == " ":
                s += 1
            sentences.append(Sentence(len(sentences), part, s, e))
    return sentences
