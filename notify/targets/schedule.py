"""Digests and quiet hours: when a subscriber may receive a message. Pure: `now` is an argument.

Schedule tags (Apprise `tag:` values on a subscriber; notify.targets.tags reads them):

| tag                         | meaning                                                        |
|-----------------------------|----------------------------------------------------------------|
| `digest`                    | one summary a day instead of single alerts (= `digest:daily`)   |
| `digest:hourly`             | one summary per clock hour                                      |
| `digest:daily`              | one summary a day, at 08:00 local time                          |
| `digest:daily@HH`           | one summary a day, at HH:00 local time (00-23)                  |
| `quiet:HH-HH`               | quiet hours, e.g. `quiet:22-07` (may span midnight)             |
| `quiet:HH:MM-HH:MM`         | quiet hours to the minute, e.g. `quiet:22:30-06:45`             |
| `tz:<IANA zone>`            | local time zone of the above, e.g. `tz:Asia/Seoul` (default UTC) |

Quiet hours hold non-critical messages until they end; critical alerts go out at once. A digest
that falls due inside quiet hours waits for their end.

How the sending side uses this (it owns the clock and the delivery ledger):

- routing: a delivery may not go out before `next_send_time(target, now, alert.level)`
  (for a digest subscriber that is the end of the current period, so every alert of one period
  falls due at the same moment and goes out in one summary);
- sending: `hold_until(target, now, level)` says whether a due message must still wait (a retry
  or a delayed run landing in quiet hours), and until when.

A digest subscriber receives critical alerts in its digest too: it asked for summaries. Whoever
wants critical alerts at once as well adds a second entry tagged `level:critical`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache

from core.model import Level, Target
from notify.targets.tags import (
    DEFAULT_DIGEST_HOUR,
    DigestPeriod,
    Kind,
    parse_digest,
    parse_quiet,
    parse_zone,
    read_tag,
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Delivery timing of one subscriber."""

    digest: DigestPeriod | None = None
    digest_hour: int = DEFAULT_DIGEST_HOUR
    quiet: tuple[time, time] | None = None
    tz: tzinfo = UTC


def parse_schedule(tags: Iterable[str]) -> Schedule:
    """The Schedule described by a subscriber's tags; ValueError for a malformed schedule tag."""
    digests: list[tuple[DigestPeriod, int]] = []
    quiets: list[tuple[time, time]] = []
    zones: list[tzinfo] = []
    for tag in map(read_tag, filter(str.strip, tags)):
        if tag.kind is Kind.DIGEST:
            # A bare `digest` is a daily one at the default hour.
            digests.append(parse_digest(tag.value or "daily"))
        elif tag.kind is Kind.QUIET:
            quiets.append(parse_quiet(tag.value))
        elif tag.kind is Kind.TZ:
            zones.append(parse_zone(tag.value))
    # Two of one kind would leave the subscriber guessing which one wins.
    for kind, found in (("digest", digests), ("quiet", quiets), ("tz", zones)):
        if len(found) > 1:
            raise ValueError(f"more than one {kind} tag")
    digest, digest_hour = digests[0] if digests else (None, DEFAULT_DIGEST_HOUR)
    return Schedule(digest, digest_hour, quiets[0] if quiets else None, zones[0] if zones else UTC)


@lru_cache(maxsize=1024)
def _schedule_of(tags: frozenset[str]) -> Schedule:
    return parse_schedule(tags)


def schedule_for(target: Target) -> Schedule:
    """The schedule of a target (cached per tag set)."""
    return _schedule_of(target.tags)


def is_digest(target: Target) -> bool:
    """Whether the target receives digests instead of single alerts."""
    return schedule_for(target).digest is not None


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")
    return now


def _in_window(moment: time, window: tuple[time, time]) -> bool:
    start, end = window
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # the window spans midnight


def _quiet(schedule: Schedule, now: datetime) -> bool:
    return schedule.quiet is not None and _in_window(
        now.astimezone(schedule.tz).time(), schedule.quiet
    )


def _next_local(now: datetime, at: time, tz: tzinfo) -> datetime:
    """The first moment strictly after `now` at which the local clock in `tz` reads `at`."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


def _quiet_end(schedule: Schedule, now: datetime) -> datetime:
    assert schedule.quiet is not None
    return _next_local(now, schedule.quiet[1], schedule.tz)


def _period_end(schedule: Schedule, now: datetime) -> datetime:
    """End of the digest period that contains `now`."""
    if schedule.digest == "hourly":
        local = now.astimezone(schedule.tz)
        return local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return _next_local(now, time(schedule.digest_hour), schedule.tz)


def is_quiet(target: Target, now: datetime) -> bool:
    """Whether `now` falls inside the target's quiet hours."""
    return _quiet(schedule_for(target), _aware(now))


def next_send_time(target: Target, now: datetime, level: Level | None = None) -> datetime:
    """The earliest moment at or after `now` at which a message to `target` may go out.

    Single-alert subscribers: `now`, or the end of quiet hours when `now` is inside them and
    `level` is not critical. Digest subscribers: the end of the digest period containing `now`,
    pushed to the end of quiet hours when it falls inside them. The result is in `now`'s zone.
    """
    now = _aware(now)
    schedule = schedule_for(target)
    if schedule.digest is not None:
        due = _period_end(schedule, now)
        if _quiet(schedule, due):
            due = _quiet_end(schedule, due)
    elif level != "critical" and _quiet(schedule, now):
        due = _quiet_end(schedule, now)
    else:
        due = now
    return due.astimezone(now.tzinfo)


def hold_until(target: Target, now: datetime, level: Level | None = None) -> datetime | None:
    """When a message due now must wait instead: the end of quiet hours, or None to send now.

    Quiet hours hold every digest and every single alert but a critical one.
    """
    now = _aware(now)
    schedule = schedule_for(target)
    bypass = schedule.digest is None and level == "critical"
    if bypass or not _quiet(schedule, now):
        return None
    return _quiet_end(schedule, now).astimezone(now.tzinfo)
