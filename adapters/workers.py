"""How many fetch workers a batch runs at once: as many as keep the process busy, no more.

Fetching is waiting on the network, and running fetches side by side only pays while they wait:
then more of them at once shorten the batch. A fetch that gets its answer at once (a feed server
on the same network, a 304, a file) is Python work, and fetch threads then only take turns
holding the interpreter: on this 2-core machine, 1,000 unchanged loopback feeds cost 0.42-0.48
CPU-s fetched by one thread and 0.64-0.78 by sixteen, in no less time (0.55-0.66 s against
0.64-0.76 s; interleaved, 4 runs each). So a batch starts with one worker and doubles them, up to
its concurrency, each time it finds that the process used less than half a CPU since it last
looked: its fetches are waiting, not working. Over the internet (answers in tens or hundreds of
milliseconds) that is every look, and a batch reaches its full concurrency in a few looks
(~50 ms each); a source that hangs leaves the process idle, and the next look adds a worker
beside it, so a slow source never holds up the others for longer than a look. Workers are never
taken away within a batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# How often the pool is looked at, at most, and the share of one CPU below which the process
# counts as waiting on its fetches.
LOOK_S = 0.05
BUSY_SHARE = 0.5


class WorkerPace:
    """The number of workers a batch should run now (`workers()`), between 1 and `ceiling`."""

    def __init__(
        self,
        ceiling: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        self.ceiling = max(1, ceiling)
        self._clock = clock
        self._cpu = cpu
        self._count = 1
        self._since = clock()
        self._used = cpu()

    def workers(self) -> int:
        """Workers wanted now: twice as many as before when, over at least LOOK_S since the
        last look, the process used less than BUSY_SHARE of a CPU."""
        if self._count >= self.ceiling:
            return self._count
        now = self._clock()
        elapsed = now - self._since
        if elapsed < LOOK_S:
            return self._count
        used = self._cpu()
        if used - self._used < BUSY_SHARE * elapsed:
            self._count = min(self.ceiling, 2 * self._count)
        self._since, self._used = now, used
        return self._count
