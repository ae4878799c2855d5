"""Prefect's temporary API in the CLI's process (flows.prefectapi.server): what its start leaves the
process's garbage collector to walk."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.clikit import run_python_in_home

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
    assert run_python_in_home(PROBE, home).split() == ["False", "False"]
