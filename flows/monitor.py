"""The `monitor` flow: poll the due sources of a sources file once, then store, detect, send."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

import adapters
import db
from core.model import SourceSpec
from flows.config import load_run_config, region_names
from flows.idle import due_sources
from flows.liveness import process_identity, process_is_gone
from flows.pipeline import run_cycle
from flows.progress import RunProgress
from flows.report import RunReport
from flows.runtime import transaction
from flows.settings import load_settings
from flows.stages import utcnow
from notify.escaping import escape_markdown

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[Any]

LOCK_NAME = "monitor"
# A run renews its lease every LOCK_RENEW_S; a run that died (killed worker, lost machine) stops
# renewing and its lease lapses after LOCK_TTL_S, well before the next scheduled cycle.
LOCK_TTL_S = 300
LOCK_RENEW_S = 60
ARTIFACT_KEY = "watchfloor-monitor"
# Flow-run label naming the process (host:pid:start) that runs a monitor cycle.
PROCESS_LABEL = "watchfloor.process"
SKIPPED = "skipped: another monitor run is in progress"


def load_source_specs(path: Path, regions: Collection[str] | None = None) -> list[SourceSpec]:
    """The sources file, validated by the adapters' one loader (file, line and reason for every
    error, a missing file, a folder or bad encoding included); with `regions`, a `region:` tag
    must name one of them.

    Parsed once per process while the file stays the same (path, size and modification time):
    `watchfloor run` validates it before Prefect starts and its flow reads it again.
    """
    try:
        stat = path.stat()
    except OSError:
        return adapters.load_sources_file(path, regions)  # it says what is wrong with it
    checked = None if regions is None else tuple(sorted(regions))
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino, checked)
    with _specs_lock:
        known = _parsed_specs.get(key)
    if known is None:
        known = tuple(adapters.load_sources_file(path, regions))
        with _specs_lock:
            _parsed_specs.clear()  # one sources file per process: keep only the latest
            _parsed_specs[key] = known
    return list(known)


_specs_lock = threading.Lock()
_parsed_specs: dict[tuple[str, int, int, int, tuple[str, ...] | None], tuple[SourceSpec, ...]] = {}


class _LeaseKeeper(threading.Thread):
    """Renews the monitor lease in the background while a cycle runs."""

    def __init__(self, database_url: str, holder: str, logger: Logger) -> None:
        super().__init__(name="monitor-lease", daemon=True)
        self.database_url = database_url
        self.holder = holder
        # Passed in: Prefect's run logger needs the run's context, which threads do not inherit.
        self.logger = logger
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(LOCK_RENEW_S):
            try:
                with transaction(self.database_url) as session:
                    kept = db.renew_lock(session, LOCK_NAME, self.holder, utcnow(), LOCK_TTL_S)
            except Exception as exc:  # a blip in the store: try again at the next beat
                self.logger.warning("could not renew the monitor lock: %s", exc)
                continue
            if not kept:
                # The lease lapsed (the process stalled longer than the TTL). The stages stay
                # safe (idempotent store, claimed deliveries); say so rather than stop mid-run.
                self.logger.warning("the monitor lock lapsed; another run may overlap")
                return


def take_lock(database_url: str, holder: str, logger: Logger) -> bool:
    """Acquire the monitor lease for `holder`; take it over from a holder that died on this
    machine (its lease would otherwise block every run until it lapses). False, with a warning
    naming the holder, when a living run holds it."""
    with transaction(database_url) as session:
        if db.acquire_lock(session, LOCK_NAME, holder, utcnow(), LOCK_TTL_S):
            return True
        current = db.lock_holder(session, LOCK_NAME)
        if current is not None and process_is_gone(current):
            # Released by name and holder in this transaction: of two runs doing this at
            # once, only one finds the dead holder's row and acquires.
            db.release_lock(session, LOCK_NAME, current)
            if db.acquire_lock(session, LOCK_NAME, holder, utcnow(), LOCK_TTL_S):
                logger.warning(
                    "took over the monitor lock from %s, whose process has ended", current
                )
                return True
            current = db.lock_holder(session, LOCK_NAME)
    logger.warning(
        "skipping this cycle: another monitor run holds the store's monitor lock (%s)", current
    )
    return False


@contextmanager
def monitor_lock(database_url: str, logger: Logger | None = None) -> Iterator[bool]:
    """Hold the store's monitor lock for a run; yields False when another run holds it.

    Overlapping runs (a slow poll, a manual run during a scheduled one) would poll the same
    sources twice; the lock lives in the store so it also guards runs on other machines. It is
    a lease, renewed while the run lasts, so a crashed run never blocks the store for long, and
    a holder whose process has ended on this machine is taken over at once.
    """
    logger = logger or log
    holder = f"{process_identity()}:{uuid.uuid4().hex[:8]}"
    if not take_lock(database_url, holder, logger):
        yield False
        return
    keeper = _LeaseKeeper(database_url, holder, logger)
    keeper.start()
    try:
        yield True
    finally:
        keeper.done.set()
        keeper.join()
        with transaction(database_url) as session:
            db.release_lock(session, LOCK_NAME, holder)


def record_run_process(logger: Logger) -> None:
    """Label the current flow run with the process that runs it (`watchfloor.process`).

    `watchfloor serve` reads the label to tell a run whose process has ended (killed with its
    machine, container or `serve`) from one still working, and marks the first crashed.
    Prefect's runner records no pid itself. A failure costs only that check: the run goes on.
    """
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    if not flow_run.id:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(
                uuid.UUID(flow_run.id), {PROCESS_LABEL: process_identity()}
            )
    except Exception as exc:  # a label is not worth a failed cycle
        logger.warning("could not label the flow run with its process: %s", exc)


def skipped_report() -> RunReport:
    """What a run that found the lock taken reports: nothing polled, nothing sent."""
    return RunReport(articles=0, new_articles=0, developments=[], alerts_sent=0, problems=[SKIPPED])


@flow(name="monitor", description="Poll due sources once: fetch, store, detect, alert.")
def monitor_flow(
    sources_file: str | None = None,
    apprise_config: str | None = None,
    rules_dir: str | None = None,
    all_sources: bool = False,
    progress: object = None,
) -> RunReport:
    """One monitoring cycle over the sources that are due; `all_sources` polls every one;
    `progress` (the CLI's bars on a terminal: a RunProgress) hears what is read and detected
    as it goes. It is typed `object` here because Prefect validates a flow's parameters with
    pydantic wherever the run executes, and a served run could not resolve the protocol there
    ("not fully defined"); the flow checks what it was given.

    Unset arguments come from the settings (WATCHFLOOR_* variables). The store's URL and the
    subscribers' Apprise URLs are settings only, never parameters: they carry passwords and
    tokens, and Prefect stores and shows flow parameters.
    """
    settings = load_settings(
        apprise_config=apprise_config, rules_dir=rules_dir, sources_file=sources_file
    )
    config = load_run_config(settings)
    specs = load_source_specs(settings.sources_file, region_names(config.ruleset))
    logger = get_run_logger()
    record_run_process(logger)
    with monitor_lock(settings.database_url, logger) as acquired:
        if not acquired:
            return skipped_report()
        chosen = specs if all_sources else due_sources(settings.database_url, specs)
        bars = progress if isinstance(progress, RunProgress) else None
        if bars is not None:
            bars.reading(len(chosen), "sources")
        report = run_cycle(config, chosen, progress=bars)
        publish_monitor_artifact(settings.database_url, report)
    return report


def publish_monitor_artifact(database_url: str, report: RunReport) -> None:
    """A Markdown artifact of the run: developments, the alerts it raised, unhealthy sources."""
    with transaction(database_url) as session:
        raised = db.list_alerts(session, ids=report.raised_alert_ids)
        health = {h.name: h for h in db.source_health(session)}
    markdown = monitor_markdown(report, raised, health)
    create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description=summary_line(report))


def summary_line(report: RunReport) -> str:
    """One line: how much was read, found and sent."""
    unhealthy = sum(s.status == "error" for s in report.sources)
    return (
        f"{len(report.sources)} sources polled ({unhealthy} unhealthy); "
        f"{report.articles} articles read, {report.new_articles} new; "
        f"{len(report.developments)} developments; {report.alerts_sent} alerts sent; "
        f"{report.detected} articles detected, {len(report.failed_articles)} failed"
    )


def cell(value: object) -> str:
    """Feed text made safe for one Markdown table cell (it is untrusted)."""
    return escape_markdown("" if value is None else value).replace("|", "\\|")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, or `_none_` when there are no rows."""
    if not rows:
        return "_none_"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def monitor_markdown(
    report: RunReport, raised: Sequence[db.AlertView], health: dict[str, db.SourceHealth]
) -> str:
    """The artifact's text: the sections an operator reads top to bottom."""
    developments = [
        (
            d["id"],
            d["category"],
            d["status"] + (" (background)" if d["background"] else ""),
            d["event_date"] or "",
            d["title"],
            len(d["evidence"]),
        )
        for d in report.developments
    ]
    alerts = [(a.id, a.kind, a.category, a.status, a.title, delivery_summary(a)) for a in raised]
    failed = [(f["id"], f["source"], f["guid"], f["error"]) for f in report.failed_articles]
    unhealthy = [
        (s.name, s.http_status or "", s.error, *backoff(health.get(s.name)))
        for s in report.sources
        if s.status == "error"
    ]
    return "\n\n".join(
        [
            f"# Monitor run\n\n{cell(summary_line(report))}",
            "## Developments\n\n"
            + table(("id", "category", "status", "date", "title", "reports"), developments),
            f"## Alerts raised ({report.alerts_sent} sent this run)\n\n"
            + table(("id", "kind", "category", "status", "title", "deliveries"), alerts),
            "## Unhealthy sources\n\n"
            + table(("source", "http", "error", "failures", "next poll"), unhealthy),
            "## Articles that failed detection\n\n"
            + table(("article", "source", "guid", "error"), failed),
        ]
    )


def backoff(health: db.SourceHealth | None) -> tuple[object, str]:
    """(consecutive failures, next poll time) of a source, as the store now has them."""
    if health is None:
        return "", ""
    due = health.next_due_at.isoformat(timespec="seconds") if health.next_due_at else ""
    return health.consecutive_failures, due


def delivery_summary(alert: db.AlertView) -> str:
    """ "2 sent, 1 pending", or "unrouted" when no subscriber wants the alert."""
    if alert.unrouted:
        return "unrouted"
    states: dict[str, int] = {}
    for delivery in alert.deliveries:
        states[delivery.state] = states.get(delivery.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "not routed yet"
