"""Detection is linear in the text (issue 9), shown by counting work, never by timing it:
the calls made inside detect/ grow in proportion to the text for every pathological kind, a
megabyte of each completes (under the suite's per-test timeout), and the hand-written fast paths
agree with the plain versions they replace on generated input."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detect
import detect.engine.clusters
import detect.text.sentences as sentences_module
from core.errors import ConfigValidationError
from core.model import DetectionInput
from detect.engine.event_mentions import _NearestAnchor, words_between
from detect.engine.scan import MAX_BODY_CHARS
from detect.engine.selections import outermost, outermost_hits
from detect.text.normalize import normalize, squash
from detect.text.sentences import _ABBREVIATIONS, MAX_SENTENCE_CHARS, split_sentences
from detect.text.terms import Hit, Lexicon, term_spec
from tests.detect.test_loading import ALIASES, GOOD

DETECT_DIR = str(Path(detect.__file__).parent)
REFERENCE = datetime(2026, 1, 28, tzinfo=UTC)
MEGABYTE = 1_000_000
FILLER = "the quick brown fox jumps over the lazy dog while officials watch "


def _distinct_events() -> str:
    """Launches on distinct days: every one a new event for the grouping."""
    days = [
        f"{month} {day}, {year}"
        for year in range(1990, 2100)
        for month in ("March", "July")
        for day in (3, 17)
    ]
    return "".join(f"North Korea fired a missile on {d}. " for d in days)


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Each kind made `detect` super-linear before issue 9 (or is the baseline: ordinary prose).
KINDS: dict[str, Callable[[int], str]] = {
    "prose": lambda n: _repeat(
        "North Korea fired a ballistic missile on Tuesday, the Joint Chiefs of Staff said. "
        + FILLER * 3,
        n,
    ),
    "full stops": lambda n: "." * n,
    "spaced ellipses": lambda n: _repeat("Wait . . . then ", n),
    "one sentence": lambda n: _repeat(FILLER + "and North Korea fired missiles and ", n),
    "japanese": lambda n: _repeat(
        "北朝鮮は弾道ミサイルを発射したと防衛省が発表し、今日は晴れていた", n
    ),
    "a. a.": lambda n: _repeat("a. ", n),
    "controls": lambda n: _repeat("\x1b[31mNorth\x00 Korea\u200b fired\u202e\ue000 " + FILLER, n),
    "distinct events": lambda n: _distinct_events()[:n],
    # Event words whose rules need someone named, in sentences that name no one (the
    # prefilter looks for a name in each: detect/engine/nameable.py).
    "no one named": lambda n: _repeat("the company hosted a dinner for investors. ", n),
}


def _detect(ruleset: detect.RuleSet, text: str) -> list[object]:
    return list(detect.detect(ruleset, DetectionInput("k", "", text, REFERENCE)))


def calls_in_detect(run: Callable[[], object]) -> int:
    """Python calls made in detect/ (comprehensions, lambdas and helpers included) by `run`."""
    count = 0

    def profile(frame: object, event: str, _arg: object) -> None:
        nonlocal count
        if event == "call" and frame.f_code.co_filename.startswith(DETECT_DIR):  # type: ignore[attr-defined]
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("kind", KINDS)
def test_work_grows_in_proportion_to_the_text(ruleset: detect.RuleSet, kind: str) -> None:
    make = KINDS[kind]
    small = calls_in_detect(lambda: _detect(ruleset, make(6_000)))
    large = calls_in_detect(lambda: _detect(ruleset, make(24_000)))
    # Four times the text, four times the work (and some slack): quadratic work would be 16x.
    assert large <= 5 * small + 1_000, (small, large)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("prose", "distinct events")])
def test_a_megabyte_of_each_kind_completes(ruleset: detect.RuleSet, kind: str) -> None:
    # Before issue 9, 100 KB of "...." took over 180 s; the suite's timeout is 600 s per test.
    assert isinstance(_detect(ruleset, KINDS[kind](MEGABYTE)), list)


@pytest.mark.parametrize("kind", KINDS)
def test_long_texts_split_into_bounded_sentences(kind: str) -> None:
    text = squash(KINDS[kind](MEGABYTE // 4))  # the old splitter took minutes on 100 KB
    sentences = split_sentences(text, [("body", 0, len(text))])
    assert sentences and max(s.end - s.start for s in sentences) <= MAX_SENTENCE_CHARS


def test_the_analysed_body_is_capped(ruleset: detect.RuleSet) -> None:
    head = "North Korea fired a ballistic missile, the JCS said. "
    tail = "\n" + "Japan and South Korea held a summit in Seoul, officials said. " * 20
    text = head + "x " * (MAX_BODY_CHARS // 2) + tail
    categories = {m.category for m in _detect(ruleset, text)}
    assert "missile_launch" in categories and "summit" not in categories


def test_grouping_compares_a_mention_with_a_bounded_number_of_events(
    ruleset: detect.RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared = 0
    compatible = detect.engine.clusters.compatible

    def counting(*args: object) -> bool:
        nonlocal compared
        compared += 1
        return compatible(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(detect.engine.clusters, "compatible", counting)
    text = _distinct_events()
    matches = _detect(ruleset, text)
    mentions = text.count("fired")
    assert len(matches) > detect.engine.clusters.OPEN_EVENTS
    assert compared <= mentions * detect.engine.clusters.OPEN_EVENTS


# --- the fast paths agree with the plain versions --------------------------------------------

_OLD_END = re.compile(
    r"[.!?]+[\"')\]]*(?=\s)|[!?]+[\"'」』)）]*(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|[。！？]+[\"'」』)）]*|(?<=[a-z]{2})\.(?=[A-Z][a-z])"
)
_OLD_INITIALS = re.compile(r"^(?:[A-Za-z]\.)*[A-Za-z]$")


def _old_line_spans(text: str) -> list[tuple[int, int]] | None:
    """The splitter before issue 9 (quadratic; raised IndexError on ". . .": None then)."""
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        cut = line.start()
        for stop in _OLD_END.finditer(text, line.start(), line.end()):
            before = text[cut : stop.start()]
            words = before.rsplit(None, 1)
            if before and not words:
                return None
            word = words[-1] if before else ""
            bare = word.lstrip("\"'([").rstrip(".")
            if stop.group()[0] == "." and (
                bare.lower() in _ABBREVIATIONS or _OLD_INITIALS.match(bare)
            ):
                continue
            spans.append((cut, stop.end()))
            cut = stop.end()
        if text[cut : line.end()].strip():
            spans.append((cut, line.end()))
    return spans


prose_bits = st.sampled_from(
    [
        " ",
        "  ",
        ".",
        "...",
        ". . .",
        "!",
        "?",
        "!?",
        "。",
        '"',
        ")",
        "]",
        "」",
        "\n",
        "a",
        "ab",
        "Co",
        "Mr",
        "U.S",
        "The",
        "Xy",
        "北",
        "한",
        "no",
        "etc",
        "(",
        "'",
    ]
)
sentence_texts = st.lists(prose_bits, max_size=40).map("".join)
FAST = settings(max_examples=150, deadline=None, derandomize=True)

# The end-of-sentence pattern as it reads, look-behinds first; detect.text.sentences writes it with
# the first character before the branches, for speed.
_READABLE_END = re.compile(
    r"(?<![.!?])[.!?]++[\"')\]]*+(?=\s)"
    r"|(?<![!?])[!?]++[\"'」』)）]*+(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
    r"|[。！？]++[\"'」』)）]*+|(?<=[a-z]{2})\.(?=[A-Z][a-z])"
)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(text=st.text(alphabet=".!?。！？\"')]」』）( \nabzABZ北한あ", max_size=30))
def test_the_fast_end_pattern_finds_the_stops_the_readable_one_does(text: str) -> None:
    fast = [m.span() for m in sentences_module._END.finditer(text)]
    assert fast == [m.span() for m in _READABLE_END.finditer(text)]


@FAST
@given(text=sentence_texts)
def test_the_splitter_splits_as_before_where_it_did_not_fail(text: str) -> None:
    old = _old_line_spans(text)
    if old is None:
        return  # the old splitter raised here: the new one must only not
    new = split_sentences(text, [("body", 0, len(text))])
    trimmed = []
    for s, e in old:
        while s < e and text[s] == " ":
            s += 1
        trimmed.append((s, e))
    assert [(s.start, s.end) for s in new] == trimmed


spans = st.tuples(st.integers(0, 60), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1]))


@FAST
@given(raw=st.lists(spans, max_size=12), probe=spans, words=st.integers(1, 6))
def test_the_nearest_anchor_is_the_one_every_anchor_compared_gives(
    raw: list[tuple[int, int]], probe: tuple[int, int], words: int
) -> None:
    anchors: list[tuple[int, int]] = []
    for start, end in sorted(raw):
        if not anchors or start >= anchors[-1][1]:
            anchors.append((start, end))
    if not anchors:
        return
    tokens = [i // words for i in range(100)]  # a word every `words` characters
    nearest = _NearestAnchor(anchors, tokens.__getitem__)
    start, end = probe
    expected = min(anchors, key=lambda a: (words_between(tokens.__getitem__, start, end, a), a[0]))
    assert nearest.anchor(start, end) == expected


@FAST
@given(raw=st.lists(st.tuples(st.integers(0, 3), spans), max_size=12))
def test_outermost_keeps_what_every_pair_compared_keeps(
    raw: list[tuple[int, tuple[int, int]]],
) -> None:
    hits = [Hit(term, start, end) for term, (start, end) in raw]
    assert outermost_hits(hits) == [
        h for h in hits if not any(o.start <= h.start and h.end <= o.end and o != h for o in hits)
    ]
    cues = [(h, 0, "occurred") for h in hits]
    assert outermost(cues) == [  # type: ignore[arg-type]
        c
        for c in cues
        if not any(
            o[0].start <= c[0].start
            and c[0].end <= o[0].end
            and o[0].end - o[0].start > c[0].end - c[0].start
            for o in cues
        )
    ]


# --- rule regexes that can backtrack catastrophically are refused ----------------------------


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(?:\\s*\\w+)*x", "(.*,){12}", "(?:ab|a)*c", "(?:in|i)+g"]
)
def test_a_catastrophic_regex_term_is_refused_with_file_line_and_reason(pattern: str) -> None:
    rule = GOOD.replace(
        "  weapon: [missile]",
        f"  weapon:\n    any: ['{pattern}']\n    modifiers: [regex]",
    )
    with pytest.raises(ConfigValidationError) as caught:
        detect.load_ruleset({"bad.yaml": rule}, ALIASES)
    refused = [e for e in caught.value.errors if "backtrack catastrophically" in e.reason]
    assert [(e.path, e.line) for e in refused] == [("bad.yaml", 8)]  # the line of the term


def test_a_catastrophic_fact_pattern_is_refused() -> None:
    rule = GOOD + "facts:\n  - name: range\n    patterns: ['(?P<value>(\\d+)+) km']\n"
    with pytest.raises(ConfigValidationError) as caught:
        detect.load_ruleset({"bad.yaml": rule}, ALIASES)
    assert "backtrack catastrophically" in str(caught.value)


@pytest.mark.parametrize(
    "pattern",
    ["launch(?:ed)? (?:a|the) new destroyer", "(?:military |naval |air |aerial )*drill", "\\d++,"],
)
def test_a_safe_regex_term_loads(pattern: str) -> None:
    rule = GOOD.replace(
        "  weapon: [missile]", f"  weapon:\n    any: ['{pattern}']\n    modifiers: [regex]"
    )
    rule = rule.replace('positive: ["North Korea fired a missile."]', "positive: []")
    assert detect.load_ruleset({"ok.yaml": rule}, ALIASES).rules


# Regex terms: the case-sensitive twin used on ASCII text finds what IGNORECASE finds.
_REGEX_TERMS = [
    r"fire(?<!live fire)(?<!live-fire) drills?\b",
    r"launch(?:ed|es|ing)? (?:of )?(?:a|an|the|its) (?:new |[a-z]+ class )?(?:guided )?missiles?",
    r"(?:[a-z]+ ){0,2}test[- ]?fir(?:e|ed|ing)\b",
    r"[^a-z ]ship\b",
    r"Guided MISSILES?\S*",  # capitals: IGNORECASE on every text
]
regex_texts = st.lists(
    st.sampled_from(
        [
            "Fire",
            "fire DRILL",
            "Live-fire drills",
            "LIVE fire drill",
            "-",
            "Drill",
            "Launched",
            "launch of the NEW Frigate class Guided MISSILES",
            "an",
            "Guided missile",
            "guided",
            "MISSILE",
            "Test-Fired",
            "test firing",
            "x ship",
            "9ship",
            ".SHIP",
            "X",
            "Ship",
        ]
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(text=regex_texts)
def test_a_regex_term_finds_the_same_on_ascii_text_with_or_without_ignorecase(text: str) -> None:
    lexicon = Lexicon()
    ids = [lexicon.add(term_spec(pattern, frozenset({"regex"}))) for pattern in _REGEX_TERMS]
    folded = normalize(text).folded
    assert folded.isascii()
    found = {(h.term, h.start, h.end) for h in lexicon.compile().scan(normalize(text))}
    expected = {
        (term, m.start(), m.end())
        for term, pattern in zip(ids, _REGEX_TERMS, strict=True)
        for m in re.finditer(pattern, folded, re.IGNORECASE)
    }
    assert found == expected
