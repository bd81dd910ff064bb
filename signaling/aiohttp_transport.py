"""The websocket transport on aiohttp's public ``web.WebSocketResponse``: always present.

It serves ``GET /ws`` wherever the fast path does not: with ``--transport aiohttp``, and under the
fast path for every upgrade the fast path leaves to aiohttp (a later request on a keep-alive
connection, an absolute-form target, repeated or folded headers). The handshake rules are the same
(``signaling.handshake``); what aiohttp's public API does not let a handler enforce is listed in
docs/protocol.md.

One handler task per socket reads frames; sends go to a queue that one writer task drains, so a
send never waits and a client that stops reading is dropped once its queue holds more than
``--send-buffer-kib``. The handler reads a client's next frame only once what was queued for that
client is written: aiohttp answers a protocol error itself, with a close, as soon as it reads the
bad frame, and anything still queued would then be lost or come after the close.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Final

from aiohttp import WSMsgType, web

from signaling.handshake import HandshakeRefused, Upgrade, check_upgrade, origin_refusal
from signaling.logs import logger
from signaling.service import SignalingService
from signaling.session import Session
from signaling.transport import close_code_is_valid

_PING: Final = object()
# aiohttp fails a connection with an empty close reason; ours say what went wrong.
_FAILURE_REASONS: Final = {
    1002: b"websocket protocol error",
    1007: b"invalid UTF-8 in a text message or close reason",
    1009: b"message too big",
}


class _WebSocketResponse(web.WebSocketResponse):
    """aiohttp's response, whose own failure closes carry a reason (``close`` is public API).

    aiohttp's reader fails a connection by calling ``close`` with a code and no message; ours go
    through :meth:`close_exactly`, so that an echo of a client's close carries no reason even
    when its code is one of the failure codes."""

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        return await super().close(
            code=code, message=message or _FAILURE_REASONS.get(code, b""), drain=drain
        )

    async def close_exactly(self, code: int, message: bytes) -> bool:
        """Send a close with ``code`` and ``message`` as given (which may be empty)."""
        return await super().close(code=code, message=message)


class _Pong:
    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class AiohttpConnection:
    """The :class:`~signaling.transport.Connection` of one aiohttp websocket."""

    def __init__(
        self, ws: _WebSocketResponse, request: web.Request, service: SignalingService
    ) -> None:
        self.ws = ws
        self.request = request
        self.service = service
        self.session: Session | None = None
        self.max_buffer = service.settings.send_buffer_bytes
        self._queue: deque[bytes | object] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._written = asyncio.Event()  # set whenever nothing is queued or being written
        self._written.set()
        self._closing = False
        self.aborted = False
        self.reader: asyncio.Task[object] | None = None  # the handler's task, reading frames

    def send(self, payload: bytes) -> None:
        if self._closing:
            return
        self._queue.append(payload)
        self._queued += len(payload)
        self._wake.set()
        self._written.clear()
        if self._queued > self.max_buffer:
            if self.session is not None:
                self.service.overflowed(self.session, self._queued)
            self.abort()

    def ping(self) -> None:
        self._enqueue(_PING)

    def pong(self, payload: bytes) -> None:
        """Answer a client's ping after what was queued before it (frames keep their order)."""
        self._enqueue(_Pong(payload))

    def close(self, code: int, reason: str) -> None:
        if not self._closing:
            self._enqueue((code, reason))
            self._closing = True

    def _enqueue(self, item: object) -> None:
        if not self._closing:
            self._queue.append(item)
            self._wake.set()
            self._written.clear()

    async def written(self) -> None:
        """Until what was queued so far has been written."""
        await self._written.wait()

    @property
    def close_queued(self) -> bool:
        return self._closing and not self.aborted

    def abort(self) -> None:
        self.aborted = True
        self._closing = True
        self._queue.clear()
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        # aiohttp's receive() does not always return once its transport is aborted (a client
        # whose window is full leaves a write waiting): end the handler's read for it.
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()

    async def write_loop(self) -> None:
        """Write what is queued, in order, until a close has been sent."""
        try:
            await self._write_all()
        finally:
            # Whatever ended the writing (a close sent, the client gone), nothing more will be
            # written: the reader must not wait for it.
            self._written.set()

    async def _write_all(self) -> None:
        ws = self.ws
        while True:
            self._written.set()
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                item = self._queue.popleft()
                if isinstance(item, bytes):
                    self._queued -= len(item)
                    await ws.send_frame(item, WSMsgType.TEXT)
                elif item is _PING:
                    await ws.ping()
                elif isinstance(item, _Pong):
                    await ws.pong(item.payload)
                elif isinstance(item, tuple):
                    code, reason = item
                    await ws.close_exactly(code, reason.encode()[:123])
                    return


async def handle_websocket(request: web.Request, service: SignalingService) -> web.StreamResponse:
    """``GET /ws``: check the upgrade, then serve the websocket until it closes."""
    address = request.remote or "?"
    headers = list(request.headers.items())
    try:
        upgrade = check_upgrade(
            request.method, (request.version.major, request.version.minor), headers
        )
        if not service.settings.origin_allowed(upgrade.origin):
            raise origin_refusal(upgrade.origin)
    except HandshakeRefused as exc:
        service.refused_upgrade(exc, address)
        refusal = web.Response(
            status=exc.status,
            text=exc.reason,
            headers={**dict(exc.headers), "Connection": "close"},
        )
        refusal.force_close()  # and mean it: nothing more is read from this connection
        return refusal
    ws = _WebSocketResponse(
        autoping=False,
        autoclose=False,
        compress=False,
        max_msg_size=service.settings.max_frame_bytes + 1,  # aiohttp refuses at the size given
        timeout=service.settings.close_timeout,
    )
    await ws.prepare(_as_aiohttp_reads_it(request, upgrade))
    connection = AiohttpConnection(ws, request, service)
    connection.reader = asyncio.current_task()
    session = service.open(
        connection, upgrade.client_address(address, service.settings.trusted_proxies)
    )
    connection.session = session
    writer = asyncio.ensure_future(connection.write_loop())
    client_close: int | None = None
    try:
        while True:
            await connection.written()
            msg = await ws.receive()
            now = time.monotonic()
            if msg.type is WSMsgType.TEXT:
                try:
                    service.received(session, msg.data, now)
                except Exception:  # a bug of ours: this socket only, with its traceback
                    logger.exception(
                        "internal error handling a message from %s", session.describe()
                    )
                    connection.close(1011, "internal server error")
            elif msg.type is WSMsgType.BINARY:
                service.received_binary(session, now)
            elif msg.type is WSMsgType.PING:
                service.pong(session, now)
                connection.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                service.pong(session, now)
            elif msg.type is WSMsgType.CLOSE:
                client_close = _answer_close(connection, service, session, msg.data)
                break
            elif msg.type is WSMsgType.ERROR:
                code = ws.close_code or 1002
                service.failed(session, code, str(msg.data))
                break
            else:  # CLOSING, CLOSED
                break
    except asyncio.CancelledError:
        if not connection.aborted:
            raise  # the server is stopping: aiohttp's own cancellation
    finally:
        if connection.close_queued:  # our close (or close answer) goes out after the rest
            with contextlib.suppress(TimeoutError, ConnectionError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(writer), service.settings.close_timeout)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
        connection.session = None
        service.closed(session, close_code=client_close)
    return ws


def _as_aiohttp_reads_it(request: web.Request, upgrade: Upgrade) -> web.Request:
    """``request``, or the same upgrade as aiohttp's handshake reads it: that reads only the
    first line of ``Upgrade`` and ``Sec-WebSocket-Version`` and wants exactly ``websocket`` and
    a known version, where the rules above read every line and list (RFC 9110 5.3)."""
    headers = request.headers
    if headers.get("Upgrade", "").strip().lower() == "websocket" and headers.get(
        "Sec-WebSocket-Version", ""
    ).strip() in ("13", "8", "7"):
        return request
    # Only what the handshake reads (other headers may hold bytes a clone cannot re-encode).
    return request.clone(
        headers={
            "Host": headers.get("Host", ""),
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": headers["Sec-WebSocket-Key"],
            "Sec-WebSocket-Version": "13",
        }
    )


def _answer_close(
    connection: AiohttpConnection, service: SignalingService, session: Session, code: int
) -> int:
    """Answer a client's close frame, after what is queued: echo a valid code, fail an invalid
    one with 1002. Returns the code the client sent (1005: none)."""
    if code == 0:  # aiohttp's way of saying the close frame had no code
        # Its public API cannot send a close without a code: 1000 (docs/protocol.md 1.7).
        connection.close(1000, "")
        return 1005
    if not close_code_is_valid(code):
        service.failed(session, 1002, f"invalid close code {code}")
        connection.close(1002, "invalid close code")
        return code
    connection.close(code, "")
    return code
