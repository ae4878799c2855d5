"""Acceptance on the seeds (DESIGN.md): detect + assign over the five seed articles, with the
store simulated, yield exactly the four developments and four alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

import detect
from core.model import Development
from tests.detect.seeds import ORDER, Store, replay, seed_comments, seed_input

CATEGORIES = {
    "missile_launch",
    "ministerial_meeting",
    "summit",
    "military_exercise",
    "nuclear_test",
    "sanctions",
}


def only(store: Store, category: str) -> Development:
    found = store.of(category)
    assert len(found) == 1, [d.title for d in found]
    return found[0]


def evidence(store: Store, development: Development) -> set[str]:
    assert development.id is not None
    return set(store.evidence[development.id])


def alerts(store: Store, development: Development) -> list[str]:
    return [kind for dev_id, kind in store.alerts if dev_id == development.id]


@pytest.fixture(scope="module")
def store(ruleset: detect.RuleSet) -> Store:
    return replay(ruleset)


def test_exactly_the_four_developments(store: Store) -> None:
    categories = sorted(d.category for d in store.developments.values() if d.category in CATEGORIES)
    assert categories == ["military_exercise", "ministerial_meeting", "missile_launch", "summit"]


def test_missile_launch(store: Store) -> None:
    launch = only(store, "missile_launch")
    assert (launch.status, launch.background, launch.event_date) == (
        "occurred",
        False,
        date(2026, 1, 27),
    )
    assert "North Korea" in launch.actors
    facts = launch.facts
    assert (facts["count"], facts["apogee_km"], facts["range_km"]) == (2, 80, 350)
    assert "northern Pyongyang" in facts["launch_site"]
    assert facts["local_time"] == "15:50"
    impact = facts["impact_area"].lower()
    assert "outside" in impact and ("eez" in impact or "exclusive economic zone" in impact)
    assert "japan" in impact
    assert evidence(store, launch) == {"000", "001", "004"}
    assert alerts(store, launch) == ["new"]


def test_ministerial_meeting(store: Store) -> None:
    meeting = only(store, "ministerial_meeting")
    assert (meeting.status, meeting.background) == ("occurred", False)
    assert (meeting.event_date, meeting.place) == (date(2026, 1, 30), "Yokosuka")
    assert {"Shinjiro Koizumi", "Ahn Gyu-back"} <= set(meeting.actors)
    assert evidence(store, meeting) == {"000", "001", "002", "003", "004"}
    assert alerts(store, meeting) == ["new", "status_change"]
    planned = {m.article_key for c in store.changes for m in c.evidence if m.status == "planned"}
    held = {
        m.article_key
        for c in store.changes
        for m in c.evidence
        if m.category == "ministerial_meeting" and m.status == "occurred"
    }
    assert {"000", "001", "004"} <= planned and held == {"002", "003"}


def test_meeting_outcomes(store: Store) -> None:
    outcomes = " | ".join(only(store, "ministerial_meeting").facts["outcomes"]).lower()
    for outcome in ("reciprocal visits", "search and rescue", "artificial intelligence", "drones"):
        assert outcome in outcomes
    assert "did not reach a consensus" in outcomes


def test_summit_is_background(store: Store) -> None:
    summit = only(store, "summit")
    assert (summit.status, summit.background) == ("occurred", True)
    assert (summit.event_date, summit.place) == (date(2026, 1, 13), "Nara")
    assert {"Lee Jae-myung", "Sanae Takaichi"} <= set(summit.actors)
    assert evidence(store, summit) == {"000", "001", "002", "003", "004"}
    assert alerts(store, summit) == []


def test_search_and_rescue_exercise_agreed(store: Store) -> None:
    exercise = only(store, "military_exercise")
    assert (exercise.status, exercise.background) == ("planned", False)
    assert evidence(store, exercise) == {"002", "003"}
    assert alerts(store, exercise) == ["new"]


def test_four_alerts(store: Store) -> None:
    assert len(store.alerts) == 4


def test_reverse_order_gives_the_same_developments(ruleset: detect.RuleSet, store: Store) -> None:
    backwards = replay(ruleset, tuple(reversed(ORDER)))

    def summary(s: Store) -> list[tuple[object, ...]]:
        return sorted(
            (d.category, d.status, d.background, d.event_date, d.place, frozenset(d.actors))
            for d in s.developments.values()
        )

    assert summary(backwards) == summary(store)


def test_article_split_does_not_matter(ruleset: detect.RuleSet) -> None:
    """The same seeds with no title (all text in the body) make the same matches."""
    for number in ORDER:
        item = seed_input(number)
        whole = replace(item, title="", text=f"{item.title}\n{item.text}")
        got = {(m.category, m.status, m.background) for m in detect.detect(ruleset, whole)}
        expected = {(m.category, m.status, m.background) for m in detect.detect(ruleset, item)}
        assert got == expected, number


def test_second_replay_raises_no_alert(ruleset: detect.RuleSet, store: Store) -> None:
    known = list(store.developments.values())
    for number in ORDER:
        changes = detect.assign(detect.detect(ruleset, seed_input(number)), known)
        assert all(c.alert is None for c in changes)
        assert all(not c.is_new for c in changes)


def test_reader_comments_are_harmless(ruleset: detect.RuleSet) -> None:
    item = replace(seed_input("001"), key="comments", title="", text=seed_comments())
    assert detect.detect(ruleset, item) == []
