"""A feed item's publication time keeps the offset its feed wrote (feedparser drops it), is
corrected where feedparser misreads a regional zone name, and takes the source's time zone where
the feed wrote UTC or no zone. Real feedparser on real feed bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.feeds.dates import publication_time

TOKYO = ZoneInfo("Asia/Tokyo")
JST = timezone(timedelta(hours=9))
EST = timezone(timedelta(hours=-5))


def entry(date_text: str, tag: str = "pubDate") -> feedparser.FeedParserDict:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        f"<title>a</title><{tag}>{date_text}</{tag}></item></channel></rss>"
    )
    return feedparser.parse(body.encode()).entries[0]


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("Tue, 01 Dec 2026 08:30:00 +0900", None, datetime(2026, 12, 1, 8, 30, tzinfo=JST)),
        ("2026-12-01T08:30:00+09:00", None, datetime(2026, 12, 1, 8, 30, tzinfo=JST)),
        ("Tue, 01 Dec 2026 08:30:00 KST", None, datetime(2026, 12, 1, 8, 30, tzinfo=JST)),
        ("Tue, 01 Dec 2026 08:30:00 GMT", None, datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("Tue, 01 Dec 2026 08:30:00 GMT", TOKYO, datetime(2026, 12, 1, 17, 30, tzinfo=TOKYO)),
        ("2026-12-01T08:30:00Z", TOKYO, datetime(2026, 12, 1, 17, 30, tzinfo=TOKYO)),
        ("2026-12-01 08:30:00", TOKYO, datetime(2026, 12, 1, 8, 30, tzinfo=TOKYO)),
        ("2026-12-01", TOKYO, datetime(2026, 12, 1, tzinfo=TOKYO)),
        ("Tue, 01 Dec 2026 08:30:00 EST", TOKYO, datetime(2026, 12, 1, 22, 30, tzinfo=TOKYO)),
        ("Tue, 01 Dec 2026 08:30:00 -0500", TOKYO, datetime(2026, 12, 1, 8, 30, tzinfo=EST)),
    ],
)
def test_the_written_offset_is_kept(text: str, zone: ZoneInfo | None, expected: datetime) -> None:
    found = publication_time(entry(text), zone)
    assert found == expected  # the same instant ...
    assert found is not None and found.utcoffset() == expected.utcoffset()  # ... and offset


def test_no_date_is_none_and_updated_stands_in() -> None:
    assert publication_time(entry("not a date")) is None
    updated = entry("2026-12-01T08:30:00+09:00", tag="updated")
    assert publication_time(updated) == datetime(2026, 12, 1, 8, 30, tzinfo=JST)
    atom = feedparser.parse(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title>a</title>'
        b"<updated>2026-12-01T08:30:00+09:00</updated></entry></feed>"
    ).entries[0]
    assert publication_time(atom) == datetime(2026, 12, 1, 8, 30, tzinfo=JST)


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.just(UTC)
    ),
    minutes=st.integers(-14 * 60, 14 * 60),
    tail=st.text(max_size=30),
)
def test_any_written_offset_gives_the_same_instant(
    moment: datetime, minutes: int, tail: str
) -> None:
    """Whatever offset a feed writes, the instant is feedparser's; noise after it never raises."""
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    text = local.strftime("%a, %d %b %Y %H:%M:%S %z")
    item = entry(text)
    found = publication_time(item)
    assert found is not None and found == moment.replace(microsecond=0)
    assert found.utcoffset() == local.utcoffset()
    publication_time({"published_parsed": item.published_parsed, "published": text + tail})
