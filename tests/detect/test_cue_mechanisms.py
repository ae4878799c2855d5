"""General cue mechanisms: what the headline and lede carry against what deeper sentences only
recall, plan/preview/threat cues, Korean and Japanese tense, sanctions adopted against
proposed or existing, and the engine agreeing with `explain`. Every sentence here is written
for the test (none comes from a labelled corpus)."""

from __future__ import annotations

from datetime import UTC, datetime

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)
ALIASES = {
    "entities.yaml": """
states:
  - name: North Korea
    aliases: [DPRK]
""",
}
# A rule whose condition needs a selection of `none` terms alone: it holds where no drill word
# stands, so "North Korea fired a missile" is a launch and "fired a missile in a drill" is not.
NONE_ONLY = """
id: launch
category: missile_launch
title: "{actor} fires"
selections:
  launch: [fired]
  weapon: [missile]
  calm: {none: [drill, simulated]}
condition: launch and weapon and calm
status:
  occurred: [fired]
examples:
  positive: ["North Korea fired a missile."]
  negative: ["The army fired a simulated missile in a drill."]
"""


def reported(ruleset: detect.RuleSet, text: str, title: str = "") -> list[str]:
    """The categories `text` reports as news (an article of Wednesday 28 January 2026)."""
    item = DetectionInput("t", title, text, WEDNESDAY, dated=True)
    return sorted(detect.reported_categories(detect.detect(ruleset, item)))


def test_a_none_only_selection_lets_the_rule_fire_and_explain_agrees() -> None:
    """A rule whose condition needs a `none` selection fires where its terms are absent, and
    `explain` and detection say the same (the examples are checked by detection at load)."""
    ruleset = detect.load_ruleset({"r.yaml": NONE_ONLY}, ALIASES)
    for text, fires in [
        ("North Korea fired a missile on Tuesday.", True),
        ("The army fired a simulated missile in a drill on Tuesday.", False),
    ]:
        item = DetectionInput("t", "", text, WEDNESDAY, dated=True)
        matches = detect.detect(ruleset, item)
        assert bool(matches) is fires
        assert detect.explain(ruleset, "launch", item).fired is fires
