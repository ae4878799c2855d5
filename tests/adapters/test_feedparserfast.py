"""`adapters.feeds.parserfast` changes what feedparser costs, never what it returns: on arbitrary
feeds (RSS and Atom, escaped and CDATA HTML, XHTML content, xml:base, relative links, malformed
bodies) feedparser's result is the same with the fast paths installed as with its own."""

from __future__ import annotations

import copy
import io
import warnings
import xml.sax
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import feedparser.api
import feedparser.mixin
import feedparser.urls
from feedparser.util import FeedParserDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters.feeds.parse  # noqa: F401  (installs the fast paths, as the rss adapter does)
from adapters.feeds.parserfast import (
    _OWN,
    _PLAIN,
    BufferedExpatParser,
    copy_content_params,
    memoised_safe_uri,
)

FEED_URL = "http://example.com/news/feed.xml"

# Text with what splits expat's text events: entity and character references, markup-like
# characters, non-ASCII, and runs of whitespace.
_PIECES = st.sampled_from(
    ["a", "Seoul ", "<p>", "</p>", "&", "<", ">", '"', "'", "é", "東京", "  ", "\n", "\t", "&amp;"]
)
TEXT = st.lists(_PIECES, max_size=12).map("".join)
LINKS = st.sampled_from(
    ["/a/b", "b?x=1&y=2", "../up", "http://other.example/x", "javascript:alert(1)", "", "#f"]
)
BASES = st.sampled_from(["", "/sub/", "http://base.example/dir/", "rel/", "javascript:x"])
# An xml:base attribute (with a leading space), or none.
BASE_ATTRS = BASES.map(lambda base: f" xml:base={quoteattr(base)}" if base else "")


def _text_node(text: str, style: str) -> str:
    """`text` escaped, as CDATA, or raw (possibly malformed XML), as feeds write it."""
    if style == "cdata":
        return f"<![CDATA[{text.replace(']]>', '')}]]>"
    if style == "raw":
        return text
    return escape(text)


@st.composite
def rss_feeds(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 body with a few items."""
    items = []
    for _ in range(draw(st.integers(0, 3))):
        style = draw(st.sampled_from(["escaped", "cdata", "raw"]))
        items.append(
            f"<item{draw(BASE_ATTRS)}><title>{_text_node(draw(TEXT), style)}</title>"
            f"<link>{escape(draw(LINKS))}</link>"
            f"<guid isPermaLink={quoteattr(draw(st.sampled_from(['true', 'false'])))}>"
            f"{escape(draw(LINKS))}</guid>"
            f"<description>{_text_node(draw(TEXT), style)}</description>"
            "<pubDate>Tue, 10 Feb 2026 09:00:00 +0900</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(draw(TEXT))}</title><link>{escape(draw(LINKS))}</link>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


@st.composite
def atom_feeds(draw: st.DrawFn) -> bytes:
    """An Atom body whose entries carry text, html and xhtml content."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["text", "html", "xhtml"]))
        body = draw(TEXT)
        if kind == "xhtml":
            content = f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(body)}</p></div>'
        else:
            content = escape(body)
        base_attr = draw(BASE_ATTRS)
        lang = draw(st.sampled_from(["", ' xml:lang="ko"', ' xml:lang=""']))
        entries.append(
            f"<entry{base_attr}{lang}><title type={quoteattr(kind)}>{escape(draw(TEXT))}</title>"
            f"<link href={quoteattr(draw(LINKS))}/><id>{escape(draw(LINKS))}</id>"
            "<updated>2026-02-10T09:00:00+09:00</updated>"
            f"<summary>{escape(draw(TEXT))}</summary>"
            f"<content type={quoteattr(kind)}>{content}</content></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(draw(TEXT))}</title>{''.join(entries)}</feed>"
    ).encode()


def _parse(body: bytes) -> dict[str, Any]:
    """feedparser's result as the rss adapter asks for it, exceptions reduced to their text."""
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": FEED_URL},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    result = dict(parsed)
    if "bozo_exception" in result:
        exc = result["bozo_exception"]
        result["bozo_exception"] = (type(exc).__name__, str(exc))
    return result


def _set_dict_methods(methods: dict[str, Any]) -> None:
    for name, method in methods.items():
        setattr(FeedParserDict, name, method)


def _own_parse(body: bytes) -> dict[str, Any]:
    """`_parse` with feedparser's original driver list, URI resolution, deepcopy and
    FeedParserDict methods (the fast paths restored afterwards)."""
    fast = (
        list(feedparser.api.PREFERRED_XML_PARSERS),
        feedparser.mixin.make_safe_absolute_uri,
        feedparser.mixin.copy,
    )
    feedparser.api.PREFERRED_XML_PARSERS[:] = []
    feedparser.mixin.make_safe_absolute_uri = feedparser.urls.make_safe_absolute_uri
    feedparser.mixin.copy = copy
    _set_dict_methods(_OWN)
    try:
        return _parse(body)
    finally:
        feedparser.api.PREFERRED_XML_PARSERS[:] = fast[0]
        feedparser.mixin.make_safe_absolute_uri = fast[1]
        feedparser.mixin.copy = fast[2]
        _set_dict_methods(_PLAIN)


def test_the_fast_paths_are_what_feedparser_uses() -> None:
    parser = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    assert isinstance(parser, BufferedExpatParser)
    for name, method in _PLAIN.items():
        assert FeedParserDict.__dict__[name] is method
    assert feedparser.mixin.make_safe_absolute_uri is memoised_safe_uri
    assert feedparser.mixin.copy.deepcopy is copy_content_params


def test_escaped_html_arrives_as_one_text_event() -> None:
    events: list[str] = []

    class Collect(xml.sax.handler.ContentHandler):
        def characters(self, content: str) -> None:
            events.append(content)

    parser = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    parser.setContentHandler(Collect())
    parser.parse(io.BytesIO(b"<d>&lt;p&gt;Seoul &amp; Busan&lt;/p&gt;</d>"))
    assert events == ["<p>Seoul & Busan</p>"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(rss_feeds(), atom_feeds()))
def test_feedparser_returns_the_same_with_the_fast_paths(body: bytes) -> None:
    assert _parse(body) == _own_parse(body)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300).map(lambda tail: b"<rss version='2.0'><channel><item>" + tail))
def test_malformed_bodies_parse_the_same(body: bytes) -> None:
    assert _parse(body) == _own_parse(body)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
_KEYS = st.one_of(
    st.sampled_from(["type", "language", "base", "src", "description", "url", "guid"]),
    st.text(max_size=5),
)


@given(
    st.dictionaries(
        _KEYS, st.one_of(_VALUES, st.lists(_VALUES, max_size=2), st.dictionaries(_KEYS, _VALUES))
    )
)
def test_content_params_copy_is_a_deepcopy(items: dict[str, Any]) -> None:
    params = FeedParserDict(items)
    copied = copy_content_params(params)
    expected = copy.deepcopy(params)
    assert type(copied) is FeedParserDict
    assert copied == expected
    assert copied is not params
    for key, value in params.items():
        if isinstance(value, list | dict):
            assert copied[key] is not value  # nested values are copied, not shared


@given(st.one_of(st.none(), BASES, st.text(max_size=20)), st.one_of(st.none(), LINKS, st.text()))
def test_memoised_uri_is_feedparsers(base: str | None, rel: str | None) -> None:
    assert memoised_safe_uri(base, rel) == feedparser.urls.make_safe_absolute_uri(base, rel)


# Keys FeedParserDict treats specially (aliases, computed ones) and plain ones, and values that
# its computed keys read (tags, links) in the shapes feedparser stores them.
_DICT_KEYS = st.one_of(
    st.sampled_from(
        [*FeedParserDict.keymap, "category", "enclosures", "license", "updated", "updated_parsed"]
    ),
    st.sampled_from(["summary", "subtitle", "href", "feed", "entries", "id", "published", "tags"]),
    st.sampled_from(["links", "rel", "term", "rights", "title_detail", "published_parsed"]),
    st.text(max_size=4),
    st.integers(-2, 2),
)
_LINK = st.fixed_dictionaries(
    {"rel": st.sampled_from(["enclosure", "license", "alternate"])},
    optional={"href": st.text(max_size=3), "type": st.text(max_size=3)},
)
_DICT_VALUES = st.one_of(
    _VALUES,
    st.lists(_LINK.map(FeedParserDict), max_size=2),
    st.lists(st.fixed_dictionaries({"term": _VALUES}).map(FeedParserDict), max_size=2),
)


def _outcome(call: Any) -> tuple[str, Any]:
    """What a call returned, or the type of what it raised."""
    try:
        return "returned", call()
    except Exception as exc:  # the plain look-ups must raise what FeedParserDict raises
        return "raised", type(exc).__name__


@settings(max_examples=300)
@given(st.dictionaries(_DICT_KEYS, _DICT_VALUES, max_size=6), _DICT_KEYS, _VALUES)
def test_plain_lookups_are_feedparserdicts(items: dict[Any, Any], key: Any, value: Any) -> None:
    fast, own = FeedParserDict(items), FeedParserDict(items)
    for name in ("__getitem__", "__contains__", "get"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            got = _outcome(lambda name=name: _PLAIN[name](fast, key))
            expected = _outcome(lambda name=name: _OWN[name](own, key))
        assert got == expected, name
    _PLAIN["__setitem__"](fast, key, value)
    _OWN["__setitem__"](own, key, value)
    assert dict(fast) == dict(own)
