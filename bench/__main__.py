"""`make bench` (= `python -m bench`): Watchfloor's throughput on this machine, in one run.

Prints (a) replay throughput of 10,000 articles through the whole replay flow next to the bare
floor, detection alone next to the bare matcher, and feedparser's rate on the same content;
(b) a 1,000-feed poll on loopback, first and unchanged; (c) Prefect task runs per cycle at two
sizes; (d) peak memory; (e) a growth table for 1k / 10k / 100k articles on SQLite and
PostgreSQL; (f) Watchfloor side by side with the naive feedparser script, rss2email and
feed2exec, whole processes polling the same feeds; (g) detection time on hostile articles
(issue 9) next to prose of the same size; (h) detection alone on a realistic mix and on an
all-events worst case; (i) publication -> alert for one new item among 1,000 unchanged feeds
and one stalled feed, in `serve` and as a one-off `run`; (j) the CPU of a no-change cycle over
1,000 feeds inside `serve`.
Writes every figure to bench/results.json. `--quick` runs a small version (a smoke test of the
benchmark itself, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import detectmix, hostile, peers, servecpu
from bench.infra import ROOT, Workspace, child_env, load_average, machine
from bench.plan import PARTS, Plan, run_parts, run_plan
from bench.report import print_latency, print_results, summarise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the harness")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=None,
        help=f"comma-separated parts to run alone ({', '.join(PARTS)}); their figures replace "
        "those keys of the results file and the rest of it stays",
    )
    parser.add_argument(
        "--peer-rounds", type=int, default=None, help="interleaved rounds of the peers' polls"
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results.json", help="results file"
    )
    parser.add_argument(
        "--prefect-home-template",
        type=Path,
        default=None,
        help="a Prefect home whose database exists, copied as each part's new home instead of "
        "letting Prefect create one (the tests' quick runs; a figure of a start is then lower)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement (or the `--only` parts), print the figures, write the results."""
    args = parse_args(argv)
    if args.only and not args.only <= set(PARTS):
        raise SystemExit(f"--only takes {', '.join(PARTS)}; got {', '.join(sorted(args.only))}")
    plan = Plan.quick() if args.quick else Plan()
    plan.postgres = not args.no_postgres
    if args.peer_rounds:
        plan.peer_rounds = args.peer_rounds
    root = Path(tempfile.mkdtemp(prefix="watchfloor-bench-"))
    started = time.perf_counter()
    try:
        ws = Workspace(root, child_env(root, hook_url=""), args.prefect_home_template)
        if args.only:
            results = measure_parts(plan, ws, args.only, args.out)
        else:
            results = measure_all(plan, ws, quick=args.quick)
            results["bench_wall_s"] = time.perf_counter() - started
    finally:
        if args.keep:
            print(f"scratch folder kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    if args.only:
        print_parts(results, args.only)
    else:
        print_results(results)
        print()
        hostile.print_figure(results["hostile_input"])
        print()
        print_parts(results, set(PARTS))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


def measure_all(plan: Plan, ws: Workspace, quick: bool) -> dict[str, Any]:
    """Every measurement of `plan`, summarised."""
    raw = run_plan(plan, ws, machine())
    raw["machine"]["load_average_at_end"] = load_average()
    results = summarise(raw)
    results["hostile_input"] = hostile.measure(quick=quick)
    return results


def measure_parts(plan: Plan, ws: Workspace, parts: set[str], out: Path) -> dict[str, Any]:
    """The `--only` parts, written over their keys of the existing results file (if any)."""
    raw = run_parts(plan, ws, machine(), parts)
    results = json.loads(out.read_text()) if out.exists() else {}
    if "peers" in raw:
        results["peers"] = raw["peers"] | {"machine": raw["machine"]}
    if "detect_mix" in raw:
        results["detection_mix"] = raw["detect_mix"] | {"machine": raw["machine"]}
    if "latency" in raw:
        results["latency"] = raw["latency"] | {"machine": raw["machine"]}
    if "serve_cpu" in raw:
        results["serve_cpu"] = raw["serve_cpu"] | {"machine": raw["machine"]}
    return results


def print_parts(results: dict[str, Any], parts: set[str]) -> None:
    """The side-by-side table, the detection mixes, publication -> alert and the CPU of a
    no-change cycle inside `serve`."""
    if "peers" in parts:
        peers.print_figure(results["peers"])
        print()
    if "detect" in parts:
        detectmix.print_figure(results["detection_mix"])
        print()
    if "latency" in parts:
        print_latency(results["latency"])
    if "serve" in parts:
        print()
        servecpu.print_figure(results["serve_cpu"])


if __name__ == "__main__":
    sys.exit(main())
