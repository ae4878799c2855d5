"""Measurements that each run in a fresh process (`python -m bench.child NAME ARGS.json OUT.json`).

A fresh process per measurement gives each its own peak RSS and its own Prefect start-up, the way
a worker runs a flow. Each writes one JSON object to OUT.json.
"""

from __future__ import annotations

import os
import time

_STARTED = time.perf_counter()  # before the heavy imports: start-up includes `import prefect`

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu_s() -> float:
    """CPU seconds of this process's children that have ended and been reaped so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_peak_rss(result: dict[str, Any]) -> dict[str, Any]:
    """`result` with this process's peak RSS so far, measured once the work is done."""
    result["peak_rss_mb"] = peak_rss_mb()
    return result


# --- Prefect helpers ---------------------------------------------------------------------------


def prefect_startup() -> float:
    """Start Prefect's ephemeral API with a trivial flow; seconds since this process began."""
    from prefect import flow

    @flow(name="bench-warmup")
    def warmup() -> int:
        return 1

    warmup()
    return time.perf_counter() - _STARTED


def task_runs(flow_run_id: Any, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The task runs of a flow run, read from the Prefect API: name, state and seconds.

    Prefect records task runs through events, a little after they end: wait until every one
    is final and their number stops changing.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    deadline = time.monotonic() + timeout_s
    previous = -1
    with get_client(sync_client=True) as client:
        while True:
            # The sync client sends limit/sort as null unless given, which the API refuses.
            runs = client.read_task_runs(
                flow_run_filter=flt, sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200
            )
            final = all(r.state is not None and r.state.is_final() for r in runs)
            if (final and len(runs) == previous) or time.monotonic() > deadline:
                break
            previous = len(runs) if final else -1
            time.sleep(0.5)
    return [
        {
            "name": r.name.split("-")[0],
            "state": r.state.type.value if r.state else None,
            "seconds": _run_seconds(r),
            # POSIX seconds, or None: stages may run at the same time (a poll streams its
            # stored batches to detection), so the report needs when, not only how long.
            "start": r.start_time.timestamp() if r.start_time else None,
            "end": r.end_time.timestamp() if r.end_time else None,
        }
        for r in runs
    ]


def _run_seconds(run: Any) -> float:
    if run.start_time and run.end_time:
        return (run.end_time - run.start_time).total_seconds()
    return run.total_run_time.total_seconds() if run.total_run_time else 0.0


def run_flow(call: Callable[[], Any]) -> tuple[Any, float, float, list[dict[str, Any]]]:
    """(report, wall seconds, CPU seconds of this process, task runs) of one flow call (made
    with return_state=True). CPU time counts every thread of this process but not Prefect's
    API server (another process); on a busy machine it moves far less than wall time."""
    start, cpu = time.perf_counter(), time.process_time()
    state = call()
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    report = state.result()
    return report, elapsed, cpu_s, task_runs(state.state_details.flow_run_id)


def report_summary(report: Any) -> dict[str, Any]:
    """The counts of a RunReport that the benchmark prints."""
    return {
        "articles": report.articles,
        "new_articles": report.new_articles,
        "developments": len(report.developments),
        "alerts_sent": report.alerts_sent,
        "deliveries_failed": report.deliveries_failed,
        "problems": len(report.problems),
    }


# --- measurements ------------------------------------------------------------------------------


def replay(args: dict[str, Any]) -> dict[str, Any]:
    """The whole replay flow over a folder of seed files, after Prefect has started."""
    # The store reaches flows through the settings, never a flow parameter.
    os.environ["WATCHFLOOR_DATABASE_URL"] = args["database_url"]
    startup_s = prefect_startup()
    from flows.replay import replay_flow

    before = children_cpu_s()
    report, elapsed, cpu_s, tasks = run_flow(
        lambda: replay_flow(paths=[args["folder"]], return_state=True)
    )
    # A long replay's analysing process (flows.stages.ahead), ended and reaped by the flow.
    helper_cpu_s = children_cpu_s() - before
    return {
        "prefect_startup_s": startup_s,
        "flow_s": elapsed,
        "flow_cpu_s": cpu_s + helper_cpu_s,
        "flow_helper_cpu_s": helper_cpu_s,
        **report_summary(report),
        "task_runs": tasks,
        "peak_rss_mb": peak_rss_mb(),
    }


def poll(args: dict[str, Any]) -> dict[str, Any]:
    """Monitor cycles over every source of a sources file: the first finds everything new, the
    next `nochange_polls` find nothing changed (conditional GETs answered 304); then the same
    conditional GETs through httpcore alone (`bench.httpfloor`)."""
    import httpx

    os.environ["WATCHFLOOR_DATABASE_URL"] = args["database_url"]
    startup_s = prefect_startup()
    from flows.monitor import monitor_flow

    server = args["server"]
    polls = []
    for label in ("first", *["nochange"] * args["nochange_polls"]):
        httpx.post(f"{server}/reset")
        report, elapsed, cpu_s, tasks = run_flow(
            lambda: monitor_flow(
                sources_file=args["sources_file"],
                all_sources=True,
                return_state=True,
            )
        )
        counts = httpx.get(f"{server}/stats").json()
        polls.append(
            {
                "poll": label,
                "seconds": elapsed,
                "cpu_s": cpu_s,
                **report_summary(report),
                "responses_200": counts.get("200", 0),
                "responses_304": counts.get("304", 0),
                "task_runs": tasks,
            }
        )
    peak_mb = peak_rss_mb()  # the polls' own, before the floor's requests
    from bench.httpfloor import conditional_gets

    return {
        "prefect_startup_s": startup_s,
        "polls": polls,
        "http_floor": conditional_gets(server, args["feeds"]),
        "peak_rss_mb": peak_mb,
    }


def floor(args: dict[str, Any]) -> dict[str, Any]:
    """Without Prefect: the bare floor alone."""
    from bench import micro as bench_micro

    return bench_micro.floor_only(args)


def micro(args: dict[str, Any]) -> dict[str, Any]:
    """Without Prefect: detection alone, the bare matcher, feedparser."""
    from bench import micro as bench_micro

    return with_peak_rss(bench_micro.run(args))


def prefill(args: dict[str, Any]) -> dict[str, Any]:
    """Grow a store with the store stage's own repository calls (no detection, no Prefect)."""
    from bench import micro as bench_micro

    return with_peak_rss(bench_micro.prefill(args))


def detectmix(args: dict[str, Any]) -> dict[str, Any]:
    """Detection alone on a realistic mix and on an all-events worst case."""
    from bench import detectmix as bench_detectmix

    return with_peak_rss(bench_detectmix.run(args))


def profile(args: dict[str, Any]) -> dict[str, Any]:
    """Where the replay's time goes: the stages' functions under cProfile, without Prefect."""
    from bench import hotspots

    return with_peak_rss(hotspots.run(args))


COMMANDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "replay": replay,
    "poll": poll,
    "floor": floor,
    "micro": micro,
    "prefill": prefill,
    "profile": profile,
    "detectmix": detectmix,
}


def main() -> None:
    """`python -m bench.child NAME ARGS.json OUT.json`."""
    name, args_path, out_path = sys.argv[1:4]
    args = json.loads(Path(args_path).read_text())
    result = COMMANDS[name](args)
    Path(out_path).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
