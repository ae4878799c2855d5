"""What one cycle reports, from the outcomes its stages returned (without Prefect: a one-off run
that found nothing new reports the same way, `flows.runs.oneoff`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import db
from flows.context.runtime import transaction
from flows.stages.report import RunReport, SourceLines

if TYPE_CHECKING:
    from flows.stages.delivery import SendOutcome
    from flows.stages.ingest import IngestOutcome
    from flows.stages.tasks import DetectOutcome


def cycle_report(
    database_url: str,
    ingested: IngestOutcome,
    detected: DetectOutcome | None = None,
    sent: SendOutcome | None = None,
) -> RunReport:
    """The run's report: what ingest read and stored, the developments those articles and the
    ones detection took (an earlier run's left work among them) are evidence of, and what
    detection and sending did (nothing, when they did not run)."""
    # Detection took this run's own articles again, mostly: a repeat costs a lookup, not a row.
    taken = [] if detected is None else [detected.article_ids]
    with transaction(database_url) as session:
        views = db.developments_evidenced_by(session, ingested.stored.article_ids, *taken)
    stored = ingested.stored
    report = RunReport(
        articles=stored.read,
        new_articles=stored.new,
        developments=list(views),
        alerts_sent=0,
        sources=SourceLines(ingested.sources.values()),
        problems=ingested.problems + stored.failed,
    )
    if detected is not None:
        report.raised_alert_ids = detected.alert_ids
        report.detected = detected.articles
        report.failed_articles = list(detected.failed)
    if sent is not None:
        report.alerts_sent = len(sent.alerts_sent)
        report.deliveries_failed = sent.failed
        report.deliveries_held = sent.held
        report.unrouted_alerts = sent.unrouted
    return report
