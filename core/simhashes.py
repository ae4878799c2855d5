"""SimHash of a batch of texts at once, with numpy: the values of core.text.simhash, ~45% less CPU.

Storing computes a SimHash for every new article, and core.text.simhash spends ~190 µs on a
3 KB article (over half of store_articles' CPU on generated articles), nearly all of it C calls
made one shingle at a time: joining the shingle, hashing it into a set, two CRC-32s, packing
its 64 bits. Here the tokens of a batch get ids in one dict pass and each distinct token's
CRC-32 is taken once; the rest is array work over all the batch's shingles at once:

- a shingle's two CRC-32s are combined from its tokens' (CRC-32 is linear: continuing a CRC
  over n more bytes multiplies its register by a fixed bit matrix, M**n, applied with four
  byte-indexed tables per n), so no shingle is ever built as bytes;
- a shingle is (article, three token ids), one int64 key, and repeats are dropped by key;
- the 64 bit columns of every article are counted together (one byte per bit, summed in blocks).

On 10,000 generated articles in a replay's chunks of 1,000: 1.91 -> 1.06 CPU-s, and
store_articles 3.34 -> 2.70 CPU-s (medians). numpy's import costs ~0.09 CPU-s once per process
that imports db, and each call ~70 µs of fixed array work (a batch of one text is that much
slower than core.text.simhash). A text with a token longer than MAX_TOKEN_BYTES (Thai or Lao
runs have no spaces) goes to core.text.simhash. Stored values must never change:
tests/core/test_core_simhash.py holds both functions to a plain reference.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from itertools import count

import numpy as np
import numpy.typing as npt

from core.text import MIN_SIMHASH_TOKENS, SIMHASH_LOW_SEED, simhash, token_bytes

Ints = npt.NDArray[np.int64]
Words = npt.NDArray[np.uint32]
Flags = npt.NDArray[np.bool_]

# The shift tables cover tokens up to this many bytes (~260 KB of tables).
MAX_TOKEN_BYTES = 64
# Tokens per array pass (~60 articles of 3 KB): its arrays stay in cache (2**16 was ~10% slower),
# and a shingle's key (article, three token ids under 2**15) fits 63 bits. A longer text is a
# pass of its own.
PASS_TOKENS = 1 << 15
# Shingles whose bit columns are summed in uint8 before widening (at most 255 cannot overflow).
_BLOCK = 128
# Fibonacci hashing's multiplier (2**64 / the golden ratio): spreads keys over buckets.
_SPREAD = np.uint64(0x9E3779B97F4A7C15)


def _zero_byte_shifts(longest: int) -> Words:
    """Row n, column 256k + b: the CRC-32 register (b << 8k) after n zero bytes (M**n @ it).

    zlib.crc32(data, crc) == M**len(data) @ crc ^ zlib.crc32(data), with M the register's
    change over one zero byte; M's table is read from zlib itself.
    """
    one_zero_byte = np.array(
        [zlib.crc32(b"\0", byte) ^ zlib.crc32(b"\0") for byte in range(256)], np.uint32
    )
    register = np.arange(256, dtype=np.uint32) << np.array([[0], [8], [16], [24]], np.uint32)
    register = register.ravel()
    rows = np.empty((longest + 1, 1024), np.uint32)
    for n in range(longest + 1):
        rows[n] = register
        register = (register >> 8) ^ one_zero_byte[register & 0xFF]
    return rows.ravel()


# Shifts by a token's length plus its space, or by a token's length.
_SHIFTS = _zero_byte_shifts(MAX_TOKEN_BYTES + 1)
# M**n @ SIMHASH_LOW_SEED for each shingle length n: a shingle's low half is its high half XOR
# this (the low half is the high half's CRC seeded with SIMHASH_LOW_SEED instead of 0).
_LOW_SEED_SHIFTS = np.array(
    [
        zlib.crc32(bytes(n), SIMHASH_LOW_SEED) ^ zlib.crc32(bytes(n))
        for n in range(3 * MAX_TOKEN_BYTES + 3)
    ],
    np.uint32,
)
_SPACE_CRC = zlib.crc32(b" ")


def simhashes(texts: Sequence[str]) -> list[int | None]:
    """core.text.simhash of each text, computed for all of them together."""
    values: list[int | None] = [None] * len(texts)
    for indexes, counts, stream in _passes(texts):
        for i, value in zip(indexes, _pass_simhashes(counts, stream), strict=True):
            values[i] = simhash(texts[i]) if value is None else value
    return values


def _passes(texts: Sequence[str]) -> Iterator[tuple[list[int], list[int], list[bytes]]]:
    """(indexes, token counts, tokens one after the other) of the texts long enough to hash,
    in consecutive groups of at most PASS_TOKENS tokens (or one longer text)."""
    indexes: list[int] = []
    counts: list[int] = []
    stream: list[bytes] = []
    for i, text in enumerate(texts):
        tokens = token_bytes(text)
        if len(tokens) < MIN_SIMHASH_TOKENS:
            continue
        if indexes and len(stream) + len(tokens) > PASS_TOKENS:
            yield indexes, counts, stream
            indexes, counts, stream = [], [], []
        indexes.append(i)
        counts.append(len(tokens))
        stream += tokens
    if indexes:
        yield indexes, counts, stream


def _pass_simhashes(token_counts: list[int], stream: list[bytes]) -> list[int | None]:
    """The SimHash of each text whose tokens are the next `token_counts[i]` of `stream`; None
    for one this cannot hash (a token longer than MAX_TOKEN_BYTES, or a text of over 2**21
    tokens, whose shingle keys would not fit 63 bits)."""
    articles = len(token_counts)
    id_bits = (len(stream) - 1).bit_length()
    if (articles - 1).bit_length() + 3 * id_bits > 63:
        return [None] * articles
    counts = np.array(token_counts, np.int64)
    article = np.repeat(np.arange(articles, dtype=np.int64), counts)
    ids, crcs, spaced, lengths = _token_table(stream)
    hashed = np.ones(articles, bool)
    hashed[article[(lengths > MAX_TOKEN_BYTES)[ids]]] = False
    starts = _shingle_starts(counts, hashed)
    first, second, third = ids[starts], ids[starts + 1], ids[starts + 2]
    keys = (article[starts] << 3 * id_bits) | (first << 2 * id_bits) | (second << id_bits) | third
    distinct = _first_occurrences(keys)
    first, second, third = first[distinct], second[distinct], third[distinct]
    # zlib.crc32(a + b) == M**len(b) @ zlib.crc32(a) ^ zlib.crc32(b), twice.
    high = _shift(_shift(spaced[first], lengths[second] + 1) ^ spaced[second], lengths[third])
    high ^= crcs[third]
    low = high ^ _LOW_SEED_SHIFTS[lengths[first] + lengths[second] + lengths[third] + 2]
    values = _majority_values(high, low, article[starts[distinct]], articles)
    return [value if ok else None for value, ok in zip(values, hashed.tolist(), strict=True)]


def _token_table(stream: list[bytes]) -> tuple[Ints, Words, Words, Ints]:
    """Each token's id (where its first copy stands in `stream`) and, at each id, the token's
    CRC-32, the CRC-32 of the token and a space, and its length in bytes."""
    first_at: dict[bytes, int] = {}
    ids = np.fromiter(map(first_at.setdefault, stream, count()), np.int64, len(stream))
    where = np.fromiter(first_at.values(), np.int64, len(first_at))
    distinct_crcs = np.fromiter(map(zlib.crc32, first_at), np.uint32, len(first_at))
    crcs = np.zeros(len(stream), np.uint32)
    spaced = np.zeros(len(stream), np.uint32)
    lengths = np.zeros(len(stream), np.int64)
    crcs[where] = distinct_crcs
    spaced[where] = _shift(distinct_crcs, 1) ^ _SPACE_CRC
    lengths[where] = np.fromiter(map(len, first_at), np.int64, len(first_at))
    return ids, crcs, spaced, lengths


def _shift(registers: Words, n: Ints | int) -> Words:
    """M**n @ each register: its CRC-32 continued over n zero bytes, n <= MAX_TOKEN_BYTES + 1.
    Each byte of the register picks its entry of row n, and the four entries XOR to it."""
    row = n * 1024
    shifted = _SHIFTS[row + (registers & 0xFF)]
    shifted ^= _SHIFTS[row + 256 + ((registers >> 8) & 0xFF)]
    shifted ^= _SHIFTS[row + 512 + ((registers >> 16) & 0xFF)]
    shifted ^= _SHIFTS[row + 768 + (registers >> 24)]
    return shifted


def _shingle_starts(counts: Ints, hashed: Flags) -> Ints:
    """Where in the batch's token stream a 3-shingle of one `hashed` article starts (articles
    follow each other in the stream, `counts` tokens each)."""
    ends = np.cumsum(counts)
    inside = np.repeat(hashed, counts)
    inside[ends - 1] = False
    inside[ends - 2] = False
    return np.flatnonzero(inside)


def _first_occurrences(keys: Ints) -> Flags:
    """Whether each key is the first of its value, order kept. A key alone in its bucket of a
    table four times their number (most keys) is first without sorting; only the keys that
    share a bucket are sorted."""
    first = np.ones(keys.size, bool)
    bucket_bits = max(4 * keys.size - 1, 1).bit_length()
    buckets = ((keys.view(np.uint64) * _SPREAD) >> np.uint64(64 - bucket_bits)).astype(np.intp)
    crowded = np.flatnonzero(np.bincount(buckets, minlength=1 << bucket_bits)[buckets] > 1)
    order = crowded[np.argsort(keys[crowded], kind="stable")]
    repeated = keys[order[1:]] == keys[order[:-1]]
    first[order[1:][repeated]] = False
    return first


def _majority_values(high: Words, low: Words, article: Ints, articles: int) -> list[int]:
    """Per article, the signed 64-bit value whose bit b is set when more than half of its
    shingles' `high << 32 | low` have bit b set. `article` (of each shingle) never decreases.

    Each article's shingles start a block of _BLOCK rows of their own (the rest zeros, which
    count nothing); each shingle is unpacked to 64 bytes of one bit, summed per block in uint8.
    """
    shingles = np.bincount(article, minlength=articles)
    blocks = -(-shingles // _BLOCK)
    block_starts = np.cumsum(blocks) - blocks
    rows = (block_starts * _BLOCK - (np.cumsum(shingles) - shingles))[article]
    rows += np.arange(article.size)
    padded = np.zeros((int(blocks.sum()) * _BLOCK, 2), "<u4")
    padded[rows, 0] = low
    padded[rows, 1] = high
    bits = np.unpackbits(padded.view(np.uint8), axis=1, bitorder="little")
    per_block = bits.reshape(-1, _BLOCK, 64).sum(axis=1, dtype=np.uint8)
    counted = blocks > 0
    columns = np.zeros((articles, 64), np.int64)
    columns[counted] = np.add.reduceat(per_block, block_starts[counted], axis=0, dtype=np.int64)
    majority = (2 * columns > shingles[:, None]).astype(np.uint8)
    packed = np.packbits(majority, axis=1, bitorder="little").view("<i8").ravel()
    values: list[int] = packed.tolist()
    return values
