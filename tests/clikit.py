"""Commands run to their end in real processes, output captured as text: the installed
`watchfloor` as a user runs it, and any other tool a test or kit starts (prefect, PostgreSQL's
binaries). The exit code is the caller's to check: tests assert on failures too."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
ROOT = Path(__file__).resolve().parent.parent
# Commands never run in a CLI host: the flow commands start Prefect, whose settings a process
# reads once, and `db` migrates with Alembic, which configures the process's logging.
OWN_PROCESS_COMMANDS = frozenset({"replay", "run", "serve", "db"})


def run_captured(
    cmd: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 300,
    user: tuple[int, int] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` in `cwd` with exactly `env`, as `user` (uid, gid) when given; never raises on
    its exit code."""
    options: dict[str, Any] = {"capture_output": True, "text": True, "check": False}
    if user is not None:  # as `user`, in its group alone; else this process's identity
        options.update(user=user[0], group=user[1], extra_groups=[])
    return subprocess.run(list(cmd), cwd=cwd, env=dict(env), timeout=timeout, **options)


def run_watchfloor(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed CLI in `cwd`, with a private Prefect home (cwd/.prefect) and `env` over this
    process's environment."""
    environment = {**os.environ, "PREFECT_HOME": str(cwd / ".prefect"), **(env or {})}
    return run_captured([WATCHFLOOR, *args], cwd=cwd, env=environment)


class CliHost:
    """One process that runs `watchfloor` commands in turn (tests/clihost.py): for tests of what
    store-reading commands do, each of which would otherwise pay the CLI's imports in a process
    of its own. Started at the first command; a host that died is started again."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def run(
        self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """`watchfloor ARGS` in `cwd` with exactly `env`, as run_captured would run it."""
        request = json.dumps({"argv": list(args), "cwd": str(cwd), "env": dict(env)})
        proc = self._started()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(request + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:  # the command took the host down: that is its result
            self._proc = None
            proc.wait(timeout=60)
            return subprocess.CompletedProcess([WATCHFLOOR, *args], proc.returncode, "", "")
        answer = json.loads(line)
        return subprocess.CompletedProcess(
            [WATCHFLOOR, *args], answer["returncode"], answer["stdout"], answer["stderr"]
        )

    def _started(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.clihost"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=60)
            self._proc = None


_HOST = CliHost()
atexit.register(_HOST.close)


def run_in_host(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """What run_watchfloor gives, from this test process's CLI host: for store-reading commands
    (never those of OWN_PROCESS_COMMANDS) whose test is about what they do, not a process."""
    if args and args[0] in OWN_PROCESS_COMMANDS:
        raise ValueError(f"`watchfloor {args[0]}` runs in a process of its own: run_watchfloor")
    environment = {**os.environ, "PREFECT_HOME": str(cwd / ".prefect"), **(env or {})}
    return _HOST.run(args, cwd=cwd, env=environment)


def run_watchfloor_or_host(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """run_watchfloor for a command of OWN_PROCESS_COMMANDS, else run_in_host."""
    run = run_watchfloor if args[0] in OWN_PROCESS_COMMANDS else run_in_host
    return run(*args, cwd=cwd, env=env)
