"""`watchfloor serve` never stops silently: real `serve` processes on a cron with seconds, a
cycle held open by a slow feed on 127.0.0.1, then stopped mid-cycle the two ways a machine stops
a service. SIGTERM (systemd, `docker stop`): `serve` exits 0 and leaves no run pending or running.
SIGKILL of `serve` and every process under it (a container or machine that died): the run stays
running and the store's monitor lease stays taken; the next `serve` marks that run crashed,
takes over the dead process's lease at once (not after its 5-minute lapse), and its next
scheduled cycles complete and store the feed.

Each `serve` starts its own temporary Prefect API on one PREFECT_HOME, as on a machine without
a Prefect server; the test reads flow runs from that home's database. That home starts as a
copy of a Prefect home used before (its database created, no flow run in it), as on a machine
where Prefect ran already: the first `serve` is spared the seconds of creating the database.
Every wait is a poll with an upper limit, and no assertion is about speed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.serving.recovery import CRASHED_BY_SERVE
from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, store, stored_items, write_sources
from tests.secret_audit import record_output

pytestmark = pytest.mark.slow

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
# Every 15 seconds (croniter's sixth field is seconds): cycles come often enough for a test.
CRON = "* * * * * */15"
HOLD_MS = 15_000  # how long the slow feed keeps a cycle open
SLOW_OK = {"read_timeout_s": 60, "total_timeout_s": 90}
FEED_ITEMS = 4
ACTIVE = {"PENDING", "RUNNING", "CANCELLING"}


@dataclass
class Serve:
    """One `watchfloor serve` process and the files its output goes to."""

    process: subprocess.Popen[bytes]
    output: Path

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    feeds = FeedServer().start()
    yield feeds
    feeds.close()


def serve_env(home: Path) -> dict[str, str]:
    """The environment of a `serve` on a machine without a Prefect server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WATCHFLOOR_"))}
    return env | {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "WATCHFLOOR_NOTIFY_URLS": "[]",
        # Fetching from loopback, where the test's feed server is.
        "WATCHFLOOR_FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
    }


def start_serve(tmp_path: Path, label: str, sources: Path, url: str) -> Serve:
    output = tmp_path / f"serve-{label}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [WATCHFLOOR, "serve", "--cron", CRON, "--sources", str(sources), "--db", url],
            env=serve_env(tmp_path / "prefect"),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Serve(process, output)


def wait_for(condition: Callable[[], bool], limit_s: float, what: str, serve: Serve) -> None:
    """Poll `condition` until it holds; fail after `limit_s` with `serve`'s output."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if serve.process.poll() is not None:
            pytest.fail(f"serve exited ({serve.process.returncode}) before {what}:\n{serve.text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {limit_s} s:\n{serve.text()[-6000:]}")
        time.sleep(0.5)


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (children first found by their parent id in /proc)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        children = parents.get(queue.pop(), [])
        found += children
        queue += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return state[state.rindex(")") + 2] not in "ZX"


def kill_all(pids: list[int]) -> None:
    """SIGKILL the given processes (all started by this test, directly or not)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Run:
    id: str
    state: str
    message: str


def flow_runs(home: Path) -> dict[str, Run]:
    """The monitor's flow runs as Prefect's database in `home` holds them (read-only)."""
    database = home / "prefect.db"
    if not database.exists():
        return {}
    query = (
        "SELECT fr.id, fr.state_type, coalesce(s.message, '') FROM flow_run fr "
        "LEFT JOIN flow_run_state s ON s.id = fr.state_id"
    )
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return {row[0]: Run(*row) for row in connection.execute(query)}
    except sqlite3.OperationalError:  # the schema is not there yet
        return {}
    finally:
        connection.close()


def completed_since(home: Path, before: dict[str, Run]) -> list[Run]:
    """Runs that completed after the snapshot `before` was taken."""
    return [
        run
        for run in flow_runs(home).values()
        if run.state == "COMPLETED" and (run.id not in before or before[run.id].state != run.state)
    ]


def lock_holders(url: str) -> list[str]:
    with store(url) as session:
        return list(session.execute(sa.text("SELECT holder FROM locks")).scalars())


def stop_cleanly(serve: Serve, pids: list[int]) -> None:
    """SIGTERM, as systemd and `docker stop` do: exit 0, every process under it gone."""
    serve.process.send_signal(signal.SIGTERM)
    try:
        code = serve.process.wait(timeout=180)
    except subprocess.TimeoutExpired:
        kill_all([serve.process.pid, *pids])
        serve.process.wait()
        pytest.fail(f"serve ignored SIGTERM:\n{serve.text()[-6000:]}")
    assert code == 0, serve.text()[-6000:]
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = [pid for pid in pids if alive(pid)]
    kill_all(left)
    assert not left, f"processes left running after SIGTERM: {left}"


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_serve_goes_on_after_being_stopped_mid_cycle(
    stop: str, server: FeedServer, tmp_path: Path, sqlite_url: str, used_prefect_home: Path
) -> None:
    server.reset_counters()
    sources = write_sources(
        tmp_path / "sources.yaml",
        server,
        [Src("Slow Desk", f"/slow/{HOLD_MS}/rss2_korea.xml", SLOW_OK)],
    )
    home = tmp_path / "prefect"
    shutil.copytree(used_prefect_home, home)
    first = start_serve(tmp_path, "first", sources, sqlite_url)
    pids: list[int] = []
    try:
        wait_for(lambda: server.waiting >= 1, 300, "cycle fetching the slow feed", first)
        pids = descendants(first.process.pid)
        if stop == "sigterm":
            stop_cleanly(first, pids)
        else:
            kill_all([first.process.pid, *pids])
            first.process.wait(timeout=60)
    finally:
        if first.process.poll() is None:
            kill_all([first.process.pid, *descendants(first.process.pid)])
            first.process.wait()
        kill_all([pid for pid in pids if alive(pid)])
        record_output(f"serve first {stop}", first.text())

    before = flow_runs(home)
    left_active = [run for run in before.values() if run.state in ACTIVE]
    if stop == "sigterm":
        left = [run for run in before.values() if run.state in {*ACTIVE, "SCHEDULED"}]
        assert left == [], "a clean stop leaves nothing to clean"
        assert any(run.state == "CANCELLED" for run in before.values()), "the cycle was cancelled"
        assert "SIGTERM received" in first.text()
    else:
        assert left_active, "the killed cycle's run is left running, as in the field"
        assert lock_holders(sqlite_url), "and its lease is left in the store"

    second = start_serve(tmp_path, "second", sources, sqlite_url)
    try:
        wait_for(lambda: bool(completed_since(home, before)), 300, "completed cycle", second)
        wait_for(lambda: sum(stored_items(sqlite_url).values()) == FEED_ITEMS, 120, "items", second)
        stop_cleanly(second, descendants(second.process.pid))
    finally:
        if second.process.poll() is None:
            kill_all([second.process.pid, *descendants(second.process.pid)])
            second.process.wait()
        record_output(f"serve second {stop}", second.text())

    after = flow_runs(home)
    assert not [run for run in after.values() if run.state in ACTIVE], after
    assert lock_holders(sqlite_url) == [], "the lease is released"
    for run in left_active:
        assert after[run.id].state == "CRASHED", after[run.id]
        assert after[run.id].message.startswith(CRASHED_BY_SERVE)
    output = second.text()
    if stop == "sigterm":
        assert "marked crashed" not in output, output[-6000:]
    else:
        assert "WARNING" in output and "marked crashed" in output, output[-6000:]
        assert "took over the monitor lock" in output, output[-6000:]
