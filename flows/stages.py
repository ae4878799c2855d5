"""The stages of a run as Prefect tasks: fetch, store, detect, send. Each takes a whole batch.

Tasks never take one article: Prefect costs ~30 ms of CPU per task run (PITFALLS.md), so a cycle
runs a handful of tasks whatever the number of feeds and articles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

import adapters
import db
import detect
from core.model import (
    Article,
    DetectionInput,
    DevelopmentChange,
    FetchResult,
    SourceSpec,
    SourceState,
    Target,
)
from flows.delivery import SendOutcome, deliver_pending
from flows.runtime import transaction


def utcnow() -> datetime:
    """The wall clock, in UTC (the one place flows read it, so tests can see where)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A freshly stored article with the "now" detection should read it against."""

    id: int
    article: Article
    reference: datetime
    dated: bool


@dataclass(slots=True)
class StoreOutcome:
    """What the store stage did."""

    new: list[NewArticle] = field(default_factory=list)
    read: int = 0
    duplicates: int = 0
    linked: int = 0
    new_per_source: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class DetectOutcome:
    """What the detect stage did."""

    matches: int = 0
    changes: int = 0
    alert_ids: list[int] = field(default_factory=list)


@task(name="fetch", cache_policy=NO_CACHE, retries=0)
def fetch_stage(
    database_url: str,
    specs: Sequence[SourceSpec],
    concurrency: int,
    per_host: int,
    conditional: bool = True,
    allow_networks: Sequence[str] = (),
) -> list[FetchResult]:
    """Fetch a batch of sources concurrently; a broken source becomes an error result.

    `conditional` sends the stored validators (ETag, Last-Modified, body hash); a replay turns
    it off so replaying the same files reads them again (and the store deduplicates).
    `allow_networks` opens private networks to fetches (settings.fetch_allow_networks).
    """
    states: dict[str, SourceState] = {spec.name: SourceState() for spec in specs}
    if conditional:
        with transaction(database_url) as session:
            db.upsert_sources(session, specs)
            states.update(db.source_states(session, [spec.name for spec in specs]))
    return adapters.fetch_many(
        specs, states, concurrency=concurrency, per_host=per_host, allow_networks=allow_networks
    )


def reading_times(
    results: Sequence[FetchResult], fallback: datetime
) -> dict[tuple[str, str], tuple[datetime, bool]]:
    """(reference, dated) per (source, guid): the article's own date, else its source's replay
    clock (the newest date read before it), else `fallback` (when it was fetched)."""
    times: dict[tuple[str, str], tuple[datetime, bool]] = {}
    for result in results:
        for article, now, dated in adapters.replay_clock(result.articles):
            times[(article.source, article.guid)] = (now or fallback, dated)
    return times


@task(name="store", cache_policy=NO_CACHE)
def store_stage(
    database_url: str, specs: Sequence[SourceSpec], results: Sequence[FetchResult]
) -> StoreOutcome:
    """Store every fetched article and the sources' health in one transaction.

    Validators (ETag, body hash) advance only together with the articles they cover, so a failed
    store never makes the next poll skip items that were never saved.
    """
    now = utcnow()
    articles = [article for result in results for article in result.articles]
    with transaction(database_url) as session:
        source_ids = db.upsert_sources(session, specs)
        stored = db.store_articles(session, source_ids, articles, fetched_at=now)
        db.record_fetches(
            session, results, now=now, poll_intervals={s.name: s.poll_interval_s for s in specs}
        )
    times = reading_times(results, fallback=now)
    outcome = StoreOutcome(read=len(articles), duplicates=stored.duplicates, linked=stored.linked)
    for item in stored.new:
        reference, dated = times[(item.article.source, item.article.guid)]
        outcome.new.append(NewArticle(item.id, item.article, reference, dated))
        source = item.article.source
        outcome.new_per_source[source] = outcome.new_per_source.get(source, 0) + 1
    return outcome


@task(name="detect", cache_policy=NO_CACHE)
def detect_stage(
    database_url: str, ruleset: detect.RuleSet, new: Sequence[NewArticle], lookback_days: int
) -> DetectOutcome:
    """Match the batch's articles, join matches to developments, write changes and alerts."""
    if not new:
        return DetectOutcome()
    matches = [
        match
        for item in new
        for match in detect.detect(
            ruleset,
            DetectionInput(
                key=str(item.id),
                title=item.article.title,
                text=item.article.text,
                reference=item.reference,
                dated=item.dated,
            ),
        )
    ]
    if not matches:
        return DetectOutcome()
    since = min(item.reference for item in new) - timedelta(days=lookback_days)
    article_ids = {str(item.id): item.id for item in new}
    with transaction(database_url) as session:
        db.lock_developments(session)
        known = db.candidate_developments(session, {m.category for m in matches}, since)
        changes: list[DevelopmentChange] = detect.assign(matches, known)
        alert_ids = db.apply_changes(session, changes, article_ids, seen_at=utcnow())
    return DetectOutcome(matches=len(matches), changes=len(changes), alert_ids=alert_ids)


@task(name="send", cache_policy=NO_CACHE)
def send_stage(database_url: str, targets: Sequence[Target], max_attempts: int) -> SendOutcome:
    """Route new alerts to subscribers and deliver every due delivery exactly once."""
    return deliver_pending(database_url, targets, max_attempts, now=utcnow())
