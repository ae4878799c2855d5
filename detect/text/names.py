"""Name keys that survive romanisation, hyphen, space and case differences.

"Ahn Gyu-back", "Ahn Gyu Back", "Ahn Gyu-bak" and "Ahn Kyu Baek" share one key; so do
"Lee Jae-myung" and "Lee Jae Myung". Keys compare spellings of one name, never two names:
"Kim Gyu-back" keeps a key of its own.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

# Romanisation variants of Korean, Japanese and Chinese names folded onto one spelling. Order
# matters: digraphs before single letters.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("ck", "k"),
    ("ae", "a"),
    ("ai", "a"),
    ("eo", "o"),
    ("ou", "o"),
    ("oo", "u"),
    ("ee", "i"),
    ("wo", "o"),
    ("ch", "j"),
    ("sh", "s"),
    ("k", "g"),
    ("p", "b"),
    ("t", "d"),
    ("r", "l"),
)
_VOWEL_H = re.compile(r"(?<=[aeiou])h")
_REPEAT = re.compile(r"(.)\1+")
_NOT_LETTER = re.compile(r"[^a-z]")
_SPLIT = re.compile(r"[\s\-]+")
_LATIN_LETTER = re.compile(r"[a-zA-Z]")


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """One word folded onto its romanisation skeleton ("Baek", "back", "bak" -> "bag")."""
    text = _NOT_LETTER.sub("", word.lower())
    text = _VOWEL_H.sub("", text)
    for old, new in _FOLDS:
        text = text.replace(old, new)
    return _REPEAT.sub(r"\1", text)


def name_key(name: str) -> str:
    """Key of a whole name: the skeleton of all its parts run together (Latin names only; other
    scripts are kept as written, without spaces)."""
    if _LATIN_LETTER.search(name):
        return skeleton("".join(_SPLIT.split(name)))
    return "".join(_SPLIT.split(name))


def split_name(name: str) -> list[str]:
    """Parts of a name as written: spaces separate, hyphens join ("Gyu-back" is one part)."""
    return name.split()


def similar(a: str, b: str) -> float:
    """Similarity of two skeletons, 0..1."""
    return SequenceMatcher(None, a, b).ratio()
