"""The prefilter's entity test (detect/engine/nameable.py) says "no" only of a sentence where
entity resolution finds no mention: checked sentence by sentence against `resolve_entities`
on every corpus the repository holds and on generated mixes of names, spellings, titles,
surnames and aliases; and it lets an article whose event word's sentence names no one end in
the prefilter."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detect
from core.model import DetectionInput
from detect.engine.nameable import NameBound
from detect.engine.prefilter import could_fire
from detect.engine.scan import article_text, scan_article
from flows.cli.detect import read_items
from tests.detect.conftest import generated_news
from tests.detect.seeds import ORDER, seed_input
from tests.detect.test_corpus_eval import CORPUS


def unnameable_sentences(ruleset: detect.RuleSet, item: DetectionInput) -> list[str]:
    """The sentences of `item` where the bound says no entity can start but resolution found
    one (what must never be)."""
    scan = scan_article(ruleset, item)
    names = NameBound(ruleset, scan.text)
    return [
        scan.sentence_text(index)
        for index, sentence in enumerate(scan.sentences)
        if scan.entities[index]
        and not names.could_name(sentence.start, sentence.end, scan.hits[index])
    ]


def named_sentences(ruleset: detect.RuleSet, items: list[DetectionInput]) -> int:
    """How many sentences of `items` name an entity (so that a test is seen to test some)."""
    return sum(sum(1 for found in scan_article(ruleset, i).entities if found) for i in items)


def assert_bound_holds(ruleset: detect.RuleSet, items: list[DetectionInput]) -> None:
    for item in items:
        assert unnameable_sentences(ruleset, item) == [], item.key


def test_the_labelled_corpus_and_the_seeds(ruleset: detect.RuleSet) -> None:
    items = [article.item for article in read_items(CORPUS / "articles.jsonl")]
    items += [seed_input(number) for number in ORDER]
    assert named_sentences(ruleset, items) > 500
    assert_bound_holds(ruleset, items)


@pytest.mark.parametrize("event_share", [0.15, 1.0])
def test_generated_news(ruleset: detect.RuleSet, event_share: float) -> None:
    items = generated_news(5, event_share, 150)
    assert named_sentences(ruleset, items) > 150
    assert_bound_holds(ruleset, items)


# Capitalised words no table knows, for names of unknown people and for noise.
UNKNOWN_WORDS = (
    *("Nobuo", "Kishi", "Hanga", "Longkam", "Wenrang", "Ten", "Mc", "Donald", "Baek"),
    *("Kyu-Baek", "Gyu-back", "Nobuo-Kishi"),  # hyphens join parts into one word
)
FILLER = ("the", "said", "on", "Monday", "met", "hosted", "in", "a", "dinner", "fired", ".", ",")


def name_words(ruleset: detect.RuleSet) -> tuple[str, ...]:
    """Words and phrases that make entity mentions, or nearly do."""
    table = ruleset.entities
    people = [e for e in table.entities.values() if e.kind == "person"]
    titles = sorted({ruleset.term_text(term) for term in table.title_terms})
    aliases = sorted({ruleset.term_text(term) for term in table.alias_terms})
    return (
        *[p.name for p in people],
        # Other spellings: a vowel changed, the parts hyphenated or run together.
        *[p.name.replace("a", "e", 1) for p in people],
        *[p.name.replace(" ", "-", 1) for p in people],
        *[p.surname or p.name for p in people],
        *["Mc" + p.name for p in people[::5]],  # a name inside a longer word
        *titles,
        *[title.title() for title in titles],
        *aliases,
        *[alias.lower() for alias in aliases[::7]],
    )


@st.composite
def name_articles(draw: st.DrawFn, pool: tuple[str, ...]) -> DetectionInput:
    words = st.sampled_from((*pool, *UNKNOWN_WORDS, *FILLER))
    sentences = draw(
        st.lists(st.lists(words, min_size=1, max_size=12).map(" ".join), min_size=1, max_size=6)
    )
    title = draw(st.lists(words, max_size=6).map(" ".join))
    separator = draw(st.sampled_from((". ", "\n", " ", ".\n\n")))
    return DetectionInput("h", title, separator.join(sentences), None, dated=False)


def assert_bound_holds_for(
    ruleset: detect.RuleSet, articles: st.SearchStrategy[DetectionInput], examples: int
) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(articles)
    def check(item: DetectionInput) -> None:
        assert unnameable_sentences(ruleset, item) == []

    check()


def test_any_mix_of_names_titles_and_aliases(ruleset: detect.RuleSet) -> None:
    assert_bound_holds_for(ruleset, name_articles(name_words(ruleset)), examples=400)


@st.composite
def cut_name_runs(draw: st.DrawFn, pool: tuple[str, ...]) -> DetectionInput:
    """A run of capitalised words longer than a sentence may be, with names near where it is
    cut: a name then starts in one sentence and ends in the next."""
    padding = "Ab " * draw(st.integers(min_value=600, max_value=700))
    words = st.sampled_from((*pool, *UNKNOWN_WORDS))
    names = draw(st.lists(words, min_size=1, max_size=30).map(" ".join))
    return DetectionInput("c", "", padding + names + " hosted a dinner.", None, dated=False)


def test_names_where_a_long_sentence_is_cut(ruleset: detect.RuleSet) -> None:
    assert_bound_holds_for(ruleset, cut_name_runs(name_words(ruleset)), examples=150)


@pytest.mark.parametrize(
    "text",
    [
        "North Korea hosted a dinner.",  # an alias
        "north korea hosted a dinner.",  # an alias, lower case
        "북한 hosted a dinner.",  # an alias in Korean
        "Sanaa Takaichi hosted a dinner.",  # a known person under another spelling
        # ... whose surname, first, is no word of its own (no word boundary before it)
        "McLee Jae-myung hosted a dinner.",
        "Defense Minister Nobuo Kishi hosted a dinner.",  # a name a title introduces
        # ... whose first and last words are no words of their own (hyphens join them)
        "Defense Minister Jean-Luc Saint-Pierre hosted a dinner.",
        # A surname alone, of a person named in another sentence: known, or titled.
        "Sanae Takaichi arrived on Monday. Takaichi hosted a dinner.",
        "Defense Minister Nobuo Kishi arrived on Monday. Kishi hosted a dinner.",
    ],
)
def test_a_sentence_naming_someone_could_name_an_entity(ruleset: detect.RuleSet, text: str) -> None:
    item = DetectionInput("n", "", text, None, dated=False)
    scan = scan_article(ruleset, item)
    last = len(scan.sentences) - 1
    assert scan.entities[last]  # resolution finds the mention
    names = NameBound(ruleset, scan.text)
    sentence = scan.sentences[last]
    assert names.could_name(sentence.start, sentence.end, scan.hits[last])
    assert could_fire(ruleset, article_text(item))


def test_an_event_word_where_no_one_is_named_ends_in_the_prefilter(
    ruleset: detect.RuleSet,
) -> None:
    # "hosted" is a meeting's event word, and a meeting needs someone to meet: the sentence
    # names no one, so no rule can fire, and the whole scan is never made.
    dinner = DetectionInput("d", "", "The company hosted a dinner for investors.", None, False)
    scan = scan_article(ruleset, dinner)
    assert scan.anchored_sentences() and not any(scan.entities)
    assert not could_fire(ruleset, article_text(dinner))
    assert detect.detect(ruleset, dinner) == []
