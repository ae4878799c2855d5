"""Every shipped rule file loads, and every example it carries comes out as it says."""

from __future__ import annotations

from pathlib import Path

import pytest

import detect
from core.model import DetectionInput
from tests.detect.conftest import RULES, rule_documents

RULE_FILES = sorted(
    p for p in RULES.glob("*.yaml") if not p.name.startswith("entities") and p.name != "common.yaml"
)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_file_examples(path: Path) -> None:
    rules, aliases = rule_documents()
    common = {k: v for k, v in rules.items() if k.endswith("common.yaml")}
    ruleset = detect.load_ruleset({**common, str(path): rules[str(path)]}, aliases)
    assert ruleset.rules, "the file holds no rule"
    for rule in ruleset.rules:
        assert rule.examples, f"{rule.id} has no examples"
        for example in rule.examples:
            item = DetectionInput("example", "", example.text, None, dated=False)
            matches = [m for m in detect.detect(ruleset, item) if m.rule_id == rule.id]
            assert detect.example_holds(example, matches), (example.expect, example.text, matches)


def test_required_categories_are_shipped(ruleset: detect.RuleSet) -> None:
    categories = {rule.category for rule in ruleset.rules}
    assert {
        "missile_launch",
        "nuclear_test",
        "ministerial_meeting",
        "summit",
        "military_exercise",
        "sanctions",
        "airspace_incursion",
        "maritime_incident",
    } <= categories
