"""A run that `serve` starts polls its due sources before Prefect's engine starts.

Prefect's runner starts each run of the monitor deployment in a child process (forked from a
warm process, `flows.serving.forkruns`) whose whole job is Prefect's engine running the flow. For a
cycle in which every feed answers 304, the engine was half of the run's CPU: building its
settings, client and heartbeat, proposing states, creating task runs, sending logs and the
artifact (bench/servecpu.py; issue 11 asks that a no-change cycle inside `serve` do only the
conditional requests and one store write).

So the child first does what a one-off `watchfloor run` does (`flows.runs.oneoff.poll_first`):
under the store's monitor lock it polls the run's due sources without Prefect. As soon as
something new is stored, or when the polling ends and the store holds work for a later stage,
the engine starts and the flow follows the polling (`flows.runs.handoff`), detecting and sending
beside it as in any cycle. When the polling ends with nothing new and nothing waiting, the child
completes the run itself through Prefect's API and the engine never starts: the tick still
shows in Prefect as a completed run, its state message saying what was polled, with no task
runs, logs or artifact (the monitor artifact keeps the last cycle that did something).

The run is labelled with its process before the polling, as the flow does first thing, so that
`serve` can tell a killed child from a live one (`flows.serving.recovery.why_dead`). Anything
that fails before the engine starts (a configuration that does not load, a store that does not
answer) starts the engine instead: the flow then meets the same failure and reports it as any run
does.

What the runner hands the child is Prefect's: `run_flow_in_subprocess` pickles the call to its
engine (function, arguments) with cloudpickle and starts
`_run_serialized_call_with_control_bootstrap(payload, startup_env)`. The flow run and its
parameters are read from that payload; anything other than a run of the monitor flow goes to
the engine untouched. Pinned: prefect 3.8 (constraints.txt); tests/flows/test_served_runs.py
serves real runs through it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import cloudpickle  # type: ignore[import-untyped]

from core.model import SourceSpec
from flows.context.config import RunConfig, load_run_config, region_names
from flows.context.settings import load_settings
from flows.context.sourcesfile import load_source_specs
from flows.monitor import label_run_process, monitor_flow
from flows.runs.handoff import Handoff, handing
from flows.runs.idle import due_sources
from flows.runs.oneoff import Polling, poll_first
from flows.stages.keyed import keyed
from flows.stages.report import RunReport

log = logging.getLogger(__name__)

# Prefect's engine entry in the child: (payload, startup_env) -> the pickled return value.
Engine = Callable[[bytes, "dict[str, str] | None"], object]
FILE_PARAMETERS = ("sources_file", "apprise_config", "rules_dir")


@dataclass(frozen=True, slots=True)
class ServedRun:
    """A run of the monitor flow as the runner hands it to its process."""

    flow_run_id: UUID
    parameters: Mapping[str, Any]
    environment: Mapping[str, str]  # the run's variables, which the engine sets first
    due: datetime | None  # when it is scheduled to start

    def wait_until_due(self) -> None:
        """Sleep until the run is due. The runner starts a run's process up to 10 s early
        (its prefetch) and the engine waits for the scheduled time (Prefect's API delays the
        run's start until then): a cycle polls at its tick, not before."""
        if self.due is not None:
            time.sleep(max(0.0, (self.due - datetime.now(UTC)).total_seconds()))


def served_monitor_run(payload: bytes) -> ServedRun | None:
    """The monitor run in the runner's payload (cloudpickle of (function, args, kwargs));
    None when it holds anything else, or no flow run to complete."""
    try:
        _function, _args, kwargs = cloudpickle.loads(payload)
        flow, flow_run = kwargs.get("flow"), kwargs.get("flow_run")
        if flow_run is None or getattr(flow, "name", None) != monitor_flow.name:
            return None
        environment = {k: v for k, v in (kwargs.get("env") or {}).items() if v is not None}
        # As the engine does: the parameters handed over, else the flow run's own.
        parameters = kwargs.get("parameters")
        if parameters is None:
            parameters = flow_run.parameters
        due = flow_run.expected_start_time
        return ServedRun(flow_run.id, dict(parameters or {}), environment, due)
    except Exception:  # not a call this module knows: the engine takes it as it is
        return None


def run_polling_first(
    engine: Engine, payload: bytes, startup_env: dict[str, str] | None = None
) -> None:
    """The child's target: poll first, then run `engine` only when the cycle has work."""
    # A warm-up that stopped early (an import it could not make: the forkserver goes on without
    # it) would leave its collector off (flows.serving.warm): the run collects its garbage whatever.
    gc.enable()
    run = served_monitor_run(payload)
    if run is None:
        engine(payload, startup_env)
        return
    started = False

    def start_engine(polling: Polling) -> None:
        nonlocal started
        started = True
        with handing(Handoff(config, polling=polling)):
            engine(payload, startup_env)

    with prefect_settings_of(run):
        try:
            config, chosen = _due_at_its_tick(run)
            report, _ = poll_first(config, chosen, start_engine)
        except Exception as exc:
            if started:
                raise
            log.warning("%s", keyed("served_run_engine_fallback", reason=exc))
            engine(payload, startup_env)
            return
        if not started:
            assert isinstance(report, RunReport)
            complete_run(run.flow_run_id, report)


def prefect_settings_of(run: ServedRun) -> contextlib.AbstractContextManager[object]:
    """Prefect's settings as the run's environment makes them, as the engine builds them
    first thing: the process's own are the forkserver's, read when it started, and need not
    name the same API (a client with no API URL would start a server of its own)."""
    from prefect.context import SettingsContext, get_settings_context
    from prefect.settings import Settings

    os.environ.update(run.environment)
    return SettingsContext(profile=get_settings_context().profile, settings=Settings())


def _due_at_its_tick(run: ServedRun) -> tuple[RunConfig, list[SourceSpec]]:
    """The run's configuration, as the flow would load it, and the sources it polls: the
    due ones at its scheduled time (after labelling the run and waiting for that time)."""
    files = {name: run.parameters.get(name) for name in FILE_PARAMETERS}
    config = load_run_config(load_settings(**files))
    specs = load_source_specs(config.settings.sources_file, region_names(config.ruleset))
    label_run_process(run.flow_run_id, log)
    run.wait_until_due()
    if run.parameters.get("all_sources"):
        return config, list(specs)
    return config, due_sources(config.database_url, specs)


def complete_run(flow_run_id: UUID, report: RunReport) -> None:
    """Mark the run completed, its message saying what the polling found."""
    from prefect.client.orchestration import get_client
    from prefect.states import Completed

    message = quiet_cycle_message(report)
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, Completed(message=message), force=True)
    log.info("%s", keyed("served_run_quiet", flow_run=flow_run_id, summary=message))


def quiet_cycle_message(report: RunReport) -> str:
    """The state message of a cycle that needed no engine: what was polled, and why no more."""
    if report.problems and not report.sources:
        return "; ".join(report.problems)  # skipped: another run holds the monitor lock
    failed = sum(s.status == "error" for s in report.sources)
    return (
        f"nothing new: {len(report.sources)} sources polled ({failed} failed), "
        f"{report.articles} articles read; nothing awaits detection or delivery "
        "(polled before Prefect's engine, which was not started)"
    )
