"""JSON Feed 1.0 and 1.1 bodies -> Articles, with the standard library's json.

feedparser 6.0 (its newest release) reads no JSON Feed, so this module does, and maps an item to
the same Article fields as an RSS or Atom item: guid from `id` (else the canonical link, else a
hash of title and date), link from `url` (else `external_url`), the title, the text of the
fullest of `content_html` (reduced to text like RSS HTML), `content_text` and `summary`, and the
publication time from `date_published` (else `date_modified`) in the offset the feed wrote, or in
the source's time zone when the feed wrote "Z" or no offset (as `adapters.feeds.dates` does for
RSS). The item's fields are kept in `raw`, with `authors` (1.1 `authors`, else 1.0 `author`; the
item's, else the feed's), `tags` and `language` (the item's, else the feed's) normalised.

The body is outside data. A value of the wrong type counts as absent; an item that is not an
object, or has no title, content or link, is skipped and counted in the problems; numbers JSON
cannot carry (NaN, Infinity, 1e999, a 5,000-digit integer) become null. A body that is not a
JSON Feed (not JSON, nested too deeply, no JSON Feed `version`, `items` not a list) raises
PermanentFetchError "not a feed", as an HTML page does on the RSS path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

from adapters.feeds.items import (
    FeedBody,
    ParsedFeed,
    item_guid,
    repeated_guids_problem,
    unique_guids,
)
from adapters.text.htmltext import html_to_text, tidy_text
from adapters.text.links import canonical_url
from adapters.text.titles import infer_title
from core.errors import PermanentFetchError
from core.model import Article

JSON_MEDIA_TYPES = frozenset({"application/feed+json", "application/json"})
# "https://jsonfeed.org/version/1" (1.0) or ".../1.1"; http and a trailing slash occur too.
_VERSION = re.compile(r"^https?://jsonfeed\.org/version/(?P<number>\d{1,3}(?:\.\d{1,3})?)/?$")
# The first character that is not a byte-order mark or white space.
_FIRST_CHAR = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?P<char>.?)", re.DOTALL)
_MAX_INT_DIGITS = 100  # longer integers are no id or count; int() would refuse past 4,300
_MAX_DATE_TEXT = 64  # an RFC 3339 date is ~30 characters
_SKIPS_NAMED = 3  # skipped items named in the problem line; the rest are counted


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    """Whether `body` is for this parser: it starts with "{" or "[", or it is served as JSON
    and does not start like XML (a server may label an RSS feed application/json)."""
    match = _FIRST_CHAR.match(body)
    first = match["char"] if match else b""
    if first in (b"{", b"["):
        return True
    media = media_type(content_type)
    return (media in JSON_MEDIA_TYPES or media.endswith("+json")) and first != b"<"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without its parameters."""
    return (content_type or "").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class _Feed:
    """What every item of one feed needs from the feed around it."""

    source: str
    base: str
    zone: tzinfo | None
    title: str | None
    authors: tuple[str, ...]
    language: str | None


def parse_json_feed(fetched: FeedBody) -> ParsedFeed:
    """Items of a JSON Feed body (see the module docstring); raises PermanentFetchError
    "not a feed" for a body that is not one."""
    source = fetched.source
    kind = media_type(fetched.content_type) or "no Content-Type"
    if not fetched.body.strip():
        raise PermanentFetchError(source, "not a feed: empty body")
    document, problems = _load(fetched.body, source, kind)
    version = _version(document, source, kind)
    items = document.get("items")
    if not isinstance(items, list):
        raise PermanentFetchError(
            source, f"not a feed ({kind}): a JSON Feed's 'items' must be a list, not {_kind(items)}"
        )
    feed = _Feed(
        source=source,
        base=fetched.url,
        zone=fetched.zone,
        title=_one_line(_text(document, "title")) or None,
        authors=_authors(document),
        language=_text(document, "language"),
    )
    built: list[Article] = []
    skipped: list[str] = []
    for index, item in enumerate(items, start=1):
        article = _article(feed, item)
        if isinstance(article, Article):
            built.append(article)
        else:
            skipped.append(f"item {index}: {article}")
    articles, duplicates = unique_guids(built)
    problems.extend(repeated_guids_problem(duplicates))
    if skipped:
        named = "; ".join(skipped[:_SKIPS_NAMED]) + ("; ..." if len(skipped) > _SKIPS_NAMED else "")
        problems.append(f"{len(skipped)} items skipped ({named})")
    return ParsedFeed(articles, feed.title, version, tuple(problems))


def _load(body: bytes, source: str, kind: str) -> tuple[dict[str, Any], list[str]]:
    """The top-level object, and a problem if undecodable bytes had to be replaced."""
    problems = []
    try:
        document = _decode(body, source, kind)
    except UnicodeDecodeError:
        # RFC 8259 JSON is UTF-8 (json detects UTF-16/32 by itself): keep what is readable.
        problems.append("not valid UTF-8: undecodable bytes were replaced")
        document = _decode(body.decode("utf-8", "replace"), source, kind)
    if not isinstance(document, dict):
        raise PermanentFetchError(
            source, f"not a feed ({kind}): JSON {_kind(document)}, not a JSON Feed object"
        )
    return document, problems


def _decode(body: bytes | str, source: str, kind: str) -> Any:
    try:
        return json.loads(
            body,
            parse_constant=lambda _: None,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise PermanentFetchError(
            source,
            f"not a feed ({kind}): invalid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})",
        ) from None
    except RecursionError:
        raise PermanentFetchError(source, f"not a feed ({kind}): JSON nested too deeply") from None


def _bounded_int(text: str) -> int | None:
    return int(text) if len(text) <= _MAX_INT_DIGITS else None


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _version(document: Mapping[str, Any], source: str, kind: str) -> str:
    """ "json10", "json11" (feedparser's naming: "rss20", "atom10"), ... from `version`."""
    version = _text(document, "version")
    match = _VERSION.match(version.strip()) if version else None
    if match is None:
        shown = f" (version {version[:80]!r})" if version else ""
        raise PermanentFetchError(source, f"not a feed ({kind}): JSON, but not a JSON Feed{shown}")
    major, _, minor = match["number"].partition(".")
    return f"json{major}{minor or '0'}"


def _article(feed: _Feed, item: Any) -> Article | str:
    """The item's Article, or why it was skipped."""
    if not isinstance(item, dict):
        return f"not an object but {_kind(item)}"
    link = canonical_url(_text(item, "url"), feed.base) or canonical_url(
        _text(item, "external_url"), feed.base
    )
    title = _one_line(_text(item, "title"))
    text = _item_text(item)
    if not (title or text or link):
        return "no title, content or url"
    raw = _raw(feed, item)
    if not title:
        title = infer_title(text) if text else str(link)
        raw["title_inferred"] = True
    published, when = _published(item, feed.zone)
    return Article(
        source=feed.source,
        guid=item_guid(_item_id(item), link, title, when),
        title=title,
        text=text,
        url=link,
        published=published,
        raw=raw,
    )


def _item_id(item: Mapping[str, Any]) -> str:
    """`id` is a string in the spec; JSON Feed 1.0 feeds in the wild also write numbers."""
    value = item.get("id")
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _item_text(item: Mapping[str, Any]) -> str:
    """Plain text of the fullest body the item has: HTML content, text content or summary."""
    candidates = [html_to_text(_text(item, "content_html") or "")]
    candidates += [tidy_text(_text(item, key) or "") for key in ("content_text", "summary")]
    return max(candidates, key=len)


def _published(item: Mapping[str, Any], zone: tzinfo | None) -> tuple[datetime | None, str]:
    """The first usable of `date_published` and `date_modified`, with the text it came from."""
    for key in ("date_published", "date_modified"):
        text = _text(item, key)
        moment = parse_json_date(text, zone) if text else None
        if moment is not None:
            return moment, str(text)
    return None, _text(item, "date_published") or _text(item, "date_modified") or ""


def parse_json_date(text: str, zone: tzinfo | None = None) -> datetime | None:
    """An RFC 3339 date (RFC 822 too: some feeds write it), aware: in the offset written, or in
    `zone` for "Z" or no offset (a zone-less time is `zone`'s wall clock); None if unreadable."""
    text = text.strip()
    if not text or len(text) > _MAX_DATE_TEXT:
        return None
    moment = _iso_date(text) or _rfc822_date(text)
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone or UTC)
    if zone is not None and text[-1] in "zZ":
        try:
            return moment.astimezone(zone)
        except (OverflowError, ValueError):  # at the calendar's edge: the UTC time is right
            return moment
    return moment


def _iso_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:
        return None


def _rfc822_date(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """Names (else URLs) of 1.1's `authors` list, else of 1.0's single `author` object."""
    listed = obj.get("authors")
    people = listed if isinstance(listed, list) else [obj.get("author")]
    names = []
    for person in people:
        if isinstance(person, dict):
            name = _one_line(_text(person, "name")) or _one_line(_text(person, "url"))
            if name:
                names.append(name)
    return tuple(dict.fromkeys(names))


def _raw(feed: _Feed, item: Mapping[str, Any]) -> dict[str, Any]:
    """The item's own fields (JSON already), with authors, tags and language normalised."""
    raw = dict(item)
    tags = item.get("tags")
    raw["tags"] = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
    raw["authors"] = list(_authors(item) or feed.authors)
    raw["language"] = _text(item, "language") or feed.language
    raw["feed_title"] = feed.title
    return raw


def _text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def _kind(value: Any) -> str:
    """How JSON would name the type of `value`, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
