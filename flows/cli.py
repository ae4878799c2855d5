"""The `watchfloor` command line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

import db
from core.errors import ConfigError, ConfigValidationError, WatchfloorError
from flows.alerts_cli import app as alerts_app
from flows.db_cli import app as db_app
from flows.detect_cli import detect_file
from flows.report import development_json, print_summary
from flows.rules_cli import app as rules_app
from flows.runtime import transaction
from flows.settings import load_settings

app = typer.Typer(
    help="Watchfloor: regional security news in, one alert per development out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="SQLAlchemy URL of the store (default: WATCHFLOOR_DATABASE_URL)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
NotifyOption = Annotated[
    list[str] | None,
    typer.Option("--notify", help="Apprise URL to alert (repeatable); adds to the config file."),
]
AppriseOption = Annotated[
    Path | None,
    typer.Option(
        "--apprise-config", help="Apprise YAML of subscribers (default: WATCHFLOOR_APPRISE_CONFIG)."
    ),
]
RulesOption = Annotated[
    Path | None, typer.Option("--rules-dir", help="Folder of rule and entity YAML files.")
]


def fail_cleanly(func: F) -> F:
    """Turn Watchfloor's typed errors into a clear message and exit code, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigValidationError as exc:
            for error in exc.errors:
                err_console.print(f"[red]config error[/red] {error}", highlight=False)
            raise typer.Exit(2) from None
        except ConfigError as exc:
            err_console.print(f"[red]config error[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except WatchfloorError as exc:
            err_console.print(f"[red]error[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def use_notify_urls(urls: list[str] | None) -> None:
    """Hand `--notify` URLs to the flow through the environment: they carry tokens, and flow
    parameters are stored and shown by Prefect."""
    if urls:
        os.environ["WATCHFLOOR_NOTIFY_URLS"] = json.dumps(urls)


def validate_config(**overrides: Any) -> None:
    """Load rules and subscribers before starting Prefect, so bad config fails in a second."""
    from flows.pipeline import load_run_config

    load_run_config(load_settings(**overrides))


@contextlib.contextmanager
def stdout_reserved_for_json(enabled: bool) -> Iterator[None]:
    """While a --json command works, anything printed (terminal alerts) goes to stderr."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def print_json(payload: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


@app.command()
@fail_cleanly
def replay(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Article files or folders (default: seeds/).")
    ] = None,
    database: DbOption = None,
    notify_urls: NotifyOption = None,
    apprise_config: AppriseOption = None,
    rules_dir: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay local article files offline: store, detect developments, send alerts."""
    from flows.replay import replay_flow

    use_notify_urls(notify_urls)
    validate_config(apprise_config=apprise_config, rules_dir=rules_dir)
    with stdout_reserved_for_json(as_json):
        report = replay_flow(
            paths=[str(p) for p in paths] if paths else None,
            database_url=database,
            apprise_config=str(apprise_config) if apprise_config else None,
            rules_dir=str(rules_dir) if rules_dir else None,
        )
    if as_json:
        print_json(report.replay_json())
    else:
        print_summary(report, console)


@app.command()
@fail_cleanly
def developments(database: DbOption = None, as_json: JsonOption = False) -> None:
    """List the developments in the store."""
    url = load_settings(database_url=database).database_url
    with transaction(url) as session:
        rows = [development_json(view) for view in db.list_developments(session)]
    if as_json:
        print_json(rows)
        return
    from flows.report import RunReport

    print_summary(RunReport(articles=0, new_articles=0, developments=rows, alerts_sent=0), console)


@app.command("detect")
@fail_cleanly
def detect_command(
    file: Annotated[Path, typer.Argument(help="JSON Lines: id, title, text, optional published.")],
    rules_dir: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pure detection over a JSON Lines file: no database, no Prefect."""
    settings = load_settings(rules_dir=rules_dir)
    for line in detect_file(file, settings.rules_dir):
        if as_json:
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:
            found = ", ".join(
                f"{m['category']}:{m['status']}{'(bg)' if m['background'] else ''}"
                for m in line["matches"]
            )
            console.print(f"{line['id']}: {found or '-'}", highlight=False)


SourcesOption = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources YAML (default: WATCHFLOOR_SOURCES_FILE)."),
]


@app.command()
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


@app.command()
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
app.add_typer(sources_app, name="sources")


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


app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(db_app, name="db")


def main() -> None:
    """Entry point for `python -m flows.cli`."""
    app()


if __name__ == "__main__":
    main()
