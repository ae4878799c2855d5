"""Fetch many sources at once: bounded concurrency paced by what the process is doing, per-host
limits, shared keep-alive clients, and each source isolated, so one broken, slow or huge source
never affects the others."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from itertools import islice, zip_longest
from queue import Empty, SimpleQueue
from urllib.parse import urlsplit

from adapters.net.context import FetchContext
from adapters.registry import SourceAdapter, UnknownKindError, get_adapter
from adapters.workers import LOOK_S, WorkerPace
from core.model import FetchResult, SourceSpec, SourceState

log = logging.getLogger(__name__)

# While gathering a group, how long the consumer sleeps between looks at what is in: waking at
# each completion instead cost ~0.07 CPU-s over 1,000 unchanged loopback feeds, and made the
# worker take turns with it for the interpreter at every fetch.
GATHER_STEP_S = 0.01


def fetch_many(
    specs: Sequence[SourceSpec],
    states: Mapping[str, SourceState] | None = None,
    *,
    concurrency: int = 16,
    per_host: int = 4,
    allow_networks: Sequence[str] = (),
    context: FetchContext | None = None,
) -> list[FetchResult]:
    """Fetch every source in `specs` (states by source name; missing means never fetched) and
    return one FetchResult per spec, in the same order. Never raises for a source's failure:
    an adapter that crashes gives an "error" result for that source only.

    At most `concurrency` sources are fetched at once: as many as keep the process busy, from
    one upwards (`adapters.workers`). `allow_networks` opens private networks, addresses or host
    names to fetches (refused by default; see `adapters.net.guard`). Pass a long-lived
    `context` to keep connections alive across calls (its own limits and policy then apply);
    otherwise one is made for this call.
    """
    results: list[FetchResult | None] = [None] * len(specs)
    stream = fetch_stream(
        specs,
        states,
        concurrency=concurrency,
        per_host=per_host,
        allow_networks=allow_networks,
        context=context,
        window=len(specs),
    )
    for group in stream:
        for index, result in group:
            results[index] = result
    return [r for r in results if r is not None]


def fetch_stream(
    specs: Sequence[SourceSpec],
    states: Mapping[str, SourceState] | None = None,
    *,
    window: int,
    gather_s: float = 0.0,
    concurrency: int = 16,
    per_host: int = 4,
    allow_networks: Sequence[str] = (),
    context: FetchContext | None = None,
) -> Iterator[list[tuple[int, FetchResult]]]:
    """Fetch `specs` like `fetch_many`, yielding results as they complete: groups of
    (index in `specs`, result), each group what finished since the last one.

    At most `window` sources are in flight or waiting to be consumed, so the memory held is
    bounded by the window, not by `specs`, and a stalled source holds one place of it, never
    the others. After a first completion, up to `gather_s` seconds are spent collecting more
    before yielding, so a consumer that writes each group pays its fixed cost per group rather
    than per source. Closing the generator early cancels the sources not yet started.
    """
    states = states or {}
    if not specs:
        return
    if context is None:
        with FetchContext(
            concurrency=concurrency, per_host=per_host, allow_networks=allow_networks
        ) as own:
            yield from _stream(specs, states, own, max(1, window), gather_s)
        return
    yield from _stream(specs, states, context, max(1, window), gather_s)


def _stream(
    specs: Sequence[SourceSpec],
    states: Mapping[str, SourceState],
    context: FetchContext,
    window: int,
    gather_s: float,
) -> Iterator[list[tuple[int, FetchResult]]]:
    by_kind = _adapters_for(specs, context)
    order = iter(_interleave_by_host(specs))

    def fetch(index: int) -> FetchResult:
        spec = specs[index]
        return _fetch_one(by_kind[spec.kind], spec, states)

    # Workers take sources from `todo` and put what each gives in `finished`: as many workers as
    # keep the process busy (`adapters.workers`). Taking completions from a queue costs the same
    # whatever the number in flight (concurrent.futures.wait registers on every pending future
    # at each call, which made a 1,000-source fetch quadratic).
    todo: SimpleQueue[int | None] = SimpleQueue()
    finished: SimpleQueue[tuple[int, FetchResult]] = SimpleQueue()
    pace = WorkerPace(min(context.concurrency, len(specs)))
    pool = ThreadPoolExecutor(max_workers=pace.ceiling, thread_name_prefix="fetch")
    workers: list[Future[None]] = []
    outstanding = 0  # sources queued, in flight, or done and not handed over yet
    try:
        while True:
            for index in islice(order, window - outstanding):
                todo.put(index)
                outstanding += 1
            if not outstanding:
                return
            while len(workers) < min(pace.workers(), outstanding):
                workers.append(pool.submit(_work, todo, finished, fetch))
            done = _next_done(finished, outstanding, gather_s)
            _raise_for_a_failed_worker(workers)
            if done:
                outstanding -= len(done)
                yield done
    finally:
        _drop_queued(todo)  # closed early: what has not started never does
        for _ in workers:
            todo.put(None)
        pool.shutdown(wait=True)


def _work(
    todo: SimpleQueue[int | None],
    finished: SimpleQueue[tuple[int, FetchResult]],
    fetch: Callable[[int], FetchResult],
) -> None:
    """A worker: fetch the sources `todo` names until it names None."""
    while (index := todo.get()) is not None:
        finished.put((index, fetch(index)))


def _raise_for_a_failed_worker(workers: Sequence[Future[None]]) -> None:
    """A worker ends only when told to (after the batch), or by raising: raise what it raised
    (`_fetch_one` turns an adapter's failure into a result, so this is a bug of ours)."""
    for worker in workers:
        if worker.done():
            worker.result()


def _drop_queued(todo: SimpleQueue[int | None]) -> None:
    with suppress(Empty):
        while True:
            todo.get_nowait()


def _next_done(
    finished: SimpleQueue[tuple[int, FetchResult]], outstanding: int, gather_s: float
) -> list[tuple[int, FetchResult]]:
    """The results in once one is (none when none is within a look of the worker pace), plus
    those finishing within `gather_s` after it (never waiting once all `outstanding` are in)."""
    try:
        done = [finished.get(timeout=LOOK_S)]
    except Empty:
        return []
    deadline = time.monotonic() + gather_s
    while len(done) < outstanding:
        try:
            done.append(finished.get_nowait())
            continue
        except Empty:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(left, GATHER_STEP_S))
    return done


def _adapters_for(
    specs: Sequence[SourceSpec], context: FetchContext
) -> dict[str, SourceAdapter | UnknownKindError]:
    """One adapter per kind present; an unknown kind stands as its error, failing its sources."""
    adapters: dict[str, SourceAdapter | UnknownKindError] = {}
    for kind in {spec.kind for spec in specs}:
        try:
            adapters[kind] = get_adapter(kind, context)
        except UnknownKindError as exc:
            adapters[kind] = exc
    return adapters


def _fetch_one(
    adapter: SourceAdapter | UnknownKindError,
    spec: SourceSpec,
    states: Mapping[str, SourceState],
) -> FetchResult:
    state = states.get(spec.name) or SourceState()
    if isinstance(adapter, UnknownKindError):
        return FetchResult(spec.name, "error", error=str(adapter))
    try:
        return adapter.fetch(spec, state)
    except Exception as exc:  # isolation: an adapter bug fails its own source, not the batch
        log.exception("%s: adapter %s crashed", spec.name, spec.kind)
        return FetchResult(
            spec.name,
            "error",
            error=f"adapter {spec.kind!r} crashed: {type(exc).__name__}: {exc}",
            transient=False,
        )


def _interleave_by_host(specs: Sequence[SourceSpec]) -> Iterable[int]:
    """Spec indexes ordered round-robin across hosts, so workers do not all queue on the
    per-host limit of one busy host while other hosts wait."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for index, spec in enumerate(specs):
        by_host[str(urlsplit(spec.location).hostname or "")].append(index)
    for row in zip_longest(*by_host.values()):
        yield from (index for index in row if index is not None)
