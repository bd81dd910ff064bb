"""aiortc peers on different signaling instances open a data channel; killing a third instance
does not disturb it. Runs in a loopback-only network namespace (``make test-webrtc``)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

import tests.support.webrtc  # noqa: F401  (aioice gathers 127.0.0.1)
from signaling.tickets import mint_ticket
from tests.signaling.conftest import receive_type
from tests.support.processes import SignalingProcess
from tests.support.redis import RedisServer
from tests.support.websocket import client_session

pytestmark = pytest.mark.webrtc

SECRET = "cluster-rtc-secret-" + "r" * 20
OPEN_TIMEOUT = 15.0


class RawPeer:
    """A signaling socket plus one aiortc connection, negotiated by hand per docs/protocol.md."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, welcome: dict) -> None:
        self.ws = ws
        self.peer = welcome["peer"]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel: RTCDataChannel | None = None
        self.opened = asyncio.Event()
        self.received: asyncio.Queue[str] = asyncio.Queue()

    def _adopt(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("message", self.received.put_nowait)
        if channel.readyState == "open":
            self.opened.set()
        channel.on("open", self.opened.set)

    async def offer_to(self, other: str) -> None:
        self._adopt(self.pc.createDataChannel("watercooler"))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        description = {"type": "offer", "sdp": self.pc.localDescription.sdp}
        await self.ws.send_json(
            {"type": "signal", "to": other, "data": {"description": description}}
        )
        answer = await receive_type(self.ws, "signal", timeout=OPEN_TIMEOUT)
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer["data"]["description"]))

    async def answer(self) -> None:
        self.pc.on("datachannel", self._adopt)
        offer = await receive_type(self.ws, "signal", timeout=OPEN_TIMEOUT)
        await self.pc.setRemoteDescription(RTCSessionDescription(**offer["data"]["description"]))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        description = {"type": "answer", "sdp": self.pc.localDescription.sdp}
        await self.ws.send_json(
            {"type": "signal", "to": offer["from"], "data": {"description": description}}
        )

    async def close(self) -> None:
        await self.pc.close()
        await self.ws.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with client_session() as client:
        yield client


async def join(
    session: aiohttp.ClientSession, instance: SignalingProcess, user: str
) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
    ws = await session.ws_connect(instance.ws_url)
    await ws.send_json(
        {"type": "join", "ticket": mint_ticket(SECRET, sprint="1", user_id=user, name=user)}
    )
    return ws, await receive_type(ws, "welcome")


async def test_data_channel_across_instances_survives_a_killed_instance(
    redis_server: RedisServer, session: aiohttp.ClientSession
) -> None:
    instances = [
        SignalingProcess(SECRET, "--broker", redis_server.url, "--presence-ttl", "2").wait_ready()
        for _ in range(3)
    ]
    peers: list[RawPeer] = []
    try:
        ws_a, welcome_a = await join(session, instances[0], "a")
        a = RawPeer(ws_a, welcome_a)
        ws_b, welcome_b = await join(session, instances[1], "b")
        b = RawPeer(ws_b, welcome_b)
        peers += [a, b]
        assert [p["peer"] for p in welcome_b["peers"]] == [a.peer]
        assert (await receive_type(a.ws, "peer-joined"))["peer"] == b.peer
        # The newcomer (b, on instance 2) offers to a (on instance 1) through Redis.
        await asyncio.gather(b.offer_to(a.peer), a.answer())
        await asyncio.wait_for(asyncio.gather(a.opened.wait(), b.opened.wait()), OPEN_TIMEOUT)
        assert a.channel is not None
        assert b.channel is not None
        b.channel.send("hello from instance 2")
        assert await asyncio.wait_for(a.received.get(), OPEN_TIMEOUT) == "hello from instance 2"

        # A third peer on a third instance; then that instance dies.
        ws_c, welcome_c = await join(session, instances[2], "c")
        for peer in (a, b):
            assert (await receive_type(peer.ws, "peer-joined"))["peer"] == welcome_c["peer"]
        instances[2].process.send_signal(signal.SIGKILL)
        for peer in (a, b):
            left = await receive_type(peer.ws, "peer-left", timeout=12)
            assert left["peer"] == welcome_c["peer"]
        await ws_c.close()
        # The channel between the survivors is untouched and still carries messages both ways.
        assert a.channel.readyState == "open"
        a.channel.send("still here")
        assert await asyncio.wait_for(b.received.get(), OPEN_TIMEOUT) == "still here"
        b.channel.send("me too")
        assert await asyncio.wait_for(a.received.get(), OPEN_TIMEOUT) == "me too"
    finally:
        for peer in peers:
            await peer.close()
        for instance in instances:
            instance.kill()
