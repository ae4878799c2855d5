"""Prefect's temporary API in the CLI's process (flows.prefectapi.server): what its start leaves the
process's garbage collector to walk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Run in a fresh interpreter: the test process may have frozen, and imported Prefect's server.
PROBE = """
import gc
loaded = object.__new__(type("Loaded", (), {}))  # tracked by the collector, held before the API
from flows.prefectapi.server import start_server
api = start_server()
try:
    from prefect.server.api import server
    tracked = gc.get_objects()  # every generation but the permanent one
    print(any(o is loaded for o in tracked), any(o is server.create_app for o in tracked))
finally:
    api.stop()
"""


def test_what_was_loaded_and_prefects_server_are_out_of_the_collectors_sight(
    tmp_path: Path, used_prefect_home: Path
) -> None:
    home = tmp_path / ".prefect"
    shutil.copytree(used_prefect_home, home)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**env, "PREFECT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "False"]
