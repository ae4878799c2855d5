"""The commands that run the flows: `watchfloor replay` (local files), `run` and `serve` (live
monitoring), and `sources check` (the `sources` group's `import` and `export` live in
`flows.cli.sources`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flows.cli import sources
from flows.cli.common import (
    AppriseOption,
    DbOption,
    JsonOption,
    NotifyOption,
    RulesOption,
    console,
    err_console,
    fail_cleanly,
    open_store_for_writing,
    print_json,
    require_paths,
    stdout_reserved_for_json,
    use_database_url,
    use_notify_urls,
    validate_config,
)

if TYPE_CHECKING:
    from adapters import ReplayPlan
    from flows.context.config import RunConfig
    from flows.runs.handoff import PlannedReplay

SourcesOption = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources YAML (default: WATCHFLOOR_SOURCES_FILE)."),
]


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
    """Replay local article files offline: store, detect developments, send alerts.

    When every file is already stored as it is and nothing in the store awaits detection or
    delivery, the replay answers without starting Prefect, and says so (on stderr with --json).
    """
    from flows.context.gcpace import collect_in_larger_steps

    collect_in_larger_steps()  # before the imports below: they allocate too
    require_paths(paths or [])
    use_notify_urls(notify_urls)
    use_database_url(database)
    config = validate_config(apprise_config=apprise_config, rules_dir=rules_dir)
    url = open_store_for_writing(None)  # the URL is in the environment now
    planned = _replay_planned(paths, config)
    if _replay_answered_idle(url, planned.plan, config.rules_version, as_json):
        return
    # Prefect and the flow's stack (~1.2 CPU-s), only once there is something to replay: a
    # bad path, setting or store, or a replay with nothing left to do, answers without them.
    from flows.prefectapi.server import temporary_api
    from flows.replay import replay_flow
    from flows.runs.handoff import Handoff, handing
    from flows.stages.progress import terminal_progress
    from flows.stages.report import print_summary

    with (
        stdout_reserved_for_json(as_json),
        terminal_progress(as_json) as progress,
        handing(Handoff(config, progress, replay=planned)),
        temporary_api(),
    ):
        report = replay_flow(
            paths=planned.paths or None,
            apprise_config=str(apprise_config) if apprise_config else None,
            rules_dir=str(rules_dir) if rules_dir else None,
        )
    if as_json:
        print_json(report.replay_json())
    else:
        print_summary(report, console)


def _replay_planned(paths: list[Path] | None, config: RunConfig) -> PlannedReplay:
    """The replay of `paths` (none: the seeds folder), planned once: for the check below, and
    handed to the flow."""
    from flows.runs.handoff import PlannedReplay
    from flows.runs.replayplan import plan_replay_of

    given = [str(p) for p in paths or []]
    source, plan = plan_replay_of(given, config.settings.seeds_dir)
    return PlannedReplay(given, source, plan)


def _replay_answered_idle(url: str, plan: ReplayPlan, rules_version: str, as_json: bool) -> bool:
    """Print the replay's report and say it had nothing to do, when it had not; else False."""
    import db
    from flows.context.runtime import transaction
    from flows.runs.idle import NOTHING_TO_REPLAY, stored_replay
    from flows.stages.report import RunReport, print_summary

    stored = None if plan.problems else stored_replay(url, plan.chunks, rules_version)
    if stored is None:
        return False
    read, ids = stored
    with transaction(url) as session:
        views = db.developments_evidenced_by(session, ids)
    report = RunReport(articles=read, new_articles=0, developments=list(views), alerts_sent=0)
    if as_json:
        err_console.print(NOTHING_TO_REPLAY, highlight=False)
        print_json(report.replay_json())
    else:
        print_summary(report, console)
        console.print(NOTHING_TO_REPLAY, highlight=False)
    return True


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
    """Poll the due sources once: fetch, store, detect, alert.

    Runs on Prefect's ephemeral API unless PREFECT_API_URL is set. A source is due when it was
    never polled, or from 30-60 s before its poll_interval has passed (after failures: once its
    whole backoff has); sources that are not due are neither fetched nor listed, in the table
    or in --json. --all polls them all.

    --json prints one object: {"sources": [{"name", "url", "status" (ok | not_modified |
    unchanged | error), "http_status", "items", "new_items", "error"}], "articles": N,
    "developments": [...as replay --json...], "alerts_sent": N}. When another monitor run holds
    the store's lock the run is skipped: nothing is polled and a warning goes to stderr.

    The due sources are polled before Prefect starts; Prefect's flow starts (and detects and
    sends beside the polling) only once something new is stored or the store holds work of
    earlier runs. A run that finds every source unchanged and nothing waiting, or no source
    due, ends without starting Prefect, and says so (on stderr with --json).
    """
    from flows.context.gcpace import collect_in_larger_steps

    collect_in_larger_steps()  # before the imports below: they allocate too
    from flows.context.config import region_names
    from flows.context.sourcesfile import load_source_specs
    from flows.runs.handoff import Handoff, handing
    from flows.runs.idle import NOTHING_TO_DO, due_sources, stored_work
    from flows.runs.monitorlock import SKIPPED
    from flows.runs.oneoff import NOTHING_NEW, Polling, poll_first
    from flows.stages.progress import terminal_progress
    from flows.stages.report import RunReport, print_summary

    # Secrets reach the flow through the environment, never as parameters: Prefect stores
    # and shows parameters.
    use_notify_urls(notify_urls)
    use_database_url(database)
    config = validate_config(
        apprise_config=apprise_config, rules_dir=rules_dir, sources_file=sources
    )
    specs = load_source_specs(config.settings.sources_file, region_names(config.ruleset))
    url = open_store_for_writing(None)  # a bad URL or a server down: one line, before Prefect
    chosen = specs if all_sources else due_sources(url, specs)
    if not chosen and not stored_work(url, config.rules_version):
        _say_nothing_to_do(NOTHING_TO_DO, as_json)
        if as_json:
            idle = RunReport(articles=0, new_articles=0, developments=[], alerts_sent=0)
            print_json(idle.run_json())
        return

    def start_flow(polling: Polling | None = None) -> RunReport:
        from flows.monitor import monitor_flow
        from flows.prefectapi.server import temporary_api  # imports Prefect: only when a flow runs

        with handing(Handoff(config, progress, polling)), temporary_api():
            return monitor_flow(
                sources_file=str(sources) if sources else None,
                apprise_config=str(apprise_config) if apprise_config else None,
                rules_dir=str(rules_dir) if rules_dir else None,
                all_sources=all_sources,
            )

    with stdout_reserved_for_json(as_json), terminal_progress(as_json) as progress:
        if chosen:  # polled before Prefect starts, and Prefect only if that found work
            if progress is not None:
                progress.reading(len(chosen), "sources")
            report, flowed = poll_first(config, chosen, start_flow, progress)
        else:  # nothing due, work waiting in the store: the flow takes it
            report, flowed = start_flow(), True
    if as_json:
        # stdout holds exactly one JSON document; warnings (a skipped run) go to stderr.
        for problem in report.problems:
            err_console.print(f"[yellow]warning:[/yellow] {problem}", highlight=False)
        print_json(report.run_json())
    else:
        print_summary(report, console)
    if not flowed and SKIPPED not in report.problems:
        _say_nothing_to_do(NOTHING_NEW, as_json)


def _say_nothing_to_do(line: str, as_json: bool) -> None:
    """The one line a run that had nothing to do prints: on stderr when stdout holds JSON."""
    (err_console if as_json else console).print(line, highlight=False)


@fail_cleanly
def serve(
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Schedule, in UTC (default: WATCHFLOOR_MONITOR_CRON)."),
    ] = None,
    sources: SourcesOption = None,
    database: DbOption = None,
    notify_urls: NotifyOption = None,
    apprise_config: AppriseOption = None,
    rules_dir: RulesOption = None,
) -> None:
    """Serve the monitor flow on this machine on a cron schedule (Prefect `serve`).

    Registers the deployment "monitor/monitor" (one run at a time; a run colliding with a
    running one is cancelled, with a warning) and executes its runs, each in a child process,
    until interrupted: Ctrl+C or SIGTERM cancels the run in progress, pauses the schedule and
    exits 0. At start it marks crashed the runs a killed `serve` left pending or running on
    this machine, and the runs it missed, so the schedule goes on. With PREFECT_API_URL the
    Prefect server schedules the runs; without it this command starts a temporary local
    Prefect API that lives as long as it does, and schedules the runs itself. --cron takes a
    sixth field for seconds. --db and --notify reach the runs through the environment, never
    as deployment parameters.
    """
    from flows.context.config import region_names
    from flows.context.settings import load_settings
    from flows.context.sourcesfile import load_source_specs
    from flows.serving.deployments import DEPLOYMENT_NAME, check_cron
    from flows.serving.serve import serve_monitor

    # Secrets reach the served runs through the environment they inherit, never as
    # parameters: Prefect stores and shows parameters.
    use_notify_urls(notify_urls)
    use_database_url(database)
    settings = load_settings(
        monitor_cron=cron,
        sources_file=sources,
        apprise_config=apprise_config,
        rules_dir=rules_dir,
    )
    check_cron(settings.monitor_cron)
    config = validate_config(apprise_config=apprise_config, rules_dir=rules_dir)
    load_source_specs(settings.sources_file, region_names(config.ruleset))
    err_console.print(
        f"Serving {DEPLOYMENT_NAME!r} on cron {settings.monitor_cron!r} (UTC) from "
        f"{settings.sources_file}; Ctrl+C stops it.",
        highlight=False,
    )
    serve_monitor(settings)


sources_app = typer.Typer(
    help="Check the configured sources; import them from OPML, export them as OPML; list the "
    "source kinds and their options.",
    no_args_is_help=True,
)
sources_app.command("import")(sources.sources_import)
sources_app.command("export")(sources.sources_export)
sources_app.command("kinds")(sources.sources_kinds)

HEALTH_COLUMNS = (
    "name",
    "status",
    "http_status",
    "items",
    "error",
    "consecutive_failures",
    "last_success_at",
    "next_due_at",
)


@sources_app.command("check")
@fail_cleanly
def sources_check(
    sources: SourcesOption = None, database: DbOption = None, as_json: JsonOption = False
) -> None:
    """Fetch each source once now and show it next to the health the store remembers.

    Nothing is stored. status, http_status, items, error and problems (a moved or malformed
    feed read anyway) are this fetch's; last_status, last_fetch_at, last_success_at,
    last_http_status, consecutive_failures, last_error and next_due_at are what monitor runs
    recorded (empty for a source never polled).
    """
    from flows.cli.health import check_sources
    from flows.context.settings import load_settings

    settings = load_settings(sources_file=sources, database_url=database)
    rows = check_sources(settings)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="Source health", title_justify="left")
    for column in HEALTH_COLUMNS:
        table.add_column(column, ratio=2 if column == "error" else None)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in HEALTH_COLUMNS))
    console.print(table)
