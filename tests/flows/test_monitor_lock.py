"""Overlapping monitor runs never double-process: a run that finds the store's monitor lock
taken skips its cycle, a lock left by a dead run expires, a lock whose holder's process has
ended on this machine is taken over at once (a reused pid does not fool it), the lease is renewed
while a run lasts, and two `watchfloor run` processes started at once store each item and send
each alert exactly once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import db
import flows.runs.monitorlock
from flows.context.clock import utcnow
from flows.context.liveness import process_identity, process_is_gone
from flows.context.runtime import transaction
from flows.runs.monitorlock import LOCK_NAME, SKIPPED, monitor_lock
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import (
    IDLE_RUN_JSON,
    Src,
    run_monitor,
    store,
    stored_items,
    write_sources,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
SLOW_OK = {"read_timeout_s": 10, "total_timeout_s": 30}
FEEDS = [
    Src("Peninsula Desk", "/feed/rss2_korea.xml"),
    Src("Tokyo Wire", "/feed/atom_japan.xml"),
    # Slow, so that the first process to take the lock still holds it when the second asks.
    Src("Strait Monitor", "/slow/3000/rdf_taiwan.xml", SLOW_OK),
]
ITEMS = 4 + 3 + 2
SENT_PER_ALERT = sa.text(
    "SELECT alert_id, count(*) FROM deliveries WHERE state = 'sent' GROUP BY alert_id"
)


@pytest.fixture
def sources(feed_server: FeedServer, tmp_path: Path) -> Path:
    feed_server.reset_counters()
    return write_sources(tmp_path / "sources.yaml", feed_server, FEEDS)


@pytest.fixture
def store_url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store, given to flows as deployments give it: through WATCHFLOOR_DATABASE_URL."""
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", sqlite_url)
    return sqlite_url


def hold_lock(url: str, holder: str, *, age_s: float = 0) -> None:
    """Take the monitor lock as another run would (`age_s` ago, for a 300 s lease)."""
    with transaction(url) as session:
        assert db.acquire_lock(
            session,
            LOCK_NAME,
            holder,
            utcnow() - timedelta(seconds=age_s),
            flows.runs.monitorlock.LOCK_TTL_S,
        )


def lock_rows(url: str) -> list[tuple[str, str]]:
    with store(url) as session:
        return [tuple(row) for row in session.execute(sa.text("SELECT name, holder FROM locks"))]


def test_a_run_skips_while_another_holds_the_lock(
    sources: Path, store_url: str, feed_server: FeedServer
) -> None:
    hold_lock(store_url, "other-host:123:running")
    report, _ = run_monitor(sources_file=str(sources))
    assert report.problems == [SKIPPED]
    assert report.sources == [] and report.articles == 0
    assert feed_server.requests == [], "a skipped run fetches nothing"
    assert sum(stored_items(store_url).values()) == 0
    assert lock_rows(store_url) == [(LOCK_NAME, "other-host:123:running")]


def test_run_json_says_on_stderr_that_it_skipped(
    sources: Path, sqlite_url: str, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from flows.cli.app import app

    # `--notify` and `--db` set these variables for the flow: undo them after the test.
    monkeypatch.setenv("WATCHFLOOR_NOTIFY_URLS", "[]")
    monkeypatch.setenv("WATCHFLOOR_DATABASE_URL", sqlite_url)
    hold_lock(sqlite_url, "other-host:123:running")
    result = CliRunner().invoke(
        app, ["run", "--sources", str(sources), "--db", sqlite_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == IDLE_RUN_JSON
    assert SKIPPED in " ".join(result.stderr.split())


def test_a_stale_lock_expires_and_the_next_run_proceeds(
    sources: Path, store_url: str, feed_server: FeedServer
) -> None:
    # A run that died an hour ago without releasing its lease.
    hold_lock(store_url, "dead-host:999:crashed", age_s=3600)
    report, _ = run_monitor(sources_file=str(sources))
    assert report.problems == []
    assert {s.status for s in report.sources} == {"ok"}
    assert sum(stored_items(store_url).values()) == ITEMS
    assert lock_rows(store_url) == [], "released at the end of the run"


def ended_process_pid() -> int:
    """The pid of a process of this machine that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_lease_whose_holder_ended_on_this_machine_is_taken_over_at_once(sqlite_url: str) -> None:
    # A fresh lease (not lapsed) of a run killed with its process: no 5-minute wait.
    dead = f"{socket.gethostname()}:{ended_process_pid()}:123:killed"
    hold_lock(sqlite_url, dead)
    with monitor_lock(sqlite_url) as acquired:
        assert acquired
        [(_, holder)] = lock_rows(sqlite_url)
        assert holder.startswith(process_identity() + ":")
    assert lock_rows(sqlite_url) == []


def test_a_lease_whose_holder_lives_on_this_machine_blocks_until_it_ends(sqlite_url: str) -> None:
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        hold_lock(sqlite_url, f"{process_identity(living.pid)}:running")
        with monitor_lock(sqlite_url) as acquired:
            assert not acquired
    finally:
        living.kill()
        living.wait()
    with monitor_lock(sqlite_url) as acquired:
        assert acquired, "taken over once its holder ended"


def test_a_reused_pid_does_not_keep_a_dead_holders_lease(sqlite_url: str) -> None:
    # This process's pid, but another start time: the holder was an earlier process (a restarted
    # container numbers its processes from 1 again).
    hold_lock(sqlite_url, f"{socket.gethostname()}:{os.getpid()}:1:before-restart")
    with monitor_lock(sqlite_url) as acquired:
        assert acquired


def test_only_processes_of_this_machine_are_judged() -> None:
    assert not process_is_gone(f"other-host:{ended_process_pid()}:1:x"), "cannot tell: wait"
    assert not process_is_gone("not an identity")
    assert not process_is_gone(process_identity())
    assert process_is_gone(f"{socket.gethostname()}:{ended_process_pid()}::x")


def test_the_lease_is_renewed_while_the_run_lasts(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows.runs.monitorlock, "LOCK_RENEW_S", 0.01)
    renewed = threading.Event()
    real_renew = db.renew_lock

    def renew(*args: object, **kwargs: object) -> bool:
        kept = real_renew(*args, **kwargs)  # type: ignore[arg-type]
        renewed.set()
        return kept

    monkeypatch.setattr(db, "renew_lock", renew)
    with monitor_lock(sqlite_url) as acquired:
        assert acquired
        with store(sqlite_url) as session:
            before = session.execute(sa.text("SELECT expires_at FROM locks")).scalar_one()
        renewed.clear()
        assert renewed.wait(30), "the lease keeper renewed the lease"
        with store(sqlite_url) as session:
            after = session.execute(sa.text("SELECT expires_at FROM locks")).scalar_one()
        assert after > before
        with monitor_lock(sqlite_url) as second:
            assert not second, "held while renewed"
    assert lock_rows(sqlite_url) == []


def watchfloor_run(sources: Path, url: str, hook: str, home: Path) -> subprocess.Popen[str]:
    """`watchfloor run --json` in its own process, on the test Prefect API."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": PREFECT_API_URL.value()}
    return subprocess.Popen(
        [WATCHFLOOR, "run", "--sources", str(sources), "--db", url, "--notify", hook, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_two_processes_at_once_store_and_alert_everything_once(
    backend: str,
    sources: Path,
    feed_server: FeedServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    hook = f"json://127.0.0.1:{feed_server.server_address[1]}/hook/{backend}"
    processes = [watchfloor_run(sources, url, hook, tmp_path / f"home{i}") for i in range(2)]
    outputs = [process.communicate(timeout=300) for process in processes]
    reports = []
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
        reports.append(json.loads(stdout))

    stored = stored_items(url)
    assert sum(stored.values()) == ITEMS and set(stored.values()) == {1}
    assert sum(line["new_items"] for r in reports for line in r["sources"]) == ITEMS
    with store(url) as session:
        alerts = session.execute(sa.text("SELECT count(*) FROM alerts")).scalar_one()
        sent = session.execute(
            sa.text(
                "SELECT alert_id, count(*) FROM deliveries WHERE state = 'sent' GROUP BY alert_id"
            )
        ).all()
    assert alerts >= 1
    assert sorted(count for _, count in sent) == [1] * alerts, "one delivery per alert"
    posts = [body for path, body in feed_server.posts if path.endswith(f"/hook/{backend}")]
    assert len(posts) == alerts == sum(r["alerts_sent"] for r in reports)
    # Whichever came second either found the lock taken or found nothing due: never both busy.
    second = [r for r in reports if not r["sources"]]
    assert len(second) == 1
