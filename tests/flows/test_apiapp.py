"""The temporary API's app (flows.apiapp): Prefect's own, whose background worker polls less."""

from __future__ import annotations

import inspect
from datetime import timedelta

# Prefect's server package, docket and flows.apiapp (which imports them) are imported by the
# tests that need them: at the top of this module, every test process would import them when it
# collects the suite (~1 CPU-s), though only the API process needs them.


def test_prefects_background_worker_is_built_as_an_unhurried_worker() -> None:
    from prefect.server.api import background_workers

    from flows.apiapp import UnhurriedWorker

    # What Prefect's `background_worker` calls when it builds the worker: a Prefect upgrade that
    # moves the construction elsewhere fails here instead of silently polling every 250 ms.
    called = inspect.getclosurevars(background_workers.background_worker.__wrapped__).globals[
        "Worker"
    ]
    assert called is UnhurriedWorker


def test_an_unhurried_worker_checks_every_two_seconds_unless_told_otherwise() -> None:
    from docket import Docket

    from flows.apiapp import UNHURRIED_CHECK, UnhurriedWorker

    docket = Docket(name="apiapp-test", url="memory://")
    worker = UnhurriedWorker(docket)
    assert worker.minimum_check_interval == worker.scheduling_resolution == UNHURRIED_CHECK
    told = UnhurriedWorker(docket, scheduling_resolution=timedelta(milliseconds=100))
    assert told.scheduling_resolution == timedelta(milliseconds=100)
    assert told.minimum_check_interval == UNHURRIED_CHECK


def test_fastapi_keeps_included_routes_in_place_so_final_would_only_collect_garbage() -> None:
    from prefect.server.api import server

    import flows.apiapp  # noqa: F401  the server as the temporary API has it

    # What Prefect's `final` would drop when FastAPI copies routes (before 0.137): an upgrade or
    # downgrade that brings the copies back fails here, and `temporary_app` needs `final` again.
    assert server._FASTAPI_COPIES_ROUTES_ON_INCLUDE is False
