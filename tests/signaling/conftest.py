"""Fixtures for signaling tests: a real server on a free port and websocket helpers."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from signaling import logs
from signaling.app import SERVICE, create_app
from signaling.config import Settings
from signaling.service import SignalingService
from tests.support.redis import redis_server  # noqa: F401 (a fixture for the cluster tests)
from tests.support.signaling_server import SignalingTestServer
from tests.support.tickets import SECRET, ticket
from tests.support.websocket import (  # re-exported: the signaling tests import them from here
    CLIENT_TIMEOUT,
    WAIT,
    expect_nothing_pending,
    receive_close,
    receive_close_with_reason,
    receive_json,
    receive_type,
)

__all__ = [
    "CLIENT_TIMEOUT",
    "SECRET",
    "WAIT",
    "expect_nothing_pending",
    "receive_close",
    "receive_close_with_reason",
    "receive_json",
    "receive_type",
    "ticket",
]


def make_settings(**overrides: Any) -> Settings:
    return replace(Settings(secret=SECRET, heartbeat=0), **overrides)


class Harness:
    """A running signaling server plus ways to open peers on it."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.client = client
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.last_peer: dict[int, str] = {}  # id(socket) -> peer id from its welcome

    @property
    def service(self) -> SignalingService:
        return self.client.app[SERVICE]  # type: ignore[index]

    async def connect(self, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        ws = await self.client.ws_connect("/ws", **kwargs)
        self.sockets.append(ws)
        return ws

    async def health(self) -> dict[str, Any]:
        response = await self.client.get("/healthz")
        health: dict[str, Any] = await response.json()
        return health

    async def metrics(self) -> str:
        return await (await self.client.get("/metrics")).text()

    async def wait_for_connections(self, count: int, timeout: float = WAIT) -> None:
        """Until ``/healthz`` counts ``count`` open websockets (polled, bounded)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (await self.health())["connections"] != count:
            assert asyncio.get_running_loop().time() < deadline, f"never {count} connections"
            await asyncio.sleep(0.02)

    async def join(
        self, sprint: str = "1", user: str = "u1", name: str = "Ann", **kwargs: Any
    ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
        ws = await self.connect(**kwargs)
        await ws.send_json({"type": "join", "ticket": ticket(sprint, user, name)})
        welcome = await receive_type(ws, "welcome")
        self.last_peer[id(ws)] = welcome["peer"]
        return ws, welcome


HarnessFactory = Callable[..., Awaitable[Harness]]


TRANSPORTS = ("fast", "aiohttp")


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Each server-level test runs once per websocket transport (``--transport``)."""
    return str(request.param)


@pytest.fixture
async def harness_factory(transport: str) -> Any:
    clients: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> Harness:
        overrides.setdefault("transport", transport)
        app: web.Application = create_app(make_settings(**overrides))
        client: TestClient[Any, Any] = TestClient(SignalingTestServer(app), timeout=CLIENT_TIMEOUT)
        await client.start_server()
        clients.append(client)
        return Harness(client)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def harness(harness_factory: HarnessFactory) -> Harness:
    return await harness_factory()


@pytest.fixture
def event_log() -> Iterator[io.StringIO]:
    """This process's event log (human format, INFO and up), written to a string for the test."""
    saved = (logs.events.stream, logs.events.level, logs.events.json)
    stream = io.StringIO()
    logs.events.stream, logs.events.level, logs.events.json = stream, logging.INFO, False
    yield stream
    logs.events.flush()
    logs.events.stream, logs.events.level, logs.events.json = saved
