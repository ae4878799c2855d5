"""One verifying TLS context per CA file for every Prefect client of a process.

Prefect builds a verifying TLS context for each client it makes (a flow run's engine, its log
worker, its label and its artifact, and the server-version check), loading the CA bundle each
time (~15-25 ms of CPU) though the temporary API is plain HTTP on loopback: a no-change monitor
cycle of 1,000 feeds paid it at least once a flow run. `install()` has Prefect's client modules
build it once per CA file. Prefect's clients all take the same HTTP/2 setting, so the protocols
httpcore sets on the context agree. A Prefect whose modules no longer hold `ssl` under that name
is left as it is: slower, never different (tests/flows/test_forked_runs.py fails loudly then).
The fetch clients use a context of their own (`adapters.net.context.shared_ssl_context`).
"""

from __future__ import annotations

import functools
import ssl
import types
from typing import Any

import prefect._internal.version_checking
import prefect.client.orchestration

_PREFECT_SSL_USERS = (prefect.client.orchestration, prefect._internal.version_checking)


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


def install() -> bool:
    """Have Prefect's clients share their verifying TLS contexts (once is enough; again is
    harmless); False when this Prefect's modules do not hold `ssl` as expected."""
    modules = [getattr(module, "ssl", None) for module in _PREFECT_SSL_USERS]
    if all(isinstance(held, _SslWithSharedVerifiedContexts) for held in modules):
        return True
    if not all(held is ssl for held in modules):
        return False
    shared = _SslWithSharedVerifiedContexts()
    for module in _PREFECT_SSL_USERS:
        module.ssl = shared  # type: ignore[attr-defined]
    return True
