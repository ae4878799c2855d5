"""Small mechanisms found while tuning on real news: a leader named alone acts for the state
(in a rule whose actors are states), "the previous day" in Korean and kana "yesterday" date an
event, and a Korean "will" needs its full form (not "demanded that it comply"). Sentences written
for this test; the article is of Wednesday 28 January 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import detect
from core.model import DetectionInput, Match

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)


def matches(ruleset: detect.RuleSet, text: str) -> list[Match]:
    return detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))


@pytest.mark.parametrize(
    "text",
    [
        "Kim Jong Un fired two ballistic missiles into the East Sea on Tuesday.",
        "김정은이 27일 탄도미사일 2발을 동해상으로 발사했다.",
    ],
)
def test_a_leader_named_alone_acts_for_his_state(ruleset: detect.RuleSet, text: str) -> None:
    [launch] = [m for m in matches(ruleset, text) if m.category == "missile_launch"]
    assert "North Korea" in launch.actors
    assert not launch.title.startswith("Unknown")


@pytest.mark.parametrize(
    "text",
    [
        "북한은 전날 동해상으로 탄도미사일 1발을 발사했다고 합참이 밝혔다.",
        "北朝鮮はきのう、日本海に向けて弾道ミサイル1発を発射した。",
    ],
)
def test_the_previous_day_dates_the_event(ruleset: detect.RuleSet, text: str) -> None:
    [launch] = [m for m in matches(ruleset, text) if m.category == "missile_launch"]
    assert launch.event_date == date(2026, 1, 27)
    assert (launch.status, launch.background) == ("occurred", False)


def test_demanding_compliance_is_not_a_plan(ruleset: detect.RuleSet) -> None:
    text = "한일 외교장관은 27일 도쿄에서 회담하고 북한에 안보리 결의를 준수할 것을 요구했다."
    [meeting] = [m for m in matches(ruleset, text) if m.category == "ministerial_meeting"]
    assert (meeting.status, meeting.background) == ("occurred", False)
