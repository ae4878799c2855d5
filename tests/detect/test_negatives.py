"""Hard negatives do not fire; plans and speculation are never `occurred`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput

REFERENCE = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)


def found(ruleset: detect.RuleSet, text: str) -> list[tuple[str, str, bool]]:
    matches = detect.detect(ruleset, DetectionInput("t", "", text, REFERENCE, dated=True))
    return [(m.category, m.status, m.background) for m in matches]


@pytest.mark.parametrize(
    "text",
    [
        "Samsung will launch a new phone at an event in San Francisco.",
        "Apple launched its latest smartphone in Seoul on Tuesday.",
        "The navy launched a new guided-missile destroyer at the Okpo shipyard.",
        "SpaceX launched a rocket carrying 20 satellites on Monday.",
        "The annual AI Summit in Seoul drew tech CEOs from around the world.",
        "The company held its annual shareholders meeting and board meeting on Tuesday.",
        "The Supreme Court sanctioned the attorney for filing frivolous claims.",
        "Pat Summitt's Tennessee team won the national title.",
        "Abe, the team's coach, met the press after the game.",
        "Workers used a power drill to repair the deck.",
        "Students took part in an earthquake drill at the school on Friday.",
        "Japan urged all sides to exercise restraint.",
        "North Korea has not conducted a nuclear test since 2017.",
        "Defense Minister Koizumi told reporters after a cabinet meeting that he was concerned.",
        "Climbers reached the summit of Mount Everest on Tuesday.",
        "The coast guard rescued 12 fishermen after their boat capsized.",
        "Hwasong is a city in North Korea's South Hamgyong province.",
    ],
)
def test_hard_negatives_do_not_fire(ruleset: detect.RuleSet, text: str) -> None:
    assert found(ruleset, text) == []


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("North Korea may conduct its seventh nuclear test soon, officials said.", "nuclear_test"),
        ("North Korea is preparing to launch a reconnaissance satellite.", "missile_launch"),
        ("North Korea threatens to fire ICBMs if the drills go ahead.", "missile_launch"),
        ("The foreign ministers are scheduled to meet in Tokyo next week.", "ministerial_meeting"),
        ("President Lee will visit Beijing for a summit with Xi Jinping.", "summit"),
    ],
)
def test_plans_and_threats_are_planned(ruleset: detect.RuleSet, text: str, category: str) -> None:
    assert found(ruleset, text) == [(category, "planned", False)]


def test_the_ministers_summit_is_not_a_summit(ruleset: detect.RuleSet) -> None:
    text = (
        "As North Korea's provocations persist, this defense ministers' summit could mark a "
        "turning point."
    )
    assert [c for c, _s, _b in found(ruleset, text)] == ["ministerial_meeting"]


def test_a_past_rift_is_context_not_news(ruleset: detect.RuleSet) -> None:
    text = (
        "The previous rift occurred when Japan refused to provide refueling support for South "
        "Korea's Air Force aerobatic team, the Black Eagles, during a training exercise near "
        "Dokdo, prompting South Korea to suspend joint drills in retaliation."
    )
    assert all(
        background or status != "occurred" for _c, status, background in found(ruleset, text)
    )


def test_a_former_ministers_visit_is_no_meeting(ruleset: detect.RuleSet) -> None:
    text = "This mirrors former Defense Minister Nobuo Kishi's visit to Pyeongtaek last September."
    assert found(ruleset, text) == []
