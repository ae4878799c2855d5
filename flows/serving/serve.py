"""`watchfloor serve`: the monitor deployment served from this process until it is stopped.

The runner executes each scheduled run in a child process forked from a warm one
(`flows.serving.forkruns`); beside it, the watch over the deployment's runs
(`flows.serving.recovery`) and, without a Prefect server's scheduler, the cron's next run
created here. On SIGTERM it stops scheduling, cancels the run in progress and exits 0, leaving
nothing to clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from prefect.client.schemas.objects import StateType
from prefect.logging import get_logger

from flows.context.settings import Settings
from flows.monitor import monitor_flow
from flows.serving.deployments import (
    SCHEDULE_TIMEZONE,
    monitor_deployment_options,
    run_settings_environment,
    served_runs_prefect_environment,
)
from flows.serving.recovery import deployment_runs, recover_runs, watch_runs

log = get_logger("watchfloor.serve")


def serve_monitor(
    settings: Settings, *, run_once: bool = False, schedule_itself: bool | None = None
) -> None:
    """Serve the monitor deployment from this process, as Prefect's `serve` does.

    Each scheduled run executes in a child process that inherits this one's environment,
    forked from a warm process that has imported and compiled what a run needs
    (flows.serving.forkruns).
    `run_once` executes the runs due now and returns (for tests); otherwise it serves until
    interrupted (Ctrl+C or SIGTERM), cancelling the run in progress and pausing the schedule
    on the way out so no runs pile up meanwhile. At start, and every few seconds while
    serving, runs that a dead process left behind are marked crashed (see `recover_runs`).

    With PREFECT_API_URL, that server's scheduler creates the cron's runs. Without it, this
    process starts Prefect's temporary local API, which runs no scheduler, so it creates each
    next run itself (`schedule_itself` forces either choice).
    """
    from prefect.runner import Runner

    from flows.prefectapi.server import temporary_api
    from flows.serving.forkruns import runs_forked_from_a_warm_process

    with (
        temporary_api() as started_here,
        runs_forked_from_a_warm_process(
            run_settings_environment(settings) | served_runs_prefect_environment(started_here),
            keep_warm=run_once,
        ),
    ):
        runner = Runner(name="watchfloor-monitor", pause_on_shutdown=True)
        # add_flow, not add_deployment: the runner then holds the flow object and starts each
        # run from it in a child process (forked warm, see flows.serving.forkruns), instead of a
        # `python -m prefect.engine` that imports everything and loads the flow again.
        deployment_id = runner.add_flow(monitor_flow, **monitor_deployment_options(settings))
        # Prefect types it "an id, or a coroutine when called in an event loop": not here.
        assert isinstance(deployment_id, UUID)
        scheduling = started_here if schedule_itself is None else schedule_itself
        cron = settings.monitor_cron if scheduling else None
        # Ctrl+C is how an operator stops serving: not an error.
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(runner, deployment_id, cron, run_once))


async def _serve(runner: Any, deployment_id: UUID, cron: str | None, run_once: bool) -> None:
    """Recover what a dead `serve` left, then run the runner, the watch over its runs and,
    when `cron` is given, the scheduling loop, until the runner stops (SIGTERM stops it)."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        # Before the runner starts, no run of the deployment can be this process's own.
        await recover_runs(client, deployment_id, at_start=True)
    stopping = anyio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(_stop_runner_when, stopping, runner)
        if not run_once:
            group.start_soon(_until, stopping, watch_runs, deployment_id)
        if cron is not None:
            group.start_soon(_until, stopping, _schedule_runs, deployment_id, cron)
        with _sigterm_stops(runner, stopping):
            await runner.start(run_once=run_once)
        group.cancel_scope.cancel()
    if stopping.is_set() and cron is not None:
        async with get_client() as client:
            await cancel_planned_runs(client, deployment_id)


async def _until(stopping: anyio.Event, loop: Any, *args: Any) -> None:
    """Run `loop(*args)` until `stopping` is set: SIGTERM ends scheduling and watching first."""
    async with anyio.create_task_group() as group:
        group.start_soon(loop, *args)
        await stopping.wait()
        group.cancel_scope.cancel()


async def cancel_planned_runs(client: Any, deployment_id: UUID) -> None:
    """Cancel the deployment's scheduled runs when `serve` stops: without a Prefect server only
    `serve` schedules them and nothing will execute them now, and the next `serve` then finds
    nothing to clean up."""
    from prefect.states import Cancelled

    for run in await deployment_runs(client, deployment_id, [StateType.SCHEDULED]):
        message = "`watchfloor serve` stopped before the run was due."
        await client.set_flow_run_state(run.id, Cancelled(message=message), force=True)


@contextlib.contextmanager
def _sigterm_stops(runner: Any, stopping: anyio.Event) -> Iterator[None]:
    """Make SIGTERM (what systemd and docker send) a clean stop while serving: set `stopping`.

    Prefect's runner installs its own SIGTERM handler when it starts: it exits from inside the
    handler and leaves the run in progress pending, holding the deployment's slot. Replace it
    (the runner registers whatever `handle_sigterm` is) and restore the process's own after.
    """
    loop = asyncio.get_running_loop()

    def handle_sigterm(*_: object) -> None:
        loop.call_soon_threadsafe(stopping.set)

    runner.handle_sigterm = handle_sigterm
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers, and the runner then sets none
        return
    previous = signal.signal(signal.SIGTERM, handle_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


async def _stop_runner_when(stopping: anyio.Event, runner: Any) -> None:
    """On SIGTERM: stop taking runs and cancel the one in progress (the runner marks it
    cancelled and ends its process). `runner.start` then returns, pausing the schedule on its
    way out, and `serve` with it. Cancelling from here instead would interrupt that exit."""
    await stopping.wait()
    log.warning("SIGTERM received: stopping; a cycle in progress is cancelled")
    while not runner.started:  # a runner still starting cannot be stopped yet
        await anyio.sleep(0.1)
    await runner.astop()


async def _schedule_runs(deployment_id: UUID, cron: str) -> None:
    """Create the deployment's next cron run, sleep until it is due, repeat."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        while True:
            when = await schedule_next_run(client, deployment_id, cron, datetime.now(UTC))
            await anyio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()) + 1)


async def schedule_next_run(
    client: Any, deployment_id: UUID, cron: str, after: datetime
) -> datetime:
    """Create the deployment's first scheduled run at or after `after` on `cron` (in UTC), and
    return its time. Idempotent: asking twice for the same time creates one run."""
    from prefect.server.schemas.schedules import CronSchedule as ServerCronSchedule
    from prefect.states import Scheduled

    [when] = await ServerCronSchedule(cron=cron, timezone=SCHEDULE_TIMEZONE).get_dates(
        n=1, start=after
    )
    await client.create_flow_run_from_deployment(
        deployment_id,
        state=Scheduled(scheduled_time=when),
        idempotency_key=f"watchfloor-serve {deployment_id} {when.isoformat()}",
    )
    return when
