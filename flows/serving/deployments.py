"""The monitor flow as a Prefect deployment for `watchfloor serve` (prefect.yaml mirrors it): its
name, cron schedule (in UTC), parameters (absolute paths, never a secret), one-at-a-time limit,
and the environment of the runs `serve` starts.
"""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import RunnerDeployment
from pydantic import ValidationError

from core.errors import ConfigError
from flows.context.settings import Settings
from flows.monitor import monitor_flow

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
