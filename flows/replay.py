"""The `replay` flow: read local article files offline and run them through the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from prefect import flow

from core.model import SourceSpec
from flows.context.config import load_run_config
from flows.context.settings import load_settings
from flows.runs.handoff import handed
from flows.runs.pipeline import run_cycle
from flows.runs.replayplan import plan_replay_of
from flows.stages.report import RunReport, publish_artifact


class ChunkBatches(Sequence[Sequence[SourceSpec]]):
    """A replay's chunks as fetch batches of one chunk each, each made when the ingest stage
    reaches it: a list of them all would hold every path of the replay for the whole run."""

    def __init__(self, chunks: Sequence[SourceSpec]) -> None:
        self._chunks = chunks

    def __len__(self) -> int:
        return len(self._chunks)

    @overload
    def __getitem__(self, index: int) -> Sequence[SourceSpec]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Sequence[SourceSpec]]: ...

    def __getitem__(
        self, index: int | slice
    ) -> Sequence[SourceSpec] | Sequence[Sequence[SourceSpec]]:
        if isinstance(index, slice):
            return [[chunk] for chunk in self._chunks[index]]
        return [self._chunks[index]]


@flow(name="replay", description="Replay local article files through store, detect and send.")
def replay_flow(
    paths: list[str] | None = None,
    apprise_config: str | None = None,
    rules_dir: str | None = None,
) -> RunReport:
    """Replay `paths` (default: the seeds folder) and report what was found and sent. A
    command running the flow in its own process hands it (`flows.runs.handoff`) the configuration it
    loaded and its progress bars.

    The store's URL and the subscribers' Apprise URLs come from the settings (WATCHFLOOR_*
    variables), never from parameters: they carry passwords and tokens, and Prefect stores and
    shows flow parameters.
    """
    handoff = handed()
    files = {"apprise_config": apprise_config, "rules_dir": rules_dir}
    config = (
        handoff.config_for(**files)
        if handoff is not None
        else load_run_config(load_settings(**files))
    )
    planned = handoff.replay_plan_for(paths or []) if handoff is not None else None
    source, plan = planned or plan_replay_of(paths or [], config.settings.seeds_dir)
    bars = handoff.progress if handoff is not None else None
    if bars is not None and plan.files is not None:
        bars.reading(plan.files, "files")
    batches = ChunkBatches(plan.chunks)
    report = run_cycle(config, [source], conditional=False, fetch_batches=batches, progress=bars)
    report.problems[:0] = plan.problems
    publish_artifact(report, key="watchfloor-replay")
    return report
