"""Prefect's API app as Watchfloor's temporary API runs it (`flows.prefectapi.server`).

It is Prefect's own app (`prefect.server.api.server.create_app`), built as Prefect's temporary
API subprocess builds it but not `final` (`temporary_app` says why), with three changes: the
server's background-task worker (a docket `Worker`) looks for due tasks every 2 s instead of
every 250 ms, its in-memory Redis waits for pub/sub messages on the event loop instead of
in a thread (`flows.prefectapi.pubsub`), and a flow run's labels are written in an IMMEDIATE
transaction (`update_flow_run_labels_at_once`).
Idle, that polling is most of what the temporary API costs: `serve` keeps the API up for as
long as it serves, and on this 2-core machine it took 0.84 CPU-s a minute with no client,
0.53 with the slower polling (measured with /proc over 60 s, bench/servecpu.py measures it with
each cycle). What the worker runs (marking late runs, cleaning up after cancelled runs,
vacuuming) is housekeeping that does not need sub-second promptness.

Prefect builds the worker inside `prefect.server.api.background_workers` with docket's
defaults and has no setting for them, so this module gives that module a `Worker` with other
defaults before the app starts. Only `flows.prefectapi.server` imports this module (and with it
Prefect's server), when a command starts its temporary API. Pinned: prefect 3.8,
pydocket 0.27 (constraints.txt); tests/flows/test_apiapp.py checks the swap still takes.
"""

# ruff: noqa: E402  (the imports stay between gc.disable() and gc.enable(): see there)
from __future__ import annotations

import gc

# No cyclic collection while Prefect's server package loads: its allocations set off full
# collections that walked every object loaded so far, again and again, and what it loads stays
# loaded for as long as the API serves. In the API process of the test sessions (then `python
# -m uvicorn`, tests/prefectdb.py), a fresh interpreter that imports all of Prefect here, the
# import took 2.43 -> 2.2 CPU-s (medians of 3, idle machine). Not frozen here (a command's own
# API is, by flows.prefectapi.server, and so is the tests' API process, tests.apiprocess): a test
# process that imports this module would be frozen with it.
_COLLECTING = gc.isenabled()
gc.disable()

from datetime import timedelta
from typing import Any
from uuid import UUID

from docket import Docket, Worker
from fastapi import Body, Depends, FastAPI, Path, status
from fastapi.routing import APIRoute
from prefect.server import models
from prefect.server.api import background_workers
from prefect.server.api.server import create_app
from prefect.server.database import PrefectDBInterface, provide_database_interface
from starlette.routing import Mount

import flows.prefectapi.pubsub  # noqa: F401  (its pub/sub waits on the loop: see the module)

if _COLLECTING:
    gc.enable()

__all__ = ["UNHURRIED_CHECK", "UnhurriedWorker", "temporary_app", "update_flow_run_labels_at_once"]

UNHURRIED_CHECK = timedelta(seconds=2)


class UnhurriedWorker(Worker):
    """A docket worker that checks for due and new tasks every UNHURRIED_CHECK by default."""

    def __init__(self, docket: Docket, **options: Any) -> None:
        options.setdefault("minimum_check_interval", UNHURRIED_CHECK)
        options.setdefault("scheduling_resolution", UNHURRIED_CHECK)
        super().__init__(docket, **options)


background_workers.Worker = UnhurriedWorker  # type: ignore[assignment, misc]


def temporary_app() -> FastAPI:
    """Prefect's app as its own temporary API subprocess builds it (ephemeral: no UI, only the
    services an ephemeral server runs), but not `final`.

    `final` tells Prefect no other app will be built in the process, so that it may drop the
    routers' routes: FastAPI before 0.137 copied them into the app (~50 MB). FastAPI 0.137 and
    later keeps them in place (pinned 0.150: constraints.txt; tests/flows/test_apiapp.py checks
    Prefect sees that), and `final` is left with one thing it does: a full `gc.collect()` after
    the routers are included, ~0.15 CPU-s in the CLI's process that reclaims nothing."""
    app = create_app(ephemeral=True)
    _route_labels_at_once(app)
    return app


async def update_flow_run_labels_at_once(
    flow_run_id: UUID = Path(..., description="The flow run id", alias="id"),
    labels: dict[str, Any] = Body(..., description="The labels to update"),
    db: PrefectDBInterface = Depends(provide_database_interface),
) -> None:
    """Prefect's `PATCH /flow_runs/{id}/labels`, in an IMMEDIATE transaction.

    Prefect's own opens it DEFERRED, reads the run's labels, then writes them. On SQLite (the
    temporary API's database, in WAL mode) a write another connection committed in between
    makes the upgrade fail at once, SQLITE_BUSY_SNAPSHOT, which the busy timeout does not
    cover: Prefect answers 503 and its client asks again ~2 s later. A monitor cycle labels
    its run while the run's events are being written (`flows.monitor.run_process_recorded`),
    and waited those 2 s at its end in about one no-change cycle in five. IMMEDIATE takes the
    write lock first, waiting for it as any write does (Prefect's state-setting routes do the
    same with `with_for_update`)."""
    async with db.session_context(begin_transaction=True, with_for_update=True) as session:
        # Prefect's `db_injector` types the model function as returning an unknown type.
        await models.flow_runs.update_flow_run_labels(  # type: ignore[attr-defined]
            session=session, flow_run_id=flow_run_id, labels=labels
        )


def _route_labels_at_once(app: FastAPI) -> None:
    """Put `update_flow_run_labels_at_once` before Prefect's route of the same path in the API
    app mounted at /api: routes are matched in order, so Prefect's is never reached."""
    [api] = [r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api"]
    assert isinstance(api, FastAPI)  # Prefect mounts its API app there
    route = APIRoute(
        "/flow_runs/{id:uuid}/labels",
        update_flow_run_labels_at_once,
        methods=["PATCH"],
        status_code=status.HTTP_204_NO_CONTENT,
    )
    api.router.routes.insert(0, route)
