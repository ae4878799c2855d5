"""Whether a one-off run or replay has anything to do, answered without Prefect.

Starting a flow costs Prefect's ephemeral API server: seconds of CPU, and most of a no-change
`watchfloor run` from cron. When no source is due (a run), or every file is already stored as
it is (a replay), and nothing stored awaits a stage (an article awaiting detection, including
one that failed under other rules; an alert not yet routed; a delivery due or being sent), the
flow would find nothing to do, so the command answers here. A one-off run with sources due
polls them first, and asks the same (`flows.runs.oneoff`). Anything left for a stage, or a file
that is new, changed, unreadable or truncated, makes the flow run: nothing stored is left
unprocessed, and every problem is reported by the run as usual.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import adapters
import db
from core.model import SourceSpec, SourceState
from flows.context.clock import utcnow
from flows.context.runtime import transaction

NOTHING_TO_DO = (
    "nothing to do: no source is due and nothing awaits detection or delivery (Prefect not started)"
)
NOTHING_TO_REPLAY = (
    "nothing to do: every file is already stored and nothing awaits detection or delivery "
    "(Prefect not started)"
)


def due_sources(database_url: str, specs: Sequence[SourceSpec]) -> list[SourceSpec]:
    """Sources due in this cycle: new ones, and those whose poll has opened by now.

    A healthy source opens a quarter of its interval (30-60 s) before its next poll time, so
    it is polled on every tick of a schedule as long as its interval, not every other one when
    this cycle checks a moment sooner after its tick than the last one fetched; a failing
    source waits out its whole backoff or Retry-After. Why: `db.sources.poll_opens_at`.
    """
    with transaction(database_url) as session:
        due = set(db.due_source_names(session, [s.name for s in specs], utcnow()))
    return [spec for spec in specs if spec.name in due]


def stored_work(database_url: str, rules_version: str) -> bool:
    """True when the store holds work for a stage: articles awaiting detection under
    `rules_version`, or alerts awaiting routing or a delivery that is due (one waiting out a
    retry's backoff or quiet hours is no work yet)."""
    with transaction(database_url) as session:
        if db.count_pending_detection(session, rules_version):
            return True
        return db.has_pending_alerts(session, due_by=utcnow())


def run_has_work(database_url: str, specs: Sequence[SourceSpec], rules_version: str) -> bool:
    """Whether a run over the due sources of `specs` would do anything."""
    return bool(due_sources(database_url, specs)) or stored_work(database_url, rules_version)


def stored_replay(
    database_url: str, chunks: Sequence[SourceSpec], rules_version: str
) -> tuple[int, array[int]] | None:
    """(articles read, their store ids) when every file of a replay's `chunks` is stored with
    the same content (a seed file's guid carries its content hash) and the store holds no work;
    None as soon as anything is left for the flow to do or report."""
    if stored_work(database_url, rules_version):
        return None
    read, ids = 0, array("q")
    for chunk in chunks:  # one chunk in memory at a time, as the flow reads them
        (result,) = adapters.fetch_many([chunk], {chunk.name: SourceState()})
        if result.status != "ok" or result.problems:
            return None
        refs = {(article.source, article.guid) for article in result.articles}
        with transaction(database_url) as session:
            source_ids = db.upsert_sources(session, [chunk])
            found = db.stored_ids(session, source_ids, sorted(refs))
        if len(found) < len(refs):
            return None
        read += len(result.articles)
        ids.extend(found)
    return read, ids
