"""Commands run to their end in real processes, output captured as text: the installed
`watchfloor` as a user runs it, and any other tool a test or kit starts (prefect, PostgreSQL's
binaries). The exit code is the caller's to check: tests assert on failures too."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))


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
