"""A feed item's publication time, in the publisher's own offset.

feedparser normalises every date it parses to UTC and drops the offset the feed wrote. The
offset matters: detection resolves "on the 1st", "1日" or "on Tuesday" against the publisher's
calendar day, and an item written at 08:30 in Tokyo (+09:00) is dated the day before in UTC.
So the offset is read back from the date text the parsed time came from:

- a numeric offset ("+0900", "+09:00") keeps the time in that offset;
- "KST", "JST", "HKT" and other regional names that feedparser does not know (it reads them as
  UTC, which puts the instant hours off) are corrected, then kept in their offset;
- "Z", "GMT", "UT", "UTC", or no zone at all: the source's time zone when one is configured
  (`timezone:` in the sources file; a time with no zone is then that zone's wall-clock time),
  else UTC.

The date text is outside data: the patterns are anchored at its end and linear, and anything
unexpected gives the plain UTC time feedparser parsed, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

# Regional zone names feedparser reads as UTC (checked with feedparser 6), in minutes east.
_MISREAD_ZONES = {"KST": 540, "JST": 540, "HKT": 480, "SGT": 480, "PHT": 480, "ICT": 420}
_UTC_NAMES = frozenset({"Z", "GMT", "UT", "UTC"})
# The zone at the end of a date text: a numeric offset, or a name of letters.
_ZONE = re.compile(
    r"(?:(?<![A-Za-z+-])(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})"
    r"|(?<![A-Za-z])(?P<name>[A-Z]{1,5}))\s*$"
)
_MAX_DATE_TEXT = 200  # a date is short; only the tail of a longer text is looked at


def publication_time(entry: Mapping[str, Any], zone: tzinfo | None = None) -> datetime | None:
    """When the item was published (else updated), aware, in the offset its feed wrote (or
    `zone` when the feed wrote UTC or none); None when the feed gives no usable date."""
    for field in ("published", "updated"):
        parsed = entry.get(f"{field}_parsed")
        if parsed:
            return _in_written_offset(parsed, str(entry.get(field) or ""), zone)
    return None


def _in_written_offset(parsed: Sequence[int], text: str, zone: tzinfo | None) -> datetime | None:
    try:
        year, month, day, hour, minute, second = parsed[:6]
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError):
        return None
    try:
        return _localised(moment, text[-_MAX_DATE_TEXT:].strip(), zone)
    except (OverflowError, ValueError):  # at the calendar's edge: the UTC time is still right
        return moment


def _localised(moment: datetime, text: str, zone: tzinfo | None) -> datetime:
    found = _ZONE.search(text)
    if found is None or (found["name"] and found["name"] in _UTC_NAMES):
        if zone is None:
            return moment
        if found is None:  # a zone-less date or time is the source's own wall clock
            return moment.replace(tzinfo=zone)
        return moment.astimezone(zone)
    if found["name"]:
        minutes = _MISREAD_ZONES.get(found["name"])
        if minutes is None:  # a name feedparser knows (EST, PDT, ...): its UTC time is right
            return moment.astimezone(zone) if zone is not None else moment
        offset = timezone(timedelta(minutes=minutes))
        return moment.replace(tzinfo=offset)  # feedparser read this wall-clock time as UTC
    minutes = int(found["h"]) * 60 + int(found["m"])
    offset = timezone(timedelta(minutes=-minutes if found["sign"] == "-" else minutes))
    return moment.astimezone(offset)
