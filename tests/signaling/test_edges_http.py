"""HTTP and token faults found from outside, each answered as the docs say, on both transports."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import pytest

from signaling.tickets import HOOK_AUDIENCE, TICKET_AUDIENCE, mint_hook_token
from tests.signaling.conftest import SECRET, HarnessFactory, receive_close_with_reason, ticket
from tests.support.processes import SignalingProcess
from tests.support.raw_websocket import (
    OP_PING,
    RawWebSocket,
    request_head,
    upgrade_headers,
)

OPENED: list[RawWebSocket] = []


@pytest.fixture(autouse=True)
async def _close_raw_sockets() -> Any:
    yield
    while OPENED:
        await OPENED.pop().close()


async def connect(port: int) -> RawWebSocket:
    ws = await RawWebSocket.connect("127.0.0.1", port)
    OPENED.append(ws)
    return ws


async def raw(harness_factory: HarnessFactory, **settings: object) -> tuple[RawWebSocket, int]:
    harness = await harness_factory(**settings)
    port = harness.client.port
    assert port is not None
    return await connect(port), port


async def test_a_header_with_bytes_above_ascii_is_served(harness_factory: HarnessFactory) -> None:
    _, port = await raw(harness_factory)
    head = request_head([*upgrade_headers(), ("X-Note", "caf\xe9 \xff")])
    for n, request_line in enumerate(("GET /ws HTTP/1.1", "GET http://x/ws HTTP/1.1")):
        ws = await connect(port)  # the fast path's first request, then aiohttp's
        await ws.send(head.replace(b"GET /ws HTTP/1.1", request_line.encode()))
        assert (await ws.read_answer()).status == 101
        await ws.join(ticket("1", f"u{n}"))


@pytest.mark.parametrize(
    ("line", "headers", "status"),
    [
        ("GET /ws HTTP/1.1", [*upgrade_headers(host="a, b")], 400),
        ("GET /ws HTTP/2.0", upgrade_headers(), 400),
        ("GET /ws HTTP/1.1", [*upgrade_headers(), ("X-A", "a\x00b")], 400),
    ],
    ids=["two-hosts-in-one", "http-2", "nul-in-a-value"],
)
async def test_malformed_upgrades_are_refused(
    harness_factory: HarnessFactory, line: str, headers: list[tuple[str, str]], status: int
) -> None:
    ws, _ = await raw(harness_factory)
    await ws.send(request_head(headers, request_line=line))
    assert (await ws.read_answer()).status == status
    await ws.close()


async def test_a_refusal_closes_its_connection_and_serves_nothing_pipelined_after_it(
    harness_factory: HarnessFactory,
) -> None:
    ws, _ = await raw(harness_factory, http_timeout=30.0)
    bad = request_head([*upgrade_headers()[:-1], ("Sec-WebSocket-Version", "8")])
    await ws.send(bad + request_head())  # a refused upgrade, then a good one, in one write
    answer = await ws.read_answer()
    assert answer.status == 426
    ending = await ws.read_until_eof(10)  # closed at once; the second upgrade is not served
    assert ending.frames == []


@pytest.mark.parametrize("method", ["HEAD", "POST"])
async def test_other_methods_on_ws_get_405_allowing_get(
    harness_factory: HarnessFactory, method: str
) -> None:
    ws, _ = await raw(harness_factory)
    await ws.send(f"{method} /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    answer = await ws.read_answer() if method != "HEAD" else await _head_answer(ws)
    assert answer.status == 405
    assert answer.header("Allow") == "GET"
    await ws.close()


async def _head_answer(ws: RawWebSocket) -> object:
    head = await asyncio.wait_for(ws.reader.readuntil(b"\r\n\r\n"), 10)
    from tests.support.raw_websocket import HttpAnswer

    status_line, *lines = head[:-4].decode().split("\r\n")
    headers = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines)]
    return HttpAnswer(int(status_line.split()[1]), "", headers, b"")


async def test_bare_line_feeds_are_answered_400_at_once(harness_factory: HarnessFactory) -> None:
    ws, _ = await raw(harness_factory, http_timeout=30.0)
    await ws.send(request_head().replace(b"\r\n", b"\n"))
    assert (await ws.read_answer()).status == 400


async def test_a_length_not_in_its_shortest_form_fails_with_1002(
    harness_factory: HarnessFactory, transport: str
) -> None:
    from tests.support.raw_websocket import build_frame

    ws, _ = await raw(harness_factory)
    await ws.upgrade()
    await ws.join(ticket("1", "u1"))
    await ws.send(build_frame(OP_PING, b"p", length_form=16))
    close = (await ws.read_until_eof(10)).close_frames[0]
    assert close.close_code == 1002


async def test_a_hook_announcing_too_big_a_body_gets_413_at_once(
    harness_factory: HarnessFactory,
) -> None:
    ws, _ = await raw(harness_factory, http_timeout=30.0)
    await ws.send(
        b"POST /hooks/board HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n"
        b"Authorization: Bearer x\r\n\r\n"
    )
    answer = await ws.read_answer()
    assert answer.status == 413
    assert b"larger than 262144 bytes" in answer.body


async def test_a_hook_with_two_authorization_headers_is_refused(
    harness_factory: HarnessFactory,
) -> None:
    ws, _ = await raw(harness_factory)
    body = json.dumps({"sprint": "1", "event": {}}).encode()
    token = mint_hook_token(SECRET, body)
    await ws.send(
        b"POST /hooks/board HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\nAuthorization: Bearer {token}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer = await ws.read_answer()
    assert answer.status == 401
    assert b"more than one Authorization header" in answer.body


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": True}, '"exp" must be a number'),
        ({"exp": "9999999999"}, '"exp" must be a number'),
        ({"aud": [TICKET_AUDIENCE, "x"]}, "another audience"),
    ],
    ids=["true-exp", "string-exp", "list-audience"],
)
async def test_odd_claims_close_with_4401_naming_them(
    harness_factory: HarnessFactory, claims: dict[str, object], words: str
) -> None:
    harness = await harness_factory()
    base = {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE}
    base["exp"] = int(time.time()) + 60
    token = jwt.encode({**base, **claims}, SECRET, algorithm="HS256")
    ws = await harness.connect()
    await ws.send_json({"type": "join", "ticket": token})
    code, reason = await receive_close_with_reason(ws)
    assert code == 4401
    assert words in reason


async def test_a_ticket_that_expires_in_a_far_future_joins_without_an_error(
    harness_factory: HarnessFactory,
) -> None:
    """Only the board signs tickets; an exp of 10**400 is odd but not a fault (it used to end
    the join with 1011, an overflow)."""
    harness = await harness_factory()
    claims = {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE, "exp": 10**400}
    ws = await harness.connect()
    await ws.send_json({"type": "join", "ticket": jwt.encode(claims, SECRET, algorithm="HS256")})
    assert (await ws.receive_json(timeout=10))["type"] == "welcome"


def test_a_hook_token_with_a_string_exp_is_refused() -> None:
    from signaling.errors import HookRejected
    from signaling.tickets import ReplayGuard, verify_hook

    body = b"{}"
    token = jwt.encode(
        {"aud": HOOK_AUDIENCE, "exp": str(int(time.time()) + 30), "body_sha256": "x"}, SECRET
    )
    with pytest.raises(HookRejected, match='"exp" must be a number'):
        verify_hook(f"Bearer {token}", body, SECRET, ReplayGuard())


async def test_one_user_joining_and_leaving_in_a_loop_is_stopped(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(join_burst=5, join_rate=0.1)
    for _ in range(5):
        ws, _ = await harness.join("1", "churner")
        await ws.close()
    ws = await harness.connect()
    await ws.send_json({"type": "join", "ticket": ticket("1", "churner")})
    code, reason = await receive_close_with_reason(ws)
    assert code == 4429
    assert "joining this sprint too often" in reason
    _, welcome = await harness.join("1", "someone-else")  # others are not held up
    assert welcome["type"] == "welcome"


def test_a_malformed_request_is_a_refusal_in_the_log_not_an_error() -> None:
    server = SignalingProcess(SECRET).wait_ready()
    try:

        async def send() -> None:
            ws = await RawWebSocket.connect("127.0.0.1", server.port)  # (its own loop: closed here)
            await ws.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
            assert (await ws.read_answer()).status == 400
            await ws.close()

        asyncio.run(send())
        server.wait_for_log("reason=bad-request")
    finally:
        log = server.output()
    assert "ERROR" not in log
    assert "Traceback" not in log
