"""A Prefect API that PREFECT_API_URL names and that does not answer is one `error` line and
exit 1, never Prefect's traceback; a `run` has stored what it polled by then, and the next run
that reaches an API detects it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import db
from flows.context.config import load_run_config
from flows.context.runtime import transaction
from flows.context.settings import load_settings
from flows.prefectapi.reach import unreachable_message, without_credentials
from tests.adapters.feedserver import FeedServer, serving_feeds
from tests.adapters.monitorkit import Src, run_json, stored_items, write_sources
from tests.conftest import SEEDS
from tests.secret_audit import record_output

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable_run(*args: str, home: Path, api_url: str) -> list[str]:
    """The `error` lines of the installed CLI on an API that does not answer: exit 1, no
    traceback, and no Prefect database created (no temporary API started instead)."""
    home.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api_url}
    result = subprocess.run(
        [WATCHFLOOR, *args], env=environment, capture_output=True, text=True, timeout=300
    )
    record_output(f"watchfloor {' '.join(args)}", result.stdout + result.stderr)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert not list(home.glob("*.db")), "a temporary API started in its place"
    return [line for line in result.stderr.splitlines() if line.startswith("error")]


def awaiting_detection(url: str) -> int:
    """Stored articles that the current rules have not yet looked at."""
    version = load_run_config(load_settings(database_url=url)).rules_version
    with transaction(url) as session:
        return db.count_pending_detection(session, version)


def expected_line(port: int) -> str:
    return (
        f"error Prefect's API at http://127.0.0.1:{port}/api (PREFECT_API_URL) did not answer: "
        "[Errno 111] Connection refused. Start that server, or unset PREFECT_API_URL to run on "
        "a temporary local API."
    )


def test_a_replay_on_an_api_that_does_not_answer_is_one_line_without_its_credentials(
    tmp_path: Path,
) -> None:
    port = closed_port()
    lines = unreachable_run(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'store.db'}",
        home=tmp_path / ".prefect",
        api_url=f"http://watch:hunter2@127.0.0.1:{port}/api",
    )
    assert lines == [expected_line(port)]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with serving_feeds() as feeds:
        yield feeds


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_on_an_api_that_does_not_answer_keeps_what_it_polled_for_the_next_run(
    server: FeedServer, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")  # the terminal subscriber
    sources = write_sources(
        tmp_path / "sources.yaml", server, [Src("Peninsula Desk", "/feed/rss2_korea.xml")]
    )
    port = closed_port()
    lines = unreachable_run(
        "run",
        "--sources",
        str(sources),
        "--db",
        sqlite_url,
        home=tmp_path / ".prefect",
        api_url=f"http://127.0.0.1:{port}/api",
    )
    assert lines == [expected_line(port)]
    polled = stored_items(sqlite_url)
    assert polled, "the run stored nothing before it needed the API"
    assert awaiting_detection(sqlite_url) == sum(polled.values())

    # The next run, on an API that answers (the test harness's), has no source due (the failed
    # run polled it) and still runs its flow for the articles that run left undetected.
    report = run_json("--sources", str(sources), "--db", sqlite_url)
    assert report["sources"] == []
    assert awaiting_detection(sqlite_url) == 0
    assert report["alerts_sent"] == 2, "the articles the failed run stored were not alerted"
    assert sorted(d["category"] for d in report["developments"]) == [
        "ministerial_meeting",
        "missile_launch",
    ], "the report left out what the run detected of the failed run's articles"
    assert stored_items(sqlite_url) == polled


def test_the_message_never_carries_a_password() -> None:
    assert without_credentials("https://u:p@prefect.example:4200/api") == (
        "https://prefect.example:4200/api"
    )
    assert without_credentials("http://u@[::1]:4200/api") == "http://[::1]:4200/api"
    assert without_credentials("http://127.0.0.1:4200/api") == "http://127.0.0.1:4200/api"
    assert without_credentials("http://u:secret@h:port/api") == "(a URL that does not parse)"
    line = unreachable_message("http://u:secret@h/api", OSError("refused"))
    assert "secret" not in line and "http://h/api" in line
    folded = unreachable_message("http://h/api", OSError("TLS handshake:\n  certificate expired"))
    assert "\n" not in folded and "did not answer: TLS handshake: certificate expired." in folded
