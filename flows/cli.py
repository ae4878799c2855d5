"""The `watchfloor` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import db
from flows import monitor_cli
from flows.alerts_cli import app as alerts_app
from flows.articles_cli import app as articles_app
from flows.cli_common import (
    AppriseOption,
    DbOption,
    JsonOption,
    NotifyOption,
    RulesOption,
    fail_cleanly,
    print_json,
    stdout_reserved_for_json,
    use_database_url,
    use_notify_urls,
    validate_config,
)
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
# A pipe or CI log gets a readable width rather than rich's 80-column fallback.
console = Console(width=None if sys.stdout.isatty() else 120)


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
    use_database_url(database)
    validate_config(apprise_config=apprise_config, rules_dir=rules_dir)
    with stdout_reserved_for_json(as_json):
        report = replay_flow(
            paths=[str(p) for p in paths] if paths else None,
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


app.command()(monitor_cli.run)
app.command()(monitor_cli.serve)
app.add_typer(monitor_cli.sources_app, name="sources")
app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(db_app, name="db")
app.add_typer(articles_app, name="articles")


def main() -> None:
    """Entry point for `python -m flows.cli`."""
    app()


if __name__ == "__main__":
    main()
