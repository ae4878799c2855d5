"""Bad rule or alias files fail at load with every error, each with file, line and reason."""

from __future__ import annotations

import pytest

import detect
from core.errors import ConfigValidationError
from tests.detect.conftest import LAUNCH_RULE

ALIASES = {
    "entities.yaml": """
states:
  - name: North Korea
    aliases: [DPRK]
""",
}
GOOD = LAUNCH_RULE  # a valid rule the tests here break one way at a time


def errors(rules: dict[str, str], aliases: dict[str, str] = ALIASES) -> list[str]:
    with pytest.raises(ConfigValidationError) as caught:
        detect.load_ruleset(rules, aliases)
    return [str(e) for e in caught.value.errors]


def test_a_good_rule_loads() -> None:
    ruleset = detect.load_ruleset({"r.yaml": GOOD}, ALIASES)
    assert [r.id for r in ruleset.rules] == ["launch"]


def test_every_error_is_reported_at_once_with_file_and_line() -> None:
    bad = """
id: Bad-Id
category: missile_launch
title: "{actor} fires {nonsense}"
level: severe
colour: red
selections:
  launch: {any: [fired], modifiers: [fuzzy]}
  pattern: {any: ["(unclosed"], modifiers: [regex]}
condition: launch and (weapon or
support: launch and ghost
default_status: maybe
facts: [count, shoe_size]
examples:
  positive: ["nothing"]
"""
    found = errors({"rules/bad.yaml": bad})
    text = "\n".join(found)
    for expected in (
        "rules/bad.yaml:2: id must be lower_snake_case",
        "rules/bad.yaml:4: title uses unknown field 'nonsense'",
        "rules/bad.yaml:5: level must be one of",
        "rules/bad.yaml:6: unknown key 'colour'",
        "rules/bad.yaml:8: unknown modifier 'fuzzy'",
        "rules/bad.yaml:9: bad regex '(unclosed'",
        "rules/bad.yaml:10: bad condition",
        "rules/bad.yaml:11: support uses unknown selection 'ghost'",
        "rules/bad.yaml:12: default_status must be one of",
        "rules/bad.yaml:13: unknown built-in fact 'shoe_size'",
    ):
        assert expected in text, (expected, found)


def test_unknown_selection_in_condition() -> None:
    rule = GOOD.replace("launch and weapon", "launch and rocket")
    assert any(
        "r.yaml:8: condition uses unknown selection 'rocket'" in e for e in errors({"r.yaml": rule})
    )


def test_duplicate_rule_ids_across_files() -> None:
    found = errors({"a.yaml": GOOD, "b.yaml": GOOD})
    assert any(
        e.startswith("b.yaml:2: duplicate rule id 'launch' (also in a.yaml:2)") for e in found
    )


def test_yaml_syntax_error_has_a_line() -> None:
    found = errors({"r.yaml": "id: x\ncondition: [unclosed\n"})
    assert found[0].startswith("r.yaml:") and "invalid YAML" in found[0]


def test_broken_alias_and_rule_files_are_each_reported_and_loading_goes_on() -> None:
    """A syntax error skips only its own file: the other broken file and a good rule's
    problems (an alias it needs is gone) are still found in the same pass."""
    broken_aliases = {"entities.yaml": ALIASES["entities.yaml"], "extra.yaml": "states: [x\n"}
    found = errors({"a.yaml": "id: y\ncondition: {unclosed\n", "r.yaml": GOOD}, broken_aliases)
    assert [e.split(":")[0] for e in found if "invalid YAML" in e] == ["extra.yaml", "a.yaml"]
    assert not [e for e in found if e.startswith("r.yaml")]


def test_failing_examples_are_errors() -> None:
    rule = GOOD.replace(
        'positive: ["North Korea fired a missile."]', 'negative: ["They fired a missile."]'
    )
    found = errors({"r.yaml": rule})
    assert found == [
        "r.yaml:12: rule launch: negative example fails (occurred): 'They fired a missile.'"
    ]


def test_invalid_alias_file() -> None:
    aliases = {
        "entities.yaml": """
states:
  - name: North Korea
    aliases: [DPRK]
  - name: South Korea
    aliases: [DPRK]
people:
  - name: Ahn Gyu-back
    role: admiral
    country: Narnia
    colour: blue
places: not-a-list
"""
    }
    text = "\n".join(errors({"r.yaml": GOOD}, aliases))
    for expected in (
        "entities.yaml:6: alias 'DPRK' of 'South Korea' is already an alias of 'North Korea'",
        "entities.yaml:9: unknown role 'admiral'",
        "entities.yaml:10: 'Narnia' is not a known state",
        "entities.yaml:11: unknown key 'colour'",
        "entities.yaml:12: places must be a list",
    ):
        assert expected in text, (expected, text)


def test_shared_cues_defined_twice() -> None:
    common = "common:\n  negation: [not]\n"
    found = errors({"c1.yaml": common, "c2.yaml": common, "r.yaml": GOOD})
    assert any("c2.yaml:1: shared cues are already defined in c1.yaml" in e for e in found)
