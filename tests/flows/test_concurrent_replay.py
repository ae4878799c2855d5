"""Two replay runs at the same moment, in two real processes, on one store (SQLite file or
PostgreSQL): no article, development or alert is stored twice, and every delivery reaches the
subscriber once, sent by exactly one of the two processes.

Each process first runs a flow on the session's Prefect API (as two runs of a deployment use
their server's; a temporary API of its own would cost each seconds of CPU, which the store's
behaviour does not depend on), waits at a barrier, then both replay the same files at once:
their store, detect and send stages overlap for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import SEEDS
from tests.notify.receivers import HttpReceiver
from tests.storekit import engine_at, rows_of

BACKENDS = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("pg_url", id="postgresql", marks=pytest.mark.postgres),
]
PADDING = 300  # local stories no rule reports, so the two runs' stages last long enough to overlap

# The worker: start Prefect (a first flow run), say "ready", wait for "go", replay, print the
# report and the moments the flow started and ended.
WORKER = """
import json, os, sys, time
from pathlib import Path
from prefect import flow

@flow(name="warm-up")
def warm_up() -> int:
    return 1

warm_up()
from flows.replay import replay_flow

go, ready, paths = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
ready.touch()
deadline = time.monotonic() + 300
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.005)
started = time.time()
report = replay_flow(paths=paths)
ended = time.time()
print(json.dumps({"report": report.replay_json(), "started": started, "ended": ended}))
"""


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """An empty store on each backend (the flow migrates it on first use)."""
    return str(request.getfixturevalue(request.param))


def padding_folder(folder: Path, count: int) -> Path:
    """`count` distinct ~3 KB local stories that no rule reports."""
    folder.mkdir()
    paragraph = (
        "The city council approved a larger budget for public libraries, adding evening "
        "opening hours at twelve branches and a new reading room for children. "
    )
    for i in range(count):
        day = 10 + i % 15
        text = (
            f"date: 2026-01-{day}\nLibrary budget, part {i}\n\n"
            f"SEOUL, Jan {day} (Yonhap) -- Story number {i}. " + paragraph * 20 + "\n"
        )
        (folder / f"pad-{i:04d}.txt").write_text(text, encoding="utf-8")
    return folder


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End a worker and whatever it started by the worker's process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_workers(
    tmp_path: Path,
    url: str,
    hook_url: str,
    paths: list[str],
    api_url: str,
    count: int = 2,
) -> list[dict[str, Any]]:
    """Start `count` replay processes on the Prefect API at `api_url`, each with a Prefect
    home of its own, release them together, return their outputs.

    Output goes to files, not pipes: whatever a worker starts inherits its descriptors, and a
    pipe it keeps open would block the reader. Each worker leads its own process group,
    ended whole whatever happens.
    """
    go = tmp_path / "go"
    procs: list[subprocess.Popen[bytes]] = []
    homes = [tmp_path / f"worker{i}" for i in range(count)]
    try:
        for home in homes:
            home.mkdir()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("WATCHFLOOR_")},
                "PREFECT_HOME": str(home / ".prefect"),
                "PREFECT_API_URL": api_url,
                "WATCHFLOOR_DATABASE_URL": url,
                "WATCHFLOOR_NOTIFY_URLS": json.dumps([hook_url]),
            }
            cmd = [sys.executable, "-c", WORKER, str(go), str(home / "ready"), *paths]
            with (home / "out").open("wb") as out, (home / "err").open("wb") as err:
                procs.append(
                    subprocess.Popen(
                        cmd, cwd=home, env=env, stdout=out, stderr=err, start_new_session=True
                    )
                )
        wait_until_ready(procs, homes)
        go.touch()
        for proc in procs:
            proc.wait(timeout=300)
        for proc, home in zip(procs, homes, strict=True):
            assert proc.returncode == 0, (home / "err").read_text()[-3000:]
        return [json.loads((h / "out").read_text().strip().splitlines()[-1]) for h in homes]
    finally:
        for proc in procs:
            stop_group(proc)


def wait_until_ready(procs: list[subprocess.Popen[bytes]], homes: list[Path]) -> None:
    """Block until every worker has started Prefect; fail with their errors if one died."""
    deadline = time.monotonic() + 300
    while not all((home / "ready").exists() for home in homes):
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            errors = "\n".join((h / "err").read_text()[-3000:] for h in homes)
            pytest.fail(f"a worker did not get ready:\n{errors}")
        time.sleep(0.05)


def developments_by_id(url: str) -> dict[int, str]:
    """id -> category of every stored development."""
    return {int(i): str(c) for i, c in rows_of(url, "SELECT id, category FROM developments")}


def duplicates(url: str) -> dict[str, int]:
    """Rows that repeat what the store promises to hold once, per kind, and the row counts."""
    checks = {
        "duplicate_article_guids": "SELECT source_id, guid FROM articles GROUP BY source_id, guid "
        "HAVING count(*) > 1",
        "duplicate_article_hashes": "SELECT source_id, content_hash FROM articles "
        "GROUP BY source_id, content_hash HAVING count(*) > 1",
        "duplicate_alerts": "SELECT development_id, kind, status FROM alerts "
        "GROUP BY development_id, kind, status HAVING count(*) > 1",
        "duplicate_deliveries": "SELECT alert_id, target_key FROM deliveries "
        "GROUP BY alert_id, target_key HAVING count(*) > 1",
    }
    with engine_at(url) as engine, engine.connect() as connection:
        found = {k: len(connection.execute(sa.text(q)).all()) for k, q in checks.items()}
        for table in ("articles", "developments", "alerts", "deliveries"):
            found[table] = int(connection.scalar(sa.text(f"SELECT count(*) FROM {table}")))
        states = connection.execute(sa.text("SELECT DISTINCT state FROM deliveries")).all()
        found["unsent_deliveries"] = sum(1 for (s,) in states if s != "sent")
    return found


@pytest.mark.slow
def test_two_replays_at_once_store_and_alert_once(
    store_url: str, http: HttpReceiver, tmp_path: Path, prefect_api_url: str
) -> None:
    padding = padding_folder(tmp_path / "padding", PADDING)
    hook = f"json://127.0.0.1:{http.port}/hook"
    a, b = start_workers(tmp_path, store_url, hook, [str(SEEDS), str(padding)], prefect_api_url)

    assert max(a["started"], b["started"]) < min(a["ended"], b["ended"]), "the runs overlapped"
    # Every alert was sent by exactly one of the two processes, and reached the subscriber once.
    assert a["report"]["alerts_sent"] + b["report"]["alerts_sent"] == 4
    bodies = [request.json() for request in http.received]
    assert len(bodies) == 4
    assert len({json.dumps(body, sort_keys=True) for body in bodies}) == 4
    # Each report lists the developments its articles are evidence of, as committed when it
    # ended: the run that lost every insert race may end before the winner has detected them.
    stored = developments_by_id(store_url)
    assert sorted(stored.values()) == [
        "military_exercise",
        "ministerial_meeting",
        "missile_launch",
        "summit",
    ]
    for out in (a, b):
        assert out["report"]["articles"] == 5 + PADDING
        assert {d["id"] for d in out["report"]["developments"]} <= set(stored)
    counts = duplicates(store_url)
    assert counts == {
        "duplicate_article_guids": 0,
        "duplicate_article_hashes": 0,
        "duplicate_alerts": 0,
        "duplicate_deliveries": 0,
        "articles": 5 + PADDING,
        "developments": 4,
        "alerts": 4,
        "deliveries": 4,
        "unsent_deliveries": 0,
    }
