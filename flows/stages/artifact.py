"""The monitor run's Markdown artifact: its report as an operator reads it in Prefect's UI.

One of the run report's renderers (`flows.stages.report` renders the CLI's JSON): a summary line,
then the developments, the alerts the run raised with their deliveries, the unhealthy sources
with their backoff, and the articles that failed detection. Feed text is untrusted: every cell
is escaped. Takes the report and what the store says of its alerts and sources (the caller
reads them, `flows.monitor.publish_monitor_artifact`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import db
from flows.stages.report import RunReport, shown_date, shown_status
from notify.messages.escaping import escape_markdown


def summary_line(report: RunReport) -> str:
    """One line: how much was read, found and sent."""
    unhealthy = sum(s.status == "error" for s in report.sources)
    return (
        f"{len(report.sources)} sources polled ({unhealthy} unhealthy); "
        f"{report.articles} articles read, {report.new_articles} new; "
        f"{len(report.developments)} developments; {report.alerts_sent} alerts sent; "
        f"{report.detected} articles detected, {len(report.failed_articles)} failed"
    )


def worth_publishing(report: RunReport) -> bool:
    """Whether a run's artifact would say anything: a run that found nothing new, detected and
    sent nothing, and whose sources all answered has only "none" to show. Such a run publishes
    none, as `serve` publishes none for the cycles it ends before Prefect's engine
    (`flows.serving.servedruns`), so the monitor's keyed artifact keeps showing the last cycle
    that had news, and a quiet cycle spares the API a write."""
    return bool(
        report.new_articles
        or report.developments
        or report.raised_alert_ids
        or report.alerts_sent
        or report.detected
        or report.failed_articles
        or report.deliveries_failed
        or report.deliveries_held
        or report.unrouted_alerts
        or report.problems
        or any(s.status == "error" for s in report.sources)
    )


def cell(value: object) -> str:
    """Feed text made safe for one Markdown table cell (it is untrusted)."""
    return escape_markdown("" if value is None else value).replace("|", "\\|")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, or `_none_` when there are no rows."""
    if not rows:
        return "_none_"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def monitor_markdown(
    report: RunReport, raised: Sequence[db.AlertView], health: dict[str, db.SourceHealth]
) -> str:
    """The artifact's text: the sections an operator reads top to bottom."""
    developments = [
        (d.id, d.category, shown_status(d), shown_date(d), d.title, len(d.evidence))
        for d in report.developments
    ]
    alerts = [(a.id, a.kind, a.category, a.status, a.title, delivery_summary(a)) for a in raised]
    failed = [(f.id, f.source, f.guid, f.error) for f in report.failed_articles]
    unhealthy = [
        (s.name, s.http_status or "", s.error, *backoff(health.get(s.name)))
        for s in report.sources
        if s.status == "error"
    ]
    return "\n\n".join(
        [
            f"# Monitor run\n\n{cell(summary_line(report))}",
            "## Developments\n\n"
            + table(("id", "category", "status", "date", "title", "reports"), developments),
            f"## Alerts raised ({report.alerts_sent} sent this run)\n\n"
            + table(("id", "kind", "category", "status", "title", "deliveries"), alerts),
            "## Unhealthy sources\n\n"
            + table(("source", "http", "error", "failures", "next poll"), unhealthy),
            "## Articles that failed detection\n\n"
            + table(("article", "source", "guid", "error"), failed),
        ]
    )


def backoff(health: db.SourceHealth | None) -> tuple[object, str]:
    """(consecutive failures, next poll time) of a source, as the store now has them."""
    if health is None:
        return "", ""
    due = health.next_due_at.isoformat(timespec="seconds") if health.next_due_at else ""
    return health.consecutive_failures, due


def delivery_summary(alert: db.AlertView) -> str:
    """ "2 sent, 1 pending", or "unrouted" when no subscriber wants the alert."""
    if alert.unrouted:
        return "unrouted"
    states: dict[str, int] = {}
    for delivery in alert.deliveries:
        states[delivery.state] = states.get(delivery.state, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "not routed yet"
