"""Every fault of the issue's list at the flow level: three real monitor runs over one sources
file in which each source misbehaves in its own way on a real local server. Every run
completes, healthy sources' items are stored, and each failing source's health (in the store,
in `sources check --json` and in the run artifact) says what happened. Backoff grows while a
source fails and recovers when it succeeds."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import db
from flows.cli.app import app
from flows.monitor import ARTIFACT_KEY
from flows.stages.artifact import cell
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import (
    POLL_INTERVAL_S,
    Src,
    add_feeds,
    artifact_of,
    delay_s,
    health,
    items_per_source,
    run_monitor,
    store,
    stored_items,
    write_sources,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

TOKEN = uuid.uuid4().hex[:8]  # /fail/ counters are per server: keep this module's apart
RETRY_AFTER_S = 3600
NO_RETRY = {"retries": 0}

# name -> (path, items stored by the first run)
HEALTHY = {
    "etag": ("/feed/rss2_korea.xml?v=etag", 4),
    "last-modified": ("/feed/atom_japan.xml?v=lastmod", 3),
    "no-validators": ("/raw/rdf_taiwan.xml", 2),
    "moved-301-chain": ("/hop/3/301/gen-moved.xml", 3),
    "found-302-chain": ("/hop/2/302/gen-found.xml", 3),
    "500-then-200": (f"/fail/{TOKEN}-500/1/500/gen-flaky.xml", 3),
    "gzip": ("/gzip/gen-gzip.xml", 3),
    "wrong-charset": ("/raw/euc_kr.xml?ct=text/xml;+charset=iso-8859-1", 2),
    "missing-charset": ("/raw/shift_jis_nodecl.xml?ct=text/xml", 2),
    "malformed": ("/raw/broken_rss.xml", 2),
}
# name -> (path, HTTP status recorded, words of the recorded error, transient)
FAILING = {
    "redirect-loop": ("/loop/a", 302, "redirect loop", False),
    "not-found": ("/status/404", 404, "HTTP 404", False),
    "gone": ("/status/410", 410, "HTTP 410", False),
    "rate-limited": (
        f"/fail/{TOKEN}-429/99/429/gen-limited.xml?retry_after={RETRY_AFTER_S}",
        429,
        "HTTP 429",
        True,
    ),
    "reset": ("/reset", None, "connection", True),
    "stall": ("/stall/30", None, "timed out (read)", True),
    "too-big": ("/big/300000", 200, "body too large", False),
    "html-page": ("/raw/page.html", 200, "not a feed", False),
    "empty-body": ("/empty", 200, "not a feed: empty body", False),
}
RECOVERING = "fails-twice-then-ok"  # 503 on the first two polls, a feed on the third
OPTIONS = {"too-big": {"max_bytes": 100_000}, RECOVERING: NO_RETRY, "rate-limited": NO_RETRY}


@dataclass
class Matrix:
    """The three runs' reports and what the store and server looked like after each."""

    url: str
    server: FeedServer
    reports: list[Any]
    run_ids: list[uuid.UUID]
    health: list[dict[str, db.SourceHealth]]
    items: list[dict[str, int]]
    requests: list[list[tuple[str, dict[str, str]]]]
    statuses: list[list[tuple[str, int]]]
    sources_file: Path

    def line(self, run: int, name: str) -> Any:
        return next(s for s in self.reports[run].sources if s.name == name)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[Matrix]:
    folder = tmp_path_factory.mktemp("faults")
    url = f"sqlite:///{folder / 'store.db'}"
    server = FeedServer().start()
    add_feeds(server, ["gen-moved", "gen-found", "gen-flaky", "gen-gzip", "gen-limited"])
    add_feeds(server, ["gen-recover"], count=5)
    sources = [Src(name, path, OPTIONS.get(name)) for name, (path, _) in HEALTHY.items()]
    sources += [Src(name, spec[0], OPTIONS.get(name)) for name, spec in FAILING.items()]
    recover = f"/fail/{TOKEN}-503/2/503/gen-recover.xml"
    sources.append(Src(RECOVERING, recover, OPTIONS[RECOVERING]))
    sources_file = write_sources(folder / "sources.yaml", server, sources)
    hook = f'["json://127.0.0.1:{server.server_address[1]}/hook/faults"]'
    found = Matrix(url, server, [], [], [], [], [], [], sources_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WATCHFLOOR_NOTIFY_URLS", hook)
        patch.setenv("WATCHFLOOR_DATABASE_URL", url)
        for run in range(3):
            # Not reset_counters(): the /fail/ routes count their hits across runs.
            asked, answered = len(server.requests), len(server.statuses)
            # Later runs poll every source at once rather than waiting out the intervals.
            report, run_id = run_monitor(sources_file=str(sources_file), all_sources=run > 0)
            found.reports.append(report)
            found.run_ids.append(run_id)
            found.health.append(health(url))
            found.items.append(dict(items_per_source(url)))
            found.requests.append(server.requests[asked:])
            found.statuses.append(server.statuses[answered:])
    yield found
    server.close()


def test_first_run_stores_every_healthy_source_and_records_every_fault(matrix: Matrix) -> None:
    report = matrix.reports[0]
    assert len(report.sources) == len(HEALTHY) + len(FAILING) + 1
    for name, (_, items) in HEALTHY.items():
        line = matrix.line(0, name)
        assert (line.status, line.items, line.new_items) == ("ok", items, items), line
        assert matrix.items[0][name] == items
    for name, (_, http_status, says, _) in FAILING.items():
        line = matrix.line(0, name)
        assert line.status == "error", line
        assert line.http_status == http_status, line
        assert says in line.error, line
        assert name not in matrix.items[0]
    assert set(stored_items(matrix.url).values()) == {1}, "no item stored twice"


def test_failing_sources_health_says_what_happened(matrix: Matrix) -> None:
    for name, (_, http_status, says, _) in FAILING.items():
        record = matrix.health[0][name]
        assert record.last_status == "error", record
        assert record.http_status == http_status, record
        assert record.last_error is not None and says in record.last_error, record
        assert record.consecutive_failures == 1
        assert record.last_success_at is None
        assert record.next_due_at is not None and record.next_due_at > record.last_fetch_at


def test_healthy_sources_health_is_clean_or_notes_what_was_odd(matrix: Matrix) -> None:
    for name in HEALTHY:
        record = matrix.health[0][name]
        assert (record.last_status, record.consecutive_failures) == ("ok", 0), record
        assert delay_s(record) == POLL_INTERVAL_S
    # Read anyway, but the operator is told: a permanent move, a malformed feed.
    assert "moved permanently" in (matrix.health[0]["moved-301-chain"].last_error or "")
    assert matrix.health[0]["found-302-chain"].last_error is None
    assert "malformed feed" in (matrix.health[0]["malformed"].last_error or "")


def test_decoding_is_right_whatever_the_declared_charset(matrix: Matrix) -> None:
    with store(matrix.url) as session:
        titles = {
            name: {row[0] for row in session.execute(db_titles(), {"name": name})}
            for name in ("wrong-charset", "missing-charset")
        }
    assert "북한, 동해상으로 탄도미사일 2발 발사" in titles["wrong-charset"]
    assert "北朝鮮が弾道ミサイル２発を発射 防衛省" in titles["missing-charset"]


def db_titles() -> Any:
    import sqlalchemy as sa

    return sa.text(
        "SELECT a.title FROM articles a JOIN sources s ON s.id = a.source_id WHERE s.name = :name"
    )


def test_retries_inside_one_run(matrix: Matrix) -> None:
    # 500 then 200: retried within the run; a long Retry-After is not waited for in the run.
    assert statuses_of_run(matrix, 0, f"{TOKEN}-500") == [500, 200]
    assert statuses_of_run(matrix, 0, f"{TOKEN}-429") == [429]
    limited = matrix.health[0]["rate-limited"]
    assert delay_s(limited) >= RETRY_AFTER_S, "Retry-After honoured by the schedule"


def statuses_of_run(matrix: Matrix, run: int, fragment: str) -> list[int]:
    return [status for path, status in matrix.statuses[run] if fragment in path]


def test_second_run_is_conditional_and_parses_nothing(matrix: Matrix) -> None:
    report = matrix.reports[1]
    assert report.new_articles == 0 and report.articles == 0
    expected = {
        "etag": "not_modified",
        "last-modified": "not_modified",
        "moved-301-chain": "not_modified",
        "found-302-chain": "not_modified",
        "500-then-200": "not_modified",
        "no-validators": "unchanged",
        "gzip": "unchanged",
        "wrong-charset": "unchanged",
        "missing-charset": "unchanged",
        "malformed": "unchanged",
    }
    assert {name: matrix.line(1, name).status for name in expected} == expected
    second = matrix.requests[1]
    etag = [h for p, h in second if "v=etag" in p]
    lastmod = [h for p, h in second if "v=lastmod" in p]
    assert len(etag) == len(lastmod) == 1
    assert etag[0].get("if-none-match", "").startswith('"')
    assert lastmod[0].get("if-modified-since") == "Wed, 28 Jan 2026 01:00:00 GMT"
    assert [s for p, s in matrix.statuses[1] if "v=etag" in p or "v=lastmod" in p] == [304, 304]
    assert matrix.items[1] == matrix.items[0]


def test_backoff_grows_while_failing_and_recovers_on_success(matrix: Matrix) -> None:
    delays = [delay_s(run[RECOVERING]) for run in matrix.health]
    failures = [run[RECOVERING].consecutive_failures for run in matrix.health]
    assert failures == [1, 2, 0]
    assert delays[0] == POLL_INTERVAL_S  # the first failure may be a blip
    assert delays[1] == 2 * POLL_INTERVAL_S
    assert delays[2] == POLL_INTERVAL_S  # recovered: back to the normal interval
    assert [run.get(RECOVERING, 0) for run in matrix.items] == [0, 0, 5]
    assert matrix.line(2, RECOVERING).status == "ok"
    assert matrix.health[2][RECOVERING].last_error is None

    for name in ("not-found", "gone", "reset", "stall", "html-page"):
        assert [delay_s(run[name]) for run in matrix.health] == [60, 120, 240], name
        assert matrix.health[2][name].consecutive_failures == 3


def test_a_failing_source_is_due_again_after_its_backoff(matrix: Matrix) -> None:
    record = matrix.health[2]["gone"]
    assert record.next_due_at is not None
    with store(matrix.url) as session:
        due = db.due_source_names(session, ["gone"], record.next_due_at)
    assert due == ["gone"], "never disabled: polled again once the backoff has passed"


def test_every_run_artifact_lists_developments_alerts_and_unhealthy_sources(
    matrix: Matrix,
) -> None:
    artifact = artifact_of(matrix.run_ids[0], ARTIFACT_KEY)
    text = artifact["data"]
    assert "## Developments" in text and "## Alerts raised" in text
    assert "## Unhealthy sources" in text
    unhealthy = text.split("## Unhealthy sources", 1)[1]
    for name in FAILING:
        assert f"| {name} |" in unhealthy
    for name in HEALTHY:
        assert f"| {name} |" not in unhealthy
    developments = matrix.reports[0].developments
    assert developments, "the fixture feeds report developments"
    for development in developments:
        assert f"| {development.id} | {cell(development.category)} |" in text
    alerts = text.split("## Alerts raised", 1)[1].split("## Unhealthy sources", 1)[0]
    assert matrix.reports[0].alerts_sent >= 1
    assert alerts.count("| new |") >= 1
    # The run's own alerts, as its detect stage returned them: one row each, none other.
    raised = matrix.reports[0].raised_alert_ids
    assert raised and alerts.count("\n| ") - 1 == len(raised)
    for alert_id in raised:
        assert f"\n| {alert_id} | " in alerts
    assert f"{matrix.reports[0].alerts_sent} alerts sent" in artifact["description"]
    # Later runs find nothing new: no development, no alert, the same faults.
    later = artifact_of(matrix.run_ids[1], ARTIFACT_KEY)["data"]
    assert "## Developments\n\n_none_" in later
    assert "| gone |" in later


def test_sources_check_json_shows_each_fault_and_the_stored_health(matrix: Matrix) -> None:
    result = CliRunner().invoke(
        app,
        ["sources", "check", "--sources", str(matrix.sources_file), "--db", matrix.url, "--json"],
    )
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert len(rows) == len(HEALTHY) + len(FAILING) + 1
    for name, (_, http_status, says, transient) in FAILING.items():
        row = rows[name]
        assert (row["status"], row["http_status"], row["transient"]) == (
            "error",
            http_status,
            transient,
        ), row
        assert says in row["error"]
        assert row["last_status"] == "error" and says in row["last_error"]
        assert row["consecutive_failures"] == 3
        assert row["last_success_at"] is None and row["next_due_at"]
    for name, (_, items) in HEALTHY.items():
        row = rows[name]
        assert (row["status"], row["items"], row["error"]) == ("ok", items, None), row
        assert row["consecutive_failures"] == 0 and row["last_success_at"]
    assert rows[RECOVERING]["last_status"] == "ok"
    # Checking stores nothing: the store's health is what the last run left.
    assert health(matrix.url) == matrix.health[2]
