"""Commands run to their end in real processes, output captured as text: the installed
`watchfloor` as a user runs it (`replay` and `run` as forks of a process that imported them
once, tests/forkhost.py), and any other tool a test or kit starts (prefect, PostgreSQL's
binaries). The exit code is the caller's to check: tests assert on failures too."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
ROOT = Path(__file__).resolve().parent.parent
# Commands never run in a CLI host: the flow commands start Prefect, whose settings a process
# reads once, and `db` migrates with Alembic, which configures the process's logging.
OWN_PROCESS_COMMANDS = frozenset({"replay", "run", "serve", "db"})
# Of those, the commands run_watchfloor starts as forks of a process that imported them once
# (tests/forkhost.py). `serve` starts its own forkserver and runs, and `db` is cheap to start.
FORKED_COMMANDS = frozenset({"replay", "run"})
RUN_LIMIT_S = 300


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


def run_python_in_home(code: str, prefect_home: Path) -> str:
    """`code` in a fresh interpreter of the project, with `prefect_home` as its Prefect home and
    no PREFECT_API_URL (it starts its own API, if any); its stdout. Fails the test on an exit
    code other than 0, with the end of its stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = run_captured(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PREFECT_HOME": str(prefect_home)},
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def run_watchfloor(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed CLI in `cwd`, with a private Prefect home (cwd/.prefect) and `env` over this
    process's environment; a command of FORKED_COMMANDS in a fork of this process's fork host."""
    environment = {**os.environ, "PREFECT_HOME": str(cwd / ".prefect"), **(env or {})}
    if args and args[0] in FORKED_COMMANDS:
        return run_forked(args, cwd=cwd, env=environment)
    return run_captured([WATCHFLOOR, *args], cwd=cwd, env=environment)


def start_helper(module: str, *args: str) -> subprocess.Popen[str]:
    """`python -m MODULE ARGS` from the checkout, spoken to over its stdin and stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def stop_helper(proc: subprocess.Popen[str]) -> None:
    """End a helper of start_helper: its stdin closed is its signal to exit."""
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=60)


class ForkedCommand:
    """A command the fork host started (tests/forkhost.py), as much of subprocess.Popen as the
    tests use: its pid, returncode, poll, wait and signals."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self.pid: int = json.loads(connection.recv(4096))["pid"]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._connection.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                self._take_answer()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._connection.settimeout(timeout)
            try:
                self._take_answer()
            except TimeoutError:
                assert timeout is not None  # a blocking socket does not time out
                raise subprocess.TimeoutExpired(f"watchfloor (pid {self.pid})", timeout) from None
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _take_answer(self) -> None:
        answer = self._connection.recv(4096)
        if not answer:
            raise RuntimeError("the fork host went away before the command ended")
        self.returncode = json.loads(answer)["returncode"]
        self._connection.close()


class ForkHost:
    """This process's fork host, started at its first command; one that died is started again."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._path: Path | None = None  # its socket, in a folder of its own once started

    def start(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stdout: IO[Any],
        stderr: IO[Any],
        new_session: bool = False,
    ) -> ForkedCommand:
        """`watchfloor ARGS` in `cwd` with exactly `env`, its output to the given files, in a
        process group of its own if `new_session`; its stdin is /dev/null."""
        path = self._started()
        request = {
            "argv": list(args),
            "cwd": str(cwd),
            "env": dict(env),
            "new_session": new_session,
        }
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        connection.connect(str(path))
        with Path(os.devnull).open("rb") as stdin:
            fds = [stdin.fileno(), stdout.fileno(), stderr.fileno()]
            socket.send_fds(connection, [json.dumps(request).encode()], fds)
        return ForkedCommand(connection)

    def _started(self) -> Path:
        """The socket of a running host."""
        if self._path is None:
            self._path = Path(tempfile.mkdtemp(prefix="watchfloor-forkhost-")) / "socket"
        if self._proc is None or self._proc.poll() is not None:
            self._path.unlink(missing_ok=True)
            self._proc = start_helper("tests.forkhost", str(self._path))
            assert self._proc.stdout is not None
            if self._proc.stdout.readline().strip() != "ready":
                raise RuntimeError("the fork host did not start (its errors are above)")
        return self._path

    def close(self) -> None:
        if self._proc is not None:
            stop_helper(self._proc)
            self._proc = None
        if self._path is not None:
            shutil.rmtree(self._path.parent, ignore_errors=True)


_FORKS = ForkHost()
atexit.register(_FORKS.close)
# `watchfloor ARGS` started in a fork of this process's fork host (ForkHost.start).
start_forked = _FORKS.start


def run_forked(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """What run_captured gives for `watchfloor ARGS`, from a fork of the fork host."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        command = start_forked(args, cwd=cwd, env=env, stdout=out, stderr=err)
        try:
            returncode = command.wait(timeout=RUN_LIMIT_S)
        except subprocess.TimeoutExpired:
            command.kill()
            command.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            [WATCHFLOOR, *args],
            returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


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
            self._proc = start_helper("tests.clihost")
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            stop_helper(self._proc)
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
