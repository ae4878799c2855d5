"""How `make test` shares the tests between pytest-xdist workers.

xdist's scope scheduler hands work out in units, in collection order: a unit goes whole to one
worker. Here every test module is one unit (its module-scoped fixtures, often real flow runs,
are then set up once), except the tests named in LONGEST_FIRST, each of which is a unit of its
own. The longest units come first, so that they start at once on different workers and the
short ones fill in after: the workers then finish together. Without xdist this only changes
the order of the tests.

A worker runs a test once it holds the next one (or is told to stop): a worker whose only
pending test is a unit's last, or a unit of one test, waits for more work. Only then does it
get the next unit (xdist's scheduler sends more while two are pending, so that a unit waited
behind a long test while other workers went idle); and behind a long test of its own, the
last unit of the queue (a short one): it waits for the long test to end.

(xdist's own `--dist loadgroup` does not work with pytest 9: it renames test ids through an
attribute pytest no longer reads. The units are therefore chosen here, by test id.)
"""

from __future__ import annotations

from typing import Any

import pytest

# The longest tests and modules of the suite, longest first (the per-unit wall of
# `PYTEST_ADDOPTS=--cputime=FILE make test`, `python -m tests.cputime FILE`: 10 s and more). Only
# the order of the work and how it is split depend on this list; a name that no longer matches
# changes nothing else. A test (`path::name`, every parametrization) is a unit alone (its
# module's fixtures are cheap); a module stays one unit. Units left out of the list, or run late
# in it, are the short ones that fill in while the long ones end: a long module left to the end
# of the queue would keep one worker busy after the others stopped.
LONGEST_FIRST = (
    # Minutes of waiting for a one-minute cron's ticks, at little CPU: on two workers, while
    # the others keep the cores busy.
    "tests/test_bench_harness.py::test_the_quick_serve_bench_measures_no_change_cycles",
    "tests/test_bench_harness.py::test_the_quick_latency_bench_measures_an_alert_that_arrived",
    # A module of one long test: alone, so that its worker takes a short unit as its next.
    "tests/flows/test_served_run_kill.py::test_a_served_run_killed_mid_cycle_is_finished_by_the_next_tick",
    "tests/flows/test_kill_matrix.py::test_kill_9_anywhere_then_rerun_equals_a_clean_run",
    "tests/flows/test_kill_matrix.py::test_kill_9_a_replay_analysed_ahead_then_rerun_equals_a_clean_run",
    "tests/deploy/test_server_worker.py",
    "tests/db/test_db_migrations.py",
    "tests/flows/test_alerts_secret_audit.py",
    "tests/flows/test_cli_prefect.py",
    "tests/flows/test_serve_restart.py::test_serve_goes_on_after_being_stopped_mid_cycle",
    "tests/flows/test_served_runs.py",
    "tests/web/test_web_cli.py",
    "tests/db/test_db_concurrency.py",
    "tests/flows/test_kill_run.py::test_kill_9_a_run_anywhere_then_rerun_equals_a_clean_run",
    "tests/flows/test_idle_start.py",
    "tests/flows/test_progress_cli.py",
    "tests/flows/test_concurrent_replay.py",
    "tests/flows/test_cli_detect_input.py",
    "tests/flows/test_cli_errors.py",
    "tests/flows/test_cli.py",
    "tests/flows/test_alerts_e2e.py",
    "tests/flows/test_db_cli.py",
    "tests/detect/test_fast_paths.py",
    "tests/web/test_browser.py",
    "tests/flows/test_monitor_lock.py",
    "tests/db/test_db_sources.py",
    "tests/flows/test_serve_deployment.py",
    "tests/flows/test_alerts_ledger.py",
    "tests/db/test_db_outbox.py",
    "tests/flows/test_api_unreachable.py",
    "tests/notify/test_notify_throughput.py",
    "tests/flows/test_forked_runs.py",
    "tests/flows/test_serve_secret_parameters.py",
    "tests/db/test_db_articles.py",
    "tests/detect/test_linear_work.py",
    "tests/test_bench_harness.py",
)


def _rank(nodeid: str) -> int:
    """The place of a test in LONGEST_FIRST (the first entry that names it), or after them all."""
    for place, name in enumerate(LONGEST_FIRST):
        if nodeid == name or nodeid.startswith((f"{name}::", f"{name}[")):
            return place
    return len(LONGEST_FIRST)


def unit_of(nodeid: str) -> str:
    """The unit of work of a test: its own id if LONGEST_FIRST names it alone, else its module."""
    place = _rank(nodeid)
    if place < len(LONGEST_FIRST) and "::" in LONGEST_FIRST[place]:
        return nodeid
    return nodeid.split("::", 1)[0]


def is_long_alone(nodeid: str) -> bool:
    """Whether the test is one of LONGEST_FIRST that is a unit alone."""
    return _rank(nodeid) < len(LONGEST_FIRST) and unit_of(nodeid) == nodeid


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first; the rest keeps its order (the sort is stable)."""
    items.sort(key=lambda item: _rank(item.nodeid))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's scope scheduler over the units of `unit_of`, in collection order (run with
    --no-loadscope-reorder, which keeps xdist from sorting units by their number of tests)."""
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _reschedule(self, node: Any) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) <= 1:  # it waits for more
                self._assign_work_unit(node)

        def _assign_work_unit(self, node: Any) -> None:
            pending = [
                nodeid
                for unit in self.assigned_work.get(node, {}).values()
                for nodeid, done in unit.items()
                if not done
            ]
            if len(pending) == 1 and is_long_alone(pending[0]):
                self.workqueue.move_to_end(next(reversed(self.workqueue)), last=False)
            super()._assign_work_unit(node)

    return UnitScheduling(config, log)
