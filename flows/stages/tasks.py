"""The stages of a run as Prefect tasks: ingest (fetch and store), detect, send.

Tasks never take one article: Prefect costs ~30 ms of CPU per task run (PITFALLS.md), so a cycle
runs two or three tasks whatever the number of feeds and articles. Ingest's work is
`flows.stages.ingest` (it also runs without Prefect, in a one-off run's first pass). A monitor cycle
runs detect-and-send beside ingest, on what is stored so far; a replay runs detect, then send,
once ingest is done.
"""

from __future__ import annotations

import functools
import logging
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, ParamSpec

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

import db
import detect
from core.model import DevelopmentChange, Match
from flows.context import clock
from flows.context.runtime import transaction
from flows.stages.analysis import AnalysedAhead, Analysis, analysed
from flows.stages.delivery import SendOutcome, deliver_pending
from flows.stages.errorline import describe
from flows.stages.ingest import StoreSignal, ingest
from flows.stages.outcomes import fold, log_summary, logged_as
from flows.stages.report import FailedItem
from notify import Subscribers

if TYPE_CHECKING:
    from flows.stages.progress import RunProgress

log = logging.getLogger(__name__)
P = ParamSpec("P")

# Articles detected per transaction: bounds the memory and the lock time of one chunk, and how
# much work a crash can roll back (it is redone by the next run).
DETECT_CHUNK = 200
# A replay's chunks when they are analysed before they are taken (`flows.stages.ahead`): recording
# 200 articles is ~20 ms of queries and a commit, so larger chunks cut a 10,000-article
# replay's detect stage by ~0.6 CPU-s, and its lock is still held ~0.1 s at a time. (The
# result is the same for any chunk size: a chunk commits what a run killed after it would leave.)
REPLAY_DETECT_CHUNK = 1_000


@dataclass(slots=True)
class DetectOutcome:
    """What the detect stage did over the articles it took from the store. `article_ids` are
    their store ids: besides this run's own articles, work an earlier run stored and left
    undetected (it crashed, or could not reach Prefect's API), whose developments the run's
    report shows too."""

    articles: int = 0
    matches: int = 0
    changes: int = 0
    alert_ids: list[int] = field(default_factory=list, metadata=logged_as("alerts"))
    failed: list[FailedItem] = field(default_factory=list)
    article_ids: array[int] = field(default_factory=lambda: array("q"), metadata=logged_as(None))


def _apply_matches(
    session: Session, matches: Sequence[Match], queued: Sequence[db.QueuedArticle], lookback: int
) -> tuple[int, list[int]]:
    """Join the matches to developments and write the changes and alerts; (changes, alert ids)."""
    if not matches:
        return 0, []
    references = [item.reference for item in queued if item.reference is not None]
    since = min(references) - timedelta(days=lookback) if references else None
    known = db.candidate_developments(session, {m.category for m in matches}, since)
    changes: list[DevelopmentChange] = detect.assign(matches, known)
    article_ids = {str(item.id): item.id for item in queued}
    return len(changes), db.apply_changes(session, changes, article_ids, seen_at=clock.utcnow())


def record_chunk(
    session: Session, analysis: Analysis, rules_version: str, lookback_days: int
) -> DetectOutcome:
    """Write an analysed chunk's changes, alerts and marks in the caller's transaction, which
    holds the detection lock. Articles another run detected since they were read are left out:
    the chunk was analysed outside the lock, so that storing goes on meanwhile."""
    still = db.take_awaiting(session, rules_version, [item.id for item in analysis.queued])
    queued = [item for item in analysis.queued if item.id in still]
    errors = {i: error for i, error in analysis.errors.items() if i in still}
    ok = [item for item in queued if item.id not in errors]
    kept = {str(item.id) for item in ok}
    matches = [m for m in analysis.matches if m.article_key in kept]
    changes, alert_ids = _apply_matches(session, matches, ok, lookback_days)
    db.mark_failed(session, errors, rules_version)
    by_id = {item.id: item for item in queued}
    failed = [
        FailedItem(i, by_id[i].source, by_id[i].guid, error) for i, error in sorted(errors.items())
    ]
    taken = array("q", (item.id for item in queued))
    return DetectOutcome(len(queued), len(matches), changes, alert_ids, failed, taken)


def _detect_next_chunk(
    database_url: str,
    ruleset: detect.RuleSet,
    rules_version: str,
    lookback_days: int,
    size: int,
    ahead: AnalysedAhead | None = None,
) -> DetectOutcome | None:
    """Take the next chunk from the store and detect it; None when nothing awaits detection.

    The chunk is analysed outside any transaction (on SQLite a transaction holds the store's
    one write lock, and a cycle stores while it detects), then written under the detection
    lock. When the chunk's writes fail as a whole (one article's matches break joining), each
    of its articles is detected in a transaction of its own and one that still fails is marked
    failed.
    """
    with transaction(database_url) as session:
        queued = db.pending_detection(session, rules_version, size)
    if not queued:
        return None
    analysis = analysed(ruleset, queued, ahead)
    try:
        with transaction(database_url) as session:
            db.lock_developments(session)
            return record_chunk(session, analysis, rules_version, lookback_days)
    except Exception:
        log.warning("detecting a chunk failed; detecting its %d articles one by one", len(queued))
    outcome = DetectOutcome()
    for item in queued:
        alone = _detect_alone(database_url, ruleset, rules_version, item, lookback_days)
        fold(outcome, alone)
    return outcome


def _detect_alone(
    database_url: str,
    ruleset: detect.RuleSet,
    rules_version: str,
    item: db.QueuedArticle,
    lookback_days: int,
) -> DetectOutcome:
    """Detect one article in its own transaction; if that fails, record it as failed.

    A store that cannot be reached or is busy is not the article's fault: that error ends the
    run and leaves the article pending for the next one.
    """
    try:
        with transaction(database_url) as session:
            db.lock_developments(session)
            # record_chunk leaves it out if another run took it since the chunk rolled back.
            return record_chunk(session, analysed(ruleset, [item]), rules_version, lookback_days)
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        error = describe(exc)
    with transaction(database_url) as session:
        db.mark_failed(session, {item.id: error}, rules_version)
    return DetectOutcome(
        articles=1,
        failed=[FailedItem(item.id, item.source, item.guid, error)],
        article_ids=array("q", [item.id]),
    )


# Ingest's work as a task run; the function itself also runs without Prefect (`flows.runs.oneoff`).
ingest_stage = task(name="ingest", cache_policy=NO_CACHE, retries=0)(ingest)


def detect_pending(
    database_url: str,
    ruleset: detect.RuleSet,
    rules_version: str,
    lookback_days: int,
    chunk_size: int = DETECT_CHUNK,
    progress: RunProgress | None = None,
    ahead: AnalysedAhead | None = None,
) -> DetectOutcome:
    """Detect every article awaiting detection in the store, whichever run stored it;
    `progress` hears of each chunk; `ahead` holds analyses made before (`flows.stages.ahead`).

    Chunks of `chunk_size` articles, each in one transaction that holds the detection lock and
    commits the chunk's development changes, alerts and detection marks together: a run killed
    anywhere leaves the rest pending for the next run, and nothing is detected twice.
    """
    outcome = DetectOutcome()
    while (
        part := _detect_next_chunk(
            database_url, ruleset, rules_version, lookback_days, chunk_size, ahead
        )
    ) is not None:
        fold(outcome, part)
        if progress is not None:
            progress.detected(part.articles, len(part.alert_ids))
    return outcome


def _summarised(detect_fn: Callable[P, DetectOutcome]) -> Callable[P, DetectOutcome]:
    """`detect_fn`, then the detect stage's summary line of what it did."""

    @functools.wraps(detect_fn)
    def logged(*args: P.args, **kwargs: P.kwargs) -> DetectOutcome:
        outcome = detect_fn(*args, **kwargs)
        log_summary("detect", outcome)
        return outcome

    return logged


# The detect stage as a task run: `detect_pending` once, then one summary line. (Detect-and-send
# runs `detect_pending` many times and logs one summary of them all.)
detect_stage = task(name="detect", cache_policy=NO_CACHE)(_summarised(detect_pending))


@task(name="send", cache_policy=NO_CACHE)
def send_stage(database_url: str, targets: Subscribers, max_attempts: int) -> SendOutcome:
    """Route new alerts to subscribers and deliver every due delivery exactly once."""
    outcome = deliver_pending(database_url, targets, max_attempts, now=clock.utcnow())
    log_summary("send", outcome)
    return outcome


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What the detect-and-send stage of a streaming cycle did."""

    detected: DetectOutcome
    sent: SendOutcome


@task(name="detect-and-send", cache_policy=NO_CACHE)
def detect_and_send_stage(
    database_url: str,
    ruleset: detect.RuleSet,
    rules_version: str,
    lookback_days: int,
    targets: Subscribers,
    max_attempts: int,
    signal: StoreSignal,
    progress: RunProgress | None = None,
) -> AlertOutcome:
    """Detect and send while the ingest stage is still storing: each time it stores articles,
    detect every article awaiting detection and send the alerts that raised; once it has
    finished, a last pass detects what remains and delivers every due delivery (retries of
    earlier runs included).
    """
    detected, sent = DetectOutcome(), SendOutcome()
    while True:
        finished = signal.wait()
        part = detect_pending(
            database_url, ruleset, rules_version, lookback_days, progress=progress
        )
        fold(detected, part)
        if part.alert_ids or finished:
            delivered = deliver_pending(database_url, targets, max_attempts, now=clock.utcnow())
            fold(sent, delivered)
        if finished:
            log_summary("detect", detected)
            log_summary("send", sent)
            return AlertOutcome(detected, sent)
