"""The `monitor` flow: poll the due sources of a sources file once, then store, detect, send."""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

import db
from flows.context.config import RunConfig, load_run_config, region_names
from flows.context.liveness import process_identity
from flows.context.runtime import transaction
from flows.context.settings import load_settings
from flows.context.sourcesfile import load_source_specs
from flows.runs.handoff import Handoff, handed
from flows.runs.idle import due_sources
from flows.runs.monitorlock import monitor_lock, skipped_report
from flows.runs.pipeline import run_cycle
from flows.stages.artifact import monitor_markdown, summary_line, worth_publishing
from flows.stages.report import RunReport

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[Any]

ARTIFACT_KEY = "watchfloor-monitor"
# Flow-run label naming the process (host:pid:start) that runs a monitor cycle.
PROCESS_LABEL = "watchfloor.process"


@contextmanager
def run_process_recorded(logger: Logger) -> Iterator[None]:
    """Label the current flow run with the process that runs it (`watchfloor.process`) while
    the block runs; the block ends once the label is written.

    `watchfloor serve` reads the label of its deployment's runs to tell a run whose process has
    ended (killed with its machine, container or `serve`) from one still working, and marks the
    first crashed (`flows.serving.recovery.recover_runs`). Prefect's runner records no pid
    itself. A failure costs only that check: the run goes on. A run of no deployment (a one-off
    `run`, a flow called in a process) is never checked, and a run `serve` started is labelled
    before its engine starts (`flows.serving.servedruns`): neither is labelled again here, which
    spares each cycle a write to the API (and, on a Prefect API over SQLite, the ~2 s retry of a 503
    now and then; see `flows.prefectapi.app`). A deployment's run that a work pool's worker started
    is.

    Written beside the block, not before it: a busy API answers slowly now and then, and the
    cycle works meanwhile. A run killed before the label is written is one `serve` cannot tell
    dead, as a run killed before the label ever was.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    run = context.flow_run if context is not None else None
    if run is None or run.deployment_id is None or _labelled_here(run.labels):
        yield
        return
    # The thread sees the run's context: its Prefect settings and client.
    labelling = threading.Thread(
        target=contextvars.copy_context().run,
        args=(label_run_process, run.id, logger),
        name="label-run",
        daemon=True,
    )
    labelling.start()
    try:
        yield
    finally:
        labelling.join()


def _labelled_here(labels: dict[str, Any] | None) -> bool:
    """Whether a run's labels already name this process."""
    return labels is not None and labels.get(PROCESS_LABEL) == process_identity()


def label_run_process(flow_run_id: uuid.UUID, logger: Logger) -> None:
    """Label the flow run `flow_run_id` with this process (see `run_process_recorded`),
    through the client of the flow run in whose context it is called, else a client of its own.
    """
    from prefect.client.orchestration import get_client
    from prefect.context import SyncClientContext

    labels: dict[str, bool | int | float | str] = {PROCESS_LABEL: process_identity()}
    try:
        running = SyncClientContext.get()
        if running is not None:  # the run's client, which its task runs' threads share too
            running.client.update_flow_run_labels(flow_run_id, labels)
            return
        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(flow_run_id, labels)
    except Exception as exc:  # a label is not worth a failed cycle
        logger.warning("could not label the flow run with its process: %s", exc)


@flow(name="monitor", description="Poll due sources once: fetch, store, detect, alert.")
def monitor_flow(
    sources_file: str | None = None,
    apprise_config: str | None = None,
    rules_dir: str | None = None,
    all_sources: bool = False,
) -> RunReport:
    """One monitoring cycle over the sources that are due; `all_sources` polls every one.

    A command running the flow in its own process hands it (`flows.runs.handoff`) the configuration
    it loaded, its progress bars, and, for a one-off run, the polling already under way and
    holding the monitor lock: the flow then detects and sends beside that polling.

    Unset arguments come from the settings (WATCHFLOOR_* variables). The store's URL and the
    subscribers' Apprise URLs are settings only, never parameters: they carry passwords and
    tokens, and Prefect stores and shows flow parameters.
    """
    handoff = handed()
    files = {"apprise_config": apprise_config, "rules_dir": rules_dir, "sources_file": sources_file}
    config = (
        handoff.config_for(**files)
        if handoff is not None
        else load_run_config(load_settings(**files))
    )
    logger = get_run_logger()
    with run_process_recorded(logger):
        return monitor_cycle(config, handoff, logger, all_sources=all_sources)


def monitor_cycle(
    config: RunConfig, handoff: Handoff | None, logger: Logger, *, all_sources: bool
) -> RunReport:
    """The monitor flow's cycle: follow a handed-over polling, or poll the due sources (every
    one with `all_sources`) under the store's monitor lock; then publish the artifact."""
    bars = handoff.progress if handoff is not None else None
    if handoff is not None and handoff.polling is not None:
        report = run_cycle(config, [], progress=bars, polling=handoff.polling)
        publish_monitor_artifact(config.database_url, report)
        return report
    specs = load_source_specs(config.settings.sources_file, region_names(config.ruleset))
    with monitor_lock(config.database_url, logger) as acquired:
        if not acquired:
            return skipped_report()
        chosen = specs if all_sources else due_sources(config.database_url, specs)
        if bars is not None:
            bars.reading(len(chosen), "sources")
        report = run_cycle(config, chosen, progress=bars)
        publish_monitor_artifact(config.database_url, report)
    return report


def publish_monitor_artifact(database_url: str, report: RunReport) -> None:
    """A Markdown artifact of the run: developments, the alerts it raised, unhealthy sources;
    none for a quiet run (`worth_publishing`)."""
    if not worth_publishing(report):
        log.info("no artifact: %s", summary_line(report))
        return
    unhealthy = any(s.status == "error" for s in report.sources)
    raised: list[db.AlertView] = []
    health: dict[str, db.SourceHealth] = {}
    # A cycle that raised no alert and whose sources all answered has nothing to read.
    if report.raised_alert_ids or unhealthy:
        with transaction(database_url) as session:
            raised = db.list_alerts(session, ids=report.raised_alert_ids)
            # Every source's health, read only for the failed ones' backoff: a cycle in which
            # all answered skips reading a row per source.
            health = {h.name: h for h in db.source_health(session)} if unhealthy else {}
    markdown = monitor_markdown(report, raised, health)
    create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description=summary_line(report))
