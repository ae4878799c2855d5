"""`make bench` (= `python -m bench`): Watchfloor's throughput on this machine, in one run.

Prints (a) replay throughput of 10,000 articles through the whole replay flow next to the bare
floor, detection alone next to the bare matcher, and feedparser's rate on the same content;
(b) a 1,000-feed poll on loopback, first and unchanged; (c) Prefect task runs per cycle at two
sizes; (d) peak memory; (e) a growth table for 1k / 10k / 100k articles on SQLite and
PostgreSQL; (g) detection time on hostile articles (issue 9) next to prose of the same size.
Writes every figure to bench/results.json. `--quick` runs a small version (a smoke test of the
benchmark itself, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import hostile
from bench.infra import ROOT, Workspace, child_env, machine
from bench.plan import Plan, run_plan
from bench.report import print_results, summarise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the harness")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rows")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results.json", help="results file"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every measurement, print the figures, write the results file."""
    args = parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    plan.postgres = not args.no_postgres
    root = Path(tempfile.mkdtemp(prefix="watchfloor-bench-"))
    started = time.perf_counter()
    try:
        ws = Workspace(root, child_env(root, hook_url=""))
        raw = run_plan(plan, ws, machine())
        raw["bench_wall_s"] = time.perf_counter() - started
        raw["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        results = summarise(raw)
        results["hostile_input"] = hostile.measure(quick=args.quick)
    finally:
        if args.keep:
            print(f"scratch folder kept: {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print_results(results)
    print()
    hostile.print_figure(results["hostile_input"])
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
