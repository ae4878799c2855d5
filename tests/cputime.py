"""Where a test run's time goes, per test: wall seconds, and CPU seconds of the test process and
of its descendants: those it waited for (`resource.getrusage`) and those still alive, read from
/proc (a server a session fixture keeps counts at each test for what it did meanwhile). A
process that left the tree before its end (a killed run's orphaned server) is not counted.
Off unless asked for:
`pytest --cputime=FILE` (`PYTEST_ADDOPTS=--cputime=FILE make test`) appends a JSON line a test to
FILE (each xdist worker appends its own lines, with its name and start time: the per-worker
timeline). `python -m tests.cputime FILE` sums them per module, and per worker over time.
`python -m tests.cputime run CMD...` runs CMD as a child subreaper and prints its wall and the
CPU of every process it started, orphans included (a killed run's server)."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cputime", default=None, help="append per-test wall and CPU to this file")


_TICK = os.sysconf("SC_CLK_TCK")


def _live_descendants_cpu() -> float:
    """CPU seconds so far of this process's live descendants, with the children they reaped."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = sum(int(f) for f in fields[11:15]) / _TICK  # utime stime cu cs
    tree, total, frontier = {os.getpid()}, 0.0, True
    while frontier:
        found = {pid for pid, parent in parents.items() if parent in tree and pid not in tree}
        tree |= found
        total += sum(spent[pid] for pid in found)
        frontier = bool(found)
    return total


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of its descendants, so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = children.ru_utime + children.ru_stime
    return own.ru_utime + own.ru_stime, reaped + _live_descendants_cpu()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    path = item.config.getoption("--cputime")
    if path is None:
        yield
        return
    started, (own, children) = time.time(), _cpu_seconds()
    yield
    own_after, children_after = _cpu_seconds()
    record = {
        "test": item.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "start": round(started, 3),
        "wall": round(time.time() - started, 3),
        "cpu_self": round(own_after - own, 3),
        "cpu_children": round(children_after - children, 3),
    }
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def summary(path: Path) -> str:
    """Per module: tests, wall, CPU of the process and of children; per worker: busy span."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    modules: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for record in records:
        totals = modules[record["test"].split("::", 1)[0]]
        totals[0] += 1
        totals[1] += record["wall"]
        totals[2] += record["cpu_self"]
        totals[3] += record["cpu_children"]
    lines = [f"{'module':60} {'n':>4} {'wall':>7} {'self':>7} {'child':>7} {'cpu':>7}"]
    for module, (count, wall, own, child) in sorted(
        modules.items(), key=lambda entry: -(entry[1][2] + entry[1][3])
    ):
        lines.append(
            f"{module:60} {count:4.0f} {wall:7.1f} {own:7.1f} {child:7.1f} {own + child:7.1f}"
        )
    cpu = sum(record["cpu_self"] + record["cpu_children"] for record in records)
    lines.append(f"total: {len(records)} tests, {cpu:.1f} CPU-s")
    first = min((record["start"] for record in records), default=0.0)
    workers: dict[str, list[dict[str, float]]] = defaultdict(list)
    for record in records:
        workers[record["worker"]].append(record)
    for worker, runs in sorted(workers.items()):
        end = max(run["start"] + run["wall"] for run in runs) - first
        busy = sum(run["wall"] for run in runs)
        lines.append(f"{worker}: ends at {end:.0f} s, busy {busy:.0f} s, {len(runs)} tests")
    return "\n".join(lines)


def run_counting_everything(command: list[str]) -> int:
    """Run `command`; adopt (as a child subreaper) and reap every process it leaves, so that
    RUSAGE_CHILDREN holds them all; print wall and CPU seconds; its exit status."""
    import ctypes
    import subprocess

    pr_set_child_subreaper = 36
    ctypes.CDLL(None).prctl(pr_set_child_subreaper, 1, 0, 0, 0)
    started = time.time()
    status = subprocess.call(command)
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    spent = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write(
        f"wall {time.time() - started:.1f} s, CPU {spent.ru_utime + spent.ru_stime:.1f} s "
        f"(user {spent.ru_utime:.1f}, system {spent.ru_stime:.1f}), exit {status}\n"
    )
    return status


if __name__ == "__main__":
    if sys.argv[1] == "run":
        sys.exit(run_counting_everything(sys.argv[2:]))
    sys.stdout.write(summary(Path(sys.argv[1])) + "\n")
