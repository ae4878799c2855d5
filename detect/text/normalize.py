"""Text as detection sees it: NFKC, one quote and dash style, collapsed spaces, case-folded,
and nothing invisible: terminal escapes ("\x1b[31m"), control and format characters (zero-width
spaces and joiners, bidi marks, soft hyphens, the byte-order mark) and private-use characters
are dropped first, so "\x1b[31mNorth Korea\x1b[0m fired" reads as "North Korea fired". Every
offset detection uses is one in the normalised text, so dropping them shifts nothing.

Two aligned strings come out of one pass: `cased` (for names, facts and snippets, where capitals
matter) and `folded` (for term matching). They have the same length, so a position found in one
is valid in the other.

Normalising is a third of what a quiet article costs, so the common cases take C-speed paths
whose results equal the regular expressions' (a property test compares them): a text whose
lines are all printable has nothing invisible to drop, spaces collapse through `str.split`,
which splits at exactly the characters `\\s` matches, and an ASCII text whose words are already
one space apart only loses its blank lines.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from itertools import accumulate, compress

from core.text import spaced_once
from detect.text.hanfold import HAN_FOLD

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
# Terminal escape sequences: CSI ("\x1b[31m", "\x1b[2K"), OSC ("\x1b]0;title\x07") and the
# two-character ones. Possessive runs: an unterminated sequence is not searched again and again.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*+[ -/]*+[@-~]?|\x1b\][^\x07\x1b]*+(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?"
)
# Unicode categories Cc (but whitespace, which the collapsing below reads as a space), Cf, Cs
# and Co as of Python 3.11's Unicode database (a test checks the list against `unicodedata`).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    r"\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ud800-\uf8ff\ufeff"
    r"\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd"
    r"\U00100000-\U0010fffd]+"
)
_HYPHEN = re.compile(r"-")
# Han, Kana and Hangul: scripts written without spaces between words (Hangul has spaces between
# phrases but attaches particles), so their terms match as plain substrings.
_CJK = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_TOKEN = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
# ASCII bytes that are not word characters ([^\W_] is letters and digits there), as spaces:
# `bytes.translate` maps 3 KB in microseconds where a regular expression takes far longer.
ASCII_NOT_WORD = bytes(b if chr(b).isalnum() else ord(" ") for b in range(128)) + bytes(128)
_PLUS_ONE = (1).__add__


def is_cjk(char: str) -> bool:
    """True for a Han, Kana or Hangul character."""
    return bool(_CJK.match(char))


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\uac00-\ud7af]")


def is_chinese(text: str) -> bool:
    """Han characters with no kana or Hangul: Chinese, whose verbs carry no tense."""
    return not text.isascii() and bool(_HAN.search(text)) and not _KANA_HANGUL.search(text)


def has_cjk(text: str) -> bool:
    """Whether `text` holds a Han, Kana or Hangul character. `isascii` reads one flag of the
    string where the search reads every character: most texts are ASCII."""
    return not text.isascii() and bool(_CJK.search(text))


def is_word_char(char: str) -> bool:
    """A character that continues a word of a spaced script (so a term cannot end next to it)."""
    return char.isalnum() and not is_cjk(char)


@dataclass(frozen=True)
class NormText:
    """Normalised text: `cased` and `folded` are aligned character for character. The word
    positions are worked out on first use: an article without any rule's event word never
    needs them."""

    cased: str
    folded: str

    @cached_property
    def token_starts(self) -> tuple[int, ...]:
        """Where each token (word, or CJK character) starts."""
        if self.folded.isascii():
            return _ascii_token_starts(self.folded)
        return tuple(m.start() for m in _TOKEN.finditer(self.folded))

    @cached_property
    def token_at(self) -> Callable[[int], int]:
        """Index of the token at or before a position (0 before the first token): word distance
        is a difference of these. The number of token starts after the first that are at or
        before the position is that index, so this is `bisect_right` over those starts, bound
        in C (no Python frame per call). A per-character table of the indices cost more to
        build (~70 µs on a 3 KB article) than the ~100 look-ups an article makes."""
        return partial(bisect_right, self.token_starts[1:])


def visible(text: str) -> str:
    """`text` without terminal escapes and invisible (control, format, private-use) characters."""
    if "\x1b" in text:
        text = _ESCAPES.sub("", text)
    if text.replace("\n", "").isprintable():  # no Cc, Cf, Cs or Co character: nothing to drop
        return text
    return _INVISIBLE.sub("", text)


def collapse_spaces(text: str) -> str:
    """A run of spaces as one space; a newline with the spaces and blank lines around it as one
    newline; nothing at either end."""
    if spaced_once(text):  # only blank lines to drop: no word of the text is split out
        return "\n".join(filter(None, text.split("\n")))
    return "\n".join(filter(None, (" ".join(line.split()) for line in text.split("\n"))))


def squash(text: str) -> str:
    """Visible characters only, NFKC, one quote and dash style, a run of spaces as one space (of
    newlines, one newline)."""
    return collapse_spaces(_straight_quotes(unicodedata.normalize("NFKC", visible(text))))


def _straight_quotes(text: str) -> str:
    """`text` with one quote and dash style. Of the characters changed, only the backtick is
    ASCII: an ASCII text without one is returned as it is (the table's pass over every
    character was ~10% of normalising an article)."""
    if text.isascii() and "`" not in text:
        return text
    return text.translate(_QUOTES)


def fold(cased: str) -> str:
    """Lower case, one character for one, hyphens between letters read as spaces ("test-fired"
    = "test fired", "Gyu-back" = "Gyu Back"), and Han characters in their simplified form (發射
    = 発射 = 发射)."""
    lowered = cased.lower()
    if len(lowered) != len(cased):  # a few letters lower-case to two characters: keep those
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in cased)
    if not lowered.isascii() and _HAN.search(lowered):  # isascii: one flag, not a search
        lowered = lowered.translate(HAN_FOLD)
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
    return NormText(cased, fold(cased)), ranges


def _ascii_token_starts(folded: str) -> tuple[int, ...]:
    """`_TOKEN`'s match starts in an ASCII text, where a token is a run of letters and digits:
    the text split at every other character, each piece's offset summed up in C (the regular
    expression's one match object per word cost ~10x)."""
    pieces = folded.encode("ascii").translate(ASCII_NOT_WORD).split(b" ")
    offsets = accumulate(map(_PLUS_ONE, map(len, pieces)), initial=0)
    return tuple(compress(offsets, pieces))  # the offsets of the non-empty pieces


def normalize_term(term: str) -> str:
    """A rule or alias term in the form it is searched for in `NormText.folded`."""
    return fold(squash(term))
