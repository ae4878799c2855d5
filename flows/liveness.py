"""Which process holds a claim, and whether it is still alive.

A claim (a delivery being sent, a lease) names its holder as `host:pid:start`, where `start` is
the process's start time in clock ticks since boot (/proc/<pid>/stat), so a pid reused by
another process after a crash does not pass for the dead holder. A holder on this host whose
process is gone has died: its claims can be taken over at once instead of waiting for a lease
to lapse. A holder on another host cannot be checked from here: its lease decides.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    """The start time of process `pid` (field 22 of /proc/<pid>/stat), or None if none runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


@cache
def holder_token() -> str:
    """This process as a claim holder: host, pid and start time."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or '?'}"


def is_dead(token: str | None) -> bool:
    """Whether `token` names a process on this host that no longer runs."""
    if not token:
        return False
    parts = token.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, start = parts
    if host != socket.gethostname() or start == "?":
        return False
    return _start_ticks(int(pid)) != start
