"""Rules carry example sentences; each must come out as its rule says, or loading fails."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import ConfigError
from core.model import DetectionInput, Match
from detect.engine.detector import detect_rules
from detect.rules.ruleset import Example, RuleSet


def example_holds(example: Example, matches: Sequence[Match]) -> bool:
    """Whether the rule's matches on an example are what the example expects."""
    news = [m for m in matches if not m.background]
    if example.expect == "positive":
        return any(m.status == "occurred" for m in news)
    if example.expect == "planned":
        return any(m.status == "planned" for m in news) and not any(
            m.status == "occurred" for m in news
        )
    if example.expect == "background":
        return bool(matches) and not news
    return not matches


def _describe(example: Example, matches: Sequence[Match]) -> str:
    got = ", ".join(f"{m.status}{' background' if m.background else ''}" for m in matches)
    return f"{example.expect} example fails ({got or 'no match'}): {example.text!r}"


def example_failures(ruleset: RuleSet) -> list[ConfigError]:
    """An error for every example that its rule gets wrong."""
    errors = []
    for index, rule in enumerate(ruleset.rules):
        for example in rule.examples:
            item = DetectionInput(
                key="example", title="", text=example.text, reference=None, dated=False
            )
            matches = [m for m in detect_rules(ruleset, item, only={index}) if m.rule_id == rule.id]
            if not example_holds(example, matches):
                errors.append(
                    ConfigError(
                        rule.path, f"rule {rule.id}: {_describe(example, matches)}", example.line
                    )
                )
    return errors
