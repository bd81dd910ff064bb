"""A raw-socket websocket client for conformance tests: the test writes every byte itself.

It builds request heads and client frames of any shape (any FIN, RSV bits and opcode, masked or
not, with the payload length in any of the three encodings, even a length the payload does not
have) and reads back what the server writes: the HTTP answer to the head, then frames, then the
end of the TCP stream. It checks nothing about the server itself; the tests do. Every network wait
is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

WAIT = 10.0  # generous bound for every network wait

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

GOOD_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # the RFC 6455 section 1.3 sample key (16 bytes)
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

LengthForm = Literal[7, 16, 64]


def expected_accept(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer ``key`` with (RFC 6455 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def upgrade_headers(*, host: str = "x", key: str = GOOD_KEY) -> list[tuple[str, str]]:
    """The header lines of a plain, good upgrade request."""
    return [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]


def without(headers: Iterable[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    """``headers`` less every line named ``name`` (any case)."""
    return [(n, v) for n, v in headers if n.lower() != name.lower()]


def replaced(headers: Iterable[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """``headers`` with every line named ``name`` given ``value``."""
    return [(n, value if n.lower() == name.lower() else v) for n, v in headers]


def request_head(
    headers: Sequence[tuple[str, str]] | None = None,
    *,
    request_line: str = "GET /ws HTTP/1.1",
    before: bytes = b"",
) -> bytes:
    """A request head: ``before`` (e.g. a stray CRLF), the request line, then ``headers``."""
    lines = [request_line, *(f"{name}: {value}" for name, value in headers or upgrade_headers())]
    return before + ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def mask_payload(payload: bytes, mask: bytes) -> bytes:
    """XOR ``payload`` with ``mask`` repeated (RFC 6455 5.3); the same call unmasks."""
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def build_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length_form: LengthForm | None = None,
    announced: int | None = None,
    mask: bytes | None = None,
) -> bytes:
    """One client frame, exactly as asked.

    ``rsv`` is the three RSV bits (0-7, RSV1 the highest); ``length_form`` picks the 7-, 16- or
    64-bit length encoding (default: the shortest); ``announced`` puts another length in the
    header than the payload has (to announce bytes that never come).
    """
    length = len(payload) if announced is None else announced
    form = length_form or (7 if length < 126 else 16 if length < 1 << 16 else 64)
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | opcode & 0x0F
    mask_bit = 0x80 if masked else 0
    if form == 7:
        if length > 125:
            raise ValueError(f"{length} bytes do not fit the 7-bit length")
        header = bytes((first, mask_bit | length))
    elif form == 16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    key = os.urandom(4) if mask is None else mask
    return header + key + mask_payload(payload, key)


def text_frame(message: Any, **options: Any) -> bytes:
    """A final, masked text frame: ``message`` as JSON unless it is already str or bytes."""
    if isinstance(message, bytes):
        payload = message
    elif isinstance(message, str):
        payload = message.encode()
    else:
        payload = json.dumps(message).encode()
    return build_frame(OP_TEXT, payload, **options)


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def fragmented(opcode: int, parts: Sequence[bytes]) -> list[bytes]:
    """A message as one frame per part: ``opcode`` first, then continuations, FIN on the last."""
    return [
        build_frame(opcode if i == 0 else OP_CONTINUATION, part, fin=i == len(parts) - 1)
        for i, part in enumerate(parts)
    ]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (lines of the same name comma-joined), or None."""
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass(frozen=True)
class Frame:
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes

    @property
    def close_code(self) -> int | None:
        """The code of a close frame (None if it carries no code)."""
        assert self.opcode == OP_CLOSE, f"not a close frame: {self}"
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> str:
        assert self.opcode == OP_CLOSE, f"not a close frame: {self}"
        return self.payload[2:].decode("utf-8")

    def json(self) -> Any:
        assert self.opcode == OP_TEXT, f"not a text frame: {self}"
        return json.loads(self.payload)


@dataclass(frozen=True)
class Ending:
    """What a client read from a connection until the server ended it."""

    frames: list[Frame]
    how: Literal["eof", "reset"]

    @property
    def close_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.opcode == OP_CLOSE]

    @property
    def messages(self) -> list[Any]:
        return [f.json() for f in self.frames if f.opcode == OP_TEXT]


class RawWebSocket:
    """One TCP connection to the server, spoken to byte by byte."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, *, local: str | None = None) -> RawWebSocket:
        """Connect to ``host:port`` (from the loopback address ``local``, if given)."""
        local_addr = None if local is None else (local, 0)
        opening = asyncio.open_connection(host, port, local_addr=local_addr)
        reader, writer = await asyncio.wait_for(opening, WAIT)
        sock = writer.get_extra_info("socket")
        if sock is not None:  # each write leaves at once, so 1-byte writes arrive as such
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    # --- writing ------------------------------------------------------------------------------

    async def send(self, *chunks: bytes) -> None:
        """Write ``chunks`` in one write."""
        self.writer.write(b"".join(chunks))
        await asyncio.wait_for(self.writer.drain(), WAIT)

    async def send_bytewise(self, data: bytes) -> None:
        """Write ``data`` one byte per write, letting the loop run between writes."""
        for i in range(len(data)):
            self.writer.write(data[i : i + 1])
            await asyncio.wait_for(self.writer.drain(), WAIT)
            await asyncio.sleep(0)

    async def send_json(self, message: Any) -> None:
        await self.send(text_frame(message))

    # --- reading ------------------------------------------------------------------------------

    async def read_answer(self) -> HttpAnswer:
        """The HTTP answer to a request: status, headers, and its ``Content-Length`` body."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT)
        status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        _, status, reason = [*status_line.split(" ", 2), ""][:3]
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        answer = HttpAnswer(int(status), reason, headers, b"")
        length = answer.header("Content-Length")
        if length is None or int(status) == 101:
            return answer
        body = await asyncio.wait_for(self.reader.readexactly(int(length)), WAIT)
        return HttpAnswer(answer.status, reason, headers, body)

    async def read_frame(self, timeout: float = WAIT) -> Frame:
        """The next frame the server writes (EOF or a reset before it raises)."""
        return await asyncio.wait_for(self._read_frame(), timeout)

    async def _read_frame(self) -> Frame:
        first, second = await self.reader.readexactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
        mask = await self.reader.readexactly(4) if second & 0x80 else b""
        payload = await self.reader.readexactly(length)
        if mask:
            payload = mask_payload(payload, mask)
        return Frame(bool(first & 0x80), (first >> 4) & 0x7, first & 0x0F, bool(mask), payload)

    async def read_message(self, timeout: float = WAIT) -> Any:
        """The next frame, which must be a JSON text message."""
        return (await self.read_frame(timeout)).json()

    async def read_close(self, timeout: float = WAIT) -> Frame:
        """The next frame, which must be a close frame."""
        frame = await self.read_frame(timeout)
        assert frame.opcode == OP_CLOSE, f"expected a close frame, got {frame}"
        return frame

    async def read_until_eof(self, timeout: float = WAIT) -> Ending:
        """Every frame until the server ends the TCP connection, which must be within
        ``timeout`` (else the test fails, listing what did arrive)."""
        frames: list[Frame] = []

        async def read_all() -> Literal["eof", "reset"]:
            while True:
                try:
                    frames.append(await self._read_frame())
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise AssertionError(
                            f"the stream ended inside a frame: {exc.partial!r}"
                        ) from None
                    return "eof"
                except ConnectionResetError:
                    return "reset"

        try:
            how = await asyncio.wait_for(read_all(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the server kept the connection open for {timeout} s; frames read: {frames}"
            ) from None
        return Ending(frames, how)

    # --- the signaling session ----------------------------------------------------------------

    async def upgrade(self, head: bytes | None = None) -> HttpAnswer:
        """Send a good upgrade head (or ``head``); the answer must be a 101."""
        await self.send(head or request_head())
        answer = await self.read_answer()
        assert answer.status == 101, f"expected 101, got {answer}"
        return answer

    async def join(self, ticket: str) -> dict[str, Any]:
        await self.send_json({"type": "join", "ticket": ticket})
        welcome = await self.read_message()
        assert welcome["type"] == "welcome", f"expected a welcome, got {welcome}"
        return dict(welcome)

    async def probe(self) -> None:
        """A ``ping`` message gets its ``pong``: the server still handles this socket's frames."""
        await self.send_json({"type": "ping"})
        answer = await self.read_message()
        assert answer == {"type": "pong"}, f"expected a pong, got {answer}"

    # --- ending -------------------------------------------------------------------------------

    def abort(self) -> None:
        """Reset the connection (RST, not FIN): SO_LINGER 0, then drop the socket."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self) -> None:
        """Close our side and release the socket (safe after an abort or the server's close)."""
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), WAIT)
