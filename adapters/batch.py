"""Fetch many sources at once: bounded concurrency, per-host limits, one shared HTTP client,
and each source isolated, so one broken, slow or huge source never affects the others."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import zip_longest
from urllib.parse import urlsplit

from adapters.context import FetchContext
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
    default; see `adapters.netguard`). Pass a long-lived `context` to keep connections alive
    across calls (its own limits and policy then apply); otherwise one is made for this call.
    """
    states = states or {}
    if not specs:
        return []
    if context is None:
        with FetchContext(
            concurrency=concurrency, per_host=per_host, allow_networks=allow_networks
        ) as own:
            return _fetch_all(specs, states, own)
    return _fetch_all(specs, states, context)


def _fetch_all(
    specs: Sequence[SourceSpec], states: Mapping[str, SourceState], context: FetchContext
) -> list[FetchResult]:
    adapters: dict[str, SourceAdapter | UnknownKindError] = {}
    for kind in {spec.kind for spec in specs}:
        try:
            adapters[kind] = get_adapter(kind, context)
        except UnknownKindError as exc:
            adapters[kind] = exc
    results: list[FetchResult | None] = [None] * len(specs)
    workers = min(context.concurrency, len(specs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
        futures = {
            index: pool.submit(_fetch_one, adapters[specs[index].kind], specs[index], states)
            for index in _interleave_by_host(specs)
        }
        for index, future in futures.items():
            results[index] = future.result()  # _fetch_one never raises
    return [r for r in results if r is not None]


def _fetch_one(
    adapter: SourceAdapter | UnknownKindError,
    spec: SourceSpec,
    states: Mapping[str, SourceState],
) -> FetchResult:
    state = states.get(spec.name) or SourceState()
    if isinstance(adapter, UnknownKindError):
        return FetchResult(spec.name, "error", error=str(adapter), state=state)
    try:
        return adapter.fetch(spec, state)
    except Exception as exc:  # isolation: an adapter bug fails its own source, not the batch
        log.exception("%s: adapter %s crashed", spec.name, spec.kind)
        return FetchResult(
            spec.name,
            "error",
            error=f"adapter {spec.kind!r} crashed: {type(exc).__name__}: {exc}",
            transient=False,
            state=state,
        )


def _interleave_by_host(specs: Sequence[SourceSpec]) -> Iterable[int]:
    """Spec indexes ordered round-robin across hosts, so workers do not all queue on the
    per-host limit of one busy host while other hosts wait."""
    by_host: dict[str, list[int]] = defaultdict(list)
    for index, spec in enumerate(specs):
        by_host[str(urlsplit(spec.location).hostname or "")].append(index)
    for row in zip_longest(*by_host.values()):
        yield from (index for index in row if index is not None)
