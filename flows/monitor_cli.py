"""`watchfloor run`, `serve` and `sources check`: live monitoring from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flows.cli_common import (
    AppriseOption,
    DbOption,
    JsonOption,
    NotifyOption,
    RulesOption,
    fail_cleanly,
    print_json,
    stdout_reserved_for_json,
    use_notify_urls,
    validate_config,
)
from flows.report import print_summary
from flows.settings import load_settings

console = Console()

SourcesOption = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources YAML (default: WATCHFLOOR_SOURCES_FILE)."),
]


@fail_cleanly
def run(
    sources: SourcesOption = None,
    database: DbOption = None,
    notify_urls: NotifyOption = None,
    apprise_config: AppriseOption = None,
    rules_dir: RulesOption = None,
    all_sources: Annotated[
        bool, typer.Option("--all", help="Poll every source now, not only the due ones.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Poll the sources once (on Prefect's ephemeral API unless PREFECT_API_URL is set)."""
    from flows.monitor import load_source_specs, monitor_flow

    use_notify_urls(notify_urls)
    validate_config(apprise_config=apprise_config, rules_dir=rules_dir)
    load_source_specs(load_settings(sources_file=sources).sources_file)
    with stdout_reserved_for_json(as_json):
        report = monitor_flow(
            sources_file=str(sources) if sources else None,
            database_url=database,
            apprise_config=str(apprise_config) if apprise_config else None,
            rules_dir=str(rules_dir) if rules_dir else None,
            all_sources=all_sources,
        )
    if as_json:
        print_json(report.run_json())
    else:
        print_summary(report, console)


@fail_cleanly
def serve(
    cron: Annotated[
        str | None, typer.Option("--cron", help="Schedule (default: WATCHFLOOR_MONITOR_CRON).")
    ] = None,
    sources: SourcesOption = None,
    database: DbOption = None,
    apprise_config: AppriseOption = None,
) -> None:
    """Serve the monitor flow on this machine on a cron schedule (Prefect `serve`)."""
    from prefect import serve as prefect_serve

    from flows.deployments import monitor_deployment

    settings = load_settings(
        monitor_cron=cron,
        sources_file=sources,
        database_url=database,
        apprise_config=apprise_config,
    )
    deployment = monitor_deployment(settings)
    prefect_serve(deployment)


sources_app = typer.Typer(help="Inspect configured sources.", no_args_is_help=True)


@sources_app.command("check")
@fail_cleanly
def sources_check(
    sources: SourcesOption = None, database: DbOption = None, as_json: JsonOption = False
) -> None:
    """Fetch each source once (nothing is stored) and print a health table."""
    from flows.health import check_sources

    settings = load_settings(sources_file=sources, database_url=database)
    rows = check_sources(settings)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Source health", title_justify="left")
    columns = ("name", "status", "http_status", "items", "consecutive_failures", "error")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
