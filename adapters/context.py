"""What concurrent fetches share: one keep-alive HTTP client, per-host concurrency limits and the
network policy (which private networks a fetch may reach; none by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType

import httpx

from adapters.netguard import NetworkPolicy, guarded_transport

USER_AGENT = "Watchfloor/0.1 (+https://github.com/watchfloor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
)


class HostLimiter:
    """At most `per_host` requests in flight to one host, across every thread using it."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of `host`'s slots for the duration of the block (waits for a free one)."""
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with semaphore:
            yield


class FetchContext:
    """One shared `httpx.Client` (created on first use), a `HostLimiter` and a `NetworkPolicy`.

    Reuse one context across sources and polls: connections stay alive between requests to the
    same host, and no TLS context is built per request. Close it (or use `with`) when done.
    `allow_networks` lists the private networks, addresses and host names fetches may reach
    (see `NetworkPolicy.from_entries`); ValueError names a bad entry.
    """

    def __init__(
        self, *, concurrency: int = 16, per_host: int = 4, allow_networks: Iterable[str] = ()
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.limiter = HostLimiter(per_host)
        self.policy = NetworkPolicy.from_entries(allow_networks)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        """The shared client; redirects are followed by the fetcher, not by httpx, and every
        connection is checked against the policy (`adapters.netguard`)."""
        with self._lock:
            if self._client is None:
                limits = httpx.Limits(
                    max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                )
                self._client = httpx.Client(
                    headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
                    follow_redirects=False,
                    transport=guarded_transport(self.policy, limits),
                )
            return self._client

    def close(self) -> None:
        """Close the shared client's connections."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> FetchContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
