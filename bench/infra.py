"""What the benchmark runs on: the machine, a scratch folder, child processes, the feed server,
generated seed files and sources files, and a throwaway PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.generator import ArticleGenerator, event_sentences, write_seed_files

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
SEED = 1


class BenchError(RuntimeError):
    """A measurement failed; the message holds the tail of its log."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """The scratch folder of one benchmark run and the environment its children get."""

    root: Path
    env: dict[str, str]
    # A Prefect home whose database a temporary API already created (`--prefect-home-template`:
    # the tests hand their session's), copied into each part's new home; None in `make bench`.
    prefect_template: Path | None = None

    def path(self, *parts: str) -> Path:
        """A path inside the scratch folder."""
        return self.root.joinpath(*parts)

    def prefect_home(self, folder: Path) -> Path:
        """A new Prefect home in `folder`: empty, so that the first API started on it creates
        its database as on a new machine (~3.5 CPU-s); a copy of `prefect_template` when the
        run was given one, which spares the quick runs of the tests that creation."""
        home = folder / "prefect"
        if self.prefect_template is not None:
            shutil.copytree(self.prefect_template, home)
        return home

    def sqlite_url(self, name: str) -> str:
        """A fresh SQLite file URL in the scratch folder."""
        return f"sqlite:///{self.path('db', name + '.db')}"


def child_env(root: Path, hook_url: str) -> dict[str, str]:
    """The environment of every measured process.

    Prefect: state in the scratch folder, no telemetry, its ephemeral API (no PREFECT_API_URL),
    a generous start-up timeout (two busy cores). Watchfloor: alerts go to the feed server's
    webhook; 16 fetches at once per host, because on loopback the 1,000 feeds share one host
    that stands in for many.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHFLOOR_", "PREFECT_"))}
    env.update(
        {
            "PREFECT_HOME": str(root / "prefect"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "WATCHFLOOR_NOTIFY_URLS": json.dumps([hook_url]),
            "WATCHFLOOR_RULES_DIR": str(RULES),
            "WATCHFLOOR_FETCH_CONCURRENCY": "16",
            "WATCHFLOOR_FETCH_PER_HOST": "16",
            "WATCHFLOOR_FETCH_ALLOW_NETWORKS": "127.0.0.1",  # the feed server is on loopback
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def run_child(ws: Workspace, name: str, args: dict[str, Any], label: str) -> dict[str, Any]:
    """Run `bench.child NAME` in a fresh process; its JSON result, plus its wall time."""
    args_path, out_path = ws.path("runs", f"{label}.args.json"), ws.path("runs", f"{label}.json")
    log_path = ws.path("runs", f"{label}.log")
    args_path.parent.mkdir(parents=True, exist_ok=True)
    args_path.write_text(json.dumps(args))
    start = time.perf_counter()
    with log_path.open("wb") as log:
        argv = [sys.executable, "-m", "bench.child", name, str(args_path), str(out_path)]
        proc = start_in_group(argv, ws.root, ws.env, log)
        try:
            proc.wait()
        finally:
            stop_group(proc)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise BenchError(f"{label} failed ({proc.returncode}); log {log_path}:\n{tail}")
    result = json.loads(out_path.read_text())
    result["process_wall_s"] = wall
    return result


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages, rounded: a figure taken while other work
    ran reads high, and these say so."""
    return [round(x, 2) for x in os.getloadavg()]


def start_in_group(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], out: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start `argv` in `cwd` with `env`, its output and errors to `out`, as the leader of a
    process group of its own: `stop_group` then ends it with every process it started (a
    Prefect server, forked workers)."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End a process this benchmark started and every process of its group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def feed_server(ws: Workspace, feeds: int, items: int) -> Iterator[str]:
    """A bench.feedserver process serving `feeds` feeds of `items` items; yields its base URL."""
    log = ws.path("feedserver.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.feedserver", "--feeds", str(feeds), "--items", str(items)],
        cwd=ROOT,
        env=ws.env,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if not line.isdigit():
            raise BenchError(f"feed server did not start (see {ws.path('feedserver.log')})")
        yield f"http://127.0.0.1:{line}"
    finally:
        stop_group(proc)
        log.close()


def _write_slice(folder: str, start: int, stop: int) -> int:
    generator = ArticleGenerator(event_sentences(str(RULES)), seed=SEED)
    return write_seed_files(generator, Path(folder), start, stop)


def write_corpus(folder: Path, start: int, stop: int, workers: int = 2) -> int:
    """Seed files for articles start..stop-1 in `folder`, written by `workers` processes."""
    step = -(-(stop - start) // workers)
    bounds = [(s, min(s + step, stop)) for s in range(start, stop, step)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        sizes = pool.map(_write_slice, [str(folder)] * len(bounds), *zip(*bounds, strict=True))
        return sum(sizes)


def write_sources(path: Path, server: str, feeds: int, poll_interval: str = "10m") -> Path:
    """A sources file listing feeds 0..feeds-1 of the feed server."""
    lines = ["defaults:", "  kind: rss", f"  poll_interval: {poll_interval}", "sources:"]
    for i in range(feeds):
        lines += [f"  - name: bench-feed-{i:04d}", f"    url: {server}/feed/{i}.xml"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def postgres(ws: Workspace) -> Iterator[str | None]:
    """A throwaway PostgreSQL (tests/pgserver.py); yields its server URL, or None when the
    machine has no PostgreSQL binaries (the PostgreSQL rows are then reported as skipped)."""
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import PostgresUnavailableError, start_postgres

    try:
        url, stop = start_postgres(ws.path("pg"))
    except PostgresUnavailableError as exc:
        print(f"PostgreSQL rows skipped: {exc}", file=sys.stderr)
        yield None
        return
    try:
        yield url
    finally:
        stop()


def pg_database(server_url: str, name: str) -> str:
    """A fresh database on the throwaway server."""
    from tests.pgserver import create_database

    return create_database(server_url, name)


def machine() -> dict[str, Any]:
    """What this machine is: CPU, cores, memory, OS, Python and the libraries that matter."""
    from importlib.metadata import version

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "commit": _commit(),
        "load_average_at_start": load_average(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "prefect": version("prefect"),
        "sqlalchemy": version("sqlalchemy"),
        "feedparser": version("feedparser"),
        "pyahocorasick": version("pyahocorasick"),
        "psycopg": version("psycopg"),
    }


def _commit() -> str | None:
    """The checked-out commit, with "+changes" when the working tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return None
    return (head + ("+changes" if dirty else "")) or None
