"""Real-world and hostile input never breaks detection (issue 9): regressions for each crash
site, and property-based tests over generated and mutated texts and extreme reference dates."""

from __future__ import annotations

import re
import sys
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detect
from core.model import DetectionInput, Match
from detect.text.dates import EARLIEST_YEAR, LATEST_YEAR, find_dates
from detect.text.hanfold import HAN_FOLD
from detect.text.normalize import (
    _ESCAPES,
    _HAN,
    _HYPHEN,
    _INVISIBLE,
    _QUOTES,
    _hyphen,
    _straight_quotes,
    collapse_spaces,
    fold,
    normalize,
    squash,
    visible,
)
from detect.text.sentences import split_sentences
from detect.text.terms import _NOT_LATIN_WORD, word_view
from tests.detect.seeds import REFERENCE, seed_input

LAUNCH = "North Korea fired a ballistic missile into the East Sea on Tuesday, the JCS said."
MEETING = "The defence ministers met in Yokosuka on Friday and agreed to hold a joint exercise."
EXTREME_REFERENCES = (
    datetime.min,
    datetime.max,
    datetime.min.replace(tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
    datetime(1, 1, 1, 12, tzinfo=timezone(timedelta(hours=14))),
    datetime(9999, 12, 31, tzinfo=timezone(timedelta(hours=-12))),
    datetime(EARLIEST_YEAR, 1, 1),
    datetime(LATEST_YEAR, 12, 31, 23, 59),
)
RELATIVE_WORDS = (
    "yesterday",
    "on Tuesday",
    "next week",
    "last month",
    "last year",
    "3 days ago",
    "earlier this month",
    "on the 1st",
    "January 1",
    "in 2013",
)
CJK_DATES = ("1日", "지난 1일", "先月1日", "来週", "지난달 31일", "12月31日", "9999年12月31日")


def article(text: str, reference: datetime | None = REFERENCE, title: str = "") -> DetectionInput:
    return DetectionInput("k", title, text, reference, dated=True)


def assert_matches(matches: object) -> None:
    """The documented result: a list of Matches with fields of the documented types."""
    assert isinstance(matches, list)
    for match in matches:
        assert isinstance(match, Match)
        assert match.event_date is None or isinstance(match.event_date, date)
        if match.event_date is not None:
            assert EARLIEST_YEAR <= match.event_date.year <= LATEST_YEAR
        assert match.status in ("planned", "occurred", "cancelled")
        assert isinstance(match.background, bool)
        assert all(isinstance(a, str) for a in match.actors)
        assert isinstance(match.title, str) and isinstance(match.snippet, str)


# --- regressions, one per crash site of the issue -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "He paused . . . and North Korea fired a missile . . . the JCS said.",
        ". . .",
        "a . . . . . b",
        "Co . said. . .",
        "  . .  .  ",
    ],
)
def test_spaced_ellipses_split_without_error(ruleset: detect.RuleSet, text: str) -> None:
    assert_matches(detect.detect(ruleset, article(text)))


@pytest.mark.parametrize(
    "text",
    [
        f"North Korea fired a missile {'9' * 6} days ago.",
        f"North Korea fired a missile {'9' * 5000} days ago.",
        "The ministers met in December 9999, officials said; they met.",
        "The ministers met on December 31, 9999 and on 0001-01-01.",
        "North Korea fired a missile in 0000 and in December 0000.",
        "North Korea fired a missile on 9999-12-31.",
    ],
)
def test_impossible_dates_are_unknown_not_errors(ruleset: detect.RuleSet, text: str) -> None:
    matches = detect.detect(ruleset, article(text))
    assert_matches(matches)
    assert all(m.event_date is None or m.event_date.year < 9999 for m in matches)


@pytest.mark.parametrize("reference", EXTREME_REFERENCES)
@pytest.mark.parametrize("words", RELATIVE_WORDS + CJK_DATES)
def test_relative_dates_against_the_ends_of_the_datetime_range(
    ruleset: detect.RuleSet, reference: datetime, words: str
) -> None:
    text = (
        f"North Korea fired a ballistic missile {words}. 北朝鮮は{words}に弾道ミサイルを発射した。"
    )
    assert_matches(detect.detect(ruleset, article(text, reference, title="N. Korea fires missile")))


def test_a_reference_outside_the_window_leaves_relative_dates_unknown(
    ruleset: detect.RuleSet,
) -> None:
    text = "North Korea fired a ballistic missile yesterday, the JCS said."
    for reference in (datetime(1, 1, 2), datetime(9999, 12, 30)):
        matches = detect.detect(ruleset, article(text, reference))
        assert matches and all(m.event_date is None for m in matches)


def test_ansi_escapes_detect_like_plain_text(ruleset: detect.RuleSet) -> None:
    plain = "North Korea fired a ballistic missile"
    coloured = "\x1b[31mNorth Korea\x1b[0m fired a ballistic missile"
    expected = detect.detect(ruleset, article(plain, title=plain))
    assert expected and expected[0].actors[0] == "North Korea"
    assert detect.detect(ruleset, article(coloured, title=coloured)) == expected


def test_invisible_characters_detect_like_plain_text(ruleset: detect.RuleSet) -> None:
    seed = seed_input("000")
    noisy = "\u200b\u202e\ue000\x00\x07\xad\ufeff\u2066"
    mutated = DetectionInput(
        seed.key,
        seed.title.replace(" ", f" {noisy}"),
        seed.text.replace(" ", f"{noisy} ").replace(".", ".\x1b[0m"),
        seed.reference,
        seed.dated,
    )
    assert detect.detect(ruleset, mutated) == detect.detect(ruleset, seed)


def test_the_invisible_class_covers_unicode_controls_formats_and_private_use() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs"):
            # Whitespace controls read as a space or a line break; the rest are dropped.
            assert squash(f"a{char}b") in ("ab", "a b", "a\nb"), hex(code)


# --- property-based: never raises, documented types -----------------------------------------

FRAGMENTS = (
    LAUNCH,
    MEETING,
    "北朝鮮は28日、弾道ミサイル2発を発射した。",
    "북한이 27일 탄도미사일을 발사했다.",
    "朝鲜27日发射了两枚弹道导弹。",
    "كوريا الشمالية أطلقت صاروخا",  # RTL
    "\u202eNorth Korea\u202c fired",
    "🚀🇰🇵 fired a missile 👩‍👩‍👧",
    "...." * 20,
    ". . . ",
    "a. a. a. ",
    "U.S. Gen. Lt. Co. ",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x1b[",
    "\u200b\u200d\ufeff",
    "\ue000\U000f0000",
    "\x00\x01\x7f\x85\x9f",
    "\r\n\t\v\f",
    "!?!?」』",
    "。。。！？",
    "December 9999",
    "999999 days ago",
    "0001-01-01",
    "on the 31st",
    "지난달 31일",
    "\ud800",
)
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=25).map(
    "".join
)
references = st.one_of(
    st.none(),
    st.sampled_from(EXTREME_REFERENCES),
    st.datetimes(),
    st.datetimes(timezones=st.just(timezone(timedelta(hours=9)))),
)
HOSTILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Whole detections cost more per example: fewer, to keep each test to a few seconds.
WHOLE = settings(HOSTILE, max_examples=25)


@WHOLE
@given(title=texts, text=texts, reference=references, dated=st.booleans())
def test_detect_never_raises(
    ruleset: detect.RuleSet, title: str, text: str, reference: datetime | None, dated: bool
) -> None:
    item = DetectionInput("k", title, text, reference, dated)
    assert_matches(detect.detect(ruleset, item))


@WHOLE
@given(
    position=st.integers(min_value=0, max_value=10_000),
    insert=st.sampled_from(FRAGMENTS),
    reference=references,
)
def test_mutated_seeds_never_raise(
    ruleset: detect.RuleSet, position: int, insert: str, reference: datetime | None
) -> None:
    seed = seed_input("001")
    cut = position % (len(seed.text) + 1)
    item = DetectionInput("k", seed.title, seed.text[:cut] + insert + seed.text[cut:], reference)
    assert_matches(detect.detect(ruleset, item))


@HOSTILE
@given(text=texts, reference=references, future=st.booleans(), dated=st.booleans())
def test_every_date_expression_resolves_or_is_unknown(
    text: str, reference: datetime | None, future: bool, dated: bool
) -> None:
    day = reference.date() if reference is not None else None
    for expr in find_dates(normalize(text)):
        span = expr.resolve(day, dated, future)
        assert span is None or (
            EARLIEST_YEAR <= span.start.year <= LATEST_YEAR
            and EARLIEST_YEAR <= span.end.year <= LATEST_YEAR
        )


@HOSTILE
@given(text=texts)
def test_sentences_tile_the_text_in_order(text: str) -> None:
    norm = normalize(text)
    sentences = split_sentences(norm.cased, [("body", 0, len(norm.cased))])
    previous_end = 0
    for sentence in sentences:
        assert previous_end <= sentence.start < sentence.end <= len(norm.cased)
        previous_end = sentence.end


# --- the fast normalising paths equal their regular-expression definitions -----------------

SPACES_AND_INVISIBLES = "".join(chr(c) for c in range(0x2100) if chr(c).isspace()) + (
    "\x00\x07\x1b\x7f\x85\xad\u200b\u202e\u2028\u2029\ue000\ufeff\U000f0000"
)


def spaces_by_regex(text: str) -> str:
    """How spaces were collapsed before `collapse_spaces`: by two regular expressions."""
    lines = re.sub(r"[^\S\n]*\n\s*", "\n", text)
    return re.sub(r"[^\S\n]+", " ", lines).strip()


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab 字\n" + SPACES_AND_INVISIBLES))
    | st.text()
    | st.lists(st.sampled_from(("ab", "c", " ", "\n", "\n\n", "\t", "\r", "\x0c", "\x1f"))).map(
        "".join
    )
)
def test_collapsing_spaces_equals_the_regex_definition(text: str) -> None:
    assert collapse_spaces(text) == spaces_by_regex(text)


QUOTES_AND_HAN = "`'\"’‘“”–—−-發射発发ab 字"


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(QUOTES_AND_HAN)) | st.text(st.characters(max_codepoint=127))
)
def test_the_ascii_shortcuts_of_quotes_and_han_folding_change_what_the_tables_change(
    text: str,
) -> None:
    assert _straight_quotes(text) == text.translate(_QUOTES)
    lowered = text.lower()
    plain = lowered.translate(HAN_FOLD) if _HAN.search(lowered) else lowered
    assert fold(text) == _HYPHEN.sub(lambda m: _hyphen(plain, m.start()), plain)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab 字\n[0m" + SPACES_AND_INVISIBLES)) | st.text())
def test_the_printable_shortcut_drops_what_the_invisible_class_drops(text: str) -> None:
    assert visible(text) == _INVISIBLE.sub("", _ESCAPES.sub("", text))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_the_ascii_word_view_equals_the_regex_definition(text: str) -> None:
    assert word_view(text) == " " + _NOT_LATIN_WORD.sub(" ", text) + " "
