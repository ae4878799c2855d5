"""What concurrent fetches share: a pool of keep-alive HTTP clients, per-host concurrency limits
and the network policy (which private networks a fetch may reach; none by default)."""

from __future__ import annotations

import functools
import os
import ssl
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType

import httpx

from adapters.net.guard import GuardedTransport, NetworkPolicy, guarded_transport

USER_AGENT = "Watchfloor/0.1 (+https://github.com/watchfloor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
)


def shared_ssl_context() -> ssl.SSLContext:
    """The TLS context shared by this process's fetch clients: building one loads the CA bundle
    (~60 ms of CPU), which a `serve` cycle would otherwise pay again in every run. Built once per CA
    location (SSL_CERT_FILE and SSL_CERT_DIR, which httpx reads), so setting either still takes
    effect. A context may be shared by any number of clients and threads; one built before a fork
    serves the forked process too (`flows.serving.warm` builds it in the forkserver)."""
    return _ssl_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _ssl_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()


class FetchClient(httpx.Client):
    """A fetch's HTTP client: its headers and cookie jar, and `pool`, the guarded httpcore
    connection pool under its transport (`adapters.net.guard.GuardedTransport`), to which
    `adapters.net.fetch` sends its requests directly. Redirects are followed by the fetcher,
    not by httpx."""

    def __init__(self, transport: GuardedTransport) -> None:
        super().__init__(
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
            follow_redirects=False,
            transport=transport,
        )
        self.pool = transport.pool


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
        semaphore = self._slots.get(host)
        if semaphore is None:  # a host's first request builds its semaphore, once
            with self._lock:
                semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with semaphore:
            yield


class FetchContext:
    """Keep-alive HTTP clients, a `HostLimiter` and a `NetworkPolicy` shared by concurrent
    fetches.

    Each fetch leases a client of its own (`client()`), and a client goes back to the pool
    when the fetch ends, so there are at most as many clients as fetches at once. Not one
    shared client: httpcore's connection pool takes one lock for every request and response,
    and with 16 fetch threads the GIL's 5 ms switch interval parks whichever thread holds it,
    so the others queue behind (a convoy: half the fetch threads' samples waited there). 1,000
    unchanged feeds took 2.2-2.5 CPU-s with one client, 1.5-1.6 with leased ones (loopback,
    this 2-core machine). Reuse one context across sources and polls: connections stay alive
    between requests, and no TLS context is built per request (`shared_ssl_context`).
    Close it (or use `with`) when done. `allow_networks` lists the private networks, addresses
    and host names fetches may reach (see `NetworkPolicy.from_entries`); ValueError names a
    bad entry.
    """

    def __init__(
        self, *, concurrency: int = 16, per_host: int = 4, allow_networks: Iterable[str] = ()
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.limiter = HostLimiter(per_host)
        self.policy = NetworkPolicy.from_entries(allow_networks)
        # Idle clients, most recently used last (its connections are the likeliest still open).
        # deque.append and .pop are atomic: taking and returning a client takes no lock.
        self._idle: deque[FetchClient] = deque()
        self._clients: list[FetchClient] = []
        self._lock = threading.Lock()

    @contextmanager
    def client(self) -> Iterator[FetchClient]:
        """A client for one fetch (its redirects and retries included), used by no other
        thread meanwhile. Redirects are followed by the fetcher, not by httpx, and every
        connection is checked against the policy (`adapters.net.guard`)."""
        try:
            client = self._idle.pop()
        except IndexError:
            client = self._new_client()
        try:
            yield client
        finally:
            self._idle.append(client)

    def _new_client(self) -> FetchClient:
        with self._lock:
            limits = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            client = FetchClient(guarded_transport(self.policy, limits, shared_ssl_context()))
            self._clients.append(client)
            return client

    def close(self) -> None:
        """Close every client's connections."""
        with self._lock:
            clients, self._clients = self._clients, []
            self._idle.clear()
        for client in clients:
            client.close()

    def __enter__(self) -> FetchContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
