"""Importing this module warms a process for monitor runs: what `serve`'s forkserver loads
once before it forks each run (see flows.forkruns).

It imports the monitor flow with everything a run uses (Prefect, SQLAlchemy, httpx,
feedparser, Apprise, the detection engine), loads the rules and subscribers the settings name
into `flows.config`'s cache, parses the sources file into `flows.sourcesfile`'s and builds the
fetch clients' TLS context. A configuration that does not load is left for the run itself to
report, with its file and line.
"""

from __future__ import annotations

import logging

import notify  # noqa: F401  Apprise: imported by a run's send stage
from adapters.context import shared_ssl_context
from flows import monitor  # noqa: F401  the flow a run executes
from flows.config import load_run_config, region_names
from flows.settings import load_settings
from flows.sourcesfile import load_source_specs

# The fetch clients' TLS context (CA bundle loaded): ~60 ms a run would otherwise pay.
shared_ssl_context()
try:
    settings = load_settings()
    config = load_run_config(settings)
    # Parsing 1,000 sources costs a run ~0.5 s before its first fetch; forks inherit this parse
    # and check only that the file is unchanged.
    load_source_specs(settings.sources_file, region_names(config.ruleset))
except Exception as exc:  # the run reports it properly; a warm-up must not stop the forkserver
    logging.getLogger(__name__).debug("warm-up could not load the configuration: %s", exc)
