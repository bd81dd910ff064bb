"""Held writes on the fast path: the frames one read causes reach each recipient in one write.

Observed from outside: the server runs as its own process and the test reads the write system
calls it made (``syscw`` in ``/proc/<pid>/io``) around a read of several frames. The order of what
one client gets, and the dropping of a client that stops reading, are checked on both transports.
"""

from __future__ import annotations

from typing import Any

from tests.signaling.conftest import SECRET, HarnessFactory, receive_json, receive_type, ticket
from tests.support.processes import SignalingProcess
from tests.support.raw_websocket import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawWebSocket,
    build_frame,
    close_payload,
    text_frame,
)


def signal(to: str, data: dict[str, Any]) -> bytes:
    return text_frame({"type": "signal", "to": to, "data": data})


def write_calls(pid: int) -> int:
    with open(f"/proc/{pid}/io") as io:
        fields = dict(line.split(": ") for line in io.read().splitlines())
    return int(fields["syscw"])


async def raw_peer(port: int, user: str) -> tuple[RawWebSocket, dict[str, Any]]:
    ws = await RawWebSocket.connect("127.0.0.1", port)
    await ws.upgrade()
    return ws, await ws.join(ticket("1", user))


async def test_signals_read_together_reach_their_recipient_in_one_write() -> None:
    server = SignalingProcess(SECRET).wait_ready()
    try:
        alice, welcome = await raw_peer(server.port, "u1")
        bob, _ = await raw_peer(server.port, "u2")
        assert (await alice.read_message())["type"] == "peer-joined"
        peer = welcome["peer"]
        before = write_calls(server.process.pid)
        await bob.send(*(signal(peer, {"n": n}) for n in range(5)))  # one segment
        received = [(await alice.read_message())["data"]["n"] for _ in range(5)]
        assert received == [0, 1, 2, 3, 4]
        # One write to alice (five without holding), and at most a log write or two.
        assert write_calls(server.process.pid) - before <= 3
        # A read of one frame is written at once, as it arrives.
        for n in range(5, 8):
            await bob.send(signal(peer, {"n": n}))
            assert (await alice.read_message())["data"]["n"] == n
        for ws in (alice, bob):
            await ws.close()
    finally:
        server.stop()


async def test_frames_of_one_read_keep_their_order_around_the_pong_and_the_close(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory()
    port = harness.client.port
    assert port is not None
    ws, welcome = await raw_peer(port, "u1")
    own = welcome["peer"]
    # Signals to oneself are answered with an error: frames held for this very client.
    await ws.send(
        signal(own, {"n": 1}),
        build_frame(OP_PING, b"p"),
        signal(own, {"n": 2}),
        build_frame(OP_CLOSE, close_payload(1000)),
    )
    first = await ws.read_frame()
    assert (first.opcode, first.json()["code"]) == (OP_TEXT, "self-addressed")
    pong = await ws.read_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"p")
    third = await ws.read_frame()
    assert (third.opcode, third.json()["code"]) == (OP_TEXT, "self-addressed")
    close = await ws.read_frame()
    assert (close.opcode, close.close_code) == (OP_CLOSE, 1000)
    await ws.close()


async def test_a_client_that_stops_reading_is_dropped_and_the_others_miss_nothing(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(send_buffer_bytes=64 * 1024, rate=10_000, burst=10_000)
    port = harness.client.port
    assert port is not None
    fast, fast_welcome = await harness.join("1", "u1")
    slow, slow_welcome = await raw_peer(port, "u2")  # never reads again
    sender, _ = await raw_peer(port, "u3")
    await receive_type(fast, "peer-joined")
    await receive_type(fast, "peer-joined")
    blob = "x" * 20_000
    left = None
    for n in range(200):
        if left is not None:
            break
        # Three large frames to the slow client and one to the fast one, in one TCP write.
        batch = [signal(slow_welcome["peer"], {"n": n, "blob": blob}) for _ in range(3)]
        await sender.send(*batch, signal(fast_welcome["peer"], {"n": n}))
        message = await receive_json(fast)
        while message["type"] != "signal":  # the slow one's departure may come first
            assert message["type"] == "peer-left", message
            left = message["peer"]
            message = await receive_json(fast)
        assert message["data"]["n"] == n  # the fast peer misses nothing meanwhile
    assert left == slow_welcome["peer"]
    assert 'watercooler_rejects_total{reason="slow-client"} 1.0' in await harness.metrics()
    for ws in (slow, sender):
        await ws.close()
