"""Helpers for the monitor flow tests (tests/flows/test_monitor*.py, test_serve*.py,
test_sources_check*.py): generated feeds for the local feed server, sources files pointing at
it, and reading back what a run left in the store and in the Prefect API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from xml.sax.saxutils import escape

import httpx
import sqlalchemy as sa
import yaml

import db
from tests.adapters.adapterkit import FAST
from tests.adapters.feedserver import FeedServer

POLL_INTERVAL_S = 60
# What `watchfloor run --json` prints for a run that fetched nothing (none due, or skipped).
IDLE_RUN_JSON = {
    "sources": [],
    "articles": 0,
    "developments": [],
    "alerts_sent": 0,
    "detected": 0,
    "failed_articles": [],
}


def rss_feed(tag: str, count: int, when: datetime | None = None) -> bytes:
    """An RSS 2.0 feed of `count` items whose guids, links and titles all carry `tag`, so
    feeds made with different tags never share an item. Titles say nothing a rule matches."""
    start = when or datetime(2026, 1, 27, 9, 0, tzinfo=UTC)
    items = "".join(
        f"<item><title>{escape(tag)} bulletin {i}</title>"
        f"<link>https://news.example.org/{escape(tag)}/{i}</link>"
        f'<guid isPermaLink="false">{escape(tag)}-{i}</guid>'
        f"<pubDate>{format_datetime(start + timedelta(minutes=i))}</pubDate>"
        f"<description>Weather, markets and culture notes number {i} from {escape(tag)}."
        "</description></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(tag)}</title><link>https://news.example.org/</link>{items}"
        "</channel></rss>"
    ).encode()


def add_feeds(server: FeedServer, tags: Sequence[str], count: int = 3) -> dict[str, str]:
    """Serve one generated feed per tag at /feed/<tag>.xml; returns tag -> file name."""
    names = {}
    for tag in tags:
        name = f"{tag}.xml"
        server.files[name] = rss_feed(tag, count)
        names[tag] = name
    return names


@dataclass(frozen=True, slots=True)
class Src:
    """One source of a generated sources file: a path on the feed server and its options."""

    name: str
    path: str
    options: Mapping[str, Any] | None = None


def write_sources(path: Path, server: FeedServer, sources: Sequence[Src]) -> Path:
    """A sources YAML of `sources` on `server`, with test-sized timeouts and a 60 s interval."""
    document = {
        "defaults": {"poll_interval": POLL_INTERVAL_S, "options": dict(FAST)},
        "sources": [
            {
                "name": s.name,
                "url": server.url(s.path),
                **({"options": {**FAST, **s.options}} if s.options else {}),
            }
            for s in sources
        ],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def store(url: str) -> Iterator[sa.orm.Session]:
    """A session on the store at `url` (read-only use; the engine is disposed after)."""
    engine = db.create_engine_for(url)
    try:
        with db.make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def stored_items(url: str) -> Counter[tuple[str, str]]:
    """How many times each (source name, guid) is stored: every value should be 1."""
    query = sa.text("SELECT s.name, a.guid FROM articles a JOIN sources s ON s.id = a.source_id")
    with store(url) as session:
        return Counter((name, guid) for name, guid in session.execute(query))


def items_per_source(url: str) -> Counter[str]:
    """Stored articles per source name."""
    return Counter(name for name, _ in stored_items(url))


def health(url: str) -> dict[str, db.SourceHealth]:
    """The store's health record of every source, by name."""
    with store(url) as session:
        return {h.name: h for h in db.source_health(session)}


def delay_s(record: db.SourceHealth) -> float:
    """Seconds from a source's last fetch to its next poll: the backoff now in force."""
    assert record.next_due_at is not None and record.last_fetch_at is not None
    return (record.next_due_at - record.last_fetch_at).total_seconds()


def run_monitor(**parameters: Any) -> tuple[Any, UUID]:
    """One real monitor flow run; returns (its RunReport, its flow run id)."""
    from flows.monitor import monitor_flow

    state = monitor_flow(**parameters, return_state=True)
    assert state.is_completed(), state
    return state.result(), state.state_details.flow_run_id


def run_json(*args: str) -> dict[str, Any]:
    """`watchfloor run ARGS --json` in this process; asserts exit 0, returns its JSON. `--db`
    and `--notify` reach the flow through the environment: it is given back as it was, so
    that later tests (and the processes they start) do not inherit this run's store."""
    import json
    import os

    from typer.testing import CliRunner

    from flows.cli.app import app

    environment = dict(os.environ)
    try:
        result = CliRunner().invoke(app, ["run", *args, "--json"])
    finally:
        os.environ.clear()
        os.environ.update(environment)
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def task_run_names(flow_run_id: UUID) -> list[str]:
    """Names of the task runs the Prefect API recorded for a flow run, sorted."""
    runs = prefect_api(
        "/task_runs/filter", {"flow_runs": {"id": {"any_": [str(flow_run_id)]}}, "limit": 200}
    )
    return sorted(run["name"] for run in runs)


def artifact_of(flow_run_id: UUID, key: str) -> dict[str, Any]:
    """The artifact `key` a flow run created, read back from the Prefect API."""
    query = {"key": {"any_": [key]}, "flow_run_id": {"any_": [str(flow_run_id)]}}
    found = prefect_api("/artifacts/filter", {"artifacts": query, "limit": 10})
    assert len(found) == 1, found
    return dict(found[0])


def prefect_api(path: str, body: dict[str, Any]) -> Any:
    """POST `body` to the current Prefect API (the test harness's) and return the JSON answer.

    Plain HTTP rather than Prefect's client: for filter reads, this client and server pair
    disagree (the client sends null for every filter left out, the server refuses null).
    """
    from prefect.settings import PREFECT_API_URL

    response = httpx.post(f"{PREFECT_API_URL.value()}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def requests_to(server: FeedServer, fragment: str) -> list[dict[str, str]]:
    """Headers of every GET whose path contains `fragment`, oldest first."""
    return [headers for path, headers in server.requests if fragment in path]


def statuses_of(server: FeedServer, fragment: str) -> list[int]:
    """Statuses answered to every request whose path contains `fragment`, oldest first."""
    return [status for path, status in server.statuses if fragment in path]
