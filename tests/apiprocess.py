"""The test session's Prefect API process (`python -m tests.apiprocess FD`, tests/prefectdb.py):
the app a command's own temporary API serves, built as that one builds it
(`flows.prefectapi.server.app_frozen_once_built`: `flows.prefectapi.app`'s app, what was loaded
frozen once it is built), served by the same uvicorn server as that one
(`flows.prefectapi.ticks.PromptServer`) on the bound TCP socket it inherited as descriptor FD
(the test process bound it, as a command binds its own API's: `flows.prefectapi.server`). Like
uvicorn's command, it exits with status 3 when the server did not start.

Cyclic collection is off from the interpreter's start until the app is built and frozen: the
process imports all of Prefect's server, which stays loaded for as long as it serves, and the
full collections set off by that import, and by the app's start-up after it, walked every
object loaded so far again and again. A start on a copy of the session's database took
4.1-4.2 -> 3.3-3.6 CPU-s (3 starts each, /proc, idle machine); frozen, the collections of a
session's serving no longer walk Prefect's server either.
"""

from __future__ import annotations

import gc

gc.disable()

import socket  # noqa: E402
import sys  # noqa: E402

import uvicorn  # noqa: E402

from flows.prefectapi.server import app_frozen_once_built  # noqa: E402
from flows.prefectapi.ticks import PromptServer  # noqa: E402

STARTUP_FAILURE = 3  # uvicorn's exit status when its server did not start


def main(fd: int) -> None:
    sock = socket.socket(fileno=fd)  # its family and type read from the descriptor
    app = app_frozen_once_built()
    gc.enable()
    server = PromptServer(uvicorn.Config(app, log_level="error", lifespan="on"))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main(int(sys.argv[1]))
