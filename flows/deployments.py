"""Prefect deployments of the monitor flow, for `watchfloor serve` (prefect.yaml mirrors them)."""

from __future__ import annotations

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment

from flows.monitor import monitor_flow
from flows.settings import Settings


def monitor_deployment(settings: Settings) -> RunnerDeployment:
    """The scheduled monitor deployment: one run at a time, a colliding run is cancelled.

    The store's monitor lock guards overlaps too (runs started outside this deployment); the
    Prefect limit keeps a slow cycle from queueing a backlog of runs behind it.
    """
    return monitor_flow.to_deployment(
        name="monitor",
        cron=settings.monitor_cron,
        parameters={
            "sources_file": str(settings.sources_file),
            "database_url": settings.database_url,
            "apprise_config": str(settings.apprise_config) if settings.apprise_config else None,
        },
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        description="Poll due Watchfloor sources, store, detect and alert.",
        tags=["watchfloor"],
    )
