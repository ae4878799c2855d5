"""Whether a one-off run has anything to do, answered from the store without Prefect.

Starting a flow costs Prefect's ephemeral API server: seconds of CPU, and most of a no-change
`watchfloor run` from cron. When no source is due and nothing stored awaits a stage (an article
awaiting detection, including one that failed under other rules; an alert not yet routed; a
delivery pending or being sent), the flow would fetch nothing and find nothing, so the command
answers here. Anything left for a stage makes the flow run: nothing stored is left unprocessed.
"""

from __future__ import annotations

from collections.abc import Sequence

import db
from core.model import SourceSpec
from flows.runtime import transaction
from flows.stages import utcnow

NOTHING_TO_DO = (
    "nothing to do: no source is due and nothing awaits detection or delivery (Prefect not started)"
)


def due_sources(database_url: str, specs: Sequence[SourceSpec]) -> list[SourceSpec]:
    """Sources whose next poll time has come (new sources are always due)."""
    with transaction(database_url) as session:
        due = set(db.due_source_names(session, [s.name for s in specs], utcnow()))
    return [spec for spec in specs if spec.name in due]


def stored_work(database_url: str, rules_version: str) -> bool:
    """True when the store holds work for a stage: articles awaiting detection under
    `rules_version`, or alerts awaiting routing or delivery."""
    with transaction(database_url) as session:
        if db.count_pending_detection(session, rules_version):
            return True
        return bool(db.list_alerts(session, "pending"))


def run_has_work(database_url: str, specs: Sequence[SourceSpec], rules_version: str) -> bool:
    """Whether a run over the due sources of `specs` would do anything."""
    return bool(due_sources(database_url, specs)) or stored_work(database_url, rules_version)
