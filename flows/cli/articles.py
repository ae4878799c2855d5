"""`watchfloor articles ...`: the articles whose analysis failed, and detecting them again.

Detection records an article whose analysis raised as `failed` (the error and the rules
version) and goes on with the rest. Failed articles are taken again by the next run when the
rules change; `redetect` puts them back in the queue now and detects them (and anything else
awaiting detection), then sends the alerts that raises, as a run would.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows.cli.common import (
    DbOption,
    JsonOption,
    existing_store,
    fail_cleanly,
    open_store_for_writing,
    print_json,
    stdout_reserved_for_json,
    use_database_url,
)

if TYPE_CHECKING:
    import db

app = typer.Typer(help="Articles whose analysis failed; detect them again.", no_args_is_help=True)

IdsOption = Annotated[
    list[int] | None, typer.Option("--id", help="Only this article (repeatable); default: all.")
]


def _failed_json(item: db.FailedArticle) -> dict[str, object]:
    """One failed article of `articles failed --json`: every field, as the record names it."""
    from flows.stages.report import jsonable

    return jsonable(dataclasses.asdict(item))


@app.command("failed")
@fail_cleanly
def failed(database: DbOption = None, as_json: JsonOption = False) -> None:
    """List the articles whose analysis failed, with the error and the rules version."""
    import db
    from flows.context.runtime import read_transaction

    with read_transaction(existing_store(database)) as session:
        items = db.failed_articles(session)
    if as_json:
        print_json([_failed_json(item) for item in items])
        return
    table = Table(title=f"Articles that failed detection ({len(items)})", title_justify="left")
    for column in ("id", "source", "guid", "rules", "error"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.id),
            escape(item.source),
            escape(item.guid),
            item.rules_version or "",
            escape(item.error),
        )
    Console().print(table)


@app.command("redetect")
@fail_cleanly
def redetect(ids: IdsOption = None, database: DbOption = None, as_json: JsonOption = False) -> None:
    """Put failed articles back in the queue, detect them now and send what that raises."""
    import db
    from flows.context.config import load_run_config
    from flows.context.runtime import transaction
    from flows.context.settings import load_settings
    from flows.stages.tasks import detect_stage, send_stage

    use_database_url(database)
    open_store_for_writing(None)  # the URL is in the environment now
    config = load_run_config(load_settings())
    with transaction(config.database_url) as session:
        requeued = db.requeue_failed(session, ids)
    settings = config.settings
    with stdout_reserved_for_json(as_json):  # alerts printed to the terminal go to stderr
        detected = detect_stage.fn(
            config.database_url, config.ruleset, config.rules_version, settings.lookback_days
        )
        sent = send_stage.fn(
            config.database_url, config.subscribers, settings.delivery_max_attempts
        )
    summary = {
        "requeued": requeued,
        "detected": detected.articles,
        "failed": [
            {"id": f.id, "source": f.source, "guid": f.guid, "error": f.error}
            for f in detected.failed
        ],
        "alerts_sent": len(sent.alerts_sent),
    }
    if as_json:
        print_json(summary)
        return
    console = Console()
    console.print(
        f"{requeued} articles put back, {detected.articles} detected, "
        f"{len(detected.failed)} failed again, {len(sent.alerts_sent)} alerts sent",
        highlight=False,
    )
    for item in detected.failed:
        console.print(f"[red]failed:[/red] article {item.id}: {escape(item.error)}")
