"""uvicorn's server with a housekeeping tick of once a second that still stops at once.

uvicorn's `Server.main_loop` wakes every 0.1 s to refresh the Date header (once a second) and to
see whether it should exit: ten wake-ups a second of the temporary API's event loop for as long
as it serves, which `serve` keeps up between cycles. Here the loop wakes once a second for the
header, or at once when `should_exit` is set (from `TemporaryApi.stop`'s thread or any other), so
a command's exit waits no longer than before. With docket's listener slowed the same way
(`flows.prefectapi.pubsub`, which gives the figures), the idle API's event loop wakes ~3 times
a second instead of ~21 and costs about half as much CPU.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

TICK_S = 1.0
# `on_tick` refreshes the Date header when its counter is a multiple of this.
_HEADER_EVERY = 10
_COUNTER_WRAP = 864_000


class PromptServer(uvicorn.Server):
    """A uvicorn server whose main loop ticks every TICK_S and wakes when asked to exit."""

    def __init__(self, config: uvicorn.Config) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._exit = False
        super().__init__(config)

    @property  # uvicorn's is a plain attribute, set in its __init__ and read by its loop
    def should_exit(self) -> bool:
        return self._exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._exit = value
        if value:
            self._wake_main_loop()

    def _wake_main_loop(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return  # not looping yet: the loop's first tick sees the flag
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + _HEADER_EVERY) % _COUNTER_WRAP
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
