"""Importing this module warms a process for monitor runs: what `serve`'s forkserver loads
once before it forks each run (see flows.forkruns).

It imports the monitor flow with everything a run uses (Prefect, SQLAlchemy, httpx,
feedparser, Apprise, the detection engine), loads the rules and subscribers the settings name
into `flows.config`'s cache, parses the sources file into `flows.sourcesfile`'s, builds the TLS
contexts of the fetch clients and of Prefect's clients, then freezes what it loaded out of the
garbage collector's sight (`gc.freeze`). A configuration that does not load is left for the run
itself to report, with its file and line.
"""

from __future__ import annotations

import gc
import logging
import ssl
from typing import Any

import httpx._transports.default

import notify  # noqa: F401  Apprise: imported by a run's send stage
from adapters.context import shared_ssl_context
from flows import monitor  # noqa: F401  the flow a run executes
from flows.config import load_run_config, region_names
from flows.settings import load_settings
from flows.sourcesfile import load_source_specs


def _reused_ssl_context(
    verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    """httpx's `create_ssl_context`, with the default verifying context built once per CA
    location instead of once per client."""
    if verify is True and cert is None and trust_env:
        return shared_ssl_context("prefect")
    return httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


# A run's Prefect makes an httpx client for its engine, its log and event workers, the run's
# label and its artifact, and each loads the CA bundle (~60 ms of CPU) though the temporary
# API is plain HTTP on loopback. Built once here, the forks share it. Prefect's clients all
# take the same HTTP/2 setting, so the protocols httpcore sets on the context agree; the
# fetch clients use a context of their own (`shared_ssl_context`, ~60 ms too).
httpx._transports.default.create_ssl_context = _reused_ssl_context
_reused_ssl_context()
shared_ssl_context()
try:
    settings = load_settings()
    config = load_run_config(settings)
    # Parsing 1,000 sources costs a run ~0.5 s before its first fetch; forks inherit this parse
    # and check only that the file is unchanged.
    load_source_specs(settings.sources_file, region_names(config.ruleset))
except Exception as exc:  # the run reports it properly; a warm-up must not stop the forkserver
    logging.getLogger(__name__).debug("warm-up could not load the configuration: %s", exc)

# Everything loaded above lives as long as the forkserver. Frozen, the garbage collector of
# each forked run never walks it: a full collection in a run would otherwise visit every
# inherited object and, by writing their headers, copy their memory pages into the run.
gc.freeze()
