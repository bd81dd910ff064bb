"""One client's websocket after the upgrade: an asyncio protocol, with no task and no queue.

Why not aiohttp's ``WebSocketResponse``: it keeps a handler task, its coroutine frames, the request
and its headers, a message queue and heartbeat timers alive for every socket, about 15 KB per idle
connection measured (docs/benchmarks.md). Here a connection is this object, aiohttp's own
``WebSocketReader`` for parsing frames, and the transport: frames are handled as they are parsed,
inside ``data_received``, and sends go to the transport without a queue of our own.

A slow or stuck client must never delay anyone else: :meth:`ClientConnection.send` never waits.
The transport buffers what the kernel will not take yet; once that buffer passes ``max_buffer``
bytes the client is not reading, and its TCP connection is dropped while everyone else carries on.

One read often carries several frames (a browser trickles its ICE candidates in a burst). While
such a read is handled, the frames it causes are held and each recipient gets all of its frames in
one ``write`` when the read is done: one system call instead of one per frame, the same bytes in the
same order. A read of one frame (most of them at low rates) sends at once, as before.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final, Protocol

from aiohttp import WSMsgType
from aiohttp._websocket.reader import WebSocketDataQueue
from aiohttp.http_websocket import WebSocketReader

from signaling import wire
from signaling.logs import log_event, logger

CLOSE_TIMEOUT_SECONDS: Final = 2.0
_READING: Final = frozenset({"connecting", "joining", "joined"})  # states whose frames count
_TEXT: Final = WSMsgType.TEXT
_TEXT_HEADERS: Final = wire.TEXT_HEADERS
_SHORT: Final = len(_TEXT_HEADERS)  # payloads shorter than this take their header from the table
_holds_more_than_one_frame: Final = wire.holds_more_than_one_frame

# While a read of several frames is handled: the connections holding frames to write after it.
_holding: list[ClientConnection] | None = None


class ConnectionEvents(Protocol):
    """What a connection reports to whoever serves it (``app.Client``)."""

    def on_text(self, text: str) -> None: ...

    def on_binary(self) -> None: ...

    def on_socket_error(self, error: BaseException) -> None: ...

    def on_overflow(self) -> None: ...

    def on_closed(self) -> None: ...


class _Inbox(WebSocketDataQueue):
    """Where aiohttp's frame reader puts each parsed message: straight to the connection.

    ``WebSocketDataQueue`` would queue messages for a reading task; this hands each one over as it
    is parsed, so no task waits per socket and nothing piles up (reading is one message at a time).
    """

    __slots__ = ()

    def feed_data(self, data: Any, size: int) -> None:
        self._protocol.message_received(data)  # type: ignore[attr-defined]

    def feed_eof(self) -> None:
        pass

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        self._protocol.reader_failed(exc)  # type: ignore[attr-defined]


class ClientConnection(asyncio.Protocol):
    """A websocket plus what the server knows about the client behind it.

    ``state`` is ``"connecting"`` (no join yet), ``"joining"`` (ticket accepted, rooms being
    updated), ``"joined"``, ``"closing"`` (close frame sent or received) or ``"closed"`` (TCP gone).
    ``peer``, ``sprint`` and ``user_id`` are set on join.
    """

    __slots__ = (
        "_close_timer",
        "_closed",
        "_held",
        "_reader",
        "address",
        "close_code",
        "events",
        "last_seen",
        "lost_reason",
        "max_buffer",
        "number",
        "overflowed",
        "peer",
        "ping_sent",
        "sprint",
        "state",
        "transport",
        "user_id",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        *,
        address: str,
        number: int,
        max_frame: int,
        max_buffer: int,
    ) -> None:
        self.transport = transport
        self.address = address
        self.number = number
        self.max_buffer = max_buffer
        loop = asyncio.get_running_loop()
        self._reader = WebSocketReader(
            _Inbox(self, max_frame, loop=loop),  # type: ignore[arg-type]
            max_frame,
            compress=False,
            decode_text=True,
        )
        self.events: ConnectionEvents | None = None
        self.state = "connecting"
        self.peer: str | None = None
        self.sprint: str | None = None
        self.user_id: str | None = None
        self.close_code: int | None = None
        self.lost_reason: str | None = None
        self.overflowed = False
        self.last_seen = time.monotonic()
        self.ping_sent = 0.0
        self._close_timer: asyncio.TimerHandle | None = None
        self._closed: asyncio.Future[None] | None = None
        self._held: list[bytes] | None = None  # frames waiting for the end of a read (see above)

    # --- reading ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        """Handle each frame in ``data``; if it holds several, the sends they cause are held and
        each recipient's written in one go once all are handled (see the module's docstring)."""
        global _holding
        self.last_seen = time.monotonic()
        if _holding is not None or not _holds_more_than_one_frame(data):
            self._reader.feed_data(data)
            return
        holding: list[ClientConnection] = []
        _holding = holding
        try:
            self._reader.feed_data(data)
        finally:
            _holding = None
            for connection in holding:
                try:
                    connection._write_held()
                except Exception:  # one client's failure must not leave the others' frames held
                    logger.exception("internal error writing to peer %s", connection.peer)
                    connection.abort()

    def message_received(self, msg: Any) -> None:
        """One complete message from the reader (text, binary or a control frame).

        A bug in handling one client's message must not read as that client's protocol error (the
        reader would report any exception as one): it is logged with its traceback and the socket
        is closed with 1011.
        """
        try:
            if msg.type is _TEXT:  # nearly every message: handled here, one call less
                events = self.events
                if events is not None and self.state in _READING:
                    events.on_text(msg.data)
            else:
                self._dispatch(msg)
        except Exception:
            logger.exception("internal error handling a message from peer %s", self.peer)
            self.close(1011, "internal server error")

    def _dispatch(self, msg: Any) -> None:
        """Every message but text: control frames and binary."""
        kind = msg.type
        events = self.events
        if kind is WSMsgType.PING:
            self._write(wire.frame(wire.OP_PONG, msg.data or b""))
        elif kind is WSMsgType.CLOSE:
            if self.state == "closing":  # the answer to our close: the handshake is complete
                self.transport.close()
                return
            self.close_code = msg.data or 1005  # 1005: the client sent no code (RFC 6455 §7.4.1)
            self.state = "closing"
            self._write(wire.close_frame(msg.data or 1000, ""))
            self.transport.close()
        elif kind is WSMsgType.BINARY and events is not None and self.state in _READING:
            events.on_binary()
        # PONG needs nothing more: last_seen was updated when its bytes arrived.

    def reader_failed(self, exc: BaseException) -> None:
        """A frame broke the protocol (too large, bad UTF-8, bad opcode): report and close."""
        if self.events is not None:
            self.events.on_socket_error(exc)
        code = getattr(exc, "code", 1002)
        self.close(code if isinstance(code, int) else 1002, str(exc)[:100])

    def eof_received(self) -> bool | None:
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = "closed"
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)
        events, self.events = self.events, None
        if events is not None:
            events.on_closed()

    # --- writing ------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        """Write ``data`` at once (control frames), after any frames held for this connection."""
        if self._held is not None:
            self._write_held()
        if self.state != "closed":
            self.transport.write(data)

    def _write_held(self) -> None:
        """Write the frames held during a read in one go, then check the client keeps up."""
        held, self._held = self._held, None
        if held is None or self.state == "closed":
            return
        self.transport.write(held[0] if len(held) == 1 else b"".join(held))
        self._check_buffer()

    def send(self, text: str) -> bool:
        """Send one text frame; never waits. False if closing, or if this send overflowed it."""
        return self.send_frame(wire.text_frame(text))

    def send_text_payload(self, payload: bytes) -> bool:
        """Send UTF-8 ``payload`` as one text frame, as :meth:`send` does (every relayed message:
        a short frame's header comes from :data:`wire.TEXT_HEADERS`, without a call)."""
        size = len(payload)
        return self.send_frame(
            _TEXT_HEADERS[size] + payload if size < _SHORT else wire.text_frame_bytes(payload)
        )

    def send_frame(self, frame: bytes) -> bool:
        """Send one complete frame (from :mod:`signaling.wire`), as :meth:`send` does.

        During a read of several frames it is held and written when the read is done (see the
        module's docstring); a client that overflows then is dropped then.
        """
        state = self.state
        if state == "closing" or state == "closed":
            return False
        held = self._held
        if held is not None:
            held.append(frame)
            return True
        if _holding is not None:
            self._held = [frame]
            _holding.append(self)
            return True
        self.transport.write(frame)
        return self._check_buffer()

    def _check_buffer(self) -> bool:
        """True if the transport's buffer is within bounds; else the client is dropped (False)."""
        buffered = self.transport.get_write_buffer_size()
        if buffered <= self.max_buffer:
            return True
        self.overflowed = True
        if self.events is not None:
            self.events.on_overflow()
        log_event(
            "slow-client-disconnected",
            peer=self.peer,
            sprint=self.sprint,
            addr=self.address,
            buffered_bytes=buffered,
        )
        # A client this far behind cannot take a close frame either (its TCP window is full),
        # so drop the connection; connection_lost then runs the normal leave.
        self.lost_reason = "too slow: stopped reading"
        self.abort()
        return False

    def ping(self, now: float) -> None:
        self.ping_sent = now
        self._write(wire.PING_FRAME)

    def close(self, code: int, reason: str) -> None:
        """Send a close frame and close once the client answers (or after a bound); idempotent."""
        if self.state == "closing" or self.state == "closed":
            return
        if self._held is not None:
            self._write_held()
        self.state = "closing"
        self.close_code = code
        self.transport.write(wire.close_frame(code, reason))
        self._close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_SECONDS, self.abort)

    def abort(self) -> None:
        """Drop the TCP connection at once (a client that will not even take a close frame)."""
        if self.state != "closed":
            self.state = "closing"
            self._held = None
            self.transport.abort()

    async def wait_closed(self, timeout: float) -> None:
        """Until the TCP connection is gone, at most ``timeout`` seconds (then it is aborted)."""
        if self.state == "closed":
            return
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._closed), timeout)
        except TimeoutError:
            self.abort()
