"""Prefect as the CLI runs it on a small machine: generous temporary-API start-up, no
analytics, and no API or process left behind by a finished or killed CLI. Real processes, read
in /proc. A replay that is to start its temporary API and run gets a copy of a Prefect home used
before (`used_prefect_home`: its database created, no flow run in it), as on a machine where
Prefect ran already: what is checked comes after the start, which is spared creating it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.clikit import WATCHFLOOR

ROOT = Path(__file__).resolve().parents[2]
# Not imported from tests.conftest: REPLAY_PROBE imports this module in a CLI process, where
# the conftest would give Prefect a new, empty home instead of the test's.
SEEDS = ROOT / "seeds"
# What Prefect itself reads, in a process that imported the CLI the way the console script does.
PROBE = """
import json, os
import flows.cli.app
from prefect.settings import get_current_settings
settings = get_current_settings()
print(json.dumps({
    "startup_timeout": settings.server.ephemeral.startup_timeout_seconds,
    "analytics": settings.server.analytics_enabled,
    "do_not_track": os.environ.get("DO_NOT_TRACK"),
    "key_value_beartype_off": os.environ.get("PY_KEY_VALUE_DISABLE_BEARTYPE"),
    "triggers": settings.server.services.triggers.enabled,
    "register_blocks": settings.server.register_blocks_on_start,
}))
"""
API_STARTED = re.compile(r"Starting temporary server on http://127\.0\.0\.1:(\d+)")
# Upper bounds of the polling loops below, generous for a loaded machine: not speed assertions.
SERVER_START_LIMIT_S = 240.0
SERVER_GONE_LIMIT_S = 60.0


def bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who set none of Prefect's settings (the test suite sets some)."""
    drop = {
        "DO_NOT_TRACK",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "PREFECT_API_URL",
        "PY_KEY_VALUE_DISABLE_BEARTYPE",
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",
        "PREFECT_SERVER_REGISTER_BLOCKS_ON_START",
    }
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in drop and not name.startswith("PREFECT_SERVER_EPHEMERAL")
    }
    return {**env, "PREFECT_HOME": str(tmp_path / ".prefect"), **extra}


def probe(tmp_path: Path, **extra: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=bare_environment(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_prefect_sees_the_cli_defaults(tmp_path: Path) -> None:
    assert probe(tmp_path) == {
        "startup_timeout": 120,
        "analytics": False,
        "do_not_track": "1",
        "key_value_beartype_off": "true",
        "triggers": False,
        "register_blocks": False,
    }


def test_a_users_explicit_prefect_settings_win(tmp_path: Path) -> None:
    seen = probe(
        tmp_path,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300",
        PREFECT_SERVER_ANALYTICS_ENABLED="true",
        DO_NOT_TRACK="0",
        PY_KEY_VALUE_DISABLE_BEARTYPE="false",
        PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED="true",
        PREFECT_SERVER_REGISTER_BLOCKS_ON_START="true",
    )
    assert seen == {
        "startup_timeout": 300,
        "analytics": True,
        "do_not_track": "0",
        "key_value_beartype_off": "false",
        "triggers": True,
        "register_blocks": True,
    }


def test_a_setting_in_the_active_prefect_profile_wins(tmp_path: Path) -> None:
    home = tmp_path / ".prefect"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "small"\n\n[profiles.small]\n'
        'PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "45"\n',
        encoding="utf-8",
    )
    assert probe(tmp_path)["startup_timeout"] == 45


# --- a killed CLI takes its temporary API down ------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (psutil is not installed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped by whoever adopted it has stopped)."""
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition: Callable[[], object], limit_s: float, what: str) -> object:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {limit_s:.0f} s")


def api_port_in(lines: list[str]) -> int | None:
    """The port of the temporary API a CLI logged it started, if it did."""
    for line in lines:
        found = API_STARTED.search(line)
        if found:
            return int(found.group(1))
    return None


def answers(port: int) -> bool:
    """Prefect's API on this loopback port answers its health check."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def collect_lines(stream: IO[bytes], lines: list[str]) -> threading.Thread:
    """Read a process's output in a thread (so it never blocks on a full pipe) into `lines`."""

    def read() -> None:
        for raw in stream:
            lines.append(raw.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_replay_leaves_no_api_and_no_process(
    tmp_path: Path, sig: signal.Signals, used_prefect_home: Path
) -> None:
    # Many copies of the seeds, so the replay is still running when its API is up.
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for copy in range(40):
        for seed in SEEDS.iterdir():
            if seed.is_file():
                (corpus / f"{copy:02d}-{seed.name}").write_bytes(seed.read_bytes())
    home = tmp_path / ".prefect"
    shutil.copytree(used_prefect_home, home)
    cli = subprocess.Popen(
        [WATCHFLOOR, "replay", str(corpus), "--db", f"sqlite:///{tmp_path / 'kill.db'}"],
        cwd=tmp_path,
        env=bare_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert cli.stderr is not None
    lines: list[str] = []
    reader = collect_lines(cli.stderr, lines)
    try:
        found = wait_for(lambda: api_port_in(lines), SERVER_START_LIMIT_S, "the API started")
        assert isinstance(found, int)
        port = found
        wait_for(lambda: answers(port), SERVER_START_LIMIT_S, "the API answered")
        assert cli.poll() is None, "the replay was still running when its API answered"
        cli.send_signal(sig)
        cli.wait(timeout=SERVER_GONE_LIMIT_S)
        if sig == signal.SIGTERM:
            assert cli.returncode == 128 + signal.SIGTERM, "a clean exit, not a kill"
        assert not answers(port)
        wait_for(lambda: not processes_with_home(home), SERVER_GONE_LIMIT_S, "its processes ended")
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        reader.join(timeout=10)


# --- the CLI starts Prefect's temporary API itself (flows.prefectapi.server) ------------------

# A replay in a process that reports, after the command, the threads and processes it left and
# whether the temporary API it logged still answers.
# flows.cli.app first, as the console script imports it: it sets Prefect's defaults (a start-up
# timeout for a loaded machine) before anything imports Prefect.
REPLAY_PROBE = """
import json, os, sys, threading
from flows.cli.app import app
from tests.flows.test_cli_prefect import answers, children_of, command_line
from flows.prefectapi import server as apiserver
ports = []
start = apiserver.TemporaryApi.start
def recording_start(api):
    ports.append(api.port)
    start(api)
apiserver.TemporaryApi.start = recording_start
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({
    "exit": code,
    "apis_started": len(ports),
    "api_answers_after": any(answers(port) for port in ports),
    "api_threads_left": [t.name for t in threading.enumerate() if t.name == apiserver.THREAD_NAME],
    "subprocess_servers": [p for p in children_of(os.getpid()) if "uvicorn" in command_line(p)],
}), file=sys.stderr)
"""


def processes_with_home(home: Path) -> list[int]:
    """Live processes whose environment names `home` as PREFECT_HOME: whatever a CLI given
    that home started (a Prefect API subprocess, an orphan watcher, a forkserver)."""
    marker = f"PREFECT_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_a_replay_runs_on_an_api_it_serves_itself_and_stops(
    tmp_path: Path, used_prefect_home: Path
) -> None:
    shutil.copytree(used_prefect_home, tmp_path / ".prefect")
    store = f"sqlite:///{tmp_path / 'probe.db'}"
    result = subprocess.run(
        [sys.executable, "-c", REPLAY_PROBE, "replay", str(SEEDS), "--json", "--db", store],
        cwd=ROOT,
        env=bare_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=SERVER_START_LIMIT_S,
        check=False,
    )
    facts = json.loads(result.stderr.strip().splitlines()[-1])
    assert facts == {
        "exit": 0,
        "apis_started": 1,
        "api_answers_after": False,
        "api_threads_left": [],
        "subprocess_servers": [],  # Prefect's client started no server of its own
    }
    report = json.loads(result.stdout)
    assert report["articles"] == 5 and report["developments"], "the flow ran on that API"
    assert "Error logging to API" not in result.stderr, "the run's last logs reached the API"
    with contextlib.closing(sqlite3.connect(tmp_path / ".prefect" / "prefect.db")) as api_db:
        flow_runs, block_types = api_db.execute(
            "SELECT (SELECT count(*) FROM flow_run), (SELECT count(*) FROM block_type)"
        ).fetchone()
    assert flow_runs == 1, "the run was recorded in the home's database"
    assert block_types == 0, (
        "the API wrote none of Prefect's block types (flows/prefectapi/process.py)"
    )


def replay_error_lines(tmp_path: Path, env: dict[str, str]) -> list[str]:
    """The `error` lines of a `watchfloor replay` that must fail with exit 1 and no traceback."""
    result = subprocess.run(
        [WATCHFLOOR, "replay", str(SEEDS), "--db", f"sqlite:///{tmp_path / 'store.db'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SERVER_START_LIMIT_S,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error")]


def test_an_api_that_does_not_answer_in_time_is_one_line_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    home = tmp_path / ".prefect"
    env = bare_environment(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")
    assert replay_error_lines(tmp_path, env) == [
        "error Prefect's temporary API server did not answer within 1 s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); a loaded machine may need more"
    ]
    # Its orphan watcher sees it gone and ends too.
    wait_for(lambda: not processes_with_home(home), SERVER_GONE_LIMIT_S, "its processes ended")


def test_an_api_whose_database_cannot_open_is_one_line_naming_the_prefect_home(
    tmp_path: Path,
) -> None:
    home = tmp_path / "not-a-folder"
    home.write_text("a file where Prefect's home should be\n", encoding="utf-8")
    env = {**bare_environment(tmp_path), "PREFECT_HOME": str(home)}
    assert replay_error_lines(tmp_path, env) == [
        f"error Prefect's temporary API server stopped while starting (PREFECT_HOME {home}): "
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
    ]
