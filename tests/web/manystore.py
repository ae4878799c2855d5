"""A store of many developments, written through db's repository functions (sources, articles,
apply_changes): each development one article and one rule match, categories and regions rotating,
first seen in batches spread over the last 80 days (later numbers later).

`python -m tests.web.manystore URL N` fills a store from the command line (the page-load
measurement of README's web console section uses 10,000).
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

from core.model import Article, Development, DevelopmentChange, Match, NewRef, SourceSpec
from db import (
    apply_changes,
    create_engine_for,
    make_sessionmaker,
    store_articles,
    upgrade,
    upsert_sources,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# First-seen times spread over this many days before now, so the 90-day chart has columns.
SPREAD_DAYS = 80
CATEGORIES = ("missile_launch", "military_exercise", "summit", "sanctions")
REGIONS = (("korea", "north-korea"), ("japan",), ("china", "taiwan"), ("korea", "japan"))
BATCH = 125


def _article(n: int) -> Article:
    return Article(
        source=f"outlet-{n % 7}",
        guid=f"many-{n}",
        title=f"Report number {n} on event {n}",
        text=f"Report number {n}. Unique words {n * 7919} {n * 104729}. " * 3,
        url=f"https://outlet-{n % 7}.example/news/{n}",
        published=T0 + timedelta(minutes=n),
    )


def _change(n: int) -> DevelopmentChange:
    category = CATEGORIES[n % len(CATEGORIES)]
    regions = REGIONS[n % len(REGIONS)]
    event = date(2026, 1, 1) + timedelta(days=n % 90)
    dev = Development(
        category=category,
        status="occurred",
        background=False,
        title=f"Event {n} ({category})",
        event_date=event,
        place=f"Place {n % 50}",
        actors=(f"Actor {n % 30}",),
        facts={"n": n},
        level="high",
        tags=(category,),
        regions=regions,
    )
    match = Match(
        article_key=f"many-{n}",
        rule_id=f"{category}.v1",
        category=category,
        status="occurred",
        background=False,
        event_date=event,
        place=dev.place,
        actors=dev.actors,
        facts=dev.facts,
        terms=("event",),
        snippet=f"Event {n} happened",
        level="high",
        tags=dev.tags,
        title=dev.title,
        regions=regions,
    )
    return DevelopmentChange(
        ref=NewRef(n),
        development=dev,
        evidence=(match,),
        is_new=True,
        previous_status=None,
        alert="new",
    )


def fill(url: str, count: int) -> None:
    """Add `count` developments (numbered from 0) to the store at `url`, creating it."""
    engine = create_engine_for(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    began = datetime.now(UTC) - timedelta(days=SPREAD_DAYS)
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        with sessions.begin() as session:
            ids = upsert_sources(
                session,
                [
                    SourceSpec(name=f"outlet-{k}", kind="rss", location=f"https://o{k}.example/")
                    for k in range(7)
                ],
            )
            seen = began + timedelta(days=SPREAD_DAYS) * start / count
            stored = store_articles(session, ids, [_article(n) for n in numbers], seen)
            keys = {item.article.guid: item.id for item in stored.new}
            apply_changes(session, [_change(n) for n in numbers], keys, seen)
    engine.dispose()


if __name__ == "__main__":
    fill(sys.argv[1], int(sys.argv[2]))
