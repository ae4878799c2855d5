"""Text as detection sees it: NFKC, one quote and dash style, collapsed spaces, case-folded.

Two aligned strings come out of one pass: `cased` (for names, facts and snippets, where capitals
matter) and `folded` (for term matching). They have the same length, so a position found in one
is valid in the other.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

_QUOTES = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "‛": "'",
        "′": "'",
        "`": "'",
        "´": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
        "﹣": "-",
    }
)
_HYPHEN = re.compile(r"-")
_NEWLINES = re.compile(r"[^\S\n]*\n\s*")
_BLANKS = re.compile(r"[^\S\n]+")
# Han, Kana and Hangul: scripts written without spaces between words (Hangul has spaces between
# phrases but attaches particles), so their terms match as plain substrings.
_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_TOKEN = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")


def is_cjk(char: str) -> bool:
    """True for a Han, Kana or Hangul character."""
    return bool(_CJK.match(char))


def is_word_char(char: str) -> bool:
    """A character that continues a word of a spaced script (so a term cannot end next to it)."""
    return char.isalnum() and not is_cjk(char)


@dataclass(frozen=True, slots=True)
class NormText:
    """Normalised text: `cased` and `folded` are aligned character for character."""

    cased: str
    folded: str
    token_starts: tuple[int, ...]

    def token_at(self, position: int) -> int:
        """Index of the token at or before `position` (word distance is a difference of these)."""
        return max(0, bisect_right(self.token_starts, position) - 1)


def squash(text: str) -> str:
    """NFKC, one quote and dash style, a run of spaces as one space (of newlines, one newline)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _BLANKS.sub(" ", _NEWLINES.sub("\n", text)).strip()


def fold(cased: str) -> str:
    """Lower case, one character for one, and hyphens between letters read as spaces, so
    "test-fired" = "test fired" and "Gyu-back" = "Gyu Back"."""
    lowered = cased.lower()
    if len(lowered) != len(cased):  # a few letters lower-case to two characters: keep those
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in cased)
    return _HYPHEN.sub(lambda m: _hyphen(lowered, m.start()), lowered)


def _hyphen(text: str, i: int) -> str:
    beside = text[i - 1 : i] + text[i + 1 : i + 2]
    return " " if any(c.isalpha() for c in beside) else "-"


def normalize(text: str) -> NormText:
    """Normalise a text once for every rule."""
    return normalize_parts([text])[0]


def normalize_parts(parts: list[str]) -> tuple[NormText, list[tuple[int, int]]]:
    """Normalise several texts (title, body) into one, each on its own line; also returns where
    each part lies."""
    ranges, pieces, position = [], [], 0
    for part in parts:
        piece = squash(part)
        ranges.append((position, position + len(piece)))
        pieces.append(piece)
        position += len(piece) + 1
    cased = "\n".join(pieces)
    folded = fold(cased)
    starts = tuple(m.start() for m in _TOKEN.finditer(folded))
    return NormText(cased, folded, starts), ranges


def normalize_term(term: str) -> str:
    """A rule or alias term in the form it is searched for in `NormText.folded`."""
    return fold(squash(term))
