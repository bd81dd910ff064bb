"""The signaling client's reader: no text frame ends it (docs/protocol.md 2.7).

Our server never writes a frame Python's ``json`` cannot read (its encoder stops at 255 levels
and writes huge integers as floats), so a stand-in server on a real socket sends what a broken or
hostile one could: a frame nested 1,010 levels deep (Python's parser raises RecursionError), one
with a 5,000-digit integer (ValueError), text that is not JSON, then an ordinary relay.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from peer_client.signaling import SignalingClient, Ticket
from tests.peer_client.standin_signaling import WELCOME, StandInSignaling
from tests.support.waiting import wait_until

GOOD = {"type": "relay", "from": "them", "data": {"type": "bye", "id": "m:2"}}
BAD_FRAMES = [
    '{"type":"relay","from":"them","data":{"type":"bye","id":"m:1","x":'
    + "[" * 1010
    + "]" * 1010
    + "}}",
    '{"type":"event","event":{"x":' + "9" * 5000 + "}}",
    "{not json",
]


async def test_a_frame_pythons_parser_cannot_read_does_not_end_the_reader() -> None:
    received: list[tuple[dict[str, Any], str]] = []

    async def on_message(message: dict[str, Any], frame: str) -> None:
        received.append((message, frame))

    async with StandInSignaling([*BAD_FRAMES, json.dumps(GOOD)]) as server:
        ticket = server.ticket

        async def same_ticket() -> Ticket:
            return ticket

        client = SignalingClient(ticket, same_ticket, on_message)
        try:
            await asyncio.wait_for(client.connect(), 5.0)
            await wait_until(lambda: len(received) >= 2, 5.0, "the relay after the bad frames")
            assert [message for message, _ in received] == [WELCOME, GOOD]
            # The handler gets each frame's text too: a relayed message is judged on it (2.6).
            assert received[1][1] == json.dumps(GOOD)
            assert client.state == "joined"
        finally:
            await asyncio.wait_for(client.close(), 5.0)
