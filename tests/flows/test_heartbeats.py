"""A flow run ends when its work does: its heartbeats, still sent, never hold its end back
(Prefect's heartbeat thread slept in one-second steps that the end of every run waited for)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect import flow, flow_engine
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker

import flows.runs.pipeline  # noqa: F401  (installs flows.stages.heartbeats, as the monitor and replay flows do)
from flows.stages import heartbeats

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def asserting_events_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventsWorker]:
    """The events worker, recording the events a run emits: Prefect's fixture of that name
    (prefect 3.8's `prefect.testing.fixtures`, whose module imports Prefect's server package,
    ~1 CPU-s, into every test process that collects this file)."""
    worker = EventsWorker.instance(AssertingEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_: worker)  # every instance asked for
    try:
        yield worker
    finally:
        worker.drain()


@flow(name="heartbeats-quick")
def quick() -> int:
    return 1


def test_prefects_engine_sends_heartbeats_with_the_thread_that_stops_at_once() -> None:
    # A Prefect upgrade that renames or moves the context fails here rather than silently
    # holding every run's end for the rest of a second again. (How much sooner a run ends is
    # measured by the benchmark's no-change poll, not asserted here.)
    assert flow_engine._send_heartbeats is heartbeats.send_heartbeats


def test_a_flow_run_still_sends_its_heartbeat(asserting_events_worker: EventsWorker) -> None:
    quick()
    asserting_events_worker.drain()
    events = asserting_events_worker._client.events  # type: ignore[attr-defined]
    assert [e.event for e in events].count("prefect.flow-run.heartbeat") == 1
