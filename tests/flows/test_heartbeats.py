"""A flow run ends when its work does: its heartbeats, still sent, never hold its end back
(Prefect's heartbeat thread slept in one-second steps that the end of every run waited for)."""

from __future__ import annotations

import time

import pytest
from prefect import flow
from prefect.events.worker import EventsWorker
from prefect.testing.fixtures import asserting_events_worker

import flows.pipeline  # noqa: F401  (installs flows.heartbeats, as the monitor and replay flows do)

pytestmark = pytest.mark.usefixtures("prefect_harness")

__all__ = ["asserting_events_worker"]  # Prefect's fixture: records the events a run emits


@flow(name="heartbeats-quick")
def quick() -> float:
    return time.monotonic()


def seconds_after_the_work() -> float:
    """How long a flow call lasted after its function returned."""
    ended = quick()
    return time.monotonic() - ended


def test_a_flow_call_returns_once_its_work_is_done() -> None:
    quick()  # the first run in a process sets up Prefect's client
    # Prefect's own heartbeat thread held each end for the rest of a second (~0.9 s here).
    assert min(seconds_after_the_work() for _ in range(3)) < 0.5


def test_a_flow_run_still_sends_its_heartbeat(asserting_events_worker: EventsWorker) -> None:
    quick()
    asserting_events_worker.drain()
    events = asserting_events_worker._client.events  # type: ignore[attr-defined]
    assert [e.event for e in events].count("prefect.flow-run.heartbeat") == 1
