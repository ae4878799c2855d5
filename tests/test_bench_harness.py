"""`make bench` must keep working as the code under it moves: its detection part runs for real
here, in its quick size (the full run is too long for a test; `python -m bench --quick` is the
smoke test of the rest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_quick_detection_bench_runs_and_reports_both_mixes(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "detect", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    mixes = json.loads(out.read_text(encoding="utf-8"))["detection_mix"]
    assert mixes["articles"] == 200
    realistic, worst = mixes["realistic_15pct_events"], mixes["all_events"]
    assert 0 < realistic["event_articles"] < worst["event_articles"] == 200
    assert realistic["per_cpu_s"] > 0 and worst["matches"] > realistic["matches"] > 0
