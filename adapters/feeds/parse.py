"""Feed bytes -> Articles with feedparser (RSS 0.9x/2.0, RSS 1.0/RDF, Atom), or with
`adapters.feeds.jsonfeed` for a JSON Feed (which feedparser 6.0 does not read). No network here.

feedparser always gets a byte stream (never a URL or a str, which it would treat as a URL or a
file name) plus the HTTP Content-Type, with the charset fixed up by `adapters.feeds.charset`, and
the feed's URL as Content-Location so relative links resolve. HTML sanitising is off: we reduce
every summary and content to plain text ourselves (and sanitising is ~22% of parse time).
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import feedparser

from adapters.feeds import parserfast
from adapters.feeds.charset import choose_encoding, with_charset
from adapters.feeds.dates import publication_time
from adapters.feeds.items import (
    FeedBody,
    ParsedFeed,
    item_guid,
    repeated_guids_problem,
    unique_guids,
)
from adapters.feeds.jsonfeed import looks_like_json, parse_json_feed
from adapters.freshness import feed_ttl_s
from adapters.text.htmltext import html_to_text
from adapters.text.links import canonical_url
from adapters.text.titles import infer_title
from core.errors import PermanentFetchError
from core.model import Article

# Buffered text events, a memoised base URI and flat copies of content parameters: feedparser's
# own results at less cost (see the module). Also spares each parse the search for libxml2.
parserfast.install()

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
# bozo reasons that say nothing about the items (a charset guess, a loose Content-Type).
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# Values that are JSON as they are (exact types: a subclass takes the general path).
_JSON_LEAVES = frozenset({str, int, float, bool, type(None)})


def parse_feed(
    body: bytes,
    *,
    source: str,
    url: str,
    content_type: str | None = None,
    zone: tzinfo | None = None,
) -> ParsedFeed:
    """Items of a feed body, dated in the offset the feed wrote (`zone`, the publisher's time
    zone, for times given in UTC or without a zone; see `adapters.feeds.dates`).

    A malformed feed still yields the items feedparser could read
    (noted in `problems`); a body with no items that is not a feed (an HTML page, nothing at
    all) raises PermanentFetchError "not a feed". A JSON body goes to `adapters.feeds.jsonfeed`."""
    if looks_like_json(body, content_type):
        return parse_json_feed(FeedBody(body, source, url, content_type, zone))
    headers = {"content-location": url}
    encoding = choose_encoding(body, content_type)
    if encoding:
        headers["content-type"] = with_charset(content_type, encoding)
    elif content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries:
        _refuse_non_feed(source, body, parsed, content_type, bozo)
    feed_title = _plain(parsed.feed.get("title_detail")) or None
    articles, duplicates = unique_guids(
        _article(source, e, url, feed_title, zone) for e in parsed.entries
    )
    problems = repeated_guids_problem(duplicates)
    if bozo is not None and not isinstance(bozo, _HARMLESS_BOZO):
        problems.append(f"malformed feed, read {len(articles)} items anyway: {_describe(bozo)}")
    return ParsedFeed(
        articles,
        feed_title,
        parsed.get("version") or None,
        tuple(problems),
        ttl_s=feed_ttl_s(parsed.feed.get("ttl")),
    )


def _refuse_non_feed(
    source: str, body: bytes, parsed: Any, content_type: str | None, bozo: object
) -> None:
    if not body.strip():
        raise PermanentFetchError(source, "not a feed: empty body")
    if parsed.get("version"):
        return  # a well-formed feed that has no items right now
    kind = content_type.split(";")[0].strip() if content_type else "no Content-Type"
    detail = f": {_describe(bozo)}" if bozo is not None else ""
    raise PermanentFetchError(source, f"not a feed ({kind}, no items found){detail}")


def _describe(exc: object) -> str:
    message = getattr(exc, "getMessage", None)
    text = message() if callable(message) else str(exc)
    line = getattr(exc, "getLineNumber", None)
    return f"{text} (line {line()})" if callable(line) else text


def _article(
    source: str,
    entry: Mapping[str, Any],
    base: str,
    feed_title: str | None,
    zone: tzinfo | None = None,
) -> Article:
    link = canonical_url(entry.get("link"), base)
    title = _plain(entry.get("title_detail")) or _plain_value(entry.get("title"))
    text = _entry_text(entry)
    published = publication_time(entry, zone)
    raw = _raw_fields(entry)
    raw["feed_title"] = feed_title
    if not title:
        title = infer_title(text) if text else (link or "")
        raw["title_inferred"] = True
    return Article(
        source=source,
        guid=_guid(entry, link, title),
        title=title,
        text=text,
        url=link,
        published=published,
        raw=raw,
    )


def _guid(entry: Mapping[str, Any], link: str | None, title: str) -> str:
    when = entry.get("published") or entry.get("updated") or ""
    return item_guid(entry.get("id") or "", link, title, when)


def _entry_text(entry: Mapping[str, Any]) -> str:
    """Plain text of the fullest body the entry has: its longest content, else its summary."""
    candidates = [c for c in entry.get("content") or () if c.get("value")]
    if entry.get("summary_detail") and entry["summary_detail"].get("value"):
        candidates.append(entry["summary_detail"])
    if not candidates:
        return ""
    best = max(candidates, key=lambda c: len(c.get("value", "")))
    return _plain(best)


def _plain(detail: Mapping[str, Any] | None) -> str:
    """Text of a feedparser text construct (value + type), HTML reduced to text."""
    if not detail or not detail.get("value"):
        return ""
    value = detail["value"]
    if (detail.get("type") or "").lower() in _HTML_TYPES:
        return html_to_text(value)
    return _plain_value(value)


def _plain_value(value: str | None) -> str:
    return " ".join((value or "").split())


def _raw_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's fields as JSON values, without the second copy of title and summary that
    feedparser keeps in `title_detail` / `summary_detail` (their type and language stay)."""
    raw = {}
    for key, value in entry.items():
        plain = key.removesuffix("_detail")
        if plain != key and isinstance(value, Mapping) and value.get("value") == entry.get(plain):
            value = {k: v for k, v in value.items() if k != "value"}
        raw[str(key)] = _json_safe(value)
    return raw


def _json_safe(value: Any) -> Any:
    """`value` as JSON types only: struct_time -> ISO string, mappings -> dicts, others -> str."""
    if type(value) in _JSON_LEAVES:  # most fields: exact types first, ABC checks are slower
        return value
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6], tzinfo=UTC).isoformat()
        except ValueError:
            return None
    if isinstance(value, dict | Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
