"""The fast transport's cap on connections per address that have not finished their first request
(``--max-unjoined-per-address``): heads that outgrow its sniffer stay counted and timed until they
end, and connections closed over the cap are counted and logged, at a bounded rate."""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.request
from collections.abc import Iterator

import pytest

from tests.signaling.conftest import SECRET, ticket
from tests.support.processes import SignalingProcess
from tests.support.raw_websocket import RawWebSocket

# A head of two 4,100-byte header lines and no end: longer than the sniffer keeps (8,190 bytes),
# well inside what aiohttp reads (8,190 bytes per line, 128 lines).
LONG_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 4100 + b"\r\nX-B: " + b"b" * 4100
CAP = 3
END_WAIT = 10.0  # a bound on how long the server may take to end a connection it refuses


@pytest.fixture
def server() -> Iterator[SignalingProcess]:
    process = SignalingProcess(
        SECRET, "--max-unjoined-per-address", str(CAP), "--http-timeout", "30"
    ).wait_ready()
    yield process
    process.stop()


async def connect(server: SignalingProcess, address: str) -> RawWebSocket:
    return await RawWebSocket.connect("127.0.0.1", server.port, local=address)


def rejects(server: SignalingProcess, reason: str) -> float:
    with urllib.request.urlopen(f"{server.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(rf'watercooler_rejects_total{{reason="{reason}"}} (\S+)', text)
    return float(found.group(1)) if found else 0.0


async def test_heads_that_outgrow_the_sniffer_stay_counted_until_they_end(
    server: SignalingProcess,
) -> None:
    long_heads = []
    for _ in range(CAP):
        ws = await connect(server, "127.0.0.6")
        await ws.send(LONG_HEAD)
        long_heads.append(ws)
    await long_heads[-1].send(b"\r\nX-C: c")  # still going, a line at a time
    over = await connect(server, "127.0.0.6")
    assert (await over.read_until_eof(END_WAIT)).frames == []  # closed at once, unanswered
    # Another address is served as usual.
    other = await connect(server, "127.0.0.7")
    await other.upgrade()
    await other.join(ticket("1", "u1"))
    # One long head ends: it is answered, and its address may open one connection more.
    await long_heads[0].send(b"\r\n\r\n")
    assert (await long_heads[0].read_answer()).status == 200
    again = await connect(server, "127.0.0.6")
    await again.upgrade()
    await again.join(ticket("1", "u2"))
    for ws in (*long_heads, over, other, again):
        await ws.close()


async def test_a_long_head_that_trickles_is_cut_off() -> None:
    server = SignalingProcess(SECRET, "--http-timeout", "1").wait_ready()
    try:
        ws = await connect(server, "127.0.0.8")
        await ws.send(LONG_HEAD)

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(int(END_WAIT / 0.1)):  # a byte every 100 ms, for longer than the
                    await ws.send(b"y")  # bound the server is given to end it
                    await asyncio.sleep(0.1)

        sender = asyncio.ensure_future(trickle())
        try:
            await ws.read_until_eof(END_WAIT)
        finally:
            sender.cancel()
            await ws.close()
    finally:
        server.stop()


async def test_connections_over_the_cap_are_counted_and_logged_at_a_bounded_rate(
    server: SignalingProcess,
) -> None:
    silent = [await connect(server, "127.0.0.9") for _ in range(CAP)]
    refused = 12
    for _ in range(refused):
        ws = await connect(server, "127.0.0.9")
        assert (await ws.read_until_eof(END_WAIT)).frames == []
        await ws.close()
    assert rejects(server, "address-full") == refused
    server.wait_for_log("refused reason=address-full addr=127.0.0.9")
    for ws in silent:
        await ws.close()
    lines = [line for line in server.output().splitlines() if "reason=address-full" in line]
    assert 1 <= len(lines) < refused, lines
