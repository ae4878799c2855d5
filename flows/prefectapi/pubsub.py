"""The temporary API's in-memory Redis waits for pub/sub messages on its event loop, not in a
thread.

Prefect's temporary API keeps its background tasks in a docket on `memory://`, an in-process
Redis (burner-redis). Its worker listens for task cancellations all the time: it asks the
pub/sub for a message with a 0.1 s timeout, again and again, and burner-redis waits for each
one by handing a blocking `queue.get(timeout=0.1)` to a thread of the loop's default executor:
ten thread hand-offs a second, every second `serve` runs. Idle, they were a third of the
API's CPU: 0.30 CPU-s per 40 s without a client, 0.18 waiting on the loop instead (medians of
4, interleaved, this 2-core machine).

`wait_on_the_loop` takes the message the same way, without the thread: it looks in the queue
and, while it is empty, sleeps on the loop for at most 0.1 s at a time until the timeout. The
listener's loop, its timeouts and what it returns are burner-redis's: a message is taken within
0.1 s of its arrival (the queue is filled by burner-redis's own Rust task, thread-safely), and
none is lost. Nothing in Prefect's server cancels a docket task today, so no message comes at
all. Pinned: burner-redis 0.1.7 (constraints.txt); tests/flows/test_apipubsub.py checks it.
"""

from __future__ import annotations

import asyncio
import queue
import time
from typing import Any

from burner_redis.pubsub import PubSub  # type: ignore[import-untyped]

__all__ = ["SLICE_S", "wait_on_the_loop"]

SLICE_S = 0.1  # as burner-redis's own slices: a message waits at most this long


async def wait_on_the_loop(self: PubSub, timeout: float | None) -> Any:
    """The next raw message of the pub/sub's queue, or None once `timeout` seconds passed
    without one (None: wait for ever; 0: do not wait)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            pass
        if deadline is None:
            await asyncio.sleep(SLICE_S)
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        await asyncio.sleep(min(left, SLICE_S))


PubSub._queue_get = wait_on_the_loop
