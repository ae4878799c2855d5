"""What every `watchfloor` command shares: options, clean errors, JSON on stdout."""

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

from core.errors import ConfigError, ConfigValidationError, WatchfloorError
from flows.settings import load_settings

# soft_wrap: a long path in "file:line: reason" must stay on one line to be clickable and greppable.
err_console = Console(stderr=True, soft_wrap=True)

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


def use_database_url(url: str | None) -> None:
    """Hand `--db` to the flow through the environment: a PostgreSQL URL may carry a password,
    and flow parameters are stored and shown by Prefect."""
    if url:
        os.environ["WATCHFLOOR_DATABASE_URL"] = url


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
