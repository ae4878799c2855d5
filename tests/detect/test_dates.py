"""Relative and absolute dates resolved against the article's day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import detect
from core.model import DetectionInput
from detect.text.dates import find_dates
from detect.text.normalize import normalize

WEDNESDAY = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)


def event_date(ruleset: detect.RuleSet, text: str, dated: bool = True) -> date | None:
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=dated))
    assert matches, text
    return matches[0].event_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("North Korea fired a ballistic missile on Tuesday.", date(2026, 1, 27)),
        ("North Korea fired a ballistic missile on Wednesday.", date(2026, 1, 28)),
        ("North Korea fired a ballistic missile on Friday.", date(2026, 1, 23)),
        ("North Korea fired a ballistic missile yesterday.", date(2026, 1, 27)),
        ("North Korea fired a ballistic missile on January 26.", date(2026, 1, 26)),
        ("North Korea fired a ballistic missile on Jan. 26.", date(2026, 1, 26)),
        ("North Korea fired a ballistic missile on 26 January.", date(2026, 1, 26)),
        ("North Korea fired a ballistic missile on 2026-01-25.", date(2026, 1, 25)),
        ("North Korea fired a ballistic missile two days ago.", date(2026, 1, 26)),
        ("북한이 27일 탄도미사일을 발사했다.", date(2026, 1, 27)),
        ("北朝鮮は1月27日、弾道ミサイルを発射した。", date(2026, 1, 27)),
    ],
)
def test_past_dates(ruleset: detect.RuleSet, text: str, expected: date) -> None:
    assert event_date(ruleset, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Koizumi will hold talks with his counterpart Ahn Gyu-back on Friday.", date(2026, 1, 30)),
        ("The defense ministers are scheduled to meet on Friday.", date(2026, 1, 30)),
        ("The defense ministers will meet on Tuesday.", date(2026, 2, 3)),
    ],
)
def test_future_weekdays_look_forward(ruleset: detect.RuleSet, text: str, expected: date) -> None:
    assert event_date(ruleset, text) == expected


def test_undated_article_keeps_weekdays_unresolved_but_resolves_calendar_dates(
    ruleset: detect.RuleSet,
) -> None:
    assert (
        event_date(ruleset, "North Korea fired a ballistic missile on Tuesday.", dated=False)
        is None
    )
    text = "The defense ministers will meet in Yokosuka on January 30."
    assert event_date(ruleset, text, dated=False) == date(2026, 1, 30)


def test_year_chosen_nearest_the_article() -> None:
    expr = find_dates(normalize("on January 3"))[0]
    assert expr.resolve(date(2025, 12, 29), True, future=True).exact == date(2026, 1, 3)  # type: ignore[union-attr]


def test_month_alone_needs_a_capital() -> None:
    assert [d.text for d in find_dates(normalize("North Korea may fire last November"))] == [
        "last November"
    ]


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("North Korea fired a ballistic missile on January 2.", True),
        ("North Korea fired a ballistic missile last November.", True),
        ("North Korea fired a ballistic missile earlier this month.", True),
        ("Last year's missile launch by North Korea drew condemnation.", True),
        ("The talks come days after North Korea's launch of two ballistic missiles.", True),
        ("North Korea fired a ballistic missile on Tuesday, days after the drills ended.", False),
        ("North Korea fired a ballistic missile on January 27.", False),
        ("North Korea fired a ballistic missile.", False),
    ],
)
def test_background(ruleset: detect.RuleSet, text: str, background: bool) -> None:
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))
    launches = [m for m in matches if m.category == "missile_launch"]
    assert [m.background for m in launches] == [background]


@pytest.mark.parametrize(
    ("text", "kind", "tense_known"),
    [
        ("in 2013", "year", True),
        ("since 2006", "interval", False),
        ("2018年5月以来", "interval", False),
        ("in September 2017", "month", True),
        ("7.12.(수)", "month_day", True),
        ("지난달 23일", "day", True),
        ("오는 18~28일", "day", True),
        ("later Thursday", "weekday", True),
        ("on Thursday", "weekday", False),
        ("this morning", "relative", True),
        ("today", "relative", False),
        ("去年11月", "month", True),
    ],
)
def test_date_expressions(text: str, kind: str, tense_known: bool) -> None:
    (expr,) = find_dates(normalize(text))
    assert (expr.kind, expr.tense_known) == (kind, tense_known)


def test_next_month_lies_ahead_and_last_week_is_context() -> None:
    ahead, behind = find_dates(normalize("다음 달 ... last week"))
    assert ahead.ahead and not ahead.vague_past
    assert behind.vague_past and not behind.ahead
