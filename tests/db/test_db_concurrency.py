"""Two real processes on one store: nothing stored, created or claimed twice. The processes are
forked from one that imported the store's code once (tests/db/workerforks.py), each with its
own connections, as `python dbworker.py` would run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from dbtestkit import seed_alert
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.model import NewRef
from db import count_articles, create_engine_for, current_revision
from db.engine import alembic_config
from db.models import AlertRow, DeliveryRow, DevelopmentRow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@pytest.fixture(scope="module")
def forks() -> Iterator[subprocess.Popen[str]]:
    """The module's workerforks process (tests/db/workerforks.py): it imported dbworker once,
    and forks each test's worker processes from there."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "workerforks.py")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield process
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=60)


def run_workers(
    forks: subprocess.Popen[str], tmp_path: Path, mode: str, url: str, extra: list[list[str]]
) -> list[dict]:
    """Fork one dbworker process per `extra` entry, release them together, return results."""
    assert forks.stdin is not None and forks.stdout is not None
    go = tmp_path / f"go-{mode}"
    outs = [tmp_path / f"{mode}-{i}.json" for i in range(len(extra))]
    errors = [tmp_path / f"{mode}-{i}.err" for i in range(len(extra))]
    batch = [
        {"argv": [mode, url, str(out), str(go), *args], "stderr": str(err)}
        for out, err, args in zip(outs, errors, extra, strict=True)
    ]
    forks.stdin.write(json.dumps(batch) + "\n")
    forks.stdin.flush()
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob(f"go-{mode}.ready.*"))) < len(batch):
        if time.monotonic() > deadline:
            break  # released anyway: a worker that failed says why below
        time.sleep(0.01)
    go.touch()
    codes = json.loads(forks.stdout.readline())
    for code, err in zip(codes, errors, strict=True):
        assert code == 0, err.read_text(errors="replace")
    return [json.loads(out.read_text()) for out in outs]


@pytest.mark.slow
def test_two_processes_claim_disjoint_deliveries(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path, forks: subprocess.Popen[str]
) -> None:
    targets = [(f"key-{i}", f"json://host/{i}") for i in range(15)]
    with sessions.begin() as session:
        for n in range(20):
            seed_alert_for(session, n, targets)
        total = session.scalar(select(func.count()).select_from(DeliveryRow))
    assert total == 300
    a, b = run_workers(forks, tmp_path, "claim", db_url, [[], []])
    claims = Counter(a["claimed"] + b["claimed"])
    assert sum(claims.values()) == 300 and len(claims) == 300  # 0 duplicates, none missed
    assert a["claimed"] and b["claimed"], "both processes should have taken part"
    with sessions() as session:
        states = set(session.scalars(select(DeliveryRow.state)))
    assert states == {"sent"}


def seed_alert_for(session: Session, n: int, targets: list[tuple[str, str]]) -> None:
    """An alert with deliveries to `targets`, on its own development and articles."""
    from dbtestkit import T0, article, change, development, match, spec

    from db import apply_changes, route_alert, store_articles, upsert_sources

    name = f"outlet{n}"
    ids = upsert_sources(session, [spec(name)])
    [stored] = store_articles(session, ids, [article(name, 0)], T0).new
    dev = development(event_date=None, place=f"site {n}")
    keys = {stored.article.guid: stored.id}
    [alert_id] = apply_changes(
        session, [change(NewRef(0), dev, [match(stored.article.guid)], "new")], keys, T0
    )
    route_alert(session, alert_id, targets, T0)


@pytest.mark.slow
def test_two_processes_store_the_same_articles_once(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path, forks: subprocess.Popen[str]
) -> None:
    # One process goes forwards, the other backwards: every batch overlaps the other's.
    a, b = run_workers(forks, tmp_path, "store", db_url, [["2000"], ["-2000"]])
    new = Counter(a["new"] + b["new"])
    assert len(new) == 2000 and max(new.values()) == 1
    with sessions() as session:
        assert count_articles(session) == 2000


@pytest.mark.slow
def test_two_runs_at_once_create_one_development(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path, forks: subprocess.Popen[str]
) -> None:
    a, b = run_workers(forks, tmp_path, "detect", db_url, [[], []])
    assert len(a["alerts"] + b["alerts"]) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DevelopmentRow)) == 1
        assert session.scalar(select(func.count()).select_from(AlertRow)) == 1


def test_two_processes_one_lease(db_url: str, tmp_path: Path, forks: subprocess.Popen[str]) -> None:
    results = run_workers(forks, tmp_path, "lock", db_url, [[], [], []])
    assert sorted(r["acquired"] for r in results) == [False, False, True]


def test_two_processes_upgrade_an_empty_database_at_once(
    empty_url: str, tmp_path: Path, forks: subprocess.Popen[str]
) -> None:
    run_workers(forks, tmp_path, "upgrade", empty_url, [[], []])
    engine = create_engine_for(empty_url)
    try:
        assert (
            current_revision(engine)
            == ScriptDirectory.from_config(alembic_config()).get_current_head()
        )
    finally:
        engine.dispose()


def test_seed_alert_helper_is_routable(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert seed_alert(session, [("k", "d")]) > 0
