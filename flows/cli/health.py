"""`watchfloor sources check`: fetch every source once, without storing, and report health."""

from __future__ import annotations

from typing import Any

import adapters
import db
from core.model import FetchResult, SourceSpec, SourceState
from flows.context.runtime import transaction
from flows.context.settings import Settings
from flows.context.sourcesfile import load_source_specs
from flows.stages.report import jsonable


def check_sources(settings: Settings) -> list[dict[str, Any]]:
    """One row per source: this fetch's outcome next to the health the store remembers.

    Fetches are unconditional and nothing is written: advancing a cursor without storing the
    items would make the next real poll skip them.
    """
    specs = load_source_specs(settings.sources_file)
    results = adapters.fetch_many(
        specs,
        {spec.name: SourceState() for spec in specs},
        concurrency=settings.fetch_concurrency,
        per_host=settings.fetch_per_host,
        allow_networks=settings.fetch_allow_networks,
    )
    with transaction(settings.database_url) as session:
        stored = {h.name: h for h in db.source_health(session)}
    return [
        health_row(spec, result, stored.get(spec.name))
        for spec, result in zip(specs, results, strict=True)
    ]


def health_row(
    spec: SourceSpec, result: FetchResult, health: db.SourceHealth | None
) -> dict[str, Any]:
    """The JSON row of `sources check --json` (see the command's help for the fields)."""
    return jsonable(
        {
            "name": spec.name,
            "url": spec.location,
            "kind": spec.kind,
            "status": result.status,
            "http_status": result.http_status,
            "items": len(result.articles),
            "error": result.error,
            "problems": list(result.problems),
            "transient": result.transient if result.status == "error" else None,
            "last_status": health.last_status if health else None,
            "last_fetch_at": health.last_fetch_at if health else None,
            "last_success_at": health.last_success_at if health else None,
            "last_http_status": health.http_status if health else None,
            "consecutive_failures": health.consecutive_failures if health else 0,
            "last_error": health.last_error if health else None,
            "next_due_at": health.next_due_at if health else None,
        }
    )
