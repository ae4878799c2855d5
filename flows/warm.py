"""Importing this module warms a process for monitor runs: what `serve`'s forkserver loads
once before it forks each run (see flows.forkruns).

It imports the monitor flow with everything a run uses (Prefect, SQLAlchemy, httpx,
feedparser, Apprise, the detection engine), loads the rules and subscribers the settings name
into `flows.config`'s cache, parses the sources file into `flows.sourcesfile`'s, builds the TLS
contexts of the fetch clients and of Prefect's clients and the validators of Prefect's models
that wait for their first use, then freezes what it loaded out of the garbage collector's sight
(`gc.freeze`). A configuration that does not load is left for the run itself to report, with
its file and line.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import ssl
import types
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
import prefect.utilities.visualization
import pydantic
import rich._emoji_codes  # noqa: F401  (see above)
import sqlalchemy.orm
from prefect.settings import PREFECT_API_SSL_CERT_FILE

import core.simhashes  # noqa: F401  numpy: imported by a run's store, ~0.2 CPU-s a run (py-spy)
import notify  # noqa: F401  Apprise: imported by a run's send stage
from adapters.context import shared_ssl_context
from db.engine import head_revision
from flows import (
    monitor,  # noqa: F401  the flow a run executes
    servedruns,  # noqa: F401  what a run's process starts with
)
from flows.config import load_run_config, region_names
from flows.settings import load_settings
from flows.sourcesfile import load_source_specs


class _SslWithSharedVerifiedContexts(types.ModuleType):
    """The `ssl` module as Prefect's client modules see it: `create_default_context(cafile=F)`,
    the verifying context Prefect builds for every client it makes, is built once per CA file.
    Every other call and name is `ssl`'s own; a context Prefect goes on to change (its
    skip-verify setting builds one without a CA file, then turns verification off) is never
    shared."""

    def __init__(self) -> None:
        super().__init__("ssl", ssl.__doc__)

    def __getattr__(self, name: str) -> Any:
        return getattr(ssl, name)

    @staticmethod
    def create_default_context(
        purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH,
        *,
        cafile: str | None = None,
        capath: str | None = None,
        cadata: str | bytes | None = None,
    ) -> ssl.SSLContext:
        if purpose is ssl.Purpose.SERVER_AUTH and cafile and capath is None and cadata is None:
            return verified_context(cafile)
        return ssl.create_default_context(purpose, cafile=cafile, capath=capath, cadata=cadata)


@functools.cache
def verified_context(cafile: str) -> ssl.SSLContext:
    """The one verifying TLS context for `cafile` that Prefect's clients share in this process."""
    return ssl.create_default_context(cafile=cafile)


# Prefect builds a verifying TLS context for each client it makes (a run's engine, its log
# worker, its label and its artifact, and the server-version check), loading the CA bundle each
# time (~25 ms of CPU) though the temporary API is plain HTTP on loopback. Built once here, the
# forks share it. Prefect's clients all take the same HTTP/2 setting, so the protocols httpcore
# sets on the context agree. A Prefect whose modules no longer hold `ssl` under that name is
# left as it is: slower, never different (tests/flows/test_forked_runs.py fails loudly then).
# The fetch clients use a context of their own (`shared_ssl_context`, ~60 ms).
_PREFECT_SSL_USERS = (prefect.client.orchestration, prefect._internal.version_checking)
if all(getattr(module, "ssl", None) is ssl for module in _PREFECT_SSL_USERS):
    _shared = _SslWithSharedVerifiedContexts()
    for module in _PREFECT_SSL_USERS:
        module.ssl = _shared  # type: ignore[attr-defined]
    verified_context(PREFECT_API_SSL_CERT_FILE.value() or certifi.where())  # as Prefect picks
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
