"""Time between instances: a frame held up by a stalled Redis, and instances whose clocks differ.

Each instance is a real ``python -m signaling --broker redis://...`` process on a private
``redis-server``. The promise under test (docs/protocol.md 1.3, ``unavailable``): a signal to a
peer on another instance is delivered promptly or its sender hears ``unavailable``; none is lost
without a word, and none arrives seconds late.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling.tickets import mint_ticket
from tests.support.processes import SignalingProcess
from tests.support.redis import RedisServer
from tests.support.waiting import wait_until
from tests.support.websocket import receive_type

SECRET = "clock-secret-" + "k" * 20
SIGNALS = 5
STALL = 3.0  # seconds Redis is stopped: past the 2 s bound, short of every timeout
AHEAD = 3.0  # seconds the skewed instance's clock is ahead


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def instance(redis: RedisServer, *, ahead: float = 0.0) -> SignalingProcess:
    if not ahead:
        return SignalingProcess(SECRET, "--broker", redis.url).wait_ready()
    return SignalingProcess(
        SECRET,
        "--broker",
        redis.url,
        module="tests.support.skewed_clock",
        env={"WATERCOOLER_CLOCK_AHEAD": str(ahead)},
    ).wait_ready()


async def join(
    http: aiohttp.ClientSession, server: SignalingProcess, user: str
) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    ws = await http.ws_connect(server.ws_url)
    await ws.send_json(
        {"type": "join", "ticket": mint_ticket(SECRET, sprint="1", user_id=user, name=user)}
    )
    return ws, (await receive_type(ws, "welcome"))["peer"]


class Inbox:
    """What one socket hears, read as it comes: signals' ``n`` in order, and error codes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.signals: list[Any] = []
        self.errors: list[str] = []
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if data["type"] == "signal":
                self.signals.append(data["data"]["n"])
            elif data["type"] == "error":
                self.errors.append(data["code"])

    async def close(self) -> None:
        self._task.cancel()
        await self.ws.close()


async def test_a_frame_held_up_by_a_stalled_redis_is_reported_not_lost(
    redis_server: RedisServer, http: aiohttp.ClientSession
) -> None:
    """Redis stops for 3 s while signals are on their way: the first goes out and waits in Redis
    (it reaches the other instance 3 s late and is dropped there), the rest wait here past the
    2 s bound. Every one of them is either delivered or reported to its sender as unavailable."""
    one, two = instance(redis_server), instance(redis_server)
    try:
        a, _ = await join(http, one, "a")
        b, b_peer = await join(http, two, "b")
        await receive_type(a, "peer-joined")
        sent, heard = Inbox(a), Inbox(b)
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            for n in range(SIGNALS):
                await a.send_json({"type": "signal", "to": b_peer, "data": {"n": n}})
            await asyncio.sleep(STALL)  # the stall itself (nothing is asserted on time)
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        await wait_until(
            lambda: len(heard.signals) + len(sent.errors) >= SIGNALS,
            timeout=20,
            what="every signal delivered or reported",
        )
        assert set(sent.errors) <= {"unavailable"}, sent.errors
        assert len(heard.signals) + len(sent.errors) == SIGNALS, (heard.signals, sent.errors)
        # And the next signal, with Redis back, is delivered as usual.
        await a.send_json({"type": "signal", "to": b_peer, "data": {"n": "after"}})
        await wait_until(lambda: "after" in heard.signals, what="the signal after the stall")
        await sent.close()
        await heard.close()
    finally:
        one.kill()
        two.kill()


async def test_instances_whose_clocks_differ_still_relay_and_the_skew_is_logged(
    redis_server: RedisServer, http: aiohttp.ClientSession
) -> None:
    """The second instance's clock is 3 s ahead (a host without NTP): signals cross both ways,
    all of them, in order; that instance says in its log how far its clock is off."""
    one, two = instance(redis_server), instance(redis_server, ahead=AHEAD)
    try:
        a, a_peer = await join(http, one, "a")
        b, b_peer = await join(http, two, "b")
        await receive_type(a, "peer-joined")
        at_a, at_b = Inbox(a), Inbox(b)
        for n in range(10):
            await a.send_json({"type": "signal", "to": b_peer, "data": {"n": n}})
            await b.send_json({"type": "signal", "to": a_peer, "data": {"n": n}})
        await wait_until(
            lambda: len(at_a.signals) == len(at_b.signals) == 10, what="ten signals each way"
        )
        assert at_a.signals == at_b.signals == list(range(10))
        assert at_a.errors == at_b.errors == []
        await at_a.close()
        await at_b.close()
        two.wait_for_log("clock-skew instance=")
    finally:
        one_log, two_log = one.output(), two.output()
    skew = re.search(r"WARNING clock-skew instance=\w+ ahead_of_redis_s=(\S+)", two_log)
    assert skew is not None, two_log
    assert abs(float(skew.group(1)) - AHEAD) < 0.5, skew.group(0)
    assert "NTP" in skew.group(0) or "NTP" in two_log
    assert "clock-skew" not in one_log
    assert "broker-frame-stale" not in one_log + two_log
