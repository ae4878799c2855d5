"""Progress on a terminal: the installed CLI under a real pseudo-terminal draws progress bars
that finish; with --json, or when its output is a pipe, it prints none. The replays use the
session's Prefect API: what they show is not about the temporary API a process starts."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from pathlib import Path

from tests.clikit import WATCHFLOOR
from tests.conftest import SEEDS
from tests.flows.test_cli import watchfloor

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A line of a progress bar: what it counts, the bar, done/total.
PROGRESS = re.compile(r"^(read (files|sources)|detect articles)\b.*━.* \d+/[\d?]+", re.MULTILINE)


def in_terminal(*args: str, cwd: Path, api_url: str, timeout: float = 300) -> tuple[int, str]:
    """Run the CLI on the Prefect API at `api_url` with stdin, stdout and stderr on a
    pseudo-terminal; (exit status, what the terminal showed, escapes removed and carriage
    returns as line breaks)."""
    master, slave = os.openpty()
    env = {
        **os.environ,
        "PREFECT_HOME": str(cwd / ".prefect"),
        "PREFECT_API_URL": api_url,
        "TERM": "xterm-256color",
        "COLUMNS": "120",
    }
    process = subprocess.Popen(
        [WATCHFLOOR, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            shown += data
        status = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    text = _ESCAPES.sub("", shown.decode("utf-8", "replace")).replace("\r", "\n")
    return status, text


def test_a_replay_on_a_terminal_shows_progress_bars_that_finish(
    tmp_path: Path, prefect_api_url: str
) -> None:
    status, shown = in_terminal(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'tty.db'}",
        cwd=tmp_path,
        api_url=prefect_api_url,
    )
    assert status == 0, shown[-3000:]
    bars = [m.group(0) for m in PROGRESS.finditer(shown)]
    assert any(line.startswith("read files") and "0/5" in line for line in bars), bars
    assert any(line.startswith("read files") and "5/5" in line for line in bars), bars
    assert any(line.startswith("detect articles (4 alerts)") and "5/5" in line for line in bars)
    # The bars stop before the summary table, which follows them whole.
    last_bar = max(m.end() for m in PROGRESS.finditer(shown))
    assert "4 alerts sent" in shown[last_bar:]


def test_json_on_a_terminal_and_a_piped_replay_print_no_progress(
    tmp_path: Path, prefect_api_url: str
) -> None:
    status, shown = in_terminal(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'json.db'}",
        "--json",
        cwd=tmp_path,
        api_url=prefect_api_url,
    )
    assert status == 0, shown[-3000:]
    assert not PROGRESS.search(shown) and "read files" not in shown
    assert '"alerts_sent": 4' in shown

    piped = watchfloor(
        "replay",
        str(SEEDS),
        "--db",
        f"sqlite:///{tmp_path / 'pipe.db'}",
        cwd=tmp_path,
        env={"PREFECT_API_URL": prefect_api_url},
    )
    assert piped.returncode == 0, piped.stderr[-3000:]
    assert not PROGRESS.search(piped.stdout + piped.stderr)
    assert "read files" not in piped.stdout + piped.stderr
    assert "4 alerts sent" in piped.stdout
