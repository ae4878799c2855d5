"""Which process holds a claim, and whether it is still alive.

A claim (a delivery being sent, the monitor lease, a flow run's label) names its holder as
`host:pid:start`, where `start` is the process's start time in clock ticks since boot
(/proc/<pid>/stat), so a pid reused by another process after a crash or a container restart
does not pass for the dead holder. A holder on this host whose process is gone has died: its
claims can be taken over at once instead of waiting for a lease to lapse. A holder on another
host cannot be checked from here: its lease decides.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_identity(pid: int | None = None) -> str:
    """`host:pid:start` of a process on this machine (this one by default).

    The start time (clock ticks since boot, from /proc; empty where there is none) tells a
    living process from a new one that reuses a dead one's pid, as after a container restart.
    """
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{process_start(pid) or ''}"


def process_start(pid: int) -> str | None:
    """When process `pid` started, in clock ticks since boot; None if it is gone or a zombie
    (or the system has no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start = fields[0], fields[19]
    return None if state in {"Z", "X"} else start


def process_is_gone(identity: str) -> bool:
    """Whether the process an identity (`host:pid:start[:...]`) names has surely ended.

    Only a process of this machine can be checked: for another host, or an identity that does
    not parse, the answer is False (not known to be gone), and the caller keeps waiting.
    """
    host, _, rest = identity.partition(":")
    pid_text, _, rest = rest.partition(":")
    start = rest.split(":")[0]
    start = start if start.isdigit() else ""  # a holder written without a start time
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) <= 0:
        return False
    pid = int(pid_text)
    if Path("/proc").is_dir():
        current = process_start(pid)
        return current is None or (bool(start) and current != start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
