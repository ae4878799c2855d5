"""The recipe of deploy/server/ on loopback: a Prefect server, the `watchfloor` process work pool,
the deployments of deploy/prefect.yaml, the scheduler's monitor runs, a worker, and a replay run
triggered through the server that stores the seed developments and alerts a local webhook; with
SQLite behind Prefect and Watchfloor, and with PostgreSQL behind both. Every process is gone
after. One stack a backend serves the module's tests. A server on SQLite starts in a Prefect
home used before (`used_prefect_home`: its database created), as on a machine where Prefect ran
already; the one on PostgreSQL creates its database itself."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class Deployed:
    """A stack of one backend, deployed, and what its scheduler did before its schedules were
    paused (so that no monitor run of the real feeds starts on the worker a test adds)."""

    stack: Any
    store: str
    runs: list[dict[str, Any]]
    left: list[dict[str, Any]]
    server_log: str


def databases(backend: str, folder: Path, request: pytest.FixtureRequest) -> tuple[str | None, str]:
    """(Prefect's database URL or None for its SQLite default, Watchfloor's store URL): both
    SQLite on one machine, or both PostgreSQL as at scale (two databases of one server)."""
    if backend == "sqlite":
        return None, f"sqlite:///{folder / 'store' / 'watchfloor.db'}"
    from tests.pgserver import create_database

    server = request.getfixturevalue("pg_server")
    suffix = folder.name.lower().replace("-", "_")[-20:]
    prefect = create_database(server, f"prefect_{suffix}")
    store = create_database(server, f"store_{suffix}")
    return prefect.replace("postgresql+psycopg://", "postgresql+asyncpg://"), store


def server_home(folder: Path, used_prefect_home: Path) -> Path:
    """The server's Prefect home: a copy of one used before."""
    home = folder / "prefect"
    shutil.copytree(used_prefect_home, home)
    return home


def observe_schedules(stack: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The monitor runs the scheduler created (waiting up to 90 s for the first), then its
    schedules paused: (the runs, those still scheduled after the pause)."""
    deadline = time.monotonic() + 90
    runs = stack.scheduled_runs("monitor/monitor")
    while not runs and time.monotonic() < deadline:
        time.sleep(1)
        runs = stack.scheduled_runs("monitor/monitor")
    stack.pause_schedules("monitor/monitor")
    left = [r for r in stack.scheduled_runs("monitor/monitor") if r["state"] == "SCHEDULED"]
    return runs, left


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def deployed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    used_prefect_home: Path,
) -> Iterator[Deployed]:
    """One stack a backend for the module's tests (a server, its pool and deployments cost
    ~9 CPU-s): deployed, its scheduler observed, its schedules paused. A server on SQLite starts
    in a copy of a used home; the one on PostgreSQL creates its database itself."""
    folder = tmp_path_factory.mktemp(f"stack-{request.param}")
    prefect_db, store = databases(request.param, folder, request)
    home = folder / "prefect" if prefect_db else server_home(folder, used_prefect_home)
    stack = recipe.Stack(
        home,
        prefect_db_url=prefect_db,
        scheduler=True,
        server_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1"},
    )
    with stack:
        deploy(stack)
        runs, left = observe_schedules(stack)
        yield Deployed(stack, store, runs, left, stack.log_tail("server", 15))
        pids = all_pids(stack)
    assert_all_stopped(pids)


def test_worker_runs_the_replay_deployment_and_stores_the_seed_developments(
    deployed: Deployed, http: HttpReceiver
) -> None:
    stack = deployed.stack
    # Secrets in the worker's environment, never in parameters.
    stack.watchfloor_env = {
        "WATCHFLOOR_NOTIFY_URLS": json.dumps([f"json://127.0.0.1:{http.port}/hook"]),
        "WATCHFLOOR_DATABASE_URL": deployed.store,
    }
    stack.start_worker()
    worker = stack.processes[-1]
    try:
        flow_run_id = stack.trigger("replay/replay", {})
        outcome = stack.wait_for(flow_run_id, timeout=300)
    finally:
        pids = [worker.pid, *recipe.descendants(worker.pid)]
        recipe.stop_tree(worker)
        stack.processes.remove(worker)
    assert_all_stopped(pids)

    assert outcome.state == "COMPLETED", outcome
    report = outcome.result
    assert report.articles == 5 and report.alerts_sent == 4
    assert sorted(d.category for d in report.developments) == SEED_CATEGORIES
    assert outcome.artifact is not None
    assert sorted(row["category"] for row in outcome.artifact) == SEED_CATEGORIES
    assert stored_categories(deployed.store) == SEED_CATEGORIES
    assert len(http.received) == 4, "the worker's WATCHFLOOR_NOTIFY_URLS reached the flow run"


def test_server_schedules_the_monitor_deployment(deployed: Deployed) -> None:
    runs = deployed.runs
    assert runs, f"the scheduler created no monitor runs; server log:\n{deployed.server_log}"
    assert all(r["auto_scheduled"] and r["state"] == "SCHEDULED" for r in runs)
    assert all(r["expected_start_time"].minute % 10 == 0 for r in runs)  # */10 * * * *
    assert deployed.left == [], "pausing the schedule removes the runs it had scheduled"
