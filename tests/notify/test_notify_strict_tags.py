"""Strict subscriber config: every tag known, well formed and producible, or an error at its line.

Real files throughout: the subscriber configs are written to disk, the shipped rules and the
shipped `deploy/subscribers.yaml` are read from the repository.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

import notify
from core.errors import ConfigError, ConfigValidationError
from notify.targets.tags import PREFIXES, WORDS, Kind
from tests.notify.notifykit import SHIPPED_SUBSCRIBERS, set_shipped_secrets

ROOT = Path(__file__).resolve().parents[2]

# What rule files like the shipped ones produce; the shipped ones are read further down.
CATEGORIES = ("missile_launch", "nuclear_test", "summit", "ministerial_meeting")
REGIONS = ("region:east-asia",)


def _write(tmp_path: Path, text: str, name: str = "subscribers.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def _one_tag(tmp_path: Path, tag: str) -> str:
    """A config whose only subscriber has `tag`, written on line 4."""
    name = f"{tag.replace(':', '-').replace('/', '-')}.yaml"
    return _write(
        tmp_path,
        f"""
        version: 1
        urls:
          - json://127.0.0.1:8001/hook:
              - tag: summit, {tag}
        """,
        name,
    )


def test_every_kind_but_topic_is_named_in_the_vocabulary() -> None:
    # A kind no word or prefix names could never be written; a bare word is a topic.
    assert {*WORDS.values(), *PREFIXES.values()} == set(Kind) - {Kind.TOPIC}


def _error(path: str, **produced: tuple[str, ...]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        notify.load_targets(path, **produced)
    return caught.value


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("quite:22-07", "unknown tag 'quite:22-07' (did you mean 'quiet:22-07'?)"),
        ("digets", "unknown tag 'digets' (did you mean 'digest'?)"),
        ("al", "unknown tag 'al' (did you mean 'all'?)"),
        ("levle:high", "unknown tag 'levle:high' (did you mean 'level:high'?)"),
        ("level:hgih", "unknown level 'hgih' in tag 'level:hgih' (did you mean 'level:high'?)"),
        (
            "tz:Asia/Soel",
            "unknown time zone 'Asia/Soel' in tag 'tz:Asia/Soel' (did you mean 'tz:Asia/Seoul'?)",
        ),
        ("digest:dialy", "malformed tag 'digest:dialy' (did you mean 'digest:daily'?)"),
        (
            "digest:daily@27",
            "no such hour '27' in tag 'digest:daily@27' (use 00 to 23)",
        ),
        (
            "quiet:25-07",
            "no such time of day '25' in tag 'quiet:25-07' (hours 00-23, minutes 00-59)",
        ),
        ("quiet:22to07", "malformed tag 'quiet:22to07' (use quiet:HH-HH or quiet:HH:MM-HH:MM)"),
    ],
)
def test_a_misspelt_tag_fails_with_file_line_and_a_suggestion(
    tmp_path: Path, tag: str, reason: str
) -> None:
    path = _one_tag(tmp_path, tag)
    for produced in ({}, {"categories": CATEGORIES, "regions": REGIONS}):
        error = _error(path, **produced)
        assert str(error) == f"{path}:4: {reason}"


def test_a_category_no_rule_produces_fails(tmp_path: Path) -> None:
    path = _one_tag(tmp_path, "missle_launch")
    assert _error(path, categories=CATEGORIES).reason == (
        "unknown tag 'missle_launch' (did you mean 'missile_launch'?)"
    )
    far = _one_tag(tmp_path, "weather")
    assert _error(far, categories=CATEGORIES).reason == (
        "unknown tag 'weather' (no loaded rule has this category; categories: "
        "ministerial_meeting, missile_launch, nuclear_test, summit)"
    )
    # Unknown categories are not checked without the rules' list: callers that pass none keep
    # today's behaviour.
    assert notify.load_targets(path).targets[0].tags == {"summit", "missle_launch"}


def test_a_region_no_rule_emits_fails(tmp_path: Path) -> None:
    path = _one_tag(tmp_path, "region:korea")
    assert _error(path, regions=REGIONS).reason == (
        "unknown region in tag 'region:korea' (no rule or entity carries it; regions: east-asia)"
    )
    near = _one_tag(tmp_path, "region:east_asia")
    assert _error(near, regions=["east-asia"]).reason == (
        "unknown region in tag 'region:east_asia' (did you mean 'region:east-asia'?)"
    )
    assert notify.load_targets(path).targets[0].tags == {"summit", "region:korea"}


def test_every_problem_is_reported_at_once_each_at_its_own_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        tag: team:ops, levle:high
        urls:
          - json://127.0.0.1:8001/a:
              - tag: missile_launch, quite:22-07
          - json://127.0.0.1:8002/b
          - nosuch://127.0.0.1/c
          - json://127.0.0.1:8003/d:
              tags:
                - region:korea
                - summit
                - tz:Asia/Soel
          - mailto://127.0.0.1:8025:
              - to: a@example.com
                from: alerts@example.com
                tag: digets
              - to: b@example.com
                from: alerts@example.com
                tag: level:hgih
        """,
    )
    with pytest.raises(ConfigValidationError) as caught:
        notify.load_targets(path, categories=CATEGORIES, regions=REGIONS)
    assert [(e.line, e.reason.split(" (")[0]) for e in caught.value.errors] == [
        (2, "unknown tag 'levle:high'"),
        (5, "unknown tag 'quite:22-07'"),
        (7, "unknown Apprise schema nosuch://"),
        (10, "unknown region in tag 'region:korea'"),
        (12, "unknown time zone 'Asia/Soel' in tag 'tz:Asia/Soel'"),
        (16, "unknown tag 'digets'"),
        (19, "unknown level 'hgih' in tag 'level:hgih'"),
    ]
    assert all(e.path == path for e in caught.value.errors)


def test_two_tags_of_one_schedule_kind_fail_at_the_entry(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        urls:
          - json://127.0.0.1:8001/a:
              - tag: quiet:22-07, quiet:01-03
        """,
    )
    error = _error(path)
    assert (error.line, error.reason) == (2, "more than one quiet tag")


def test_a_valid_config_passes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        version: 1
        tag: label:desk-7
        urls:
          - json://127.0.0.1:8001/a
          - json://127.0.0.1:8002/b:
              - tag: all, level:HIGH, quiet:22:30-06:45, tz:Asia/Seoul
          - json://127.0.0.1:8003/c:
              tags: [missile_launch, nuclear_test, region:East-Asia, digest:daily@07, team:ops]
          - json://127.0.0.1:8004/d:
              tag: digest
        """,
    )
    targets = notify.load_targets(path, categories=CATEGORIES, regions=["east-asia"]).targets
    assert [sorted(t.tags) for t in targets] == [
        ["label:desk-7"],
        ["all", "label:desk-7", "level:high", "quiet:22:30-06:45", "tz:asia/seoul"],
        [
            "digest:daily@07",
            "label:desk-7",
            "missile_launch",
            "nuclear_test",
            "region:east-asia",
            "team:ops",
        ],
        ["digest", "label:desk-7"],
    ]


def test_a_tag_from_the_environment_is_masked_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WF_TEST_DESK", "quite:WFSECRET-desk")
    path = _write(
        tmp_path,
        """
        urls:
          - json://127.0.0.1:8001/a:
              tag: summit, ${WF_TEST_DESK}
        """,
    )
    error = _error(path)
    assert error.line == 3
    assert "WFSECRET" not in str(error)
    assert "did you mean 'quiet:****'?" in error.reason


# --- the shipped files ----------------------------------------------------------------------


def _shipped_rules() -> list[dict[str, Any]]:
    """Every rule of rules/*.yaml (rules/README.md: entities*.yaml and common.yaml hold none)."""
    rules: list[dict[str, Any]] = []
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        if path.name.startswith("entities") or path.name == "common.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules += data if isinstance(data, list) else [data]
    return rules


def shipped_categories() -> set[str]:
    return {str(rule["category"]) for rule in _shipped_rules()}


def shipped_regions() -> set[str]:
    """The rules' region tags and the regions rules/entities.yaml declares."""
    tags = {str(tag) for rule in _shipped_rules() for tag in rule.get("tags", [])}
    entities = yaml.safe_load((ROOT / "rules" / "entities.yaml").read_text(encoding="utf-8"))
    return {tag for tag in tags if tag.startswith("region:")} | {
        f"region:{region}" for region in entities["regions"]
    }


def test_the_shipped_subscribers_pass_against_the_shipped_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_shipped_secrets(monkeypatch)
    categories, regions = shipped_categories(), shipped_regions()
    assert {"missile_launch", "summit", "ministerial_meeting", "nuclear_test"} <= categories
    assert {"region:east-asia", "region:korea", "region:japan"} <= regions
    config = str(SHIPPED_SUBSCRIBERS)
    targets = notify.load_targets(config, categories=categories, regions=regions).targets
    assert len(targets) == 4
