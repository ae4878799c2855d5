"""`watchfloor web`: the analyst's console (package `web`) served by uvicorn over the store.

The console binds 127.0.0.1 unless told otherwise, and any other address needs
WATCHFLOOR_WEB_TOKEN: an open console on a network would show every development to anyone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from core.errors import ConfigError
from flows.cli.common import DbOption, err_console, existing_store, fail_cleanly

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def cycle_interval_s(cron: str) -> float:
    """Seconds between two monitor cycles of the `serve` schedule `cron` (its next two ticks)."""
    from cronsim import CronSim, CronSimError

    try:
        ticks = CronSim(cron, datetime.now(UTC))
        first, second = next(ticks), next(ticks)
    except (CronSimError, StopIteration) as exc:
        raise ConfigError(
            "WATCHFLOOR_MONITOR_CRON (environment or .env)", f"bad cron expression: {exc}"
        ) from None
    return (second - first).total_seconds()


def check_bind(host: str, token: str | None) -> None:
    """A host beyond loopback without a token is a config error."""
    if host not in LOOPBACK_HOSTS and token is None:
        raise ConfigError(
            "option --host",
            f"binding {host} needs a token: set WATCHFLOOR_WEB_TOKEN (16 characters or more)",
        )


@fail_cleanly
def web(
    database: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8080,
) -> None:
    """Serve the web console: developments, sources, JSON API, Atom feeds and /healthz."""
    import uvicorn

    from flows.context.settings import load_settings
    from web import WebConfig, create_app

    settings = load_settings(database_url=database)
    check_bind(host, settings.web_token)
    url = existing_store(settings.database_url)
    config = WebConfig(
        database_url=url,
        token=settings.web_token,
        cycle_interval_s=cycle_interval_s(settings.monitor_cron),
    )
    err_console.print(
        f"Watchfloor console on http://{host}:{port}/"
        + (" (token required)" if config.token else ""),
        highlight=False,
    )
    # No access log: `/login?token=` would write the token into it.
    uvicorn.run(create_app(config), host=host, port=port, access_log=False, log_level="warning")
