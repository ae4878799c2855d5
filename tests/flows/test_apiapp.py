"""The temporary API's app (flows.prefectapi.app): Prefect's own, whose background worker polls
less."""

from __future__ import annotations

import inspect
import sqlite3
import threading
import time
from datetime import timedelta

import pytest

# Prefect's server package, docket and flows.prefectapi.app (which imports them) are imported by the
# tests that need them: at the top of this module, every test process would import them when it
# collects the suite (~1 CPU-s), though only the API process needs them.


def test_prefects_background_worker_is_built_as_an_unhurried_worker() -> None:
    from prefect.server.api import background_workers

    from flows.prefectapi.app import UnhurriedWorker

    # What Prefect's `background_worker` calls when it builds the worker: a Prefect upgrade that
    # moves the construction elsewhere fails here instead of silently polling every 250 ms.
    called = inspect.getclosurevars(background_workers.background_worker.__wrapped__).globals[
        "Worker"
    ]
    assert called is UnhurriedWorker


def test_an_unhurried_worker_checks_every_two_seconds_unless_told_otherwise() -> None:
    from docket import Docket

    from flows.prefectapi.app import UNHURRIED_CHECK, UnhurriedWorker

    docket = Docket(name="apiapp-test", url="memory://")
    worker = UnhurriedWorker(docket)
    assert worker.minimum_check_interval == worker.scheduling_resolution == UNHURRIED_CHECK
    told = UnhurriedWorker(docket, scheduling_resolution=timedelta(milliseconds=100))
    assert told.scheduling_resolution == timedelta(milliseconds=100)
    assert told.minimum_check_interval == UNHURRIED_CHECK


def test_fastapi_keeps_included_routes_in_place_so_final_would_only_collect_garbage() -> None:
    from prefect.server.api import server

    import flows.prefectapi.app  # noqa: F401  the server as the temporary API has it

    # What Prefect's `final` would drop when FastAPI copies routes (before 0.137): an upgrade or
    # downgrade that brings the copies back fails here, and `temporary_app` needs `final` again.
    assert server._FASTAPI_COPIES_ROUTES_ON_INCLUDE is False


@pytest.mark.usefixtures("prefect_harness")
def test_labels_written_while_another_write_commits_are_not_refused() -> None:
    # Another connection holds the API database's write lock and commits while the label
    # request waits: Prefect's own route (DEFERRED: it read the run before the commit) answered
    # 503 (SQLITE_BUSY_SNAPSHOT) and its client asked again ~2 s later; the temporary API's
    # route waits for the lock, then writes.
    import httpx
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from tests.prefectdb import harness_database

    @flow(name="apiapp-labels")
    def labelled() -> None:
        return None

    with get_client(sync_client=True) as client:
        run_id = client.create_flow_run(labelled).id
    writer = sqlite3.connect(
        harness_database(), timeout=30, isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE apiapp_probe (n INTEGER)")
    committed = threading.Timer(1.0, writer.execute, args=("COMMIT",))
    committed.start()
    try:
        with httpx.Client(base_url=str(PREFECT_API_URL.value()), timeout=30) as api:
            time.sleep(0.3)  # the request reaches the database while the lock is held
            answer = api.patch(f"/flow_runs/{run_id}/labels", json={"watchfloor.probe": "yes"})
    finally:
        committed.join()
        writer.execute("DROP TABLE apiapp_probe")
        writer.close()
    assert answer.status_code == 204, answer.text
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(run_id).labels["watchfloor.probe"] == "yes"
