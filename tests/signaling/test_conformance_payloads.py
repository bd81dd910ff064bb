"""Conformance, message payloads: UTF-8 in text messages (RFC 6455 8.1) and the size limit
(docs/protocol.md 1.3, close 1009), on every transport.

Text must be valid UTF-8 as a whole message, whatever its fragments cut through; anything else
fails with 1007. A message of exactly ``max_frame_bytes`` is handled; one byte more fails with
1009, as soon as a header announces it (the server must not wait for the payload).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from tests.signaling.conformance_support import RawServer, RawServers, expect_failure
from tests.signaling.conftest import HarnessFactory
from tests.support.raw_websocket import OP_TEXT, build_frame, fragmented

MAX = 1000
PING_MESSAGE = b'{"type":"ping"}'


@pytest.fixture
async def servers(harness_factory: HarnessFactory) -> AsyncIterator[RawServers]:
    async with RawServers(harness_factory) as started:
        yield started


@pytest.fixture
async def server(servers: RawServers) -> RawServer:
    return await servers.start(max_frame_bytes=MAX)


def typed(kind: bytes) -> bytes:
    """A message whose ``type`` is ``kind``: the server's ``unknown-type`` error quotes it back,
    so a test sees exactly what text the server reassembled."""
    return b'{"type":"' + kind + b'"}'


# --- UTF-8 ---------------------------------------------------------------------------------

VALID_TEXT = "caf\u00e9 \u20ac \U0001f600"  # 2-, 3- and 4-byte characters


@pytest.mark.parametrize(
    "cuts",
    [
        pytest.param([len(b'{"type":"caf') + 1], id="inside-2-byte"),
        pytest.param([len(b'{"type":"caf\xc3\xa9 ') + 1], id="inside-3-byte-after-1"),
        pytest.param([len(b'{"type":"caf\xc3\xa9 ') + 2], id="inside-3-byte-after-2"),
        pytest.param([len(b'{"type":"caf\xc3\xa9 \xe2\x82\xac ') + 3], id="inside-4-byte"),
        pytest.param(list(range(1, len(typed(VALID_TEXT.encode())))), id="every-byte-apart"),
    ],
)
async def test_valid_utf8_split_inside_characters(server: RawServer, cuts: list[int]) -> None:
    payload = typed(VALID_TEXT.encode())
    bounds = [0, *cuts, len(payload)]
    parts = [payload[a:b] for a, b in itertools.pairwise(bounds)]
    ws = await server.live()
    await ws.send(*fragmented(OP_TEXT, parts))
    error = await ws.read_message()
    assert error["code"] == "unknown-type", error
    assert VALID_TEXT in error["message"], f"the text was not reassembled intact: {error}"
    await ws.probe()


async def test_valid_utf8_in_one_frame(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, typed(VALID_TEXT.encode())))
    error = await ws.read_message()
    assert VALID_TEXT in error["message"], error


INVALID_SEQUENCES = [
    pytest.param(b"\xff", id="ff"),
    pytest.param(b"\x80", id="lone-continuation"),
    pytest.param(b"\xc3\x28", id="bad-continuation"),
    pytest.param(b"\xc0\xaf", id="overlong-c0-af"),
    pytest.param(b"\xe0\x80\xaf", id="overlong-3-byte"),
    pytest.param(b"\xed\xa0\x80", id="surrogate-ed-a0-80"),
    pytest.param(b"\xed\xbf\xbf", id="surrogate-ed-bf-bf"),
    pytest.param(b"\xf4\x90\x80\x80", id="above-10ffff"),
    pytest.param(b"\xf8\x88\x80\x80\x80", id="5-byte-form"),
]


@pytest.mark.parametrize("sequence", INVALID_SEQUENCES)
async def test_invalid_utf8_in_a_text_message(server: RawServer, sequence: bytes) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, typed(b"x" + sequence + b"y")))
    ending = await expect_failure(ws, 1007)
    assert not ending.messages


@pytest.mark.parametrize("sequence", INVALID_SEQUENCES)
async def test_invalid_utf8_split_across_fragments(server: RawServer, sequence: bytes) -> None:
    ws = await server.live()
    payload = typed(b"x" + sequence + b"y")
    cut = payload.index(sequence) + 1
    await ws.send(*fragmented(OP_TEXT, [payload[:cut], payload[cut:-2], payload[-2:]]))
    ending = await expect_failure(ws, 1007)
    assert not ending.messages


async def test_truncated_character_at_the_end_of_a_message(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(*fragmented(OP_TEXT, [typed(b"x"), b"\xe2\x82"]))
    await expect_failure(ws, 1007)


# --- the size limit ------------------------------------------------------------------------


def padded_ping(size: int) -> bytes:
    return PING_MESSAGE + b" " * (size - len(PING_MESSAGE))


async def test_message_of_exactly_the_maximum_is_handled(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, padded_ping(MAX)))
    assert await ws.read_message() == {"type": "pong"}


async def test_fragmented_message_of_exactly_the_maximum_is_handled(server: RawServer) -> None:
    ws = await server.live()
    payload = padded_ping(MAX)
    await ws.send(*fragmented(OP_TEXT, [payload[:400], payload[400:999], payload[999:]]))
    assert await ws.read_message() == {"type": "pong"}


async def test_one_byte_over_the_maximum(server: RawServer) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, padded_ping(MAX + 1)))
    ending = await expect_failure(ws, 1009)
    assert not ending.messages


@pytest.mark.parametrize("announced", [MAX + 1, 2**40], ids=["max+1", "2**40"])
async def test_header_announcing_too_much_fails_before_the_payload(
    server: RawServer, announced: int
) -> None:
    """Only the header is sent: the server must fail at once, not wait for bytes never sent."""
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, b"", announced=announced))
    await expect_failure(ws, 1009)


async def test_fragmented_message_over_the_maximum(server: RawServer) -> None:
    ws = await server.live()
    payload = padded_ping(MAX + 1)
    await ws.send(build_frame(OP_TEXT, payload[:600], fin=False))
    await ws.send(build_frame(0x0, payload[600:], fin=True))
    ending = await expect_failure(ws, 1009)
    assert not ending.messages


async def test_fragment_announcing_past_the_maximum_fails_before_its_payload(
    server: RawServer,
) -> None:
    ws = await server.live()
    await ws.send(build_frame(OP_TEXT, b"x" * 600, fin=False))
    await ws.send(build_frame(0x0, b"", fin=False, announced=MAX - 600 + 1))
    await expect_failure(ws, 1009)
