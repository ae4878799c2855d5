"""What a command hands the flow it runs in its own process, beside the flow's parameters.

A flow's parameters are what Prefect records and shows, and what a served or deployed run receives
from its API: plain values. A command that runs a flow in its own process also holds live objects
the flow should use rather than rebuild: the configuration it has already loaded and checked (the
compiled rules, the subscribers and their connections), the terminal's progress bars, a one-off
run's polling already under way, a replay's plan (every file's date read to order them: ~0.5 s for
10,000 files, seconds on a cold disk). Those are handed over here, for the duration of the call, not
as parameters: Prefect would encode them for its API and validate them with pydantic where the run
executes. A flow run that was handed nothing (a served or deployed run) builds its own configuration
from its parameters and the settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters import ReplayPlan
    from core.model import SourceSpec
    from flows.context.config import RunConfig
    from flows.runs.oneoff import Polling
    from flows.stages.progress import RunProgress


@dataclass(frozen=True, slots=True)
class Handoff:
    """The command's own run context. `config` was built from the same arguments the command
    passes to the flow as parameters."""

    config: RunConfig
    progress: RunProgress | None = None
    polling: Polling | None = None
    replay: PlannedReplay | None = None

    def config_for(self, **files: str | None) -> RunConfig:
        """`config`, checked against the file parameters the flow was called with (by settings
        name; None where the settings chose): a command that handed one configuration and
        passed other parameters would otherwise run, silently, on files Prefect does not show.
        Raises HandoffMismatchError."""
        settings = self.config.settings
        for name, given in files.items():
            loaded = getattr(settings, name)
            if given is not None and (loaded is None or Path(given) != Path(loaded)):
                raise HandoffMismatchError(
                    f"the flow was called with {name}={given}, but the configuration handed to "
                    f"it was loaded from {loaded}"
                )
        return self.config

    def replay_plan_for(self, paths: list[str]) -> tuple[SourceSpec, ReplayPlan] | None:
        """The replay's source and plan the command made, when it planned `paths` (the flow's
        parameter: [] for the seeds folder); else None."""
        if self.replay is None or self.replay.paths != paths:
            return None
        return self.replay.source, self.replay.plan


@dataclass(frozen=True, slots=True)
class PlannedReplay:
    """A replay the command planned (`flows.runs.replayplan.plan_replay_of`) before its flow."""

    paths: list[str]
    source: SourceSpec
    plan: ReplayPlan


class HandoffMismatchError(RuntimeError):
    """A command handed a flow a configuration loaded from other files than its parameters
    name: a defect in the command, not in the user's input."""


# A context variable, not a global: the flow body runs in the calling thread's context, and two
# commands in one process (tests) never see each other's.
_handed: ContextVar[Handoff | None] = ContextVar("watchfloor_handoff", default=None)


@contextlib.contextmanager
def handing(handoff: Handoff) -> Iterator[None]:
    """Hand `handoff` to the flows called inside the block."""
    token = _handed.set(handoff)
    try:
        yield
    finally:
        _handed.reset(token)


def handed() -> Handoff | None:
    """What the calling command handed over, or None (a served or deployed run)."""
    return _handed.get()
