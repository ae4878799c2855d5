"""The `watchfloor` command line.

Prefect reads its settings when it is first imported, so this module sets Prefect's defaults for a
small machine (see `flows.prefectapi.process.apply_prefect_defaults`) before it imports anything
that imports Prefect: the console script `watchfloor` is `flows.cli.app:app`, so this runs first
whether or not the CLI is started through `make`.

Start-up is lazy: this module and the command modules it registers import only typer, rich and
the core vocabulary; Prefect, SQLAlchemy, Apprise, pydantic and the rule engine are imported
inside the commands that use them, so `--help` and `detect` start without them.
"""

# ruff: noqa: E402  (the imports after apply_prefect_defaults() must stay below it)
from __future__ import annotations

from flows.prefectapi.process import (
    apply_prefect_defaults,
    exit_cleanly_on_signals,
    watch_for_orphans,
)

apply_prefect_defaults()

import json
import sys
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.markup import escape

from core.model import DevelopmentView
from flows.cli import flowruns, web
from flows.cli.alerts import app as alerts_app
from flows.cli.articles import app as articles_app
from flows.cli.common import (
    DbOption,
    InputError,
    JsonOption,
    RulesOption,
    console,
    err_console,
    fail_cleanly,
    print_json,
)
from flows.cli.db import app as db_app
from flows.cli.feedback import app as feedback_app
from flows.cli.rules import app as rules_app

app = typer.Typer(
    help="Watchfloor: regional security news in, one alert per development out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Characters that end a line for some reader (str.splitlines, JavaScript) but that json.dumps
# leaves raw: escaped, so one input is one output line for every consumer.
_LINE_BREAKS_IN_JSON = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
# Control characters, and the same breaks, in plain output.
_CONTROLS_IN_TEXT = str.maketrans(
    {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, 0x85]} | {0x2028: "\\u2028", 0x2029: "\\u2029"}
)


# Commands that run Prefect flows, and so may start Prefect's ephemeral API server.
FLOW_COMMANDS = frozenset({"replay", "run", "serve"})


@app.callback()
def _every_command(ctx: typer.Context) -> None:
    exit_cleanly_on_signals()
    if ctx.invoked_subcommand in FLOW_COMMANDS:
        watch_for_orphans()


app.command()(flowruns.replay)


@app.command()
@fail_cleanly
def developments(
    database: DbOption = None,
    as_json: JsonOption = False,
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            help="Only developments in this region (korea, japan, ...; repeatable: any of them).",
        ),
    ] = None,
    dismissed: Annotated[
        str | None,
        typer.Option(
            "--dismissed",
            help="Also those an analyst dismissed: all, or only false_alarm or merged ones.",
        ),
    ] = None,
) -> None:
    """List the developments in the store (not those dismissed by feedback, unless asked)."""
    import db
    from flows.context.runtime import read_transaction
    from flows.context.settings import load_settings
    from flows.stages.report import RunReport, development_json, print_summary

    if dismissed is not None and dismissed not in db.DISMISSED_FILTERS:
        raise InputError(f"--dismissed: expected one of {', '.join(db.DISMISSED_FILTERS)}")
    url = load_settings(database_url=database).database_url
    wanted = {name.strip().casefold().removeprefix("region:") for name in region or ()}
    with read_transaction(url) as session:
        rows = [
            view
            for view in db.list_developments(session)
            if (not wanted or wanted & set(view.regions)) and _shown(view, dismissed)
        ]
    if as_json:
        print_json([development_json(view) for view in rows])
        return
    print_summary(RunReport(articles=0, new_articles=0, developments=rows, alerts_sent=0), console)


def _shown(view: DevelopmentView, dismissed: str | None) -> bool:
    """Whether `developments` lists a development under `--dismissed`."""
    if dismissed is None:
        return view.dismissed_as is None
    return dismissed == "all" or view.dismissed_as == dismissed


@app.command("detect")
@fail_cleanly
def detect_command(
    file: Annotated[Path, typer.Argument(help="JSON Lines: id, title, text, optional published.")],
    rules_dir: RulesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pure detection over a JSON Lines file: no database, no Prefect.

    One output line per usable input line, as it is read. A line that is not a record is
    reported on stderr and skipped (exit 1); exit 2 when the file cannot be read at all."""
    from flows.cli.detect import Skipped, detect_record, read_records
    from flows.context.config import load_ruleset
    from flows.context.settings import load_settings

    settings = load_settings(rules_dir=rules_dir)
    ruleset = load_ruleset(settings.rules_dir, settings.cache_dir)
    skipped = 0
    with _open_input(file) as handle:
        for entry in read_records(handle, file):
            if isinstance(entry, Skipped):
                _tell(f"{file}:{entry.number}: skipped: {entry.reason}")
                skipped += 1
                continue
            for warning in entry.warnings:
                _tell(f"{file}:{entry.number}: warning: {warning}")
            result = detect_record(ruleset, entry)
            if "error" in result:
                _tell(f"{file}:{entry.number}: detection failed: {result['error']}")
            sys.stdout.write((_json_line(result) if as_json else _text_line(result)) + "\n")
            sys.stdout.flush()  # streamed: a consumer sees each result as it is made
    if skipped:
        raise typer.Exit(1)


def _open_input(path: Path) -> BinaryIO:
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a JSON Lines file")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def _tell(message: str) -> None:
    err_console.print(escape(message.translate(_CONTROLS_IN_TEXT)), highlight=False)


def _json_line(result: dict[str, Any]) -> str:
    line = json.dumps(result, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: keep it escaped
        line = json.dumps(result)
    return line.translate(_LINE_BREAKS_IN_JSON)


def _text_line(result: dict[str, Any]) -> str:
    found = ", ".join(
        f"{m['category']}:{m['status']}{'(bg)' if m['background'] else ''}"
        for m in result["matches"]
    )
    if "error" in result:
        found = "error"
    line = f"{result['id']}: {found or '-'}".translate(_CONTROLS_IN_TEXT)
    return line.encode("utf-8", "backslashreplace").decode("utf-8")


app.command()(flowruns.run)
app.command()(flowruns.serve)
app.command()(web.web)
app.add_typer(flowruns.sources_app, name="sources")
app.add_typer(rules_app, name="rules")
app.add_typer(alerts_app, name="alerts")
app.add_typer(db_app, name="db")
app.add_typer(articles_app, name="articles")
app.add_typer(feedback_app, name="feedback")


def main() -> None:
    """Entry point for `python -m flows.cli.app`."""
    app()


if __name__ == "__main__":
    main()
