"""What every `watchfloor` command shares: options, clean errors, JSON on stdout.

A mistake a user typed (a path, a database URL, a store that is not there) is one line on stderr
naming the problem and the fix, and exit status 2; never a traceback.

Every command, `--help` included, imports this module: it imports only typer, rich and the
core vocabulary. The store (SQLAlchemy), the settings (pydantic) and the rules are imported by
the functions that use them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import ConfigError, ConfigValidationError, WatchfloorError

if TYPE_CHECKING:
    from flows.context.config import RunConfig

# Tables and summaries on stdout: a pipe or CI log gets a readable width, not rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 120)
# soft_wrap: a long path in "file:line: reason" must stay on one line to be clickable and greppable.
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


class InputError(WatchfloorError):
    """A file or folder the user named cannot be used (missing, unreadable, wrong encoding)."""


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


def fail_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Watchfloor's typed errors into a clear message and exit code, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
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
            if _names_a_user_input(exc):
                err_console.print(f"[red]error[/red] {escape(str(exc))}", highlight=False)
                raise typer.Exit(2) from None
            err_console.print(f"[red]error[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def _names_a_user_input(exc: WatchfloorError) -> bool:
    """An InputError, or the store's StoreError (a URL or store the user gave is unusable).

    The store's module is looked up, not imported: a command that never loaded it (detect,
    --help) cannot have raised its error, and importing it would cost SQLAlchemy and Alembic.
    """
    engine = sys.modules.get("db.engine")
    store_error = getattr(engine, "StoreError", None)
    return isinstance(exc, InputError) or (store_error is not None and isinstance(exc, store_error))


def use_database_url(url: str | None) -> None:
    """Hand `--db` to the flow through the environment: a PostgreSQL URL may carry a password,
    and flow parameters are stored and shown by Prefect."""
    if url:
        os.environ["WATCHFLOOR_DATABASE_URL"] = url


def open_store_for_writing(url: str | None) -> str:
    """The store URL (`--db` or the settings), created and migrated now: a bad URL or an
    unreachable server fails here in one line, before Prefect starts and logs a traceback."""
    from flows.context.runtime import ensure_schema
    from flows.context.settings import load_settings

    resolved = load_settings(database_url=url).database_url
    ensure_schema(resolved)
    return resolved


def existing_store(url: str | None) -> str:
    """The store URL (`--db` or the settings) of a command that must not create a store: it
    exists and is up to date, or StoreError says which command to run first."""
    from flows.context.runtime import require_store
    from flows.context.settings import load_settings

    resolved = load_settings(database_url=url).database_url
    require_store(resolved)
    return resolved


def require_paths(paths: list[Path]) -> None:
    """Every path the user named exists (a missing one would otherwise replay nothing)."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")


def use_notify_urls(urls: list[str] | None) -> None:
    """Hand `--notify` URLs to the flow through the environment: they carry tokens, and flow
    parameters are stored and shown by Prefect."""
    if urls:
        os.environ["WATCHFLOOR_NOTIFY_URLS"] = json.dumps(urls)


def validate_config(**overrides: Any) -> RunConfig:
    """Load rules and subscribers before starting Prefect, so bad config fails in a second (the
    flow then finds them loaded: see flows.context.config)."""
    from flows.context.config import load_run_config
    from flows.context.settings import load_settings

    return load_run_config(load_settings(**overrides))


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
