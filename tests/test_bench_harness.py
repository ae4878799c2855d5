"""`make bench` must keep working as the code under it moves: its detection, latency and serve
parts run for real here, in their quick sizes (the full run is too long for a test; `python -m
bench --quick` is the smoke test of the rest), and the feed server's stall, publication and
webhook record are checked over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from bench.feedserver import LAST_MODIFIED, FeedServer
from bench.generator import ArticleGenerator, event_sentences
from bench.httpfloor import conditional_gets
from bench.infra import BenchError
from bench.latency import alert_arrival, wait_for_alert
from bench.report import _polls, busy_seconds
from bench.servecpu import recent_runs, session_processes
from tests.clikit import run_captured
from tests.conftest import ROOT


def quick_bench(
    part: str, tmp_path: Path, timeout: float, prefect_home: Path | None = None
) -> tuple[dict[str, Any], str]:
    """(results, printed report) of `python -m bench --quick --only part`, which must succeed;
    the Prefect homes of its parts are copies of `prefect_home` when given (its database
    already created: ~3.5 CPU-s less a home)."""
    out = tmp_path / "results.json"
    args = ["--quick", "--only", part, "--out", str(out)]
    if prefect_home is not None:
        args += ["--prefect-home-template", str(prefect_home)]
    done = run_captured(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=os.environ,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), done.stdout


def test_the_quick_detection_bench_runs_and_reports_both_mixes(tmp_path: Path) -> None:
    mixes = quick_bench("detect", tmp_path, timeout=600)[0]["detection_mix"]
    assert mixes["articles"] == 200
    realistic, worst = mixes["realistic_15pct_events"], mixes["all_events"]
    assert 0 < realistic["event_articles"] < worst["event_articles"] == 200
    assert realistic["per_cpu_s"] > 0 and worst["matches"] > realistic["matches"] > 0


@pytest.mark.slow
def test_the_quick_latency_bench_measures_an_alert_that_arrived(
    tmp_path: Path, used_prefect_home: Path
) -> None:
    results, printed = quick_bench("latency", tmp_path, timeout=480, prefect_home=used_prefect_home)
    latency = results["latency"]
    assert (latency["feeds"], latency["stall_s"]) == (20, 3.0)
    serve, run = latency["serve"], latency["run"]
    # The alert came after the tick, and after the item was published before it.
    assert 0 < serve["tick_to_alert_s"] < serve["publication_to_alert_s"]
    assert 0 < run["start_to_alert_s"] <= run["process_s"]
    for poll in (serve, run):
        # The item's alert arrived, the measured poll asked every unchanged feed (304) and the
        # stalled one, and fetched the item's feed before its alert.
        assert poll["alerts_received"] >= 1
        assert poll["responses_304"] == 20 and poll["slow_requests"] >= 1
        assert poll["to_news_fetch_s"] > 0
    assert "serve: tick -> alert" in printed and "one-off run: start -> alert" in printed


@pytest.mark.slow
def test_the_quick_serve_bench_measures_no_change_cycles(
    tmp_path: Path, used_prefect_home: Path
) -> None:
    results, printed = quick_bench("serve", tmp_path, timeout=480, prefect_home=used_prefect_home)
    figures = results["serve_cpu"]
    assert figures["feeds"] == 20 and len(figures["cycles"]) == 2
    for cycle in figures["cycles"]:
        # Every feed was asked and answered 304; nothing was alerted; the runs and serve (with
        # Prefect's API in its thread) both spent CPU, and the parts add up to the cycle's figure.
        assert (cycle["responses_304"], cycle["alerts_received"]) == (20, 0)
        assert cycle["runs_cpu_s"] > 0 and cycle["serve_cpu_s"] > 0  # serve holds the API
        parts = cycle["runs_cpu_s"] + cycle["serve_cpu_s"] + cycle["other_cpu_s"]
        assert parts == pytest.approx(cycle["cpu_s"])
    assert figures["failed_cycles"] == []  # every tick polled, every run ended before the next
    # Read from serve's own Prefect database: the measured ticks' runs completed without the
    # engine, each in its own minute.
    quiet = [line for line in figures["last_runs"] if "Completed nothing new" in line]
    assert len(quiet) >= 2 and len({line.split(" due ")[1][:8] for line in quiet}) == len(quiet)
    assert figures["ratio_to_target"] == pytest.approx(figures["median_cpu_s"] / 2.0)
    assert "(j) inside serve: one no-change cycle over 20 feeds" in printed


def test_task_runs_that_overlap_count_once_in_a_cycle_s_busy_time() -> None:
    runs = [  # detection beside ingest, a run inside another, then a gap before sending
        {"seconds": 2.0, "start": 10.0, "end": 12.0},
        {"seconds": 2.0, "start": 11.0, "end": 13.0},
        {"seconds": 0.5, "start": 11.5, "end": 12.0},
        {"seconds": 1.0, "start": 15.0, "end": 16.0},
    ]
    assert busy_seconds(runs) == pytest.approx(4.0)
    # Without times (an older run's results), as if none overlapped.
    assert busy_seconds([{"seconds": 2.0}, {"seconds": 1.5, "start": 1.0, "end": None}]) == 3.5


def test_the_floor_child_matches_and_stores_every_article(tmp_path: Path) -> None:
    """(a)'s floor runs as a child of its own beside each replay (bench.plan.replay_rounds)."""
    args, out = tmp_path / "args.json", tmp_path / "out.json"
    db = tmp_path / "floor.db"
    args.write_text(
        json.dumps(
            {
                "rules_dir": str(ROOT / "rules"),
                "seed": 1,
                "count": 50,
                "floor_url": f"sqlite:///{db}",
            }
        )
    )
    done = run_captured(
        [sys.executable, "-m", "bench.child", "floor", str(args), str(out)],
        cwd=ROOT,
        env=os.environ,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    floor = json.loads(out.read_text(encoding="utf-8"))
    assert floor["inserted"] == 50 and floor["hits"] > 0
    assert floor["total_s"] == pytest.approx(floor["match_s"] + floor["insert_s"])


def test_b_takes_the_median_no_change_poll_and_lists_them_all() -> None:
    polls = [{"poll": "first", "seconds": 15.0, "task_runs": []}] + [
        {"poll": "nochange", "seconds": s, "task_runs": []} for s in (1.1, 0.7, 1.3, 1.0, 0.9)
    ]
    raw = {
        "plan": {"feeds": 1000},
        "polls": {
            "1000": {
                "polls": polls,
                "prefect_startup_s": 8.0,
                "http_floor": {},
                "peak_rss_mb": 300.0,
            }
        },
    }
    summary = _polls(raw)
    assert summary["first"]["seconds"] == 15.0
    assert summary["nochange"]["seconds"] == 1.0  # neither the first, the last nor the middle one
    assert summary["nochange_each_s"] == [1.1, 0.7, 1.3, 1.0, 0.9]


@pytest.fixture
def feed_server() -> Iterator[tuple[FeedServer, str]]:
    """The bench feed server with 3 numbered feeds, serving from a thread of this process."""
    generator = ArticleGenerator(event_sentences(str(ROOT / "rules")), seed=1)
    server = FeedServer(0, generator, feeds=3, items=2)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_slow_feed_stalls_alone_and_unchanged_feeds_answer_304(
    feed_server: tuple[FeedServer, str],
) -> None:
    _, url = feed_server
    with httpx.Client(base_url=url, timeout=10) as client:
        etag = client.get("/feed/1.xml").headers["ETag"]
        client.post("/stall", json={"seconds": 1.5})
        stalled: list[tuple[int, float]] = []  # (status, seconds) of the slow feed's answer
        start = time.perf_counter()

        def ask_slow() -> None:
            status = httpx.get(f"{url}/feed/slow.xml", timeout=10).status_code
            stalled.append((status, time.perf_counter() - start))

        thread = threading.Thread(target=ask_slow)
        thread.start()
        time.sleep(0.2)  # the slow feed is sleeping now
        other = client.get("/feed/1.xml", headers={"If-None-Match": etag})
        other_s = time.perf_counter() - start
        thread.join()
        events = client.get("/events").json()
    assert other.status_code == 304 and other_s < 1.0
    assert stalled[0][0] == 200 and stalled[0][1] >= 1.5
    assert events["feeds"]["304"] == 1 and len(events["slow"]) == 1
    assert events["slow"][0]["end"] - events["slow"][0]["start"] >= 1.5


def test_a_published_item_changes_the_news_feed_and_hooks_are_recorded(
    feed_server: tuple[FeedServer, str],
) -> None:
    _, url = feed_server
    with httpx.Client(base_url=url, timeout=10) as client:
        before = client.get("/feed/news.xml")
        unchanged = client.get(
            "/feed/news.xml",
            headers={"If-None-Match": before.headers["ETag"], "If-Modified-Since": LAST_MODIFIED},
        )
        item = {"guid": "g-1", "title": "Launch <b>now</b>", "text": "One.\n\nTwo."}
        published_at = client.post("/publish", json=item).json()["published_at"]
        after = client.get(
            "/feed/news.xml",
            headers={"If-None-Match": before.headers["ETag"], "If-Modified-Since": LAST_MODIFIED},
        )
        client.post("/hook", content=b'{"title": "alert g-1"}')
        events = client.get("/events").json()
    assert unchanged.status_code == 304
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    entries = feedparser.parse(after.content).entries
    assert entries[0].title == "Launch <b>now</b>" and entries[0].id == "g-1"
    assert len(entries) == 3  # the published item on top of the feed's own two
    assert [n["status"] for n in events["news"]] == [200, 304, 200]
    assert events["hooks"][0]["body"] == '{"title": "alert g-1"}'
    assert events["hooks"][0]["at"] >= published_at
    assert alert_arrival(url, "g-1") == events["hooks"][0]["at"]


def test_the_http_floor_times_one_conditional_get_per_feed_answered_304(
    feed_server: tuple[FeedServer, str],
) -> None:
    _, url = feed_server
    httpx.post(f"{url}/reset")
    floor = conditional_gets(url, feeds=3, rounds=2)
    counts = httpx.get(f"{url}/stats").json()
    assert counts["200"] == 3 and counts["304"] == 6  # the validators' GETs, then two rounds
    assert floor["requests"] == 3 and len(floor["rounds"]) == 2
    walls = [r["seconds"] for r in floor["rounds"]]
    assert 0 < min(walls) <= floor["seconds"] <= max(walls)


def test_waiting_for_an_alert_that_never_comes_fails_loudly(
    feed_server: tuple[FeedServer, str], tmp_path: Path
) -> None:
    _, url = feed_server
    httpx.post(f"{url}/hook", content=b"another alert")
    with pytest.raises(BenchError, match="no alert for the published item within 1 s"):
        wait_for_alert(url, "never-published", 1.0, tmp_path / "serve.log")


def test_a_failed_serve_cycle_is_reported_with_the_session_s_processes_and_threads() -> None:
    # A process in a session of its own, whose second thread sleeps: two threads, both waiting
    # (the main one for the other at its exit).
    code = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start()"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        lines = session_processes(proc.pid)
        while time.monotonic() < deadline and _threads_waiting(lines) != 2:
            time.sleep(0.05)
            lines = session_processes(proc.pid)
        [line] = lines
        assert line.startswith(f"pid {proc.pid} (parent {os.getpid()}, ")
        assert "threading.Thread(target=time.sleep" in line
        assert _threads_waiting([line]) == 2
    finally:
        proc.kill()
        proc.wait()


def _threads_waiting(lines: list[str]) -> int:
    """The threads a process line counts as waiting somewhere in the kernel (not "running")."""
    counts = "".join(lines).partition("; threads: ")[2].split(", ")
    return sum(
        int(n) for n, _, where in (c.partition(" in ") for c in counts) if n and where != "running"
    )


def test_the_runs_of_a_prefect_database_that_cannot_be_read_are_said_so(tmp_path: Path) -> None:
    [line] = recent_runs(tmp_path / "missing.db")
    assert line.startswith("(Prefect's database not read: ")
