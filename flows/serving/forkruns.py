"""`serve`'s flow runs forked from a warm process instead of spawned cold.

Prefect's runner starts each run of a served flow in a new `spawn` process, which imports Prefect,
SQLAlchemy, httpx, feedparser, Apprise and Watchfloor again and compiles the rules again: most of
the ~10-11 CPU-seconds that a no-change cycle over 1,000 feeds cost (measured under `serve`,
children's CPU per cycle). A multiprocessing *forkserver* is one single-threaded process, started
with `serve`, that imports all of that once and loads the rules and subscribers
(`flows.serving.warm`); each run is then a fork of it and finds them in memory
(`flows.context.config` still compares the rule files' digests, so an edited rule is compiled
again). Forking that process is safe where forking `serve` itself would not be: it runs no threads.

Everything else about a run stays Prefect's: `run_flow_in_subprocess` builds the child's
environment, settings and control channel as before. Two things differ: the process it starts comes
from the forkserver, and that process starts with `flows.serving.servedruns.run_polling_first`,
which polls before handing Prefect's own target to the engine (or completes a quiet run without it).
Prefect reads its multiprocessing context from `multiprocessing.get_context` in
`prefect.flow_engine`, so that module's `multiprocessing` name is pointed at a stand-in that answers
with the forkserver context, whose `Process` wraps the target. The children are the forkserver's,
not `serve`'s: Prefect cancels them by process id, which works the same.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
from collections.abc import Iterator, Mapping
from typing import Any

WARM_MODULE = "flows.serving.warm"
# The warm-up imports numpy (the store's SimHash), and OpenBLAS, which numpy loads, starts a
# thread per core at import unless told otherwise: the forkserver must run no threads, and no
# run multiplies matrices. A value the operator set wins.
SINGLE_THREADED_MATH = {"OPENBLAS_NUM_THREADS": "1"}


class _ForkserverModule:
    """Stands in for the `multiprocessing` module inside `prefect.flow_engine`, whose one use
    of it is `get_context("spawn")` when it starts a run: the answer is the forkserver, whose
    processes poll before the engine starts (`_PollingFirst`)."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self._context = _PollingFirst(context)

    def get_context(self, method: str | None = None) -> Any:
        return self._context

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing, name)


class _PollingFirst:
    """The forkserver context, whose processes run `flows.serving.servedruns.run_polling_first` with
    Prefect's engine entry and its arguments: a monitor run polls before the engine starts."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def Process(self, target: Any, args: tuple[Any, ...] = (), **options: Any) -> Any:  # noqa: N802  multiprocessing's name
        from flows.serving.servedruns import run_polling_first

        return self._context.Process(target=run_polling_first, args=(target, *args), **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


# Variables of the environment that a run reads from its own environment (which Prefect copies
# from `serve`'s into each run) and that the warm-up leaves alone: a forkserver warmed with
# another value is as warm for the run. The store's URL: the warm-up opens no store.
NOT_WARMED = frozenset({"WATCHFLOOR_DATABASE_URL"})

# The environment (without NOT_WARMED) that the forkserver kept running after a `serve` with
# `keep_warm` started with; None when none is kept.
_kept_warm: dict[str, str] | None = None


@contextlib.contextmanager
def runs_forked_from_a_warm_process(
    settings_environment: Mapping[str, str], *, keep_warm: bool = False
) -> Iterator[None]:
    """Inside, Prefect starts this process's flow runs as forks of a warm forkserver.

    The forkserver starts here, with this process's environment plus `settings_environment`
    (WATCHFLOOR_* variables naming the rules and subscribers the runs will load, so the
    warm-up loads the same ones, and settings meant for the runs only) and
    SINGLE_THREADED_MATH, and warms up while `serve` starts. Its forks inherit that
    environment; Prefect then copies this process's environment over it in each run. On exit
    Prefect spawns again and the forkserver is stopped, so a later `serve` in the same process
    (tests) gets one with its own environment. With `keep_warm` (one tick after another, in
    tests) it is left running instead, and a later call whose forkserver would start with the
    same environment (NOT_WARMED aside) forks its runs from it: a new one would load the same
    things again (~3 CPU-s), and each run checks what it finds against its files as a run of
    a long `serve` does. Any other environment stops it and starts one of its own.
    """
    import prefect.flow_engine

    global _kept_warm
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARM_MODULE])
    math = {name: value for name, value in SINGLE_THREADED_MATH.items() if name not in os.environ}
    warmed_with = _warmed_with(os.environ | math | dict(settings_environment))
    if _kept_warm is not None and _kept_warm != warmed_with:
        _stop_forkserver()
    _kept_warm = None
    with _environment(math | dict(settings_environment)):
        multiprocessing.forkserver.ensure_running()  # a kept one that still runs is used
    prefect.flow_engine.multiprocessing = _ForkserverModule(context)  # type: ignore[assignment]
    try:
        yield
    finally:
        prefect.flow_engine.multiprocessing = multiprocessing
        if keep_warm:
            _kept_warm = warmed_with
        else:
            _stop_forkserver()


def _warmed_with(environment: Mapping[str, str]) -> dict[str, str]:
    """What of `environment` a forkserver started with it is warmed by."""
    return {name: value for name, value in environment.items() if name not in NOT_WARMED}


def _stop_forkserver() -> None:
    """Stop this process's forkserver, if one runs."""
    # The only way to stop it short of this process exiting (CPython's own tests use it).
    multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """`variables` set in os.environ, then the previous values back."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
