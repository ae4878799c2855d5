"""Labels files and `evaluate`: scores with the reason of every miss and false alarm."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.errors import ConfigValidationError
from core.model import DetectionInput

CATEGORIES = {"missile_launch", "summit"}
DAY = datetime(2026, 1, 28, tzinfo=UTC)


def test_labels_are_read_with_none_and_several_categories() -> None:
    text = "id\tevents\treason\na1\tmissile_launch,summit\tboth\na2\tnone\tpreview\n\n"
    assert detect.parse_labels(text, "labels.tsv", CATEGORIES) == {
        "a1": frozenset({"missile_launch", "summit"}),
        "a2": frozenset(),
    }


def test_every_bad_label_line_is_reported_with_its_line() -> None:
    text = (
        "id\tevents\treason\na1\tmissile_launch\tok\na1\tnone\tdup\na3\t\tempty\na4\tlaunches\tx\n"
    )
    with pytest.raises(ConfigValidationError) as caught:
        detect.parse_labels(text, "labels.tsv", CATEGORIES)
    errors = [str(e) for e in caught.value.errors]
    assert errors[0] == "labels.tsv:3: duplicate id 'a1'"
    assert errors[1].startswith("labels.tsv:4: a3: no events")
    assert errors[2].startswith("labels.tsv:5: a4: unknown category launches")


def test_a_missing_header_is_an_error_on_line_one() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        detect.parse_labels("a1\tnone\n", "labels.tsv", CATEGORIES)
    assert str(caught.value.errors[0]).startswith("labels.tsv:1: the first line must be the header")


def test_evaluate_scores_and_explains_each_error(ruleset: detect.RuleSet) -> None:
    items = [
        DetectionInput("hit", "", "North Korea fired two ballistic missiles on Tuesday.", DAY),
        DetectionInput("alarm", "", "North Korea fired a ballistic missile on Monday.", DAY),
        DetectionInput("miss", "", "North Korea may launch a missile soon, officials warned.", DAY),
        DetectionInput("unlabelled", "", "North Korea fired a missile.", DAY),
    ]
    labels = {
        "hit": frozenset({"missile_launch"}),
        "alarm": frozenset(),
        "miss": frozenset({"missile_launch"}),
    }
    result = detect.evaluate(ruleset, items, labels)
    assert (result.micro.true_positives, result.micro.false_positives) == (1, 1)
    assert result.misses == (("miss", "missile_launch"),)
    assert result.false_alarms == (("alarm", "missile_launch"),)
    assert "planned" in result.reasons[("miss", "missile_launch")]
    assert "'may launch'" in result.reasons[("miss", "missile_launch")]
    assert "fired" in result.reasons[("alarm", "missile_launch")]
    assert result.table()[-1].startswith("micro")


def test_a_miss_with_no_event_word_says_so(ruleset: detect.RuleSet) -> None:
    item = DetectionInput("quiet", "", "Markets were calm on Tuesday.", DAY)
    reason = detect.miss_reason(ruleset, item, "summit")
    assert reason.startswith("summit: no event word")
