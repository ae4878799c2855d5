"""Prefect as the CLI runs it on a small machine: generous ephemeral-server start-up, no
analytics, and no ephemeral server left behind by a killed CLI. Real processes, read in /proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flows.apiserver import APP_FACTORY
from tests.clikit import WATCHFLOOR
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parents[2]
# What Prefect itself reads, in a process that imported the CLI the way the console script does.
PROBE = """
import json, os
import flows.cli
from prefect.settings import get_current_settings
settings = get_current_settings()
print(json.dumps({
    "startup_timeout": settings.server.ephemeral.startup_timeout_seconds,
    "analytics": settings.server.analytics_enabled,
    "do_not_track": os.environ.get("DO_NOT_TRACK"),
}))
"""
SERVER_COMMAND = APP_FACTORY  # on the server process's command line
# Upper bounds of the polling loops below, generous for a loaded machine: not speed assertions.
SERVER_START_LIMIT_S = 240.0
SERVER_GONE_LIMIT_S = 60.0


def bare_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who set none of Prefect's settings (the test suite sets some)."""
    drop = {"DO_NOT_TRACK", "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_API_URL"}
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
    assert probe(tmp_path) == {"startup_timeout": 120, "analytics": False, "do_not_track": "1"}


def test_a_users_explicit_prefect_settings_win(tmp_path: Path) -> None:
    seen = probe(
        tmp_path,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300",
        PREFECT_SERVER_ANALYTICS_ENABLED="true",
        DO_NOT_TRACK="0",
    )
    assert seen == {"startup_timeout": 300, "analytics": True, "do_not_track": "0"}


def test_a_setting_in_the_active_prefect_profile_wins(tmp_path: Path) -> None:
    home = tmp_path / ".prefect"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "small"\n\n[profiles.small]\n'
        'PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "45"\n',
        encoding="utf-8",
    )
    assert probe(tmp_path)["startup_timeout"] == 45


# --- a killed CLI takes its ephemeral server down ----------------------------------------------


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


def ephemeral_server_of(cli: subprocess.Popen[bytes]) -> int | None:
    if cli.poll() is not None:
        raise AssertionError(f"the CLI ended (exit {cli.returncode}) before its server started")
    servers = [pid for pid in children_of(cli.pid) if SERVER_COMMAND in command_line(pid)]
    return servers[0] if servers else None


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_replay_leaves_no_ephemeral_server(tmp_path: Path, sig: signal.Signals) -> None:
    # Many copies of the seeds, so the replay is still running when its server is up.
    corpus = tmp_path / "articles"
    corpus.mkdir()
    for copy in range(40):
        for seed in SEEDS.iterdir():
            if seed.is_file():
                (corpus / f"{copy:02d}-{seed.name}").write_bytes(seed.read_bytes())
    cli = subprocess.Popen(
        [WATCHFLOOR, "replay", str(corpus), "--db", f"sqlite:///{tmp_path / 'kill.db'}"],
        cwd=tmp_path,
        env=bare_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server: int | None = None
    try:
        found = wait_for(
            lambda: ephemeral_server_of(cli), SERVER_START_LIMIT_S, "the ephemeral server started"
        )
        assert isinstance(found, int) and alive(found)
        server = found
        cli.send_signal(sig)
        cli.wait(timeout=SERVER_GONE_LIMIT_S)
        wait_for(lambda: not alive(found), SERVER_GONE_LIMIT_S, f"server {found} stopped")
        if sig == signal.SIGTERM:
            assert cli.returncode == 128 + signal.SIGTERM, "a clean exit, not a kill"
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        if server is not None and alive(server):  # a failed run must not leave it either
            os.kill(server, signal.SIGKILL)


# --- the CLI starts Prefect's temporary API itself (flows.apiserver) ---------------------------

# A replay in a process that reports, after the command, whether Prefect's server package was
# imported there and which servers it left running.
REPLAY_PROBE = """
import json, sys
from pathlib import Path
from tests.flows.test_cli_prefect import SERVER_COMMAND, children_of, command_line
from flows.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({
    "exit": code,
    "server_package_imported": "prefect.server.api.server" in sys.modules,
    "servers_left": [p for p in children_of(__import__("os").getpid())
                     if SERVER_COMMAND in command_line(p)],
}), file=sys.stderr)
"""


def servers_started_with_home(home: Path) -> list[int]:
    """Live Prefect API servers whose environment names `home` as PREFECT_HOME."""
    marker = f"PREFECT_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and SERVER_COMMAND in command_line(int(entry.name)):
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker in environ and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_a_replay_runs_on_an_api_it_started_without_importing_prefects_server(
    tmp_path: Path,
) -> None:
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
    assert facts == {"exit": 0, "server_package_imported": False, "servers_left": []}
    report = json.loads(result.stdout)
    assert report["articles"] == 5 and report["developments"], "the flow ran on that API"
    assert "Error logging to API" not in result.stderr, "the run's last logs reached the API"


def test_an_api_that_does_not_answer_in_time_is_one_line_and_leaves_no_server(
    tmp_path: Path,
) -> None:
    home = tmp_path / ".prefect"
    result = subprocess.run(
        [WATCHFLOOR, "replay", str(SEEDS), "--db", f"sqlite:///{tmp_path / 'slow.db'}"],
        cwd=tmp_path,
        env=bare_environment(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1"),
        capture_output=True,
        text=True,
        timeout=SERVER_START_LIMIT_S,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert errors == [
        "error Prefect's temporary API server did not answer within 1 s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); a loaded machine may need more"
    ]
    assert servers_started_with_home(home) == []
