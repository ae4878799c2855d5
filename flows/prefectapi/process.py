"""The CLI process and Prefect: Prefect's settings and its ephemeral server as `watchfloor`
runs them.

`apply_prefect_defaults` gives Prefect settings that hold on a small, loaded machine and send
nothing anywhere (and one of a library Prefect's server uses), before Prefect is imported.
Without PREFECT_API_URL a command that runs a flow serves a temporary Prefect API in a thread
(`flows.prefectapi.server`) and stops it when done.
`exit_cleanly_on_signals` makes SIGTERM and SIGHUP an orderly exit, as SIGINT already is, so
that cleanup (and atexit) runs. A SIGKILLed process runs nothing, so `watch_for_orphans` starts
a small watcher that outlives it and stops what it left behind: `serve`'s forkserver and its
runs, and any process Prefect started. (PR_SET_PDEATHSIG would not cover them all: it is set
per child, and fires when the *thread* that started the child exits, not the process.)

This module imports only the standard library: every command, `--help` included, loads it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import MutableMapping
from pathlib import Path
from types import FrameType

# Prefect's ephemeral server gets 20 s to start by default: too little on a loaded 2-core
# machine ("Timed out while attempting to connect to ephemeral Prefect API server").
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Not Prefect's own: the temporary API imports docket, which imports py-key-value-aio, and
    # that package runs its modules through beartype's import hook to check types at run time
    # (warnings only). Its documented switch turns those checks off: ~0.08 CPU-s less to import
    # the API. Its own TypeError checks (`bear_enforce`) stay.
    "PY_KEY_VALUE_DISABLE_BEARTYPE": "true",
    # The temporary API's automation services (reactive and proactive triggers, and the actions
    # they fire; Prefect's reference: "Evaluates reactive automation triggers", "Runs the
    # actions triggered by automations") serve automations only, which Watchfloor never
    # creates and a temporary API, with no UI and gone when its command ends, has no one to
    # create. Proactive evaluation alone ran every 5 s while `serve` served: ~0.07 CPU-s a
    # minute idle. Only a Prefect server reads it: one that PREFECT_API_URL names keeps its
    # own setting, and the user's own value wins here as for every default.
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # At its start, Prefect's API writes every block type Prefect knows into its database
    # (~50 types and their schemas) unless a memo in the Prefect home says it did so for this
    # database URL: on the first start in a home, a copied home, or after an upgrade of Prefect.
    # Watchfloor's flows use no blocks, and a block saved later registers its own type. A
    # temporary API's start on a copied home took 6.1-6.8 s (5.9-6.6 CPU-s) with it, 4.1-4.5 s
    # (4.0-4.4 CPU-s) without (3-6 starts each); with the memo, no difference.
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
}
# Every process the CLI starts inherits this marker, which is how the orphan watcher finds them.
CLI_PID_MARKER = "WATCHFLOOR_CLI_PID"
_ORPHAN_WATCHER = """
import os, signal, sys, time
marker = sys.argv[1].encode()
sys.stdin.buffer.read()  # returns at EOF: the CLI held the only write end, so it is gone

def marked():
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                with open(f"/proc/{name}/environ", "rb") as environ:
                    if marker in environ.read().split(b"\\0"):
                        yield int(name)
            except OSError:
                pass

for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
    pids = list(marked())
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline and list(marked()):
        time.sleep(0.1)
"""


def apply_prefect_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set PREFECT_DEFAULTS in `environ` unless the user set them (in the environment or the
    active Prefect profile). Call before Prefect is imported: it reads its settings then."""
    profile = _active_prefect_profile(environ)
    for name, value in PREFECT_DEFAULTS.items():
        if name not in environ and name not in profile:
            environ[name] = value


def _active_prefect_profile(environ: MutableMapping[str, str]) -> dict[str, object]:
    """The settings of the active profile in Prefect's profiles.toml (empty if none)."""
    home = Path(environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    path = Path(environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    active = environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    chosen = profiles.get("profiles", {}).get(active, {})
    return chosen if isinstance(chosen, dict) else {}


def exit_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP end the process as Ctrl-C does: by unwinding, so that Prefect marks
    the run and stops its ephemeral server (atexit). A second signal kills at once."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (e.g. a test runner's worker)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    signal.signal(signum, signal.SIG_DFL)
    raise SystemExit(128 + signum)


def watch_for_orphans() -> None:
    """Start a watcher that, once this process is gone however it died (SIGKILL included),
    stops every process it started (Prefect's ephemeral server) that is still running.

    Linux only (it reads /proc). The watcher waits for end-of-file on a pipe whose only write
    end this process holds, so it costs nothing while the CLI runs and cannot outlive it by more
    than its final sweep; it runs in its own session, out of reach of the terminal's Ctrl-C.
    """
    if not sys.platform.startswith("linux") or _keep_open:
        return  # no /proc; or already watched
    os.environ[CLI_PID_MARKER] = str(os.getpid())
    read_end, write_end = os.pipe()  # both close-on-exec: no child inherits the write end
    subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _ORPHAN_WATCHER, f"{CLI_PID_MARKER}={os.getpid()}"],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(read_end)
    _keep_open.append(write_end)


# The write end stays open for the life of the process: its closing is the watcher's signal.
_keep_open: list[int] = []
