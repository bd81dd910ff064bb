"""The upgrade path on a real server, spoken byte by byte over raw TCP.

The server answers websocket upgrades itself (``signaling/serving.py``) and hands every other
request to aiohttp; these tests pin down that seam: heads split across packets, a first frame in the
same packet as the head, bad upgrades, keep-alive HTTP, and the websocket control frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
from typing import Any

import pytest

from signaling import wire
from tests.signaling.conftest import (
    WAIT,
    Harness,
    HarnessFactory,
    receive_close,
    receive_type,
    ticket,
)

UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (clients must mask, RFC 6455 §5.3)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    else:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    return header + mask + masked


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), WAIT)
    n = second & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    return first & 0x0F, await reader.readexactly(n)


async def read_json_frame(reader: asyncio.StreamReader) -> dict[str, object]:
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == wire.OP_TEXT:
            result: dict[str, object] = json.loads(payload)
            return result


async def open_raw(harness: Harness) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(harness.client.host, harness.client.port)


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def get_healthz(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> dict[str, object]:
    """One ``GET /healthz`` on a raw keep-alive connection: its 200 and its JSON body."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await read_head(reader)
    assert head.startswith(b"HTTP/1.1 200 ")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    body: dict[str, object] = json.loads(await reader.readexactly(length))
    return body


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)


async def test_head_in_pieces_and_join_in_the_same_packet(harness: Harness) -> None:
    reader, writer = await open_raw(harness)
    join = json.dumps({"type": "join", "ticket": ticket("1", "u1")}).encode()
    data = UPGRADE.format(version=13).encode() + client_frame(wire.OP_TEXT, join)
    split = data.index(b"\r\n\r\n") + 2  # the last two bytes of the head arrive with the frame
    for i in range(0, split, 7):  # the head trickles in, 7 bytes at a time
        writer.write(data[i : min(i + 7, split)])
        await writer.drain()
        await asyncio.sleep(0.001)
    writer.write(data[split:])
    head = await read_head(reader)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    welcome = await read_json_frame(reader)
    assert welcome["type"] == "welcome"
    assert welcome["sprint"] == "1"
    await close(writer)


async def test_ping_gets_a_pong_with_its_payload_and_close_is_answered(
    harness: Harness,
) -> None:
    alice, _ = await harness.join("1", "u1")
    reader, writer = await open_raw(harness)
    writer.write(UPGRADE.format(version=13).encode())
    await read_head(reader)
    join = json.dumps({"type": "join", "ticket": ticket("1", "u2")}).encode()
    writer.write(client_frame(wire.OP_TEXT, join))
    assert (await read_json_frame(reader))["type"] == "welcome"
    joined = await receive_type(alice, "peer-joined")
    writer.write(client_frame(wire.OP_PING, b"are you there"))
    assert await read_frame(reader) == (wire.OP_PONG, b"are you there")
    writer.write(client_frame(wire.OP_CLOSE, struct.pack("!H", 1000) + b"bye"))
    opcode, payload = await read_frame(reader)
    assert opcode == wire.OP_CLOSE
    assert struct.unpack("!H", payload[:2])[0] == 1000
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # and the server closed TCP
    assert (await receive_type(alice, "peer-left"))["peer"] == joined["peer"]
    await close(writer)


async def test_wrong_websocket_version_gets_426(harness: Harness) -> None:
    reader, writer = await open_raw(harness)
    writer.write(UPGRADE.format(version=8).encode())
    head = await read_head(reader)
    assert head.startswith(b"HTTP/1.1 426 ")
    assert b"Sec-WebSocket-Version: 13" in head
    body = await asyncio.wait_for(reader.read(), WAIT)
    assert b"version 13" in body
    assert harness.server.metrics.rejects.labels("bad-upgrade")._value.get() == 1
    await close(writer)


async def test_plain_get_ws_is_told_to_upgrade(harness: Harness) -> None:
    response = await harness.client.get("/ws")
    assert response.status == 426
    assert "websocket" in await response.text()


async def test_http_requests_keep_working_on_one_keep_alive_connection(harness: Harness) -> None:
    reader, writer = await open_raw(harness)
    for _ in range(3):
        assert (await get_healthz(reader, writer))["status"] == "ok"
    await close(writer)


async def test_a_connection_that_never_finishes_its_head_costs_nothing_after_close(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory()
    _reader, writer = await open_raw(harness)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
    await writer.drain()
    await close(writer)
    await asyncio.sleep(0.1)
    await harness.join("1", "u1")  # the server is fine and counts only alice
    assert len(harness.server.clients) == 1


async def test_a_bug_handling_one_message_closes_only_that_socket_with_1011(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    alice, _ = await harness.join("1", "u1")
    bob, welcome = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    server = harness.server
    real = server._on_text

    def buggy(client: Any, text: str) -> None:
        if "boom" in text:
            raise RuntimeError("simulated bug")
        real(client, text)

    monkeypatch.setattr(server, "_on_text", buggy)
    await bob.send_json({"type": "signal", "to": "x", "data": {"boom": 1}})
    assert await receive_close(bob) == 1011
    assert (await receive_type(alice, "peer-left"))["peer"] == welcome["peer"]
    assert "simulated bug" in caplog.text  # with its traceback, as an error
    await alice.send_json({"type": "ping"})
    assert (await receive_type(alice, "pong"))["type"] == "pong"


async def test_a_head_that_never_completes_is_closed_after_the_head_timeout(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from signaling import serving

    monkeypatch.setattr(serving, "HEAD_TIMEOUT_SECONDS", 0.3)
    reader, writer = await open_raw(harness)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\n")  # slowloris: the rest never comes
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), WAIT) == b""  # the server closed it
    await close(writer)
    # A complete request in time is not affected.
    reader, writer = await open_raw(harness)
    for _ in range(2):
        assert (await get_healthz(reader, writer))["status"] == "ok"
        await asyncio.sleep(0.5)  # past the head timeout: the keep-alive connection stays open
    await close(writer)
