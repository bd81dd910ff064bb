"""Property test: random and mutated frames never break the server or leak across sprints.

One real server runs for the whole test. Each hypothesis example opens an attacker connection (which
may or may not join, in sprint 1 or 2), sends it a list of random frames, and maybe closes it. After
every example the room bookkeeping must be consistent and an observer in sprint 1 must still be
served, having seen only well-formed messages about peers of its own sprint.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.app import SERVER, SignalingServer, create_app
from tests.signaling.conftest import make_settings, receive_json, ticket
from tests.support.signaling_server import SignalingTestServer

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["type", "to", "data", "ticket", "resume", "from", "peer"])
type_names = st.sampled_from(["join", "signal", "relay", "ping", "welcome", "error", "", "JOIN"])


@st.composite
def mutated_message(draw: st.DrawFn) -> str:
    base: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"type": "ping"},
                {"type": "join", "ticket": ticket("1", "fuzz")},
                {"type": "signal", "to": "PEER", "data": {"candidate": None}},
                {"type": "relay", "to": "PEER", "data": {"type": "drag-hover"}},
            ]
        )
    ).copy()
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "drop", "type"]))
        if action == "set":
            base[draw(field_names)] = draw(json_values)
        elif action == "drop" and base:
            base.pop(draw(st.sampled_from(sorted(base))))
        else:
            base["type"] = draw(type_names)
    return json.dumps(base)


frames = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    mutated_message(),
    st.binary(max_size=50),
)


class Fuzzer:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.client: TestClient[Any, Any]
        self.observer: aiohttp.ClientWebSocketResponse
        self.sprint_one: set[str] = set()
        self.left_open: list[aiohttp.ClientWebSocketResponse] = []

    @property
    def server(self) -> SignalingServer:
        return self.client.app[SERVER]  # type: ignore[index]

    async def start(self) -> None:
        settings = make_settings(
            rate=10_000, burst=10_000, invalid_burst=10_000, max_peers_per_sprint=100_000
        )
        # No connection-pool limit: examples that leave their socket open must not starve the
        # later ones (aiohttp's default client pool holds 100).
        self.client = TestClient(
            SignalingTestServer(create_app(settings)), connector=aiohttp.TCPConnector(limit=0)
        )
        await self.client.start_server()
        self.observer = await self.client.ws_connect("/ws")
        await self.observer.send_json({"type": "join", "ticket": ticket("1", "observer")})
        welcome = await receive_json(self.observer)
        self.sprint_one.add(welcome["peer"])
        self.observer_peer = welcome["peer"]

    async def example(self, sprint: str | None, sent: list[str | bytes], close: bool) -> None:
        ws = await self.client.ws_connect("/ws")
        if sprint is not None:
            await ws.send_json({"type": "join", "ticket": ticket(sprint, "attacker")})
            welcome = await receive_json(ws)
            if sprint == "1":
                self.sprint_one.add(welcome["peer"])
        for frame in sent:
            if ws.closed:
                break
            text = frame if isinstance(frame, bytes) else frame.replace("PEER", self.observer_peer)
            if isinstance(text, bytes):
                await ws.send_bytes(text)
            else:
                await ws.send_str(text)
        await asyncio.sleep(0.01)
        if close:
            await ws.close()
        else:
            self.left_open.append(ws)
            if len(self.left_open) > 50:
                await self.left_open.pop(0).close()
        await self.check_observer()

    async def check_observer(self) -> None:
        await self.observer.send_json({"type": "ping"})
        while True:
            message = await receive_json(self.observer)
            kind = message["type"]
            assert kind in {"peer-joined", "peer-left", "signal", "relay", "pong"}, message
            if kind == "peer-joined":
                self.sprint_one.add(message["peer"])
            if kind in {"peer-joined", "peer-left"}:
                assert message["peer"] in self.sprint_one, "a peer of another sprint leaked"
            if kind in {"signal", "relay"}:
                assert message["from"] in self.sprint_one, "a message crossed sprints"
            if kind == "pong":
                break
        server = self.server
        assert server.rooms.peer_count == len(server.by_peer)
        for member in server.rooms:
            assert server.by_peer[member.peer].connection.peer == member.peer
            assert member in server.rooms.members(member.sprint)

    async def stop(self) -> None:
        await self.client.close()


def test_random_frames_never_break_the_server() -> None:
    loop = asyncio.new_event_loop()
    fuzzer = Fuzzer(loop)
    loop.run_until_complete(fuzzer.start())

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        sprint=st.sampled_from([None, "1", "2"]),
        sent=st.lists(frames, max_size=8),
        close=st.booleans(),
    )
    def run(sprint: str | None, sent: list[str | bytes], close: bool) -> None:
        loop.run_until_complete(asyncio.wait_for(fuzzer.example(sprint, sent, close), 20))

    try:
        run()
        assert fuzzer.server.metrics.rejects.labels("bad-json")._value.get() > 0
    finally:
        loop.run_until_complete(fuzzer.stop())
        loop.close()
