"""How a run hands the memory it freed back to the system: glibc's allocator is told to give back
freed memory at once, and asked after each batch to give back what it kept. Elsewhere (another
libc) both do nothing.

A run's articles are C allocations (texts, rows, SimHash arrays) made and freed chunk after
chunk, by several threads. glibc adapts two thresholds to what a process frees: after a large
block is freed, blocks up to its size come from the heap instead of mappings of their own
(M_MMAP_THRESHOLD), and the free memory it keeps at the top of the heap before giving it back
grows to twice that (M_TRIM_THRESHOLD, up to 64 MB). A long replay frees large blocks early
(planning 100,000 files), so its heap then kept megabytes of freed memory between the trims
of each chunk: its peak resident memory grew with its size. With the thresholds fixed (blocks
from 4 MB in mappings of their own; free memory over 1 MB at the top of the heap given back
when a block is freed), a 100,000-file replay peaked ~5 MB lower (279 -> 274 MB), a 1,000-file
one no lower, at no CPU cost beyond the machine's drift. Over 128 KB (glibc's starting value)
gave back no more and made a 30,000-file ingest 4-8% slower (pages given back and taken
again); over 4 MB gave back little (BENCHMARKS.md, "Session of 2026-12-06 (third)").
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks from this size get mappings of their own, given back whole when freed.
MMAP_THRESHOLD_BYTES = 4 << 20
# Free memory beyond this at the top of the heap is given back when a block is freed.
TRIM_THRESHOLD_BYTES = 1 << 20


def _glibc(name: str) -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = getattr(ctypes.CDLL(None), name)  # ctypes: untyped
        return function
    except (OSError, AttributeError):  # not glibc
        return None


_MALLOPT = _glibc("mallopt")
_MALLOC_TRIM = _glibc("malloc_trim")


def return_memory_promptly() -> None:
    """Fix glibc's thresholds for the rest of the process (see the module): every run's ingest
    stage calls it as it starts; calling it again changes nothing."""
    if _MALLOPT is not None:
        _MALLOPT(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        _MALLOPT(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


def release_freed_memory() -> None:
    """Give the C allocator's free pages back to the system (glibc's malloc_trim). A batch's
    texts are C allocations made by the fetch threads, each thread in glibc arenas of its own
    that keep what they freed: without this, every batch of a long replay left a little more
    resident memory behind it."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
