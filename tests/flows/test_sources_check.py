"""`watchfloor sources check`: fetches each source once, stores nothing, and shows this fetch
next to the stored health. (Health after real monitor runs: test_monitor_faults.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli.app import app
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, health, stored_items, write_sources

ROW_KEYS = {
    "name",
    "url",
    "kind",
    "status",
    "http_status",
    "items",
    "error",
    "problems",
    "transient",
    "last_status",
    "last_fetch_at",
    "last_success_at",
    "last_http_status",
    "consecutive_failures",
    "last_error",
    "next_due_at",
}

FETCH_KEYS = ("kind", "status", "http_status", "items", "error", "problems", "transient")
NAMES = ["Peninsula Desk", "Moved Desk", "Gone Desk", "Busy Desk"]


@pytest.fixture
def sources(feed_server: FeedServer, tmp_path: Path) -> Path:
    feed_server.reset_counters()
    return write_sources(
        tmp_path / "sources.yaml",
        feed_server,
        [
            Src("Peninsula Desk", "/feed/rss2_korea.xml"),
            Src("Moved Desk", "/hop/1/301/atom_japan.xml"),
            Src("Gone Desk", "/status/410"),
            Src("Busy Desk", "/status/503"),
        ],
    )


def check(*args: str) -> Any:
    result = CliRunner().invoke(app, ["sources", "check", *args])
    assert result.exit_code == 0, result.output
    return result


def test_check_json_on_a_store_that_never_polled(
    sources: Path, sqlite_url: str, feed_server: FeedServer
) -> None:
    rows = json.loads(check("--sources", str(sources), "--db", sqlite_url, "--json").stdout)
    assert [row["name"] for row in rows] == NAMES
    assert all(set(row) == ROW_KEYS for row in rows)
    by_name = {row["name"]: row for row in rows}
    desk = by_name["Peninsula Desk"]
    assert {key: desk[key] for key in FETCH_KEYS} == {
        "kind": "rss",
        "status": "ok",
        "http_status": 200,
        "items": 4,
        "error": None,
        "problems": [],
        "transient": None,
    }
    assert by_name["Moved Desk"]["status"] == "ok"
    assert "moved permanently" in by_name["Moved Desk"]["problems"][0]
    assert (by_name["Gone Desk"]["http_status"], by_name["Gone Desk"]["transient"]) == (410, False)
    assert (by_name["Busy Desk"]["http_status"], by_name["Busy Desk"]["transient"]) == (503, True)
    for row in rows:  # nothing remembered yet
        assert row["last_status"] is row["last_fetch_at"] is row["next_due_at"] is None
        assert row["consecutive_failures"] == 0
    # Unconditional fetches, nothing written: the next real poll still reads every item.
    assert all("if-none-match" not in headers for _, headers in feed_server.requests)
    assert health(sqlite_url) == {} and sum(stored_items(sqlite_url).values()) == 0


def test_check_prints_a_table(sources: Path, sqlite_url: str) -> None:
    output = check("--sources", str(sources), "--db", sqlite_url).stdout
    assert "Source health" in output
    for name in NAMES:
        assert name in output
    assert "HTTP 410 Gone" in output


def test_check_refuses_a_bad_sources_file(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("sources:\n  - name: a\n    url: https://a.example/feed\n    poll_interval: 5\n")
    result = CliRunner().invoke(app, ["sources", "check", "--sources", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.stderr and "minimum" in result.stderr
