"""`normalize_space` (what content hashes are taken of) takes a shortcut for ASCII text whose
words are already one space apart; the shortcut gives what splitting every word out gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import content_hash, normalize_space

SPACES = "".join(chr(c) for c in range(0x2100) if chr(c).isspace())
PIECES = ("ab", "c", "ﬁ", " ", "  ", "\n", "\n\n", "\t", "\r", "\x0c", "\x1f", "\xa0", "\u3000")


def plain_normalize_space(text: str) -> str:
    """Every run of whitespace as one space, trimmed, after NFKC: the definition."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES)).map("".join)
    | st.text(alphabet=st.sampled_from("ab \n" + SPACES))
    | st.text(st.characters(max_codepoint=127))
    | st.text()
)
def test_normalize_space_equals_its_definition(text: str) -> None:
    assert normalize_space(text) == plain_normalize_space(text)


def test_content_hash_reads_paragraphs_as_one_run_of_words() -> None:
    one = content_hash("Title", "First paragraph.\n\nSecond  one.")
    assert one == content_hash("title", "First paragraph. Second one.")
