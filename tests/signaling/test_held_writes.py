"""Frames caused by one read of several frames are written once per recipient, in order.

``signaling/connection.py`` holds the sends a multi-frame read causes and writes each recipient's
frames in one ``write`` when the read is done. These tests send several frames in one TCP write
from a raw client, and watch the recipient's real transport through a counting wrapper.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import aiohttp
from signaling.connection import ClientConnection

from signaling import wire
from tests.signaling.conftest import Harness, HarnessFactory, receive_json, receive_type, ticket
from tests.signaling.test_upgrade import (
    UPGRADE,
    client_frame,
    close,
    open_raw,
    read_frame,
    read_head,
    read_json_frame,
)


class CountingTransport:
    """The real transport, with its ``write`` calls counted (everything else passes through)."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class FailingTransport(CountingTransport):
    """The real transport, except that ``write`` raises (a bug, or a transport in a bad state)."""

    def write(self, data: bytes) -> None:
        raise RuntimeError("simulated write failure")


def connection_of(harness: Harness, peer: str) -> ClientConnection:
    return next(c.connection for c in harness.server.clients if c.connection.peer == peer)


def count_writes(harness: Harness, peer: str) -> CountingTransport:
    connection = connection_of(harness, peer)
    spy = CountingTransport(connection.transport)
    connection.transport = spy  # type: ignore[assignment]
    return spy


async def join_raw(
    harness: Harness, user: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]]:
    reader, writer = await open_raw(harness)
    writer.write(UPGRADE.format(version=13).encode())
    await read_head(reader)
    join = json.dumps({"type": "join", "ticket": ticket("1", user)}).encode()
    writer.write(client_frame(wire.OP_TEXT, join))
    welcome = await read_json_frame(reader)
    assert welcome["type"] == "welcome"
    return reader, writer, welcome


def signal(to: str, data: dict[str, Any]) -> bytes:
    message = {"type": "signal", "to": to, "data": data}
    return client_frame(wire.OP_TEXT, json.dumps(message).encode())


async def receive_signals(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[Any]:
    return [(await receive_type(ws, "signal"))["data"]["n"] for _ in range(count)]


async def test_signals_read_together_reach_their_recipient_in_one_write(harness: Harness) -> None:
    alice, welcome = await harness.join("1", "u1")
    _, writer, _ = await join_raw(harness, "u2")
    await receive_type(alice, "peer-joined")
    writes = count_writes(harness, welcome["peer"])
    writer.write(b"".join(signal(welcome["peer"], {"n": n}) for n in range(5)))  # one segment
    assert await receive_signals(alice, 5) == [0, 1, 2, 3, 4]
    assert len(writes.writes) == 1
    # One frame per read is sent at once, as it arrives.
    for n in range(5, 8):
        writer.write(signal(welcome["peer"], {"n": n}))
        assert await receive_signals(alice, 1) == [n]
    assert len(writes.writes) == 4
    await close(writer)


async def test_held_frames_go_out_before_the_pong_and_the_close_answer_of_the_same_read(
    harness: Harness,
) -> None:
    reader, writer, welcome = await join_raw(harness, "u1")
    own = welcome["peer"]
    # Signals to oneself are answered with an error: frames the server holds for this very client.
    writer.write(
        signal(own, {"n": 1})
        + client_frame(wire.OP_PING, b"p")
        + signal(own, {"n": 2})
        + client_frame(wire.OP_CLOSE, struct.pack("!H", 1000))
    )
    first = await read_frame(reader)
    assert first[0] == wire.OP_TEXT
    assert json.loads(first[1])["type"] == "error"
    assert await read_frame(reader) == (wire.OP_PONG, b"p")
    third = await read_frame(reader)
    assert third[0] == wire.OP_TEXT
    assert json.loads(third[1])["type"] == "error"
    opcode, payload = await read_frame(reader)
    assert (opcode, struct.unpack("!H", payload[:2])[0]) == (wire.OP_CLOSE, 1000)
    await close(writer)


async def test_a_client_that_stops_reading_is_dropped_when_held_writes_overflow_it(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(send_buffer_bytes=64 * 1024, rate=10_000, burst=10_000)
    fast, fast_welcome = await harness.join("1", "u1")
    slow_reader, slow_writer, slow_welcome = await join_raw(harness, "u2")  # never reads again
    _, sender, _ = await join_raw(harness, "u3")
    await receive_type(fast, "peer-joined")
    await receive_type(fast, "peer-joined")
    blob = "x" * 20_000
    left = None
    for n in range(200):
        if left is not None:
            break
        # Three large frames to the slow client and one to the fast one, in one TCP write.
        batch = [signal(slow_welcome["peer"], {"n": n, "blob": blob}) for _ in range(3)]
        sender.write(b"".join([*batch, signal(fast_welcome["peer"], {"n": n})]))
        await sender.drain()
        message = await receive_json(fast)
        while message["type"] != "signal":  # the slow one's departure may come first
            assert message["type"] == "peer-left", message
            left = message["peer"]
            message = await receive_json(fast)
        assert message["data"]["n"] == n  # the fast peer misses nothing meanwhile
    assert left == slow_welcome["peer"]
    assert harness.server.metrics.rejects.labels("slow-client")._value.get() == 1
    await close(slow_writer)
    await close(sender)
    del slow_reader


async def test_a_failed_held_write_drops_that_client_and_the_others_still_get_theirs(
    harness: Harness,
) -> None:
    alice, alice_welcome = await harness.join("1", "u1")
    bob, bob_welcome = await harness.join("1", "u2")
    _, writer, _ = await join_raw(harness, "u3")
    await receive_type(alice, "peer-joined")
    await receive_type(alice, "peer-joined")
    await receive_type(bob, "peer-joined")
    broken = connection_of(harness, alice_welcome["peer"])
    broken.transport = FailingTransport(broken.transport)  # type: ignore[assignment]
    writer.write(
        b"".join(
            signal(peer, {"n": n})
            for n in range(3)
            for peer in (alice_welcome["peer"], bob_welcome["peer"])
        )
    )
    assert await receive_signals(bob, 3) == [0, 1, 2]
    assert (await receive_type(bob, "peer-left"))["peer"] == alice_welcome["peer"]
    await close(writer)
