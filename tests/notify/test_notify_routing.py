"""Tag routing: topics, regions and levels, OR within a kind, AND across kinds."""

from __future__ import annotations

import pytest

import notify
from core.model import Target
from tests.notify.notifykit import make_alert


def _target(*tags: str) -> Target:
    return Target(
        key="|".join(tags) or "untagged", url="json://x", display="json://x", tags=frozenset(tags)
    )


LAUNCH_KOREA_HIGH = make_alert(
    category="missile_launch", level="high", tags=("region:korean_peninsula",)
)
SUMMIT_JAPAN_LOW = make_alert(category="summit", level="low", tags=("region:japan", "diplomacy"))


@pytest.mark.parametrize(
    ("tags", "launch", "summit"),
    [
        ((), True, True),  # untagged: everything
        (("all",), True, True),
        (("missile_launch",), True, False),
        (("MISSILE_LAUNCH",), True, False),  # tags compare case-insensitively
        (("missile_launch", "summit"), True, True),  # OR within topics
        (("diplomacy",), False, True),  # a bare tag also matches the alert's own bare tags
        (("region:japan",), False, True),
        (("region:japan", "region:korean_peninsula"), True, True),  # OR within regions
        (("missile_launch", "region:japan"), False, False),  # AND across kinds
        (("summit", "region:japan"), False, True),
        (("level:high",), True, False),  # a floor: high and critical
        (("level:low",), True, True),
        (("level:critical",), False, False),
        (("level:critical", "level:medium"), True, False),  # several floors: the lowest applies
        (("all", "level:medium"), True, False),
        (("missile_launch", "level:critical"), False, False),
        (("nuclear_test",), False, False),  # a subscriber whose tags match nothing gets nothing
        (("digest",), True, True),  # schedule tags do not filter
        (("quiet:22-07", "tz:Asia/Seoul", "digest:hourly"), True, True),
        (("team:ops",), True, True),  # free labels do not filter
        (("team:ops", "summit"), False, True),
    ],
)
def test_routing_table(tags: tuple[str, ...], launch: bool, summit: bool) -> None:
    target = _target(*tags)
    assert (notify.route(LAUNCH_KOREA_HIGH, [target]) == [target]) is launch
    assert (notify.route(SUMMIT_JAPAN_LOW, [target]) == [target]) is summit


def test_route_keeps_order_and_returns_only_matches() -> None:
    a, b, c = _target("missile_launch"), _target("summit"), _target()
    assert notify.route(LAUNCH_KOREA_HIGH, [a, b, c]) == [a, c]
    assert notify.route(LAUNCH_KOREA_HIGH, []) == []


def test_critical_alert_passes_every_floor() -> None:
    critical = make_alert(level="critical")
    for level in ("low", "medium", "high", "critical"):
        assert notify.route(critical, [_target(f"level:{level}")])


@pytest.mark.parametrize("tag", ["level:urgent", "level:", "region:"])
def test_malformed_routing_tags_are_rejected(tag: str) -> None:
    with pytest.raises(ValueError, match=r"level|region"):
        notify.parse_interest([tag])


@pytest.mark.parametrize("tag", ["quite:22-07", "colour:red", "regoin:japan"])
def test_a_tag_of_no_known_kind_is_rejected_not_ignored(tag: str) -> None:
    # Ignoring it would leave the subscriber without the filter or quiet hours it asked for.
    with pytest.raises(ValueError, match="unknown tag"):
        notify.parse_interest([tag])
    with pytest.raises(ValueError, match="unknown tag"):
        notify.parse_schedule([tag])


def test_with_tag_selects_targets_for_alerts_test() -> None:
    a, b, c = _target("summit", "team:ops"), _target("missile_launch"), _target()
    assert notify.with_tag([a, b, c], "TEAM:ops") == [a]
    assert notify.with_tag([a, b, c], "nothing") == []
    assert notify.with_tag([a, b, c], None) == [a, b, c]


# A launch as the shipped rules raise it: the rule's tag says east-asia, the development's
# actors and places say where it is.
LAUNCH_BY_REGIONS = make_alert(tags=("region:east-asia",), regions=("korea", "north-korea"))
MEETING_BY_REGIONS = make_alert(
    category="ministerial_meeting", tags=("region:east-asia",), regions=("japan", "korea")
)


@pytest.mark.parametrize(
    ("tags", "launch", "meeting"),
    [
        (("region:korea",), True, True),
        (("region:north-korea",), True, False),
        (("region:japan",), False, True),
        (("region:Japan",), False, True),  # case-insensitive, as every tag
        (("region:china",), False, False),
        (("region:east-asia",), True, True),  # the rules' own region tag still selects all
        (("region:japan", "missile_launch"), False, False),  # AND across kinds
        (("region:japan", "region:north-korea"), True, True),  # OR within regions
    ],
)
def test_region_tags_route_on_the_developments_regions(
    tags: tuple[str, ...], launch: bool, meeting: bool
) -> None:
    target = _target(*tags)
    assert (notify.route(LAUNCH_BY_REGIONS, [target]) == [target]) is launch
    assert (notify.route(MEETING_BY_REGIONS, [target]) == [target]) is meeting
