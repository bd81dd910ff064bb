"""Shared pieces of the websocket conformance suite (``test_conformance_*.py``).

The suite follows the categories of the Autobahn|Testsuite, spoken over raw sockets
(``tests.support.raw_websocket``) to a real server of each transport. Every server here is started
with a close timeout far longer than any wait in the suite: a server that, after failing a
connection, waited for the client's close reply instead of closing the TCP connection at once
would then visibly keep it open, and the test fails.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tests.signaling.conftest import Harness, HarnessFactory, ticket
from tests.support.raw_websocket import Ending, RawWebSocket

CLOSE_TIMEOUT = 30.0  # the server's wait for a close reply; a prompt close beats it by far
EOF_WAIT = 10.0  # how long a test waits for the server to end a connection


class RawServer:
    """One running server and the raw connections opened to it."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.sockets: list[RawWebSocket] = []
        self._users = 0

    async def open(self) -> RawWebSocket:
        """A TCP connection to the server, nothing sent yet."""
        client = self.harness.client
        assert client.port is not None, "the server is not listening"
        ws = await RawWebSocket.connect(client.host, client.port)
        self.sockets.append(ws)
        return ws

    async def live(self) -> RawWebSocket:
        """An upgraded websocket that has joined a sprint of its own and has nothing pending
        (alone in its sprint, it hears of no other peer coming or going)."""
        ws = await self.open()
        await ws.upgrade()
        self._users += 1
        n = self._users
        await ws.join(ticket(sprint=f"s{n}", user=f"u{n}", name=f"User {n}"))
        return ws

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()


class RawServers:
    """Starts servers (``harness_factory`` overrides) and closes their raw sockets at the end."""

    def __init__(self, harness_factory: HarnessFactory) -> None:
        self._factory = harness_factory
        self._servers: list[RawServer] = []

    async def start(self, **overrides: Any) -> RawServer:
        overrides.setdefault("close_timeout", CLOSE_TIMEOUT)
        server = RawServer(await self._factory(**overrides))
        self._servers.append(server)
        return server

    async def __aenter__(self) -> RawServers:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for server in self._servers:
            await server.close()


async def expect_failure(ws: RawWebSocket, code: int) -> Ending:
    """The server fails the connection: one close frame with ``code`` and a reason, then the
    end of the TCP stream, without the client ever answering the close."""
    ending = await ws.read_until_eof(EOF_WAIT)
    assert [f.opcode for f in ending.frames] == [0x8], f"expected only a close, got {ending}"
    (close,) = ending.frames
    assert close.close_code == code, f"expected close {code}, got {close}"
    assert close.close_reason, f"close {code} carries no reason"
    return ending
