"""A session's listeners (peer_client.emitter; no sockets): failures stay with their handler,
coroutine handlers run as tasks, and closing cancels what still runs."""

from __future__ import annotations

import asyncio

from peer_client.emitter import Emitter
from tests.support.waiting import wait_until


def test_a_failing_handler_does_not_stop_the_others() -> None:
    events = Emitter()
    heard: list[str] = []

    def broken(payload: object) -> None:
        raise RuntimeError("a listener's bug")

    events.on("hello", broken)
    events.on("hello", lambda payload: heard.append(f"first {payload}"))
    second = events.on("hello", lambda payload: heard.append(f"second {payload}"))
    events.emit("hello", 1)
    events.off("hello", second)
    events.off("hello", second)  # twice is harmless
    events.off("never", second)
    events.emit("hello", 2)
    events.emit("other", 3)
    assert heard == ["first 1", "second 1", "first 2"]


async def test_coroutine_handlers_run_and_close_cancels_those_still_running() -> None:
    events = Emitter()
    ran: list[object] = []
    cancelled = asyncio.Event()

    async def quick(payload: object) -> None:
        ran.append(payload)

    async def forever(payload: object) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    events.on("drag", quick)
    events.on("drag", forever)
    events.emit("drag", "d")
    await wait_until(lambda: ran == ["d"], 5.0, "the coroutine handler")
    assert not cancelled.is_set()
    await asyncio.wait_for(events.close(), 5.0)
    assert cancelled.is_set()
