"""What `watchfloor serve` cleans up at start, on the test Prefect API: a run left pending by a
dead `serve` holds the deployment's one-at-a-time slot (so Prefect cancels every later run, as
measured in the field) until it is marked crashed; a running run whose process has ended is
crashed, one whose process lives is left alone; scheduled runs missed long ago are closed, the
next ones are kept. While serving, each cycle cancelled or crashed since the last look is
reported once."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.context.liveness import process_identity
from flows.context.settings import load_settings
from flows.monitor import PROCESS_LABEL
from flows.serving import recovery
from flows.serving.deployments import monitor_deployment
from flows.serving.recovery import CRASHED_BY_SERVE, recover_runs, report_undone_runs
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import write_sources

pytestmark = pytest.mark.usefixtures("prefect_harness")


def api(call: Any) -> Any:
    """Run `call(client)` against the current Prefect API."""
    from prefect.client.orchestration import get_client

    async def main() -> Any:
        async with get_client() as client:
            return await call(client)

    return asyncio.run(main())


def ended_process_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def new_run(deployment_id: UUID, state: Any, *, force: bool = True, label: str = "") -> UUID:
    """A flow run of the deployment moved to `state` (orchestrated unless `force`); a
    scheduled state is the run's first, as a scheduler creates it."""

    async def create(client: Any) -> UUID:
        from prefect.states import Scheduled

        first = state if state.is_scheduled() else Scheduled()
        run = await client.create_flow_run_from_deployment(deployment_id, state=first)
        if first is not state:
            await client.set_flow_run_state(run.id, state, force=force)
        if label:
            await client.update_flow_run_labels(run.id, {PROCESS_LABEL: label})
        return run.id

    return api(create)


def state_of(run_id: UUID) -> Any:
    return api(lambda client: client.read_flow_run(run_id)).state


@pytest.fixture
def deployment_id(tmp_path: Path) -> UUID:
    """The served monitor deployment, under a name of its own: other tests of the session
    register "monitor/monitor" on a work pool too (`prefect deploy`)."""
    sources = write_sources(tmp_path / "sources.yaml", FeedServer(), [])
    deployment = monitor_deployment(load_settings(sources_file=sources))
    deployment.name = f"recovery-{tmp_path.name}"
    return deployment.apply()


def test_a_pending_run_left_by_a_dead_serve_no_longer_blocks_the_schedule(
    deployment_id: UUID,
) -> None:
    from prefect.states import Pending

    stuck = new_run(deployment_id, Pending(), force=False)  # takes the one slot
    assert state_of(stuck).type.value == "PENDING"
    blocked = new_run(deployment_id, Pending(), force=False)
    assert state_of(blocked).type.value == "CANCELLED", "what the field saw, run after run"

    crashed = api(lambda client: recover_runs(client, deployment_id, at_start=True))

    assert stuck in {run.id for run in crashed}
    state = state_of(stuck)
    assert state.type.value == "CRASHED" and state.message.startswith(CRASHED_BY_SERVE)
    after = new_run(deployment_id, Pending(), force=False)
    assert state_of(after).type.value == "PENDING", "the slot is free again"
    api(lambda client: recover_runs(client, deployment_id, at_start=True))  # tidy up


def test_running_runs_are_judged_by_their_process(deployment_id: UUID) -> None:
    from prefect.states import Running

    here = socket.gethostname()
    ended = new_run(deployment_id, Running(), label=f"{here}:{ended_process_pid()}:1")
    living = new_run(deployment_id, Running(), label=process_identity())
    elsewhere = new_run(deployment_id, Running(), label="other-host:4242:1")

    # While serving, only a run whose process is known to have ended is crashed.
    crashed = api(lambda client: recover_runs(client, deployment_id, at_start=False))

    assert {run.id for run in crashed} == {ended}
    assert state_of(ended).type.value == "CRASHED"
    assert "has ended" in state_of(ended).message
    assert state_of(living).type.value == "RUNNING"
    assert state_of(elsewhere).type.value == "RUNNING", "another machine's process: cannot tell"
    for run_id in (living, elsewhere):  # leave the deployment clean for the next test
        api(lambda client, r=run_id: client.set_flow_run_state(r, _crashed(), force=True))


def _crashed() -> Any:
    from prefect.states import Crashed

    return Crashed(message="test over")


def test_scheduled_runs_missed_long_ago_are_closed_and_the_next_kept(
    deployment_id: UUID,
) -> None:
    from prefect.states import Scheduled

    now = datetime.now(UTC)
    missed = new_run(deployment_id, Scheduled(scheduled_time=now - timedelta(hours=1)))
    next_one = new_run(deployment_id, Scheduled(scheduled_time=now + timedelta(minutes=10)))

    api(lambda client: recover_runs(client, deployment_id, at_start=True))

    assert state_of(missed).type.value == "CRASHED"
    assert "missed" in state_of(missed).message
    assert state_of(next_one).type.value == "SCHEDULED"
    api(lambda client: client.set_flow_run_state(next_one, _crashed(), force=True))


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_each_undone_cycle_is_reported_once_from_the_runs_that_ended_since_the_last_look(
    deployment_id: UUID,
) -> None:
    from prefect.states import Cancelled, Running

    before = new_run(deployment_id, Running())
    api(lambda client: client.set_flow_run_state(before, Cancelled(message="old"), force=True))
    since = state_of(before).timestamp
    cancelled = new_run(deployment_id, Running())
    api(lambda client: client.set_flow_run_state(cancelled, Cancelled(message="late"), force=True))
    crashed = new_run(deployment_id, Running())
    api(lambda client: client.set_flow_run_state(crashed, _crashed(), force=True))

    reported = _Lines()
    recovery.log.addHandler(reported)
    try:
        latest = api(lambda client: report_undone_runs(client, deployment_id, since))
        again = api(lambda client: report_undone_runs(client, deployment_id, latest))
    finally:
        recovery.log.removeHandler(reported)

    lines = reported.lines
    assert sum("was Cancelled: late" in line for line in lines) == 1
    assert sum("was Crashed: test over" in line for line in lines) == 1
    assert not any(": old" in line for line in lines), "ended before the look: reported then"
    assert latest == state_of(crashed).timestamp and again == latest
