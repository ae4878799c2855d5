"""Small text helpers every layer agrees on (hashing and whitespace normalisation)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space and trim; NFKC so look-alike forms compare equal."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def content_hash(title: str, text: str) -> str:
    """Stable hash of an article's content, insensitive to whitespace and case differences."""
    canonical = normalize_space(f"{title}\n{text}").casefold()
    # surrogatepass: a lone surrogate (from a JSON feed's "\\ud800") must not fail hashing.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


_WORDS = re.compile(r"[^\W_]+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{2,}")
SIMHASH_BITS = 64
SIMHASH_BANDS = 4
_BAND_BITS = SIMHASH_BITS // SIMHASH_BANDS
NEAR_DUPLICATE_DISTANCE = SIMHASH_BANDS - 1
MIN_SIMHASH_TOKENS = 40


def _tokens(text: str) -> list[str]:
    """Casefolded words; runs of Korean, Japanese or Chinese become character bigrams, since
    those scripts do not separate words with spaces."""
    tokens: list[str] = []
    for word in _WORDS.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _CJK_RUN.fullmatch(word):
            tokens.extend(word[i : i + 2] for i in range(len(word) - 1))
        else:
            tokens.append(word)
    return tokens


def _hash64(data: bytes) -> int:
    """A stable 64-bit hash from two seeded CRC-32s: a third of blake2b's cost, and SimHash
    needs spread, not cryptographic strength."""
    return (zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)


def simhash(text: str) -> int | None:
    """64-bit SimHash of a text's word 3-shingles, as a signed integer (fits SQL BIGINT).

    Copies of one wire story at two outlets differ by a few words (a dateline, a sign-off) and
    land within NEAR_DUPLICATE_DISTANCE bits of each other. None for texts too short to tell.
    """
    tokens = _tokens(text)
    if len(tokens) < MIN_SIMHASH_TOKENS:
        return None
    shingles = {" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)}
    encoded = (shingle.encode("utf-8", "surrogatepass") for shingle in shingles)
    bits = [format(_hash64(shingle), "064b") for shingle in encoded]
    # zip(*bits) turns the bit strings into 64 columns, counted in C: ~50x faster than
    # accumulating a 64-slot vector per shingle in Python.
    half = len(bits) / 2
    columns = zip(*bits, strict=True)
    value = int("".join("1" if col.count("1") > half else "0" for col in columns), 2)
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
