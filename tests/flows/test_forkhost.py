"""The fork host (tests/forkhost.py) that starts the tests' `replay` and `run` commands: each
fork reads Prefect's settings from its own environment, not the host's, and reports how it
ended, as a process started from the console script would."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

from tests.clikit import run_watchfloor, start_forked
from tests.conftest import ROOT

SEEDS = ROOT / "seeds"
TEMPORARY_API = "Starting temporary server on http://127.0.0.1:"


def test_each_fork_reads_prefects_settings_from_its_own_environment(
    tmp_path: Path, prefect_api_url: str, used_prefect_home: Path
) -> None:
    on_session_api = tmp_path / "session"
    on_session_api.mkdir()
    session = run_watchfloor(
        "replay", str(SEEDS), "--db", f"sqlite:///{on_session_api / 'w.db'}",
        cwd=on_session_api, env={"PREFECT_API_URL": prefect_api_url},
    )  # fmt: skip
    assert session.returncode == 0, session.stderr[-3000:]
    assert TEMPORARY_API not in session.stderr, "it used the API its environment names"

    own_api = tmp_path / "own"
    own_api.mkdir()
    shutil.copytree(used_prefect_home, own_api / ".prefect")
    own = run_watchfloor(
        "replay", str(SEEDS), "--db", f"sqlite:///{own_api / 'w.db'}",
        cwd=own_api,
    )  # fmt: skip
    assert own.returncode == 0, own.stderr[-3000:]
    assert TEMPORARY_API in own.stderr, "without PREFECT_API_URL it served its own API"


def test_a_fork_killed_in_its_own_group_reports_the_signal(tmp_path: Path) -> None:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        command = start_forked(
            ["replay", str(SEEDS), "--db", f"sqlite:///{tmp_path / 'w.db'}"],
            cwd=tmp_path, env={"PREFECT_HOME": str(tmp_path / ".prefect")},
            stdout=out, stderr=err, new_session=True,
        )  # fmt: skip
        assert command.poll() is None, "a replay takes longer than its start"
        os.killpg(command.pid, signal.SIGKILL)  # its group alone: not this test's
        assert command.wait(timeout=60) == -signal.SIGKILL
        assert command.poll() == -signal.SIGKILL
