"""The `monitor` flow: poll the due sources of a sources file once, then store, detect, send."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger

import adapters
import db
from core.errors import ConfigError
from core.model import SourceSpec
from flows.pipeline import load_run_config, run_cycle
from flows.report import RunReport, publish_artifact
from flows.runtime import transaction
from flows.settings import load_settings
from flows.stages import utcnow

LOCK_NAME = "monitor"
LOCK_TTL_S = 3600


def load_source_specs(path: Path) -> list[SourceSpec]:
    """The sources file, validated (file, line and reason for every error)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read sources file: {exc.strerror}") from None
    return adapters.load_sources(text, str(path))


@contextmanager
def monitor_lock(database_url: str) -> Iterator[bool]:
    """Hold the store's monitor lock for a run; yields False when another run holds it.

    Overlapping scheduled runs (a slow poll, a manual run during a scheduled one) would fetch
    and alert the same items twice over; the lock lives in the store so it also guards runs on
    other machines.
    """
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with transaction(database_url) as session:
        acquired = db.acquire_lock(session, LOCK_NAME, holder, utcnow(), LOCK_TTL_S)
    try:
        yield acquired
    finally:
        if acquired:
            with transaction(database_url) as session:
                db.release_lock(session, LOCK_NAME, holder)


def due_sources(database_url: str, specs: Sequence[SourceSpec]) -> list[SourceSpec]:
    """Sources whose next poll time has come (new sources are always due)."""
    with transaction(database_url) as session:
        due = set(db.due_source_names(session, [s.name for s in specs], utcnow()))
    return [spec for spec in specs if spec.name in due]


@flow(name="monitor", description="Poll due sources once: fetch, store, detect, alert.")
def monitor_flow(
    sources_file: str | None = None,
    database_url: str | None = None,
    apprise_config: str | None = None,
    rules_dir: str | None = None,
    all_sources: bool = False,
) -> RunReport:
    """One monitoring cycle. `all_sources` polls every source, due or not."""
    settings = load_settings(
        database_url=database_url,
        apprise_config=apprise_config,
        rules_dir=rules_dir,
        sources_file=sources_file,
    )
    config = load_run_config(settings)
    specs = load_source_specs(settings.sources_file)
    with monitor_lock(settings.database_url) as acquired:
        if not acquired:
            get_run_logger().warning("another monitor run holds the lock; skipping this cycle")
            return RunReport(
                articles=0,
                new_articles=0,
                developments=[],
                alerts_sent=0,
                problems=["skipped: another monitor run is in progress"],
            )
        chosen = specs if all_sources else due_sources(settings.database_url, specs)
        report = run_cycle(config, chosen)
    publish_artifact(report, key="watchfloor-monitor")
    return report
