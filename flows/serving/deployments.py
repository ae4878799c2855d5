"""Prefect deployments of the monitor flow, for `watchfloor serve` (prefect.yaml mirrors them).

`serve` never stops silently: at start it marks crashed every run of the monitor deployment
that a dead process left pending or running (such a run holds the deployment's one-at-a-time
slot, and Prefect would cancel every later run), and the runs it missed while down; while
serving it keeps doing so and says at WARNING why a cycle was cancelled or crashed; on SIGTERM
it stops scheduling, cancels the run in progress and exits 0, leaving nothing to clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import anyio
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
    FlowRun,
    StateType,
)
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from prefect.logging import get_logger
from pydantic import ValidationError

from core.errors import ConfigError
from flows.context.liveness import process_is_gone
from flows.context.settings import Settings
from flows.monitor import PROCESS_LABEL, monitor_flow

DEPLOYMENT_NAME = "monitor"
SCHEDULE_TIMEZONE = "UTC"
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


def check_cron(expression: str) -> CronSchedule:
    """The schedule of a cron expression (in UTC); ConfigError naming the expression if bad."""
    try:
        return CronSchedule(cron=expression, timezone=SCHEDULE_TIMEZONE)
    except ValidationError as exc:
        reason = "; ".join(str(error["msg"]) for error in exc.errors())
        raise ConfigError("--cron", f"bad cron expression {expression!r}: {reason}") from None


def monitor_parameters(settings: Settings) -> dict[str, Any]:
    """The monitor flow's parameters for a deployment: absolute paths, no secrets.

    Paths are absolute so a served run finds them whatever its working directory. The database
    URL and subscriber URLs are left out on purpose (they may carry passwords and tokens, and
    Prefect stores and displays parameters): runs read them from WATCHFLOOR_* variables.
    """
    parameters: dict[str, Any] = {
        "sources_file": str(settings.sources_file.resolve()),
        "rules_dir": str(settings.rules_dir.resolve()),
    }
    if settings.apprise_config:
        parameters["apprise_config"] = str(settings.apprise_config.resolve())
    return parameters


def run_settings_environment(settings: Settings) -> dict[str, str]:
    """The files a run gets as parameters (monitor_parameters), as the WATCHFLOOR_* variables
    that name them, for what loads them before any run does (flows.serving.forkruns' warm-up)."""
    # The parameters are named after the settings: sources_file is WATCHFLOOR_SOURCES_FILE.
    return {
        f"WATCHFLOOR_{key.upper()}": value for key, value in monitor_parameters(settings).items()
    }


def served_runs_prefect_environment(api_started_here: bool) -> dict[str, str]:
    """Prefect settings for the runs `serve` starts, sparing each run requests to the API
    that `serve` has already made for it: 2 of the 4 of a run that polls without the engine
    (`flows.serving.servedruns`), 4-5 of the 17-20 of one that starts it.

    - No server version check: `serve`'s own client checked the same API's version when it
      started, and every run would ask again (GET /admin/version, twice a run: Prefect's
      setting exists for subprocesses that inherit a known-compatible server).
    - No CSRF token, when the API is the temporary one `serve` started without CSRF
      protection: each client of a run asks for a token before its first change
      (GET /csrf-token, twice a run), is refused, and goes on without one.

    A variable the operator sets in `serve`'s environment still wins: Prefect copies that
    environment into each run over the forkserver's.
    """
    from prefect.settings import get_current_settings

    environment = {"PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false"}
    if api_started_here and not get_current_settings().server.api.csrf_protection_enabled:
        environment["PREFECT_CLIENT_CSRF_SUPPORT_ENABLED"] = "false"
    return environment


def monitor_deployment(settings: Settings) -> RunnerDeployment:
    """The scheduled monitor deployment: one run at a time, a colliding run is cancelled.

    The store's monitor lock guards overlaps too (runs started outside this deployment); the
    Prefect limit keeps a slow cycle from queueing a backlog of runs behind it.
    """
    deployment = monitor_flow.to_deployment(**monitor_deployment_options(settings))
    # Prefect types it "a deployment, or a coroutine when called in an event loop": not here.
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def monitor_deployment_options(settings: Settings) -> dict[str, Any]:
    """Name, schedule, parameters, limit and labels of the monitor deployment."""
    return {
        "name": DEPLOYMENT_NAME,
        "schedule": check_cron(settings.monitor_cron),
        "parameters": monitor_parameters(settings),
        "concurrency_limit": ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        "description": "Poll due Watchfloor sources, store, detect and alert.",
        "tags": ["watchfloor"],
    }


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
            group.start_soon(_until, stopping, _watch_runs, deployment_id)
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


async def _watch_runs(deployment_id: UUID) -> None:
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
