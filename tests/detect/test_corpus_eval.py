"""The shipped rules on the labelled corpus (tests/data/corpus): `make test` fails below micro-F1
0.85, and prints the per-category table and every miss and false alarm with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

import detect
from flows.cli.detect import read_items

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
MIN_MICRO_F1 = 0.85


@pytest.fixture(scope="module")
def evaluation(ruleset: detect.RuleSet) -> detect.Evaluation:
    categories = {rule.category for rule in ruleset.rules}
    labels_path = CORPUS / "labels.tsv"
    labels = detect.parse_labels(
        labels_path.read_text(encoding="utf-8"), str(labels_path), categories
    )
    items = [article.item for article in read_items(CORPUS / "articles.jsonl")]
    return detect.evaluate(ruleset, items, labels)


def test_micro_f1_on_the_corpus(evaluation: detect.Evaluation) -> None:
    print("\n" + "\n".join(evaluation.table()))
    for kind, pairs in (("miss", evaluation.misses), ("false alarm", evaluation.false_alarms)):
        for key, category in pairs:
            print(f"{kind} {key} {category}: {evaluation.reasons[(key, category)]}")
    assert evaluation.micro.f1 >= MIN_MICRO_F1, "\n".join(evaluation.table())


def test_every_error_has_a_reason(evaluation: detect.Evaluation) -> None:
    for pair in (*evaluation.misses, *evaluation.false_alarms):
        assert evaluation.reasons[pair]
