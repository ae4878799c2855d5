"""What a replay reads: its one seedfiles source, cut into chunks. Without Prefect, so that the
`replay` command can check its paths and whether anything is left to do before importing it
(~1.2 CPU-s): the flow (`flows.replay`) and the command plan a replay alike through here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import adapters
from core.model import SourceSpec

REPLAY_SOURCE = "replay"
# Files read and stored at a time: bounds a replay's memory whatever its size (an article is
# ~3-10 KB in memory with its raw original), while a chunk is still large enough that the
# store's per-batch costs stay small.
REPLAY_CHUNK_FILES = 1_000


def replay_source(paths: Sequence[str]) -> SourceSpec:
    """The one seedfiles source a replay reads: the given files and folders, in order."""
    resolved = [str(Path(p)) for p in paths]
    return SourceSpec(
        name=REPLAY_SOURCE,
        kind="seedfiles",
        location=resolved[0],
        options={"paths": resolved},
    )


def plan_replay_of(paths: Sequence[str], seeds_dir: Path) -> tuple[SourceSpec, adapters.ReplayPlan]:
    """The source a replay of `paths` reads (the seeds folder when none are given) and its
    chunks of REPLAY_CHUNK_FILES files."""
    source = replay_source(paths or [str(seeds_dir)])
    return source, adapters.plan_replay(source, REPLAY_CHUNK_FILES)
