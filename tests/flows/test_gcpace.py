"""A one-off command's process collects the youngest generation in larger steps
(flows.gcpace), and a one-off run sets it."""

from __future__ import annotations

import gc
import subprocess
import sys

from flows.gcpace import FIRST_GENERATION_EVERY, OLDER_GENERATIONS_EVERY, collect_in_larger_steps


def test_the_thresholds_are_the_larger_steps() -> None:
    before = gc.get_threshold()
    try:
        collect_in_larger_steps()
        assert gc.get_threshold() == (FIRST_GENERATION_EVERY, *OLDER_GENERATIONS_EVERY)
    finally:
        gc.set_threshold(*before)


# A fresh interpreter: `run` with a sources file that does not exist fails after setting them.
PROBE = """
import gc
from typer.testing import CliRunner
from flows.cli import app
from flows.gcpace import FIRST_GENERATION_EVERY
assert gc.get_threshold()[0] != FIRST_GENERATION_EVERY
CliRunner().invoke(app, ["run", "--sources", "/nonexistent/sources.yaml"])
assert gc.get_threshold()[0] == FIRST_GENERATION_EVERY, gc.get_threshold()
print("ok")
"""


def test_a_one_off_run_collects_in_larger_steps() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
