"""A source's own freshness hints: HTTP caching headers and RSS <ttl>, read from real responses
of the test feed server, and the parsing of each header on any text at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import fetch_many
from adapters.freshness import MAX_HINT_S, feed_ttl_s, header_freshness_s
from core.cursor import Cursor
from core.model import SourceSpec, SourceState
from tests.adapters.adapterkit import LOOPBACK, feed_cursor, rss_spec, state_after
from tests.adapters.feedserver import FeedServer

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"cache-control": "public, max-age=1800"}, 1800.0),
        ({"cache-control": 'max-age="900"', "age": "300"}, 600.0),
        ({"cache-control": "max-age=60", "age": "600"}, 0.0),
        ({"cache-control": "no-cache, max-age=3600"}, 0.0),
        ({"cache-control": "No-Store"}, 0.0),
        ({"cache-control": "s-maxage=3600"}, None),
        # max-age wins over Expires (RFC 9111 5.3)
        ({"cache-control": "max-age=120", "expires": http_date(NOW + timedelta(hours=2))}, 120.0),
        ({"expires": http_date(NOW + timedelta(minutes=30))}, 1800.0),
        # Expires against the response's own Date: the server's clock, not ours
        (
            {
                "expires": http_date(NOW + timedelta(hours=5, minutes=20)),
                "date": http_date(NOW + timedelta(hours=5)),
            },
            1200.0,
        ),
        ({"expires": "0"}, 0.0),
        ({"expires": http_date(NOW - timedelta(days=1))}, 0.0),
        ({"expires": "Fri, 31 Dec 9999 23:59:59 GMT"}, float(MAX_HINT_S)),
        ({"cache-control": "max-age=-5"}, None),
        ({"cache-control": "max-age=99999999999999999999"}, None),
        ({"cache-control": "max-age=９００"}, None),  # full-width digits are not a number
    ],
)
def test_header_freshness(headers: dict[str, str], expected: float | None) -> None:
    assert header_freshness_s(headers, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("45", 2700), (" 60 ", 3600), ("0", None), ("-1", None), ("soon", None), (None, None)],
)
def test_feed_ttl(value: object, expected: int | None) -> None:
    assert feed_ttl_s(value) == expected


@given(
    st.dictionaries(
        st.sampled_from(["cache-control", "expires", "date", "age"]), st.text(max_size=60)
    )
)
def test_any_header_text_is_a_hint_or_none(headers: dict[str, str]) -> None:
    hint = header_freshness_s(headers, NOW)
    assert hint is None or 0.0 <= hint <= MAX_HINT_S


@given(st.one_of(st.none(), st.text(max_size=30), st.integers(), st.floats()))
def test_any_ttl_value_is_a_hint_or_none(value: object) -> None:
    ttl = feed_ttl_s(value)
    assert ttl is None or 0 < ttl <= MAX_HINT_S


@pytest.mark.parametrize(
    ("interval", "ceiling", "hint", "expected"),
    [
        (600, None, None, 600),
        (600, None, 300.0, 600),  # a shorter hint never polls sooner
        (600, None, 900.0, 900),
        (600, None, 86400.0, 1200),  # default ceiling: twice the interval
        (600, 3600, 2700.0, 2700),
        (600, 3600, 86400.0, 3600),
        (600, 600, 86400.0, 600),  # ceiling = interval: hints ignored
    ],
)
def test_the_next_poll_honours_a_hint_within_the_bound(
    interval: int, ceiling: int | None, hint: float | None, expected: int
) -> None:
    spec = SourceSpec(
        "s", "rss", "http://x/", poll_interval_s=interval, max_poll_interval_s=ceiling
    )
    assert spec.poll_interval_after(hint) == expected


def test_fetches_carry_the_hints_of_headers_and_feed(server: FeedServer) -> None:
    specs = [
        rss_spec("cached", server.url("/feed/rss2_korea.xml?cc=public,max-age=1800")),
        rss_spec("ttl", server.url("/feed/rss2_ttl.xml")),
        rss_spec("both", server.url("/feed/rss2_ttl.xml?cc=max-age=600")),
        rss_spec("plain", server.url("/feed/rss2_korea.xml")),
    ]
    first = {r.source: r for r in fetch_many(specs, {}, allow_networks=LOOPBACK)}
    assert {name: r.fresh_for_s for name, r in first.items()} == {
        "cached": 1800.0,
        "ttl": 2700.0,
        "both": 2700.0,  # the longest the publisher asked for
        "plain": None,
    }
    assert feed_cursor(first["ttl"]).feed_ttl_s == 2700
    assert feed_cursor(first["plain"]).feed_ttl_s is None
    # A 304 repeats the headers but not the body: the ttl kept in the cursor still counts.
    states = {name: state_after(r) for name, r in first.items()}
    again = {r.source: r for r in fetch_many(specs, states, allow_networks=LOOPBACK)}
    assert {r.status for r in again.values()} == {"not_modified"}
    assert {name: r.fresh_for_s for name, r in again.items()} == {
        name: r.fresh_for_s for name, r in first.items()
    }
    assert again["ttl"].cursor is None  # kept by the store, ttl and all
    forgotten = {**states, "ttl": SourceState(Cursor({"etag": feed_cursor(first["ttl"]).etag}))}
    assert fetch_many(specs[1:2], forgotten, allow_networks=LOOPBACK)[0].fresh_for_s is None
