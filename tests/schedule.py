"""How `make test` shares the tests between pytest-xdist workers (`--dist loadgroup`).

xdist hands work out in units, in collection order: a unit goes whole to one worker. Here every
test module is one unit (its module-scoped fixtures, often real flow runs, are then set up once),
except the tests named in LONGEST_FIRST, each of which is a unit of its own. The longest units
come first, so that they start at once on different workers and the short ones fill in after:
the workers then finish together. Without xdist this only changes the order of the tests.
"""

from __future__ import annotations

import pytest

# The longest tests and modules of the suite, longest first (from `--durations` of `make test`:
# 10 s and more). Only the order of the work and how it is split depend on this list; a name
# that no longer matches changes nothing else. A test (`path::name`, every parametrization) is
# a unit alone (its module's fixtures are cheap); a module stays one unit.
LONGEST_FIRST = (
    "tests/test_bench_harness.py::test_the_quick_serve_bench_measures_no_change_cycles",
    "tests/test_bench_harness.py::test_the_quick_latency_bench_measures_an_alert_that_arrived",
    "tests/flows/test_kill_matrix.py::test_kill_9_anywhere_then_rerun_equals_a_clean_run",
    "tests/flows/test_serve_restart.py::test_serve_goes_on_after_being_stopped_mid_cycle",
    "tests/flows/test_feedback_cli.py",
    "tests/deploy/test_server_worker.py",
    "tests/flows/test_kill_run.py",
    "tests/test_bench_harness.py",
    "tests/flows/test_alerts_secret_audit.py",
    "tests/db/test_db_migrations.py",
    "tests/flows/test_concurrent_replay.py",
    "tests/flows/test_cli.py",
    "tests/flows/test_alerts_cli.py",
    "tests/flows/test_cli_prefect.py",
    "tests/flows/test_cli_detect_input.py",
    "tests/flows/test_progress_cli.py",
    "tests/web/test_browser.py",
)


def _rank(nodeid: str) -> int:
    """The place of a test in LONGEST_FIRST (the first entry that names it), or after them all."""
    for place, name in enumerate(LONGEST_FIRST):
        if nodeid == name or nodeid.startswith((f"{name}::", f"{name}[")):
            return place
    return len(LONGEST_FIRST)


def _unit(item: pytest.Item) -> str | None:
    """The xdist group of `item`: its module, or None for a test named alone in LONGEST_FIRST."""
    place = _rank(item.nodeid)
    if place < len(LONGEST_FIRST) and "::" in LONGEST_FIRST[place]:
        return None
    return item.nodeid.split("::", 1)[0]


# tryfirst: xdist's worker reads the groups in its own hook and appends them to the test ids.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first; every test in the xdist group of its unit (unless it names its own)."""
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: the rest keeps its order
    for item in items:
        unit = _unit(item)
        if unit is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(unit))
