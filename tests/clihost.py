"""A process that runs `watchfloor` commands one after another, each as the installed CLI runs
it (its own working folder, exactly its environment, `watchfloor ARGS` as its command line, its
stdout and stderr captured at the file descriptors, its exit code), importing the CLI once:
a store-reading command in a process of its own costs ~0.5 CPU-s, nearly all of it imports.
For commands whose tests are about what a command does, not about a process starting; flow
commands (replay, run, serve) start Prefect, whose settings are read once per process, and `db`
migrates with Alembic, which configures logging for the process: they run in processes of their
own (tests/clikit.py).

Protocol: one JSON request a line on the descriptor that was stdin at start, {"argv", "cwd",
"env"}; one JSON answer a line on the one that was stdout, {"returncode", "stdout", "stderr"}."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


@contextlib.contextmanager
def descriptors_to(out: BinaryIO, err: BinaryIO) -> Iterator[None]:
    """Descriptors 1 and 2 (and so sys.stdout, sys.stderr) write to `out` and `err` inside."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@contextlib.contextmanager
def environment(env: dict[str, str], cwd: str, argv: list[str]) -> Iterator[None]:
    """Exactly `env`, in `cwd`, with `watchfloor ARGV` as sys.argv, inside; as before after.
    Warnings shown by an earlier command are shown again (catch_warnings forgets them)."""
    before_env, before_cwd, before_argv = dict(os.environ), Path.cwd(), sys.argv
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.argv = ["watchfloor", *argv]
    try:
        with warnings.catch_warnings():
            yield
    finally:
        os.environ.clear()
        os.environ.update(before_env)
        os.chdir(before_cwd)
        sys.argv = before_argv


def exit_code(exc: SystemExit) -> int:
    """The process exit status Python gives `sys.exit(code)`."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def exit_status_of(main: Callable[[], object]) -> int:
    """Call `main` as a process runs its entry point: the exit status the process would end
    with (an uncaught exception printed to stderr, status 1)."""
    try:
        main()
    except SystemExit as exc:
        return exit_code(exc)
    except BaseException:  # what an uncaught exception does to a process
        traceback.print_exc()
        return 1
    return 0


def run_one(app: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Run one command as its own process would, and what it printed and exited with."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with (
            descriptors_to(out, err),
            environment(request["env"], request["cwd"], request["argv"]),
        ):
            code = exit_status_of(lambda: app(args=request["argv"], prog_name="watchfloor"))
        out.seek(0)
        err.seek(0)
        return {
            "returncode": code,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def main() -> None:
    # Requests and answers on descriptors of their own; a command's stdin is /dev/null, as for
    # a process the tests start without input.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    with Path(os.devnull).open("rb") as nothing:
        os.dup2(nothing.fileno(), 0)
    from flows.cli.app import app  # the console script's object, imported as it imports it

    for line in requests:
        answers.write(json.dumps(run_one(app, json.loads(line))) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
