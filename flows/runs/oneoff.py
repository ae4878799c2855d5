"""A one-off `watchfloor run` polls its sources first, and starts Prefect only for what needs it.

Starting a flow costs Prefect's ephemeral API server: about half of the CPU of a `watchfloor run`
from cron that finds every feed unchanged. So the run takes the store's monitor lock and starts
ingest (fetch and store, `flows.stages.ingest`) in a thread of its own, without Prefect. As soon as
ingest has stored a new or revised article, or when it ends and something in the store awaits a
later stage (an article awaiting detection, an alert awaiting delivery), the monitor flow starts
and follows it: its detect-and-send task works on what is stored while ingest goes on, as in any
monitor cycle, and Prefect's start-up overlaps the fetches. When ingest ends with nothing new and
nothing waiting, the run reports its sources and ends without Prefect.

What ingest stored is durable either way: a run killed before its flow detected it leaves it
awaiting detection, and the next run finds it (`flows.runs.idle.stored_work`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from core.model import SourceSpec
from flows.context.runtime import checkpoint
from flows.runs.idle import stored_work
from flows.runs.monitorlock import monitor_lock, skipped_report
from flows.stages.cycle import cycle_report
from flows.stages.ingest import IngestOutcome, StoreSignal, fetch_plan, ingest
from flows.stages.report import RunReport

if TYPE_CHECKING:
    from flows.context.config import RunConfig
    from flows.stages.progress import RunProgress

# What the flow started by `poll_first` returns to its caller.
FlowResult = TypeVar("FlowResult")

NOTHING_NEW = (
    "nothing new: every polled source is unchanged and nothing awaits detection or delivery "
    "(Prefect not started)"
)


class NewsSignal(StoreSignal):
    """A store signal that also wakes the run's main thread, once, at the first news: articles
    stored, or ingest over. The detect-and-send stage keeps its own wake-ups (`StoreSignal`)."""

    def __init__(self) -> None:
        super().__init__()
        self.news = threading.Event()
        self.stored_any = False

    def stored(self) -> None:
        self.stored_any = True
        super().stored()
        self.news.set()

    def finish(self) -> None:
        super().finish()
        self.news.set()


class Polling:
    """Ingest over `specs`, running in a thread of its own from construction."""

    def __init__(
        self, config: RunConfig, specs: Sequence[SourceSpec], progress: RunProgress | None
    ) -> None:
        self.signal = NewsSignal()
        self._outcome: IngestOutcome | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._ingest, args=(config, specs, progress), name="ingest", daemon=True
        )
        self._thread.start()

    def _ingest(
        self, config: RunConfig, specs: Sequence[SourceSpec], progress: RunProgress | None
    ) -> None:
        try:
            plan = fetch_plan(config.settings, specs)
            self._outcome = ingest(config.database_url, plan, self.signal, progress)
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc
        finally:
            self.signal.finish()

    def needs_flow(self, database_url: str, rules_version: str) -> bool:
        """Wait for ingest's first news; True when a stage after the store has work: it stored
        articles, or it ended and the store holds work of earlier runs. Ingest's error, when it
        stored nothing, is raised here."""
        self.signal.news.wait()
        if self.signal.stored_any:
            return True
        self.result()
        return stored_work(database_url, rules_version)

    def result(self) -> IngestOutcome:
        """What ingest fetched and stored, once it has finished; its error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None  # set whenever no error was
        return self._outcome

    def join(self) -> None:
        """Wait for ingest to end, whatever its outcome."""
        self._thread.join()


def poll_first(
    config: RunConfig,
    specs: Sequence[SourceSpec],
    start_flow: Callable[[Polling], FlowResult],
    progress: RunProgress | None = None,
) -> tuple[RunReport | FlowResult, bool]:
    """Poll `specs` under the monitor lock, calling `start_flow` (the monitor flow, following
    the polling) only when a later stage has work; (what the flow returned, or the report of a
    polling that needed no flow; whether the flow ran).

    The lock is held until ingest has ended, even when the flow failed: two runs never poll the
    same sources at once.
    """
    url = config.database_url
    with monitor_lock(url) as acquired:
        if not acquired:
            return skipped_report(), False
        polling = Polling(config, specs, progress)
        try:
            if polling.needs_flow(url, config.rules_version):
                return start_flow(polling), True
            ingested = polling.result()
        finally:
            polling.join()
    report = cycle_report(url, ingested)
    checkpoint(url)
    return report, False
