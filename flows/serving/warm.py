"""Importing this module warms a process for monitor runs: what `serve`'s forkserver loads
once before it forks each run (see flows.serving.forkruns).

It imports the monitor flow with everything a run uses (Prefect, SQLAlchemy, httpx, feedparser,
Apprise, the detection engine), loads the rules and subscribers the settings name into
`flows.context.config`'s cache, parses the sources file into `flows.context.sourcesfile`'s, builds
the TLS contexts of the fetch clients and of Prefect's clients and the validators of Prefect's
models that wait for their first use, then freezes what it loaded out of the garbage collector's
sight (`gc.freeze`). A configuration that does not load is left for the run itself to report, with
its file and line.
"""

# ruff: noqa: E402  (the imports stay below gc.disable(): see there)
from __future__ import annotations

import gc

# No cyclic collection while the warm-up loads (enabled again at the end, once it is frozen):
# the objects it makes live as long as the forkserver, and its allocations set off full
# collections that walked them again and again: the warm-up took 2.51 -> 2.02 CPU-s (medians
# of 5, `import flows.serving.warm`, idle machine). What was cyclic garbage meanwhile is frozen with
# the rest and kept (~150,000 objects, ~5 MB of the forkserver's 166 MB, once; a collection
# before the freeze returned none of it to the system and cost back half the gain).
gc.disable()

import contextlib
import logging
from typing import Any

import anyio._core._eventloop
import certifi

# Prefect imports some modules only when a run needs them; imported here, each run finds them:
# its flow engine (and the observer it starts for a deployment's run), the task engine, what a
# task's submission imports (visualization), and the emoji table of Prefect's console log
# handler (rich). ~50 ms of CPU a run (py-spy).
import prefect._internal.observers
import prefect._internal.version_checking
import prefect.client.orchestration
import prefect.flow_engine
import prefect.task_engine
import prefect.utilities.visualization  # noqa: F401  (see above)
import pydantic
import rich._emoji_codes  # noqa: F401  (see above)
import sqlalchemy.orm
from prefect.settings import PREFECT_API_SSL_CERT_FILE

import core.simhashes  # noqa: F401  numpy: imported by a run's store, ~0.2 CPU-s a run (py-spy)
import notify  # noqa: F401  Apprise: imported by a run's send stage
from adapters.net.context import shared_ssl_context
from db.engine import head_revision
from flows import monitor  # noqa: F401  the flow a run executes
from flows.context.config import load_run_config, region_names
from flows.context.settings import load_settings
from flows.context.sourcesfile import load_source_specs
from flows.prefectapi import tls
from flows.serving import servedruns  # noqa: F401  what a run's process starts with

# Prefect's clients share one verifying TLS context per CA file (`flows.prefectapi.tls`, installed
# by the monitor flow's modules): built here, the forks share it.
if tls.install():
    tls.verified_context(PREFECT_API_SSL_CERT_FILE.value() or certifi.where())  # as Prefect picks
shared_ssl_context()
try:
    settings = load_settings()
    config = load_run_config(settings)
    # Parsing 1,000 sources costs a run ~0.5 s before its first fetch; forks inherit this parse
    # and check only that the file is unchanged.
    load_source_specs(settings.sources_file, region_names(config.ruleset))
except Exception as exc:  # the run reports it properly; a warm-up must not stop the forkserver
    logging.getLogger(__name__).debug("warm-up could not load the configuration: %s", exc)

# Work every run would otherwise redo after the fork (~0.25 s of CPU a run, py-spy): SQLAlchemy
# configures the ORM mappers at their first use (the sources' health update), and anyio
# imports its asyncio backend when Prefect's engine first asks for it.
sqlalchemy.orm.configure_mappers()
anyio._core._eventloop.get_async_backend("asyncio")
# A run checks that the store is at the schema's head: the head is read from the migration
# scripts once, here.
head_revision()


def _subclasses(cls: type[Any]) -> set[type[Any]]:
    found: set[type[Any]] = set()
    waiting = [cls]
    while waiting:
        for subclass in waiting.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                waiting.append(subclass)
    return found


def complete_pydantic_models() -> None:
    """Build the validators of the pydantic models that wait for their first use to build them
    (Prefect's client schemas, events and artifacts refer to one another before all are
    defined): each run would otherwise build those it uses, again, after the fork. One that
    cannot be completed now is left to complete itself when used, as before."""
    for model in _subclasses(pydantic.BaseModel):
        if not model.__pydantic_complete__:
            with contextlib.suppress(Exception):
                model.model_rebuild()


complete_pydantic_models()

# Everything loaded above lives as long as the forkserver. Frozen, the garbage collector of
# each forked run never walks it: a full collection in a run would otherwise visit every
# inherited object and, by writing their headers, copy their memory pages into the run.
gc.freeze()
gc.enable()  # the forks collect their own garbage (flows.serving.servedruns makes sure of it too)
