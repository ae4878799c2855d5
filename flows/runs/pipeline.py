"""One cycle of Watchfloor, shared by the replay and monitor flows: fetch -> store -> detect ->
send -> report. The flows differ in where their sources come from, and in that a monitor cycle
streams (its stages overlap) while a replay runs them one after another.

Arguments go to the tasks through quote(): Prefect otherwise walks every argument looking for
futures to wire up, which cost ~20-50% of a first poll (measured on 200 feeds).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import TypeVar, cast

from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from core.model import SourceSpec
from flows.context import longlived
from flows.context.config import RunConfig
from flows.context.runtime import checkpoint
from flows.prefectapi import tls
from flows.runs.oneoff import Polling
from flows.stages import heartbeats
from flows.stages.ahead import AnalysisAhead
from flows.stages.cycle import cycle_report
from flows.stages.ingest import FetchPlan, IngestOutcome, StoreSignal, fetch_plan
from flows.stages.progress import RunProgress
from flows.stages.report import RunReport
from flows.stages.tasks import (
    DETECT_CHUNK,
    REPLAY_DETECT_CHUNK,
    AlertOutcome,
    detect_and_send_stage,
    detect_stage,
    ingest_stage,
    send_stage,
)

_T = TypeVar("_T")
log = logging.getLogger(__name__)

# A cycle's flow run ends when its work does, not at the next second of its heartbeat thread.
heartbeats.install()
# Its Prefect clients load the CA bundle once a process, not once a client.
tls.install()


def _quoted(value: _T) -> _T:
    """`value` in Prefect's quote(), typed as the value itself: the task run unwraps it before
    its function is called, so each call is still checked against the task's own signature."""
    return cast(_T, quote(value))


def run_cycle(
    config: RunConfig,
    specs: Sequence[SourceSpec],
    *,
    conditional: bool = True,
    fetch_batches: Sequence[Sequence[SourceSpec]] | None = None,
    progress: RunProgress | None = None,
    polling: Polling | None = None,
) -> RunReport:
    """Fetch, store, detect and send for `specs`; returns what happened.

    A monitor cycle streams: detection and sending run beside the fetches, on what is stored
    so far, so a new item is alerted while slower sources are still being fetched.
    `conditional=False` (replay) reads every source in full, ignoring stored cursors.
    `fetch_batches` (a replay's chunks, read in order) makes the stages run one after another:
    all is stored, then detected in time order, then sent, so a replay's result never depends
    on how fast its chunks were read. `progress` hears what the stages do as they go.
    `polling` (a one-off run's ingest, started before Prefect: `flows.runs.oneoff`) stands for the
    ingest stage: the cycle detects and sends beside it.
    """
    longlived.freeze_loaded()  # the first cycle's process keeps what it loaded for good
    if polling is not None:
        ingested, alerted = followed_stages(config, polling, progress)
    else:
        plan = fetch_plan(config.settings, specs, fetch_batches, conditional=conditional)
        stages = streamed_stages if fetch_batches is None else sequential_stages
        ingested, alerted = stages(config, plan, progress)
    report = cycle_report(config.database_url, ingested, alerted.detected, alerted.sent)
    checkpoint(config.database_url)
    return report


def streamed_stages(
    config: RunConfig, plan: FetchPlan, progress: RunProgress | None = None
) -> tuple[IngestOutcome, AlertOutcome]:
    """Ingest, and detect-and-send, as two task runs at once: the second works on what the
    first has stored so far, and finishes the rest once the first is done."""
    signal = StoreSignal()
    alerting = submit_alerting(config, signal, progress)
    try:
        ingested = ingest_stage(
            config.database_url, _quoted(plan), _quoted(signal), _quoted(progress)
        )
    finally:
        signal.finish()
        alerting.wait()  # also when ingest failed: what it stored is still detected and sent
    return ingested, alerting.result()


def submit_alerting(
    config: RunConfig, signal: StoreSignal, progress: RunProgress | None
) -> PrefectFuture[AlertOutcome]:
    """Start the detect-and-send task run, woken by `signal` as ingest stores."""
    settings = config.settings
    return detect_and_send_stage.submit(
        config.database_url,
        _quoted(config.ruleset),
        config.rules_version,
        settings.lookback_days,
        _quoted(config.subscribers),
        settings.delivery_max_attempts,
        _quoted(signal),
        _quoted(progress),
    )


def followed_stages(
    config: RunConfig, polling: Polling, progress: RunProgress | None = None
) -> tuple[IngestOutcome, AlertOutcome]:
    """Detect-and-send as a task run beside an ingest that was started without Prefect: it
    works on what `polling` has stored so far, and finishes the rest once it is done."""
    alerting = submit_alerting(config, polling.signal, progress)
    try:
        ingested = polling.result()
    finally:
        alerting.wait()  # also when ingest failed: what it stored is still detected and sent
    return ingested, alerting.result()


def sequential_stages(
    config: RunConfig, plan: FetchPlan, progress: RunProgress | None = None
) -> tuple[IngestOutcome, AlertOutcome]:
    """Ingest, detect, then send, each once the one before has finished. A replay of more than
    one chunk has what it stores analysed ahead of the detect stage, on another core
    (`flows.stages.ahead`)."""
    settings = config.settings
    with analysis_ahead(config, plan) as ahead:
        ingested = ingest_stage(
            config.database_url, _quoted(plan), _quoted(ahead), _quoted(progress)
        )
        detected = detect_stage(
            config.database_url,
            _quoted(config.ruleset),
            config.rules_version,
            settings.lookback_days,
            DETECT_CHUNK if ahead is None else REPLAY_DETECT_CHUNK,
            progress=_quoted(progress),
            ahead=_quoted(ahead),
        )
    sent = send_stage(
        config.database_url, _quoted(config.subscribers), settings.delivery_max_attempts
    )
    return ingested, AlertOutcome(detected, sent)


def analysis_ahead(
    config: RunConfig, plan: FetchPlan
) -> contextlib.AbstractContextManager[AnalysisAhead | None]:
    """The process analysing ahead of the detect stage for a plan of several batches (a
    replay of more than one chunk); none for one batch, where it would start as late as the
    detect stage."""
    if len(plan.batches) < 2:
        return contextlib.nullcontext()
    try:
        return AnalysisAhead.start(config.database_url, config.ruleset, config.rules_version)
    except OSError as exc:  # no process to be had (limits, memory): only slower without it
        log.warning("replay: no process to analyse ahead (%s); the detect stage does it all", exc)
        return contextlib.nullcontext()
