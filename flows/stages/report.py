"""What a run reports: a typed RunReport the stages fill, rendered here as the CLI's JSON (only
at that edge) and the terminal summary, and as the Prefect artifact by `flows.stages.artifact`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Re-exported (redundant aliases): the CLI's modules import the shared JSON shape from here.
from core.jsonshape import development_json as development_json
from core.jsonshape import jsonable as jsonable
from core.model import DevelopmentView, FetchResult


@dataclass(slots=True)
class SourceLine:
    """One source's part in a run, as `run --json` prints it."""

    name: str
    url: str
    status: str
    http_status: int | None
    items: int
    new_items: int
    error: str | None


class SourceLines(Sequence[SourceLine]):
    """A run's source lines, in order: a read-only sequence of its own, equal to any sequence
    of the same lines.

    Why not a list: at the end of every flow run Prefect walks the flow's return value for
    futures and states (`prefect.utilities.collections.visit_collection`), descending into
    lists, tuples, sets, dicts, dataclasses and pydantic models; the 1,000 lines of a 1,000-feed
    poll cost each cycle ~18 ms of CPU holding the GIL there. A source line never holds a future
    or a state, and Prefect does not descend into a type like this one.
    """

    __slots__ = ("_lines",)

    def __init__(self, lines: Iterable[SourceLine] = ()) -> None:
        self._lines = tuple(lines)

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> SourceLine: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SourceLine]: ...
    def __getitem__(self, index: int | slice) -> SourceLine | Sequence[SourceLine]:
        return self._lines[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._lines == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"SourceLines({list(self._lines)!r})"


@dataclass(frozen=True, slots=True)
class FailedItem:
    """An article whose analysis raised: recorded on it in the store, skipped by the run."""

    id: int
    source: str
    guid: str
    error: str


@dataclass(slots=True)
class RunReport:
    """The outcome of one replay or monitor run."""

    articles: int
    new_articles: int
    # The stored developments the run's articles are evidence of.
    developments: list[DevelopmentView]
    alerts_sent: int
    # The alerts this run raised (its detect stage's ids): what the run's artifact lists.
    raised_alert_ids: list[int] = field(default_factory=list)
    # Articles detected by this run (its own and any an earlier run left), and those of them
    # whose analysis failed: recorded in its queue row, skipped, listed by `watchfloor articles`.
    detected: int = 0
    failed_articles: list[FailedItem] = field(default_factory=list)
    deliveries_failed: int = 0
    deliveries_held: int = 0
    unrouted_alerts: int = 0
    sources: SourceLines = field(default_factory=SourceLines)
    problems: list[str] = field(default_factory=list)

    def replay_json(self) -> dict[str, Any]:
        """`watchfloor replay --json`."""
        return {
            "articles": self.articles,
            "developments": [development_json(d) for d in self.developments],
            "alerts_sent": self.alerts_sent,
            "detected": self.detected,
            "failed_articles": [failed_json(f) for f in self.failed_articles],
        }

    def run_json(self) -> dict[str, Any]:
        """`watchfloor run --json`."""
        return {
            "sources": [
                {
                    "name": s.name,
                    "url": s.url,
                    "status": s.status,
                    "http_status": s.http_status,
                    "items": s.items,
                    "new_items": s.new_items,
                    "error": s.error,
                }
                for s in self.sources
            ],
            **self.replay_json(),
        }


def failed_json(item: FailedItem) -> dict[str, Any]:
    """An article whose analysis failed, as `replay --json` and `run --json` print it."""
    return {"id": item.id, "source": item.source, "guid": item.guid, "error": item.error}


def shown_status(development: DevelopmentView) -> str:
    """A development's status as the summary and artifacts show it: "occurred (background)"."""
    return development.status + (" (background)" if development.background else "")


def shown_date(development: DevelopmentView) -> str:
    """A development's event date as the summary and artifacts show it (ISO, or blank)."""
    return development.event_date.isoformat() if development.event_date else ""


def source_lines(
    results: Sequence[FetchResult], locations: dict[str, str], new_per_source: dict[str, int]
) -> list[SourceLine]:
    """Per-source lines of a run from the fetch results and what the store kept."""
    return [
        SourceLine(
            name=r.source,
            url=locations.get(r.source, ""),
            status=r.status,
            http_status=r.http_status,
            items=len(r.articles),
            new_items=new_per_source.get(r.source, 0),
            error=r.error,
        )
        for r in results
    ]


def publish_artifact(report: RunReport, key: str) -> None:
    """A Prefect table artifact of the run's developments (and unhealthy sources)."""
    # Imported here: the CLI's read commands use this module and must not pay for Prefect.
    from prefect.artifacts import create_table_artifact

    rows = [
        {
            "id": d.id,
            "category": d.category,
            "status": d.status,
            "background": d.background,
            "event_date": shown_date(d),
            "title": d.title,
            "evidence": len(d.evidence),
        }
        for d in report.developments
    ]
    unhealthy = [s for s in report.sources if s.status == "error"]
    description = (
        f"{report.articles} articles read, {report.new_articles} new; "
        f"{len(report.developments)} developments; {report.alerts_sent} alerts sent, "
        f"{report.deliveries_failed} deliveries failed, {report.unrouted_alerts} unrouted; "
        f"{len(unhealthy)} unhealthy sources, {len(report.failed_articles)} articles failed "
        "detection"
        + "".join(f"\n- {s.name}: {s.error}" for s in unhealthy)
        + "".join(
            f"\n- article {f.id} ({f.source} {f.guid}): {f.error}" for f in report.failed_articles
        )
    )
    create_table_artifact(table=rows, key=key, description=description)


def print_summary(report: RunReport, console: Console) -> None:
    """The one-screen terminal summary of a run."""
    if report.sources:
        sources = Table(title="Sources", title_justify="left")
        for column in ("source", "status", "http", "items", "new", "error"):
            sources.add_column(column)
        for s in report.sources:
            sources.add_row(
                s.name,
                s.status,
                str(s.http_status or ""),
                str(s.items),
                str(s.new_items),
                s.error or "",
            )
        console.print(sources)
    table = Table(title="Developments", title_justify="left")
    for column in ("id", "category", "status", "date", "reports"):
        table.add_column(column, no_wrap=True)
    table.add_column("development", ratio=1)
    for d in report.developments:
        table.add_row(
            str(d.id), d.category, shown_status(d), shown_date(d), str(len(d.evidence)), d.title
        )
    console.print(table)
    for problem in report.problems:
        console.print(f"[yellow]warning:[/yellow] {problem}", markup=True, highlight=False)
    for failed in report.failed_articles:
        console.print(
            f"[red]detection failed:[/red] article {failed.id} "
            f"({escape(failed.source)} {escape(failed.guid)}): {escape(failed.error)}"
        )
    console.print(
        f"{report.articles} articles read ({report.new_articles} new), "
        f"{len(report.developments)} developments, {report.alerts_sent} alerts sent"
        + (
            f", {len(report.failed_articles)} articles failed detection "
            "(`watchfloor articles failed`)"
            if report.failed_articles
            else ""
        )
        + (f", {report.deliveries_failed} deliveries failed" if report.deliveries_failed else "")
        + (
            f", {report.deliveries_held} deliveries held (quiet hours or digest)"
            if report.deliveries_held
            else ""
        )
        + (
            f", {report.unrouted_alerts} alerts matched no subscriber"
            if report.unrouted_alerts
            else ""
        )
    )
