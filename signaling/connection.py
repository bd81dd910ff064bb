"""One client's websocket, with a bounded outgoing queue.

A slow or stuck client must never delay anyone else: :meth:`ClientConnection.send` never awaits. It
appends to this connection's own queue and a writer task (started only while there is something to
write, so idle connections cost no task) drains it. When the queue is full the client is not reading
fast enough; its TCP connection is dropped and everyone else carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from signaling.logs import log_event
from signaling.protocol import encode

CLOSE_TIMEOUT_SECONDS = 2.0


class ClientConnection:
    """A websocket plus what the server knows about the client behind it.

    ``state`` is one of ``"connecting"`` (no join yet), ``"joined"``, ``"closing"``; ``peer``,
    ``sprint`` and ``user_id`` are set on join. Slotted, with the queue made only while there is
    something to write: an idle connection should cost as little as possible (docs/benchmarks.md).
    """

    __slots__ = (
        "_max_queue",
        "_queue",
        "_transport",
        "_writer",
        "address",
        "number",
        "on_overflow",
        "overflowed",
        "peer",
        "sprint",
        "state",
        "user_id",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        number: int,
        max_queue: int,
    ) -> None:
        self.ws = ws
        self.number = number
        self.address = request.remote or "?"
        self._transport = request.transport
        self._max_queue = max_queue
        self._queue: deque[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.state = "connecting"
        self.peer: str | None = None
        self.sprint: str | None = None
        self.user_id: str | None = None
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None

    def send(self, text: str) -> bool:
        """Queue one frame; never waits. False if the connection is closing or just overflowed."""
        if self.state == "closing":
            return False
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        if len(queue) >= self._max_queue:
            if self.overflowed:
                return False
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()
            log_event(
                "slow-client-disconnected",
                peer=self.peer,
                sprint=self.sprint,
                addr=self.address,
                queued=len(queue),
            )
            # A client this far behind cannot take a close frame either (its TCP window is full),
            # so drop the connection; its handler then runs the normal leave.
            self.state = "closing"
            if self._writer is not None:
                self._writer.cancel()
            self._queue = None
            self.abort()
            return False
        queue.append(text)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return True

    def send_json(self, message: dict[str, Any]) -> bool:
        return self.send(encode(message))

    async def _drain(self) -> None:
        try:
            while self._queue and not self.ws.closed:
                await self.ws.send_str(self._queue.popleft())
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._queue = None
            self._writer = None

    async def close(self, code: int, reason: str, *, flush: bool = True) -> None:
        """Close with ``code``; safe to call twice. Flushes queued frames first if asked."""
        if self.state == "closing":
            return
        if flush and self._writer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._writer), CLOSE_TIMEOUT_SECONDS)
        self.state = "closing"
        if self._writer is not None:
            self._writer.cancel()
        self._queue = None
        try:
            await asyncio.wait_for(
                self.ws.close(code=code, message=reason.encode()[:120]), CLOSE_TIMEOUT_SECONDS
            )
        except (TimeoutError, ConnectionError, RuntimeError):
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once (a client that will not even take a close frame)."""
        if self._transport is not None:
            self._transport.abort()
