"""The recipe of deploy/server/ on loopback: a Prefect server, the `watchfloor` process work pool,
the deployments of deploy/prefect.yaml, a worker, and a replay run triggered through the server
that stores the seed developments and alerts a local webhook; with SQLite behind Prefect and
Watchfloor, and with PostgreSQL behind both. Every process is gone after. A server on SQLite
starts in a Prefect home used before (`used_prefect_home`: its database created), as on a
machine where Prefect ran already; the one on PostgreSQL creates its database itself."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.notify.receivers import HttpReceiver
from tests.storekit import rows_of

pytestmark = pytest.mark.slow

SEED_CATEGORIES = ["military_exercise", "ministerial_meeting", "missile_launch", "summit"]


def load_recipe() -> ModuleType:
    """deploy/server/recipe.py as a module (deploy/ is a folder of files, not a package)."""
    path = ROOT / "deploy" / "server" / "recipe.py"
    spec = importlib.util.spec_from_file_location("watchfloor_server_recipe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


recipe = load_recipe()


def all_pids(stack: Any) -> list[int]:
    """The stack's processes and everything below them, right now."""
    pids = [p.pid for p in stack.processes]
    for pid in list(pids):
        pids += recipe.descendants(pid)
    return pids


def assert_all_stopped(pids: list[int]) -> None:
    deadline = time.monotonic() + 30
    while any(recipe.is_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if recipe.is_alive(pid)], "a process of the stack survived"


def stored_categories(url: str) -> list[str]:
    return sorted(category for (category,) in rows_of(url, "SELECT category FROM developments"))


def deploy(stack: Any) -> dict[str, dict[str, Any]]:
    """Server, pool and deployments; the deployments as the server has them."""
    stack.start_server()
    stack.create_pool()
    stack.deploy_all()
    found = stack.deployments()
    assert {"monitor/monitor", "replay/replay"} <= set(found)
    assert {found[d]["work_pool"] for d in ("monitor/monitor", "replay/replay")} == {"watchfloor"}
    assert found["monitor/monitor"]["schedules"] == ["*/10 * * * *"]
    assert found["replay/replay"]["entrypoint"] == "flows/replay.py:replay_flow"
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str | None, str]:
    """(Prefect's database URL or None for its SQLite default, Watchfloor's store URL): both
    SQLite on one machine, or both PostgreSQL as at scale (two databases of one server)."""
    if request.param == "sqlite":
        return None, f"sqlite:///{tmp_path / 'store' / 'watchfloor.db'}"
    from tests.pgserver import create_database

    server = request.getfixturevalue("pg_server")
    suffix = tmp_path.name.lower().replace("-", "_")[-20:]
    prefect = create_database(server, f"prefect_{suffix}")
    store = create_database(server, f"store_{suffix}")
    return prefect.replace("postgresql+psycopg://", "postgresql+asyncpg://"), store


def server_home(tmp_path: Path, used_prefect_home: Path) -> Path:
    """The server's Prefect home: a copy of one used before."""
    home = tmp_path / "prefect"
    shutil.copytree(used_prefect_home, home)
    return home


def test_worker_runs_the_replay_deployment_and_stores_the_seed_developments(
    tmp_path: Path,
    http: HttpReceiver,
    databases: tuple[str | None, str],
    used_prefect_home: Path,
) -> None:
    prefect_db, store = databases
    home = tmp_path / "prefect" if prefect_db else server_home(tmp_path, used_prefect_home)
    # No scheduler: the monitor's cron must not start a run that polls the real feeds.
    stack = recipe.Stack(
        home,
        prefect_db_url=prefect_db,
        scheduler=False,
        # Secrets in the worker's environment, never in parameters.
        watchfloor_env={
            "WATCHFLOOR_NOTIFY_URLS": json.dumps([f"json://127.0.0.1:{http.port}/hook"]),
            "WATCHFLOOR_DATABASE_URL": store,
        },
    )
    with stack:
        deploy(stack)
        stack.start_worker()
        flow_run_id = stack.trigger("replay/replay", {})
        outcome = stack.wait_for(flow_run_id, timeout=300)
        pids = all_pids(stack)
    assert_all_stopped(pids)

    assert outcome.state == "COMPLETED", outcome
    report = outcome.result
    assert report.articles == 5 and report.alerts_sent == 4
    assert sorted(d.category for d in report.developments) == SEED_CATEGORIES
    assert outcome.artifact is not None
    assert sorted(row["category"] for row in outcome.artifact) == SEED_CATEGORIES
    assert stored_categories(store) == SEED_CATEGORIES
    assert len(http.received) == 4, "the worker's WATCHFLOOR_NOTIFY_URLS reached the flow run"


def test_server_schedules_the_monitor_deployment(tmp_path: Path, used_prefect_home: Path) -> None:
    stack = recipe.Stack(
        server_home(tmp_path, used_prefect_home),
        scheduler=True,
        server_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1"},
    )
    with stack:
        deploy(stack)
        deadline = time.monotonic() + 90
        runs = stack.scheduled_runs("monitor/monitor")
        while not runs and time.monotonic() < deadline:
            time.sleep(1)
            runs = stack.scheduled_runs("monitor/monitor")
        server_log = stack.log_tail("server", 15)
        if runs:
            stack.pause_schedules("monitor/monitor")
            left = [r for r in stack.scheduled_runs("monitor/monitor") if r["state"] == "SCHEDULED"]
        pids = all_pids(stack)
    assert_all_stopped(pids)

    assert runs, f"the scheduler created no monitor runs; server log:\n{server_log}"
    assert all(r["auto_scheduled"] and r["state"] == "SCHEDULED" for r in runs)
    assert all(r["expected_start_time"].minute % 10 == 0 for r in runs)  # */10 * * * *
    assert left == [], "pausing the schedule removes the runs it had scheduled"
