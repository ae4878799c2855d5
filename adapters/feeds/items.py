"""What every feed format's parser takes (a `FeedBody`) and hands back: a `ParsedFeed` of
Articles with unique guids.

Shared by the XML parser (`adapters.feeds.parse`, through feedparser) and the JSON Feed parser
(`adapters.feeds.jsonfeed`), so an item becomes the same Article whichever format carried it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo

from core.model import Article


@dataclass(frozen=True, slots=True)
class FeedBody:
    """A fetched feed body and what reading it needs: the source it is for, the URL it came from
    (the base of relative links), its Content-Type, and the publisher's time zone (for times
    written in UTC or without a zone)."""

    body: bytes
    source: str
    url: str
    content_type: str | None = None
    zone: tzinfo | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The items of one feed body, and what was wrong with the body if anything."""

    articles: tuple[Article, ...]
    title: str | None
    version: str | None
    problems: tuple[str, ...] = ()
    ttl_s: int | None = None  # the feed's own refresh hint (RSS <ttl>), in seconds


def item_guid(item_id: str, link: str | None, title: str, when: str) -> str:
    """The item's id, else its canonical link, else a hash of its title and date text."""
    if item_id.strip():
        return item_id.strip()
    if link:
        return link
    return "sha256:" + hashlib.sha256(f"{title}\n{when}".encode()).hexdigest()


def unique_guids(articles: Iterable[Article]) -> tuple[tuple[Article, ...], int]:
    """The first article per guid (feeds do repeat items), and how many repeats were dropped."""
    seen: dict[str, Article] = {}
    total = 0
    for article in articles:
        total += 1
        seen.setdefault(article.guid, article)
    return tuple(seen.values()), total - len(seen)


def repeated_guids_problem(duplicates: int) -> list[str]:
    """The problem line for items dropped as repeats, if any were."""
    if not duplicates:
        return []
    return [f"{duplicates} items repeated an earlier item's guid and were skipped"]
