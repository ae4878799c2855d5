"""Importing this module warms a process for monitor runs: what `serve`'s forkserver loads
once before it forks each run (see flows.forkruns).

It imports the monitor flow with everything a run uses (Prefect, SQLAlchemy, httpx,
feedparser, Apprise, the detection engine) and loads the rules and subscribers the settings
name into `flows.config`'s cache. A configuration that does not load is left for the run
itself to report, with its file and line.
"""

from __future__ import annotations

import logging

import notify  # noqa: F401  Apprise: imported by a run's send stage
from flows import monitor  # noqa: F401  the flow and its stages
from flows.config import load_run_config
from flows.settings import load_settings

try:
    load_run_config(load_settings())
except Exception as exc:  # the run reports it properly; a warm-up must not stop the forkserver
    logging.getLogger(__name__).debug("warm-up could not load the configuration: %s", exc)
