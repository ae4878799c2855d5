"""Prometheus metrics for `watchfloor web`: `GET /metrics` in the text exposition format.

Each app has its own CollectorRegistry; the store collector reads the store when Prometheus
scrapes, so every value is the store's at that moment and nothing is kept between scrapes.
Labels are categories, statuses and states only: no address, URL or error text, which may carry
a secret. An unreachable store is `watchfloor_store_up 0`, never its error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import db

# A sample's label values, one per label name.
_Key = TypeVar("_Key", bound=tuple[str, ...])


class StoreCollector(Collector):
    """Gauges of what the store holds and how recently a monitor cycle ran, read per scrape."""

    def __init__(self, sessions: sessionmaker[Session], stale_after_s: float) -> None:
        self._sessions = sessions
        self._stale_after_s = stale_after_s

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        reading = self._read_store()
        if reading is not None:
            census, pulse = reading
            yield from _census_families(census)
            yield from _pulse_families(pulse, datetime.now(UTC), self._stale_after_s)
        up = int(reading is not None)
        yield _gauge("store_up", "1 when the store answered this scrape, else 0.", up)
        yield _gauge(
            "scrape_duration_seconds",
            "Seconds this scrape spent reading the store.",
            time.perf_counter() - started,
        )

    def _read_store(self) -> tuple[db.StoreCensus, db.StorePulse] | None:
        """The store's counts and pulse in one transaction, or None when it cannot be read."""
        try:
            with self._sessions() as session, session.begin():
                return db.store_census(session), db.store_pulse(session)
        except SQLAlchemyError:
            return None


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"watchfloor_{name}", documentation, value=value)


def _counts(
    name: str, documentation: str, labels: list[str], counts: Mapping[_Key, int]
) -> GaugeMetricFamily:
    """A gauge with one sample per key of `counts`, whose parts are the `labels`' values."""
    family = GaugeMetricFamily(f"watchfloor_{name}", documentation, labels=labels)
    for key, count in sorted(counts.items()):
        family.add_metric(list(key), count)
    return family


def _by_state(states: Mapping[str, int]) -> dict[tuple[str], int]:
    return {(state,): count for state, count in states.items()}


def _census_families(census: db.StoreCensus) -> Iterator[Metric]:
    yield _counts(
        "developments",
        "Live developments (those the console lists) by category and status.",
        ["category", "status"],
        census.developments,
    )
    yield _counts(
        "developments_dismissed",
        "Developments an analyst dismissed, by category and what as (false_alarm, merged).",
        ["category", "dismissed_as"],
        census.dismissed,
    )
    yield _gauge("articles", "Articles stored (every revision counts).", census.articles)
    yield _counts(
        "alerts",
        "Alerts by state as `watchfloor alerts list` words them "
        "(unrouted, queued, failed, pending, withdrawn, sent).",
        ["state"],
        _by_state(census.alerts),
    )
    yield _counts(
        "deliveries",
        "Deliveries (alert x target) by state.",
        ["state"],
        _by_state(census.deliveries),
    )
    yield _gauge("sources", "Sources known to the store.", census.sources)


def _pulse_families(pulse: db.StorePulse, now: datetime, stale_after_s: float) -> Iterator[Metric]:
    yield _gauge(
        "sources_failing",
        "Sources whose last fetch failed (one failure in a row or more).",
        pulse.failing_sources,
    )
    # No cycle ever is infinitely old: an alert rule on the age fires for it too.
    age = (
        float("inf") if pulse.last_cycle_at is None else (now - pulse.last_cycle_at).total_seconds()
    )
    yield _gauge(
        "last_cycle_age_seconds",
        "Seconds since the last monitor cycle fetched a source, as /healthz reads it "
        "(+Inf when none was ever recorded).",
        age,
    )
    if pulse.last_cycle_at is not None:
        yield _gauge(
            "last_cycle_timestamp_seconds",
            "Unix time of the last monitor cycle's last fetch.",
            pulse.last_cycle_at.timestamp(),
        )
    yield _gauge(
        "cycle_stale_after_seconds",
        "The last cycle's age beyond which /healthz answers unhealthy (three poll intervals).",
        stale_after_s,
    )


def metrics_registry(sessions: sessionmaker[Session], stale_after_s: float) -> CollectorRegistry:
    """A registry of its own for one app: the store collector and the usual process, platform
    and garbage-collector metrics of the serving process."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(sessions, stale_after_s))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def add_metrics(app: FastAPI, sessions: sessionmaker[Session], stale_after_s: float) -> None:
    """`GET /metrics` on `app`; the app's token middleware guards it like every page."""
    registry = metrics_registry(sessions, stale_after_s)

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), headers={"Content-Type": content_type})
