"""`watchfloor db ...`: schema migrations and retention.

The store (SQLAlchemy, Alembic) is imported by the commands: `watchfloor --help` loads this
module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from flows.cli.common import DbOption, fail_cleanly

app = typer.Typer(help="Manage the store: migrations and retention.", no_args_is_help=True)


@app.command()
@fail_cleanly
def upgrade(database: DbOption = None) -> None:
    """Apply the Alembic migrations up to the latest schema (safe to run at any time)."""
    import db
    from db.engine import check_reachable
    from flows.context.runtime import engine_for
    from flows.context.settings import load_settings

    url = load_settings(database_url=database).database_url
    engine = engine_for(url)
    check_reachable(engine)
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.current_revision(engine)
    typer.echo(f"schema at {after}" + (f" (was {before or 'empty'})" if before != after else ""))


@app.command()
@fail_cleanly
def purge(
    older_than: Annotated[
        int, typer.Option("--older-than", min=1, help="Age in days (by fetch time) to purge.")
    ],
    delete_articles: Annotated[
        bool,
        typer.Option(
            "--delete-articles", help="Also delete old articles that are no development's evidence."
        ),
    ] = False,
    database: DbOption = None,
) -> None:
    """Drop old article bodies (and optionally articles); developments, evidence metadata and
    alert history are kept."""
    import db
    from flows.context.clock import utcnow
    from flows.context.runtime import require_store, transaction
    from flows.context.settings import load_settings

    url = load_settings(database_url=database).database_url
    require_store(url)  # purging must not create an empty store
    cutoff = utcnow() - timedelta(days=older_than)
    with transaction(url) as session:
        result = db.purge(session, cutoff, delete_articles=delete_articles)
    typer.echo(
        f"cleared {result.bodies_cleared} article bodies, deleted {result.articles_deleted} "
        f"articles older than {cutoff:%Y-%m-%d %H:%M} UTC"
    )
