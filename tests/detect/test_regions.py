"""Regions: declared in the alias file, carried by states and places, inherited through a
country or an enclosing place, and derived for each match from the entities it resolved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.errors import ConfigValidationError
from core.model import DetectionInput, NewRef
from tests.detect.conftest import LAUNCH_RULE

ALIASES = """
regions: [korea, north-korea, japan]
states:
  - name: North Korea
    aliases: [DPRK]
    region: [korea, north-korea]
  - name: Japan
    region: japan
  - name: Mongolia
people:
  - {name: Kim Jong Un, country: North Korea, role: leader}
places:
  - {name: Sunan, country: North Korea, within: Pyongyang}
  - {name: Pyongyang, country: North Korea}
  - {name: Hakone, within: Kanagawa}
  - {name: Kanagawa, country: Japan}
  - {name: Dokdo, region: [korea, japan]}
  - {name: Ulaanbaatar, country: Mongolia}
"""


def load(aliases: str) -> detect.RuleSet:
    return detect.load_ruleset({"r.yaml": LAUNCH_RULE}, {"entities.yaml": aliases})


def errors(aliases: str) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        load(aliases)
    return [str(e) for e in caught.value.errors]


def test_entities_take_their_own_region_or_their_countrys_or_their_enclosing_places() -> None:
    table = load(ALIASES).entities
    assert table.region_of["North Korea"] == ("korea", "north-korea")
    assert table.region_of["Kim Jong Un"] == ("korea", "north-korea")  # a person: the country's
    assert table.region_of["Sunan"] == ("korea", "north-korea")
    assert table.region_of["Hakone"] == ("japan",)  # no country: the place it is within
    assert table.region_of["Dokdo"] == ("korea", "japan")  # no country: its own
    assert "Ulaanbaatar" not in table.region_of  # a country without a region gives none
    assert table.carried_regions() == {"korea", "north-korea", "japan"}


@pytest.mark.parametrize(
    ("region_line", "expected"),
    [
        ("    region: kroea", "entities.yaml:6: unknown region 'kroea' (did you mean 'korea'?)"),
        (
            "    region: [korea, atlantis]",
            "entities.yaml:6: unknown region 'atlantis' (declare it under regions:)",
        ),
        (
            "    region: North Korea",
            "entities.yaml:6: malformed region 'North Korea' (lower-case words joined by "
            "hyphens, e.g. 'north-korea')",
        ),
        ("    region: {korea: 1}", "entities.yaml:6: region of North Korea must be a list of"),
    ],
)
def test_a_bad_region_is_an_error_at_its_line(region_line: str, expected: str) -> None:
    aliases = ALIASES.replace("    region: [korea, north-korea]", region_line)
    found = errors(aliases)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_the_declared_regions_are_checked_too() -> None:
    declared = "regions: [korea, north-korea, japan]"
    aliases = ALIASES.replace(declared, declared.replace("]", ", Japan_, korea]"))
    assert errors(aliases) == [
        "entities.yaml:2: malformed region 'Japan_' (lower-case words joined by hyphens, "
        "e.g. 'north-korea')",
        "entities.yaml:2: region 'korea' is declared twice",
    ]


def test_a_region_on_a_person_is_an_unknown_key() -> None:
    aliases = ALIASES.replace(
        "  - {name: Kim Jong Un, country: North Korea, role: leader}",
        "  - {name: Kim Jong Un, country: North Korea, role: leader, region: korea}",
    )
    (found,) = errors(aliases)
    assert found.startswith("entities.yaml:11: unknown key 'region' in person")


def article(text: str) -> DetectionInput:
    return DetectionInput("a", "", text, datetime(2026, 1, 28, 9, tzinfo=UTC))


def regions_by_category(ruleset: detect.RuleSet, text: str) -> dict[str, tuple[str, ...]]:
    return {m.category: m.regions for m in detect.detect(ruleset, article(text))}


def test_a_north_korean_launch_is_in_korea_and_north_korea(ruleset: detect.RuleSet) -> None:
    found = regions_by_category(
        ruleset, "North Korea fired two ballistic missiles on Tuesday, Seoul's military said."
    )
    assert found["missile_launch"] == ("korea", "north-korea")


def test_a_meeting_takes_the_regions_of_its_participants_and_place(
    ruleset: detect.RuleSet,
) -> None:
    found = regions_by_category(
        ruleset,
        "Japanese Defense Minister Shinjiro Koizumi and South Korean Defense Minister "
        "Ahn Gyu-back held talks at Yokosuka on Friday.",
    )
    assert found["ministerial_meeting"] == ("japan", "korea", "south-korea")


def test_a_place_alone_gives_its_regions(ruleset: detect.RuleSet) -> None:
    found = regions_by_category(
        ruleset,
        "Chinese coast guard ships fired water cannon at a Philippine supply boat near "
        "Second Thomas Shoal on Tuesday.",
    )
    assert set(found["maritime_incident"]) >= {"china", "philippines", "southeast-asia"}


def test_a_development_has_the_union_of_its_matches_regions(ruleset: detect.RuleSet) -> None:
    seoul = detect.detect(
        ruleset, article("North Korea fired two ballistic missiles on Tuesday, Seoul said.")
    )
    tokyo = detect.detect(
        ruleset,
        DetectionInput(
            "b",
            "",
            "North Korea fired two ballistic missiles on Tuesday that fell in the Sea of Japan.",
            datetime(2026, 1, 28, 10, tzinfo=UTC),
        ),
    )
    changes = detect.assign([*seoul, *tokyo], [])
    launch = [c.development for c in changes if c.development.category == "missile_launch"]
    assert launch[-1].regions == ("japan", "korea", "north-korea")
    assert {c.ref for c in changes if c.development.category == "missile_launch"} == {NewRef(1)}
