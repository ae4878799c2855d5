"""Watchfloor next to the tools a user would pick instead, as whole processes on the same feeds.

The tools: `watchfloor run --all` (this checkout), the naive script (bench/peer_naive.py:
feedparser, a keyword regex, sqlite3), and rss2email 3.14 and feed2exec 0.23.0, each installed
from the package index into a throwaway venv in the scratch folder (a peer that does not
install is reported as not installed; the benchmark goes on). Every tool polls the same feeds of
the bench feed server, each as a user would run it from cron: one process per poll, a first
poll on fresh state, then a no-change poll on the state the first one left (conditional GETs,
answered 304). rss2email runs with `--no-send` (it builds every message and records it as seen,
but mails nothing); feed2exec with its `null` output plugin (items recorded as seen, nothing
done with them). Each tool's HOME and XDG folders are its own state folder, so none reads or
writes the user's files.

Each process is measured from a bare launcher (bench/rusage.py, whose docstring says why):
wall time, CPU (user + system, the children it waited for included) and peak RSS (ru_maxrss,
the largest of it and its waited-for children). Before the first round, Watchfloor's Prefect
home (shared by all its polls) is settled once, unmeasured: Prefect creates and migrates its
database the first time its API starts in a home, ~4.6 CPU-s that a user running Watchfloor from
cron pays once, on the first run ever, like a peer's first creation of its config folder. Rounds
interleave the tools (each round runs every tool once), so the machine's load drifts over all of
them alike; the figures are medians over the rounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.infra import ROOT, Workspace, load_average, start_in_group, write_sources

PEER_PACKAGES = {"rss2email": "rss2email==3.14", "feed2exec": "feed2exec==0.23.0"}
POLLS = ("first", "nochange")
INSTALL_TIMEOUT_S = 900.0
POLL_TIMEOUT_S = 1800.0


@dataclass(frozen=True, slots=True)
class Tool:
    """One feed watcher: `prepare(state)` writes its configuration into a fresh state folder
    and returns the command line of one poll."""

    name: str
    prepare: Callable[[Path], list[str]]
    env: dict[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured process."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    responses_200: int
    responses_304: int


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- installing the peers ----------------------------------------------------------------------


def install_peer(ws: Workspace, name: str) -> tuple[Path | None, str]:
    """A throwaway venv holding peer `name`: (its bin folder, how it went), or (None, why not)."""
    venv = ws.path("peers", "venv-" + name)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            PEER_PACKAGES[name],
        ],
    ]
    log_path = ws.path("peers", f"install-{name}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log_path.open("wb") as out:
        for step in steps:
            try:
                done = subprocess.run(
                    step, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S
                )
            except subprocess.TimeoutExpired:
                return None, f"not installed: `{' '.join(step[-1:])}` timed out"
            if done.returncode != 0:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                return None, f"not installed ({PEER_PACKAGES[name]}): {' '.join(tail)[:300]}"
    return venv / "bin", f"installed {PEER_PACKAGES[name]} in {time.perf_counter() - start:.0f} s"


# --- the tools ---------------------------------------------------------------------------------


def peer_env(ws: Workspace) -> dict[str, str]:
    """The environment of a peer: the bench's, without the project on the import path."""
    return {k: v for k, v in ws.env.items() if k != "PYTHONPATH"}


def watchfloor_tool(ws: Workspace, sources: Path) -> Tool:
    """`watchfloor run --all` on a fresh SQLite store (the bench's environment: its Prefect
    home, alerts to the feed server's webhook)."""
    cli = str(Path(sys.executable).parent / "watchfloor")

    def prepare(state: Path) -> list[str]:
        db = f"sqlite:///{state / 'watchfloor.db'}"
        return [cli, "run", "--sources", str(sources), "--db", db, "--all", "--json"]

    return Tool("watchfloor", prepare, dict(ws.env))


def naive_tool(ws: Workspace, urls: list[str]) -> Tool:
    """bench/peer_naive.py with this Python (feedparser is installed here)."""
    script = str(ROOT / "bench" / "peer_naive.py")

    def prepare(state: Path) -> list[str]:
        feeds = state / "feeds.txt"
        feeds.write_text("\n".join(urls) + "\n", encoding="utf-8")
        return [sys.executable, script, str(feeds), str(state / "naive.db")]

    return Tool("naive script", prepare, peer_env(ws))


def rss2email_tool(ws: Workspace, bin_dir: Path, urls: list[str]) -> Tool:
    """rss2email: its defaults, one `[feed.NAME]` section per feed, `run --no-send`."""

    def prepare(state: Path) -> list[str]:
        lines = ["[DEFAULT]", "to = bench@example.invalid", ""]
        for i, url in enumerate(urls):
            lines += [f"[feed.bench-feed-{i:04d}]", f"url = {url}", ""]
        config = state / "rss2email.cfg"
        config.write_text("\n".join(lines), encoding="utf-8")
        data = str(state / "rss2email.json")
        return [str(bin_dir / "r2e"), "-c", str(config), "-d", data, "run", "--no-send"]

    return Tool("rss2email", prepare, peer_env(ws))


def feed2exec_tool(ws: Workspace, bin_dir: Path, urls: list[str]) -> Tool:
    """feed2exec: one section per feed with the `null` output plugin, `fetch` (sequential, its
    default), its item cache and HTTP cache in one SQLite file."""

    def prepare(state: Path) -> list[str]:
        lines = []
        for i, url in enumerate(urls):
            lines += [
                f"[bench-feed-{i:04d}]",
                f"url = {url}",
                "output = feed2exec.plugins.null",
                "",
            ]
        config = state / "feed2exec.ini"
        config.write_text("\n".join(lines), encoding="utf-8")
        database = str(state / "feed2exec.db")
        return [
            str(bin_dir / "feed2exec"),
            "--config",
            str(config),
            "--database",
            database,
            "fetch",
        ]

    return Tool("feed2exec", prepare, peer_env(ws))


# --- measuring ---------------------------------------------------------------------------------


def server_call(server: str, path: str) -> bytes:
    """GET /stats or POST /reset on the feed server."""
    method = "POST" if path == "/reset" else "GET"
    request = urllib.request.Request(server + path, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def measure(tool: Tool, argv: list[str], state: Path, server: str, label: str) -> Sample:
    """Run one poll as its own process group under bench/rusage.py; wall time from here, CPU
    and peak RSS of the tool (children included) from the launcher's wait4()."""
    env = tool.env | {
        "HOME": str(state),
        "XDG_CONFIG_HOME": str(state / ".config"),
        "XDG_DATA_HOME": str(state / ".local" / "share"),
        "XDG_CACHE_HOME": str(state / ".cache"),
    }
    usage_path = state / f"{label}.rusage.json"
    launcher = [sys.executable, "-I", "-S", str(ROOT / "bench" / "rusage.py"), str(usage_path)]
    server_call(server, "/reset")
    with (state / f"{label}.log").open("wb") as out:
        start = time.perf_counter()
        proc = start_in_group(launcher + argv, state, env, out)
        finished = _wait(proc, start)
        wall = time.perf_counter() - start
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind in its group
    usage = json.loads(usage_path.read_text()) if usage_path.exists() else {}
    if not finished or usage.get("exit_code") != 0:
        tail = (state / f"{label}.log").read_text(errors="replace").splitlines()[-20:]
        code = usage.get("exit_code", "no exit (timed out or killed)")
        raise PeerError(f"{tool.name} {label} ended with {code}:\n" + "\n".join(tail))
    counts = json.loads(server_call(server, "/stats"))
    return Sample(
        wall_s=wall,
        cpu_s=usage["user_s"] + usage["system_s"],
        peak_rss_mb=usage["maxrss_kib"] / 1024,
        responses_200=int(counts.get("200", 0)),
        responses_304=int(counts.get("304", 0)),
    )


class PeerError(RuntimeError):
    """A tool's poll failed; the message holds the tail of its log."""


def _wait(proc: subprocess.Popen[bytes], start: float) -> bool:
    """Wait for the launcher; kill its group at POLL_TIMEOUT_S. Whether it ended by itself."""
    while proc.poll() is None:
        if time.perf_counter() - start > POLL_TIMEOUT_S:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
        time.sleep(0.005)
    return True


def run_round(
    tools: list[Tool], ws: Workspace, server: str, round_no: int, failed: dict[str, str]
) -> dict[str, Any]:
    """Every tool once: a first poll on fresh state, then a no-change poll. A peer whose poll
    fails is recorded in `failed` and left out from then on; Watchfloor failing fails the
    benchmark."""
    found: dict[str, Any] = {}
    for tool in tools:
        if tool.name in failed:
            continue
        state = ws.path("peers", "state", f"{tool.name.replace(' ', '-')}-{round_no}")
        state.mkdir(parents=True, exist_ok=True)
        argv = tool.prepare(state)
        found[tool.name] = {}
        for poll in POLLS:
            log(f"peers round {round_no + 1}: {tool.name} {poll} poll")
            try:
                found[tool.name][poll] = measure(tool, argv, state, server, poll)
            except PeerError as exc:
                if tool.name == "watchfloor":
                    raise
                failed[tool.name] = f"failed: {exc}"
                del found[tool.name]
                break
    return found


# --- the whole comparison ----------------------------------------------------------------------


def run(
    ws: Workspace, server: str, feeds: int, rounds: int, install: bool = True
) -> dict[str, Any]:
    """Install the peers, run `rounds` interleaved rounds, and summarise them."""
    urls = [f"{server}/feed/{i}.xml" for i in range(feeds)]
    ws.path("peers").mkdir(parents=True, exist_ok=True)
    sources = write_sources(ws.path("peers", f"sources-{feeds}.yaml"), server, feeds)
    tools = [watchfloor_tool(ws, sources), naive_tool(ws, urls)]
    status: dict[str, str] = {"watchfloor": "this checkout", "naive script": "bench/peer_naive.py"}
    makers = {"rss2email": rss2email_tool, "feed2exec": feed2exec_tool}
    for name, make in makers.items():
        if not install:
            status[name] = "not run (--quick runs only Watchfloor and the naive script)"
            continue
        log(f"install {PEER_PACKAGES[name]} into a throwaway venv")
        bin_dir, status[name] = install_peer(ws, name)
        if bin_dir is not None:
            tools.append(make(ws, bin_dir, urls))
    settle_prefect_home(ws)
    failed: dict[str, str] = {}
    samples = []
    for n in range(rounds):
        samples.append(run_round(tools, ws, server, n, failed))
        # Each round's samples as they come, for a run stopped before its end (with --keep).
        ws.path("peers", "rounds.json").write_text(
            json.dumps(
                [{t: {p: asdict(x) for p, x in s.items()} for t, s in r.items()} for r in samples]
            )
        )
    status.update(failed)
    measured = [tool for tool in tools if tool.name not in failed]
    return summarise(measured, samples, status, feeds, rounds)


def settle_prefect_home(ws: Workspace) -> None:
    """Start and stop Prefect's temporary API once in Watchfloor's Prefect home, as
    `watchfloor run` does: Prefect creates its database there on the first start."""
    log("settle Watchfloor's Prefect home (its database is created on the first start)")
    code = "from flows.prefectapi.server import start_server\nstart_server().stop()\n"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ws.env, check=True)


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarise(
    tools: list[Tool],
    samples: list[dict[str, Any]],
    status: dict[str, str],
    feeds: int,
    rounds: int,
) -> dict[str, Any]:
    """Medians per tool and poll, and Watchfloor / peer ratios."""
    figures: dict[str, Any] = {}
    for tool in tools:
        figures[tool.name] = {}
        for poll in POLLS:
            runs: list[Sample] = [s[tool.name][poll] for s in samples]
            figures[tool.name][poll] = {
                "wall_s": _median([r.wall_s for r in runs]),
                "cpu_s": _median([r.cpu_s for r in runs]),
                "peak_rss_mb": _median([r.peak_rss_mb for r in runs]),
                "responses_200": runs[-1].responses_200,
                "responses_304": runs[-1].responses_304,
                "wall_s_runs": [round(r.wall_s, 3) for r in runs],
                "cpu_s_runs": [round(r.cpu_s, 3) for r in runs],
            }
    ours = figures["watchfloor"]
    for name, peer in figures.items():
        if name == "watchfloor":
            continue
        peer["ratio_watchfloor_to_peer"] = {
            poll: {
                key: ours[poll][key] / peer[poll][key] if peer[poll][key] else None
                for key in ("wall_s", "cpu_s", "peak_rss_mb")
            }
            for poll in POLLS
        }
    return {
        "feeds": feeds,
        "rounds": rounds,
        "tools": status,
        "figures": figures,
        "load_average_at_end": load_average(),
    }


def print_figure(peers: dict[str, Any]) -> None:
    """The side-by-side table: medians and Watchfloor / peer ratios."""
    print(
        f"(f) side by side: whole processes polling the same {peers['feeds']:,} loopback feeds, "
        f"medians of {peers['rounds']} interleaved round(s)"
    )
    for name, how in peers["tools"].items():
        print(f"    {name}: {how}")
    print(
        f"    {'tool':<14}{'poll':<10}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'200s':>6}"
        f"{'304s':>6}   Watchfloor / tool: wall   CPU    MB"
    )
    for name, polls in peers["figures"].items():
        for poll in POLLS:
            f = polls[poll]
            ratio = polls.get("ratio_watchfloor_to_peer", {}).get(poll)
            shown = (
                "   ".join(_x(ratio[k]) for k in ("wall_s", "cpu_s", "peak_rss_mb"))
                if ratio
                else ""
            )
            print(
                f"    {name:<14}{poll:<10}{f['wall_s']:>8.2f}{f['cpu_s']:>8.2f}"
                f"{f['peak_rss_mb']:>9.0f}{f['responses_200']:>6}{f['responses_304']:>6}"
                f"{'':>22}{shown}"
            )
    print(f"    load average at the end: {peers['load_average_at_end']}")


def _x(value: float | None) -> str:
    return f"{value:5.2f}x" if value is not None else "   n/a"
