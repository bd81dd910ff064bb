"""A bare websocket in sprint 1 that speaks signaling by hand and never opens a channel: the far
side of a pair that can only ever be relayed, or a hostile peer (``test_session_trust``,
``test_session_relay``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from signaling.tickets import mint_ticket
from tests.peer_client.conftest import SECRET
from tests.support.processes import SignalingProcess


class RawPeer:
    """A websocket in the sprint that speaks signaling by hand and never opens a channel."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []

    async def relay(self, to: str, data: dict[str, Any]) -> None:
        await self.ws.send_json({"type": "relay", "to": to, "data": data})

    async def next_relayed(self, sender: str) -> dict[str, Any]:
        """The next data-channel message ``sender`` relayed to us (other messages are kept)."""
        while True:
            message = await self.ws.receive_json(timeout=10)
            self.received.append(message)
            if message.get("type") == "relay" and message.get("from") == sender:
                return dict(message["data"])


@asynccontextmanager
async def joined_raw(signaling: SignalingProcess, name: str) -> AsyncIterator[RawPeer]:
    """``async with joined_raw(signaling, "Quiet") as quiet``: joined to sprint 1 as ``name``."""
    async with aiohttp.ClientSession() as http, http.ws_connect(signaling.ws_url) as ws:
        ticket = mint_ticket(SECRET, sprint="1", user_id=name.lower(), name=name)
        await ws.send_json({"type": "join", "ticket": ticket})
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        yield RawPeer(ws)
