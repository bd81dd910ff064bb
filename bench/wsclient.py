"""A lean websocket client for the load generator: one asyncio protocol per socket, no task.

aiohttp's client (a reader task per socket, an ``await`` per frame) made the generator's own core
the limit. Here a send is one masked frame written to the transport; frames received are parsed in
``data_received`` and handed to a callback. It speaks RFC 6455 as a client must (a fresh mask key
per frame, pings and a close answered, fragments reassembled); it sends no fragments or extensions,
and gives up on a server that masks its frames.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
from collections import deque
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from aiohttp._websocket.helpers import websocket_mask  # aiohttp's C masking

from signaling.fastpath.frames import (
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    frame_header,
)


class WebSocketClosed(ConnectionError):
    """The socket ended (close frame, TCP reset, or it never opened)."""


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 §5.2-5.3)."""
    head = frame_header(opcode, len(payload))
    key = random.getrandbits(32).to_bytes(4, "big")
    body = bytearray(payload)
    websocket_mask(key, body)
    return bytes((head[0], head[1] | 0x80)) + head[2:] + key + body


class ClientSocket(asyncio.Protocol):
    """One client websocket. Until :meth:`listen`, text messages queue for :meth:`receive`; after,
    each goes to the listener as its raw UTF-8 bytes."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.close_code: int | None = None
        self.on_text: Callable[[bytes], None] | None = None
        self._opened: asyncio.Future[None] = loop.create_future()
        self._gone: asyncio.Future[None] = loop.create_future()
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._text_message = False
        self._queue: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def _fail(self, reason: str) -> None:
        if not self._opened.done():
            self._opened.set_exception(WebSocketClosed(reason))
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._opened.done():  # the upgrade's response head first
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            if not status.startswith(b"HTTP/1.1 101"):
                return self._fail(f"upgrade refused: {status.decode('latin-1')[:100]}")
            self._opened.set_result(None)
            del buffer[: end + 4]
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            if second & 0x80:
                return self._fail("the server masked a frame (RFC 6455 5.1 forbids it)")
            length, start = second & 0x7F, offset + 2
            if length >= 126:
                extra = 2 if length == 126 else 8
                if size - start < extra:
                    break
                length = int.from_bytes(buffer[start : start + extra], "big")
                start += extra
            if start + length > size:
                break
            offset = start + length
            self._frame(first & 0x80, first & 0x0F, bytes(buffer[start:offset]))
            if self.closed:
                return
        del buffer[:offset]

    def _frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self._write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(masked_frame(OP_CLOSE, payload[:2]))
            self._finish()
        elif opcode < OP_CLOSE:  # text, binary or a continuation of either
            if opcode != OP_CONTINUATION:
                self._text_message = opcode == OP_TEXT
            self._fragments.append(payload)
            if not final:
                return
            payload = b"".join(self._fragments)
            self._fragments.clear()
            if not self._text_message:
                return
            if self.on_text is not None:
                return self.on_text(payload)
            self._queue.append(payload)
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()
        if not self._opened.done():
            self._opened.set_exception(WebSocketClosed(f"connection lost: {exc}"))
        if not self._gone.done():
            self._gone.set_result(None)

    def _finish(self) -> None:
        if not self.closed:
            self.closed = True
            self._wake()
            if self.transport is not None:
                self.transport.close()

    async def receive(self, timeout: float) -> str:
        """The next text message (only while ``on_text`` is unset)."""
        async with asyncio.timeout(timeout):
            while not self._queue:
                if self.closed:
                    raise WebSocketClosed(f"closed by the server ({self.close_code})")
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
        return self._queue.popleft().decode()

    def listen(self, on_text: Callable[[bytes], None]) -> None:
        """From now on, hand every text message to ``on_text`` as bytes (queued ones first)."""
        self.on_text = on_text
        while self._queue:
            on_text(self._queue.popleft())

    def _write(self, frame: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(frame)

    def send_str(self, text: str) -> None:
        """Send one text message (never waits; the transport buffers)."""
        self._write(masked_frame(OP_TEXT, text.encode()))

    def send_bytes_as_text(self, payload: bytes) -> None:
        """Send UTF-8 ``payload`` as one text message (no encode on the generator's hot path)."""
        self._write(masked_frame(OP_TEXT, payload))

    async def close(self, timeout: float = 5.0) -> None:
        """Send a normal close and wait (bounded) for the TCP connection to end."""
        self._write(masked_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._gone), timeout)
        if self.transport is not None:
            self.transport.abort()


async def connect(url: str, timeout: float = 30.0) -> ClientSocket:
    """Open ``ws://host:port/path?query`` and complete the upgrade (raises on refusal)."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None:
        raise ValueError(f"only ws:// URLs with a host are supported, got {url!r}")
    port, target = (
        parts.port or 80,
        (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    )
    key = base64.b64encode(os.urandom(16)).decode()
    async with asyncio.timeout(timeout):
        _, ws = await asyncio.get_running_loop().create_connection(
            ClientSocket, parts.hostname, port
        )
        assert ws.transport is not None
        ws.transport.write(
            f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            .encode()
        )  # fmt: skip
        try:
            await ws._opened
        except BaseException:
            ws.transport.abort()
            raise
    return ws
