"""A flow run's heartbeats that stop as soon as the run ends.

Prefect's engine sends a flow run's heartbeats (`prefect.flow-run.heartbeat` events, which a
Prefect server can watch to tell a crashed run) from a thread that sleeps in steps of one second,
and a sync flow joins that thread when the run ends: whatever the flow did, its call lasted a
whole number of those steps plus the engine's own work. A no-change monitor cycle does ~0.7 s of
work and took 1.08 s, of which ~0.3 s was that join (prefect 3.8, pinned in constraints.txt).

`install()` puts in its place the same heartbeats (the same events, from the same thread, at the
same interval, from the same settings) sent by a thread that waits on its stop event, so the run
ends as soon as its work does. Nothing else of Prefect's engine changes. Without the function it
replaces (another Prefect), `install()` leaves the engine as it is.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prefect import flow_engine

# Prefect's own heartbeat context, replaced by `install()`.
_PREFECTS = getattr(flow_engine, "_send_heartbeats", None)


def install() -> None:
    """Send this process's flow-run heartbeats with `send_heartbeats` (once is enough; again is
    harmless)."""
    if _PREFECTS is not None:
        flow_engine._send_heartbeats = send_heartbeats


@contextmanager
def send_heartbeats(engine: Any, join_on_exit: bool = True) -> Iterator[None]:
    """Prefect's `_send_heartbeats` (same signature, events and interval), but the thread waits
    between heartbeats on its stop event: leaving the block stops it at once, and the join
    waits for no sleep to end."""
    seconds = engine.heartbeat_seconds
    if seconds is None:  # heartbeats turned off in Prefect's settings
        yield
        return
    seconds = max(seconds, flow_engine.MINIMUM_HEARTBEAT_INTERVAL)
    resource, related = engine._build_heartbeat_event_template()
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            run = engine.flow_run
            if run and run.state and run.state.is_final():
                engine.logger.debug("Flow run in terminal state, stopping heartbeat")
                return
            try:
                engine._emit_flow_run_heartbeat(resource, related)
            except Exception:  # a lost heartbeat must not fail the run (as in Prefect's)
                engine.logger.debug("Failed to emit heartbeat", exc_info=True)
            stop.wait(seconds)

    # The thread sees the caller's context (Prefect's settings context: its API URL).
    thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,), daemon=True)
    thread.start()
    engine.logger.debug("Started flow run heartbeat context")
    try:
        yield
    finally:
        stop.set()
        if join_on_exit:
            thread.join(timeout=2)
        engine.logger.debug("Stopped flow run heartbeat context")
