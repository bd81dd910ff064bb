"""Faults at the server's edges, from outside: slow and aborted HTTP, sockets that never join,
a bug in one message, running out of file descriptors, hostile text in the log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import socket
from typing import Any

import pytest

from signaling.tickets import mint_hook_token, mint_ticket
from tests.signaling.conftest import (
    SECRET,
    HarnessFactory,
    receive_close,
    receive_type,
    ticket,
)
from tests.support.processes import SignalingProcess
from tests.support.raw_websocket import WAIT, RawWebSocket, request_head, upgrade_headers
from tests.support.websocket import client_session


async def open_tcp(
    port: int | None, local: str | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain TCP connection to the server on ``port`` (from the loopback address ``local``),
    bounded."""
    assert port is not None, "the server is not listening"
    local_addr = None if local is None else (local, 0)
    return await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=local_addr), WAIT
    )


@pytest.mark.parametrize("second_request", [False, True], ids=["first", "keep-alive"])
async def test_a_request_head_that_trickles_is_cut_off(
    harness_factory: HarnessFactory, second_request: bool
) -> None:
    harness = await harness_factory(http_timeout=1.0)
    reader, writer = await open_tcp(harness.client.port)
    if second_request:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    ended = asyncio.ensure_future(reader.read())  # done when the server closes the connection
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 200 + b"\r\n\r\n"
    sent = 0
    with contextlib.suppress(ConnectionError):
        while sent < len(head) and not ended.done():  # a byte every 50 ms: 12 s in all
            writer.write(head[sent : sent + 1])
            sent += 1
            await asyncio.sleep(0.05)
    assert ended.done(), "the server waited for the whole trickled head"
    assert sent < len(head)
    writer.close()


async def test_a_hook_body_that_trickles_gets_408(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(http_timeout=1.0)
    body = json.dumps({"sprint": "1", "event": {"model": "task"}}).encode()
    reader, writer = await open_tcp(harness.client.port)
    writer.write(
        b"POST /hooks/board HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {mint_hook_token(SECRET, body)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:5]
    )
    status = await asyncio.wait_for(reader.readline(), 10)
    assert status.startswith(b"HTTP/1.1 408"), status
    answer = await asyncio.wait_for(reader.read(), 10)
    assert b"body not received within 1 s" in answer
    writer.close()


async def test_a_client_that_aborts_its_hook_body_is_a_refused_hook_not_an_error() -> None:
    server = SignalingProcess(SECRET).wait_ready()
    try:
        body = json.dumps({"sprint": "1", "event": {"model": "task"}}).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(
                b"POST /hooks/board HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {mint_hook_token(SECRET, body)}\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[:10]
            )
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        server.wait_for_log("hook-refused")
    finally:
        log = server.output()
    line = next(line for line in log.splitlines() if "hook-refused" in line)
    assert "WARNING" in line
    assert "ERROR" not in log
    assert "Traceback" not in log


async def test_sockets_that_never_join_cannot_lock_out_other_addresses(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(max_unjoined_per_address=3, max_connections=50)
    port = harness.client.port
    assert port is not None

    async def from_address(address: str) -> RawWebSocket:
        ws = await RawWebSocket.connect("127.0.0.1", port, local=address)
        await ws.upgrade()
        return ws

    silent = [await from_address("127.0.0.2") for _ in range(3)]
    refused = await from_address("127.0.0.2")
    close = await refused.read_close()
    assert close.close_code == 4409
    assert "have not joined yet" in close.close_reason
    # Someone elsewhere still joins, and the silent sockets are still open.
    real = await from_address("127.0.0.3")
    assert (await real.join(ticket("1", "u1")))["type"] == "welcome"
    for ws in silent:
        await ws.probe()
    for ws in (*silent, refused, real):
        await ws.close()


async def test_one_address_cannot_hold_many_connections_that_send_nothing(
    harness_factory: HarnessFactory, transport: str
) -> None:
    """The fast transport closes a sixth silent connection from one address at once, long before
    its --http-timeout (30 s here). aiohttp gives a server nothing of a connection before its
    first request (docs/protocol.md 1.7), so there only --http-timeout (1 s here) bounds it."""
    http_timeout = 30.0 if transport == "fast" else 1.0
    harness = await harness_factory(max_unjoined_per_address=5, http_timeout=http_timeout)
    port = harness.client.port
    assert port is not None
    silent = [await open_tcp(port, "127.0.0.4") for _ in range(5)]
    reader, writer = await open_tcp(port, "127.0.0.4")
    # Another address is served as usual.
    other = await RawWebSocket.connect("127.0.0.1", port)
    await other.upgrade()
    await other.join(ticket("1", "u1"))
    # Within 3 s: at once (fast), or by the 1 s --http-timeout on a busy machine (aiohttp).
    assert await asyncio.wait_for(reader.read(), 3.0) == b""
    for _, idle in silent:
        idle.close()
    writer.close()
    await other.close()


async def test_a_trusted_proxy_names_the_client_an_untrusted_one_does_not(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(max_unjoined_per_address=1, trusted_proxies=("127.0.0.1",))
    port = harness.client.port
    assert port is not None

    async def via_proxy(client: str, local: str = "127.0.0.1") -> RawWebSocket:
        ws = await RawWebSocket.connect("127.0.0.1", port, local=local)
        await ws.upgrade(request_head([*upgrade_headers(), ("X-Forwarded-For", client)]))
        return ws

    first = await via_proxy("10.1.1.1")
    second = await via_proxy("10.2.2.2")  # another client behind the same proxy: not refused
    await second.probe()
    same = await via_proxy("10.1.1.1")
    assert (await same.read_close()).close_code == 4409
    # From an address that is not a trusted proxy, the header is ignored.
    lying = await via_proxy("10.9.9.9", local="127.0.0.5")
    await lying.probe()
    also_lying = await via_proxy("10.8.8.8", local="127.0.0.5")
    assert (await also_lying.read_close()).close_code == 4409
    for ws in (first, second, same, lying, also_lying):
        await ws.close()


async def test_a_bug_handling_one_message_closes_only_that_socket_with_1011(
    harness_factory: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await harness_factory()
    core = harness.service.core
    real = core.receive

    def buggy(session: Any, text: str, now: float) -> Any:
        if "boom" in text:
            raise RuntimeError("simulated bug")
        return real(session, text, now)

    monkeypatch.setattr(core, "receive", buggy)
    alice, _ = await harness.join("1", "u1")
    bob, welcome = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    await bob.send_json({"type": "signal", "to": "x", "data": {"boom": 1}})
    assert await receive_close(bob) == 1011
    assert (await receive_type(alice, "peer-left"))["peer"] == welcome["peer"]
    await alice.send_json({"type": "ping"})
    assert (await receive_type(alice, "pong"))["type"] == "pong"


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))


def test_running_out_of_file_descriptors_is_logged_and_connections_are_capped() -> None:
    server = SignalingProcess(
        SECRET, "--max-unjoined-per-address", "1000", preexec_fn=_low_descriptor_limit
    ).wait_ready()
    sockets = []
    try:
        # The limit it could not raise shows in its connection limit, refused in words ...
        server.wait_for_log("--max-connections lowered from 25000 to 32")
        # ... and past what the descriptors hold, connections the loop drops are logged.
        for _ in range(150):
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        server.wait_for_log("WARNING refused reason=out-of-file-descriptors limit=96")
        for sock in sockets:
            sock.close()
        server.wait_for_log("descriptors-available")
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


async def test_hostile_text_in_a_ticket_stays_on_its_own_log_line() -> None:
    server = SignalingProcess(SECRET).wait_ready()
    hostile = "Ann\r\n2026-01-01 00:00:00.000 INFO  leave peer=forged\x1b[2J"
    try:
        async with client_session() as http, http.ws_connect(server.ws_url) as ws:
            token = mint_ticket(SECRET, sprint="7", user_id="u1", name=hostile)
            await ws.send_json({"type": "join", "ticket": token})
            await receive_type(ws, "welcome")
        server.wait_for_log(" leave ")
    finally:
        log = server.output()
    joins = [line for line in log.splitlines() if " join " in line]
    assert len(joins) == 1
    assert "\x1b" not in log
    assert not [line for line in log.splitlines() if line.startswith("2026-01-01")]
    assert "\\r\\n" in joins[0]
