"""The registry and the batch helpers: kinds, unknown kinds, isolation of crashing adapters,
results streamed as they complete within a window."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import httpx
import pytest

import adapters.registry as registry
from adapters import (
    FetchContext,
    UnknownKindError,
    check_options,
    describe_kinds,
    fetch_many,
    fetch_stream,
    get_adapter,
    kinds,
    register,
)
from adapters.net.fetch import HttpOptions
from core.model import FetchResult, SourceSpec, SourceState
from tests.adapters.adapterkit import LOOPBACK, SEEDS, rss_spec, state_after
from tests.adapters.feedserver import FeedServer


@dataclass(frozen=True)
class _NoOptions:
    """A kind with no options."""


class _Crashing:
    kind = "crashing"
    location_key = "url"
    options_type = _NoOptions

    def __init__(self, context: FetchContext | None = None) -> None:
        pass

    @staticmethod
    def check_options(options: Mapping[str, Any]) -> list[str]:
        return [f"unknown option {key!r}" for key in options]

    def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
        raise RuntimeError("adapter bug")


def test_builtin_kinds() -> None:
    assert kinds() == ("rss", "seedfiles")


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UnknownKindError, match=r"unknown source kind 'gopher' \(known: rss, "):
        get_adapter("gopher")


def test_register_refuses_a_second_adapter_for_a_kind() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register("rss")(_Crashing)


def test_register_adds_a_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_ADAPTERS", dict(registry._ADAPTERS))
    register("crashing")(_Crashing)
    assert "crashing" in kinds()
    assert isinstance(get_adapter("crashing"), _Crashing)


def test_register_refuses_a_kind_that_does_not_declare_its_location_and_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "_ADAPTERS", dict(registry._ADAPTERS))

    class _Bare:
        kind = "bare"

        def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
            return FetchResult(spec.name, "ok")

    with pytest.raises(TypeError, match="'bare': _Bare lacks location_key, options_type, check_"):
        register("bare")(_Bare)

    class _Gopher(_Crashing):
        location_key = "gopher"

    with pytest.raises(TypeError, match="location_key must be one of"):
        register("gopher")(_Gopher)
    assert kinds() == ("rss", "seedfiles")


def test_each_kind_describes_its_location_and_the_options_users_set() -> None:
    described = {info.kind: info for info in describe_kinds()}
    assert sorted(described) == ["rss", "seedfiles"]
    rss, seeds = described["rss"], described["seedfiles"]
    assert (rss.location_key, seeds.location_key) == ("url", "path")
    assert rss.summary.startswith("RSS, RSS 1.0 (RDF), Atom and JSON Feed")
    options = {o.name: o for o in rss.options}
    assert [o.name for o in rss.options] == [f.name for f in fields(HttpOptions)]
    assert (options["total_timeout_s"].type, options["total_timeout_s"].default) == (
        "a number > 0",
        60.0,
    )
    assert options["retries"].type == "a whole number >= 0"
    # Fields Watchfloor sets itself are not offered as options.
    assert [o.name for o in seeds.options] == [
        "reference_date",
        "reference_year",
        "keep_original",
        "max_file_bytes",
    ]
    assert {o.name: o.type for o in seeds.options}["reference_date"] == "a string or null"


def test_check_options_per_kind() -> None:
    assert check_options("rss", {"max_bytes": 10, "retries": 0}) == []
    assert check_options("rss", {"retries": True}) == [
        "option 'retries' must be a whole number >= 0, not True"
    ]
    assert check_options("rss", {"max_bytes": 0, "colour": "red"}) == [
        "option 'max_bytes' must be greater than 0, not 0",
        "unknown option 'colour' (known: backoff_s, connect_timeout_s, max_bytes, max_redirects, "
        "max_retry_wait_s, read_timeout_s, retries, total_timeout_s)",
    ]
    assert check_options("seedfiles", {"reference_date": "yesterday"}) == [
        "option 'reference_date' must be a date like 2026-01-28"
    ]


def test_fetch_many_isolates_crashes_and_unknown_kinds(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "_ADAPTERS", dict(registry._ADAPTERS))
    register("crashing")(_Crashing)
    specs = [
        SourceSpec("boom", "crashing", "anything"),
        rss_spec("feed", server.url("/feed/rss2_korea.xml")),
        SourceSpec("mystery", "gopher", "gopher://x"),
        SourceSpec("seeds", "seedfiles", str(SEEDS)),
    ]
    results = fetch_many(specs, {"feed": SourceState()}, allow_networks=LOOPBACK)
    assert [r.source for r in results] == ["boom", "feed", "mystery", "seeds"]
    boom, feed, mystery, seeds = results
    assert boom.status == "error" and "adapter 'crashing' crashed: RuntimeError: adapter bug" in (
        boom.error or ""
    )
    assert mystery.status == "error" and "unknown source kind 'gopher'" in (mystery.error or "")
    assert feed.status == "ok" and len(feed.articles) == 4
    assert seeds.status == "ok" and len(seeds.articles) == 5


def test_fetch_many_of_nothing() -> None:
    assert fetch_many([], {}) == []


def test_fetch_many_uses_states_by_source_name(server: FeedServer) -> None:
    spec = rss_spec("feed", server.url("/feed/rdf_taiwan.xml"))
    (first,) = fetch_many([spec], allow_networks=LOOPBACK)
    (second,) = fetch_many(
        [spec], {"feed": state_after(first), "other": SourceState()}, allow_networks=LOOPBACK
    )
    assert (first.status, second.status) == ("ok", "not_modified")


def test_fetch_many_runs_sources_concurrently(server: FeedServer) -> None:
    seen: set[str] = set()
    lock = threading.Lock()

    class _Recording(_Crashing):
        kind = "recording"

        def __init__(self, context: FetchContext | None = None) -> None:
            pass

        def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
            with lock:
                seen.add(threading.current_thread().name)
            threading.Event().wait(0.05)
            return FetchResult(spec.name, "ok")

    registry._ADAPTERS["recording"] = _Recording
    try:
        results = fetch_many([SourceSpec(f"r{i}", "recording", f"x{i}") for i in range(8)],
                             concurrency=4)  # fmt: skip
    finally:
        del registry._ADAPTERS["recording"]
    assert all(r.status == "ok" for r in results)
    assert len(seen) == 4


def test_a_fetch_that_escapes_the_isolation_fails_the_batch_instead_of_hanging_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An adapter's exception is its source's result; anything beyond Exception ends its worker
    # thread, and the batch raises it rather than wait for a result that never comes.
    class _Exiting(_Crashing):
        kind = "exiting"

        def fetch(self, spec: SourceSpec, state: SourceState) -> FetchResult:
            raise SystemExit("worker bug")

    monkeypatch.setattr(registry, "_ADAPTERS", dict(registry._ADAPTERS))
    register("exiting")(_Exiting)
    with pytest.raises(SystemExit, match="worker bug"):
        fetch_many([SourceSpec("x", "exiting", "anything")], concurrency=1)


def test_fetch_stream_hands_over_fast_sources_while_a_slow_one_is_fetched(
    server: FeedServer,
) -> None:
    # The slow source answers only after this test has seen the fast ones and posted: a stream
    # that waited for every fetch would make it fail (503 after 10 s).
    slow = rss_spec("slow", server.url("/afterpost/10/rss2_korea.xml"), read_timeout_s=15.0,
                    total_timeout_s=20.0)  # fmt: skip
    fast = [rss_spec(f"fast{i}", server.url("/feed/atom_japan.xml")) for i in range(3)]
    seen: list[int] = []
    results: dict[int, FetchResult] = {}
    for group in fetch_stream([slow, *fast], window=4, allow_networks=LOOPBACK):
        seen += [index for index, _ in group]
        results.update(group)
        if set(seen) == {1, 2, 3} and not server.posted.is_set():
            httpx.post(server.url("/hook/go"))
    assert sorted(seen) == [0, 1, 2, 3]  # each source once
    assert seen[-1] == 0
    assert [results[i].status for i in range(4)] == ["ok"] * 4


def _slow_stream_peak(
    server: FeedServer, sources: int, delay_ms: int, window: int, concurrency: int
) -> int:
    """Stream `sources` feeds that each answer after `delay_ms`, all on one host: each comes
    back once and ok. The most fetches the server saw at once."""
    specs = [rss_spec(f"s{i}", server.url(f"/slow/{delay_ms}/atom_japan.xml?n={i}"))
             for i in range(sources)]  # fmt: skip
    results = [r for group in fetch_stream(specs, window=window, concurrency=concurrency,
                                           per_host=concurrency, allow_networks=LOOPBACK)
               for r in group]  # fmt: skip
    assert sorted(index for index, _ in results) == list(range(sources))
    assert {r.status for _, r in results} == {"ok"}
    return server.max_in_flight


def test_fetch_stream_keeps_at_most_a_window_of_sources_in_flight(server: FeedServer) -> None:
    assert _slow_stream_peak(server, 6, delay_ms=100, window=2, concurrency=4) == 2


def test_fetch_stream_adds_workers_while_its_fetches_wait_on_the_network(
    server: FeedServer,
) -> None:
    # Each answer takes 300 ms: the process waits, so the batch doubles its workers at each look
    # until all 8 of its concurrency fetch at once.
    assert _slow_stream_peak(server, 24, delay_ms=300, window=24, concurrency=8) == 8


def test_a_hanging_source_gets_a_worker_beside_it(server: FeedServer) -> None:
    # Concurrency 2, and the first source answers only once the test has seen the second's
    # result: a batch that kept to its first worker would wait on it until its timeout.
    hanging = rss_spec("hanging", server.url("/afterpost/10/rss2_korea.xml"),
                       read_timeout_s=15.0, total_timeout_s=20.0)  # fmt: skip
    quick = rss_spec("quick", server.url("/feed/atom_japan.xml"))
    seen: list[int] = []
    for group in fetch_stream([hanging, quick], window=2, concurrency=2, per_host=2,
                              allow_networks=LOOPBACK):  # fmt: skip
        seen += [index for index, _ in group]
        if seen == [1]:
            httpx.post(server.url("/hook/go"))
    assert seen == [1, 0]


def test_closing_a_fetch_stream_early_starts_no_more_fetches(server: FeedServer) -> None:
    specs = [rss_spec(f"s{i}", server.url(f"/slow/100/atom_japan.xml?n={i}")) for i in range(8)]
    stream = fetch_stream(specs, window=2, concurrency=2, per_host=2, allow_networks=LOOPBACK)
    first = next(stream)
    stream.close()
    assert first
    # The first window at most (how many of it started depends on how soon a second worker
    # came): nothing started after close.
    assert 1 <= len(server.requests) <= 2
