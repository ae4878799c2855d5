"""Cascade detection (issue 11) skips work, never results: an article without any rule's event
word ends after the automaton pass, a sentence no rule can fire on is never read closely, and
entities and dates are resolved only when a sentence needs them. Each test compares `detect`
with the reading `rules explain` makes, which reads every sentence of every rule with the whole
scan in hand, on every corpus the repository holds and on generated mixes of rule examples."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detect
from bench.generator import ArticleGenerator, event_sentences
from core.model import DetectionInput, Match
from detect.engine.detector import _support_candidates, rule_matches
from detect.engine.event_mentions import SentenceTrace
from detect.engine.prefilter import could_fire
from detect.engine.scan import ArticleScan, article_text, find_terms, scan_article
from flows.cli.detect import read_items
from tests.detect.conftest import RULES, generated_news
from tests.detect.seeds import ORDER, seed_input
from tests.detect.test_corpus_eval import CORPUS

NEUTRAL = (
    "Exports of memory chips rose for a third month, the statistics office said.",
    "The city council approved a new budget for the bridge renovation on Monday.",
    "Officials said the company would launch a new smartphone service next year.",
    "The weather agency warned of heavy snow in the north until Friday.",
    "Kim Min-jae, a shop owner in Busan, said prices had climbed since January.",
)


def read_everything(ruleset: detect.RuleSet, item: DetectionInput) -> list[Match]:
    """Every rule over every sentence with the whole scan at hand, as `rules explain` reads."""
    scan = scan_article(ruleset, item)
    every_sentence = list(range(len(scan.sentences)))
    matches: list[Match] = []
    for rule_index in range(len(ruleset.rules)):
        traces: list[SentenceTrace] = []
        matches += rule_matches(ruleset, rule_index, scan, every_sentence, traces)
    return matches


def assert_same(ruleset: detect.RuleSet, items: list[DetectionInput]) -> None:
    for item in items:
        assert detect.detect(ruleset, item) == read_everything(ruleset, item), item.key


def test_the_labelled_corpus_reads_the_same(ruleset: detect.RuleSet) -> None:
    items = [article.item for article in read_items(CORPUS / "articles.jsonl")]
    assert len(items) > 200
    assert_same(ruleset, items)


def test_the_seeds_read_the_same(ruleset: detect.RuleSet) -> None:
    items = [seed_input(number) for number in ORDER]
    assert sum(len(detect.detect(ruleset, item)) for item in items) > 0
    assert_same(ruleset, items)


@pytest.mark.parametrize("event_share", [0.15, 1.0])
def test_generated_news_reads_the_same(ruleset: detect.RuleSet, event_share: float) -> None:
    items = generated_news(7, event_share, 120)
    assert sum(len(detect.detect(ruleset, item)) for item in items) > 0
    assert_same(ruleset, items)


def test_an_article_without_event_words_ends_after_the_automaton_pass(
    ruleset: detect.RuleSet,
) -> None:
    quiet = DetectionInput("q", "Markets", " ".join(NEUTRAL[:2]), None, dated=False)
    assert find_terms(ruleset, quiet).hits  # common words of cue lists, no event word
    assert not could_fire(ruleset, article_text(quiet))
    assert detect.detect(ruleset, quiet) == []
    launch = DetectionInput("l", "", "North Korea fired a ballistic missile.", None, False)
    assert could_fire(ruleset, article_text(launch))


def test_an_event_word_no_rule_reads_there_ends_before_the_whole_scan(
    ruleset: detect.RuleSet,
) -> None:
    # "launch a new smartphone service": an event word in a sentence where no rule's condition
    # could hold; the next sentence holds one in a sentence where one could.
    phone = DetectionInput("p", "Markets", " ".join(NEUTRAL), None, dated=False)
    assert scan_article(ruleset, phone).anchored_sentences()
    assert not could_fire(ruleset, article_text(phone))
    fired = "North Korea fired a ballistic missile into the sea on Tuesday."
    both = DetectionInput("b", "Markets", " ".join((*NEUTRAL, fired)), None, dated=False)
    assert could_fire(ruleset, article_text(both))
    assert detect.detect(ruleset, both) == read_everything(ruleset, both) != []


def test_entities_and_dates_wait_for_a_sentence_that_needs_them(
    ruleset: detect.RuleSet,
) -> None:
    # "launch a new smartphone service" holds an event word that no rule can fire on.
    item = DetectionInput("p", "", NEUTRAL[2], datetime(2026, 2, 1, tzinfo=UTC))
    scan = scan_article(ruleset, item)
    assert any(index.anchors for index in scan.index)
    assert detect.detect(ruleset, item) == []
    assert "entity_mentions" not in vars(scan) and "dates" not in vars(scan)


@st.composite
def mixed_articles(draw: st.DrawFn, pool: tuple[str, ...]) -> DetectionInput:
    sentences = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8))
    title = draw(st.sampled_from(("", *pool)))
    day = draw(st.dates(min_value=datetime(2020, 1, 1).date()))
    return DetectionInput("h", title, " ".join(sentences), datetime(day.year, day.month, day.day))


@pytest.fixture(scope="module")
def sentence_pool(ruleset: detect.RuleSet) -> tuple[str, ...]:
    examples = {example.text for rule in ruleset.rules for example in rule.examples}
    return (*sorted(examples), *NEUTRAL)


def test_any_mix_of_rule_examples_reads_the_same(
    ruleset: detect.RuleSet, sentence_pool: tuple[str, ...]
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mixed_articles(sentence_pool))
    def check(item: DetectionInput) -> None:
        assert detect.detect(ruleset, item) == read_everything(ruleset, item)

    check()


def support_candidates_by_index(
    ruleset: detect.RuleSet, rule_index: int, scan: ArticleScan
) -> list[int]:
    """Sentences with a hit of a selection the rule's support needs, by their sorted-out index."""
    needed = ruleset.rules[rule_index].support_terms
    if not needed:
        return list(range(len(scan.sentences)))
    return [
        sentence
        for sentence, index in enumerate(scan.index)
        if any(name in needed for _hit, name in index.selections.get(rule_index, ()))
    ]


@pytest.mark.parametrize("event_share", [0.15, 1.0])
def test_support_candidates_read_off_the_hits_are_those_of_the_sentence_indexes(
    ruleset: detect.RuleSet, event_share: float
) -> None:
    generator = ArticleGenerator(event_sentences(str(RULES)), seed=11, event_share=event_share)
    items = [DetectionInput(a.guid, a.title, a.body, None) for a in generator.articles(0, 60)]
    items += [seed_input(number) for number in ORDER]
    assert any(rule.support is not None for rule in ruleset.rules)
    for item in items:
        scan = scan_article(ruleset, item)
        for rule_index in range(len(ruleset.rules)):
            expected = support_candidates_by_index(ruleset, rule_index, scan)
            assert _support_candidates(ruleset, rule_index, scan) == expected
