"""Websocket frames (RFC 6455 section 5): a strict parser for what clients send, and the frames the
server writes. Pure: bytes in, calls out; no I/O.

:class:`FrameParser` enforces every MUST a server has towards a client's frames: masking, no RSV
bit without an extension, known opcodes, control frames short and unfragmented, continuation
frames only inside a fragmented message, valid UTF-8 in text (checked as fragments arrive) and in
close reasons, valid close codes, lengths in their shortest form, and the size limit (a message
of exactly ``max_message`` bytes is accepted; one byte more fails with 1009 as soon as a header
announces it, before its payload is read). The first violation is reported to the handler and
nothing after it is parsed; nothing after a close frame is parsed either.

Unmasking uses aiohttp's compiled mask function when it is there (one aiohttp internal, pinned by
a test) and a pure-Python one otherwise.
"""

from __future__ import annotations

import codecs
import struct
from typing import Final, Protocol

from signaling.transport import close_code_is_valid

try:  # aiohttp's C implementation: the same result, with the loop over the bytes in C
    from aiohttp._websocket.mask import (  # type: ignore[import-not-found]
        _websocket_mask_cython as _c_mask,
    )
except ImportError:  # pragma: no cover - only if aiohttp moves it (a test notices)
    _c_mask = None

NATIVE_MASK: Final = _c_mask is not None
"""Whether aiohttp's C unmasking is there: without it frames are unmasked in Python, and the
one-whole-frame shortcut (:meth:`FrameParser.feed_one`) is off."""

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

CLOSE_PROTOCOL_ERROR: Final = 1002
CLOSE_INVALID_DATA: Final = 1007
CLOSE_TOO_BIG: Final = 1009


_LEN16: Final = struct.Struct("!BBH")
_LEN64: Final = struct.Struct("!BBQ")
_CLOSE_CODE: Final = struct.Struct("!H")
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


def unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR ``payload`` with the 4-byte ``mask`` repeated (RFC 6455 5.3)."""
    if _c_mask is not None:
        data = bytearray(payload)
        _c_mask(bytes(mask), data)
        return bytes(data)
    return _unmask_python(payload, mask)


def _unmask_python(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    size = len(payload)
    key = (bytes(mask) * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        size, "little"
    )


class FrameHandler(Protocol):
    """What the parser reports; each call is one complete message or event."""

    def on_text(self, text: str) -> None: ...

    def on_binary(self, data: bytes) -> None: ...

    def on_ping(self, payload: bytes) -> None: ...

    def on_pong(self, payload: bytes) -> None: ...

    def on_close(self, code: int | None, reason: str) -> None: ...

    def on_failure(self, code: int, reason: str) -> None: ...


class _Failure(Exception):
    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class FrameParser:
    """Parses a client's frames as bytes arrive and calls ``handler`` for each message."""

    __slots__ = (
        "_buffer",
        "_decoder",
        "_done",
        "_fragment_opcode",
        "_fragment_size",
        "_fragments",
        "_handler",
        "_max",
    )

    def __init__(self, max_message: int, handler: FrameHandler) -> None:
        self._max = max_message
        self._handler = handler
        self._buffer = bytearray()
        self._done = False  # failed, or a close frame was read: nothing more is parsed
        self._fragment_opcode: int | None = None
        self._fragment_size = 0
        self._fragments: list[bytes] | list[str] = []
        self._decoder: codecs.IncrementalDecoder | None = None

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, data: bytes) -> None:
        """Parse what ``data`` completes; keep any incomplete frame for the next call."""
        if self._done or self.feed_one(data):
            return
        buffer = self._buffer
        if buffer:
            buffer += data
            source: bytes | bytearray = buffer
        else:
            source = data
        try:
            used = self._parse(source)
        except _Failure as failure:
            self._done = True
            self._buffer = bytearray()
            self._handler.on_failure(failure.code, failure.reason)
            return
        if self._done:
            self._buffer = bytearray()
        elif source is buffer:
            del buffer[:used]
        elif used < len(data):
            buffer += data[used:]

    def feed_one(self, data: bytes) -> bool:
        """The common read, handled on its own: exactly one whole, final, masked text frame
        with a 7- or 16-bit length and valid UTF-8, with nothing buffered. False (nothing done)
        for anything else, which :meth:`feed` then reads and judges."""
        size = len(data)
        if (
            size < 6
            or data[0] != 0x81
            or self._buffer
            or self._fragment_opcode is not None
            or self._done
            or _c_mask is None
        ):
            return False
        second = data[1]
        if second == 0xFE:
            if size < 8:
                return False
            length = (data[2] << 8) | data[3]
            if length < 126:
                return False  # not in its shortest form: the general parser refuses it
            start = 8
        elif 0x80 <= second < 0xFE:
            length = second & 0x7F
            start = 6
        else:
            return False
        if size != start + length or length > self._max:
            return False
        payload = bytearray(data[start:])
        _c_mask(data[start - 4 : start], payload)
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return False
        self._handler.on_text(text)
        return True

    def _parse(self, data: bytes | bytearray) -> int:
        """Handle every complete frame in ``data``; return how many bytes they took."""
        size = len(data)
        pos = 0
        handler = self._handler
        while size - pos >= 2 and not self._done:
            first = data[pos]
            second = data[pos + 1]
            if first & 0x70:
                raise _Failure(
                    CLOSE_PROTOCOL_ERROR, "reserved bits set, but no extension was agreed"
                )
            if not second & 0x80:
                raise _Failure(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
            opcode = first & 0x0F
            final = first & 0x80
            length = second & 0x7F
            header = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (data[pos + 2] << 8) | data[pos + 3]
                if length < 126:
                    raise _Failure(CLOSE_PROTOCOL_ERROR, "frame length not in its shortest form")
                header += 2
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                if length >> 63:
                    raise _Failure(CLOSE_PROTOCOL_ERROR, "frame length has its top bit set")
                if length < 1 << 16:
                    raise _Failure(CLOSE_PROTOCOL_ERROR, "frame length not in its shortest form")
                header += 8
            self._check_header(opcode, final, length)
            start = header + 4
            end = start + length
            if end > size:
                break
            payload = unmask(data[start:end], data[header:start]) if length else b""
            pos = end
            if opcode == OP_TEXT and final:  # nearly every frame: one whole text message
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise _Failure(CLOSE_INVALID_DATA, "text message is not valid UTF-8") from None
                handler.on_text(text)
            else:
                self._frame(opcode, bool(final), payload)
        return pos

    def _check_header(self, opcode: int, final: int, length: int) -> None:
        """Everything a header alone can violate, checked before its payload is read."""
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                raise _Failure(CLOSE_PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
            if not final:
                raise _Failure(CLOSE_PROTOCOL_ERROR, "control frames must not be fragmented")
            if length > 125:
                raise _Failure(CLOSE_PROTOCOL_ERROR, "control frame payload over 125 bytes")
            return
        if opcode == OP_CONTINUATION:
            if self._fragment_opcode is None:
                raise _Failure(
                    CLOSE_PROTOCOL_ERROR, "continuation frame outside a fragmented message"
                )
            total = self._fragment_size + length
        elif opcode in (OP_TEXT, OP_BINARY):
            if self._fragment_opcode is not None:
                raise _Failure(
                    CLOSE_PROTOCOL_ERROR, "new message before the fragmented one was finished"
                )
            total = length
        else:
            raise _Failure(CLOSE_PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
        if total > self._max:
            raise _Failure(CLOSE_TOO_BIG, f"message larger than {self._max} bytes")

    def _frame(self, opcode: int, final: bool, payload: bytes) -> None:
        handler = self._handler
        if opcode == OP_PING:
            handler.on_ping(payload)
        elif opcode == OP_PONG:
            handler.on_pong(payload)
        elif opcode == OP_CLOSE:
            self._close(payload)
        elif opcode == OP_BINARY and final:
            handler.on_binary(payload)
        elif opcode != OP_CONTINUATION:  # the first fragment of a message
            self._fragment_opcode = opcode
            self._fragment_size = 0
            self._fragments = []
            self._decoder = _Utf8Decoder("strict") if opcode == OP_TEXT else None
            self._fragment(payload, final=False)
        else:
            self._fragment(payload, final)

    def _fragment(self, payload: bytes, final: bool) -> None:
        self._fragment_size += len(payload)
        decoder = self._decoder
        if decoder is not None:  # text: decoded as it comes, so bad UTF-8 fails at once
            try:
                piece = decoder.decode(payload, final)
            except UnicodeDecodeError:
                raise _Failure(CLOSE_INVALID_DATA, "text message is not valid UTF-8") from None
            held = decoder.getstate()[0]
            if len(held) >= 2 and held[0] == 0xED and held[1] >= 0xA0:
                # The start of an encoded surrogate: Python's decoder waits for its last byte
                # before refusing it; it can never become valid, so fail now.
                raise _Failure(CLOSE_INVALID_DATA, "text message is not valid UTF-8")
            self._fragments.append(piece)  # type: ignore[arg-type]
        else:
            self._fragments.append(payload)  # type: ignore[arg-type]
        if not final:
            return
        parts, self._fragments = self._fragments, []
        self._fragment_opcode, self._decoder = None, None
        if decoder is not None:
            self._handler.on_text("".join(parts))  # type: ignore[arg-type]
        else:
            self._handler.on_binary(b"".join(parts))  # type: ignore[arg-type]

    def _close(self, payload: bytes) -> None:
        if len(payload) == 1:
            raise _Failure(CLOSE_PROTOCOL_ERROR, "close frame payload of 1 byte")
        code: int | None = None
        reason = ""
        if payload:
            (code,) = _CLOSE_CODE.unpack_from(payload)
            if not close_code_is_valid(code):
                raise _Failure(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
            try:
                reason = payload[2:].decode("utf-8")
            except UnicodeDecodeError:
                raise _Failure(CLOSE_INVALID_DATA, "close reason is not valid UTF-8") from None
        self._done = True
        self._handler.on_close(code, reason)


# --- frames the server writes (final, unmasked: RFC 6455 5.1) ----------------------------------


def frame_header(opcode: int, size: int) -> bytes:
    """The header of a final, unmasked frame of ``size`` payload bytes."""
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, size))
    if size < 1 << 16:
        return _LEN16.pack(first, 126, size)
    return _LEN64.pack(first, 127, size)


def frame(opcode: int, payload: bytes) -> bytes:
    return frame_header(opcode, len(payload)) + payload


# The header of each text frame shorter than 1 KiB, made once: a relayed candidate is a few
# hundred bytes, and a table lookup costs less than building the header per message.
TEXT_HEADERS: Final = tuple(frame_header(OP_TEXT, size) for size in range(1024))


def text_frame(payload: bytes) -> bytes:
    """A text frame of ``payload``, already UTF-8."""
    size = len(payload)
    if size < 1024:
        return TEXT_HEADERS[size] + payload
    return frame(OP_TEXT, payload)


def close_frame(code: int | None, reason: str = "") -> bytes:
    """A close frame (``code`` None: no code, the answer to a close that carried none); the reason
    is cut to fit the 125 bytes a control frame allows, never inside a character."""
    if code is None:
        return frame(OP_CLOSE, b"")
    cut = reason.encode()[:123].decode("utf-8", "ignore").encode()
    return frame(OP_CLOSE, _CLOSE_CODE.pack(code) + cut)


PING_FRAME: Final = frame(OP_PING, b"")


def holds_more_than_one_frame(data: bytes) -> bool:
    """Whether bytes read from a client go on past the frame they start with.

    A guess from the first frame's header, to decide whether a read is worth holding its sends
    for: a read that starts mid-frame gives a wrong answer, which costs a little speed and
    nothing else. Frames with a 64-bit length count as more than one: they are rare.
    """
    if len(data) < 2:
        return False
    second = data[1]
    size = second & 0x7F
    header = 6 if second & 0x80 else 2
    if size == 126:
        if len(data) < 4:
            return False
        size = (data[2] << 8) | data[3]
        header += 2
    elif size == 127:
        return True
    return len(data) > header + size
