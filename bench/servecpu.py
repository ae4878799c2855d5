"""Inside `serve`: the CPU that one no-change cycle over many feeds costs (issue 11: under 2 s
at 1,000 feeds).

The bench feed server serves `feeds` numbered feeds of `items` items; the sources file lists
them with `poll_interval: 1m` (the shortest a sources file takes), so every one is due on every
tick of a one-minute cron. `watchfloor serve` runs on that cron, started as an operator starts
it, in its own session. Its first cycle polls every feed on an empty store (the first poll);
the bench waits for it to end and go quiet. Every later tick is a no-change cycle: each feed
answers 304.

CPU is read from /proc for every process of serve's session: each live process's own time plus the
time of the children it reaped. That is `serve` itself (the runner and its scheduler, and Prefect's
temporary API, which serve runs in a thread and which answers every run's requests), the forkserver
with the runs forked from it (`flows.serving.forkruns`: a run's CPU lands in the forkserver's
children's time when it ends), and anything else serve started (its orphan watcher). The session is
sampled 15 s before each tick, when no run is alive (Prefect's runner starts a run's process up to
10 s early); one cycle's figure is the difference between the samples around its tick, so it also
holds what serve does while it waits for the next tick.

A measured cycle that did not poll every feed at its tick, or whose run was still alive at the
next sample, is not counted: it is reported with serve's processes at that moment (their age and
threads) and the last runs' states from Prefect's database, and the part measures the next tick
instead (SPARE_CYCLES at most). Such a cycle is serve's behaviour, not noise: read it. The
last runs' states, with their times, are also printed after the measured cycles of every run.

Alerts go to the feed server's webhook receiver, which answers: no retried deliveries to a dead
address are counted. A no-change cycle raises no alert; each cycle's figures say how many
webhooks arrived. The part fails when fewer than `cycles` of its ticks made whole cycles.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.infra import (
    BenchError,
    Workspace,
    feed_server,
    load_average,
    start_in_group,
    write_sources,
)
from bench.latency import call, next_tick, stop_serve

TARGET_CPU_S = 2.0
FIRST_TICK_AFTER_S = 45.0  # serve's first tick this long after it starts (its start-up)
DUE_AGAIN_S = 35.0  # a 1-minute source is due again this long after its fetch (30 s slack)
QUIET_S = 5.0  # the first cycle is over once no feed was fetched for this long and no run lives
# Prefect's runner starts a run's process up to its prefetch (10 s) before the run is due:
# sampled this long before each tick, no run is alive and each cycle's CPU is its own.
SAMPLE_BEFORE_TICK_S = 15.0
# A measured cycle that fails (no poll at its tick, or a run still alive at the next sample) is
# recorded with what serve's session and Prefect's runs showed, and the part goes on to the next
# tick, this many more at most: one stray cycle does not cost the whole bench its figures.
SPARE_CYCLES = 2
FIRST_CYCLE_TIMEOUT_S = 900.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class SessionCpu:
    """CPU-seconds (user + system, reaped children included) of one session's processes."""

    serve: float
    runs: float  # the forkserver and every run forked from it
    other: float  # anything else serve started (its orphan watcher)
    live_runs: int

    @property
    def total(self) -> float:
        return self.serve + self.runs + self.other


def session_stats(serve_pid: int) -> dict[int, list[str]]:
    """The /proc/<pid>/stat fields of each live process of serve's session (serve was started as
    its leader), from field 3 (state) on: index 1 is the parent, 3 the session, 11-14 the CPU
    ticks (own and reaped children's), 19 the start time."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == serve_pid:
            found[int(entry.name)] = fields
    return found


def _is_forkserver(pid: int) -> bool:
    try:
        return b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def session_cpu(serve_pid: int) -> SessionCpu:
    """The CPU of serve's session (serve was started as its leader), split by role."""
    procs = {
        pid: (int(fields[1]), sum(int(v) for v in fields[11:15]) / CLOCK_TICKS)
        for pid, fields in session_stats(serve_pid).items()
    }
    forkservers = {
        pid for pid, (ppid, _) in procs.items() if ppid == serve_pid and _is_forkserver(pid)
    }
    serve = runs = other = 0.0
    live_runs = 0
    for pid, (ppid, cpu) in procs.items():
        if pid == serve_pid:
            serve += cpu
        elif pid in forkservers or ppid in forkservers:
            runs += cpu
            live_runs += ppid in forkservers
        else:
            other += cpu
    return SessionCpu(serve, runs, other, live_runs)


def wait_for_first_cycle(
    server: str, feeds: int, proc: subprocess.Popen[bytes], log: Path
) -> float:
    """Wait until serve's first cycle has fetched every feed, ended and gone quiet; the time
    of its last fetch."""
    deadline = time.monotonic() + FIRST_CYCLE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"serve exited with {proc.returncode}; log {log}")
        seen = call(server, "/events")["feeds"]
        fetched = seen["200"] + seen["304"] >= feeds
        quiet = fetched and time.time() - seen["last_at"] >= QUIET_S
        if quiet and session_cpu(proc.pid).live_runs == 0:
            return float(seen["last_at"])
        time.sleep(0.5)
    raise BenchError(
        f"serve's first cycle did not end within {FIRST_CYCLE_TIMEOUT_S:.0f} s; log {log}"
    )


class CycleError(BenchError):
    """A measured cycle that was not a whole no-change cycle of its own tick."""


def measured_cycle(
    before: SessionCpu,
    after: SessionCpu,
    events: dict[str, Any],
    tick: float,
    feeds: int,
) -> dict[str, Any]:
    """One tick's figures; CycleError unless its cycle asked every feed, each answered 304,
    and no run was alive at the next sample."""
    seen = events["feeds"]
    if seen["304"] != feeds or seen["200"]:
        raise CycleError(
            f"the cycle of the tick at {_hms(tick)} was not a no-change poll of {feeds} feeds "
            f"({seen['304']} x 304, {seen['200']} x 200)"
        )
    if after.live_runs:
        raise CycleError(f"the cycle of the tick at {_hms(tick)} still ran at the next sample")
    return {
        "cpu_s": after.total - before.total,
        "serve_cpu_s": after.serve - before.serve,
        "runs_cpu_s": after.runs - before.runs,
        "other_cpu_s": after.other - before.other,
        "responses_304": seen["304"],
        "alerts_received": len(events["hooks"]),
        "to_last_fetch_s": seen["last_at"] - tick,
    }


def _hms(when: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(when)) + " UTC"


def session_processes(serve_pid: int) -> list[str]:
    """Each live process of serve's session: pid, parent, age, command, and where in the kernel
    each of its threads waits (what a run that does not end is still doing)."""
    uptime_s = float(Path("/proc/uptime").read_text().split()[0])
    lines = []
    for pid, fields in sorted(session_stats(serve_pid).items()):
        proc = Path(f"/proc/{pid}")
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            waits = Counter(_wait_channel(task) for task in (proc / "task").iterdir())
        except OSError:
            continue  # ended meanwhile
        age = uptime_s - int(fields[19]) / CLOCK_TICKS
        threads = ", ".join(f"{count} in {where}" for where, count in sorted(waits.items()))
        lines.append(
            f"pid {pid} (parent {fields[1]}, {age:.0f} s old, state {fields[0]}): "
            f"{command[:100]}; threads: {threads}"
        )
    return lines


def _wait_channel(task: Path) -> str:
    """The kernel function a thread sleeps in ("running" when it does not)."""
    try:
        where = (task / "wchan").read_text().strip()
    except OSError:
        return "?"
    return where if where and where != "0" else "running"


def recent_runs(prefect_db: Path, count: int = 4) -> list[str]:
    """The last `count` runs in serve's Prefect database, each with its states' times."""
    lines = []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{prefect_db}?mode=ro", uri=True)) as db:
            runs = db.execute(
                "SELECT id, name, expected_start_time FROM flow_run "
                "ORDER BY expected_start_time DESC LIMIT ?",
                (count,),
            ).fetchall()
            for run_id, name, expected in reversed(runs):
                states = db.execute(
                    "SELECT timestamp, name, substr(coalesce(message, ''), 1, 60) "
                    "FROM flow_run_state WHERE flow_run_id = ? ORDER BY timestamp",
                    (run_id,),
                ).fetchall()
                steps = "; ".join(
                    f"{at[11:23]} {state} {why}".rstrip() for at, state, why in states
                )
                lines.append(f"run {name} due {expected[11:19]}: {steps}")
    except sqlite3.Error as exc:
        lines.append(f"(Prefect's database not read: {exc})")
    return lines


def failed_cycle(problem: CycleError, serve_pid: int, folder: Path) -> dict[str, Any]:
    """What the bench knows of a failed cycle: why, serve's processes now, the last runs."""
    return {
        "problem": str(problem),
        "processes": session_processes(serve_pid),
        "runs": recent_runs(folder / "prefect" / "prefect.db"),
    }


def sample_before(tick: float, serve_pid: int) -> SessionCpu:
    """The session's CPU `SAMPLE_BEFORE_TICK_S` before `tick`."""
    time.sleep(max(0.0, tick - SAMPLE_BEFORE_TICK_S - time.time()))
    return session_cpu(serve_pid)


def measure(
    folder: Path, server: str, feeds: int, cycles: int, env: dict[str, str]
) -> dict[str, Any]:
    """Serve on a one-minute cron; the first cycle polls, then `cycles` no-change cycles."""
    sources = write_sources(folder / "sources.yaml", server, feeds, poll_interval="1m")
    second = int(time.time() + FIRST_TICK_AFTER_S) % 60
    cron = f"* * * * * {second}"
    log = folder / "serve.log"
    cli = str(Path(sys.executable).parent / "watchfloor")
    argv = [cli, "serve", "--cron", cron, "--sources", str(sources)]
    argv += ["--db", f"sqlite:///{folder / 'serve.db'}"]
    _log(f"serve cpu: watchfloor serve --cron '{cron}' over {feeds:,} feeds; first cycle")
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    with log.open("wb") as out:
        proc = start_in_group(argv, folder, env, out)
        try:
            settled = wait_for_first_cycle(server, feeds, proc, log)
            # The first tick at which every feed is due again and which the runner had not
            # picked up (and cancelled: one run at a time) while the first cycle still ran.
            tick = next_tick(max(settled + DUE_AGAIN_S, time.time() + SAMPLE_BEFORE_TICK_S), second)
            before = sample_before(tick, proc.pid)
            warm_cpu_s = before.total
            for _ in range(cycles + SPARE_CYCLES):
                call(server, "/reset", {})
                _log(f"serve cpu: no-change cycle at +{tick - time.time():.0f} s")
                after = sample_before(tick + 60, proc.pid)
                events = call(server, "/events")
                try:
                    rows.append(measured_cycle(before, after, events, tick, feeds))
                except CycleError as problem:
                    failed.append(failed_cycle(problem, proc.pid, folder))
                    _log(f"serve cpu: {problem}: not counted, the next tick is measured")
                before, tick = after, tick + 60
                if len(rows) == cycles:
                    break
            last_runs = recent_runs(folder / "prefect" / "prefect.db")
        finally:
            stop_serve(proc)
    if len(rows) < cycles:
        reasons = "; ".join(f["problem"] for f in failed)
        raise BenchError(f"{len(failed)} of serve's measured cycles failed: {reasons}; log {log}")
    median = statistics.median(r["cpu_s"] for r in rows)
    return {
        "cron": cron,
        "start_and_first_cycle_cpu_s": warm_cpu_s,
        "cycles": rows,
        "failed_cycles": failed,
        "last_runs": last_runs,
        "median_cpu_s": median,
        "median_runs_cpu_s": statistics.median(r["runs_cpu_s"] for r in rows),
        "target_cpu_s": TARGET_CPU_S,
        "ratio_to_target": median / TARGET_CPU_S,
    }


def run(ws: Workspace, feeds: int, items: int, cycles: int) -> dict[str, Any]:
    """The part, on its own feed server, Prefect home and store."""
    folder = ws.path("servecpu")
    folder.mkdir(parents=True, exist_ok=True)
    with feed_server(ws, feeds, items) as server:
        port = server.rsplit(":", 1)[1]
        env = ws.env | {
            "PREFECT_HOME": str(ws.prefect_home(folder)),
            "WATCHFLOOR_NOTIFY_URLS": json.dumps([f"json://127.0.0.1:{port}/hook"]),
        }
        figures = measure(folder, server, feeds, cycles, env)
    return {
        "feeds": feeds,
        "items_per_feed": items,
        **figures,
        "load_average_at_end": load_average(),
    }


def print_figure(r: dict[str, Any]) -> None:
    """(j) the median no-change cycle inside serve, against the target."""
    met = "met" if r["median_cpu_s"] < r["target_cpu_s"] else "NOT met"
    print(
        f"(j) inside serve: one no-change cycle over {r['feeds']:,} feeds (each answers 304) "
        f"costs {r['median_cpu_s']:.2f} CPU-s, median of {len(r['cycles'])}; "
        f"{r['ratio_to_target']:.2f}x the {r['target_cpu_s']:g} s target ({met})"
    )
    for c in r["cycles"]:
        print(
            f"    {c['cpu_s']:.2f} CPU-s: runs {c['runs_cpu_s']:.2f}, serve with its Prefect "
            f"API {c['serve_cpu_s']:.2f}, other {c['other_cpu_s']:.2f}; last feed "
            f"{c['to_last_fetch_s']:.1f} s "
            f"after the tick; {c['alerts_received']} webhook(s)"
        )
    print("    the last runs, as serve's Prefect database had them after the measured cycles:")
    for line in r["last_runs"]:
        print(f"        {line}")
    for f in r["failed_cycles"]:
        print(f"    FAILED, not counted: {f['problem']}")
        for line in f["runs"] + f["processes"]:
            print(f"        {line}")
    print(
        f"    serve's start and first poll: {r['start_and_first_cycle_cpu_s']:.1f} CPU-s; "
        f"load average at the end: {r['load_average_at_end']}"
    )


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
