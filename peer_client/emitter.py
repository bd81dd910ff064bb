"""A session's listeners: who is called on which event, and the tasks the session runs for them.

A handler may be a plain function or a coroutine function; a coroutine it returns runs as a task of
its own (:meth:`Emitter.spawn`, which the session also uses for its other background work). A
handler that raises is logged and never stops the others, nor the session. :meth:`Emitter.close`
cancels whatever still runs.

It knows no event names and no payloads (the session's docstring lists them), and decides nothing
about when an event happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("peer_client.session")

Handler = Callable[[Any], object]


class Emitter:
    """Handlers by event name, and the tasks started for them."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, event: str, handler: Handler) -> Handler:
        """Call ``handler(payload)`` on ``event``; returns it."""
        self._handlers.setdefault(event, []).append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._handlers[event].remove(handler)

    def emit(self, event: str, payload: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            try:
                result = handler(payload)
            except Exception:
                log.exception("%s handler failed", event)
                continue
            if inspect.isawaitable(result):
                self.spawn(result)

    def spawn(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("event handler failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel every task still running and wait for them to end."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
