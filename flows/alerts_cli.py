"""`watchfloor alerts ...`: test subscribers, list and retry deliveries."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Test subscribers, list alerts and retry failed deliveries.", no_args_is_help=True
)
