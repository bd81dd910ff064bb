"""Conformance, framing and ping/pong (RFC 6455 sections 5.2-5.7), on every transport.

Each test speaks to a live session (upgraded and joined) over a raw socket. A ``ping`` message
(``{"type":"ping"}``, answered by ``{"type":"pong"}``) shows the server still handles the socket's
frames; a frame that breaks the protocol must fail the connection with 1002, a reason, and an
immediate end of the TCP stream (``expect_failure``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.signaling.conformance_support import RawServer, RawServers, expect_failure
from tests.signaling.conftest import HarnessFactory
from tests.support.raw_websocket import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    LengthForm,
    build_frame,
    close_payload,
    fragmented,
    text_frame,
)

PING_MESSAGE = b'{"type":"ping"}'


def padded_ping(size: int) -> bytes:
    """A ``ping`` message of exactly ``size`` bytes (JSON allows the trailing spaces)."""
    return PING_MESSAGE + b" " * (size - len(PING_MESSAGE))


@pytest.fixture
async def servers(harness_factory: HarnessFactory) -> AsyncIterator[RawServers]:
    async with RawServers(harness_factory) as started:
        yield started


@pytest.fixture
async def server(servers: RawServers) -> RawServer:
    return await servers.start()


# --- messages that must be handled ---------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "form"),
    [
        pytest.param(125, 7, id="7-bit"),
        pytest.param(126, 16, id="16-bit-smallest"),
        pytest.param(65_535, 16, id="16-bit-largest"),
        pytest.param(65_536, 64, id="64-bit-smallest"),
        pytest.param(100_000, 64, id="64-bit"),
    ],
)
async def test_text_message_length_encodings(
    servers: RawServers, size: int, form: LengthForm
) -> None:
    server = await servers.start(max_frame_bytes=100_000)
    ws = await server.live()
    frame = build_frame(OP_TEXT, padded_ping(size), length_form=form)
    assert (frame[1] & 0x7F) == {7: size, 16: 126, 64: 127}[form]
    await ws.send(frame)
    assert await ws.read_message() == {"type": "pong"}


async def test_fragmented_text_with_pings_between_fragments(server: RawServer) -> None:
    ws = await server.live()
    parts = [PING_MESSAGE[:3], PING_MESSAGE[3:9], PING_MESSAGE[9:], b"   "]
    for i, frame in enumerate(fragmented(OP_TEXT, parts)):
        await ws.send(frame)
        if i < len(parts) - 1:  # a ping in the middle of the message is answered at once
            await ws.send(build_frame(OP_PING, f"between {i}".encode()))
            pong = await ws.read_frame()
            assert (pong.opcode, pong.payload) == (OP_PONG, f"between {i}".encode()), pong
    assert await ws.read_message() == {"type": "pong"}


async def test_fragmented_text_in_one_write(server: RawServer) -> None:
    ws = await server.live()
    parts = [PING_MESSAGE[:1], b"", PING_MESSAGE[1:], b" "]
    await ws.send(*fragmented(OP_TEXT, parts))
    assert await ws.read_message() == {"type": "pong"}


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param([build_frame(OP_BINARY, b"\x00\x01\x02")], id="one-frame"),
        pytest.param(fragmented(OP_BINARY, [b"\x00", b"\xff"]), id="fragmented"),
        pytest.param([build_frame(OP_BINARY, b"")], id="empty"),
    ],
)
async def test_binary_message_gets_an_error_and_the_socket_stays(
    server: RawServer, frames: list[bytes]
) -> None:
    ws = await server.live()
    await ws.send(*frames)
    error = await ws.read_message()
    assert error["type"] == "error", error
    assert error["code"] == "binary-not-supported", error
    assert error["message"], error
    await ws.probe()


@pytest.mark.parametrize("size", [0, 1, 125])
async def test_ping_payload_comes_back_in_the_pong(server: RawServer, size: int) -> None:
    ws = await server.live()
    payload = bytes(i % 256 for i in range(size))
    await ws.send(build_frame(OP_PING, payload))
    pong = await ws.read_frame()
    assert (pong.opcode, pong.fin, pong.rsv, pong.masked) == (OP_PONG, True, 0, False), pong
    assert pong.payload == payload
    await ws.probe()


async def test_unsolicited_pong_is_ignored(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_PONG, b"unasked"))
    await ws.probe()  # nothing came before the pong message


# --- frames that must fail the connection with 1002 ----------------------------------------


@pytest.mark.parametrize(
    ("opcode", "payload"),
    [(OP_PING, b"x"), (OP_PONG, b"x"), (OP_CLOSE, close_payload(1000))],
    ids=["ping", "pong", "close"],
)
async def test_fragmented_control_frame(server: RawServer, opcode: int, payload: bytes) -> None:
    ws = await server.live()
    await ws.send(build_frame(opcode, payload, fin=False))
    await expect_failure(ws, 1002)


@pytest.mark.parametrize(
    ("opcode", "payload"),
    [(OP_PING, b"x" * 126), (OP_PONG, b"x" * 126), (OP_CLOSE, close_payload(1000, b"r" * 124))],
    ids=["ping", "pong", "close"],
)
async def test_control_frame_over_125_bytes(server: RawServer, opcode: int, payload: bytes) -> None:
    ws = await server.live()
    assert len(payload) == 126
    await ws.send(build_frame(opcode, payload))
    await expect_failure(ws, 1002)


@pytest.mark.parametrize("rsv", range(1, 8), ids=lambda rsv: f"rsv={rsv:03b}")
async def test_reserved_bits_on_a_text_frame(server: RawServer, rsv: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, PING_MESSAGE, rsv=rsv))
    ending = await expect_failure(ws, 1002)
    assert not ending.messages, "the message with RSV bits must not be handled"


@pytest.mark.parametrize("rsv", [1, 4], ids=["rsv1", "rsv3"])
async def test_reserved_bits_on_a_ping(server: RawServer, rsv: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_PING, b"p", rsv=rsv))
    ending = await expect_failure(ws, 1002)
    assert not [f for f in ending.frames if f.opcode == OP_PONG]


@pytest.mark.parametrize("opcode", [*range(3, 8), *range(0xB, 0x10)], ids=lambda op: f"{op:#x}")
async def test_reserved_opcode(server: RawServer, opcode: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(opcode, b"x"))
    await expect_failure(ws, 1002)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(build_frame(OP_TEXT, PING_MESSAGE, masked=False), id="text"),
        pytest.param(build_frame(OP_PING, b"p", masked=False), id="ping"),
        pytest.param(build_frame(OP_TEXT, b"", masked=False), id="empty-text"),
    ],
)
async def test_unmasked_client_frame(server: RawServer, frame: bytes, transport: str) -> None:
    ws = await server.live()
    await ws.send(frame)
    if transport == "aiohttp":
        # A limit of aiohttp's public API (docs/protocol.md 1.7): its reader serves unmasked
        # client frames and does not say whether a frame was masked. Pinned, so that an aiohttp
        # that starts refusing them shows up here and the documented limit can go.
        answer = await ws.read_frame()
        assert answer.opcode in (OP_TEXT, OP_PONG), answer
        return
    ending = await expect_failure(ws, 1002)
    assert not ending.messages
    assert not [f for f in ending.frames if f.opcode == OP_PONG]


@pytest.mark.parametrize("fin", [True, False], ids=["final", "not-final"])
async def test_continuation_with_no_message_started(server: RawServer, fin: bool) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CONTINUATION, PING_MESSAGE, fin=fin))
    await expect_failure(ws, 1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY], ids=["text", "binary"])
async def test_new_message_inside_a_fragmented_one(server: RawServer, second: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, PING_MESSAGE[:5], fin=False))
    await ws.send(build_frame(second, PING_MESSAGE))
    ending = await expect_failure(ws, 1002)
    assert not ending.messages


async def test_continuation_after_a_finished_message(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(*fragmented(OP_TEXT, [PING_MESSAGE[:4], PING_MESSAGE[4:]]))
    assert await ws.read_message() == {"type": "pong"}
    await ws.send(build_frame(OP_CONTINUATION, b" "))
    await expect_failure(ws, 1002)


async def test_frames_in_one_write_then_a_bad_one(server: RawServer) -> None:
    """Good frames before a bad one in the same write are handled; nothing after it is."""
    ws = await server.live()
    await ws.send(text_frame(PING_MESSAGE), build_frame(0x3, b""), text_frame(PING_MESSAGE))
    ending = await ws.read_until_eof()
    assert ending.messages == [{"type": "pong"}], ending
    (close,) = ending.close_frames
    assert close.close_code == 1002, close
    assert close.close_reason, close


@pytest.mark.parametrize(
    ("size", "form"),
    [
        pytest.param(len(PING_MESSAGE), 16, id="16-bit-for-15-bytes"),
        pytest.param(len(PING_MESSAGE), 64, id="64-bit-for-15-bytes"),
        pytest.param(200, 64, id="64-bit-for-200-bytes"),
        pytest.param(65_535, 64, id="64-bit-for-65535-bytes"),
    ],
)
async def test_length_not_in_its_shortest_form(
    servers: RawServers, size: int, form: LengthForm, transport: str
) -> None:
    """RFC 6455 5.2: "the minimal number of bytes MUST be used to encode the length". The fast
    transport fails such a frame with 1002 (docs/protocol.md 1.3); aiohttp's reader serves it,
    a documented limit (1.7), pinned here so that a change on either side shows."""
    server = await servers.start(max_frame_bytes=100_000)
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, padded_ping(size), length_form=form))
    if transport == "aiohttp":
        assert await ws.read_message() == {"type": "pong"}
        return
    ending = await expect_failure(ws, 1002)
    assert not ending.messages
