"""The temporary API's uvicorn server ticks once a second (flows.prefectapi.ticks) and still
stops as soon as it is asked to, from another thread, as `TemporaryApi.stop` asks."""

from __future__ import annotations

import asyncio
import threading

import pytest
import uvicorn

from flows.prefectapi import ticks
from flows.prefectapi.ticks import PromptServer


async def empty_app(scope: dict[str, object], receive: object, send: object) -> None:
    """An ASGI app that serves nothing (the test starts no listener)."""


def test_the_main_loop_ends_when_another_thread_asks_it_to_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An hour's tick: the loop can end only by being woken.
    monkeypatch.setattr(ticks, "TICK_S", 3600.0)
    server = PromptServer(uvicorn.Config(empty_app, log_config=None))
    looping = threading.Event()
    ended: list[bool] = []

    async def main() -> None:
        original = server.on_tick

        async def on_tick(counter: int) -> bool:
            looping.set()
            return await original(counter)

        server.on_tick = on_tick  # type: ignore[method-assign]
        try:  # bounded so that a loop that is never woken fails the test instead of hanging it
            await asyncio.wait_for(server.main_loop(), timeout=120)
            ended.append(True)
        except TimeoutError:
            ended.append(False)

    runner = threading.Thread(target=asyncio.run, args=(main(),))
    runner.start()
    assert looping.wait(60), "the main loop ticked"
    server.should_exit = True  # as TemporaryApi.stop does, from its own thread
    runner.join(180)
    assert ended == [True], "woken by should_exit, long before its hour's tick"


def test_a_server_asked_to_exit_before_its_loop_starts_never_loops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ticks, "TICK_S", 3600.0)
    server = PromptServer(uvicorn.Config(empty_app, log_config=None))
    assert server.should_exit is False
    server.should_exit = True
    asyncio.run(asyncio.wait_for(server.main_loop(), timeout=120))
