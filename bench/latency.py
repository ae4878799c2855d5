"""Publication -> alert: how long one new item among many unchanged feeds takes to alert.

The bench feed server (bench/feedserver.py, its own process) serves `feeds` numbered feeds of
one item each, `slow.xml` (which sleeps `stall_s` before each answer once the stall is armed)
and `news.xml` (which gets one new item on demand). The sources file lists slow.xml first, the
numbered feeds, and news.xml last, all with `poll_interval: 1m` (the shortest a sources file
takes), so every one is due on every tick of a one-minute schedule. Alerts go to the feed
server's webhook receiver (Apprise `json://`), which records when each arrives. The item is a
North Korean ballistic missile launch on the day it is published: the shipped rules make it a
new development that alerts (`watchfloor detect` on its text says missile_launch, occurred,
that day, not background). A token in its title and link tells its alert from any other.

1. `watchfloor serve`, driven as an operator runs it, on a one-minute cron whose second is
   chosen so the first tick comes once serve has started. Its first cycle polls every feed on
   an empty store (the bench waits for it and for it to settle); the store is then copied for
   part 2. Just before a later tick at which every feed is due again, the stall is armed and
   the item published; the figures are seconds from that tick (the run's scheduled time) to
   the alert's arrival, and from publication to the alert.
2. A one-off `watchfloor run --all` on the copy (every feed polled once, so the numbered feeds
   answer 304): stall armed, item published, process started; seconds from the process's start
   to the alert, and its whole wall time (CPU from bench/rusage.py, as for the peers).

Only the command line and HTTP are driven, so the same part measures any version of the
cycle. No alert within its deadline fails the benchmark with what the feed server saw.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.infra import (
    ROOT,
    BenchError,
    Workspace,
    feed_server,
    load_average,
    start_in_group,
    stop_group,
)

ITEM_TITLE = "North Korea fires ballistic missile into East Sea"
# Dated (`{day}`: the day of publication, UTC): an undated launch report joins the latest
# North Korean launch the store holds (the first poll stores several, dated months back), and
# raises no alert of its own.
ITEM_TEXT = (
    "North Korea fired a ballistic missile into the East Sea on {day}, South Korea's Joint "
    "Chiefs of Staff said. The missile flew about 800 kilometres after it was launched from near "
    "Pyongyang, the military said.\n\nJapan's defence ministry said the missile fell outside "
    "its exclusive economic zone."
)
PUBLISH_LEAD_S = 2.0  # the item is published this long before the measured tick
FIRST_TICK_AFTER_S = 45.0  # serve's first tick this long after it starts (its start-up)
DUE_AGAIN_S = 35.0  # a 1-minute source is due again this long after its fetch (30 s slack)
QUIET_S = 5.0  # serve's first cycle is over once no feed or hook was seen for this long
SERVE_START_TIMEOUT_S = 420.0  # start-up, the first tick and the first poll
ALERT_TIMEOUT_S = 240.0  # beyond the stall: no alert by then fails the benchmark
CYCLE_END_TIMEOUT_S = 180.0  # beyond the stall: the measured cycle must have polled every feed
RUN_TIMEOUT_S = 900.0


@dataclass(frozen=True, slots=True)
class Setup:
    """What both measurements share: the feed server, the sources file and the environment."""

    server: str
    sources: Path
    feeds: int
    stall_s: float
    env: dict[str, str]
    folder: Path


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def call(server: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """GET `path` (no payload) or POST `payload` as JSON; the JSON answer."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(server + path, data=data)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def write_sources(path: Path, server: str, feeds: int) -> Path:
    """slow.xml, the numbered feeds, news.xml: every one polled at most a minute apart."""
    urls = [f"{server}/feed/slow.xml"]
    urls += [f"{server}/feed/{i}.xml" for i in range(feeds)]
    urls += [f"{server}/feed/news.xml"]
    lines = ["defaults:", "  kind: rss", "  poll_interval: 1m", "sources:"]
    for i, url in enumerate(urls):
        lines += [f"  - name: latency-{i:04d}", f"    url: {url}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def publish(setup: Setup) -> tuple[float, str]:
    """Forget the feed server's events, arm the stall, publish a new item: (when, its token)."""
    token = uuid.uuid4().hex[:10]
    call(setup.server, "/reset", {})
    call(setup.server, "/stall", {"seconds": setup.stall_s})
    today = datetime.now(UTC)
    text = ITEM_TEXT.format(day=f"{today:%B} {today.day}")
    item = {"guid": f"latency-{token}", "title": f"{ITEM_TITLE} ({token})", "text": text}
    published_at = float(call(setup.server, "/publish", item)["published_at"])
    return published_at, token


def alert_arrival(server: str, token: str) -> float | None:
    """When the first webhook naming `token` arrived, or None."""
    hooks = call(server, "/events")["hooks"]
    return next((float(h["at"]) for h in hooks if token in h["body"]), None)


def wait_for_alert(server: str, token: str, timeout_s: float, log_path: Path) -> float:
    """The arrival time of the item's alert; BenchError after `timeout_s` without one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        arrived = alert_arrival(server, token)
        if arrived is not None:
            return arrived
        time.sleep(0.1)
    raise BenchError(
        f"no alert for the published item within {timeout_s:.0f} s; the feed server saw "
        f"{json.dumps(_seen(call(server, '/events')))}; log {log_path}"
    )


def _seen(events: dict[str, Any]) -> dict[str, Any]:
    """The feed server's events without the hooks' bodies (for an error message)."""
    return {**events, "hooks": len(events["hooks"])}


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store, even one a process has open (SQLite's backup)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# --- serve ------------------------------------------------------------------------------------


def next_tick(after: float, second: int) -> float:
    """The first tick at or after `after` of a cron firing every minute at `second` (UTC)."""
    tick = math.floor((after - second) / 60) * 60 + second
    return tick if tick >= after else tick + 60


def wait_for_first_cycle(setup: Setup, proc: subprocess.Popen[bytes], log_path: Path) -> float:
    """Wait until serve's first cycle has fetched every feed and gone quiet; the time of its
    last activity (a feed answered or a webhook received)."""
    deadline = time.monotonic() + SERVE_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"serve exited with {proc.returncode}; log {log_path}")
        events = call(setup.server, "/events")
        feeds = events["feeds"]
        every = feeds["200"] + feeds["304"] >= setup.feeds
        fetched = every and bool(events["news"]) and bool(events["slow"])
        last = max([feeds["last_at"] or 0.0] + [h["at"] for h in events["hooks"]])
        if fetched and time.time() - last >= QUIET_S:
            return last
        time.sleep(0.5)
    raise BenchError(
        f"serve's first cycle did not poll every feed within {SERVE_START_TIMEOUT_S:.0f} s; the "
        f"feed server saw {json.dumps(_seen(call(setup.server, '/events')))}; log {log_path}"
    )


def wait_for_cycle_end(setup: Setup, log_path: Path) -> dict[str, Any]:
    """The feed server's events once the measured poll has fetched every numbered feed and
    asked for the slow one; BenchError if it does not (then the figures would not be those of
    a poll of every feed)."""
    deadline = time.monotonic() + setup.stall_s + CYCLE_END_TIMEOUT_S
    while time.monotonic() < deadline:
        events = call(setup.server, "/events")
        if events["feeds"]["304"] + events["feeds"]["200"] >= setup.feeds and events["slow"]:
            return dict(events)
        time.sleep(0.5)
    raise BenchError(
        f"the measured poll did not fetch every feed; the feed server saw "
        f"{json.dumps(_seen(call(setup.server, '/events')))}; log {log_path}"
    )


def measure_serve(setup: Setup, store: Path, copy: Path) -> dict[str, Any]:
    """`watchfloor serve`: tick -> alert and publication -> alert for an item published just
    before a tick; `copy` gets the store as serve's first cycle left it."""
    cli = str(Path(sys.executable).parent / "watchfloor")
    second = int(time.time() + FIRST_TICK_AFTER_S) % 60
    cron = f"* * * * * {second}"
    log_path = setup.folder / "serve.log"
    argv = [cli, "serve", "--cron", cron, "--sources", str(setup.sources)]
    argv += ["--db", f"sqlite:///{store}"]
    call(setup.server, "/reset", {})
    call(setup.server, "/stall", {"seconds": 0})
    log(f"latency: watchfloor serve --cron '{cron}' over {setup.feeds:,} feeds; first cycle")
    with log_path.open("wb") as out:
        proc = start_in_group(argv, setup.folder, setup.env, out)
        try:
            settled = wait_for_first_cycle(setup, proc, log_path)
            copy_store(store, copy)
            tick = next_tick(settled + DUE_AGAIN_S, second)
            log(
                f"latency: serve's first cycle done; publishing before the tick at +"
                f"{tick - time.time():.0f} s"
            )
            time.sleep(max(0.0, tick - PUBLISH_LEAD_S - time.time()))
            published_at, token = publish(setup)
            arrived = wait_for_alert(
                setup.server, token, tick - time.time() + setup.stall_s + ALERT_TIMEOUT_S, log_path
            )
            events = wait_for_cycle_end(setup, log_path)
        finally:
            stop_serve(proc)
    return {
        "cron": cron,
        "tick_to_alert_s": arrived - tick,
        "publication_to_alert_s": arrived - published_at,
        "published_before_tick_s": tick - published_at,
        **cycle_figures(events, tick),
    }


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to serve (its clean stop), then its whole process group if anything is left."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    stop_group(proc)


def cycle_figures(events: dict[str, Any], start: float) -> dict[str, Any]:
    """What the measured poll did, in seconds from `start` (the tick, or the process start)."""
    feeds, slow = events["feeds"], events["slow"]
    news = next((n["at"] for n in events["news"] if n["status"] == 200), None)
    return {
        "to_first_fetch_s": feeds["first_at"] - start,
        "to_last_fetch_s": feeds["last_at"] - start,
        "to_news_fetch_s": news - start if news else None,
        "to_slow_request_s": slow[0]["start"] - start,
        "slow_requests": len(slow),
        "responses_304": feeds["304"],
        "responses_200": feeds["200"],
        "alerts_received": len(events["hooks"]),
    }


# --- one-off run ------------------------------------------------------------------------------


def measure_run(setup: Setup, store: Path) -> dict[str, Any]:
    """A one-off `watchfloor run --all`: process start -> alert, and the process's wall time,
    CPU (children included) and peak RSS, from bench/rusage.py."""
    cli = str(Path(sys.executable).parent / "watchfloor")
    usage_path = setup.folder / "run.rusage.json"
    log_path = setup.folder / "run.log"
    launcher = [sys.executable, "-I", "-S", str(ROOT / "bench" / "rusage.py"), str(usage_path)]
    argv = [cli, "run", "--all", "--sources", str(setup.sources), "--db", f"sqlite:///{store}"]
    log(f"latency: one-off watchfloor run --all over {setup.feeds:,} feeds")
    published_at, token = publish(setup)
    with log_path.open("wb") as out:
        started = time.time()
        proc = start_in_group(launcher + argv, setup.folder, setup.env, out)
        try:
            proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            message = f"watchfloor run took over {RUN_TIMEOUT_S:.0f} s; log {log_path}"
            raise BenchError(message) from None
        finally:
            ended = time.time()
            stop_group(proc)
    usage = json.loads(usage_path.read_text()) if usage_path.exists() else {}
    if usage.get("exit_code") != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise BenchError(f"watchfloor run ended with {usage.get('exit_code')}:\n{tail}")
    # The run sends before it exits: its alert is there now or never.
    arrived = wait_for_alert(setup.server, token, 5.0, log_path)
    events = wait_for_cycle_end(setup, log_path)
    return {
        "start_to_alert_s": arrived - started,
        "process_s": ended - started,
        "publication_to_alert_s": arrived - published_at,
        "cpu_s": usage["user_s"] + usage["system_s"],
        "peak_rss_mb": usage["maxrss_kib"] / 1024,
        **cycle_figures(events, started),
    }


# --- the part ---------------------------------------------------------------------------------


def run(ws: Workspace, feeds: int, stall_s: float) -> dict[str, Any]:
    """Both measurements on their own feed server, Prefect home and stores."""
    folder = ws.path("latency")
    folder.mkdir(parents=True, exist_ok=True)
    with feed_server(ws, feeds, 1) as server:
        port = server.rsplit(":", 1)[1]
        env = ws.env | {
            "PREFECT_HOME": str(ws.prefect_home(folder)),
            "WATCHFLOOR_NOTIFY_URLS": json.dumps([f"json://127.0.0.1:{port}/hook"]),
        }
        sources = write_sources(folder / "sources.yaml", server, feeds)
        setup = Setup(server, sources, feeds, stall_s, env, folder)
        serve = measure_serve(setup, folder / "serve.db", folder / "run.db")
        one_off = measure_run(setup, folder / "run.db")
    return {
        "feeds": feeds,
        "stall_s": stall_s,
        "serve": serve,
        "run": one_off,
        "load_average_at_end": load_average(),
    }
