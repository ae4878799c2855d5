"""The store's monitor lock: one monitor cycle at a time over a store, on any machine.

Without Prefect, so that a one-off `watchfloor run` holds it while it polls before deciding
whether to start Prefect at all (`flows.runs.oneoff`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import db
from flows.context.clock import utcnow
from flows.context.liveness import process_identity, process_is_gone
from flows.context.runtime import transaction
from flows.stages.report import RunReport

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[Any]

LOCK_NAME = "monitor"
# A run renews its lease every LOCK_RENEW_S; a run that died (killed worker, lost machine) stops
# renewing and its lease lapses after LOCK_TTL_S, well before the next scheduled cycle.
LOCK_TTL_S = 300
LOCK_RENEW_S = 60
SKIPPED = "skipped: another monitor run is in progress"


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


def skipped_report() -> RunReport:
    """What a run that found the lock taken reports: nothing polled, nothing sent."""
    return RunReport(articles=0, new_articles=0, developments=[], alerts_sent=0, problems=[SKIPPED])
