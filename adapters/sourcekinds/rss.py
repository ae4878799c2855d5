"""The `rss` source kind: RSS, RSS 1.0 (RDF), Atom and JSON Feed (1.0, 1.1) feeds over HTTP.

Fetching (`adapters.net.fetch`) and parsing (`adapters.feeds.parse`) are separate steps; this
module joins them and turns their outcome into a `FetchResult`: a 304 is "not_modified", a body
identical to the last one (same hash) is "unchanged" and is not parsed, and every failure is an
"error" result that says whether it is worth retrying soon (`transient`). What it remembers of a
source between fetches (validators, body hash, feed TTL) is its cursor, a `FeedCursor`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.feeds.parse import parse_feed
from adapters.net.context import FetchContext
from adapters.net.fetch import HttpOptions, HttpOutcome, fetch_url
from adapters.options import parse_options
from adapters.registry import BaseAdapter, register
from adapters.text.links import display_url
from core.cursor import Cursor
from core.errors import FetchError, PermanentFetchError, TransientFetchError
from core.model import FetchResult, SourceSpec, SourceState

log = logging.getLogger(__name__)


@register("rss")
class RssAdapter(BaseAdapter):
    """RSS, RSS 1.0 (RDF), Atom and JSON Feed over HTTP, fetched conditionally.

    Fetches a feed URL (`spec.location`) and parses it into Articles.

    Options (`spec.options`): the fields of `HttpOptions` (timeouts, max_bytes, retries, ...).
    The context's network policy says which private networks it may reach; without a context,
    none (a one-off context with the default policy is used).
    """

    kind: ClassVar[str] = "rss"
    location_key: ClassVar[str] = "url"
    options_type: ClassVar[type[HttpOptions]] = HttpOptions

    def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
        """Fetch and parse `spec` once; never raises for anything the source does."""
        try:
            options = parse_options(HttpOptions, spec.options)
            source_zone(spec)
        except ValueError as exc:
            return _error(spec, FetchError(spec.name, f"bad options: {exc}"))
        if self.context is not None:
            return self._fetch(self.context, spec, state, options)
        with FetchContext(concurrency=1, per_host=1) as context:
            return self._fetch(context, spec, state, options)

    def _fetch(
        self, context: FetchContext, spec: SourceSpec, state: SourceState, options: HttpOptions
    ) -> FetchResult:
        previous = FeedCursor.read(state.cursor)
        try:
            with context.client() as client:
                outcome = fetch_url(
                    client,
                    context.limiter,
                    spec.location,
                    source=spec.name,
                    headers=spec.headers,
                    etag=previous.etag,
                    last_modified=previous.last_modified,
                    options=options,
                )
        except FetchError as exc:
            return _error(spec, exc)
        return _result(spec, previous, outcome)


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """What the rss kind keeps of a source between fetches, as its cursor (`core.cursor`).

    The validators of the last answer (ETag, Last-Modified) for the next conditional GET, the
    hash of the last body (a server without validators that sends the same bytes again is
    "unchanged", not parsed), and the feed's own TTL (RSS <ttl>, seconds): a 304 does not repeat
    the body that states it, yet the next poll still honours it, so the kind remembers it and
    states it again as `FetchResult.fresh_for_s`, the generic scheduling hint.
    """

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    feed_ttl_s: int | None = None

    @classmethod
    def read(cls, cursor: Mapping[str, Any]) -> FeedCursor:
        """The cursor `rss` wrote. Any other shape (a key it never writes, a value of the wrong
        type: another kind's, an older version's, a corrupt one) reads as empty, so the fetch
        is a full one rather than a crash or a request with a nonsense validator."""
        if not set(cursor).issubset(_FEED_CURSOR_KEYS):
            return cls()
        etag, last_modified, body_hash, ttl = map(cursor.get, _FEED_CURSOR_KEYS)  # field order
        texts_ok = all(
            text is None or isinstance(text, str) for text in (etag, last_modified, body_hash)
        )
        ttl_ok = ttl is None or (type(ttl) is int and ttl >= 0)  # bool is an int subclass
        if not (texts_ok and ttl_ok):
            return cls()
        return cls(etag, last_modified, body_hash, ttl)

    def to_cursor(self) -> Cursor:
        """The cursor to store: the fields that have a value (read one by one: asdict's deep
        copy was most of what a 304 cost this module)."""
        fields = ((key, getattr(self, key)) for key in _FEED_CURSOR_KEYS)
        return Cursor({key: value for key, value in fields if value is not None})


_FEED_CURSOR_KEYS = tuple(field.name for field in dataclasses.fields(FeedCursor))


def _result(spec: SourceSpec, previous: FeedCursor, outcome: HttpOutcome) -> FetchResult:
    problems = []
    if outcome.moved_to:
        moved = display_url(outcome.moved_to)
        problems.append(f"moved permanently to {moved}: update the sources file")
    body_hash = None if outcome.not_modified else hashlib.sha256(outcome.body).hexdigest()
    if outcome.not_modified or body_hash == previous.body_hash:
        # A 304 or the same body again: keep what was known, with any validator it brought.
        return FetchResult(
            spec.name,
            "not_modified" if outcome.not_modified else "unchanged",
            http_status=304 if outcome.not_modified else outcome.status,
            cursor=_revalidated(previous, outcome),
            problems=tuple(problems),
            fresh_for_s=longest_hint(outcome.fresh_for_s, previous.feed_ttl_s),
        )
    try:
        feed = parse_feed(
            outcome.body,
            source=spec.name,
            url=outcome.url,
            content_type=outcome.content_type,
            zone=source_zone(spec),
        )
    except FetchError as exc:
        exc.http_status = outcome.status
        return _error(spec, exc, problems)
    except Exception as exc:  # untrusted bytes: a parser bug on one feed must not escape
        log.exception("%s: parsing %s failed", spec.name, display_url(outcome.url))
        failure = PermanentFetchError(spec.name, f"cannot parse feed: {type(exc).__name__}: {exc}")
        failure.http_status = outcome.status
        return _error(spec, failure, problems)
    fetched = FeedCursor(outcome.etag, outcome.last_modified, body_hash, feed.ttl_s)
    return FetchResult(
        spec.name,
        "ok",
        articles=feed.articles,
        http_status=outcome.status,
        cursor=fetched.to_cursor(),
        problems=(*problems, *feed.problems),
        fresh_for_s=longest_hint(outcome.fresh_for_s, feed.ttl_s),
    )


def _revalidated(previous: FeedCursor, outcome: HttpOutcome) -> Cursor | None:
    """The cursor after a 304 or the same body again: None (the store keeps the one it has) when
    the answer brought no validator the cursor lacks, as nearly every such answer does; that
    spares a new cursor per source and its write in each unchanged cycle."""
    etag = outcome.etag or previous.etag
    last_modified = outcome.last_modified or previous.last_modified
    if (etag, last_modified) == (previous.etag, previous.last_modified):
        return None
    return dataclasses.replace(previous, etag=etag, last_modified=last_modified).to_cursor()


def longest_hint(*hints: float | None) -> float | None:
    """The longest of the freshness hints a source gave (its headers, its feed's ttl): each
    is the publisher asking to be left alone that long."""
    given = [hint for hint in hints if hint is not None]
    return max(given) if given else None


def source_zone(spec: SourceSpec) -> tzinfo | None:
    """The publisher's time zone of `spec`; ValueError names an unknown one."""
    if not spec.timezone:
        return None
    try:
        return ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {spec.timezone!r}") from None


def _error(spec: SourceSpec, exc: FetchError, problems: list[str] | None = None) -> FetchResult:
    """An error result; it leaves the cursor as it was, so the next poll is the same
    conditional request."""
    retry_after = exc.retry_after if isinstance(exc, TransientFetchError) else None
    return FetchResult(
        spec.name,
        "error",
        http_status=exc.http_status,
        error=exc.reason,
        transient=exc.transient,
        retry_after_s=retry_after,
        problems=tuple(problems or ()),
    )
