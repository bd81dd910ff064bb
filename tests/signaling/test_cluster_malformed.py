"""What an instance does with messages on Redis that no instance wrote: it drops them, counts them,
says so in its event_log, and keeps relaying.

Anything on Redis may come from another version of the server, a broken deployment or anyone with
access to Redis. Each malformed message below is published straight onto the channels a real
``python -m signaling`` instance listens to (its own and its sprint's) on a private
``redis-server``; after each one a signal still crosses between two peers on two instances. The
last two tests drive the broker in this process, to reach what no published message can: a
listener that raises, and a reader that stops.
"""

from __future__ import annotations

import io
import json
import re
import time
import urllib.request
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis
import redis.asyncio as aioredis

from signaling import logs
from signaling.redis_broker import RedisBroker
from signaling.redis_wire import peer_frame
from signaling.rooms import Member
from signaling.tickets import mint_ticket
from tests.support.processes import SignalingProcess
from tests.support.redis import RedisServer
from tests.support.signaling_log import events
from tests.support.waiting import wait_until
from tests.support.websocket import client_session, receive_type

SECRET = "malformed-secret-" + "m" * 20

MEMBER = {
    "peer": "x1",
    "sprint": "1",
    "user_id": "u",
    "name": "x",
    "connection": 1,
    "instance": "elsewhere",
}


def sprint_notice(**fields: object) -> bytes:
    return json.dumps({"op": "join", "from": "elsewhere", "member": MEMBER, **fields}).encode()


# (what, on which channel, the message, the cause it is counted under). "{peer}" is the peer on
# the listening instance, so that a frame would reach a real socket.
MALFORMED = [
    ("sync-without-from", "sprint", json.dumps({"op": "sync", "members": []}).encode(), "bad-from"),
    ("op-a-list", "sprint", sprint_notice(op=["join"]), "bad-op"),
    (
        "huge-number",
        "sprint",
        sprint_notice().replace(b'"connection": 1', b'"connection": 1e400'),
        "not-json",
    ),
    ("json-array", "sprint", b'["join"]', "not-an-object"),
    ("not-json", "sprint", b"\x00\x01 no json here", "not-json"),
    ("not-utf8-notice", "sprint", b'{"op":"event","from":"\xff\xfe"}', "not-utf8"),
    ("unknown-op", "sprint", sprint_notice(op="shout"), "unknown-op"),
    ("member-of-another-instance", "sprint", sprint_notice(**{"from": "other"}), "bad-member"),
    ("stamp-bad-character", "instance", "{peer}\n17²\n{}".encode(), "bad-stamp"),
    ("stamp-huge", "instance", ("{peer}\n" + "9" * 400 + "\n{}").encode(), "bad-stamp"),
    ("not-utf8-frame", "instance", b"{peer}\n1700000000.000\n\xc3(", "not-utf8"),
    ("unknown-kind", "instance", b"\x1b[2J not a frame", "unknown-kind"),
]
SOURCES = {"sprint": "sprint-channel", "instance": "instance-channel"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with client_session() as session:
        yield session


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)  # bytes in, bytes out
    yield client
    await client.aclose()


async def join(
    http: aiohttp.ClientSession, server: SignalingProcess, user: str
) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    ws = await http.ws_connect(server.ws_url)
    await ws.send_json(
        {"type": "join", "ticket": mint_ticket(SECRET, sprint="1", user_id=user, name=user)}
    )
    return ws, (await receive_type(ws, "welcome"))["peer"]


def dropped(server: SignalingProcess) -> dict[tuple[str, str], float]:
    """``watercooler_broker_dropped_total`` of ``server``, by (source, cause)."""
    with urllib.request.urlopen(f"{server.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {}
    for match in re.finditer(r"^watercooler_broker_dropped_total\{(.*)\} (\S+)$", text, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match[1]))
        found[labels["source"], labels["cause"]] = float(match[2])
    return found


@pytest.mark.parametrize(
    ("channel", "message", "cause"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_a_malformed_message_is_dropped_counted_logged_and_signals_still_cross(
    redis_server: RedisServer,
    http: aiohttp.ClientSession,
    redis_client: aioredis.Redis,
    channel: str,
    message: bytes,
    cause: str,
) -> None:
    one = SignalingProcess(SECRET, "--broker", redis_server.url).wait_ready()
    two = SignalingProcess(SECRET, "--broker", redis_server.url).wait_ready()
    try:
        a, a_peer = await join(http, one, "a")
        b, b_peer = await join(http, two, "b")
        await receive_type(a, "peer-joined")
        entry = await redis_client.hget("wc:members:1", b_peer)
        assert entry is not None
        name = {"sprint": "wc:sprint:1", "instance": f"wc:to:{json.loads(entry)['instance']}"}[
            channel
        ]
        message = message.replace(b"{peer}", b_peer.encode())
        assert await redis_client.publish(name, message) >= 1
        # Published before the signals below: each reader has read it by the time a signal
        # reaches it (one connection, in order), and relays on.
        await a.send_json({"type": "signal", "to": b_peer, "data": {"n": 1}})
        assert (await receive_type(b, "signal"))["data"] == {"n": 1}
        await b.send_json({"type": "signal", "to": a_peer, "data": {"n": 2}})
        assert (await receive_type(a, "signal"))["data"] == {"n": 2}
        # A sprint's notices are still read: a peer joining later on one is seen on two.
        c, c_peer = await join(http, one, "c")
        assert (await receive_type(b, "peer-joined"))["peer"] == c_peer

        counted = {(SOURCES[channel], cause): 1.0}
        assert dropped(two) == counted
        # A sprint's channel reaches both instances; two's own channel, two only.
        assert dropped(one) == (counted if channel == "sprint" else {})
        for ws in (a, b, c):
            await ws.close()
    finally:
        one_log, two_log = one.output(), two.output()

    (line,) = events(two_log, "broker-message-dropped")
    assert (line["source"], line["channel"], line["cause"]) == (SOURCES[channel], name, cause)
    shown = message.decode(errors="backslashreplace")
    if len(message) <= 120:
        assert line["excerpt"] == shown
    else:  # bounded, saying by how much
        assert line["excerpt"] == f"{shown[:120]}...(+{len(message) - 120} bytes)"
    assert "\x1b" not in two_log  # an escape sequence is written escaped, never raw
    assert len(events(one_log, "broker-message-dropped")) == (channel == "sprint")
    for log in (one_log, two_log):
        assert "Traceback" not in log
        assert "broker-unavailable" not in log  # no reconnection was needed


async def test_a_directory_entry_that_is_no_member_does_not_stop_joins(
    redis_server: RedisServer, http: aiohttp.ClientSession, redis_client: aioredis.Redis
) -> None:
    """A sprint's directory is read when its first local peer joins: entries that are not
    members are skipped and counted, and the join goes through to the members that are."""
    one = SignalingProcess(SECRET, "--broker", redis_server.url).wait_ready()
    two = SignalingProcess(SECRET, "--broker", redis_server.url).wait_ready()
    try:
        a, _ = await join(http, one, "a")
        await redis_client.hset(
            "wc:members:1",
            mapping={"junk1": b"\xff\xfe", "junk2": b"[1]", "junk3": json.dumps({"peer": "x"})},
        )
        b, _ = await join(http, two, "b")
        assert (await receive_type(a, "peer-joined"))["user"]["id"] == "b"
        assert dropped(two) == {
            ("directory", "not-json"): 1,  # not UTF-8: read as U+FFFD, which is no JSON
            ("directory", "not-an-object"): 1,
            ("directory", "bad-member"): 1,
        }
        assert dropped(one) == {}  # it read the directory before the junk was there
        await a.close()
        await b.close()
    finally:
        two_log = two.output()
        one.kill()
    lines = events(two_log, "broker-message-dropped")
    assert {line["cause"] for line in lines} == {"not-json", "not-an-object", "bad-member"}, lines
    assert {line["channel"] for line in lines} == {"wc:members:1"}
    assert {line["source"] for line in lines} == {"directory"}


class Listener:
    """What a signaling service would be told by its broker, recorded; a frame whose text is
    ``"raise"`` makes it raise, as a bug in handling one would."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, str]] = []

    def remote_joined(self, member: Member) -> None: ...

    def remote_left(self, member: Member) -> None: ...

    def remote_synced(self, sprint: str, instance: str, members: list[Member]) -> None: ...

    def instance_lost(self, instance: str) -> list[Member]:
        return []

    def deliver_to_peer(self, peer: str, text: str) -> None:
        if text == "raise":
            raise KeyError(peer)
        self.frames.append((peer, text))

    def arrived_late(self, text: str) -> None: ...

    def deliver_to_sprint(self, sprint: str, text: str) -> None: ...

    def undeliverable(self, sender: str) -> None: ...

    def known_instances(self) -> set[str]:
        return set()


@pytest.fixture
async def broker(redis_server: RedisServer) -> AsyncIterator[tuple[RedisBroker, Listener]]:
    broker = RedisBroker(redis_server.url, presence_ttl=2.0)
    listener = Listener()
    await broker.start(listener)
    assert broker.available
    yield broker, listener
    await broker.close()


async def send_frame(redis_client: aioredis.Redis, broker: RedisBroker, text: str) -> int:
    """Publish a frame for peer ``p1`` on ``broker``'s channel; how many heard it."""
    channel = f"wc:to:{broker.instance}"
    return int(await redis_client.publish(channel, peer_frame("p1", time.time(), text)))


async def test_a_message_whose_handling_raises_is_dropped_and_the_next_one_delivered(
    broker: tuple[RedisBroker, Listener], redis_client: aioredis.Redis, event_log: io.StringIO
) -> None:
    redis_broker, listener = broker
    assert await send_frame(redis_client, redis_broker, "raise") == 1
    assert await send_frame(redis_client, redis_broker, "after") == 1
    await wait_until(lambda: listener.frames == [("p1", "after")], what="the frame after")
    assert redis_broker.dropped_messages == {("instance-channel", "handler-error"): 1}
    logs.events.flush()
    (line,) = events(event_log.getvalue(), "broker-message-failed")
    assert line["error"] == "KeyError: 'p1'"
    assert line["where"].startswith("test_cluster_malformed.py:")
    assert line["channel"] == f"wc:to:{redis_broker.instance}"
    assert "Traceback" not in event_log.getvalue()


async def test_a_reader_that_stops_is_logged_and_the_broker_listens_again(
    broker: tuple[RedisBroker, Listener],
    redis_client: aioredis.Redis,
    redis_server: RedisServer,
    event_log: io.StringIO,
) -> None:
    """Nothing on Redis ends the reader any more; should it end all the same (here: every
    subscription dropped under it, so that redis-py stops listening), the broker says so and
    connects again, as after losing Redis, rather than going deaf."""
    redis_broker, listener = broker
    assert await send_frame(redis_client, redis_broker, "before") == 1
    await wait_until(lambda: listener.frames == [("p1", "before")], what="the first frame")
    await redis_broker._pubsub.unsubscribe()  # no message can do this: from inside, then

    # Frames published while nobody listens are lost (pub/sub keeps nothing): send once Redis
    # has the broker's channel subscribed again.
    await wait_until(lambda: not redis_broker.available, what="the broker to notice")
    channel = f"wc:to:{redis_broker.instance}"
    with redis.Redis.from_url(redis_server.url) as counting:
        await wait_until(
            lambda: counting.pubsub_numsub(channel) == [(channel.encode(), 1)],
            what="the broker to subscribe again",
        )
    assert await send_frame(redis_client, redis_broker, "again") == 1
    await wait_until(lambda: listener.frames[1:] == [("p1", "again")], what="a frame heard")
    logs.events.flush()
    (ended,) = events(event_log.getvalue(), "broker-task-ended")
    assert ended["task"] == "reader"
    assert "returned" in ended["error"]
    assert events(event_log.getvalue(), "broker-recovered")
