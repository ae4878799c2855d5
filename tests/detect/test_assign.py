"""Identity resolution and alert decisions, on hand-made matches."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

import detect
from core.model import Development, Match, NewRef, StoredRef

BASE = Match(
    article_key="a1",
    rule_id="missile_launch",
    category="missile_launch",
    status="occurred",
    background=False,
    event_date=date(2026, 1, 27),
    place=None,
    actors=("North Korea",),
    facts={"count": 2},
    terms=("fired",),
    snippet="North Korea fired two missiles.",
    level="high",
    tags=(),
    title="North Korea fires 2 missile(s)",
)


def test_one_event_in_several_articles_is_one_development() -> None:
    matches = [
        BASE,
        replace(BASE, article_key="a2", event_date=date(2026, 1, 28)),  # a day off: time zones
        replace(BASE, article_key="a3", event_date=None, facts={"count": 2, "apogee_km": 80}),
    ]
    changes = detect.assign(matches, [])
    assert [c.ref for c in changes] == [NewRef(1), NewRef(1), NewRef(1)]
    assert [c.alert for c in changes] == ["new", None, None]
    assert changes[-1].development.facts == {"count": 2, "apogee_km": 80}
    assert [len(c.evidence) for c in changes] == [1, 1, 1]


def test_a_development_is_compared_as_the_matches_joined_so_far_left_it() -> None:
    # Undated and placeless at first, so any launch by North Korea joins it; once a report
    # gave it a day and a place, a report of another day or place is another event.
    first = replace(BASE, event_date=None)
    placed = replace(BASE, article_key="a2", place="East Sea")
    elsewhere = replace(BASE, article_key="a3", event_date=None, place="Yellow Sea")
    week_later = replace(BASE, article_key="a4", event_date=date(2026, 2, 3), place="East Sea")
    changes = detect.assign([first, placed, elsewhere, week_later], [])
    assert [c.ref for c in changes] == [NewRef(1), NewRef(1), NewRef(2), NewRef(3)]


def test_a_stored_development_is_compared_as_the_batch_left_it() -> None:
    stored = Development(
        category="missile_launch",
        status="occurred",
        background=False,
        title="North Korea fires missiles",
        event_date=None,
        place=None,
        actors=("North Korea",),
        facts={},
        level="high",
        tags=(),
        id=7,
    )
    dated = replace(BASE, article_key="a2")
    week_later = replace(BASE, article_key="a3", event_date=date(2026, 2, 3))
    changes = detect.assign([dated, week_later], [stored])
    assert [c.ref for c in changes] == [StoredRef(7), NewRef(1)]


def test_two_launches_a_week_apart_are_two_developments() -> None:
    later = replace(BASE, article_key="a2", event_date=date(2026, 2, 3))
    changes = detect.assign([BASE, later], [])
    assert [c.ref for c in changes] == [NewRef(1), NewRef(2)]
    assert [c.alert for c in changes] == ["new", "new"]


def test_different_actors_are_different_developments() -> None:
    other = replace(BASE, article_key="a2", actors=("China",))
    assert [c.ref for c in detect.assign([BASE, other], [])] == [NewRef(1), NewRef(2)]


def test_planned_then_held_in_one_batch() -> None:
    meeting = replace(
        BASE,
        rule_id="ministerial_meeting",
        category="ministerial_meeting",
        status="planned",
        event_date=date(2026, 1, 30),
        place="Yokosuka",
        actors=("Shinjiro Koizumi", "Ahn Gyu-back"),
        facts={},
    )
    held = replace(meeting, article_key="a2", status="occurred", event_date=None)
    late = replace(meeting, article_key="a3")
    changes = detect.assign([meeting, held, late], [])
    assert [
        (c.ref, c.is_new, c.previous_status, c.development.status, c.alert) for c in changes
    ] == [
        (NewRef(1), True, None, "planned", "new"),
        (NewRef(1), False, "planned", "occurred", "status_change"),
        (NewRef(1), False, "occurred", "occurred", None),
    ]
    assert changes[0].development.status == "planned"  # a snapshot, not the live object


def test_stored_developments_are_joined_by_id() -> None:
    stored = Development(
        category="missile_launch",
        status="occurred",
        background=False,
        title="North Korea fires 2 missile(s)",
        event_date=date(2026, 1, 27),
        place=None,
        actors=("North Korea",),
        facts={"count": 2},
        level="high",
        tags=(),
        id=7,
    )
    (change,) = detect.assign([BASE], [stored])
    assert (change.ref, change.is_new, change.alert) == (StoredRef(7), False, None)
    # A known development is a stored one: one without an id is refused, not given a ref.
    with pytest.raises(ValueError, match="has no id"):
        detect.assign([BASE], [replace(stored, id=None)])


def test_background_never_alerts_until_it_becomes_news() -> None:
    context = replace(BASE, background=True, event_date=date(2026, 1, 10))
    news = replace(BASE, article_key="a2", event_date=date(2026, 1, 10))
    changes = detect.assign([context, news], [])
    assert [(c.development.background, c.alert) for c in changes] == [(True, None), (False, "new")]


def test_one_article_two_matches_one_development_one_change() -> None:
    second = replace(BASE, rule_id="satellite_launch", facts={"range_km": 350})
    (change,) = detect.assign([BASE, second], [])
    assert len(change.evidence) == 2
    assert change.development.facts == {"count": 2, "range_km": 350}


def test_list_facts_are_unioned_and_scalars_keep_the_first_value() -> None:
    first = replace(BASE, facts={"count": 2, "outcomes": ["a"]})
    second = replace(BASE, article_key="a2", facts={"count": 3, "outcomes": ["a", "b"]})
    changes = detect.assign([first, second], [])
    assert changes[-1].development.facts == {"count": 2, "outcomes": ["a", "b"]}


def test_scoring_against_labels() -> None:
    positive = replace(BASE, article_key="a1")
    background = replace(BASE, article_key="a2", background=True)
    planned = replace(BASE, article_key="a3", status="planned")
    predicted = {
        m.article_key: detect.reported_categories([m]) for m in (positive, background, planned)
    }
    labels = {
        "a1": frozenset({"missile_launch"}),
        "a2": frozenset({"missile_launch"}),
        "a3": frozenset(),
        "a4": frozenset({"summit"}),
    }
    result = detect.score(predicted, labels)
    assert result.micro.true_positives == 1
    assert result.misses == (("a2", "missile_launch"), ("a4", "summit"))
    assert result.false_alarms == ()
    launch = next(s for s in result.categories if s.category == "missile_launch")
    assert (launch.precision, launch.recall) == (1.0, 0.5)
