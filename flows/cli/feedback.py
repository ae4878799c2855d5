"""`watchfloor feedback ...`: an analyst's verdicts on developments, and the examples they make.

`false-alarm` dismisses a development (it never alerts again), `restore` undoes that, `merge`
folds one development into another, `split` moves chosen evidence to a new development; each is
recorded with who (`--by`, default the login name) and when. `list` shows the record, `export`
writes it as labelled examples that `watchfloor rules test` reads. A development or evidence id
that does not fit is one line on stderr and exit 2.

The store is imported by the commands, not here: `watchfloor --help` loads this module.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import FeedbackError
from core.jsonshape import jsonable
from flows.cli.common import DbOption, InputError, JsonOption, fail_cleanly, print_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    import db

app = typer.Typer(
    help="Mark false alarms, merge and split developments; export them as labelled examples.",
    no_args_is_help=True,
)
console = Console(width=None)

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who takes the action (default: your login name).")
]
IdArgument = Annotated[int, typer.Argument(help="Development id (see `watchfloor developments`).")]


def default_actor() -> str:
    """The login name of whoever runs the command, or `cli` when the system has none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _act(
    database: str | None, action: Callable[[Session, datetime], db.FeedbackRecord]
) -> db.FeedbackRecord:
    """Run one feedback action in one transaction on an existing store; a refusal is one line
    and exit 2 (nothing is changed)."""
    from flows.cli.common import existing_store
    from flows.context.runtime import transaction

    url = existing_store(database)
    try:
        with transaction(url) as session:
            return action(session, datetime.now(UTC))
    except FeedbackError as exc:
        raise InputError(str(exc)) from None


@app.command("false-alarm")
@fail_cleanly
def false_alarm(development: IdArgument, by: ByOption = None, database: DbOption = None) -> None:
    """Mark a development a false alarm: it stops alerting and leaves the default views."""
    import db

    actor = by or default_actor()
    record = _act(database, lambda s, now: db.mark_false_alarm(s, development, actor, now))
    withdrawn = record.details.get("withdrawn_deliveries", 0)
    typer.echo(
        f"development {development} marked a false alarm by {record.actor} "
        f"({withdrawn} unsent deliveries withdrawn)"
    )


@app.command("restore")
@fail_cleanly
def restore(development: IdArgument, by: ByOption = None, database: DbOption = None) -> None:
    """Undo a false alarm: the development is live again (withdrawn deliveries stay so)."""
    import db

    actor = by or default_actor()
    record = _act(database, lambda s, now: db.restore_development(s, development, actor, now))
    typer.echo(f"development {development} restored by {record.actor}")


@app.command("merge")
@fail_cleanly
def merge(
    source: Annotated[int, typer.Argument(help="The development to merge away.")],
    into: Annotated[int, typer.Argument(help="The development that takes its evidence.")],
    by: ByOption = None,
    database: DbOption = None,
) -> None:
    """Merge development SOURCE into INTO: its evidence moves there; no alert is sent for it."""
    import db

    actor = by or default_actor()
    record = _act(database, lambda s, now: db.merge_developments(s, source, into, actor, now))
    moved = len(record.details.get("evidence_ids", []))
    typer.echo(
        f"development {source} merged into {into} by {record.actor} ({moved} evidence moved)"
    )


@app.command("split")
@fail_cleanly
def split(
    development: IdArgument,
    evidence: Annotated[
        list[int], typer.Argument(help="Evidence ids to split off (see `feedback evidence`).")
    ],
    by: ByOption = None,
    database: DbOption = None,
) -> None:
    """Move the evidence EVIDENCE... of a development to a new development."""
    import db

    actor = by or default_actor()
    record = _act(
        database, lambda s, now: db.split_development(s, development, evidence, actor, now)
    )
    typer.echo(
        f"evidence {', '.join(str(i) for i in record.details['evidence_ids'])} of development "
        f"{development} split off into development {record.target_id} by {record.actor}"
    )


@app.command("evidence")
@fail_cleanly
def evidence_command(
    development: IdArgument, database: DbOption = None, as_json: JsonOption = False
) -> None:
    """List a development's evidence with the ids `split` takes."""
    import db
    from flows.context.runtime import read_transaction
    from flows.context.settings import load_settings

    url = load_settings(database_url=database).database_url
    with read_transaction(url) as session:
        detail = db.development_detail(session, development)
    if detail is None:
        raise InputError(f"no development {development}")
    rows = [
        {"id": e.id, "article_id": e.article_id, "outlet": e.outlet, "title": e.title}
        for e in detail.evidence
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("evidence", "outlet", "article")
    for e in detail.evidence:
        table.add_row(str(e.id), e.outlet, e.title)
    console.print(table)


def record_json(record: db.FeedbackRecord) -> dict[str, Any]:
    """One recorded action as `feedback list --json` prints it: every field, as the record
    names it."""
    return jsonable(dataclasses.asdict(record))


@app.command("list")
@fail_cleanly
def list_command(database: DbOption = None, as_json: JsonOption = False) -> None:
    """Every recorded feedback action, oldest first: what, on which development, who, when."""
    import db
    from flows.context.runtime import read_transaction
    from flows.context.settings import load_settings

    url = load_settings(database_url=database).database_url
    with read_transaction(url) as session:
        records = [record_json(record) for record in db.list_feedback(session)]
    if as_json:
        print_json(records)
        return
    table = Table("#", "action", "development", "target", "by", "at")
    for row in records:
        table.add_row(
            str(row["id"]),
            row["action"],
            str(row["development_id"]),
            "" if row["target_id"] is None else str(row["target_id"]),
            row["actor"],
            row["created_at"][:16].replace("T", " ") + " UTC",
        )
    console.print(table, markup=False)


@app.command("export")
@fail_cleanly
def export(
    file: Annotated[Path, typer.Argument(help="JSON Lines of the articles to write.")],
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="TSV of their labels (default: FILE with .tsv)."),
    ] = None,
    database: DbOption = None,
) -> None:
    """Write the articles feedback touched, labelled as the feedback says, for `rules test`:
    `watchfloor rules test FILE --labels LABELS`."""
    import db
    from flows.context.runtime import read_transaction
    from flows.context.settings import load_settings

    labels = labels or file.with_suffix(".tsv")
    url = load_settings(database_url=database).database_url
    with read_transaction(url) as session:
        examples = db.feedback_examples(session)
    usable = [example for example in examples if example.text is not None]
    try:
        file.write_text("".join(_article_line(e) for e in usable), encoding="utf-8")
        labels.write_text(
            "id\tevents\treason\n" + "".join(_label_line(e) for e in usable), encoding="utf-8"
        )
    except OSError as exc:
        raise InputError(f"{exc.filename}: cannot write: {exc.strerror}") from None
    purged = len(examples) - len(usable)
    typer.echo(
        f"wrote {len(usable)} labelled articles to {file} and {labels}"
        + (f" ({purged} left out: their text was purged)" if purged else "")
        + f"; score them with: watchfloor rules test {file} --labels {labels}"
    )


def example_key(example: db.FeedbackExample) -> str:
    """The id an exported article has in both files."""
    return f"article-{example.article_id}"


def _published(example: db.FeedbackExample) -> str | None:
    """The article's time in its publisher's offset, as detection read it in the store."""
    if example.published is None:
        return None
    offset = timedelta(minutes=example.offset_min or 0)
    return example.published.astimezone(timezone(offset)).isoformat()


def _article_line(example: db.FeedbackExample) -> str:
    record = {
        "id": example_key(example),
        "title": example.title,
        "text": example.text,
        "published": _published(example),
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def _label_line(example: db.FeedbackExample) -> str:
    events = ",".join(sorted(example.categories)) or "none"
    # One line per article: tabs and line breaks in a reason would break the TSV.
    reason = "; ".join(example.reasons).replace("\t", " ").replace("\n", " ")
    return f"{example_key(example)}\t{events}\t{reason}\n"
