"""A run gives freed memory back to the system at once (flows/context/allocator.py), where glibc,
left to itself, keeps it once the process has freed a large block. Each case runs in a fresh
interpreter (the thresholds are the process's) and reads its own resident memory from /proc."""

from __future__ import annotations

import json
import sys

from tests.clikit import ROOT, run_captured

# Frees one large block (glibc then raises its thresholds), optionally fixes them, then makes
# and frees 8 MB of 1 MB texts (heap blocks under either threshold), and prints how much more
# resident memory the process holds after that than before.
RETAINED_AFTER_FREEING = """
import json, os, sys
from flows.context.allocator import return_memory_promptly

def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

large = b"x" * (16 << 20)
del large
if sys.argv[1] == "fixed":
    return_memory_promptly()
before = resident_bytes()
texts = [b"y" * (1 << 20) for _ in range(8)]
while texts:
    texts.pop()
print(json.dumps(resident_bytes() - before))
"""

MB = 1 << 20


def retained_bytes(variant: str) -> int:
    done = run_captured(
        [sys.executable, "-c", RETAINED_AFTER_FREEING, variant], cwd=ROOT, env={"PATH": ""}
    )
    assert done.returncode == 0, done.stderr
    retained: int = json.loads(done.stdout)
    return retained


def test_memory_a_run_frees_goes_back_to_the_system_where_glibc_alone_keeps_it() -> None:
    assert retained_bytes("glibc-alone") >= 6 * MB  # what the run would otherwise keep
    assert retained_bytes("fixed") < 1 * MB
