"""core.text.simhash is hand-tuned for speed, and core.simhashes.simhashes computes it for a
batch with numpy; these tests hold both to a plain reference.

Stored SimHashes must stay comparable with new ones (no migration), so the fast versions have
to return exactly what the straightforward definition returns for every text: word 3-shingles,
two seeded CRC-32s per shingle, a bit set when more than half of the shingles set it.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.simhashes import MAX_TOKEN_BYTES, PASS_TOKENS, simhashes
from core.text import MIN_SIMHASH_TOKENS, simhash

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "articles.jsonl"
CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF))


def _is_cjk(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in CJK_RANGES)


def reference_simhash(text: str) -> int | None:
    """The definition, written plainly: one 64-slot counter, one shingle at a time."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())
    tokens: list[str] = []
    for word in words:
        if len(word) >= 2 and all(_is_cjk(char) for char in word):
            tokens += [word[i : i + 2] for i in range(len(word) - 1)]
        else:
            tokens.append(word)
    if len(tokens) < MIN_SIMHASH_TOKENS:
        return None
    shingles = {" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)}
    counts = [0] * 64
    for shingle in shingles:
        data = shingle.encode("utf-8", "surrogatepass")
        hashed = (zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)
        for bit in range(64):
            counts[bit] += (hashed >> bit) & 1
    value = sum(1 << bit for bit in range(64) if counts[bit] > len(shingles) / 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def assert_both_equal_the_reference(texts: list[str]) -> None:
    """simhash of each text, and simhashes of them all as one batch, equal the reference."""
    expected = [reference_simhash(text) for text in texts]
    assert [simhash(text) for text in texts] == expected
    assert simhashes(texts) == expected


# Characters that stress each step: CJK (bigrams), forms NFKC or casefold change (fullwidth,
# ligatures, ß, combining marks), underscore and digits (word edges), control characters,
# lone surrogates (a JSON feed's "\ud800"), and anything else.
TRICKY = st.sampled_from(
    list("abcXYZ019_ßﬁＡｂ１é\u0301İ가힣あア漢中文\u3400\u30fb\u309b\x00\x07\x1b\u200b\ud800\udfff")
)
CHARS = st.one_of(TRICKY, st.characters(codec=None, exclude_categories=()))
WORD = st.text(CHARS, min_size=1, max_size=12)
SEPARATOR = st.sampled_from([" ", "\n", "\t", "、", "。", ", ", "\x00", "\ud800", "_", ""])


@st.composite
def texts(draw: st.DrawFn, max_words: int = 400) -> str:
    """Texts with enough words to be hashed most of the time (and sometimes not: a word may hold
    no word character, or merge with the next across an empty separator)."""
    words = draw(st.lists(WORD, min_size=MIN_SIMHASH_TOKENS, max_size=max_words))
    return "".join(word + draw(SEPARATOR) for word in words)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(texts())
def test_simhash_equals_the_reference_on_any_text(text: str) -> None:
    assert_both_equal_the_reference([text])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(CHARS, max_size=2000))
def test_simhash_equals_the_reference_on_unstructured_text(text: str) -> None:
    assert_both_equal_the_reference([text])


@settings(max_examples=10, deadline=None, derandomize=True)
@given(texts(max_words=20_000))
def test_simhash_equals_the_reference_on_long_texts(text: str) -> None:
    assert_both_equal_the_reference([text])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(max_codepoint=127), min_size=100, max_size=1500))
def test_simhash_equals_the_reference_on_ascii_text(text: str) -> None:
    # ASCII takes a byte-table path of its own.
    assert_both_equal_the_reference([text])


def test_simhash_equals_the_reference_on_a_huge_text() -> None:
    # ~600 kB, 100k words, ~80k distinct shingles: the packed-column path at scale.
    text = " ".join(f"w{i % 9973} 북한{i % 7}미사일 {i % 13}" for i in range(25_000))
    assert_both_equal_the_reference([text])


def test_simhash_equals_the_reference_on_the_real_corpus() -> None:
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert {item["id"][:1] for item in items}  # the corpus is there
    texts = [text for item in items for text in (item["text"], f"{item['title']}\n{item['text']}")]
    assert_both_equal_the_reference(texts)


def test_simhash_values_are_the_stored_ones() -> None:
    """Values computed by the first implementation (stored in existing databases)."""
    english = " ".join(f"word{i} alpha beta" for i in range(30))
    korean = (
        "북한이 4일 오전 9시 40분쯤 평안북도 방현일대에서 탄도미사일을 발사했다고 합동참모본부가 "
        "밝혔습니다. 미사일은 발사지점에서 북동쪽으로 930여 킬로미터를 비행했습니다."
    )
    mixed = "Ｆｕｌｌｗｉｄｔｈ ﬁne STRASSE straße 東京都で G20会議 " * 6
    assert simhash(english) == -6304113452876879868
    assert simhash(korean) == 1034025482935384032
    assert simhash(mixed) == 1369779500565173198
    assert simhashes([english, korean, mixed]) == [
        -6304113452876879868,
        1034025482935384032,
        1369779500565173198,
    ]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(texts(max_words=200), st.text(CHARS, max_size=800)), max_size=12))
def test_simhashes_of_a_batch_equal_the_reference(batch: list[str]) -> None:
    # Texts of a batch share token ids and arrays: none may leak into another's value.
    assert simhashes(batch) == [reference_simhash(text) for text in batch]


def test_simhashes_across_passes_and_a_huge_text() -> None:
    # More tokens than one pass holds, and a text longer than a pass, between short ones.
    huge = " ".join(f"w{i % 9973} 북한{i % 7}미사일 {i % 13}" for i in range(25_000))
    many = [" ".join(f"t{(i * 7 + j) % 300}" for j in range(400)) for i in range(100)]
    assert sum(len(text.split()) for text in many) > PASS_TOKENS
    assert_both_equal_the_reference([*many[:50], huge, "too short", *many[50:], ""])


def test_simhashes_of_texts_with_tokens_at_the_length_limit() -> None:
    # Tokens of MAX_TOKEN_BYTES are combined from CRC tables; a longer one goes to simhash.
    words = [f"w{i % 17}" for i in range(60)]
    cases = []
    for size in (MAX_TOKEN_BYTES - 1, MAX_TOKEN_BYTES, MAX_TOKEN_BYTES + 1):
        for long in ("x" * size, "가" * (size // 3) + "x" * (size % 3)):
            for at in (0, 1, 30, 58, 59):
                cases.append(" ".join([*words[:at], long, *words[at:]]))
    cases.append(" ".join(["ไทย" * 30, *words]))  # Thai runs make long tokens
    assert_both_equal_the_reference(cases)
    assert_both_equal_the_reference(cases[-1:])  # a batch with nothing for the arrays
