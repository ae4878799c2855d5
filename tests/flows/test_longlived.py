"""A process freezes what it has loaded out of the garbage collector's sight once, at its
first cycle, so later full collections skip it (flows.context.longlived)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from tests.adapters.feedserver import FeedServer
from tests.adapters.monitorkit import Src, run_monitor, write_sources
from tests.conftest import store_env

KOREA = "/feed/rss2_korea.xml"
# Run in a fresh interpreter: the test process itself may have frozen already.
PROBE = """
import gc
from flows.context.longlived import freeze_loaded
loaded = object.__new__(type("Loaded", (), {}))  # tracked by the collector
assert gc.get_freeze_count() == 0
freeze_loaded()
first = gc.get_freeze_count()
assert first > 0 and not any(o is loaded for o in gc.get_objects())
later = [[] for _ in range(1000)]  # made after the freeze: still collected as usual
freeze_loaded()
assert gc.get_freeze_count() == first, "frozen a second time"
assert sum(o is later for o in gc.get_objects()) == 1
print("ok")
"""


def test_the_first_call_freezes_what_is_loaded_and_later_calls_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.usefixtures("prefect_harness")
def test_after_a_monitor_cycle_its_process_has_frozen_what_it_loaded(tmp_path: Path) -> None:
    server = FeedServer().start()
    try:
        path = write_sources(tmp_path / "sources.yaml", server, [Src("korea", KOREA)])
        with store_env(f"sqlite:///{tmp_path / 'store.db'}"):
            report, _ = run_monitor(sources_file=str(path))
    finally:
        server.close()
    assert [line.status for line in report.sources] == ["ok"]
    assert gc.get_freeze_count() > 0
