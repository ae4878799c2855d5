"""Commands run to their end in real processes, output captured as text: the installed
`watchfloor` as a user runs it, and any other tool a test or kit starts (prefect, PostgreSQL's
binaries). The exit code is the caller's to check: tests assert on failures too."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

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
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # As `user`, in its group alone; None (the default) keeps this process's identity.
        user=user[0] if user is not None else None,
        group=user[1] if user is not None else None,
        extra_groups=[] if user is not None else None,
    )


def run_watchfloor(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed CLI in `cwd`, with a private Prefect home (cwd/.prefect) and `env` over this
    process's environment."""
    environment = {**os.environ, "PREFECT_HOME": str(cwd / ".prefect"), **(env or {})}
    return run_captured([WATCHFLOOR, *args], cwd=cwd, env=environment)
