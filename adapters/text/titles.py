"""Titles for items that have none: the first sentence of the text, shortened."""

from __future__ import annotations

import re

TITLE_LIMIT = 120
# A sentence ends at . ! ? (then optional closing quote or bracket) before whitespace, or at a
# CJK full stop, which needs no space after it.
_SENTENCE_END = re.compile(r"[.!?][\"”’')\]]*(?=\s)|[。！？]")
# Words that end in a period without ending the sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt", "sen",
        "rep", "gov", "pres", "st", "no", "vs", "etc", "inc", "corp", "co", "ltd",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")  # "U.S.", "N.", "U.N."


def first_sentence(text: str) -> str:
    """The first sentence of `text` (its first line when no sentence end is found)."""
    stripped = text.strip()
    first_line = stripped.split("\n", 1)[0].strip()
    for match in _SENTENCE_END.finditer(first_line):
        word = first_line[: match.start()].rsplit(None, 1)[-1] if match.start() else ""
        if match.group()[0] == "." and _is_abbreviation(word):
            continue
        return first_line[: match.end()].strip()
    return first_line


def shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Keep whole words when there are any (CJK text has no spaces: cut anywhere).
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def infer_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """A title made from the first sentence of `text`, shortened to `limit` characters."""
    return shorten(first_sentence(text), limit)


def _is_abbreviation(word: str) -> bool:
    bare = word.strip("\"“‘'([")
    return bare.lower() in _ABBREVIATIONS or bool(_INITIALS.match(bare))
