"""`watchfloor run` against a real local feed server: the first run stores every item once, a
second run of the same feeds makes only conditional requests and parses nothing, and `--json`
prints exactly the documented object. In-process (Typer's runner) on the test Prefect API."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli.app import app
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import (
    IDLE_RUN_JSON,
    Src,
    requests_to,
    run_json,
    statuses_of,
    stored_items,
    write_sources,
)
from tests.conftest import DEVELOPMENT_KEYS

pytestmark = pytest.mark.usefixtures("prefect_harness")

SOURCE_KEYS = {"name", "url", "status", "http_status", "items", "new_items", "error"}
# (name, path, items): one feed per way of saying "nothing changed" on the second poll.
FEEDS = [
    ("Peninsula Desk", "/feed/rss2_korea.xml?v=etag", 4),
    ("Tokyo Wire", "/feed/atom_japan.xml?v=lastmod", 3),
    ("Strait Monitor", "/raw/rdf_taiwan.xml", 2),
]


@pytest.fixture
def setup(
    feed_server: FeedServer, tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, str]:
    """(sources file, store URL, subscriber URL); `--notify` and `--db` set variables: undo
    them after."""
    feed_server.reset_counters()
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", sqlite_url)
    sources = write_sources(
        tmp_path / "sources.yaml", feed_server, [Src(name, path) for name, path, _ in FEEDS]
    )
    hook = f"json://127.0.0.1:{feed_server.server_address[1]}/hook/cli"
    return sources, sqlite_url, hook


def test_run_json_then_conditional_rerun(
    setup: tuple[Path, str, str], feed_server: FeedServer
) -> None:
    sources, url, hook = setup
    common = ("--sources", str(sources), "--db", url, "--notify", hook)

    first = run_json(*common)
    assert set(first) == {
        "sources",
        "articles",
        "developments",
        "alerts_sent",
        "detected",
        "failed_articles",
    }
    assert (first["detected"], first["failed_articles"]) == (9, [])
    assert [s["name"] for s in first["sources"]] == [name for name, _, _ in FEEDS]
    for line, (_, path, items) in zip(first["sources"], FEEDS, strict=True):
        assert set(line) == SOURCE_KEYS
        assert line["url"] == feed_server.url(path)
        assert (line["status"], line["http_status"], line["error"]) == ("ok", 200, None)
        assert line["items"] == line["new_items"] == items
    assert first["articles"] == 9
    stored = stored_items(url)
    assert sum(stored.values()) == 9 and set(stored.values()) == {1}
    assert first["developments"], "the fixture feeds report a launch and a meeting"
    assert all(set(d) == DEVELOPMENT_KEYS for d in first["developments"])
    assert first["alerts_sent"] >= 1
    assert len(feed_server.posts) == first["alerts_sent"]  # one subscriber: one message per alert

    # Polled a moment ago: nothing is due, so nothing is fetched or listed.
    feed_server.reset_counters()
    idle = run_json(*common)
    assert idle == IDLE_RUN_JSON
    assert feed_server.requests == []

    # --all polls them anyway: conditional requests, 304s, and nothing parsed or stored.
    again = run_json(*common, "--all")
    statuses = {s["name"]: (s["status"], s["http_status"], s["items"]) for s in again["sources"]}
    assert statuses == {
        "Peninsula Desk": ("not_modified", 304, 0),
        "Tokyo Wire": ("not_modified", 304, 0),
        "Strait Monitor": ("unchanged", 200, 0),
    }
    assert again["articles"] == 0 and again["alerts_sent"] == 0
    assert again["developments"] == []
    assert [h.get("if-none-match") is not None for h in requests_to(feed_server, "v=etag")] == [
        True
    ]
    assert [h.get("if-modified-since") for h in requests_to(feed_server, "v=lastmod")] == [
        "Wed, 28 Jan 2026 01:00:00 GMT"
    ]
    assert statuses_of(feed_server, "rss2_korea") == statuses_of(feed_server, "atom_japan") == [304]
    assert stored_items(url) == stored
    assert len(feed_server.posts) == 0


def test_run_table_lists_sources_and_developments(setup: tuple[Path, str, str]) -> None:
    sources, url, hook = setup
    result = CliRunner().invoke(
        app, ["run", "--sources", str(sources), "--db", url, "--notify", hook]
    )
    assert result.exit_code == 0, result.output
    for name, _, _ in FEEDS:
        assert name in result.stdout
    assert "9 articles read (9 new)" in " ".join(result.stdout.split())


def test_run_refuses_a_bad_sources_file_with_file_and_line(
    setup: tuple[Path, str, str], tmp_path: Path
) -> None:
    _, url, _ = setup
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: x\n    url: ftp://example.org/feed\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--sources", str(bad), "--db", url, "--json"])
    assert result.exit_code == 2
    assert f"{bad}:3:" in result.stderr
    assert result.stdout == ""


def test_run_help_says_which_sources_are_listed() -> None:
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "not due are neither fetched nor listed" in text
