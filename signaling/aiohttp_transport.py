"""The websocket transport on aiohttp's public ``web.WebSocketResponse``: always present.

It serves ``GET /ws`` wherever the fast path does not: with ``--transport aiohttp``, and under the
fast path for every upgrade the fast path leaves to aiohttp (a later request on a keep-alive
connection, an absolute-form target, repeated or folded headers). The handshake rules are the same
(``signaling.handshake``); what aiohttp's public API does not let a handler enforce is listed in
docs/protocol.md.

One handler task per socket reads frames; sends go to a queue that one writer task drains, so a
send never waits and a client that stops reading is dropped once its queue holds more than
``--send-buffer-kib``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Final

from aiohttp import WSMsgType, web

from signaling.handshake import HandshakeRefused, check_upgrade, origin_refusal
from signaling.service import SignalingService
from signaling.session import Session
from signaling.transport import close_code_is_valid

_PING: Final = object()


class AiohttpConnection:
    """The :class:`~signaling.transport.Connection` of one aiohttp websocket."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, service: SignalingService
    ) -> None:
        self.ws = ws
        self.request = request
        self.service = service
        self.session: Session | None = None
        self.max_buffer = service.settings.send_buffer_bytes
        self._queue: deque[bytes | object | tuple[int, str]] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._closing = False

    def send(self, payload: bytes) -> None:
        if self._closing:
            return
        self._queue.append(payload)
        self._queued += len(payload)
        self._wake.set()
        if self._queued > self.max_buffer:
            if self.session is not None:
                self.service.overflowed(self.session, self._queued)
            self.abort()

    def ping(self) -> None:
        if not self._closing:
            self._queue.append(_PING)
            self._wake.set()

    def close(self, code: int, reason: str) -> None:
        if not self._closing:
            self._closing = True
            self._queue.append((code, reason))
            self._wake.set()

    def abort(self) -> None:
        self._closing = True
        self._queue.clear()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def write_loop(self) -> None:
        """Write what is queued, in order, until a close has been sent."""
        ws = self.ws
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                item = self._queue.popleft()
                if isinstance(item, bytes):
                    self._queued -= len(item)
                    await ws.send_frame(item, WSMsgType.TEXT)
                elif item is _PING:
                    await ws.ping()
                elif isinstance(item, tuple):
                    code, reason = item
                    await ws.close(code=code, message=reason.encode()[:123])
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
        return web.Response(
            status=exc.status,
            text=exc.reason,
            headers={**dict(exc.headers), "Connection": "close"},
        )
    ws = web.WebSocketResponse(
        autoping=False,
        autoclose=False,
        compress=False,
        max_msg_size=service.settings.max_frame_bytes + 1,  # aiohttp refuses at the size given
        timeout=service.settings.close_timeout,
    )
    # aiohttp reads only the first line of these headers; the rules above read them all.
    await ws.prepare(
        request.clone(
            headers={
                **{k: v for k, v in request.headers.items()},
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
            }
        )
    )
    connection = AiohttpConnection(ws, request, service)
    session = service.open(
        connection, upgrade.client_address(address, service.settings.trusted_proxies)
    )
    connection.session = session
    writer = asyncio.ensure_future(connection.write_loop())
    client_close: int | None = None
    try:
        while True:
            msg = await ws.receive()
            now = time.monotonic()
            if msg.type is WSMsgType.TEXT:
                service.received(session, msg.data, now)
            elif msg.type is WSMsgType.BINARY:
                service.received_binary(session, now)
            elif msg.type is WSMsgType.PING:
                service.pong(session, now)
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                service.pong(session, now)
            elif msg.type is WSMsgType.CLOSE:
                client_close = await _answer_close(ws, service, session, msg.data, msg.extra)
                break
            elif msg.type is WSMsgType.ERROR:
                code = ws.close_code or 1002
                service.failed(session, code, str(msg.data))
                break
            else:  # CLOSING, CLOSED
                break
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
        connection.session = None
        service.closed(session, close_code=client_close)
    return ws


async def _answer_close(
    ws: web.WebSocketResponse,
    service: SignalingService,
    session: Session,
    code: int,
    reason: str | None,
) -> int:
    """Answer a client's close frame: echo a valid code, fail an invalid one with 1002."""
    if code == 0:  # aiohttp's way of saying the close frame had no code
        await ws.close(code=1000)
        return 1005
    if not close_code_is_valid(code):
        service.failed(session, 1002, f"invalid close code {code}")
        await ws.close(code=1002, message=b"invalid close code")
        return code
    await ws.close(code=code)
    return code
