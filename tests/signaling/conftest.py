"""Fixtures for signaling tests: a real server on a free port and websocket helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from signaling.app import SERVER, SignalingServer, create_app
from signaling.config import Settings
from signaling.tickets import mint_ticket
from tests.support.signaling_server import SignalingTestServer
from tests.support.websocket import (  # re-exported: the signaling tests import them from here
    WAIT,
    expect_silence,
    receive_close,
    receive_close_with_reason,
    receive_json,
    receive_type,
)

__all__ = [
    "WAIT",
    "expect_silence",
    "receive_close",
    "receive_close_with_reason",
    "receive_json",
    "receive_type",
]

SECRET = "test-secret-" + "x" * 20


def make_settings(**overrides: Any) -> Settings:
    return replace(Settings(secret=SECRET, heartbeat=0), **overrides)


def ticket(sprint: str = "1", user: str = "u1", name: str = "Ann", **extra: Any) -> str:
    return mint_ticket(SECRET, sprint=sprint, user_id=user, name=name, **extra)


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
        client: TestClient[Any, Any] = TestClient(SignalingTestServer(app))
        await client.start_server()
        clients.append(client)
        return Harness(client)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def harness(harness_factory: HarnessFactory) -> Harness:
    return await harness_factory()
