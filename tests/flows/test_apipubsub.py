"""The temporary API's in-memory Redis waits for pub/sub messages on the event loop
(flows.prefectapi.pubsub): what docket's cancellation listener asks of it still works, with no
thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# docket and burner-redis are imported by the tests that use them: at the top of this module,
# every test process would import them when it collects the suite.


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting what is handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.submitted = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self.submitted += 1
        return super().submit(*args, **kwargs)


async def listen_publish_and_time_out(executor: CountingExecutor) -> tuple[Any, Any, Any]:
    """As docket's cancellation listener: subscribe to a pattern, read the confirmation, read a
    published message, then time out on an empty queue."""
    from docket import Docket

    asyncio.get_running_loop().set_default_executor(executor)
    async with (
        Docket(name="apipubsub-test", url="memory://") as docket,
        docket._pubsub() as pubsub,
    ):
        await pubsub.psubscribe(docket.key("cancel:*"))
        confirmed = await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
        await docket._publish(docket.cancel_channel("a-task"), "a-task")
        message = None
        while message is None:  # delivered by burner-redis's own task, soon
            message = await pubsub.get_message(ignore_subscribe_messages=False, timeout=0.1)
        nothing = await pubsub.get_message(ignore_subscribe_messages=False, timeout=0.05)
        await pubsub.punsubscribe()
    return confirmed, message, nothing


def test_the_temporary_apis_pub_sub_waits_on_the_loop() -> None:
    from burner_redis.pubsub import PubSub  # type: ignore[import-untyped]

    import flows.prefectapi.app  # noqa: F401  what the temporary API imports, and with it the wait
    from flows.prefectapi.pubsub import wait_on_the_loop

    assert PubSub._queue_get is wait_on_the_loop


def test_messages_arrive_and_an_empty_wait_times_out_without_a_thread() -> None:
    import flows.prefectapi.pubsub  # noqa: F401  installs the wait on the loop

    executor = CountingExecutor()
    confirmed, message, nothing = asyncio.run(listen_publish_and_time_out(executor))
    assert confirmed["type"] == "psubscribe"
    assert message["type"] == "pmessage"
    assert message["data"] in (b"a-task", "a-task")
    assert nothing is None
    assert executor.submitted == 0  # no wait went to a thread


async def wait_then_cancel() -> bool:
    """As Prefect stops docket's worker: a listener waiting on an empty pub/sub, its task
    cancelled. Whether the cancel ended the wait."""
    from docket import Docket

    async with (
        Docket(name="apipubsub-cancel", url="memory://") as docket,
        docket._pubsub() as pubsub,
    ):
        await pubsub.psubscribe(docket.key("cancel:*"))
        await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)  # confirmation
        waiting = asyncio.ensure_future(
            pubsub.get_message(ignore_subscribe_messages=False, timeout=None)
        )
        await asyncio.sleep(0)
        waiting.cancel()
        # Bounded only so that a wait that ignored the cancel fails here instead of hanging.
        done, _ = await asyncio.wait([waiting], timeout=60)
        await pubsub.punsubscribe()
    return waiting in done and waiting.cancelled()


def test_an_empty_wait_lasts_at_least_the_listening_time_and_a_cancel_ends_it() -> None:
    """docket's listener asks for 0.1 s only to look whether it is stopping: an empty wait
    lasts LISTEN_S instead (the idle API's wake-ups), and Prefect's cancel ends it at once."""
    from flows.prefectapi.pubsub import LISTEN_S  # importing it installs the wait

    async def empty_wait() -> float:
        from docket import Docket

        async with (
            Docket(name="apipubsub-empty", url="memory://") as docket,
            docket._pubsub() as pubsub,
        ):
            await pubsub.psubscribe(docket.key("cancel:*"))
            await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
            start = asyncio.get_running_loop().time()
            assert await pubsub.get_message(ignore_subscribe_messages=False, timeout=0.1) is None
            waited = asyncio.get_running_loop().time() - start
            await pubsub.punsubscribe()
        return waited

    assert LISTEN_S > 0.1  # longer than what docket asks for, or this shows nothing
    assert asyncio.run(empty_wait()) >= LISTEN_S * 0.99
    assert asyncio.run(wait_then_cancel()), "the cancel ended the wait"
