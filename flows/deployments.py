"""Prefect deployments of the monitor flow, for `watchfloor serve` (prefect.yaml mirrors them)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from pydantic import ValidationError

from core.errors import ConfigError
from flows.monitor import monitor_flow
from flows.settings import Settings

DEPLOYMENT_NAME = "monitor"
SCHEDULE_TIMEZONE = "UTC"


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


def monitor_deployment(settings: Settings) -> RunnerDeployment:
    """The scheduled monitor deployment: one run at a time, a colliding run is cancelled.

    The store's monitor lock guards overlaps too (runs started outside this deployment); the
    Prefect limit keeps a slow cycle from queueing a backlog of runs behind it.
    """
    return monitor_flow.to_deployment(
        name=DEPLOYMENT_NAME,
        schedule=check_cron(settings.monitor_cron),
        parameters=monitor_parameters(settings),
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="Poll due Watchfloor sources, store, detect and alert.",
        tags=["watchfloor"],
    )


def serve_monitor(
    settings: Settings, *, run_once: bool = False, schedule_itself: bool | None = None
) -> None:
    """Serve the monitor deployment from this process, as Prefect's `serve` does.

    Each scheduled run executes in a child process that inherits this one's environment.
    `run_once` executes the runs due now and returns (for tests); otherwise it serves until
    interrupted, pausing the schedule on the way out so no runs pile up meanwhile.

    With PREFECT_API_URL, that server's scheduler creates the cron's runs. Without it, this
    process starts Prefect's temporary local API, which runs no scheduler, so it creates each
    next run itself (`schedule_itself` forces either choice).
    """
    from prefect.runner import Runner

    with local_api_if_none() as started_here:
        runner = Runner(name="watchfloor-monitor", pause_on_shutdown=True)
        deployment_id = runner.add_deployment(monitor_deployment(settings))
        scheduling = started_here if schedule_itself is None else schedule_itself
        cron = settings.monitor_cron if scheduling else None
        # Ctrl+C is how an operator stops serving: not an error.
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(runner, deployment_id, cron, run_once))


@contextlib.contextmanager
def local_api_if_none() -> Iterator[bool]:
    """Make sure there is a Prefect API the served runs' child processes can reach too.

    Without PREFECT_API_URL every Prefect process would start a temporary API of its own, and a
    run's child process would not find its run there. So start one here and hand its URL to the
    children through the environment. Yields True when it started one.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield False
        return
    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield True
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


async def _serve(runner: Any, deployment_id: UUID, cron: str | None, run_once: bool) -> None:
    """Run the runner, and beside it the scheduling loop when `cron` is given."""
    if cron is None:
        await runner.start(run_once=run_once)
        return
    async with anyio.create_task_group() as group:
        group.start_soon(_schedule_runs, deployment_id, cron)
        await runner.start(run_once=run_once)
        group.cancel_scope.cancel()


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
