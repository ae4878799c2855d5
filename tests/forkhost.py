"""A process that starts `watchfloor replay` and `watchfloor run` commands as forks of itself,
having imported once what a flow command imports (`flows.serving.warm`, as `serve`'s forkserver
does).

Each command is a process of its own, with its own descriptors, environment, working folder,
process group when asked, Prefect settings and logging, exit status and signals: what a test
that kills it, or reads its store or output, sees of a process started from the console script.
What it does not pay is the imports (~2 of the ~4.7 CPU-s of a test's replay on the session's
API), which is all `make test` would otherwise spend on ~60 such processes. Tests of how the
CLI starts (its imports, Prefect's defaults read before Prefect loads) start it themselves.

Prefect reads its settings and configures logging once, as it is imported: the host imports it
with its own environment, so each fork reads both again from the command's (as Prefect's own
subprocess runs do, `run_flow_in_subprocess`). The host runs no thread, so forking it is safe.

Protocol, over the Unix socket at the path given as the first argument (one connection per
command, SOCK_SEQPACKET): the test sends one JSON message {"argv", "cwd", "env",
"new_session"} with the command's stdin, stdout and stderr descriptors attached; the host
answers {"pid"} once it forked, and {"returncode"} (negative: the signal that ended it, as
subprocess reports it) once the command ended. The host prints "ready" on its stdout once it
listens, and exits when its stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import sys
from pathlib import Path
from typing import Any, NoReturn

from prefect.context import refresh_global_settings_context
from prefect.logging.configuration import setup_logging

import flows.cli.app  # the console script's module
import flows.serving.warm  # what a flow command imports, loaded once
from flows.prefectapi.process import apply_prefect_defaults

WATCHFLOOR = str(Path(sys.executable).with_name("watchfloor"))
MESSAGE_LIMIT = 1 << 20  # a command's environment and arguments, as JSON


def run_command(request: dict[str, Any], descriptors: list[int], started: int) -> NoReturn:
    """In the fork: become the command's process, run it, exit with its status. Closing
    `started` tells the host that the process is in its own group, if asked, and has its
    descriptors: as subprocess.Popen returns, a test may signal its group from then on."""
    if request["new_session"]:
        os.setsid()
    for target, fd in zip((0, 1, 2), descriptors, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.close(started)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = [WATCHFLOOR, *request["argv"]]
    apply_prefect_defaults()
    refresh_global_settings_context()
    setup_logging(incremental=False)
    flows.cli.app.app()  # exits with the command's status, as the console script does
    sys.exit(0)


class Host:
    """The listening socket, the commands' connections by pid, and the loop that serves them."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(path)
        self.listener.listen()
        self.waiting: dict[int, socket.socket] = {}
        self.wakeup_read, self.wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(self.wakeup_write, False)
        signal.set_wakeup_fd(self.wakeup_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the loop
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, self.start_command)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, self.report_ended)
        self.selector.register(sys.stdin, selectors.EVENT_READ, self.stop)
        self.serving = True

    def serve(self) -> None:
        print("ready", flush=True)
        while self.serving:
            for key, _ in self.selector.select():
                key.data()

    def start_command(self) -> None:
        connection, _ = self.listener.accept()
        message, descriptors, _, _ = socket.recv_fds(connection, MESSAGE_LIMIT, 3)
        sys.stdout.flush()
        sys.stderr.flush()
        started_read, started_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            connection.close()
            os.close(started_read)
            self.leave_to_the_command()
            run_command(json.loads(message), descriptors, started_write)
        os.close(started_write)
        os.read(started_read, 1)  # end of file once the fork closed its end (or ended)
        os.close(started_read)
        for fd in descriptors:
            os.close(fd)
        connection.send(json.dumps({"pid": pid}).encode())
        self.waiting[pid] = connection

    def leave_to_the_command(self) -> None:
        """In the fork: nothing of the host's serving stays."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.selector.close()
        self.listener.close()
        os.close(self.wakeup_read)
        os.close(self.wakeup_write)
        for connection in self.waiting.values():
            connection.close()

    def report_ended(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self.wakeup_read, 512)
        while self.waiting:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            connection = self.waiting.pop(pid)
            answer = {"returncode": os.waitstatus_to_exitcode(status)}
            with contextlib.suppress(OSError):  # the test stopped listening
                connection.send(json.dumps(answer).encode())
            connection.close()

    def stop(self) -> None:
        if not sys.stdin.readline():
            self.serving = False


if __name__ == "__main__":
    Host(sys.argv[1]).serve()
