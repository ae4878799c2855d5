"""Digests and quiet hours, with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import notify
from core.model import Target

SEOUL = ZoneInfo("Asia/Seoul")


def _target(*tags: str) -> Target:
    return Target(key="k", url="json://x", display="json://x", tags=frozenset(tags))


def _seoul(hour: int, minute: int = 0, day: int = 28) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=SEOUL)


def test_schedule_tags_parse() -> None:
    schedule = notify.parse_schedule(["digest:daily@07", "quiet:22:30-06:45", "tz:asia/seoul"])
    assert schedule.digest == "daily"
    assert schedule.digest_hour == 7
    assert schedule.quiet == (time(22, 30), time(6, 45))
    assert schedule.tz == SEOUL  # Apprise lower-cases tags; zones are found anyway
    assert notify.parse_schedule(["digest"]).digest == "daily"
    assert notify.parse_schedule(["digest:hourly"]).digest == "hourly"
    assert notify.parse_schedule([]) == notify.Schedule()


@pytest.mark.parametrize(
    "tags",
    [
        ["digest:weekly"],
        ["digest:hourly@07"],
        ["digest:daily@25"],
        ["digest", "digest:hourly"],
        ["quiet:22"],
        ["quiet:25-07"],
        ["quiet:22-22"],
        ["quiet:22-07", "quiet:01-02"],
        ["tz:Mars/Olympus"],
        ["tz:Asia/Seoul", "tz:Asia/Tokyo"],
    ],
)
def test_malformed_schedule_tags_are_rejected(tags: list[str]) -> None:
    with pytest.raises(ValueError):
        notify.parse_schedule(tags)


def test_quiet_hours_span_midnight_in_the_subscribers_zone() -> None:
    target = _target("quiet:22-07", "tz:Asia/Seoul")
    assert notify.is_quiet(target, _seoul(23))
    assert notify.is_quiet(target, _seoul(2))
    assert notify.is_quiet(target, _seoul(22))  # start is inside
    assert not notify.is_quiet(target, _seoul(7))  # end is outside
    assert not notify.is_quiet(target, _seoul(12))
    # the same instant seen from UTC: 14:00 UTC is 23:00 in Seoul
    assert notify.is_quiet(target, datetime(2026, 1, 28, 14, 0, tzinfo=UTC))
    assert not notify.is_quiet(_target(), _seoul(23))


def test_quiet_hours_within_one_day() -> None:
    target = _target("quiet:12:30-13:15")
    assert notify.is_quiet(target, datetime(2026, 1, 28, 12, 45, tzinfo=UTC))
    assert not notify.is_quiet(target, datetime(2026, 1, 28, 13, 15, tzinfo=UTC))


def test_quiet_hours_hold_non_critical_alerts_until_they_end() -> None:
    target = _target("quiet:22-07", "tz:Asia/Seoul")
    now = _seoul(23, 30)
    assert notify.next_send_time(target, now, "high") == _seoul(7, day=29)
    assert notify.next_send_time(target, _seoul(3), "low") == _seoul(7)
    assert notify.next_send_time(target, now, "critical") == now  # critical bypasses
    assert notify.next_send_time(target, _seoul(12), "low") == _seoul(12)
    assert notify.next_send_time(_target(), now, "low") == now


def test_result_is_in_the_zone_of_now() -> None:
    target = _target("quiet:22-07", "tz:Asia/Seoul")
    now = datetime(2026, 1, 28, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
    due = notify.next_send_time(target, now, "medium")
    assert due.tzinfo == UTC
    assert due == datetime(2026, 1, 28, 22, 0, tzinfo=UTC)  # 07:00 in Seoul


def test_hourly_digest_is_due_at_the_next_full_hour() -> None:
    target = _target("digest:hourly")
    assert notify.is_digest(target)
    now = datetime(2026, 1, 28, 10, 5, tzinfo=UTC)
    assert notify.next_send_time(target, now) == datetime(2026, 1, 28, 11, 0, tzinfo=UTC)
    on_the_hour = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)
    assert notify.next_send_time(target, on_the_hour) == datetime(2026, 1, 28, 11, 0, tzinfo=UTC)


def test_daily_digest_goes_out_at_its_local_hour() -> None:
    target = _target("digest:daily@07", "tz:Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    assert notify.next_send_time(target, datetime(2026, 1, 28, 9, 0, tzinfo=tokyo)) == datetime(
        2026, 1, 29, 7, 0, tzinfo=tokyo
    )
    assert notify.next_send_time(target, datetime(2026, 1, 28, 6, 0, tzinfo=tokyo)) == datetime(
        2026, 1, 28, 7, 0, tzinfo=tokyo
    )
    default = _target("digest")
    assert notify.next_send_time(default, datetime(2026, 1, 28, 9, 0, tzinfo=UTC)) == datetime(
        2026, 1, 29, 8, 0, tzinfo=UTC
    )


def test_digest_due_in_quiet_hours_waits_for_their_end() -> None:
    target = _target("digest:hourly", "quiet:22-07", "tz:Asia/Seoul")
    assert notify.next_send_time(target, _seoul(21, 10)) == _seoul(7, day=29)
    assert notify.next_send_time(target, _seoul(21, 10), "critical") == _seoul(7, day=29)
    assert notify.next_send_time(target, _seoul(9, 10)) == _seoul(10)


def test_digest_flow_with_a_controllable_clock() -> None:
    """What the sending side does: hold alerts, send one digest once the period has ended."""
    target = _target("digest:hourly")
    created = [datetime(2026, 1, 28, 10, m, tzinfo=UTC) for m in (5, 20, 55)]
    oldest = min(created)
    clock = datetime(2026, 1, 28, 10, 59, tzinfo=UTC)
    assert notify.next_send_time(target, oldest) > clock  # not yet
    clock += timedelta(minutes=2)
    assert notify.next_send_time(target, oldest) <= clock  # one digest with all three


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        notify.is_quiet(_target("quiet:22-07"), datetime(2026, 1, 28, 23, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        notify.next_send_time(_target(), datetime(2026, 1, 28, 23, 0))


def test_fixed_offset_now_is_accepted() -> None:
    kst = timezone(timedelta(hours=9))
    target = _target("quiet:22-07", "tz:Asia/Seoul")
    assert notify.is_quiet(target, datetime(2026, 1, 28, 23, 0, tzinfo=kst))


def test_hold_until_says_whether_a_due_message_must_wait() -> None:
    quiet = _target("quiet:22-07", "tz:Asia/Seoul")
    assert notify.hold_until(quiet, _seoul(23), "high") == _seoul(7, day=29)
    assert notify.hold_until(quiet, _seoul(23), "critical") is None  # critical bypasses
    assert notify.hold_until(quiet, _seoul(7), "low") is None
    assert notify.hold_until(_target(), _seoul(23), "low") is None
    # a digest is never critical: quiet hours hold it whatever it contains
    digest = _target("digest:hourly", "quiet:22-07", "tz:Asia/Seoul")
    assert notify.hold_until(digest, _seoul(23)) == _seoul(7, day=29)
    assert notify.hold_until(digest, _seoul(23), "critical") == _seoul(7, day=29)
    assert notify.hold_until(digest, _seoul(12)) is None
