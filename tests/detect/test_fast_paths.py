"""Hand-written fast paths of the matcher and the word positions (issue 11) give exactly what
the plain definitions give: the anchor terms' automaton finds the anchor hits of the whole
matcher, the matcher run on stretches of a text finds the whole text's hits that start there,
the sentence around a position read from its line alone is the one the whole split puts it in,
an ASCII text's token starts and per-character token index equal the regular
expression's, and the date finder, which tries its patterns only where a word is followed by
what they need, finds what trying them after every word that can begin one finds.
Property-based, over rule terms mixed with words, punctuation and CJK."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detect
from detect.engine import entity_mentions
from detect.text import dates
from detect.text.normalize import _TOKEN, NormText, normalize, normalize_parts
from detect.text.sentences import LineSentences, sentence_around, split_sentences
from detect.text.terms import Hit

FILLER = ("the", "in", "at", "of", "will", "missile", "Seoul", "N.", "2026", "-", ",", ".", "\n")
CJK_FILLER = ("発射", "미사일을", "北朝鮮", "し", "x発")
PUNCTUATION = " -_.,'\"()\n\t"
# Sentence ends of every kind the splitter knows (abbreviations, initials, glued stops, CJK
# stops, runs of stops, quotes after a stop), words, spaces and line breaks.
SENTENCE_PIECES = (
    "Seoul", "fired", " ", " ", "  ", ". ", ".", "! ", "? ", "...", ". . .", "\n", "\n\n",
    "Mr. ", "U.S. ", "a.m. ", "Co. ", "Jan. ", "N. ", '." ', ".The ", "wednesday.The ", "。",
    "발사했다. ", "！", "!北", "“Yes.” ", "(Yonhap) -- ", "x" * 700, "a. ",
)  # fmt: skip


def regex_token_starts(folded: str) -> tuple[int, ...]:
    """Token starts by their definition: the regular expression's matches."""
    return tuple(m.start() for m in _TOKEN.finditer(folded))


def plain_token_index(starts: tuple[int, ...], length: int) -> tuple[int, ...]:
    """Per character, the index of the token at or before it (0 before the first), one token
    at a time."""
    index = [0] * length
    for token, start in enumerate(starts):
        end = starts[token + 1] if token + 1 < len(starts) else length
        index[start:end] = [token] * (end - start)
    return tuple(index)


@pytest.fixture(scope="module")
def term_words(ruleset: detect.RuleSet) -> tuple[str, ...]:
    """Every literal term as written in the rules, cue lists and alias tables."""
    return tuple(sorted({spec.text for spec in ruleset.matcher.specs if not spec.regex}))


def anchor_hits(ruleset: detect.RuleSet, text: NormText) -> list[Hit]:
    """The whole matcher's hits of anchor terms."""
    return [hit for hit in ruleset.matcher.scan(text) if hit.term in ruleset.anchor_rules]


def test_the_anchor_automaton_finds_what_the_whole_matcher_finds_of_anchors(
    ruleset: detect.RuleSet, term_words: tuple[str, ...]
) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(term_words + FILLER), max_size=30), st.text(PUNCTUATION))
    def check(words: list[str], glue: str) -> None:
        text = normalize((glue or " ").join(words))
        expected = anchor_hits(ruleset, text)
        assert ruleset.anchor_matcher.scan(text) == expected

    check()


def test_the_matcher_on_a_range_finds_the_whole_texts_hits_that_start_in_it(
    ruleset: detect.RuleSet, term_words: tuple[str, ...]
) -> None:
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(st.sampled_from(term_words + FILLER + CJK_FILLER), max_size=30),
        st.text(PUNCTUATION),
        st.data(),
    )
    def check(words: list[str], glue: str, data: st.DataObject) -> None:
        text = normalize((glue or " ").join(words))
        # Ranges start anywhere, inside words too, and end anywhere (past the text as well).
        position = st.integers(0, len(text.folded) + 2)
        ranges = data.draw(st.lists(st.tuples(position, st.integers(0, 60)), max_size=8))
        ranges = [(start, start + length) for start, length in ranges]
        matcher = ruleset.matcher
        whole = matcher.scan(text)
        assert sorted(matcher.hits(text)) == sorted(whole)
        for start, end in ranges:
            expected = [h for h in whole if start <= h.start < end]
            assert matcher.scan_range(text, start, end, matcher.regex_hits(text)) == expected

    check()


def test_a_range_starting_inside_a_word_finds_no_term_that_word_ends_with(
    ruleset: detect.RuleSet,
) -> None:
    text = normalize("Talks within Seoul were held")  # "in" ends "within": no hit there
    inside = text.folded.index("in ")
    found = ruleset.matcher.scan_range(text, inside, inside + 9, ruleset.matcher.regex_hits(text))
    assert found == [h for h in ruleset.matcher.scan(text) if inside <= h.start < inside + 9]


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(SENTENCE_PIECES), max_size=25).map("".join),
    st.integers(0, 2),
    st.data(),
)
def test_the_sentence_around_a_position_is_the_one_the_whole_split_puts_it_in(
    body: str, title_words: int, data: st.DataObject
) -> None:
    text = normalize_parts([" ".join(body.split(" ")[:title_words]), body])
    cased, ranges = text[0].cased, text[1]
    sentences = split_sentences(cased, [("title", *ranges[0]), ("body", *ranges[1])])
    positions = data.draw(st.lists(st.integers(0, max(0, len(cased) - 1)), min_size=1))
    lines: LineSentences = {}  # each line split once for all the positions asked about
    for position in positions:
        holding = [(s.start, s.end) for s in sentences if s.start <= position < s.end]
        for memo in (None, lines):
            part_of = [sentence_around(cased, start, end, position, memo) for start, end in ranges]
            assert [span for span in part_of if span is not None] == holding


def test_the_anchor_automaton_holds_only_anchor_terms(ruleset: detect.RuleSet) -> None:
    quiet = normalize("Exports of memory chips rose in the third month of the year, at last.")
    assert ruleset.matcher.scan(quiet)  # "in", "of", "at": cue words
    assert ruleset.anchor_matcher.scan(quiet) == []
    launch = normalize("North Korea fired a ballistic missile.")
    assert ruleset.anchor_matcher.scan(launch)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text(alphabet="ab9_ -.\n"))
def test_ascii_token_starts_equal_the_regex_definition(text: str) -> None:
    norm = NormText(text, text)
    assert norm.token_starts == regex_token_starts(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab9_ -.\n字한") | st.text())
def test_token_at_equals_the_one_token_at_a_time_definition(text: str) -> None:
    norm = NormText(text, text)
    starts = regex_token_starts(text)
    assert norm.token_starts == starts
    last = max(0, len(starts) - 1)  # past the end: the last token
    expected = (0, 0, *plain_token_index(starts, len(text)), last, last)
    assert tuple(map(norm.token_at, range(-2, len(text) + 2))) == expected


# Date phrases of every pattern, words they begin with or continue with, and the digits and
# punctuation that decide whether one is there: joined with mostly spaces, in either case.
DATE_PHRASES = (
    "the same day", "on the same morning", "that evening", "on that day", "on the 27th",
    "the 3rd", "the 12th century", "in 2019", "in early 2019", "since mid-1998", "of 2026 troops",
    "by late 2019", "until 2001", "during 1950", "last week", "next month", "next year",
    "last year", "this week", "this month", "this morning", "this afternoon", "earlier this year",
    "earlier in the month", "earlier today", "later today", "later this week", "later tonight",
    "two days ago", "a day ago", "just days ago", "hours earlier", "just hours ago", "yesterday",
    "today", "tonight", "tomorrow", "on Friday", "earlier on Monday", "coming Sunday",
    "later Tuesday", "last March", "next May", "this June", "in April", "since October 2019",
    "early January", "late Dec", "mid-November", "March 5", "Jan. 26, 2026", "sept 3", "may 5",
    "26 January", "3rd March 2025", "2026-01-25", "12 days ago", "in the",
)  # fmt: skip
DATE_WORDS = (*dates._BY_WORD, "same", "day", "ago", "week", "2019", "27th", "12", "century")
DATE_GLUE = (" ", " ", " ", " ", " ", "-", " - ", "--", ". ", ",", ", ", "\n", "\t")


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(DATE_PHRASES + DATE_WORDS), max_size=10),
    st.lists(st.sampled_from(DATE_GLUE), min_size=1, max_size=7),
    st.sampled_from([str, str.title, str.upper, str.lower]),
)
def test_dates_found_after_the_follow_test_equal_those_found_after_every_word(
    pieces: list[str], glue: list[str], case: Callable[[str], str]
) -> None:
    words = " ".join(case(piece) for piece in pieces).split(" ")
    text = normalize("".join(w + glue[i % len(glue)] for i, w in enumerate(words)))
    every_word = re.compile(
        r"\b(?:\d+|" + "|".join(sorted(dates._BY_WORD, key=len, reverse=True)) + r")\b"
    )
    assert dates._latin(text) == dates._latin(text, every_word)


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet="AbCd -xY.é\n", max_size=40)
    | st.lists(st.sampled_from(("Kim", "Ahn Gyu-back", "Ab-CD", "the", "-", " ", ". ", "Lee"))).map(
        "".join
    )
)
def test_name_runs_of_words_are_the_name_runs_that_hold_a_space(text: str) -> None:
    runs = [m.span() for m in entity_mentions._NAME_RUN.finditer(text) if " " in m.group()]
    assert [m.span() for m in entity_mentions._NAME_RUN_OF_WORDS.finditer(text)] == runs


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(("Kim", "Ahn Gyu-back", "Lee Jae Myung", "the", ". ", " ", "x"))).map(
        "".join
    )
)
def test_the_words_of_a_name_run_are_its_runs_of_non_spaces(text: str) -> None:
    for run in entity_mentions._NAME_RUN_OF_WORDS.finditer(text):
        words = [
            (run.start() + m.start(), run.start() + m.end())
            for m in re.finditer(r"\S+", run.group())
        ]
        assert entity_mentions._word_spans(run.group().split(" "), run.start()) == words
