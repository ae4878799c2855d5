"""Shared fixtures for detection tests: the shipped rules, loaded once, and one small valid rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import detect
from bench.generator import ArticleGenerator, event_sentences
from core.model import DetectionInput

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"
# One valid rule, small enough to read at a glance: tests load it beside aliases of their own.
LAUNCH_RULE = """
id: launch
category: missile_launch
title: "{actor} fires"
selections:
  launch: [fired, launched]
  weapon: [missile]
condition: launch and weapon
status:
  occurred: [fired]
examples:
  positive: ["North Korea fired a missile."]
"""


def rule_documents(rules_dir: Path = RULES) -> tuple[dict[str, str], dict[str, str]]:
    """(rule files, alias files) of a rules folder, the way the flows layer splits them."""
    rules, aliases = {}, {}
    for path in sorted(rules_dir.rglob("*.yaml")):
        is_alias = path.name.startswith("entities")
        (aliases if is_alias else rules)[str(path)] = path.read_text(encoding="utf-8")
    return rules, aliases


@pytest.fixture(scope="session")
def ruleset() -> detect.RuleSet:
    """The shipped rules and aliases."""
    return detect.load_ruleset(*rule_documents())


def generated_news(seed: int, event_share: float, count: int) -> list[DetectionInput]:
    """`count` articles of the bench's generator (bench/generator.py), read on 1 February 2026."""
    generator = ArticleGenerator(event_sentences(str(RULES)), seed=seed, event_share=event_share)
    return [
        DetectionInput(a.guid, a.title, a.body, datetime(2026, 2, 1, tzinfo=UTC))
        for a in generator.articles(0, count)
    ]
