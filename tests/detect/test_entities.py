"""Entity aliases: spelling variants, romanisation, guarded fuzzy matching, coreference."""

from __future__ import annotations

import pytest

import detect
from core.model import DetectionInput
from detect.engine.scan import scan_article
from detect.rules.aliases import EntityMention
from detect.text.names import name_key


def mentions(ruleset: detect.RuleSet, text: str) -> list[EntityMention]:
    scan = scan_article(ruleset, DetectionInput("t", "", text, None, dated=False))
    return [m for sentence in scan.entities for m in sentence]


def people(ruleset: detect.RuleSet, text: str) -> list[str]:
    return [m.name for m in mentions(ruleset, text) if m.kind == "person"]


@pytest.mark.parametrize(
    "spelling",
    ["Ahn Gyu-back", "Ahn Gyu Back", "Ahn Gyu-bak", "Ahn Kyu Baek", "AHN GYU-BACK", "안규백"],
)
def test_ahn_gyu_back_spellings(ruleset: detect.RuleSet, spelling: str) -> None:
    assert people(ruleset, f"Defense Minister {spelling} arrived.") == ["Ahn Gyu-back"]


def test_fuzzy_fallback_needs_the_surname(ruleset: detect.RuleSet) -> None:
    assert people(ruleset, "Prime Minister Sanaa Takaichi spoke.") == ["Sanae Takaichi"]
    found = people(ruleset, "Coach Kim Gyu-back spoke.")
    assert "Ahn Gyu-back" not in found


def test_lee_jae_myung_spellings(ruleset: detect.RuleSet) -> None:
    assert people(ruleset, "Lee Jae Myung met Lee Jae-myung and 이재명.") == ["Lee Jae-myung"] * 3
    assert name_key("Lee Jae Myung") == name_key("Lee Jae-myung")
    assert name_key("Kim Gyu-back") != name_key("Ahn Gyu-back")


def test_surname_alone_refers_to_the_person_named_earlier(ruleset: detect.RuleSet) -> None:
    found = people(ruleset, "Shinjiro Koizumi met Ahn Gyu-back. Later, Koizumi thanked Ahn.")
    assert found == ["Shinjiro Koizumi", "Ahn Gyu-back", "Shinjiro Koizumi", "Ahn Gyu-back"]


def test_a_surname_alone_is_nobody_without_an_earlier_full_name(ruleset: detect.RuleSet) -> None:
    assert people(ruleset, "Koizumi won the race.") == []


def test_abe_is_not_a_person_alias(ruleset: detect.RuleSet) -> None:
    assert people(ruleset, "Abe Lincoln met Abe, the coach.") == []


def test_titled_unknown_person_gets_the_role_of_the_title(ruleset: detect.RuleSet) -> None:
    found = [(m.name, m.role) for m in mentions(ruleset, "Defense Minister Nobuo Kishi spoke.")]
    assert ("Nobuo Kishi", "minister") in found


def test_former_office_is_not_an_office(ruleset: detect.RuleSet) -> None:
    found = mentions(ruleset, "former Japanese Defense Minister Nobuo Kishi visited Seoul.")
    assert [(m.name, m.role) for m in found if m.kind == "person"] == [("Nobuo Kishi", "former")]


def test_lower_case_title_introduces_no_name(ruleset: detect.RuleSet) -> None:
    assert people(ruleset, "The company president John Smith resigned.") == []


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("N. Korea fired", "North Korea"),
        ("the DPRK said", "North Korea"),
        ("북한이", "North Korea"),
        ("北朝鮮が", "North Korea"),
        ("朝鲜发射", "North Korea"),
        ("S.Korea and Japan", "South Korea"),
        ("the U.S. said", "United States"),
    ],
)
def test_state_aliases(ruleset: detect.RuleSet, text: str, state: str) -> None:
    assert state in [m.name for m in mentions(ruleset, text)]


def test_us_only_in_capitals(ruleset: detect.RuleSet) -> None:
    assert "United States" not in [m.name for m in mentions(ruleset, "Tell us more.")]
    assert "United States" in [m.name for m in mentions(ruleset, "The US said so.")]


def test_capital_acts_for_its_state_unless_it_is_a_place(ruleset: detect.RuleSet) -> None:
    acting = mentions(ruleset, "Pyongyang fired a missile.")
    assert [(m.name, m.as_state) for m in acting] == [("Pyongyang", "North Korea")]
    place = mentions(ruleset, "It was launched from northern Pyongyang.")
    assert [(m.name, m.as_state) for m in place] == [("Pyongyang", None)]


def test_longest_alias_wins(ruleset: detect.RuleSet) -> None:
    found = [
        m.name
        for m in mentions(ruleset, "It fell into the Sea of Japan near the Korean Peninsula.")
    ]
    assert found == ["Sea of Japan", "Korean Peninsula"]
