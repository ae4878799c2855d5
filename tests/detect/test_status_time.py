"""Status and time of an event mention: which cue or date speaks for it, what makes it context,
and when two mentions are two events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)


def states(ruleset: detect.RuleSet, category: str, text: str) -> list[tuple[str, bool]]:
    """(status, background) of each match of `category`, for an article of 28 January 2026."""
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))
    return [(m.status, m.background) for m in matches if m.category == category]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A date that says where the event lies decides when no nearer cue does.
        ("The UN condemned North Korea's ICBM launch yesterday.", ("occurred", False)),
        ("North Korea's missile launch last week drew condemnation.", ("occurred", True)),
        ("North Korea last fired an ICBM in 2023.", ("occurred", True)),
        ("북한은 지난달 23일 탄도미사일을 발사했다.", ("occurred", True)),
        ("북한은 7.27.(화) 탄도미사일을 발사했다.", ("occurred", False)),
        # A modal speaks of the verb after it, not of an event named before it.
        ("The missile launch would raise tensions further, analysts said.", ("occurred", True)),
    ],
)
def test_launch_status_and_time(
    ruleset: detect.RuleSet, text: str, expected: tuple[str, bool]
) -> None:
    found = states(ruleset, "missile_launch", text)
    assert found[:1] == [expected], found


@pytest.mark.parametrize(
    "text",
    [
        "The foreign ministers will meet for talks in Seoul on Sunday.",
        "Foreign ministers of the two countries are to meet later Thursday.",
        "양국 외교장관은 오는 30일 도쿄에서 회담한다고 발표했다.",
        "韩国外交部长官赵显将于下月访华，与王毅举行会谈。",
    ],
)
def test_meetings_ahead_are_planned(ruleset: detect.RuleSet, text: str) -> None:
    assert states(ruleset, "ministerial_meeting", text) == [("planned", False)]


def test_a_date_belongs_to_the_event_word_nearest_it(ruleset: detect.RuleSet) -> None:
    text = (
        "The Security Council voted today for new sanctions against North Korea to register "
        "its displeasure at Pyongyang's recent nuclear and missile tests."
    )
    assert states(ruleset, "sanctions", text) == [("occurred", False)]
    assert all(background for _s, background in states(ruleset, "missile_launch", text))


def test_an_event_named_in_response_to_is_context(ruleset: detect.RuleSet) -> None:
    text = "정부는 북한의 탄도미사일 발사에 대응해 독자제재를 발표했다."
    assert states(ruleset, "missile_launch", text) == [("occurred", True)]


def test_korean_and_japanese_negations_follow_the_verb(ruleset: detect.RuleSet) -> None:
    assert states(ruleset, "missile_launch", "북한은 이번에는 미사일을 발사하지 않았다.") == []
    assert states(ruleset, "missile_launch", "北朝鮮は今回、ミサイルを発射していない。") == []


def test_the_news_and_the_last_test_are_two_events(ruleset: detect.RuleSet) -> None:
    text = (
        "North Korea conducted its sixth nuclear test on Sunday. "
        "Its fifth nuclear test was conducted in September last year."
    )
    assert sorted(states(ruleset, "nuclear_test", text)) == [
        ("occurred", False),
        ("occurred", True),
    ]


def test_a_noun_alone_is_context_but_a_headline_asserts(ruleset: detect.RuleSet) -> None:
    assert states(ruleset, "missile_launch", "UN sanctions ban missile tests by Pyongyang.") == [
        ("occurred", True)
    ]
    assert states(ruleset, "missile_launch", "북한, 동해상으로 탄도미사일 발사") == [
        ("occurred", False)
    ]


def test_a_satellite_launch_counts_only_when_north_korea_launches(
    ruleset: detect.RuleSet,
) -> None:
    assert states(ruleset, "missile_launch", "North Korea said it launched a spy satellite.") == [
        ("occurred", False)
    ]
    assert states(ruleset, "missile_launch", "SpaceX launched South Korea's spy satellite.") == []
