"""An instance's subscriptions on Redis, seen from outside: what happens to signals while one
instance is not subscribed (its pub/sub connection dropped), and which sprints it keeps listening
to once its peers have gone, however they went.

Two real ``python -m signaling`` instances on a private ``redis-server``; the pub/sub connection
of one of them is killed in Redis (``CLIENT KILL``), which is what a network blip or Redis's
pub/sub output-buffer limit does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from tests.signaling.conftest import receive_close_with_reason, receive_json, receive_type
from tests.signaling.test_cluster import Cluster
from tests.support import waiting
from tests.support.processes import SignalingProcess
from tests.support.redis import RedisServer

SEND_EVERY = 0.02  # seconds between two signals of the steady flow


@pytest.fixture
async def cluster(redis_server: RedisServer) -> AsyncIterator[Cluster]:
    cluster = Cluster(redis_server)
    yield cluster
    await cluster.close()


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of the sockets process ``pid`` holds (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def pubsub_clients(client: redis.Redis, instance: SignalingProcess) -> list[int]:
    """Redis's ids of the pub/sub connections ``instance`` holds."""
    ports = local_ports(instance.process.pid)
    return [
        int(entry["id"])
        for entry in client.client_list()
        if "P" in entry["flags"] and int(entry["addr"].rsplit(":", 1)[1]) in ports
    ]


async def test_signals_to_an_instance_that_is_not_subscribed_are_reported_never_lost(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """While the receiving instance's subscription is down, every signal sent to its peer is
    either delivered or answered with ``unavailable`` to its sender; the relay then resumes."""
    one, two = cluster.start(2)
    a, wa = await cluster.join(one, "1", "a")
    b, _ = await cluster.join(two, "1", "b")
    await receive_type(a, "peer-joined")
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    delivered: list[int] = []
    unavailable = 0
    sent = 0

    async def read_deliveries() -> None:
        while True:
            message = await receive_json(a, timeout=60)
            if message["type"] == "signal":
                delivered.append(message["data"]["n"])

    async def read_errors() -> None:
        nonlocal unavailable
        while True:
            message = await receive_json(b, timeout=60)
            if message["type"] == "error":
                assert message["code"] == "unavailable", message
                unavailable += 1

    async def send() -> None:
        nonlocal sent
        while True:
            await b.send_json({"type": "signal", "to": wa["peer"], "data": {"n": sent}})
            sent += 1
            await asyncio.sleep(SEND_EVERY)

    tasks = [asyncio.create_task(job()) for job in (read_deliveries, read_errors, send)]
    try:
        await waiting.wait_until(lambda: len(delivered) >= 10, what="the relay to flow")
        killed = pubsub_clients(client, one)
        assert len(killed) == 1, client.client_list()
        client.execute_command("CLIENT", "KILL", "ID", str(killed[0]))
        await waiting.wait_until(
            lambda: pubsub_clients(client, one) not in ([], killed),
            what="instance one to subscribe again",
        )
        resubscribed_at = sent
        await waiting.wait_until(
            lambda: any(n >= resubscribed_at for n in delivered),
            what="the relay to resume after the new subscription",
        )
        tasks.pop().cancel()  # the sender stops; the rest is read
        try:
            await waiting.wait_until(
                lambda: len(delivered) + unavailable == sent,
                what="each signal to be delivered or reported",
            )
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}: sent {sent}, delivered {len(delivered)}, unavailable {unavailable}"
            ) from None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        client.close()
    assert len(set(delivered)) == len(delivered), "a signal was delivered twice"
    assert delivered == sorted(delivered), "signals were delivered out of order"
    assert unavailable > 0, "the subscription was down while nothing was sent"
    assert "WARNING broker-frames-unheard frames=" in two.log_text()


async def test_an_instance_stops_listening_to_a_sprint_whose_lone_peer_resumed_elsewhere(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """A lone peer resumes on another instance (its old socket closes with 4000) and then
    leaves: neither instance is still subscribed to that sprint's channel."""
    one, two = cluster.start(2)
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    channel = "wc:sprint:7"

    def listeners() -> int:
        return int(dict(client.pubsub_numsub(channel))[channel])

    try:
        b, wb = await cluster.join(one, "7", "b")
        assert listeners() == 1
        b2, wb2 = await cluster.join(two, "7", "b", resume=wb["resume"])
        assert wb2["peer"] == wb["peer"]
        code, _ = await receive_close_with_reason(b)
        assert code == 4000
        await cluster.wait_until(one, lambda health: health["connections"] == 0)
        await waiting.wait_until(
            lambda: listeners() == 1, what="only the instance holding the peer to listen"
        )
        assert (await cluster.health(one))["rooms"] == 0
        await b2.close()
        await waiting.wait_until(lambda: listeners() == 0, what="nobody to listen to the sprint")
        for instance in (one, two):
            assert (await cluster.health(instance))["rooms"] == 0
        # The sprint is entered again as if new, on the instance the peer first left.
        c, wc = await cluster.join(one, "7", "c")
        assert wc["peers"] == []
        assert listeners() == 1
        await c.close()
    finally:
        client.close()


async def test_a_normal_leave_of_the_last_peer_stops_listening(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """The plain case, for comparison: the sprint's last peer on an instance leaves."""
    (one,) = cluster.start(1)
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        a, _ = await cluster.join(one, "8", "a")
        assert dict(client.pubsub_numsub("wc:sprint:8"))["wc:sprint:8"] == 1
        await a.close()
        await waiting.wait_until(
            lambda: dict(client.pubsub_numsub("wc:sprint:8"))["wc:sprint:8"] == 0,
            what="the instance to unsubscribe",
        )
    finally:
        client.close()


async def test_an_instance_a_peer_resumed_away_from_forgets_it(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    """A peer resumes on another instance while the first keeps other peers of its sprint: when
    the first instance shuts down, it withdraws its own peers from the sprint's directory and
    announces their leave, not the peer that moved (which the other instance holds)."""
    one, two = cluster.start(2)
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        stays, wst = await cluster.join(one, "9", "stays")
        mover, wm = await cluster.join(one, "9", "mover")
        await receive_type(stays, "peer-joined")
        watcher, ww = await cluster.join(two, "9", "watcher")
        moved, _ = await cluster.join(two, "9", "mover", resume=wm["resume"])
        code, _ = await receive_close_with_reason(mover)
        assert code == 4000
        await cluster.wait_until(one, lambda health: health["connections"] == 1)
        assert one.stop() == 0
        for socket in (watcher, moved):
            assert (await receive_type(socket, "peer-left"))["peer"] == wst["peer"]
        assert client.hgetall("wc:members:9").keys() == {wm["peer"], ww["peer"]}
    finally:
        client.close()
