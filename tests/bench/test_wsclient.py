"""The generator's lean websocket client and its fast paths, against real parsers and servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bench import loadgen, wsclient
from bench.adapters import (
    ADAPTERS,
    Peer,
    Target,
    bench_payload,
    bench_payload_text,
    dumps,
)
from tests.support.raw_websocket import OP_TEXT, Frame, RawWebSocket


async def parsed(data: bytes) -> Frame:
    """One client frame as the suite's own reader (tests/support/raw_websocket) reads it."""
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return await RawWebSocket(reader, writer=None).read_frame()  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [0, 5, 125, 126, 300, 70_000])
async def test_masked_frames_parse_as_the_text_sent(size: int) -> None:
    text = ("é" * size)[:size]
    frame = await parsed(wsclient.masked_frame(wsclient.OP_TEXT, text.encode()))
    assert (frame.fin, frame.rsv, frame.opcode, frame.masked) == (True, 0, OP_TEXT, True)
    assert frame.payload.decode() == text


def test_every_frame_gets_its_own_mask_key() -> None:
    payload = b"x" * 40
    first = wsclient.masked_frame(wsclient.OP_TEXT, payload)
    second = wsclient.masked_frame(wsclient.OP_TEXT, payload)
    assert first[2:6] != second[2:6]  # keys
    assert payload not in first  # the payload really is masked


def test_payload_text_is_the_payload_as_compact_json() -> None:
    text = bench_payload_text(41, 3)
    parsed = json.loads(text)
    expected = bench_payload(41) | {"s": 3}
    assert parsed.keys() == expected.keys()
    parsed.pop("t"), expected.pop("t")
    assert parsed == expected


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_direct_parts_frame_the_payload_as_direct_does(name: str) -> None:
    adapter = ADAPTERS[name](Target(name, "ws://127.0.0.1:1/ws", "http://127.0.0.1:1", "s" * 32))
    sender = Peer(None, "room/a", "room", 0.0)  # type: ignore[arg-type]
    receiver = Peer(None, "room/b", "room", 0.0)  # type: ignore[arg-type]
    payload = bench_payload(7) | {"s": 1}
    prefix, suffix = adapter.direct_parts(sender, receiver)
    assert prefix + dumps(payload) + suffix == adapter.direct(sender, receiver, payload)


@pytest.mark.parametrize(
    "relayed",
    [
        # ours (orjson), y-webrtc and PeerJS (JSON.stringify) relay the payload compactly
        {"type": "signal", "from": "Pa", "data": bench_payload(9) | {"s": 4}},
        {"type": "publish", "topic": "r/p1", "data": bench_payload(9) | {"s": 4}, "clients": 1},
        {"type": "CANDIDATE", "payload": bench_payload(9) | {"s": 4}, "src": "r-p0"},
    ],
)
def test_the_reader_takes_sequence_time_and_step_from_each_servers_relay(
    relayed: dict[str, Any],
) -> None:
    inbox = loadgen.Inbox()
    seen: list[int] = []
    inbox.on_delivery = lambda number, latency: seen.append(number)
    read = loadgen.reader(inbox)
    read(dumps(relayed).encode())
    read(b'{"type":"peer-joined","peer":"x"}')
    assert seen == [9]
    assert list(inbox.latencies) == [4]
    assert inbox.latencies[4][0] >= 0
    assert inbox.control == 1


@pytest.fixture
async def echo_server() -> AsyncIterator[str]:
    """aiohttp's websocket server: echoes text, pings once, closes with 4001 on "bye"."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"are-you-there")
        async for msg in ws:
            if msg.type is WSMsgType.PONG:
                await ws.send_str(f"pong:{msg.data.decode()}")
            elif msg.type is WSMsgType.TEXT and msg.data == "bye":
                await ws.close(code=4001, message=b"bye")
            elif msg.type is WSMsgType.TEXT:
                await ws.send_str("x" * 70_000 if msg.data == "big" else f"echo:{msg.data}")
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield f"ws://127.0.0.1:{server.port}/ws?x=1"
    finally:
        await server.close()


async def test_client_talks_to_a_real_server_answers_pings_and_closes(echo_server: str) -> None:
    ws = await wsclient.connect(echo_server)
    assert await ws.receive(5) == "pong:are-you-there"  # the server's ping was answered
    ws.send_str("héllo")
    assert await ws.receive(5) == "echo:héllo"
    ws.send_str("big")
    assert await ws.receive(5) == "x" * 70_000
    received: list[bytes] = []
    ws.listen(received.append)
    ws.send_str("later")
    ws.send_str("bye")
    with pytest.raises(wsclient.WebSocketClosed):
        await ws.receive(5)  # returns once the server's close has closed the socket
    assert received == [b"echo:later"]
    assert ws.close_code == 4001
    with pytest.raises(wsclient.WebSocketClosed):
        await ws.receive(1)
    await ws.close(1)


async def test_connect_reports_a_refused_upgrade(echo_server: str) -> None:
    with pytest.raises(wsclient.WebSocketClosed, match="404"):
        await wsclient.connect(echo_server.replace("/ws", "/nowhere"))


async def test_a_server_that_masks_its_frames_is_given_up_on() -> None:
    """RFC 6455 5.1: a client must close a connection whose server masks a frame."""

    async def masking_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        writer.write(wsclient.masked_frame(wsclient.OP_TEXT, b"masked"))
        await writer.drain()
        await reader.read()  # until the client has gone
        writer.close()

    server = await asyncio.start_server(masking_server, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/ws")
        with pytest.raises(wsclient.WebSocketClosed):
            await ws.receive(5)
        assert ws.closed
        await ws.close(1)
