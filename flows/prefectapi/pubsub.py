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
and, while it is empty, sleeps on the loop LISTEN_S at a time. An empty wait also lasts at least
LISTEN_S, whatever shorter timeout it is asked for: docket's listener asks for 0.1 s only to
look, between two waits, whether its worker is stopping, and Prefect stops the worker by
cancelling its task, which ends the wait at once (the API's exit waits no longer). Its ten
looks a second, with uvicorn's ten ticks a second (`flows.prefectapi.ticks`), were still most
of what the idle API cost: 0.55-0.57 CPU-s a minute with no client, 0.29-0.34 with both once a
second (`start_server`, 40 s each, three runs each, interleaved, this 2-core machine; either
alone moved nothing measurable). What it returns is burner-redis's: a message is taken within
LISTEN_S of its arrival (the queue is filled by burner-redis's own Rust task, thread-safely),
and none is lost. The pub/sub carries only docket's task cancellations here, and nothing in
Prefect's server cancels a docket task today, so no message comes at all. Pinned:
burner-redis 0.1.7 (constraints.txt); tests/flows/test_apipubsub.py checks it.
"""

from __future__ import annotations

import asyncio
import queue
import time
from typing import Any

from burner_redis.pubsub import PubSub  # type: ignore[import-untyped]

__all__ = ["LISTEN_S", "wait_on_the_loop"]

LISTEN_S = 1.0  # a message waits at most this long; an empty wait lasts at least this long


async def wait_on_the_loop(self: PubSub, timeout: float | None) -> Any:
    """The next raw message of the pub/sub's queue, or None once max(`timeout`, LISTEN_S)
    seconds passed without one (None: wait for ever; 0: do not wait)."""
    if timeout is not None and timeout > 0:
        timeout = max(timeout, LISTEN_S)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            pass
        if deadline is None:
            await asyncio.sleep(LISTEN_S)
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        await asyncio.sleep(min(left, LISTEN_S))


PubSub._queue_get = wait_on_the_loop
