"""Development titles (counted nouns, joined names, "the two countries") and the facts of a
launch, in English and in Korean, Japanese and Chinese follow-up sentences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput, Match
from detect.rules.templates import counted, plural, render

DAY = datetime(2026, 1, 28, tzinfo=UTC)


def first(ruleset: detect.RuleSet, category: str, text: str) -> Match:
    matches = detect.detect(ruleset, DetectionInput("t", "", text, DAY, dated=True))
    return next(m for m in matches if m.category == category)


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (2, "ballistic missile", "two ballistic missiles"),
        (1, "ballistic missile", "ballistic missile"),
        (None, "cruise missile", "cruise missile"),
        (3, "ICBM", "three ICBMs"),
        (12, "SRBM", "12 SRBMs"),
        (2, "satellite launch vehicle", "two satellite launch vehicles"),
    ],
)
def test_counted_nouns(count: int | None, noun: str, expected: str) -> None:
    assert counted(count, noun) == expected


def test_plurals_of_abbreviations_and_words() -> None:
    assert [plural(n) for n in ("ICBM", "missile", "bus")] == ["ICBMs", "missiles", "buses"]


def test_template_joins_lists_as_names_or_as_a_pair() -> None:
    values = {"people": ["Lee Jae-myung", "Sanae Takaichi"], "states": ["Japan", "South Korea"]}
    assert render("{people:dash} summit", values) == "Lee Jae-myung – Sanae Takaichi summit"
    assert render("{states:pair} talks", values) == "Japan–South Korea talks"
    assert render("{people} summit ({place}, {date})", values) == (
        "Lee Jae-myung and Sanae Takaichi summit"
    )


def test_launch_title_counts_the_missiles(ruleset: detect.RuleSet) -> None:
    match = first(ruleset, "missile_launch", "North Korea fired two ballistic missiles on Tuesday.")
    assert match.title == "North Korea fires two ballistic missiles"


def test_exercise_of_the_two_countries_is_between_the_states_of_the_article(
    ruleset: detect.RuleSet,
) -> None:
    text = (
        "Japanese Defense Minister Shinjiro Koizumi hosted his South Korean counterpart. "
        "A joint search and rescue exercise between the two countries' navies was agreed upon."
    )
    match = first(ruleset, "military_exercise", text)
    assert match.actors == ("Japan", "South Korea")
    assert match.title == "Japan–South Korea joint search and rescue exercise (planned)"


def test_facts_of_an_english_report(ruleset: detect.RuleSet) -> None:
    text = (
        "North Korea fired a Hwasong-18 from the Pyongyang area at 7:10 a.m. on Tuesday. "
        "The missile flew for about 73 minutes, reaching an altitude of 6,000 km, and fell "
        "outside Japan's exclusive economic zone."
    )
    facts = first(ruleset, "missile_launch", text).facts
    assert facts["weapon_type"] == "ICBM"
    assert (facts["flight_time_min"], facts["apogee_km"], facts["local_time"]) == (
        73,
        6000,
        "07:10",
    )
    assert "exclusive economic zone" in facts["impact_area"]


@pytest.mark.parametrize(
    "text",
    [
        "북한이 27일 동해상으로 탄도미사일 2발을 발사했다. 비행거리는 약 350㎞, 고도는 약 80㎞로 "
        "파악됐다. 비행시간은 약 5분이었다.",
        "北朝鮮は27日、弾道ミサイル2発を発射した。防衛省によると、最高高度は約80キロで、約350キロ"
        "飛行し、飛行時間は約5分だった。",
        "朝鲜27日向东部海域发射两枚弹道导弹。据报道，导弹飞行距离约350公里，最高高度约80公里，"
        "飞行时间约5分钟。",
    ],
)
def test_cjk_follow_up_sentences_add_their_facts(ruleset: detect.RuleSet, text: str) -> None:
    facts = first(ruleset, "missile_launch", text).facts
    assert (facts["count"], facts["range_km"], facts["apogee_km"]) == (2, 350, 80)
    assert facts["flight_time_min"] == 5
    assert facts["weapon_type"] == "ballistic missile"
