"""The HTTP floor of a no-change poll: its conditional GETs through httpcore alone.

A no-change poll asks every feed "changed since?" and every feed answers 304. Here the same
requests go, one at a time, through one bare httpcore connection pool (the HTTP stack under
httpx, which the fetch uses): no network policy, deadlines, host limits, threads, store or
Prefect. No poll can cost less than its exchanges, so figure (b), no-change / first poll,
cannot fall below this floor / the first poll on this machine with this stack; the report
prints both, measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpcore

from bench.infra import BenchError

ROUNDS = 3


def conditional_gets(server: str, feeds: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """Seconds and CPU seconds (medians of `rounds`) of one conditional GET to each of the
    server's feeds 0..feeds-1, with the validators a first GET returned; every answer a 304."""
    urls = [f"{server}/feed/{i}.xml" for i in range(feeds)]
    with httpcore.ConnectionPool() as pool:
        validators = [_validators(pool, url) for url in urls]
        timed = [_unchanged_round(pool, urls, validators) for _ in range(rounds)]
    return {
        "requests": feeds,
        "seconds": statistics.median(wall for wall, _ in timed),
        "cpu_s": statistics.median(cpu for _, cpu in timed),
        "rounds": [{"seconds": wall, "cpu_s": cpu} for wall, cpu in timed],
    }


def _validators(pool: httpcore.ConnectionPool, url: str) -> list[tuple[bytes, bytes]]:
    """The headers of a conditional GET of `url`: its ETag and Last-Modified, as sent now."""
    headers = {name.lower(): value for name, value in pool.request("GET", url).headers}
    return [
        (b"If-None-Match", headers[b"etag"]),
        (b"If-Modified-Since", headers[b"last-modified"]),
    ]


def _unchanged_round(
    pool: httpcore.ConnectionPool, urls: list[str], validators: list[list[tuple[bytes, bytes]]]
) -> tuple[float, float]:
    """(seconds, CPU seconds) of one conditional GET per URL; BenchError for an answer not 304."""
    start, cpu = time.perf_counter(), time.process_time()
    for url, headers in zip(urls, validators, strict=True):
        status = pool.request("GET", url, headers=headers).status
        if status != 304:
            raise BenchError(f"{url} answered {status} to a conditional GET, not 304")
    return time.perf_counter() - start, time.process_time() - cpu
