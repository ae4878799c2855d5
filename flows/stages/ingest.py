"""The ingest stage's work, without Prefect: fetch sources and store what they return.

Ingest stores each group of sources as their fetches complete, with at most a window of sources
in flight or awaiting their store, so a run holds a bounded number of articles in memory, and
what is stored awaits detection in the store. `flows.stages.tasks.ingest_stage` runs it as a Prefect
task; a one-off `watchfloor run` runs it before deciding whether Prefect is needed at all
(`flows.runs.oneoff`), which is why this module must not import Prefect.
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

import adapters
import db
from core.model import Article, FetchResult, SourceSpec, SourceState
from flows.context import clock
from flows.context.allocator import release_freed_memory, return_memory_promptly
from flows.context.runtime import transaction
from flows.stages.errorline import describe
from flows.stages.keyed import log_source_outcome, log_stage
from flows.stages.outcomes import fold
from flows.stages.report import SourceLine, source_lines

if TYPE_CHECKING:
    from flows.context.settings import Settings
    from flows.stages.progress import RunProgress

log = logging.getLogger(__name__)

# After a first fetch completes, how long the ingest stage gathers more before storing them: one
# transaction per group rather than per source, for at most this delay to an item.
GATHER_S = 0.05


@dataclass(slots=True)
class StoreOutcome:
    """What the store stage did. The stored articles now await detection in the store."""

    new: int = 0
    read: int = 0
    duplicates: int = 0
    linked: int = 0
    revised: int = 0
    new_per_source: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    # Store ids of every article read (new or stored before): the report lists the developments
    # they are evidence of. An array of ints: a 100,000-file replay keeps 0.8 MB, not its guids.
    article_ids: array[int] = field(default_factory=lambda: array("q"))


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How the ingest stage fetches (from the settings)."""

    concurrency: int
    per_host: int
    # Hand each kind its stored cursor (rss: ETag, Last-Modified, body hash); a replay turns
    # it off so replaying the same files reads them again (and the store deduplicates).
    conditional: bool = True
    allow_networks: tuple[str, ...] = ()  # private networks opened to fetches
    # Sources in flight or awaiting their store at a time: bounds a cycle's memory.
    window: int = 250


def fetch_policy(settings: Settings, *, conditional: bool = True) -> FetchPolicy:
    """How a run fetches, from its settings (`conditional=False`: a replay)."""
    return FetchPolicy(
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
        conditional=conditional,
        allow_networks=tuple(settings.fetch_allow_networks),
        window=settings.fetch_batch_size,
    )


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """What the ingest stage fetches, and how."""

    # Read in order, each batch stored before the next is read (a replay's chunks).
    batches: Sequence[Sequence[SourceSpec]]
    policy: FetchPolicy
    # Each source's location as the report names it: a replay's chunks are one source read in
    # parts, and the report names the source's location, not a chunk's.
    locations: dict[str, str]


def fetch_plan(
    settings: Settings,
    specs: Sequence[SourceSpec],
    batches: Sequence[Sequence[SourceSpec]] | None = None,
    *,
    conditional: bool = True,
) -> FetchPlan:
    """Fetch `specs` in one batch (or as `batches`, chunks of them) by the run's settings."""
    return FetchPlan(
        batches=[specs] if batches is None else batches,
        policy=fetch_policy(settings, conditional=conditional),
        locations={spec.name: spec.location for spec in specs},
    )


@dataclass(slots=True)
class IngestOutcome:
    """What the ingest stage fetched and stored over all its batches."""

    stored: StoreOutcome = field(default_factory=StoreOutcome)
    sources: dict[str, SourceLine] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def register_batch(
    database_url: str, specs: Sequence[SourceSpec], policy: FetchPolicy
) -> db.RegisteredSources:
    """Register a batch's sources before fetching them (`db.register_sources`), reading each
    one's stored row once for the whole batch: its id, for every store of the batch's results,
    and what its last fetch left (its kind's cursor), or a fresh state when the policy fetches
    unconditionally."""
    with transaction(database_url) as session:
        registered = db.register_sources(session, specs)
    if policy.conditional:
        return registered
    return db.RegisteredSources(registered.ids, {spec.name: SourceState() for spec in specs})


def reading_times(
    results: Sequence[FetchResult],
    fallback: datetime,
    clocks: dict[str, datetime] | None = None,
) -> dict[tuple[str, str], tuple[datetime, bool]]:
    """(reference, dated) per (source, guid): the article's own date, else its source's replay
    clock (the newest date read before it, in this batch or an earlier one: `clocks`, which
    this advances), else `fallback` (when it was fetched)."""
    clocks = {} if clocks is None else clocks
    times: dict[tuple[str, str], tuple[datetime, bool]] = {}
    for result in results:
        start = clocks.get(result.source)
        for article, now, dated in adapters.replay_clock(result.articles, start):
            times[(article.source, article.guid)] = (now or fallback, dated)
            if now is not None:
                clocks[result.source] = now
    return times


def _store_each(
    session: Session,
    source_ids: dict[str, int],
    articles: Sequence[Article],
    fetched_at: datetime,
    readings: dict[tuple[str, str], tuple[datetime, bool]],
) -> tuple[db.StoreResult, list[str]]:
    """Store a batch, or, when the batch as a whole fails (one malformed item), each article
    in its own savepoint, so only the bad item is skipped and reported."""
    try:
        with session.begin_nested():
            return db.store_articles(session, source_ids, articles, fetched_at, readings), []
    except Exception:
        log.warning("storing the batch failed; storing its %d articles one by one", len(articles))
    total = db.StoreResult(new=[], duplicates=0, linked=0)
    failed: list[str] = []
    for article in articles:
        try:
            with session.begin_nested():
                one = db.store_articles(session, source_ids, [article], fetched_at, readings)
        except Exception as exc:
            failed.append(f"{article.source}: item {article.guid!r} not stored: {describe(exc)}")
            continue
        total = db.StoreResult(
            new=total.new + one.new,
            duplicates=total.duplicates + one.duplicates,
            linked=total.linked + one.linked,
            revised=total.revised + one.revised,
        )
    return total, failed


def poll_intervals(specs: Sequence[SourceSpec], results: Sequence[FetchResult]) -> dict[str, int]:
    """Each fetched source's wait until its next poll: its interval, stretched by what the
    source said about its own freshness (`SourceSpec.poll_interval_after`)."""
    by_name = {spec.name: spec for spec in specs}
    return {
        result.source: by_name[result.source].poll_interval_after(result.fresh_for_s)
        for result in results
        if result.source in by_name
    }


def store_batch(
    database_url: str,
    specs: Sequence[SourceSpec],
    results: Sequence[FetchResult],
    clocks: dict[str, datetime] | None = None,
    source_ids: dict[str, int] | None = None,
) -> StoreOutcome:
    """Store every fetched article and the sources' health in one transaction.

    Each stored article awaits detection in the store with the reading (reference time) this
    run gives it, so whichever run detects it reads it the same way. Validators (ETag, body
    hash) advance only together with the articles they cover, so a failed store never makes the
    next poll skip items that were never saved. `clocks` carries each source's replay clock
    from one batch to the next. `source_ids`: the ids of `specs` when the caller registered
    them (`register_batch`); else `specs` are registered here.
    """
    now = clock.utcnow()
    articles = [article for result in results for article in result.articles]
    readings = reading_times(results, fallback=now, clocks=clocks)
    with transaction(database_url) as session:
        if source_ids is None:
            source_ids = db.upsert_sources(session, specs)
        stored, failed = _store_each(session, source_ids, articles, now, readings)
        read_ids = db.stored_ids(session, source_ids, [(a.source, a.guid) for a in articles])
        intervals = poll_intervals(specs, results)
        db.record_fetches(session, results, now, intervals, source_ids)
    outcome = StoreOutcome(
        new=len(stored.new),
        read=len(articles),
        duplicates=stored.duplicates,
        linked=stored.linked,
        revised=stored.revised,
        failed=failed,
        article_ids=array("q", read_ids),
    )
    for item in stored.new:
        source = item.article.source
        outcome.new_per_source[source] = outcome.new_per_source.get(source, 0) + 1
    return outcome


def ingest(
    database_url: str,
    plan: FetchPlan,
    signal: StoreWatcher | None = None,
    progress: RunProgress | None = None,
) -> IngestOutcome:
    """Fetch each batch of the plan's sources, storing what arrives while the rest is being
    fetched.

    Results are committed as they come, each group with its sources' health in one
    transaction, so a run killed anywhere leaves the stored ones awaiting detection and the rest
    to be fetched again; `signal` hears of every commit that stored articles, so detection can
    start on them at once. `progress` hears of every group stored.
    """
    started = time.monotonic()
    return_memory_promptly()
    outcome = IngestOutcome()
    clocks: dict[str, datetime] = {}
    order: dict[str, int] = {}
    policy, locations = plan.policy, plan.locations
    for batch in plan.batches:
        ingest_batch(database_url, batch, policy, locations, clocks, outcome, signal, progress)
        release_freed_memory()  # the batch's last articles, freed as ingest_batch returned
        order.update((spec.name, len(order)) for spec in batch if spec.name not in order)
    # Sources report in the order they were given, not in the order their fetches finished.
    outcome.sources = dict(sorted(outcome.sources.items(), key=lambda item: order[item[0]]))
    log_ingest_summary(outcome, time.monotonic() - started)
    return outcome


def log_ingest_summary(outcome: IngestOutcome, seconds: float) -> None:
    """The ingest stage's one summary line: sources by outcome, articles read and stored."""
    statuses = Counter(line.status for line in outcome.sources.values())
    stored = outcome.stored
    log_stage(
        "ingest",
        sources=len(outcome.sources),
        **{status: statuses[status] for status in sorted(statuses)},
        articles=stored.read,
        new=stored.new,
        revised=stored.revised,
        duplicates=stored.duplicates,
        failed=len(stored.failed),
        seconds=seconds,
    )


def ingest_batch(
    database_url: str,
    batch: Sequence[SourceSpec],
    policy: FetchPolicy,
    locations: dict[str, str],
    clocks: dict[str, datetime],
    outcome: IngestOutcome,
    signal: StoreWatcher | None,
    progress: RunProgress | None = None,
) -> None:
    """Fetch one batch and store each group of results as it completes, folding it into
    `outcome`: a slow source delays only its own items. A function of its own so that the
    batch's articles are freed when it returns, and the memory they took handed back."""
    registered = register_batch(database_url, batch, policy)
    results = adapters.fetch_stream(
        batch,
        registered.states,
        window=policy.window,
        gather_s=GATHER_S,
        concurrency=policy.concurrency,
        per_host=policy.per_host,
        allow_networks=policy.allow_networks,
    )
    store = partial(
        store_group,
        database_url,
        batch,
        source_ids=registered.ids,
        clocks=clocks,
        outcome=outcome,
        locations=locations,
        signal=signal,
        progress=progress,
    )
    # Results with no article to store (unchanged, failed) wait for the next group that has
    # some, or for a window of them: a no-change cycle writes a few transactions, not hundreds.
    waiting: list[tuple[int, FetchResult]] = []
    since_trim = 0
    for group in results:
        waiting += group
        if len(waiting) >= policy.window or any(result.articles for _, result in group):
            store(waiting)
            since_trim += len(waiting)
            waiting = []
        if since_trim >= policy.window:  # about a window's articles freed since the last trim
            release_freed_memory()
            since_trim = 0
    if waiting:
        store(waiting)


def store_group(
    database_url: str,
    batch: Sequence[SourceSpec],
    group: Sequence[tuple[int, FetchResult]],
    source_ids: dict[str, int],
    clocks: dict[str, datetime],
    outcome: IngestOutcome,
    locations: dict[str, str],
    signal: StoreWatcher | None,
    progress: RunProgress | None = None,
) -> None:
    """Store one group of fetch results (indexes in `batch`), fold it into `outcome`, tell
    `progress`, and wake detection when articles were stored. `source_ids`: the batch's
    sources' ids (`register_batch`)."""
    fetched = [result for _, result in group]
    stored = store_batch(database_url, [batch[i] for i, _ in group], fetched, clocks, source_ids)
    add_batch(outcome, fetched, stored, locations)
    for result in fetched:
        log_source_outcome(result, stored.new_per_source.get(result.source, 0))
    if progress is not None:
        progress.stored(len(group), stored.read)
    if signal is not None and (stored.new or stored.revised):
        signal.stored()


class StoreWatcher(Protocol):
    """What hears of each commit of the ingest stage that stored articles."""

    def stored(self) -> None:
        """Articles were committed."""
        ...


class StoreSignal:
    """Tells a cycle's detect-and-send stage when the ingest stage has stored new articles and
    when it has finished, so detection runs while slower sources are still being fetched.

    Only a wake-up: what to detect is always taken from the store, so a lost or extra signal
    costs a query, never an article.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._stored = False
        self._finished = False

    def stored(self) -> None:
        """Articles were committed: wake the waiting stage."""
        with self._changed:
            self._stored = True
            self._changed.notify_all()

    def finish(self) -> None:
        """Ingest is over (done or failed): nothing more will be stored this cycle."""
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def wait(self) -> bool:
        """Block until articles were stored since the last call or ingest finished; True once
        it has finished, and so everything it stored is in the store."""
        with self._changed:
            self._changed.wait_for(lambda: self._stored or self._finished)
            self._stored = False
            return self._finished


def add_batch(
    outcome: IngestOutcome,
    results: Sequence[FetchResult],
    stored: StoreOutcome,
    locations: dict[str, str],
) -> None:
    """Fold one batch's fetch results and store outcome into the stage's outcome."""
    fold(outcome.stored, stored)
    for line in source_lines(results, locations, stored.new_per_source):
        earlier = outcome.sources.get(line.name)
        outcome.sources[line.name] = line if earlier is None else joined_line(earlier, line)
    outcome.problems += [problem for r in results for problem in r.problems]
    outcome.problems += [f"{r.source}: {r.error}" for r in results if r.status == "error"]


def joined_line(earlier: SourceLine, later: SourceLine) -> SourceLine:
    """One source read in several parts (a replay's chunks), as one line: ok when a part was."""
    ok = earlier if earlier.status == "ok" else later
    return SourceLine(
        name=earlier.name,
        url=earlier.url,
        status=ok.status,
        http_status=later.http_status if later.http_status is not None else earlier.http_status,
        items=earlier.items + later.items,
        new_items=earlier.new_items + later.new_items,
        error=ok.error,
    )
