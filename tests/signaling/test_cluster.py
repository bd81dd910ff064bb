"""Several signaling instances sharing sprints through a real Redis.

Each instance is a real ``python -m signaling --broker redis://...`` process; Redis is a private
``redis-server`` started by the test, so it can be stopped, restarted and its instances killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import urllib.request
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from signaling.config import Settings
from signaling.tickets import mint_hook_token, mint_ticket
from tests.signaling.conftest import (
    expect_nothing_pending,
    receive_close_with_reason,
    receive_json,
    receive_type,
)
from tests.support import waiting
from tests.support.processes import SignalingProcess, free_port, wait_for_http
from tests.support.redis import RedisServer
from tests.support.websocket import client_session

SECRET = "cluster-secret-" + "c" * 20
PRESENCE_TTL = 2.0
DEFAULT_PRESENCE_TTL = Settings(secret=SECRET).presence_ttl


def peer_left_bound(ttl: float | None) -> float:
    """How soon the others hear ``peer-left`` for a killed instance's peers: within about
    TTL + 2 x TTL/5 (docs/operations.md, several instances), plus 3 s for a busy machine."""
    ttl = DEFAULT_PRESENCE_TTL if ttl is None else ttl
    return ttl + 2 * ttl / 5 + 3.0


OFFER = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
ANSWER = {"description": {"type": "answer", "sdp": "v=0\r\n"}}
CANDIDATE = {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0"}}


class Cluster:
    def __init__(self, redis_server: RedisServer) -> None:
        self.redis = redis_server
        self.instances: list[SignalingProcess] = []
        # No pool limit: some tests hold more than aiohttp's default 100 sockets at once.
        self.session = client_session(connector=aiohttp.TCPConnector(limit=0))

    def start(
        self,
        count: int,
        ttl: float | None = PRESENCE_TTL,
        *,
        port: int | None = None,
        args: tuple[str, ...] = (),
    ) -> list[SignalingProcess]:
        """``count`` instances (on ``port`` if given, else each on its own); ``ttl=None`` keeps
        the server's default presence TTL."""
        ttl_args = () if ttl is None else ("--presence-ttl", str(ttl))
        started = [
            SignalingProcess(SECRET, "--broker", self.redis.url, *ttl_args, *args, port=port)
            for _ in range(count)
        ]
        for instance in started:
            instance.wait_ready()
        self.instances += started
        return started

    async def join(
        self, instance: SignalingProcess, sprint: str, user: str, resume: str | None = None
    ) -> tuple[aiohttp.ClientWebSocketResponse, dict]:
        ws = await self.session.ws_connect(instance.ws_url)
        message = {
            "type": "join",
            "ticket": mint_ticket(SECRET, sprint=sprint, user_id=user, name=user),
        }
        if resume:
            message["resume"] = resume
        await ws.send_json(message)
        return ws, await receive_type(ws, "welcome")

    async def health(self, instance: SignalingProcess) -> dict:
        async with self.session.get(f"{instance.http_url}/healthz") as response:
            return dict(await response.json())

    async def wait_until(
        self, instance: SignalingProcess, check: Callable[[dict], bool], timeout: float = 15.0
    ) -> dict:
        """Until ``check`` holds for the instance's ``/healthz`` (polled, bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            health = await self.health(instance)
            if check(health):
                return health
            assert time.monotonic() < deadline, f"/healthz never satisfied the check: {health}"
            await asyncio.sleep(0.05)

    async def hook(self, instance: SignalingProcess, sprint: str, event: dict) -> None:
        body = json.dumps({"sprint": sprint, "event": event}).encode()
        async with self.session.post(
            f"{instance.http_url}/hooks/board",
            data=body,
            headers={"Authorization": f"Bearer {mint_hook_token(SECRET, body)}"},
        ) as response:
            assert response.status == 202

    async def close(self) -> None:
        await self.session.close()
        for instance in self.instances:
            instance.kill()


@pytest.fixture
async def cluster(redis_server: RedisServer) -> AsyncIterator[Cluster]:
    cluster = Cluster(redis_server)
    yield cluster
    await cluster.close()


async def test_peers_on_three_instances_see_and_reach_each_other(cluster: Cluster) -> None:
    one, two, three = cluster.start(3)
    a, wa = await cluster.join(one, "1", "a")
    b, wb = await cluster.join(two, "1", "b")
    assert [p["peer"] for p in wb["peers"]] == [wa["peer"]]
    assert (await receive_type(a, "peer-joined"))["peer"] == wb["peer"]
    c, wc = await cluster.join(three, "1", "c")
    assert sorted(p["peer"] for p in wc["peers"]) == sorted([wa["peer"], wb["peer"]])
    assert (await receive_type(a, "peer-joined"))["user"] == {"id": "c", "name": "c"}
    assert (await receive_type(b, "peer-joined"))["peer"] == wc["peer"]

    # Offer, trickled candidate and answer cross instances, in order, with a server-set "from".
    await c.send_json({"type": "signal", "to": wa["peer"], "data": OFFER})
    await c.send_json({"type": "signal", "to": wa["peer"], "data": CANDIDATE})
    assert await receive_type(a, "signal") == {"type": "signal", "from": wc["peer"], "data": OFFER}
    assert (await receive_type(a, "signal"))["data"] == CANDIDATE
    await a.send_json({"type": "signal", "to": wc["peer"], "data": ANSWER})
    assert (await receive_type(c, "signal"))["data"] == ANSWER
    await b.send_json({"type": "relay", "to": wc["peer"], "data": {"type": "drag-hover"}})
    assert (await receive_type(c, "relay"))["from"] == wb["peer"]

    # Sprints stay isolated across instances.
    x, wx = await cluster.join(two, "2", "x")
    assert wx["peers"] == []
    for target in (wa["peer"], wb["peer"], wc["peer"]):
        await x.send_json({"type": "signal", "to": target, "data": OFFER})
        assert (await receive_type(x, "error"))["code"] == "unknown-peer"
    for ws in (a, b, c):  # refused where x is: nothing went anywhere
        await expect_nothing_pending(ws)

    # A leave on one instance reaches the others.
    await b.close()
    for ws in (a, c):
        assert await receive_type(ws, "peer-left") == {"type": "peer-left", "peer": wb["peer"]}


async def test_hook_posted_to_one_instance_reaches_peers_on_others(cluster: Cluster) -> None:
    one, two, three = cluster.start(3)
    a, _ = await cluster.join(one, "1", "a")
    b, _ = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    outsider, _ = await cluster.join(two, "2", "x")
    body = json.dumps({"sprint": "1", "event": {"model": "task", "action": "updated"}}).encode()
    async with cluster.session.post(
        f"{three.http_url}/hooks/board",
        data=body,
        headers={"Authorization": f"Bearer {mint_hook_token(SECRET, body)}"},
    ) as response:
        assert response.status == 202
        assert await response.json() == {"delivered": 2}
    for ws in (a, b):
        assert (await receive_type(ws, "event"))["event"] == {"model": "task", "action": "updated"}
    # b's instance has handled the notice (b has it); the outsider beside b got nothing.
    await expect_nothing_pending(outsider)


@pytest.mark.parametrize("ttl", [PRESENCE_TTL, None], ids=["ttl-2s", "default-ttl"])
async def test_a_killed_instances_peers_disappear_and_can_rejoin_elsewhere(
    cluster: Cluster, ttl: float | None
) -> None:
    one, two = cluster.start(2, ttl)
    a, wa = await cluster.join(one, "1", "a")
    b, wb = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    two.process.send_signal(signal.SIGKILL)
    assert await receive_type(a, "peer-left", timeout=peer_left_bound(ttl)) == {
        "type": "peer-left",
        "peer": wb["peer"],
    }
    # b notices its socket died and reconnects to the surviving instance, keeping its peer id.
    await receive_close_with_reason(b, timeout=5)
    b2, wb2 = await cluster.join(one, "1", "b", resume=wb["resume"])
    assert wb2["peer"] == wb["peer"]
    assert [p["peer"] for p in wb2["peers"]] == [wa["peer"]]
    assert (await receive_type(a, "peer-joined"))["peer"] == wb["peer"]
    await b2.send_json({"type": "signal", "to": wa["peer"], "data": OFFER})
    assert (await receive_type(a, "signal"))["from"] == wb["peer"]


async def test_resume_on_another_instance_moves_the_peer_without_a_leave(
    cluster: Cluster,
) -> None:
    one, two = cluster.start(2)
    a, wa = await cluster.join(one, "1", "a")
    b, wb = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    b2, wb2 = await cluster.join(one, "1", "b", resume=wb["resume"])
    assert wb2["peer"] == wb["peer"]
    code, reason = await receive_close_with_reason(b)
    assert code == 4000
    assert "resumed" in reason
    # Once b's old socket is gone from instance two, a notice from there travels the same way
    # a leave would have: a sees that notice first, so there was no peer-left and no peer-joined.
    await cluster.wait_until(two, lambda health: health["connections"] == 0)
    await cluster.hook(two, "1", {"model": "task", "action": "updated"})
    for ws in (a, b2):
        assert (await receive_json(ws))["type"] == "event"
    await a.send_json({"type": "signal", "to": wb["peer"], "data": OFFER})
    assert (await receive_type(b2, "signal"))["from"] == wa["peer"]


async def test_redis_outage_keeps_local_peers_refuses_joins_and_recovers(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    one, two = cluster.start(2)
    a1, wa1 = await cluster.join(one, "1", "a1")
    a2, wa2 = await cluster.join(one, "1", "a2")
    b, wb = await cluster.join(two, "1", "b")
    for _ in range(2):
        await receive_type(a1, "peer-joined")
    await receive_type(a2, "peer-joined")

    redis_server.stop()
    for instance in (one, two):
        await cluster.wait_until(instance, lambda health: health["status"] != "ok")
    # Peers on the same instance keep negotiating.
    await a1.send_json({"type": "signal", "to": wa2["peer"], "data": OFFER})
    assert (await receive_type(a2, "signal"))["from"] == wa1["peer"]
    # A peer on the other instance cannot be reached: a clear error, nothing lost silently.
    await a1.send_json({"type": "signal", "to": wb["peer"], "data": OFFER})
    error = await receive_type(a1, "error")
    assert error["code"] == "unavailable"
    # New joins are refused with a clear reason.
    ws = await cluster.session.ws_connect(one.ws_url)
    await ws.send_json(
        {"type": "join", "ticket": mint_ticket(SECRET, sprint="1", user_id="n", name="n")}
    )
    code, reason = await receive_close_with_reason(ws)
    await ws.close()
    assert code == 1013
    assert "broker" in reason
    async with cluster.session.get(f"{one.http_url}/healthz") as response:
        assert (await response.json())["status"].startswith("degraded")
    # a2 leaves while Redis is away; b's instance cannot hear it yet.
    await a2.close()
    assert (await receive_type(a1, "peer-left"))["peer"] == wa2["peer"]

    redis_server.start()  # same port, empty: everything must be rebuilt
    # b learns that a2 left (sync after reconnection), and nobody else disappears.
    left = await receive_type(b, "peer-left", timeout=15)
    assert left["peer"] == wa2["peer"]
    deadline = time.monotonic() + 15
    while True:
        ws = await cluster.session.ws_connect(two.ws_url)
        await ws.send_json(
            {"type": "join", "ticket": mint_ticket(SECRET, sprint="1", user_id="c", name="c")}
        )
        message = await ws.receive(timeout=5)
        if message.type is aiohttp.WSMsgType.TEXT:
            welcome = json.loads(message.data)
            break
        await ws.close()
        assert time.monotonic() < deadline, "joins still refused after Redis came back"
        await asyncio.sleep(0.5)
    assert welcome["type"] == "welcome"
    assert sorted(p["peer"] for p in welcome["peers"]) == sorted([wa1["peer"], wb["peer"]])
    assert (await receive_type(a1, "peer-joined"))["peer"] == welcome["peer"]
    assert (await receive_type(b, "peer-joined"))["peer"] == welcome["peer"]
    await a1.send_json({"type": "signal", "to": wb["peer"], "data": OFFER})
    assert (await receive_type(b, "signal"))["from"] == wa1["peer"]
    # Once both instances have settled (a missing instance would now count as dead), still
    # nobody was declared dead: no peer-left, nothing in the logs.
    for instance in (one, two):
        instance.wait_for_log("broker-settled", after=instance.log_text().find("broker-recovered"))
    await expect_nothing_pending(a1)
    await expect_nothing_pending(b)
    for instance in (one, two):  # (read before stopping: a stopped instance is lost to the other)
        log = instance.log_text()
        assert log.count("WARNING broker-unavailable") == 1, log
        assert "broker-recovered" in log
        assert "instance-lost" not in log, log


async def test_simultaneous_first_joins_on_two_instances_always_meet(cluster: Cluster) -> None:
    """Two peers open a new sprint at the same moment on two instances: each must learn of the
    other (welcome or peer-joined) and reach it. Found by the cluster benchmark: a SUBSCRIBE not
    yet processed by Redis let both miss each other's join for good."""
    # 200 joins at once from one address (as from behind a proxy without --trusted-proxy).
    one, two = cluster.start(2, args=("--max-unjoined-per-address", "1000"))
    sprints = [f"race-{n}" for n in range(200)]
    pairs = await asyncio.gather(
        *(
            asyncio.gather(cluster.join(one, sprint, "a"), cluster.join(two, sprint, "b"))
            for sprint in sprints
        )
    )

    async def next_signal(ws: aiohttp.ClientWebSocketResponse) -> dict:
        while True:  # a peer-joined may come first, depending on which join landed first
            message = await receive_json(ws)
            if message["type"] != "peer-joined":
                return message

    for (a, wa), (b, wb) in pairs:
        await a.send_json({"type": "signal", "to": wb["peer"], "data": {"n": 1}})
        assert await next_signal(b) == {"type": "signal", "from": wa["peer"], "data": {"n": 1}}
        await b.send_json({"type": "signal", "to": wa["peer"], "data": {"n": 2}})
        assert await next_signal(a) == {"type": "signal", "from": wb["peer"], "data": {"n": 2}}


def health(http_url: str) -> dict:
    with urllib.request.urlopen(f"{http_url}/healthz", timeout=5) as response:
        return dict(json.load(response))


async def close_code_or_pong(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    """The close code if the server closed ``ws``, None if it still answers a ping."""
    with contextlib.suppress(ConnectionError):
        await ws.send_json({"type": "ping"})
    while True:
        message = await ws.receive(timeout=10)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            return ws.close_code
        if message.type is aiohttp.WSMsgType.TEXT and json.loads(message.data)["type"] == "pong":
            return None


async def test_instances_sharing_a_port_split_the_peers_and_still_connect_them(
    cluster: Cluster,
) -> None:
    shared = free_port()
    own = [free_port(), free_port()]
    one, two = (
        cluster.start(1, port=shared, args=("--reuse-port", "--instance-port", str(port)))[0]
        for port in own
    )
    assert one.ws_url == two.ws_url
    for port in own:  # the shared port may have answered from the other instance
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
    pairs = []
    for sprint in range(20):  # 40 sockets: all on one listener would be a 1 in 2**39 chance
        a, wa = await cluster.join(one, f"s{sprint}", "a")
        b, wb = await cluster.join(one, f"s{sprint}", "b")
        assert [p["peer"] for p in wb["peers"]] == [wa["peer"]]
        assert (await receive_type(a, "peer-joined"))["peer"] == wb["peer"]
        pairs.append((a, wa, b, wb))
    for a, wa, b, wb in pairs:
        await b.send_json({"type": "signal", "to": wa["peer"], "data": OFFER})
        expected = {"type": "signal", "from": wb["peer"], "data": OFFER}
        assert await receive_type(a, "signal") == expected

    # Each instance answers on its own --instance-port, and the kernel gave both some sockets.
    first, second = (health(f"http://127.0.0.1:{port}") for port in own)
    assert first["instance"] != second["instance"]
    assert first["connections"] + second["connections"] == 40
    assert min(first["connections"], second["connections"]) > 0

    # Stopping one instance (a rolling restart) leaves the port served by the other: exactly its
    # peers are told to go elsewhere (1001), the rest stay, and new joins still work.
    assert one.stop() == 0
    sockets = [ws for a, _, b, _ in pairs for ws in (a, b)]
    going_away = [code for code in await asyncio.gather(*map(close_code_or_pong, sockets)) if code]
    assert going_away == [1001] * first["connections"]
    assert health(two.http_url) == health(f"http://127.0.0.1:{own[1]}")
    assert health(two.http_url)["connections"] == second["connections"]
    c, _ = await cluster.join(two, "after", "c")
    d, wd = await cluster.join(two, "after", "d")
    assert len(wd["peers"]) == 1
    for ws in (c, d, *sockets):
        await ws.close()


async def test_a_hung_redis_loses_nothing_silently_and_delivers_nothing_late(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """Redis stops answering (SIGSTOP): every signal sent meanwhile to a peer on the other
    instance is reported back as not delivered, and none of them arrives once Redis is back."""
    one, two = cluster.start(2)
    a, _ = await cluster.join(one, "1", "a")
    b, wb = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        for n in range(5):
            await a.send_json({"type": "signal", "to": wb["peer"], "data": {"n": n}})
        errors = [await receive_type(a, "error", timeout=20) for _ in range(5)]
        assert {error["code"] for error in errors} == {"unavailable"}
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    for instance in (one, two):
        await cluster.wait_until(instance, lambda health: health["status"] == "ok", timeout=30)
    await a.send_json({"type": "signal", "to": wb["peer"], "data": {"n": "after"}})
    while True:  # presence may have flapped meanwhile; the first signal b gets is the new one
        message = await receive_json(b, timeout=20)
        if message["type"] == "signal":
            break
    assert message["data"] == {"n": "after"}


async def test_a_pair_across_instances_is_counted_once_and_leaves_the_gauge_with_its_peer(
    cluster: Cluster,
) -> None:
    """Both sides report, each to its own instance: the sums over instances count the pair once,
    and the gauge drops when the peer on the other instance leaves (no heartbeat sweep)."""
    one, two = cluster.start(2, args=("--heartbeat", "0"))
    a, wa = await cluster.join(one, "1", "a")
    b, wb = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    relayed = {"type": "link", "outcome": "relayed", "path": "signaling"}
    await a.send_json({**relayed, "peer": wb["peer"]})
    await b.send_json({**relayed, "peer": wa["peer"]})

    def figures(instance: SignalingProcess) -> dict[str, float]:
        with urllib.request.urlopen(f"{instance.http_url}/metrics", timeout=5) as response:
            text = response.read().decode()
        found = {}
        for line in text.splitlines():
            for name in ('link_outcomes_total{path="relay"}', "relayed_pairs"):
                if line.startswith(f"watercooler_{name} "):
                    found[name] = float(line.split()[1])
        return found

    async def sums() -> tuple[float, float]:
        both = [figures(one), figures(two)]
        outcomes = sum(f.get('link_outcomes_total{path="relay"}', 0.0) for f in both)
        return outcomes, sum(f.get("relayed_pairs", 0.0) for f in both)

    # Both reports were read once each socket answers a ping.
    for ws in (a, b):
        await ws.send_json({"type": "ping"})
        await receive_type(ws, "pong")
    assert await sums() == (1.0, 1.0)
    owner, other_ws = (one, b) if wa["peer"] < wb["peer"] else (two, a)
    assert figures(owner)["relayed_pairs"] == 1.0
    await other_ws.close()
    await waiting.wait_until(
        lambda: figures(owner)["relayed_pairs"] == 0.0, what="the gauge to drop the departed pair"
    )
