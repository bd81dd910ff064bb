"""Conformance, opening handshake (RFC 6455 section 4.2), on every transport, over raw sockets.

Good upgrades in every form a client may send get a 101 with the right ``Sec-WebSocket-Accept``
and a websocket that works; refused ones get the status the wire contract names (docs/protocol.md
1.3) and a body that says what was wrong.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from tests.signaling.conformance_support import RawServer, RawServers
from tests.signaling.conftest import HarnessFactory, ticket
from tests.support.raw_websocket import (
    GOOD_KEY,
    HttpAnswer,
    RawWebSocket,
    expected_accept,
    replaced,
    request_head,
    text_frame,
    upgrade_headers,
    without,
)


@pytest.fixture
async def servers(harness_factory: HarnessFactory) -> AsyncIterator[RawServers]:
    async with RawServers(harness_factory) as started:
        yield started


@pytest.fixture
async def server(servers: RawServers) -> RawServer:
    return await servers.start()


def assert_switched(answer: HttpAnswer, key: str = GOOD_KEY) -> None:
    assert answer.status == 101, answer
    assert (answer.header("Upgrade") or "").lower() == "websocket", answer
    assert "upgrade" in (answer.header("Connection") or "").lower(), answer
    assert answer.header("Sec-WebSocket-Accept") == expected_accept(key), answer
    assert answer.header("Sec-WebSocket-Extensions") is None, "no extension is agreed"


async def assert_usable(ws: RawWebSocket) -> None:
    """The upgraded connection is a working signaling websocket."""
    welcome = await ws.join(ticket())
    assert welcome["sprint"] == "1"
    await ws.probe()


# --- accepted upgrades ---------------------------------------------------------------------


async def test_first_request_upgrade_is_switched(server: RawServer) -> None:
    ws = await server.open()
    answer = await ws.upgrade()
    assert_switched(answer)
    await assert_usable(ws)


async def test_other_key_gets_its_own_accept(server: RawServer) -> None:
    key = base64.b64encode(bytes(range(16))).decode()
    ws = await server.open()
    answer = await ws.upgrade(request_head(upgrade_headers(key=key)))
    assert_switched(answer, key)


async def test_upgrade_as_second_request_on_keep_alive(server: RawServer) -> None:
    ws = await server.open()
    await ws.send(request_head([("Host", "x")], request_line="GET /healthz HTTP/1.1"))
    health = await ws.read_answer()
    assert health.status == 200, health
    assert json.loads(health.body)["status"] == "ok"
    answer = await ws.upgrade()
    assert_switched(answer)
    await assert_usable(ws)


ODD_CASE_HEADERS = [
    ("hOST", "x"),
    ("UPGRADE", "websocket"),
    ("connection", "Upgrade"),
    ("sec-WEBSOCKET-key", GOOD_KEY),
    ("Sec-Websocket-Version", "13"),
]


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(request_head(request_line="GET http://x/ws HTTP/1.1"), id="absolute-form"),
        pytest.param(request_head(before=b"\r\n"), id="empty-line-first"),
        pytest.param(request_head(ODD_CASE_HEADERS), id="odd-case-names"),
        pytest.param(
            request_head(
                [
                    *without(upgrade_headers(), "Connection"),
                    ("Connection", "keep-alive"),
                    ("Connection", "Upgrade"),
                ]
            ),
            id="connection-on-two-lines",
        ),
        pytest.param(
            request_head(replaced(upgrade_headers(), "Connection", "keep-alive, Upgrade")),
            id="connection-comma-joined",
        ),
    ],
)
async def test_upgrade_forms_are_switched(server: RawServer, head: bytes) -> None:
    ws = await server.open()
    answer = await ws.upgrade(head)
    assert_switched(answer)
    await assert_usable(ws)


async def test_head_in_one_byte_writes(server: RawServer) -> None:
    ws = await server.open()
    await ws.send_bytewise(request_head())
    assert_switched(await ws.read_answer())
    await assert_usable(ws)


async def test_join_pipelined_with_the_head(server: RawServer) -> None:
    ws = await server.open()
    await ws.send(request_head(), text_frame({"type": "join", "ticket": ticket()}))
    assert_switched(await ws.read_answer())
    welcome = await ws.read_message()
    assert welcome["type"] == "welcome", welcome
    await ws.probe()


# --- refused upgrades ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "status", "words"),
    [
        pytest.param(request_head(without(upgrade_headers(), "Host")), 400, "host", id="no-host"),
        pytest.param(
            request_head(without(upgrade_headers(), "Sec-WebSocket-Key")),
            400,
            "sec-websocket-key",
            id="no-key",
        ),
        pytest.param(
            request_head(upgrade_headers(key="not base64!")), 400, "16 bytes", id="key-not-b64"
        ),
        pytest.param(
            request_head(upgrade_headers(key=base64.b64encode(b"x" * 15).decode())),
            400,
            "16 bytes",
            id="key-15-bytes",
        ),
        pytest.param(
            request_head(upgrade_headers(key=base64.b64encode(b"x" * 17).decode())),
            400,
            "16 bytes",
            id="key-17-bytes",
        ),
        pytest.param(request_head(request_line="GET /ws HTTP/1.0"), 400, "http/1.1", id="http-1.0"),
        pytest.param(
            request_head(without(upgrade_headers(), "Sec-WebSocket-Version")),
            426,
            "version",
            id="no-version",
        ),
        pytest.param(
            request_head(replaced(upgrade_headers(), "Sec-WebSocket-Version", "8")),
            426,
            "version",
            id="version-8",
        ),
        pytest.param(
            request_head([("Host", "x")]), 426, "websocket upgrade", id="get-without-upgrade"
        ),
    ],
)
async def test_bad_upgrades_are_refused(
    server: RawServer, head: bytes, status: int, words: str
) -> None:
    ws = await server.open()
    await ws.send(head)
    answer = await ws.read_answer()
    assert answer.status == status, answer
    assert words in answer.body.decode().lower(), f"the body does not name the fault: {answer}"
    if status == 426:
        assert answer.header("Sec-WebSocket-Version") == "13", answer
    assert answer.header("Sec-WebSocket-Accept") is None, answer


async def test_disallowed_origin_is_refused(servers: RawServers) -> None:
    server = await servers.start(allowed_origins=("http://ok",))
    ws = await server.open()
    await ws.send(request_head([*upgrade_headers(), ("Origin", "http://evil")]))
    answer = await ws.read_answer()
    assert answer.status == 403, answer
    body = answer.body.decode()
    assert "origin" in body.lower(), answer
    assert "http://evil" in body, answer


async def test_allowed_origin_is_switched(servers: RawServers) -> None:
    server = await servers.start(allowed_origins=("http://ok",))
    ws = await server.open()
    answer = await ws.upgrade(request_head([*upgrade_headers(), ("Origin", "http://ok")]))
    assert_switched(answer)
    await assert_usable(ws)


# --- heads aiohttp's parser refuses are refused on every transport -------------------------


@pytest.mark.parametrize(
    "name",
    ["X(A)", "X)A", "X[A]", "X@A", "X,A", "X/A", "X{A}", "X=A", "X?A", 'X"A', "X\\A", "X;A"],
)
async def test_a_header_name_that_is_not_a_token_is_refused(server: RawServer, name: str) -> None:
    """A field name is a token (RFC 9110 5.6.2): its separators make a name no parser agrees on."""
    ws = await server.open()
    await ws.send(request_head([*upgrade_headers(), (name, "ab")]))
    answer = await ws.read_answer()
    assert answer.status == 400, answer
    assert answer.header("Sec-WebSocket-Accept") is None, answer


@pytest.mark.parametrize(("count", "status"), [(128, 101), (129, 400)])
async def test_more_than_128_headers_are_refused(
    server: RawServer, count: int, status: int
) -> None:
    extra = [(f"X-Extra-{n}", "1") for n in range(count - len(upgrade_headers()))]
    ws = await server.open()
    await ws.send(request_head([*upgrade_headers(), *extra]))
    answer = await ws.read_answer()
    assert answer.status == status, answer
    if status == 101:
        await assert_usable(ws)
