"""The matcher, sentence splitting, conditions and `explain`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput
from detect.rules.conditions import ConditionSyntaxError, evaluate, parse_condition
from detect.text.normalize import normalize
from detect.text.sentences import split_sentences
from detect.text.terms import Lexicon, term_spec
from tests.detect.seeds import seed_body


def terms_found(terms: list[str], text: str) -> list[str]:
    lexicon = Lexicon()
    for term in terms:
        lexicon.add(term_spec(term))
    matcher = lexicon.compile()
    return [matcher.specs[h.term].text for h in matcher.scan(normalize(text))]


def test_whole_words_for_spaced_scripts() -> None:
    assert terms_found(["launch", "test-fired", "in"], "Relaunched; test fired in joint") == [
        "test-fired",
        "in",
    ]


def test_prefix_terms() -> None:
    assert terms_found(["missile*"], "two missiles") == ["missile*"]


def test_cjk_terms_match_inside_words() -> None:
    assert terms_found(["발사", "発射"], "북한이 미사일을 발사했다. 発射した。") == ["발사", "発射"]


def test_one_han_spelling_matches_traditional_japanese_and_simplified_forms() -> None:
    text = "北韓發射了飛彈。北朝鮮が発射した。朝鲜发射了导弹。"
    assert terms_found(["発射"], text) == ["発射", "発射", "発射"]


def test_cjk_sentences_split_without_spaces() -> None:
    text = normalize("北朝鮮が発射した。日本は抗議した！本当か？ N. Korea fired. The U.S. said so.")
    spans = split_sentences(text.cased, [("body", 0, len(text.cased))])
    assert [text.cased[s.start : s.end] for s in spans] == [
        "北朝鮮が発射した。",
        "日本は抗議した!",
        "本当か?",
        "N. Korea fired.",
        "The U.S. said so.",
    ]


def test_conditions() -> None:
    node = parse_condition("a and not (b or c) and near(a, d, 2)")
    assert evaluate(node, {"a": True, "d": True}, {"a": [3], "d": [5]})
    assert not evaluate(node, {"a": True, "d": True}, {"a": [3], "d": [6]})
    assert not evaluate(node, {"a": True, "b": True, "d": True}, {"a": [3], "d": [4]})
    for bad in ("a and", "a or (b", "near(a, b)", "and a", "a b"):
        with pytest.raises(ConditionSyntaxError):
            parse_condition(bad)


def test_explain_shows_why(ruleset: detect.RuleSet) -> None:
    item = DetectionInput(
        "t",
        "",
        "Samsung will launch a new phone. North Korea fired two ballistic missiles.",
        None,
        False,
    )
    explanation = detect.explain(ruleset, "missile_launch", item)
    assert explanation.fired
    report = "\n".join(explanation.lines())
    assert (
        "weapon: ballistic, missile" in report
        or "weapon: missiles" in report
        or "weapon:" in report
    )
    assert "condition on the sentence: True" in report
    assert "status: occurred (cue 'fired')" in report
    assert "North Korea fires two ballistic missiles" in report


def test_explain_of_an_unknown_rule(ruleset: detect.RuleSet) -> None:
    with pytest.raises(KeyError):
        detect.explain(ruleset, "nope", DetectionInput("t", "", "", None, False))


def test_detect_is_deterministic(ruleset: detect.RuleSet) -> None:
    item = DetectionInput("t", "", seed_body("001"), datetime(2026, 1, 28, tzinfo=UTC), True)
    assert detect.detect(ruleset, item) == detect.detect(ruleset, item)


def test_rules_whose_event_words_are_absent_are_never_read(
    ruleset: detect.RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cost per article grows with what the article holds, not with the number of rules: a
    rule is read only in sentences holding one of its event words."""
    from detect.engine import detector

    read: list[int] = []
    original = detector.read_sentence

    def counting(rs: detect.RuleSet, rule_index: int, *args: object) -> object:
        read.append(rule_index)
        return original(rs, rule_index, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(detector, "read_sentence", counting)
    item = DetectionInput(
        "t", "", "North Korea fired two ballistic missiles on Tuesday.", None, False
    )
    detect.detect(ruleset, item)
    assert {ruleset.rules[i].category for i in read} == {"missile_launch"}
