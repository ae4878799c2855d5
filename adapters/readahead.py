"""Reading many small files that are not in the page cache: tell the kernel which come next.

Why: a replay reads every seed file once to order them (`plan_replay`), then each chunk's files
again. Files nobody has read for a while are on disk only (on this machine type DAMON drops page
cache left untouched for a minute), and each read then waits for one disk request of its own:
10,000 files of 3 KB took 1.3 s to read one after another, reading in threads no less. Told
ahead (`posix_fadvise(POSIX_FADV_WILLNEED)`) about the next files, the kernel starts all their
reads at once and the block layer merges neighbouring requests: the same 10,000 files in 0.17 s.
A file already cached costs its hint ~2 µs (an open, the advice, a close).

A hint is only advice: a file that cannot be opened, or is not a regular file, gets none and is
read (or reported) as before; where the platform has no `posix_fadvise` nothing is hinted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

# Files hinted at once, one window ahead of the file being read: enough requests in flight to
# merge, few enough that the pages asked for are still cached when their turn comes.
WINDOW = 128

# O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_advise: Callable[[int, int, int, int], None] | None = getattr(os, "posix_fadvise", None)


def read_ahead(paths: Iterable[str], length: int, window: int = WINDOW) -> Iterator[str]:
    """Each of `paths` in order; before a window of them is reached, the kernel has been asked
    to read the first `length` bytes of every file of the next window. `paths` is taken a
    window at a time, so a lazy one stays lazy."""
    pending = iter(paths)
    windows = iter(lambda: list(islice(pending, window)), [])
    current = next(windows, [])
    _hint(current, length)
    while current:
        following = next(windows, [])
        _hint(following, length)
        yield from current
        current = following


def _hint(paths: Sequence[str], length: int) -> None:
    """Ask the kernel to read the first `length` bytes of each file, without waiting."""
    if _advise is None:
        return
    for path in paths:
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except (OSError, ValueError):  # ValueError: a NUL in the path
            continue  # the read itself reports it
        try:
            _advise(fd, 0, length, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass  # not a regular file (a FIFO, a device): nothing to read ahead
        finally:
            os.close(fd)
