"""An instance's subscriptions on Redis, seen from outside: what happens to signals while one
instance is not subscribed (its pub/sub connection dropped).

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

from tests.signaling.conftest import receive_json, receive_type
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
