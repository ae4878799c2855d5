"""`watchfloor rules ...`: check, explain and evaluate the detection rules."""

from __future__ import annotations

import typer

app = typer.Typer(help="Check, explain and evaluate detection rules.", no_args_is_help=True)
