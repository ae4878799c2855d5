"""JSON Feed 1.0 and 1.1: bodies -> the same Articles as RSS/Atom, malformed feeds and items
reported and never raised, and the rss adapter fetching JSON Feeds over real HTTP (conditional
requests included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import FetchContext, get_adapter
from adapters.feeds.jsonfeed import looks_like_json, parse_json_date
from adapters.feeds.parse import parse_feed
from core.errors import PermanentFetchError
from core.model import SourceState
from tests.adapters.adapterkit import feed_cursor, fixture_bytes, rss_spec, state_after
from tests.adapters.feedserver import FeedServer

FEED_URL = "https://news.example.kr/feed.json"
V11 = "https://jsonfeed.org/version/1.1"
KST = timezone(timedelta(hours=9))


def parse(body: bytes, content_type: str | None = "application/feed+json", **kw: Any):
    return parse_feed(body, source="src", url=FEED_URL, content_type=content_type, **kw)


def feed_of(*items: Any, **fields: Any) -> bytes:
    return json.dumps({"version": V11, "title": "T", **fields, "items": list(items)}).encode()


def test_json_feed_11_maps_to_article_fields() -> None:
    feed = parse(fixture_bytes("jsonfeed11_korea.json"))
    assert feed.version == "json11" and feed.title == "Peninsula Desk - JSON"
    assert feed.problems == ()
    launch, meeting, untitled = feed.articles

    assert launch.guid == "AEN20260127004851315"
    assert launch.url == "https://news.example.kr/view/AEN20260127004851315"  # utm_* dropped
    assert launch.title == "N. Korea fires two ballistic missiles into East Sea"
    # content_html (the fullest body) reduced to text like RSS HTML: script gone, & unescaped.
    assert launch.text.startswith("SEOUL, Jan. 27 (Yonhap) -- North Korea fired two")
    assert "350 km & reached" in launch.text and "trackView" not in launch.text
    assert "\n\n" in launch.text
    # date_published wins over date_modified, in the offset the feed wrote.
    assert launch.published == datetime(2026, 1, 27, 16, 32, tzinfo=KST)
    assert launch.published.utcoffset() == timedelta(hours=9)
    assert launch.raw["authors"] == ["Kim Soo-yeon", "https://news.example.kr/staff/lee"]
    assert launch.raw["tags"] == ["north korea", "missile"]  # the number 7 is not a tag
    assert launch.raw["language"] == "ko"
    assert launch.raw["feed_title"] == "Peninsula Desk - JSON"

    assert meeting.url == "https://news.example.kr/view/AEN20260130000300315"  # made absolute
    assert meeting.published == datetime(2026, 1, 28, 2, 15, tzinfo=UTC)  # date_modified only
    assert meeting.text.endswith("Friday.\n\nThey will discuss search-and-rescue drills.")
    assert meeting.raw["authors"] == ["Peninsula Desk"]  # the feed's authors stand in
    assert meeting.raw["language"] == "en-US"  # and the feed's language

    assert untitled.title == "Japan scrambled jets." and untitled.raw["title_inferred"] is True
    assert untitled.url is None and untitled.published is None
    json.dumps([a.raw for a in feed.articles])


def test_json_feed_10_with_author_numeric_id_external_url_and_rfc822_date() -> None:
    feed = parse(fixture_bytes("jsonfeed10_japan.json"), "application/json; charset=utf-8")
    assert feed.version == "json10" and feed.title == "Tokyo Defense Wire"
    meeting, protest = feed.articles
    assert meeting.guid == "20260130"
    assert meeting.url == "https://www.example.jp/news/20260130/k10014.html"  # fragment dropped
    assert meeting.title == "日韓防衛相が横須賀で会談" and "捜索・救難共同訓練" in meeting.text
    assert meeting.raw["authors"] == ["Tokyo Defense Wire desk"]
    assert protest.url == "https://www.example.jp/en/news/20260127_22/"  # from external_url
    assert protest.published == datetime(2026, 1, 27, 17, 30, tzinfo=KST)
    assert protest.raw["authors"] == ["NHK-style desk"]


def test_the_same_item_as_rss_and_as_json_feed_is_the_same_article() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        b'<guid isPermaLink="false">id-1</guid><link>https://x.example/a/1?utm_medium=rss</link>'
        b"<title>Japan scrambles jets</title>"
        b"<description>&lt;p&gt;Japan &amp;amp; Korea &lt;b&gt;scrambled&lt;/b&gt; jets."
        b"&lt;/p&gt;&lt;p&gt;More later.&lt;/p&gt;</description>"
        b"<pubDate>Tue, 27 Jan 2026 16:32:00 +0900</pubDate></item></channel></rss>"
    )
    item = {
        "id": "id-1",
        "url": "https://x.example/a/1?utm_medium=rss",
        "title": "Japan scrambles jets",
        "content_html": "<p>Japan &amp; Korea <b>scrambled</b> jets.</p><p>More later.</p>",
        "date_published": "2026-01-27T16:32:00+09:00",
    }
    (from_rss,) = parse(rss, "application/rss+xml").articles
    (from_json,) = parse(feed_of(item)).articles
    fields = ("guid", "url", "title", "text", "published")
    assert [getattr(from_json, f) for f in fields] == [getattr(from_rss, f) for f in fields]
    assert from_json.published.utcoffset() == from_rss.published.utcoffset()


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-01-27T16:32:00+09:00", None, datetime(2026, 1, 27, 16, 32, tzinfo=KST)),
        ("2026-01-27T07:32:00Z", None, datetime(2026, 1, 27, 7, 32, tzinfo=UTC)),
        ("2026-01-27t07:32:00z", None, datetime(2026, 1, 27, 7, 32, tzinfo=UTC)),
        ("2026-01-27T07:32:00.123456Z", None, datetime(2026, 1, 27, 7, 32, 0, 123456, UTC)),
        ("2026-01-27", None, datetime(2026, 1, 27, tzinfo=UTC)),
        ("Tue, 27 Jan 2026 16:32:00 +0900", None, datetime(2026, 1, 27, 16, 32, tzinfo=KST)),
        ("9999-12-31T23:59:59Z", None, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("0001-01-01T00:00:00-05:00", None, datetime(1, 1, 1, 5, tzinfo=UTC)),
        ("", None, None),
        ("yesterday", None, None),
        ("2026-13-45T99:00:00Z", None, None),
        ("2026-01-27T07:32:00" + "0" * 100_000 + "Z", None, None),
    ],
)
def test_dates(text: str, zone: Any, expected: datetime | None) -> None:
    assert parse_json_date(text, zone) == expected


def test_dates_in_utc_or_without_offset_take_the_sources_zone() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    in_z = parse_json_date("2026-01-27T07:32:00Z", seoul)
    assert in_z == datetime(2026, 1, 27, 7, 32, tzinfo=UTC)
    assert in_z is not None and in_z.utcoffset() == timedelta(hours=9)  # the publisher's day
    naive = parse_json_date("2026-01-27T16:32:00", seoul)
    assert naive == datetime(2026, 1, 27, 16, 32, tzinfo=seoul)  # wall-clock time in Seoul
    kept = parse_json_date("2026-01-27T16:32:00+08:00", seoul)
    assert kept is not None and kept.utcoffset() == timedelta(hours=8)  # a written offset stays
    # At the calendar's edge the conversion would overflow: the UTC time is kept instead.
    assert parse_json_date("9999-12-31T23:59:59Z", seoul) == datetime(
        9999, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    (article,) = parse(
        feed_of({"id": "1", "title": "t", "date_published": "2026-01-27T07:32:00Z"}), zone=seoul
    ).articles
    assert article.published is not None and article.published.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"", "application/feed+json", "not a feed: empty body"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', None, "invalid JSON"),
        (b"this is not json", "application/feed+json", "invalid JSON (line 1 column 1"),
        (b'["https://jsonfeed.org/version/1.1"]', "application/json", "JSON an array"),
        (b'{"data": [1, 2]}', "application/json", "JSON, but not a JSON Feed"),
        (b'{"version": "2.0", "items": []}', "application/json", "version '2.0'"),
        (b'{"version": 1.1, "items": []}', None, "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1"}', None, "'items' must be a list"),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": {"a": 1}}',
            None,
            "'items' must be a list, not an object",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "JSON nested too deeply"),
    ],
)
def test_bodies_that_are_not_json_feeds_are_refused(
    body: bytes, content_type: str | None, says: str
) -> None:
    with pytest.raises(PermanentFetchError, match="not a feed") as refused:
        parse(body, content_type)
    assert says in refused.value.reason


def test_rss_served_as_json_is_still_read_as_rss() -> None:
    feed = parse(fixture_bytes("rss2_korea.xml"), "application/json")
    assert feed.version == "rss20" and len(feed.articles) == 4


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'\xef\xbb\xbf \n {"version": 1}', None, True),
        (b"  [1]", "text/plain", True),
        (b"<rss/>", "application/json", False),
        (b"not json", "application/feed+json", True),
        (b"not json", "application/vnd.api+json", True),
        (b"not json", "text/html", False),
        (b"", None, False),
    ],
)
def test_which_bodies_go_to_the_json_parser(
    body: bytes, content_type: str | None, expected: bool
) -> None:
    assert looks_like_json(body, content_type) is expected


def test_items_of_wrong_types_are_skipped_or_their_fields_ignored() -> None:
    good = {"id": "ok", "title": "Fine item", "url": "https://x.example/ok"}
    body = feed_of(
        "a string item",
        7,
        None,
        [good],
        good,
        {},  # nothing to read
        {"id": True, "title": ["not", "text"], "content_html": {"x": 1}, "url": 5},
        {
            "id": {"nested": 1},
            "title": "Wrong-typed fields",
            "url": ["https://x.example/list"],
            "content_text": 12,
            "summary": None,
            "date_published": 1769500000,
            "date_modified": "not a date",
            "tags": "missile",
            "authors": "someone",
            "author": ["x"],
            "language": 3,
        },
        good,  # a repeat
        {"title": "javascript link", "url": "javascript:alert(1)"},
    )
    feed = parse(body)
    assert [a.title for a in feed.articles] == [
        "Fine item",
        "Wrong-typed fields",
        "javascript link",
    ]
    wrong = feed.articles[1]
    assert wrong.url is None and wrong.text == "" and wrong.published is None
    assert wrong.guid.startswith("sha256:")
    assert wrong.raw["tags"] == [] and wrong.raw["authors"] == [] and wrong.raw["language"] is None
    assert feed.articles[2].url is None  # only http(s) links are kept
    assert feed.problems == (
        "1 items repeated an earlier item's guid and were skipped",
        "6 items skipped (item 1: not an object but a string; item 2: not an object but a "
        "number; item 3: not an object but null; ...)",
    )
    json.dumps([a.raw for a in feed.articles])


def test_huge_and_non_finite_values_do_not_break_the_feed() -> None:
    long_title = "Missile " * 100_000
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'{"id": ' + b"9" * 5000 + b', "title": "big id", "x": NaN, "y": 1e999, "z": -Infinity},'
        b'{"id": 12345678901234567890, "title": "' + long_title.encode() + b'"}]}'
    )
    feed = parse(body)
    big_id, long = feed.articles
    assert big_id.title == "big id" and big_id.guid.startswith("sha256:")
    assert big_id.raw["x"] is None and big_id.raw["y"] is None and big_id.raw["z"] is None
    json.dumps(big_id.raw, allow_nan=False)  # storable as strict JSON
    assert long.guid == "12345678901234567890" and long.title == long_title.strip()


def test_invalid_utf8_is_replaced_and_said_and_utf16_is_read() -> None:
    body = feed_of({"id": "1", "title": "Seoul OK"}).replace(b"OK", b"\xff\xfe")
    feed = parse(body)
    assert feed.articles[0].title == "Seoul \ufffd\ufffd"
    assert feed.problems == ("not valid UTF-8: undecodable bytes were replaced",)
    utf16 = json.dumps({"version": V11, "items": [{"id": "1", "title": "서울"}]}).encode("utf-16")
    assert parse(utf16).articles[0].title == "서울"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
ITEM_KEYS = st.sampled_from(
    [
        "id", "url", "external_url", "title", "content_html", "content_text", "summary",
        "date_published", "date_modified", "authors", "author", "tags", "language",
    ]
)  # fmt: skip
ITEM = st.dictionaries(ITEM_KEYS, JSON_VALUES | st.text(max_size=60)) | JSON_VALUES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(ITEM, max_size=6),
    feed_fields=st.dictionaries(
        st.sampled_from(["title", "authors", "author", "language"]), JSON_VALUES
    ),
)
def test_any_item_json_never_raises_and_keeps_the_contract(
    items: list[Any], feed_fields: dict[str, Any]
) -> None:
    body = json.dumps({**feed_fields, "version": V11, "items": items}).encode()
    feed = parse(body)
    assert len(feed.articles) <= len(items)
    for article in feed.articles:
        assert article.source == "src" and article.guid and article.title
        assert isinstance(article.text, str)
        assert article.published is None or article.published.utcoffset() is not None
        json.dumps(dict(article.raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_served_as_json_parse_or_are_refused(body: bytes) -> None:
    try:
        parse(body, "application/feed+json")
    except PermanentFetchError as exc:
        assert exc.reason.startswith("not a feed")


# --- over HTTP, through the rss adapter -----------------------------------------------------


@pytest.mark.parametrize("validators", ["etag", "lastmod", "both"])
def test_json_feed_over_http_then_not_modified(
    server: FeedServer, local: FetchContext, validators: str
) -> None:
    adapter = get_adapter("rss", local)
    spec = rss_spec("json", server.url(f"/feed/jsonfeed11_korea.json?v={validators}"))
    first = adapter.fetch(spec, SourceState())
    assert first.status == "ok" and len(first.articles) == 3 and first.problems == ()
    assert first.articles[0].guid == "AEN20260127004851315"
    second = adapter.fetch(spec, state_after(first))
    assert second.status == "not_modified" and second.http_status == 304
    assert second.articles == () and second.cursor is None  # the store keeps the first's
    _, headers = server.requests[-1]
    if validators in ("etag", "both"):
        assert headers["if-none-match"] == feed_cursor(first).etag
    if validators in ("lastmod", "both"):
        assert headers["if-modified-since"] == feed_cursor(first).last_modified
    assert "application/feed+json" in headers["accept"]


def test_json_feed_without_validators_is_unchanged_by_body_hash(
    server: FeedServer, local: FetchContext
) -> None:
    adapter = get_adapter("rss", local)
    spec = rss_spec("json", server.url("/raw/jsonfeed10_japan.json?ct=application/json"))
    first = adapter.fetch(spec, SourceState())
    assert first.status == "ok" and len(first.articles) == 2
    assert feed_cursor(first).etag is None and feed_cursor(first).body_hash
    second = adapter.fetch(spec, state_after(first))
    assert second.status == "unchanged" and second.articles == ()


def test_broken_json_feed_is_one_error_on_its_source(
    server: FeedServer, local: FetchContext
) -> None:
    server.files["broken.json"] = b'{"version": "https://jsonfeed.org/version/1.1", "items": [{'
    result = get_adapter("rss", local).fetch(
        rss_spec("broken", server.url("/feed/broken.json")), SourceState()
    )
    assert result.status == "error" and result.transient is False and result.http_status == 200
    assert result.error is not None
    assert result.error.startswith("not a feed (application/feed+json): invalid JSON (line 1")
