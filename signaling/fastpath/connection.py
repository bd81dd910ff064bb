"""One websocket on the fast path: an asyncio protocol with no task and no queue of its own.

Frames are parsed as they arrive (``frames.FrameParser``) and reported to the service inside
``data_received``; sends go to the transport at once. A slow or stuck client never delays anyone
else: :meth:`FastConnection.send` never waits, and once the transport holds more than
``max_buffer`` bytes for a client, that client's TCP connection is dropped.

One read often carries several frames (a browser trickles its ICE candidates in a burst). While
such a read is handled, the frames it causes are held (:class:`HeldWrites`, one per listener) and
each recipient gets all of its frames in one ``write`` when the read is done: one system call
instead of one per frame, the same bytes in the same order.

Closing follows RFC 6455 7.1: a close we start waits for the client's answer (at most
``Settings.close_timeout``); a client's close is answered and the TCP connection closed at once; a
protocol violation is answered with its close code and the connection closed at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from signaling.fastpath.frames import (
    OP_PONG,
    PING_FRAME,
    TEXT_HEADERS,
    FrameParser,
    close_frame,
    frame,
    holds_more_than_one_frame,
    text_frame,
)
from signaling.logs import logger
from signaling.service import SignalingService
from signaling.session import Session

_OPEN: Final = 0
_CLOSING: Final = 1
_CLOSED: Final = 2
_SHORT: Final = len(TEXT_HEADERS)


class HeldWrites:
    """The connections holding frames until the read being handled is done (one per listener)."""

    __slots__ = ("holding",)

    def __init__(self) -> None:
        self.holding: list[FastConnection] | None = None

    def flush(self) -> None:
        holding, self.holding = self.holding, None
        for connection in holding or ():
            try:
                connection.write_held()
            except Exception:  # one client's failure must not leave the others' frames held
                logger.exception("internal error writing to a websocket")
                connection.abort()


class FastConnection(asyncio.Protocol):
    """A websocket accepted by the fast path."""

    __slots__ = (
        "_client_close",
        "_close_timer",
        "_held",
        "_now",
        "_parser",
        "_receive",
        "_run",
        "_state",
        "_writes",
        "close_timeout",
        "max_buffer",
        "service",
        "session",
        "transport",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        *,
        service: SignalingService,
        writes: HeldWrites,
        max_message: int,
        max_buffer: int,
        close_timeout: float,
    ) -> None:
        self.transport = transport
        self.service = service
        self._run = service.run
        self._receive = service.core.receive
        self.max_buffer = max_buffer
        self.close_timeout = close_timeout
        self._writes = writes
        self._parser = FrameParser(max_message, self)
        self._state = _OPEN
        self._now = time.monotonic()
        self._held: list[bytes] | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._client_close: int | None = None
        self.session: Session | None = None

    def start(self, address: str) -> None:
        """Register with the service (which may close it at once, over a limit)."""
        self.session = self.service.open(self, address)

    # --- reading ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._now = time.monotonic()
        writes = self._writes
        if writes.holding is None and self._parser.feed_one(data):
            return  # one whole text frame: nothing to hold
        if writes.holding is not None or not holds_more_than_one_frame(data):
            self._parser.feed(data)
            return
        writes.holding = []
        try:
            self._parser.feed(data)
        finally:
            writes.flush()

    def on_text(self, text: str) -> None:
        if self._state is not _OPEN or self.session is None:
            return
        try:
            self._run(self._receive(self.session, text, self._now))
        except Exception:
            self._internal_error()

    def on_binary(self, data: bytes) -> None:
        if self._state is not _OPEN or self.session is None:
            return
        try:
            self.service.received_binary(self.session, self._now)
        except Exception:
            self._internal_error()

    def on_ping(self, payload: bytes) -> None:
        self._write(frame(OP_PONG, payload))
        if self.session is not None:
            self.service.pong(self.session, self._now)

    def on_pong(self, payload: bytes) -> None:
        if self.session is not None:
            self.service.pong(self.session, self._now)

    def on_close(self, code: int | None, reason: str) -> None:
        """The client's close frame: the answer to ours, or its own close to answer now."""
        self._client_close = 1005 if code is None else code  # 1005: it gave no code (7.4.1)
        if self._state is _OPEN:
            self._write(close_frame(code))
            self._state = _CLOSING
        self.transport.close()

    def on_failure(self, code: int, reason: str) -> None:
        """The client broke the protocol: say why, and close the connection at once."""
        if self.session is not None and self._state is _OPEN:
            self.service.failed(self.session, code, reason)
        if self._state is _OPEN:
            self._write(close_frame(code, reason))
            self._state = _CLOSING
        self.transport.close()

    def _internal_error(self) -> None:
        """A bug handling this client's message: logged with its traceback, this socket only."""
        session = self.session
        who = session.describe() if session is not None else "a closed connection"
        logger.exception("internal error handling a message from %s", who)
        self.close(1011, "internal server error")

    def eof_received(self) -> bool | None:
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._state = _CLOSED
        self._held = None
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        session, self.session = self.session, None
        if session is not None:
            self.service.closed(session, close_code=self._client_close)

    # --- writing (the transport.Connection interface) -----------------------------------------

    def send(self, payload: bytes) -> None:
        if self._state is not _OPEN:
            return
        size = len(payload)
        data = TEXT_HEADERS[size] + payload if size < _SHORT else text_frame(payload)
        held = self._held
        if held is not None:
            held.append(data)
            return
        holding = self._writes.holding
        if holding is not None:
            self._held = [data]
            holding.append(self)
            return
        self.transport.write(data)
        self._check_buffer()

    def ping(self) -> None:
        self._write(PING_FRAME)

    def close(self, code: int, reason: str) -> None:
        if self._state is not _OPEN:
            return
        self._write(close_frame(code, reason))
        self._state = _CLOSING
        self._close_timer = asyncio.get_running_loop().call_later(self.close_timeout, self.abort)

    def abort(self) -> None:
        if self._state is not _CLOSED:
            self._state = _CLOSING
            self._held = None
            self.transport.abort()

    def write_held(self) -> None:
        """Write the frames held during a read in one go, then check the client keeps up."""
        held, self._held = self._held, None
        if held is None or self._state is _CLOSED:
            return
        self.transport.write(held[0] if len(held) == 1 else b"".join(held))
        self._check_buffer()

    def _write(self, data: bytes) -> None:
        """Write ``data`` now (control frames), after any frames held for this connection."""
        if self._held is not None:
            self.write_held()
        if self._state is not _CLOSED:
            self.transport.write(data)

    def _check_buffer(self) -> None:
        buffered = self.transport.get_write_buffer_size()
        if buffered <= self.max_buffer:
            return
        # A client this far behind cannot take a close frame either (its TCP window is full),
        # so the connection is dropped; connection_lost then runs the normal leave.
        if self.session is not None:
            self.service.overflowed(self.session, buffered)
        self.abort()
