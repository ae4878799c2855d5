"""Where a fetch may connect, and for how long: checked in the HTTP client's network backend.

Two guards sit under httpx, in the one place every connection is made (`GuardedBackend`):

* **Address policy.** Feed URLs come from configuration and from redirects chosen by remote
  servers, so a fetch could be steered at the cloud metadata service (169.254.169.254), the
  loopback interface or the intranet. Every connection resolves its host name itself, checks
  every address against a `NetworkPolicy` (private, loopback, link-local, reserved, multicast and
  unspecified addresses are refused unless an allowed network or host covers them) and then
  connects to exactly the address it checked: there is no second lookup for DNS rebinding to
  race. A redirect opens its own connection, so it is checked the same way before connecting.
* **One deadline per exchange.** httpx's read timeout restarts on every byte, so a server that
  trickles its headers or body a byte at a time is never stopped by it. Inside
  `exchange_deadline(...)` every connect, TLS handshake, read and write gets at most the time left
  until the deadline and fails with `DeadlineExceeded` once it has passed.

Limitation: environment proxies (HTTP_PROXY, ...) are not used, since the address checked must
be the address connected to; a proxied fetch would check the proxy, not the feed.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "WATCHFLOOR_FETCH_ALLOW_NETWORKS"
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254")})

# Absolute time.monotonic() by which the current thread's HTTP exchange must be over.
_deadline: ContextVar[float | None] = ContextVar("exchange_deadline", default=None)


class AddressRefusedError(Exception):
    """A connection refused by the address policy, before any packet was sent."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {shown}: {kind}; private, loopback and link-local "
            f"addresses are off unless allowed ({ALLOW_SETTING})"
        )


class DeadlineExceededError(Exception):
    """The exchange's overall deadline passed during a connect, handshake, read or write."""


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Which non-public addresses a fetch may connect to: allowed networks and host names.

    Public (globally routable) addresses are always allowed. Entries are CIDRs
    ("10.20.0.0/16"), single addresses ("127.0.0.1", "::1") or host names ("intranet.example":
    every address that name resolves to).
    """

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> NetworkPolicy:
        """A policy from allow-list entries; ValueError names an entry that is neither a
        network, an address nor a host name."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if not _looks_like_host(entry):
                    raise ValueError(
                        f"{entry!r} is not a network (10.0.0.0/8), address or host name"
                    ) from None
                hosts.add(_normal_host(entry))
        return cls(tuple(networks), frozenset(hosts))

    def check(self, host: str, address: IPAddress) -> None:
        """Raise AddressRefusedError unless `host` may be reached at `address`."""
        kind = non_public_kind(address)
        if kind is None or _normal_host(host) in self.hosts:
            return
        plain = _unmapped(address)
        if any(plain in network for network in self.networks):
            return
        raise AddressRefusedError(host, str(address), kind)


def non_public_kind(address: IPAddress) -> str | None:
    """What kind of non-public address `address` is ("a loopback address", ...), or None for
    a public one."""
    plain = _unmapped(address)
    if plain in METADATA_ADDRESSES:
        return "the cloud metadata address"
    checks = (
        (plain.is_unspecified, "an unspecified address"),
        (plain.is_loopback, "a loopback address"),
        (plain.is_link_local, "a link-local address"),
        (plain.is_private, "a private address"),
        (plain.is_multicast, "a multicast address"),
        (plain.is_reserved or not plain.is_global, "a reserved, non-public address"),
    )
    return next((kind for matched, kind in checks if matched), None)


@contextmanager
def exchange_deadline(deadline: float) -> Iterator[None]:
    """Bound every network operation of this thread's HTTP exchange by `deadline`
    (a time.monotonic() value)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def guarded_transport(
    policy: NetworkPolicy, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None
) -> GuardedTransport:
    """An httpx transport whose every connection goes through `GuardedBackend(policy)`;
    `ssl_context` may be shared between transports (building one costs ~1 ms)."""
    return GuardedTransport(policy, limits, ssl_context or httpx.create_ssl_context())


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over `pool`, an httpcore connection pool built here, whose every
    connection goes through `GuardedBackend`. The pool is public: a fetch may send its
    requests to it directly, without httpx's request and response models
    (`adapters.net.fetch`), and they go through the same guard."""

    def __init__(
        self, policy: NetworkPolicy, limits: httpx.Limits, ssl_context: ssl.SSLContext
    ) -> None:
        super().__init__(verify=ssl_context, limits=limits)
        # httpx offers no parameter for httpcore's network backend; the pool is rebuilt with the
        # same settings as HTTPTransport's own (httpx 0.28, pinned in constraints.txt).
        self.pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )
        self._pool = self.pool


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, plus the address policy and the exchange deadline."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout, by_deadline = _bounded(timeout)
        started = time.monotonic()
        addresses = _resolve(host, port, timeout, by_deadline)
        for address in addresses:
            self.policy.check(host, address)
        if timeout is not None:
            timeout = max(timeout - (time.monotonic() - started), 0.001)
        sock = _connect_first(addresses, port, timeout, local_address, by_deadline)
        for option in socket_options or ():
            sock.setsockopt(*option)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _DeadlineStream(sock)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for fetching feeds")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation is bounded by the exchange deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bounded, by_deadline = _bounded(timeout)
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError, by_deadline):
            self._sock.settimeout(bounded)
            return self._sock.recv(max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        while buffer:
            bounded, by_deadline = _bounded(timeout)
            with _mapped(httpcore.WriteTimeout, httpcore.WriteError, by_deadline):
                self._sock.settimeout(bounded)
                sent = self._sock.send(buffer)
            buffer = buffer[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded, by_deadline = _bounded(timeout)
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError, by_deadline):
                self._sock.settimeout(bounded)
                wrapped = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except BaseException:
            self.close()
            raise
        return _DeadlineStream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            # What httpcore's own stream returns, for ALPN: the private SSLObject, not in typeshed.
            return self._sock._sslobj  # type: ignore[attr-defined]
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _is_readable(self._sock)
        return None


def _bounded(timeout: float | None) -> tuple[float | None, bool]:
    """(timeout capped by the exchange deadline, whether the deadline is what binds it).
    Raises DeadlineExceededError when the deadline has already passed."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlineExceededError("the exchange's deadline passed")
    if timeout is None or left < timeout:
        return left, True
    return timeout, False


@contextmanager
def _mapped(
    on_timeout: type[Exception], on_error: type[Exception], by_deadline: bool
) -> Iterator[None]:
    """Socket errors as httpcore's exceptions (what httpx expects), except a timeout that the
    deadline imposed, which is the deadline's own error."""
    try:
        yield
    except TimeoutError as exc:
        if by_deadline:
            raise DeadlineExceededError("the exchange's deadline passed") from exc
        raise on_timeout(str(exc)) from exc
    except OSError as exc:
        raise on_error(str(exc) or type(exc).__name__) from exc


def _resolve(host: str, port: int, timeout: float | None, by_deadline: bool) -> list[IPAddress]:
    """Every address of `host` (a literal address is its own), looked up within `timeout`:
    getaddrinfo has no timeout of its own, so it runs on a daemon thread that is abandoned when
    the time is up."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    found: list[IPAddress] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(ipaddress.ip_address(info[4][0]) for info in infos)
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=lookup, name=f"resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        if by_deadline:
            raise DeadlineExceededError(f"looking up {host} outlasted the deadline")
        raise httpcore.ConnectTimeout(f"looking up {host} timed out")
    if failure:
        raise httpcore.ConnectError(f"cannot resolve {host}: {failure[0]}")
    if not found:
        raise httpcore.ConnectError(f"{host} has no address")
    return list(dict.fromkeys(found))


def _connect_first(
    addresses: Sequence[IPAddress],
    port: int,
    timeout: float | None,
    local_address: str | None,
    by_deadline: bool,
) -> socket.socket:
    """A socket connected to the first of `addresses` (all checked) that accepts."""
    errors: list[OSError] = []
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            if local_address is not None:
                sock.bind((local_address, 0))
            sock.connect((str(address), port))
        except TimeoutError as exc:
            sock.close()
            if by_deadline:
                raise DeadlineExceededError("the exchange's deadline passed") from exc
            raise httpcore.ConnectTimeout(f"connecting to {address} timed out") from exc
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        return sock
    raise httpcore.ConnectError(str(errors[-1]) if errors else "no address to connect to")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _unmapped(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _looks_like_host(entry: str) -> bool:
    labels = _normal_host(entry).split(".")
    return all(label and all(c.isalnum() or c == "-" for c in label) for label in labels)


def _is_readable(sock: socket.socket) -> bool:
    """True when a kept-alive idle socket has data or EOF waiting (the server closed it)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # already closed
        return True
    return bool(readable)
