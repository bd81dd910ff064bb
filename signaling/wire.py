"""The websocket wire pieces the server writes itself: the upgrade handshake and outgoing frames.

Pure functions, no I/O (RFC 6455 §4.2 and §5.2). Incoming frames are parsed by aiohttp's
``WebSocketReader``; what is here is the small part that aiohttp only offers bundled with a
per-connection task and request object, which cost more memory per idle socket than the whole
rest of a connection (docs/benchmarks.md, "memory per idle connection").

:func:`parse_request_head` reads the request line and headers of the first request on a connection;
:func:`websocket_upgrade` decides whether it is a websocket upgrade to ``/ws`` we accept, and
:func:`handshake_response` / :func:`http_error_response` build the bytes to answer with.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import Final

WEBSOCKET_PATH: Final = "/ws"
WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
MAX_HEAD_BYTES: Final = 16 * 1024  # request line plus headers; the same order as aiohttp's limits

OP_TEXT: Final = 0x1
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

_LEN16: Final = struct.Struct("!BBH")
_LEN64: Final = struct.Struct("!BBQ")
_CLOSE_CODE: Final = struct.Struct("!H")


class HandshakeError(Exception):
    """The request cannot be upgraded; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RequestHead:
    """The request line and headers (names lower-cased; a repeated header keeps the last value)."""

    method: str
    target: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def head_end(buffer: bytes) -> int:
    """Index just past the blank line ending the request head, or -1 if it has not all arrived."""
    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def could_be_websocket(buffer: bytes) -> bool:
    """False as soon as the first bytes show this is not ``GET /ws...``: hand it to aiohttp."""
    prefix = b"GET " + WEBSOCKET_PATH.encode()
    n = min(len(buffer), len(prefix))
    return buffer[:n] == prefix[:n]


def parse_request_head(head: bytes) -> RequestHead:
    """Parse ``METHOD target HTTP/1.1`` and its headers; HandshakeError(400) names the fault."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HandshakeError(400, "request head is not text") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HandshakeError(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HandshakeError(400, f"malformed header line {line[:40]!r}")
        headers[name.lower()] = value.strip()
    return RequestHead(method=parts[0], target=parts[1], headers=headers)


def is_websocket_upgrade(head: RequestHead) -> bool:
    """A ``GET /ws`` asking to upgrade to websocket (then this module answers it, not aiohttp)."""
    return (
        head.method == "GET"
        and head.path == WEBSOCKET_PATH
        and head.headers.get("upgrade", "").lower() == "websocket"
    )


def websocket_accept(head: RequestHead) -> str:
    """Check the upgrade headers (RFC 6455 §4.2.1); the ``Sec-WebSocket-Accept`` value for them."""
    connection = {token.strip().lower() for token in head.headers.get("connection", "").split(",")}
    if "upgrade" not in connection:
        raise HandshakeError(400, "Connection header must include 'upgrade'")
    if head.headers.get("sec-websocket-version") != "13":
        raise HandshakeError(426, "only websocket version 13 is supported")
    key = head.headers.get("sec-websocket-key", "")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise HandshakeError(400, "Sec-WebSocket-Key must be 16 bytes in base64") from None
    digest = hashlib.sha1(key.encode() + WS_GUID, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def handshake_response(accept: str) -> bytes:
    """``101 Switching Protocols``; no extension is offered (no permessage-deflate: see app)."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


_STATUS_TEXT: Final = {400: "Bad Request", 403: "Forbidden", 426: "Upgrade Required"}


def http_error_response(status: int, text: str) -> bytes:
    """A complete plain-text HTTP response that closes the connection."""
    body = text.encode()
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    return (
        f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n{extra}"
        "Connection: close\r\n\r\n"
    ).encode() + body


def frame_header(opcode: int, size: int) -> bytes:
    """The header of a final, unmasked frame of ``size`` payload bytes (RFC 6455 §5.2)."""
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, size))
    if size < 1 << 16:
        return _LEN16.pack(first, 126, size)
    return _LEN64.pack(first, 127, size)


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked server frame (servers never mask, RFC 6455 §5.1)."""
    return frame_header(opcode, len(payload)) + payload


def text_frame(text: str) -> bytes:
    return frame(OP_TEXT, text.encode())


def text_frame_bytes(payload: bytes) -> bytes:
    """A text frame of ``payload``, already UTF-8 (the relay path encodes with orjson)."""
    size = len(payload)
    if size < len(TEXT_HEADERS):
        return TEXT_HEADERS[size] + payload
    return frame(OP_TEXT, payload)


def close_frame(code: int, reason: str) -> bytes:
    """A close frame; the reason is cut to fit the 123 bytes a control frame allows."""
    cut = reason.encode()[:120].decode("utf-8", "ignore").encode()  # never split a character
    return frame(OP_CLOSE, _CLOSE_CODE.pack(code) + cut)


PING_FRAME: Final = frame(OP_PING, b"")

# The header of each text frame shorter than 1 KiB, made once (about 50 KB): a relayed candidate
# is a few hundred bytes, and a table lookup costs less than building the header per message.
TEXT_HEADERS: Final = tuple(frame_header(OP_TEXT, size) for size in range(1024))


def holds_more_than_one_frame(data: bytes) -> bool:
    """Whether bytes read from a client go on past the frame they start with.

    A guess from the first frame's header, to decide whether a read is worth holding its sends
    for (``connection.ClientConnection.data_received``): a read that starts mid-frame (the rest of a
    frame split over reads) gives a wrong answer, which costs a little speed and nothing else.
    Frames of 64 KiB or more (a 64-bit length) count as more than one: they are rare.
    """
    if len(data) < 2:
        return False
    second = data[1]
    size = second & 0x7F
    header = 6 if second & 0x80 else 2  # a client's frames carry a 4-byte mask
    if size == 126:
        if len(data) < 4:
            return False
        size = (data[2] << 8) | data[3]
        header += 2
    elif size == 127:
        return True
    return len(data) > header + size
