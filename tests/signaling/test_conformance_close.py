"""Conformance, the closing handshake (RFC 6455 5.5.1, 7.1-7.4) and connections reset mid-way,
on every transport.

A client's valid close is answered with the same code and the TCP connection closed; a close the
client may not send fails with 1002 (1007 for a reason that is not UTF-8); nothing after a close
is processed. Every failure closes the TCP connection at once: the servers here wait 30 s for a
close reply, and the tests give them 10 s without ever answering. A client that resets its
connection in the middle of a frame or of its request head costs the server nothing: the
connection is counted as gone and other clients are served.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from tests.signaling.conformance_support import EOF_WAIT, RawServer, RawServers, expect_failure
from tests.signaling.conftest import HarnessFactory
from tests.support.raw_websocket import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawWebSocket,
    build_frame,
    close_payload,
    request_head,
    text_frame,
)

PING_MESSAGE = {"type": "ping"}


@pytest.fixture
async def servers(harness_factory: HarnessFactory) -> AsyncIterator[RawServers]:
    async with RawServers(harness_factory) as started:
        yield started


@pytest.fixture
async def server(servers: RawServers) -> RawServer:
    return await servers.start()


async def expect_close_answer(ws: RawWebSocket) -> int | None:
    """The server answers the client's close with exactly one close frame, sends nothing else,
    and ends the TCP connection; returns the code it answered with."""
    ending = await ws.read_until_eof(EOF_WAIT)
    assert [f.opcode for f in ending.frames] == [OP_CLOSE], f"expected only a close: {ending}"
    assert ending.how == "eof", ending
    return ending.frames[0].close_code


# --- closes a client may send --------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999])
async def test_valid_close_code_is_echoed(server: RawServer, code: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(code, b"bye")))
    assert await expect_close_answer(ws) == code
    await server.harness.wait_for_connections(0)


async def test_close_with_a_125_byte_payload_is_echoed(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(1000, "\u00e9".encode() * 61 + b"x")))
    assert await expect_close_answer(ws) == 1000


async def test_empty_close_is_answered(server: RawServer, transport: str) -> None:
    """Answered as docs/protocol.md says: with an empty close on the fast transport, with 1000
    on aiohttp (whose public API cannot send a close without a code); never with 1005, which no
    endpoint may send (RFC 6455 7.4.1)."""
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, b""))
    ending = await ws.read_until_eof(EOF_WAIT)
    assert [f.opcode for f in ending.frames] == [OP_CLOSE], ending
    (answer,) = ending.frames
    if transport == "aiohttp":
        assert answer.payload == close_payload(1000), answer
    else:
        assert answer.payload == b"", answer


@pytest.mark.parametrize("code", [1002, 1007, 1009, 1000, 4000])
async def test_a_clients_close_is_echoed_with_its_code_and_no_reason(
    server: RawServer, code: int
) -> None:
    """The echo carries the client's code only: never a failure's reason of the server's own
    (such as "invalid UTF-8") for a failure that never happened."""
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(code, b"client's reason")))
    ending = await ws.read_until_eof(EOF_WAIT)
    assert [f.opcode for f in ending.frames] == [OP_CLOSE], ending
    assert ending.frames[0].payload == close_payload(code), ending.frames[0]
    await server.harness.wait_for_connections(0)


async def test_close_before_joining_is_echoed(server: RawServer) -> None:
    ws = await server.open()
    await ws.upgrade()
    await ws.send(build_frame(OP_CLOSE, close_payload(1000)))
    assert await expect_close_answer(ws) == 1000


@pytest.mark.parametrize(
    "after",
    [
        pytest.param([text_frame(PING_MESSAGE)], id="ping-message"),
        pytest.param([build_frame(OP_PING, b"late")], id="ping-frame"),
        pytest.param([build_frame(0x3, b"")], id="bad-frame"),
        pytest.param([build_frame(OP_CLOSE, close_payload(1001))], id="second-close"),
    ],
)
async def test_nothing_after_the_close_is_processed(server: RawServer, after: list[bytes]) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(1000)), *after)
    assert await expect_close_answer(ws) == 1000


async def test_message_sent_after_the_close_answer_is_not_processed(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(1000)))
    close = await ws.read_close()
    assert close.close_code == 1000
    with contextlib.suppress(ConnectionError):  # already closed: nothing can be processed
        await ws.send(text_frame(PING_MESSAGE))
    ending = await ws.read_until_eof(EOF_WAIT)
    assert not ending.frames, f"the server answered after its close: {ending}"


# --- closes a client may not send ----------------------------------------------------------


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
async def test_invalid_close_code(server: RawServer, code: int) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(code)))
    await expect_failure(ws, 1002)


async def test_one_byte_close_payload(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, b"\x03"))
    await expect_failure(ws, 1002)


@pytest.mark.parametrize(
    "reason",
    [b"\xff", b"ok \xc0\xaf", b"\xed\xa0\x80", b"cut \xe2\x82"],
    ids=["ff", "overlong", "surrogate", "truncated"],
)
async def test_close_reason_not_utf8(server: RawServer, reason: bytes) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_CLOSE, close_payload(1000, reason)))
    await expect_failure(ws, 1007)


# --- a failing close drops TCP without waiting for the reply -------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param(build_frame(0x3, b""), 1002, id="1002-reserved-opcode"),
        pytest.param(build_frame(OP_CLOSE, close_payload(1005)), 1002, id="1002-bad-close"),
        pytest.param(build_frame(OP_TEXT, b"\xff"), 1007, id="1007-bad-utf8"),
        pytest.param(build_frame(OP_TEXT, b"", announced=2000), 1009, id="1009-too-big"),
    ],
)
async def test_failure_closes_tcp_without_waiting_for_the_reply(
    servers: RawServers, frame: bytes, code: int
) -> None:
    """The server waits 30 s for a reply to a close it starts; after a failure it must not
    wait at all, so the TCP connection ends well within ``EOF_WAIT`` (10 s) unanswered."""
    server = await servers.start(max_frame_bytes=1000, close_timeout=30.0)
    ws = await server.live()
    await ws.send(frame)
    ending = await expect_failure(ws, code)
    assert ending.how == "eof", ending
    await server.harness.wait_for_connections(0)  # and the server counts it gone


# --- resets mid-frame and mid-head ---------------------------------------------------------


async def assert_serving_others(server: RawServer, connections: int) -> None:
    """``/healthz`` comes back to ``connections`` and a new client joins and is answered."""
    await server.harness.wait_for_connections(connections)
    other = await server.live()
    await other.probe()
    await other.send(build_frame(OP_PING, b"still here"))
    pong = await other.read_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"still here")
    await server.harness.wait_for_connections(connections + 1)


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(text_frame(PING_MESSAGE)[:1], id="inside-the-header"),
        pytest.param(build_frame(OP_TEXT, b"x" * 300)[:3], id="inside-the-16-bit-length"),
        pytest.param(build_frame(OP_TEXT, b"x" * 300)[:6], id="inside-the-mask"),
        pytest.param(build_frame(OP_TEXT, b"x" * 300)[:100], id="inside-the-payload"),
        pytest.param(
            build_frame(OP_TEXT, b'{"type":', fin=False) + build_frame(0x0, b"x" * 50)[:20],
            id="inside-a-fragmented-message",
        ),
    ],
)
async def test_reset_in_the_middle_of_a_frame(server: RawServer, partial: bytes) -> None:
    bystander = await server.live()
    await server.harness.wait_for_connections(1)
    ws = await server.live()
    await server.harness.wait_for_connections(2)
    await ws.send(partial)
    ws.abort()
    await assert_serving_others(server, 1)
    await bystander.probe()


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(len(b"GET /w"), id="inside-the-request-line"),
        pytest.param(len(b"GET /ws HTTP/1.1\r\n"), id="after-the-request-line"),
        pytest.param(len(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpg"), id="inside-a-header"),
        pytest.param(len(request_head()) - 1, id="one-byte-short"),
    ],
)
async def test_reset_in_the_middle_of_the_head(server: RawServer, cut: int) -> None:
    bystander = await server.live()
    await server.harness.wait_for_connections(1)
    ws = await server.open()
    await ws.send_bytewise(request_head()[:cut])
    ws.abort()
    await assert_serving_others(server, 1)
    await bystander.probe()
