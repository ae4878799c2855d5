"""A one-off command's process collects the youngest generation in larger steps
(flows.context.gcpace), and a one-off run and a replay set it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli.app import app
from flows.context.gcpace import FIRST_GENERATION_EVERY, OLDER_GENERATIONS_EVERY

LARGER_STEPS = (FIRST_GENERATION_EVERY, *OLDER_GENERATIONS_EVERY)


@pytest.fixture
def default_thresholds() -> Iterator[None]:
    """Python's default thresholds during the test, this process's own again afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@pytest.mark.usefixtures("default_thresholds")
def test_a_one_off_run_collects_in_larger_steps(tmp_path: Path) -> None:
    # A sources file that does not exist: the run stops at its configuration, after the setting.
    CliRunner().invoke(app, ["run", "--sources", str(tmp_path / "missing.yaml")])
    assert gc.get_threshold() == LARGER_STEPS


@pytest.mark.usefixtures("default_thresholds")
def test_a_replay_collects_in_larger_steps(tmp_path: Path) -> None:
    # A path that does not exist: the replay stops at its arguments, after the setting.
    CliRunner().invoke(app, ["replay", str(tmp_path / "missing")])
    assert gc.get_threshold() == LARGER_STEPS
