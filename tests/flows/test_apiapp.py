"""The temporary API's app (flows.apiapp): Prefect's own, whose background worker polls less."""

from __future__ import annotations

import inspect
from datetime import timedelta

from docket import Docket
from prefect.server.api import background_workers, server

from flows.apiapp import UNHURRIED_CHECK, UnhurriedWorker


def test_prefects_background_worker_is_built_as_an_unhurried_worker() -> None:
    # What Prefect's `background_worker` calls when it builds the worker: a Prefect upgrade that
    # moves the construction elsewhere fails here instead of silently polling every 250 ms.
    called = inspect.getclosurevars(background_workers.background_worker.__wrapped__).globals[
        "Worker"
    ]
    assert called is UnhurriedWorker


def test_an_unhurried_worker_checks_every_two_seconds_unless_told_otherwise() -> None:
    docket = Docket(name="apiapp-test", url="memory://")
    worker = UnhurriedWorker(docket)
    assert worker.minimum_check_interval == worker.scheduling_resolution == UNHURRIED_CHECK
    told = UnhurriedWorker(docket, scheduling_resolution=timedelta(milliseconds=100))
    assert told.scheduling_resolution == timedelta(milliseconds=100)
    assert told.minimum_check_interval == UNHURRIED_CHECK


def test_fastapi_keeps_included_routes_in_place_so_final_would_only_collect_garbage() -> None:
    # What Prefect's `final` would drop when FastAPI copies routes (before 0.137): an upgrade or
    # downgrade that brings the copies back fails here, and `temporary_app` needs `final` again.
    assert server._FASTAPI_COPIES_ROUTES_ON_INCLUDE is False
