"""Fetch many sources at once: bounded concurrency, per-host limits, one shared HTTP client,
and each source isolated, so one broken, slow or huge source never affects the others."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice, zip_longest
from queue import Empty, SimpleQueue
from urllib.parse import urlsplit

from adapters.net.context import FetchContext
from adapters.registry import SourceAdapter, UnknownKindError, get_adapter
from core.model import FetchResult, SourceSpec, SourceState

log = logging.getLogger(__name__)


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

    `allow_networks` opens private networks, addresses or host names to fetches (refused by
    default; see `adapters.net.guard`). Pass a long-lived `context` to keep connections alive
    across calls (its own limits and policy then apply); otherwise one is made for this call.
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
    pool = ThreadPoolExecutor(
        max_workers=min(context.concurrency, len(specs)), thread_name_prefix="fetch"
    )
    # Each future puts itself here when done: taking completions from a queue costs the same
    # whatever the number in flight (concurrent.futures.wait registers on every pending future
    # at each call, which made a 1,000-source fetch quadratic).
    finished: SimpleQueue[Future[FetchResult]] = SimpleQueue()
    running: dict[Future[FetchResult], int] = {}
    try:
        while True:
            for index in islice(order, window - len(running)):
                spec = specs[index]
                future = pool.submit(_fetch_one, by_kind[spec.kind], spec, states)
                running[future] = index
                future.add_done_callback(finished.put)
            if not running:
                return
            done = _next_done(finished, len(running), gather_s)
            # _fetch_one never raises: result() only hands its FetchResult over.
            yield [(running.pop(future), future.result()) for future in done]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _next_done(
    finished: SimpleQueue[Future[FetchResult]], outstanding: int, gather_s: float
) -> list[Future[FetchResult]]:
    """The futures done once at least one is, plus those finishing within `gather_s` after it
    (never waiting once all `outstanding` are in)."""
    done = [finished.get()]
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
        try:
            done.append(finished.get(timeout=left))
        except Empty:
            break
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
