"""Small text helpers every layer agrees on (hashing and whitespace normalisation).

SimHash is hand-written for speed (it was a third of storing a replay): shingles are encoded
in one call, hashed with `map` in C, and each of the 64 bit columns is counted with one
big-integer `bit_count` instead of a Python loop per shingle. Its values must never change
(databases keep them), so tests/core/test_core_simhash.py fuzzes it against a plain reference.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import unicodedata
import zlib
from array import array
from collections.abc import Iterable
from itertools import repeat
from operator import add


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim; NFKC so look-alike forms compare equal."""
    if spaced_once(text):  # NFKC keeps ASCII as it is; only the line breaks are whitespace runs
        return " ".join(filter(None, text.split("\n")))
    return " ".join(unicodedata.normalize("NFKC", text).split())


# ASCII characters that `str.split()` splits at, besides the space and the newline.
_OTHER_ASCII_SPACES = ("\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f")


def spaced_once(text: str) -> bool:
    """Whether an ASCII text's lines already have their words one space apart and no space at
    either end, so that splitting a line into words and joining them with one space changes
    nothing: most texts are so, and splitting every word out was half of collapsing spaces. A
    few C searches of the text decide it."""
    return (
        text.isascii()
        and "  " not in text
        and " \n" not in text
        and "\n " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
        and not any(space in text for space in _OTHER_ASCII_SPACES)
    )


def content_hash(title: str, text: str) -> str:
    """Stable hash of an article's content, insensitive to whitespace and case differences."""
    canonical = normalize_space(f"{title}\n{text}").casefold()
    # surrogatepass: a lone surrogate (from a JSON feed's "\\ud800") must not fail hashing.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


_WORDS = re.compile(r"[^\W_]+")
# Korean, Japanese and Chinese letters.
_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
SIMHASH_BITS = 64
SIMHASH_BANDS = 4
_BAND_BITS = SIMHASH_BITS // SIMHASH_BANDS
NEAR_DUPLICATE_DISTANCE = SIMHASH_BANDS - 1
MIN_SIMHASH_TOKENS = 40
# Seed of the low half's CRC-32 (the high half's is 0): stored SimHashes depend on it.
SIMHASH_LOW_SEED = 0x9E3779B9
_UINT32 = next(code for code in "IL" if array(code).itemsize == 4)


# ASCII bytes that are not word characters ([^\W_] is letters and digits there), as spaces.
_ASCII_NON_WORD = bytes(b if chr(b).isalnum() else ord(" ") for b in range(128)) + bytes(128)


def token_bytes(text: str) -> list[bytes]:
    """The UTF-8 bytes of each token (see _tokens). An ASCII text, most of them, goes through a
    byte table: NFKC changes nothing there, casefold is lower, and the words are the runs the
    table keeps, 4x faster than the regular expression."""
    if text.isascii():
        return text.lower().encode("ascii").translate(_ASCII_NON_WORD).split()
    tokens = _tokens(text)
    # Tokens hold no space (they are word characters): one encode and a split give each one's
    # bytes.
    return " ".join(tokens).encode("utf-8", "surrogatepass").split(b" ") if tokens else []


@functools.cache
def _cjk_char() -> re.Pattern[str]:
    # Compiled at first use: `re` expands a class this wide code point by code point, ~10 ms
    # that every command importing the vocabulary paid, and most never tokenize a text.
    return re.compile(_CJK)


@functools.cache
def _cjk_run() -> re.Pattern[str]:
    return re.compile(_CJK + "{2,}")


def _tokens(text: str) -> list[str]:
    """Casefolded words; runs of Korean, Japanese or Chinese become character bigrams, since
    those scripts do not separate words with spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = _WORDS.findall(folded)
    # Most texts have no CJK character at all: one search spares a fullmatch per word.
    if not _cjk_char().search(folded):
        return words
    tokens: list[str] = []
    for word in words:
        if _cjk_run().fullmatch(word):
            # word[i] + word[i + 1] for each i, paired in C.
            tokens.extend(map(add, word, word[1:]))
        else:
            tokens.append(word)
    return tokens


def _shingles(encoded: list[bytes]) -> set[bytes]:
    """The distinct word 3-shingles of the tokens' bytes, each joined by a space."""
    return set(map(b" ".join, zip(encoded, encoded[1:], encoded[2:], strict=False)))


def _majority_bits(values: Iterable[int], count: int) -> int:
    """The 32-bit value whose bit b is set when more than half of the `count` unsigned 32-bit
    `values` have bit b set.

    The values are packed little-endian in C; byte k of every value, read as one big integer
    (a byte per value), is masked to one bit per byte and counted with `int.bit_count`: 32
    big-integer operations in C instead of a Python loop over the values.
    """
    packed = array(_UINT32, values)
    if sys.byteorder == "big":
        packed.byteswap()
    raw = packed.tobytes()
    lowest = int.from_bytes(b"\x01" * count, "little")  # bit 0 of every byte
    value = 0
    for offset in range(4):
        column = int.from_bytes(raw[offset::4], "little")
        for bit in range(8):
            if 2 * (column & (lowest << bit)).bit_count() > count:
                value |= 1 << (8 * offset + bit)
    return value


def simhash(text: str) -> int | None:
    """64-bit SimHash of a text's word 3-shingles, as a signed integer (fits SQL BIGINT).

    Copies of one wire story at two outlets differ by a few words (a dateline, a sign-off) and
    land within NEAR_DUPLICATE_DISTANCE bits of each other. None for texts too short to tell.

    Each distinct shingle hashes to 64 bits, two seeded CRC-32s (the high half seeded 0, the
    low half SIMHASH_LOW_SEED); a bit of the result is set when more than half of the shingles
    have it set. Stored values depend on exactly this: tests/core compares it with a plain
    reference. core.simhashes computes the same for a batch of texts, with numpy.
    """
    tokens = token_bytes(text)
    if len(tokens) < MIN_SIMHASH_TOKENS:
        return None
    shingles = _shingles(tokens)
    high = _majority_bits(map(zlib.crc32, shingles), len(shingles))
    low = _majority_bits(map(zlib.crc32, shingles, repeat(SIMHASH_LOW_SEED)), len(shingles))
    value = (high << 32) | low
    return value - (1 << SIMHASH_BITS) if value >= 1 << (SIMHASH_BITS - 1) else value


def simhash_bands(value: int) -> tuple[int, ...]:
    """The SimHash cut into SIMHASH_BANDS 16-bit bands. Two hashes within
    NEAR_DUPLICATE_DISTANCE bits share at least one band exactly (pigeonhole), so an index on
    each band finds near-duplicate candidates without scanning."""
    unsigned = value & ((1 << SIMHASH_BITS) - 1)
    mask = (1 << _BAND_BITS) - 1
    return tuple((unsigned >> (_BAND_BITS * i)) & mask for i in range(SIMHASH_BANDS))


def simhash_distance(a: int, b: int) -> int:
    """Number of differing bits between two SimHashes."""
    return ((a ^ b) & ((1 << SIMHASH_BITS) - 1)).bit_count()
