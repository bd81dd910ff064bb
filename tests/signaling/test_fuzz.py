"""Property test: random and mutated frames never break the server or leak across sprints.

Two levels. The session core alone, synchronously: random inputs (opens, frames, closes, time,
broker answers) from several clients, and after each step the core's bookkeeping must hold
together. And one real server for the whole test: each example opens an attacker connection (which
may or may not join, in sprint 1 or 2), sends it a list of random frames, and maybe closes it; an
observer in sprint 1 must still be served, having seen only well-formed messages about peers of
its own sprint, and ``/healthz`` must count what is really open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.app import create_app
from signaling.core import SignalingCore
from signaling.session import CLOSED, CONNECTED, JOINED, JOINING
from tests.signaling.conftest import CLIENT_TIMEOUT, WAIT, make_settings, receive_json, ticket
from tests.signaling.core_driver import CoreDriver
from tests.signaling.core_driver import settings as core_settings
from tests.signaling.core_driver import ticket as core_ticket
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


SETTLED = b"settled?"  # the payload of the ping that shows the server handled what came before

frames = st.one_of(
    st.text(max_size=200),
    json_values.map(json.dumps),
    mutated_message(),
    st.binary(max_size=50),
)


async def settled(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Until the server has handled every frame sent on ``ws``: it answers one socket in order, so
    the pong to a ping sent now comes after all they caused; or until it closed the socket."""
    if ws.closed:
        return
    with contextlib.suppress(ConnectionError):  # the server may have closed it already
        await ws.ping(SETTLED)
    while True:
        message = await ws.receive(timeout=WAIT)
        if message.type is aiohttp.WSMsgType.PONG and message.data == SETTLED:
            return
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            return


class Fuzzer:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.client: TestClient[Any, Any]
        self.observer: aiohttp.ClientWebSocketResponse
        self.sprint_one: set[str] = set()
        self.left_open: list[aiohttp.ClientWebSocketResponse] = []

    async def start(self) -> None:
        settings = make_settings(
            rate=10_000,
            burst=10_000,
            invalid_burst=10_000,
            max_peers_per_sprint=100_000,
            max_peers_per_user=100_000,
            max_unjoined_per_address=100_000,
            join_burst=100_000,
        )
        # No connection-pool limit: examples that leave their socket open must not starve the
        # later ones (aiohttp's default client pool holds 100).
        self.client = TestClient(
            SignalingTestServer(create_app(settings)),
            connector=aiohttp.TCPConnector(limit=0),
            timeout=CLIENT_TIMEOUT,
        )
        await self.client.start_server()
        self.observer = await self.client.ws_connect("/ws")
        await self.observer.send_json({"type": "join", "ticket": ticket("1", "observer")})
        welcome = await receive_json(self.observer)
        self.sprint_one.add(welcome["peer"])
        self.observer_peer = welcome["peer"]

    async def example(self, sprint: str | None, sent: list[str | bytes], close: bool) -> None:
        # autoping off: the pong to this test's own ping must reach it (see settled)
        ws = await self.client.ws_connect("/ws", autoping=False)
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
        await settled(ws)
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
        response = await self.client.get("/healthz")
        health = await response.json()
        assert health["peers"] <= health["connections"]

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
        metrics = loop.run_until_complete(
            (loop.run_until_complete(fuzzer.client.get("/metrics"))).text()
        )
        assert 'watercooler_rejects_total{reason="bad-json"}' in metrics
    finally:
        loop.run_until_complete(fuzzer.stop())
        loop.close()


# --- the core alone ------------------------------------------------------------------------

core_inputs = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from(["10.0.0.1", "10.0.0.2"])),
        st.tuples(
            st.just("send"),
            st.integers(0, 7),
            st.one_of(
                frames,
                st.sampled_from(["1", "2"]).map(
                    lambda sprint: json.dumps({"type": "join", "ticket": core_ticket(sprint, "f")})
                ),
                st.tuples(st.sampled_from(["signal", "relay"]), st.integers(1, 9)).map(
                    lambda kind_to: json.dumps(
                        {"type": kind_to[0], "to": f"p{kind_to[1]}", "data": {"n": 1}}
                    )
                ),
            ),
        ),
        st.tuples(st.just("close"), st.integers(0, 7)),
        st.tuples(st.just("answer"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("advance"), st.floats(0.0, 30.0)),
        st.tuples(st.just("binary"), st.integers(0, 7)),
    ),
    max_size=40,
)


def check_core(driver: CoreDriver) -> None:
    core = driver.core
    table = core.table
    for session in table.sessions.values():
        assert session.state is not CLOSED
    for peer, session in table.by_peer.items():
        assert session.member is not None
        assert session.member.peer == peer
        assert core.rooms.member(peer) == session.member
    unjoined: dict[str, int] = {}
    for session in table.sessions.values():
        if session.state in (CONNECTED, JOINING):
            unjoined[session.address] = unjoined.get(session.address, 0) + 1
    assert table.unjoined == unjoined
    assert core.rooms.peer_count == len({m.peer for m in core.rooms})
    for session in table.sessions.values():  # nobody heard of a peer of another sprint
        if session.state is JOINED and session.member is not None:
            sprint_peers = {m.peer for m in core.rooms.members(session.member.sprint)}
            for message in driver.messages(session):
                if message["type"] in ("signal", "relay"):
                    assert message["from"] in sprint_peers or message["from"] not in {
                        m.peer for m in core.rooms
                    }


@settings(max_examples=300, deadline=None)
@given(inputs=core_inputs)
def test_random_inputs_keep_the_core_consistent(inputs: list[tuple[Any, ...]]) -> None:
    numbers = iter(range(1, 10_000))
    core = SignalingCore(
        core_settings(max_unjoined_per_address=3, max_peers_per_user=2),
        new_peer_id=lambda: f"p{next(numbers)}",
    )
    driver = CoreDriver(core, answer_broker=False)
    opened = []
    for step in inputs:
        kind = step[0]
        if kind == "open":
            opened.append(driver.open(step[1]))
        elif kind == "answer" and driver.pending:
            chosen = driver.pending[step[1] % len(driver.pending)]
            driver.answer(chosen, failure="broker down" if step[2] else None)
        elif kind == "advance":
            driver.advance(step[1])
        elif opened and kind in ("send", "close", "binary"):
            session = opened[step[1] % len(opened)]
            if kind == "send":
                text = step[2] if isinstance(step[2], str) else step[2].decode("latin-1")
                driver.send(session, text)
            elif kind == "binary":
                driver.run(driver.core.receive_binary(session, driver.now))
            else:
                driver.close(session)
        check_core(driver)
