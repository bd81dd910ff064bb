"""A stand-in for the signaling server, on a real socket, that sends what a test scripts.

Our server never sends some frames a client must survive or refuse: a frame its own encoder could
not write, a relay from a peer it never introduced. Tests of those use this stand-in; everything
else runs against the real server (``tests.support.processes.SignalingProcess``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from peer_client.signaling import Ticket

WELCOME: dict[str, Any] = {
    "type": "welcome",
    "peer": "us",
    "sprint": "1",
    "peers": [],
    "iceServers": [],
}


class StandInSignaling:
    """Answers the first message (the join) with ``WELCOME``, sends ``frames`` (texts) in order,
    then records what the client sends until it closes."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.received: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_get("/ws", self._serve)
        self.server = TestServer(app)

    async def __aenter__(self) -> StandInSignaling:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    @property
    def ticket(self) -> Ticket:
        return Ticket(str(self.server.make_url("/ws")), "t")

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()  # the join
        await ws.send_str(json.dumps(WELCOME))
        for frame in self.frames:
            await ws.send_str(frame)
        async for message in ws:
            if message.type is web.WSMsgType.TEXT:
                self.received.append(json.loads(message.data))
        return ws
