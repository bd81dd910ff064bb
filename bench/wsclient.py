"""A lean websocket client for the load generator: one asyncio protocol per socket, no task.

Not aiohttp's client websocket: with a reader task per socket and an ``await`` per frame sent and
received, the generator's own core, not the server under test, became the limit. Here a send is one
masked frame written to the transport, and frames received are parsed in ``data_received`` and
handed to a callback. It speaks RFC 6455 as a client must (a fresh mask key for every frame, pings
answered, a close answered); it does not fragment, compress or offer extensions, reassembles a
server's fragmented messages and gives up on a server that masks its frames.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import struct
from collections import deque
from collections.abc import Callable
from typing import Final, cast
from urllib.parse import urlsplit

from aiohttp._websocket.helpers import websocket_mask  # aiohttp's C masking (about 0.1 µs)

from signaling.fastpath.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
)

MAX_HEAD: Final = 16384


class WebSocketClosed(ConnectionError):
    """The socket ended (close frame, TCP reset, or it never opened)."""


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 §5.2-5.3)."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = random.getrandbits(32).to_bytes(4, "big")
    body = bytearray(payload)
    websocket_mask(key, body)
    return head + key + body


class ClientSocket(asyncio.Protocol):
    """One client websocket. Until :meth:`listen` is called, text messages queue for
    :meth:`receive`; after, each goes to the listener as its raw UTF-8 bytes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.close_code: int | None = None
        self.on_text: Callable[[bytes], None] | None = None
        self._head_buffer = b""
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._queue: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._gone = asyncio.get_running_loop().create_future()

    # --- opening ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def _handshake(self, data: bytes) -> bytes | None:
        """Collect the response head; once complete, check it and return what follows it."""
        self._head_buffer += data
        end = self._head_buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head_buffer) > MAX_HEAD:
                self._fail_open("response head too large")
            return None
        head, rest = self._head_buffer[:end], self._head_buffer[end + 4 :]
        self._head_buffer = b""
        status = head.split(b"\r\n", 1)[0]
        if not status.startswith(b"HTTP/1.1 101"):
            self._fail_open(f"upgrade refused: {status.decode('latin-1')[:100]}")
            return None
        if not self._opened.done():
            self._opened.set_result(None)
        return rest

    def _fail_open(self, reason: str) -> None:
        if not self._opened.done():
            self._opened.set_exception(WebSocketClosed(reason))
        if self.transport is not None:
            self.transport.abort()

    # --- reading ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if not self._opened.done():
            rest = self._handshake(data)
            if not rest:
                return
            data = rest
        buffer = self._buffer
        buffer += data
        offset = 0
        size = len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            if second & 0x80:
                self._fail_open("the server masked a frame (RFC 6455 5.1 forbids it)")
                return
            length = second & 0x7F
            start = offset + 2
            if length >= 126:
                extra = 2 if length == 126 else 8
                if size - start < extra:
                    break
                length = int.from_bytes(buffer[start : start + extra], "big")
                start += extra
            end = start + length
            if end > size:
                break
            payload = bytes(buffer[start:end])
            offset = end
            self._frame(first & 0x80, first & 0x0F, payload)
            if self.closed:
                return
        del buffer[:offset]

    def _frame(self, final: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
            if opcode != OP_CONTINUATION:
                self._fragment_opcode = opcode
            if not final:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join(self._fragments) + payload
                self._fragments.clear()
            if self._fragment_opcode == OP_TEXT:
                self._text(payload)
        elif opcode == OP_PING:
            self._write(masked_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(masked_frame(OP_CLOSE, payload[:2]))
            self._finish()

    def _text(self, payload: bytes) -> None:
        if self.on_text is not None:
            self.on_text(payload)
            return
        self._queue.append(payload)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()
        if not self._opened.done():
            self._opened.set_exception(WebSocketClosed(f"connection lost: {exc}"))
        if not self._gone.done():
            self._gone.set_result(None)

    def _finish(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self.transport is not None:
            self.transport.close()

    # --- the caller's side --------------------------------------------------------------------

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
        """Send UTF-8 ``payload`` as one text message (skips an encode on the generator's path)."""
        self._write(masked_frame(OP_TEXT, payload))

    async def close(self, timeout: float = 5.0) -> None:
        """Send a normal close and wait (bounded) for the TCP connection to end."""
        if not self.closed:
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
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    key = base64.b64encode(os.urandom(16)).decode()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, socket = await loop.create_connection(ClientSocket, parts.hostname, port)
        assert socket.transport is not None
        socket.transport.write(
            (
                f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        try:
            await socket._opened
        except BaseException:
            socket.transport.abort()
            raise
    return socket
