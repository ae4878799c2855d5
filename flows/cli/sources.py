"""`watchfloor sources import FILE.opml` and `watchfloor sources export`: feeds in and out of the
sources file as OPML, the format feed readers (Miniflux, FreshRSS, Feedly, ...) exchange; and
`watchfloor sources kinds`: the source kinds a sources file may use, with their options.

Registered on the `sources` group by `flows.cli.flowruns`. Like every command module it imports
only typer, rich and the core vocabulary at start; the adapters are imported when a command
runs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flows.cli.common import InputError, err_console, fail_cleanly

SourcesFileOption = Annotated[
    Path | None,
    typer.Option("--sources", help="Sources YAML (default: WATCHFLOOR_SOURCES_FILE)."),
]


@fail_cleanly
def sources_import(
    opml: Annotated[Path, typer.Argument(help="OPML file exported by a feed reader.")],
    sources: SourcesFileOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be added; change nothing.")
    ] = False,
) -> None:
    """Add the feeds of an OPML file to the sources file.

    Every outline with an xmlUrl becomes a source: its text (or title) is the name, made unique;
    the folders around it and its category attribute become its tags. Feeds whose URL the file
    already has are skipped. The new sources are appended after the last one, under a comment;
    the rest of the file, comments included, is left exactly as it was. A sources file that does
    not exist yet is created. A malformed OPML file is refused with its line (exit 2).
    """
    from adapters.sources.opml import read_opml
    from adapters.sources.opml_import import plan_import
    from flows.context.settings import load_settings

    target = sources or load_settings().sources_file
    feeds = read_opml(_read_bytes(opml), str(opml))
    existing = _read_text(target) if target.exists() else ""
    bom = "\ufeff" if existing.startswith("\ufeff") else ""
    plan = plan_import(existing.removeprefix(bom), str(target), feeds, opml.name)
    for feed, reason in plan.unusable:
        err_console.print(
            f"{escape(str(opml))}:{feed.line}: skipped: {escape(reason)}", highlight=False
        )
    for source in plan.added:
        tags = f" [{', '.join(source.tags)}]" if source.tags else ""
        typer.echo(f"{'would add' if dry_run else 'added'}: {source.name}  {source.url}{tags}")
    if plan.added and not dry_run:
        _write_atomically(target, (bom + plan.text).encode("utf-8"))
    verb = "would add" if dry_run else "added"
    typer.echo(
        f"{verb} {len(plan.added)} sources to {target}, skipped {len(plan.present)} already "
        f"present and {len(plan.unusable)} without a usable feed URL"
    )


@fail_cleanly
def sources_export(
    sources: SourcesFileOption = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write every enabled feed source as OPML 2.0, for a feed reader or `sources import`.

    Each outline has the source's name (text, title), its feed URL (xmlUrl) and its tags
    (category). Sources of other kinds (seedfiles) have no feed URL and are left out, as are
    tags containing a comma (OPML separates categories with commas); both are said on stderr.
    """
    from adapters.registry import location_key
    from adapters.sources.file import load_sources_file
    from adapters.sources.opml import tags_opml_cannot_carry, write_opml
    from flows.context.settings import load_settings

    target = sources or load_settings().sources_file
    specs = load_sources_file(target)
    feeds = [s for s in specs if location_key(s.kind) == "url"]
    if len(feeds) < len(specs):
        err_console.print(f"left out {len(specs) - len(feeds)} sources without a feed URL")
    for spec in feeds:
        for tag in tags_opml_cannot_carry(spec.tags):
            err_console.print(
                f"left out tag {escape(tag)!r} of {escape(spec.name)!r}: it has a comma"
            )
    document = write_opml(feeds, f"Watchfloor sources ({target.name})", datetime.now(UTC))
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    _write_atomically(output, document)
    err_console.print(f"wrote {len(feeds)} sources to {escape(str(output))}", highlight=False)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _read_text(path: Path) -> str:
    """The sources file's text (a byte-order mark is the caller's to keep)."""
    data = _read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8: save it as UTF-8") from None


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` by `data` all at once: an interrupted write never leaves half a file (a
    new file is simply written)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).chmod(path.stat().st_mode & 0o777)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@fail_cleanly
def sources_kinds(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the source kinds, the key that names each one's location, and their options."""
    import dataclasses

    from adapters import describe_kinds
    from flows.cli.common import console, print_json

    described = describe_kinds()
    if as_json:
        print_json([dataclasses.asdict(info) for info in described])
        return
    from rich.table import Table

    table = Table("kind", "location key", "options: name = default (what it takes)")
    for info in described:
        options = "\n".join(f"{o.name} = {yaml_word(o.default)} ({o.type})" for o in info.options)
        table.add_row(f"{info.kind}\n[dim]{escape(info.summary)}[/dim]", info.location_key, options)
    console.print(table)


def yaml_word(value: object) -> str:
    """A default as it would be written in the sources file (YAML): none, true, false, 10.0."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
