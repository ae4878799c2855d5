"""Runs of the monitor deployment that no living process will finish, and cycles that did not
do their work.

`serve` never stops silently: at start it marks crashed every run of the deployment that a dead
process left pending or running (such a run holds the deployment's one-at-a-time slot, and
Prefect would cancel every later run), and the runs it missed while down; while serving it keeps
doing so and says at WARNING why a cycle was cancelled or crashed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.logging import get_logger

from flows.context.liveness import process_is_gone
from flows.monitor import PROCESS_LABEL

# A scheduled run this late when `serve` starts was missed while nothing served it: it is
# closed rather than run, so a restart does not start a backlog of cycles at once.
MISSED_AFTER = timedelta(seconds=60)
# How often a serving process looks for runs left by dead processes and for cancelled cycles.
# Each look is two requests to Prefect's API, paid by every cycle of a one-minute schedule
# whether it has work or not (bench/servecpu.py measures them with the cycle). 15 s is still
# well inside the shortest schedule, so a dead run's slot is freed before the next tick.
WATCH_INTERVAL_S = 15.0
# States of a run that a process is (or should be) working on.
ACTIVE_STATES = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
# Terminal states of a cycle that did not do its work: each is reported at WARNING.
UNDONE_STATES = [StateType.CANCELLED, StateType.CRASHED]
# Flow runs read per request.
PAGE = 200
CRASHED_BY_SERVE = "Marked crashed by `watchfloor serve`"

log = get_logger("watchfloor.serve")


async def watch_runs(deployment_id: UUID) -> None:
    """While serving: crash runs whose process has ended, and report undone cycles."""
    from prefect.client.orchestration import get_client

    reported_since = datetime.now(UTC)
    async with get_client() as client:
        while True:
            await anyio.sleep(WATCH_INTERVAL_S)
            try:
                await recover_runs(client, deployment_id, at_start=False)
                reported_since = await report_undone_runs(client, deployment_id, reported_since)
            except Exception as exc:  # the API may blip; the next round tries again
                log.warning("could not check the monitor's flow runs: %s", exc)


async def recover_runs(client: Any, deployment_id: UUID, *, at_start: bool) -> list[FlowRun]:
    """Mark crashed the runs of the deployment that no living process will finish; return them.

    A run whose process (`watchfloor.process` label) has ended on this machine is crashed at
    any time. At start, before this process's runner takes any run, so are active runs with no
    process recorded that no work pool's worker owns (a `serve` died before the run's process
    labelled it), and scheduled runs missed by more than MISSED_AFTER.
    """
    now = datetime.now(UTC)
    crashed = []
    for run in await deployment_runs(client, deployment_id, ACTIVE_STATES):
        reason = why_dead(run, at_start)
        if reason:
            await crash(client, run, reason)
            crashed.append(run)
    while at_start:  # page by page: a long outage under a server's scheduler leaves many
        missed = await deployment_runs(
            client, deployment_id, [StateType.SCHEDULED], before=now - MISSED_AFTER
        )
        if any(run.id in {c.id for c in crashed} for run in missed):
            break  # the API kept a run scheduled: do not loop on it
        for run in missed:
            due = run.expected_start_time
            await crash(client, run, f"missed: due at {due} while no process served it")
        crashed += missed
        if len(missed) < PAGE:
            break
    return crashed


def why_dead(run: FlowRun, at_start: bool) -> str | None:
    """Why an active run will never finish, or None when it may still."""
    if not at_start and run.state_type == StateType.CANCELLING:
        return None  # the runner is ending it, and marks it cancelled when its process is gone
    process = run.labels.get(PROCESS_LABEL) if run.labels else None
    if process:
        if process_is_gone(str(process)):
            return f"its process {process} has ended"
        return None
    if at_start and not run.work_pool_name:
        return "left by a `watchfloor serve` that stopped before the run's process started"
    return None


async def crash(client: Any, run: FlowRun, reason: str) -> None:
    """Force `run` into Crashed, which frees its slot in the deployment's concurrency limit."""
    from prefect.states import Crashed

    state = run.state.name if run.state else "no state"
    message = f"{CRASHED_BY_SERVE}: {reason} (was {state})."
    await client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    log.warning("monitor run %s (%s) was %s: marked crashed: %s", run.name, run.id, state, reason)


async def deployment_runs(
    client: Any,
    deployment_id: UUID,
    states: list[StateType],
    *,
    before: datetime | None = None,
    since: datetime | None = None,
) -> list[FlowRun]:
    """The deployment's flow runs in `states`, expected to start before `before` and with a
    state set after `since` when given: one page, the most recently due first."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    run_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)),
        # Validated, as pydantic does on construction: it makes Prefect's DateTime of a datetime.
        expected_start_time=(
            FlowRunFilterExpectedStartTime.model_validate({"before_": before}) if before else None
        ),
        # A run entering a final state gets that state's time as its end time (Prefect's
        # SetEndTime): the API leaves out the runs that ended before `since`, instead of a page
        # of every undone run of `serve`'s life read again on each look.
        end_time=FlowRunFilterEndTime.model_validate({"after_": since}) if since else None,
    )
    runs = await client.read_flow_runs(
        flow_run_filter=run_filter,
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=PAGE,
    )
    if since is None:
        return runs
    return [r for r in runs if r.state and r.state.timestamp and r.state.timestamp > since]


async def report_undone_runs(client: Any, deployment_id: UUID, since: datetime) -> datetime:
    """Log at WARNING each cycle cancelled or crashed after `since`, with Prefect's reason
    (Prefect itself says it at INFO, easy to miss); return the time to report from next."""
    latest = since
    for run in await deployment_runs(client, deployment_id, UNDONE_STATES, since=since):
        assert run.state is not None and run.state.timestamp is not None
        latest = max(latest, run.state.timestamp)
        if (run.state.message or "").startswith(CRASHED_BY_SERVE):
            continue  # `crash` said so already
        log.warning(
            "monitor cycle %s (due %s) was %s: %s",
            run.name,
            run.expected_start_time,
            run.state.name,
            run.state.message or "no reason given",
        )
    return latest
