"""Labels files and `evaluate`: scores with the reason of every miss and false alarm, scores per
group of articles, and the confusion list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import detect
from core.errors import ConfigValidationError
from core.model import DetectionInput
from detect.tools.evaluation import UNGROUPED

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


def _score(**outcomes: tuple[set[str], set[str]]) -> detect.Evaluation:
    """Score articles given as id=(labelled, reported)."""
    expected = {key: frozenset(labelled) for key, (labelled, _r) in outcomes.items()}
    predicted = {key: frozenset(reported) for key, (_l, reported) in outcomes.items()}
    return detect.score(predicted, expected)


def test_confusion_groups_articles_by_labelled_and_reported_most_frequent_first() -> None:
    result = _score(
        c017=({"military_exercise"}, {"airspace_incursion"}),
        c064=({"military_exercise"}, {"airspace_incursion"}),
        c088=({"military_exercise"}, {"airspace_incursion"}),
        n1=(set(), {"missile_launch"}),
        n2=(set(), {"missile_launch"}),
        m1=({"missile_launch"}, set()),
        ok=({"summit"}, {"summit"}),
        quiet=(set(), set()),
    )
    assert [kind.line() for kind in result.confusion()] == [
        "labelled military_exercise -> reported airspace_incursion: 3 (c017, c064, c088)",
        "labelled none -> reported missile_launch: 2 (n1, n2)",
        "labelled missile_launch -> reported none: 1 (m1)",
    ]


def test_confusion_keeps_whole_category_sets_and_can_hide_ids() -> None:
    result = _score(
        a=({"missile_launch", "summit"}, {"summit"}),
        b=({"summit", "missile_launch"}, {"summit"}),
        c=({"summit"}, {"summit", "sanctions"}),
    )
    first, second = result.confusion()
    assert (first.labelled, first.reported, first.ids) == (
        ("missile_launch", "summit"), ("summit",), ("a", "b"),
    )  # fmt: skip
    assert first.line(with_ids=False) == "labelled missile_launch, summit -> reported summit: 2"
    assert second.line(with_ids=False) == "labelled summit -> reported sanctions, summit: 1"


def test_an_evaluation_without_errors_has_no_confusion() -> None:
    assert _score(a=({"summit"}, {"summit"}), b=(set(), set())).confusion() == ()


def test_scores_by_group_count_each_groups_articles_and_errors() -> None:
    result = _score(
        e1=({"missile_launch"}, {"missile_launch"}),
        e2=({"missile_launch"}, set()),
        k1=(set(), {"summit", "sanctions"}),
        x1=({"summit"}, {"summit"}),
    )
    groups = {g.group: g for g in result.by_group({"e1": "en", "e2": "en", "k1": "ko"})}
    assert list(groups) == ["en", "ko", UNGROUPED]
    en, ko, unknown = groups["en"], groups["ko"], groups[UNGROUPED]
    assert (en.score.true_positives, en.score.false_positives, en.score.false_negatives) == (
        1,
        0,
        1,
    )
    assert (en.articles, en.score.precision, en.score.recall) == (2, 1.0, 0.5)
    assert (ko.score.false_positives, ko.score.support, ko.articles) == (2, 0, 1)
    assert (unknown.score.true_positives, unknown.articles) == (1, 1)
    table = detect.group_table(result.by_group({}), "language")
    assert table[0].split() == ["language", "P", "R", "F1", "support", "TP", "FP", "FN", "articles"]
    assert table[1].split() == [UNGROUPED, "0.50", "0.67", "0.57", "3", "2", "2", "1", "4"]


CATEGORY_SETS = st.frozensets(st.sampled_from(sorted(CATEGORIES | {"sanctions"})))
IDS = st.text("abc123", min_size=1, max_size=4)


@given(
    expected=st.dictionaries(IDS, CATEGORY_SETS, max_size=12),
    predicted=st.dictionaries(IDS, CATEGORY_SETS, max_size=12),
    groups=st.dictionaries(IDS, st.sampled_from(["en", "ko", "ja", "zh", "xx"]), max_size=12),
)
def test_group_counts_sum_to_the_micro_counts(
    expected: dict[str, frozenset[str]],
    predicted: dict[str, frozenset[str]],
    groups: dict[str, str],
) -> None:
    result = detect.score(predicted, expected)
    scores = result.by_group(groups)
    micro = result.micro
    assert sum(g.score.true_positives for g in scores) == micro.true_positives
    assert sum(g.score.false_positives for g in scores) == micro.false_positives
    assert sum(g.score.false_negatives for g in scores) == micro.false_negatives
    assert sum(g.articles for g in scores) == len(expected)
    wrong = {
        key for key, labelled in expected.items() if predicted.get(key, frozenset()) != labelled
    }
    assert sorted(k for kind in result.confusion() for k in kind.ids) == sorted(wrong)
