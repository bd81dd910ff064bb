"""Fixtures for signaling tests: a real server on a free port and websocket helpers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from signaling.app import SERVER, SignalingServer, create_app
from signaling.config import Settings
from signaling.tickets import mint_ticket

SECRET = "test-secret-" + "x" * 20
WAIT = 5.0  # generous bound for every network wait


def make_settings(**overrides: Any) -> Settings:
    return replace(Settings(secret=SECRET, heartbeat=0), **overrides)


def ticket(sprint: str = "1", user: str = "u1", name: str = "Ann", **extra: Any) -> str:
    return mint_ticket(SECRET, sprint=sprint, user_id=user, name=name, **extra)


async def receive_json(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type} {msg.data!r}"
    data = json.loads(msg.data)
    assert isinstance(data, dict)
    return data


async def receive_type(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = WAIT
) -> dict[str, Any]:
    """The next message, which must be of type ``kind``."""
    message = await receive_json(ws, timeout)
    assert message["type"] == kind, f"expected {kind!r}, got {message}"
    return message


async def receive_close_with_reason(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> tuple[int | None, str]:
    """Read (and drop) messages until the server closes; return the close code and reason."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra or ""
        if msg.type in (
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.ERROR,
        ):
            return ws.close_code, ""


async def receive_close(ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT) -> int | None:
    """Read (and drop) messages until the server closes; return the close code."""
    code, _ = await receive_close_with_reason(ws, timeout)
    return code


async def expect_silence(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.3) -> None:
    """Nothing arrives for ``seconds`` (used to show a message was NOT delivered)."""
    try:
        msg = await ws.receive(timeout=seconds)
    except TimeoutError:
        return
    pytest.fail(f"expected nothing, got {msg.type} {msg.data!r}")


class Harness:
    """A running signaling server plus ways to open peers on it."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.last_peer: dict[int, str] = {}  # id(socket) -> peer id from its welcome

    @property
    def server(self) -> SignalingServer:
        return self.client.app[SERVER]  # type: ignore[index]

    async def connect(self, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        ws = await self.client.ws_connect("/ws", **kwargs)
        self.sockets.append(ws)
        return ws

    async def join(
        self, sprint: str = "1", user: str = "u1", name: str = "Ann", **kwargs: Any
    ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
        ws = await self.connect(**kwargs)
        await ws.send_json({"type": "join", "ticket": ticket(sprint, user, name)})
        welcome = await receive_type(ws, "welcome")
        self.last_peer[id(ws)] = welcome["peer"]
        return ws, welcome


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def harness_factory() -> Any:
    clients: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> Harness:
        app: web.Application = create_app(make_settings(**overrides))
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return Harness(client)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def harness(harness_factory: HarnessFactory) -> Harness:
    return await harness_factory()
