"""A process that has imported dbworker (and so SQLAlchemy, Alembic, the store) once and forks a
batch of dbworker processes on request: python workerforks.py, with tests/db and the project on
PYTHONPATH. Each worker is a process of its own, with its own connections, running dbworker's
`main` as `python dbworker.py ARGS` would; only the ~0.4 CPU-s of imports that each started
process paid is spared (nothing is connected before the fork).

Protocol: one JSON request a line on stdin, a list of {"argv", "stderr"} (dbworker's arguments,
the file its stderr and stdout go to); when every worker of the batch has ended, one JSON answer
a line on stdout: their exit statuses, in the same order."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import dbworker

from tests.clihost import exit_status_of


def run_worker(argv: list[str], stderr: str) -> int:
    """In a forked child: dbworker's `main` with `argv`, output to `stderr`; its exit status."""
    with Path(os.devnull).open("rb") as nothing, Path(stderr).open("wb") as errors:
        os.dup2(nothing.fileno(), 0)
        os.dup2(errors.fileno(), 1)
        os.dup2(errors.fileno(), 2)
    sys.argv = [dbworker.__file__, *argv]
    code = exit_status_of(dbworker.main)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def run_batch(workers: list[dict[str, Any]]) -> list[int]:
    """Fork one process per worker, all at once; their exit statuses once all have ended."""
    pids = []
    for worker in workers:
        pid = os.fork()
        if pid == 0:
            os._exit(run_worker(worker["argv"], worker["stderr"]))
        pids.append(pid)
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def main() -> None:
    for line in sys.stdin:
        print(json.dumps(run_batch(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
