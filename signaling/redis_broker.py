"""The Redis broker: several signaling instances serving the same sprints.

This module holds the connection to Redis and answers the :class:`Broker` interface: it connects,
reconnects with capped backoff, and turns joins, leaves, frames and board events into commands.
The rest is done by its parts:

- ``signaling.redis_wire``: the keys and channels, and what is written to them (no I/O);
- ``signaling.redis_writer``: the outbox sent to Redis in batches, and who hears of a command
  that was not sent (decided in ``signaling.outbox``, no I/O);
- ``signaling.redis_reader``: the subscriptions, and what arrives on them handed to the listener,
  late frames dropped;
- ``signaling.redis_presence``: this instance's expiring key, its members in the directories,
  other instances' deaths (decided in ``signaling.liveness``, no I/O), and the reading of Redis's
  clock (``signaling.redis_clock``, no I/O).

A join waits for Redis (``enter_sprint``, ``announce_join``: it is refused when Redis cannot take
it), and so does ``sprint_size``; leaves, frames and board events queue their commands and return.
This module must not write or parse messages itself, nor make a leave, a frame or a board event
wait for Redis.

A frame is stamped with the time it was sent on Redis's clock (``signaling.redis_clock``: each
instance learns its offset from Redis's ``TIME`` with every presence renewal), so instances whose
own clocks differ still agree on its age. One that arrives older than ``OUTBOX_MAX_AGE`` (Redis
stalled while it was on its way) is dropped, and its sender's instance gets an ``!undelivered``
notice: the sender hears ``unavailable``, as for a frame that could not be sent at all. An
instance whose clock is far from Redis's says so in its log (``clock-skew``), every ten minutes
while it lasts.

When Redis goes away, local peers keep talking to each other, joins are refused
(:class:`BrokerUnavailable`), and it is logged once. When it is back, this instance re-registers its
peers and publishes a ``sync`` of each sprint, so the others drop peers that left meanwhile. An
instance only declares another dead after being connected for a full TTL, so a restarted Redis
(which forgets every key) does not make instances drop each other's peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from signaling.broker import Broker, BrokerListener, BrokerUnavailable
from signaling.logs import log_event
from signaling.outbox import EVENT, LEAVE, NOTICE, PEER, Command
from signaling.redis_clock import ClockOffset
from signaling.redis_drops import Drops, raised_at
from signaling.redis_presence import RedisPresence
from signaling.redis_reader import RedisReader
from signaling.redis_wire import (
    Names,
    event_notice,
    member_json,
    member_notice,
    peer_frame,
    undelivered_notice,
)
from signaling.redis_writer import RedisWriter
from signaling.rooms import Member

REDIS_CONNECTIONS: Final = 32  # commands in flight per instance; more wait for a free one


class RedisBroker(Broker):
    """Pub/sub delivery and expiring presence through one Redis server."""

    def __init__(
        self,
        url: str,
        *,
        presence_ttl: float = 5.0,
        prefix: str = "wc",
        instance: str | None = None,
    ) -> None:
        self.url = url
        self.instance = instance or secrets.token_hex(6)
        self.presence_ttl = presence_ttl
        self.prefix = prefix
        self._names = Names(prefix)
        self._redis: aioredis.Redis | None = None
        self._listening: aioredis.Redis | None = None  # the pub/sub connection's client
        self._pubsub: Any = None
        self._available = False
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._writer = RedisWriter()
        self._local: dict[str, Member] = {}
        self._sprints: set[str] = set()
        self._clock = ClockOffset()
        self._drops = Drops()
        self._reader = RedisReader(self._names, self.instance, self._clock, self._drops)
        self._presence = RedisPresence(
            self._names, self.instance, presence_ttl, self._clock, self._enqueue, self._drops
        )
        self._first_connect = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._available

    @property
    def dropped_messages(self) -> Mapping[tuple[str, str], int]:
        return self._drops.counts

    async def start(self, listener: BrokerListener) -> None:
        self._writer.listener = self._reader.listener = self._presence.listener = listener
        self._supervisor = asyncio.create_task(self._supervise())
        # Give Redis a moment so a healthy start accepts joins at once; never block start-up.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_connect.wait(), 3.0)

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        # Let queued leave notices go out before the connection is dropped.
        deadline = time.monotonic() + 2.0
        while self._available and len(self._writer) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        redis = self._redis
        if redis is not None and self._available:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(2):
                    pipe = redis.pipeline(transaction=False)
                    for member in self._local.values():
                        pipe.hdel(self._names.members_key(member.sprint), member.peer)
                        pipe.publish(
                            self._names.sprint_channel(member.sprint),
                            member_notice("leave", self.instance, member),
                        )
                    pipe.delete(self._names.instance_key(self.instance))
                    await pipe.execute()
        await self._disconnect()

    async def _disconnect(self) -> None:
        pubsub, listening, redis = self._pubsub, self._listening, self._redis
        self._pubsub = self._listening = self._redis = None
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
        for client in (listening, redis):
            with contextlib.suppress(Exception):
                if client is not None:
                    await client.aclose()

    async def _supervise(self) -> None:
        """Stay connected: serve until Redis fails, or one of the reader, writer and presence
        tasks ends, then connect again with capped backoff (resubscribing, re-registering and
        resyncing, as after any outage). Only ``close()`` ends this."""
        delay = 0.2
        while not self._closing:
            try:
                await self._connect_and_serve()
            except asyncio.CancelledError:
                raise
            except _CONNECTION_ERRORS as exc:
                self._mark_unavailable(exc)
            except Exception as exc:  # a bug: say so, and serve again on a new connection
                if not isinstance(exc, TaskEnded):
                    _log_failure("connection", exc)
                self._mark_unavailable(exc)
            await self._disconnect()
            if self._closing:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            if self._available:
                delay = 0.2

    def _mark_unavailable(self, exc: BaseException) -> None:
        self._writer.give_back_all("broker unavailable")
        if self._available or not self._first_connect.is_set():
            log_event(
                "broker-unavailable",
                logging.WARNING,
                broker="redis",
                url=_redacted(self.url),
                error=f"{type(exc).__name__}: {exc}"[:200],
                effect="new joins refused; local peers keep working; retrying",
            )
        self._available = False
        self._first_connect.set()

    async def _connect_and_serve(self) -> None:
        # A blocking pool: a burst of joins waits its turn for one of a few connections. The
        # default pool refuses outright past 100 commands in flight ("Too many connections"),
        # which turned part of a join storm into 1013 refusals (tests/signaling/test_cluster.py).
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=REDIS_CONNECTIONS,
            timeout=5.0,
            socket_connect_timeout=1.0,
            socket_timeout=5.0,
            decode_responses=True,
            encoding_errors="replace",  # a directory entry that is not UTF-8 is dropped, later
        )
        redis = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
        self._redis = redis
        await redis.ping()
        sent = time.time()
        answer = await redis.time()
        self._presence.read_clock(sent, time.time(), answer)
        # Subscribe confirmations are wanted: entering a sprint waits for its own (enter_sprint).
        # Its own connection, that hands over bytes: what arrives is decoded and checked by
        # signaling.redis_wire, not by redis-py, whose decoding error would end the reader.
        listening = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=1.0, socket_timeout=5.0, decode_responses=False
        )
        self._listening = listening
        pubsub = listening.pubsub(ignore_subscribe_messages=False)
        self._reader.connected()
        self._pubsub = pubsub
        channels = [self._names.instance_channel(self.instance)]
        channels += [self._names.sprint_channel(s) for s in self._sprints]
        await pubsub.subscribe(*channels)
        await self._register_everything(redis)
        was_down = not self._available and self._first_connect.is_set()
        self._available = True
        self._presence.connected()
        self._first_connect.set()
        log_event(
            "broker-recovered" if was_down else "broker-connected",
            broker="redis",
            url=_redacted(self.url),
            instance=self.instance,
            peers=len(self._local),
            sprints=len(self._sprints),
        )
        tasks = [
            asyncio.create_task(self._reader.run(pubsub), name="reader"),
            asyncio.create_task(self._writer.run(redis), name="writer"),
            asyncio.create_task(self._presence.run(redis), name="presence"),
        ]
        try:
            # None of them ends while the connection lasts: whichever does, for whatever
            # reason, ends this connection (a reader gone quiet would lose every notice).
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            _raise_end(done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _register_everything(self, redis: aioredis.Redis) -> None:
        """After (re)connecting: our presence, our members, and a sync of each of our sprints."""
        await self._presence.register(redis)
        for sprint in list(self._sprints | self._writer.unsynced):
            await self._presence.resync(redis, sprint, self._local)
        self._writer.unsynced.clear()

    # --- the broker interface -----------------------------------------------------------------

    async def enter_sprint(self, sprint: str) -> list[Member]:
        redis, pubsub = self._require_connection()
        try:
            if sprint not in self._sprints:
                await self._reader.subscribe(pubsub, self._names.sprint_channel(sprint))
                self._sprints.add(sprint)
            return await self._presence.live_members(redis, sprint)
        except (RedisError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"broker unavailable: {exc}") from None

    async def announce_join(self, member: Member) -> None:
        redis, _ = self._require_connection()
        self._local[member.peer] = member
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.hset(self._names.members_key(member.sprint), member.peer, member_json(member))
            pipe.publish(
                self._names.sprint_channel(member.sprint),
                member_notice("join", self.instance, member),
            )
            await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"broker unavailable: {exc}") from None

    def announce_leave(self, member: Member, last_in_sprint: bool) -> None:
        if self._local.get(member.peer) == member:
            del self._local[member.peer]
        queued = self._enqueue(
            Command(
                LEAVE,
                (
                    ("hdel", self._names.members_key(member.sprint), member.peer),
                    (
                        "publish",
                        self._names.sprint_channel(member.sprint),
                        member_notice("leave", self.instance, member),
                    ),
                ),
                time.monotonic(),
                sprint=member.sprint,
            )
        )
        if not queued:
            self._writer.unsynced.add(member.sprint)
        if last_in_sprint:
            self._stop_listening(member.sprint)

    def moved_away(self, member: Member, last_in_sprint: bool) -> None:
        if self._local.get(member.peer) == member:
            del self._local[member.peer]
        if last_in_sprint:
            self._stop_listening(member.sprint)

    def _stop_listening(self, sprint: str) -> None:
        self._sprints.discard(sprint)
        pubsub = self._pubsub
        if pubsub is not None and self._available:
            task = asyncio.create_task(self._unsubscribe(pubsub, sprint))
            task.add_done_callback(_ignore_result)

    async def _unsubscribe(self, pubsub: Any, sprint: str) -> None:
        # Not if a join re-entered the sprint meanwhile (or is waiting for its SUBSCRIBE).
        if sprint not in self._sprints and not self._reader.subscribing(
            self._names.sprint_channel(sprint)
        ):
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await pubsub.unsubscribe(self._names.sprint_channel(sprint))

    def send_to_peer(self, member: Member, text: str, *, sender: str) -> bool:
        channel = self._names.instance_channel(member.instance)
        return self._enqueue(
            Command(
                PEER,
                (
                    (
                        "publish",
                        channel,
                        peer_frame(member.peer, time.time() + self._clock.offset, text),
                    ),
                ),
                time.monotonic(),
                sender=sender,
            )
        )

    def report_undelivered(self, instance: str, sender: str) -> None:
        self._reader.reported(instance)
        channel = self._names.instance_channel(instance)
        self._enqueue(
            Command(NOTICE, (("publish", channel, undelivered_notice(sender)),), time.monotonic())
        )

    def publish_to_sprint(self, sprint: str, text: str) -> None:
        notice = event_notice(self.instance, text)
        if not self._enqueue(
            Command(
                EVENT, (("publish", self._names.sprint_channel(sprint), notice),), time.monotonic()
            )
        ):
            self._writer.give_back(
                [Command(EVENT, (), time.monotonic())], "the broker is unavailable or backed up"
            )

    async def sprint_size(self, sprint: str) -> int | None:
        redis = self._redis
        if redis is None or not self._available:
            return None
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            return int(await redis.hlen(self._names.members_key(sprint)))
        return None

    # --- helpers ------------------------------------------------------------------------------

    def _enqueue(self, command: Command) -> bool:
        """Queue ``command`` for the writer; False if Redis is away or the queue is full."""
        if not self._available:
            return False
        return self._writer.put(command)

    def _require_connection(self) -> tuple[aioredis.Redis, Any]:
        if not self._available or self._redis is None or self._pubsub is None:
            raise BrokerUnavailable("broker (Redis) unavailable: try again in a few seconds")
        return self._redis, self._pubsub


_CONNECTION_ERRORS: Final = (RedisError, OSError, TimeoutError, ConnectionError)


class TaskEnded(RuntimeError):
    """The reader, writer or presence task ended other than by losing the connection."""


def _raise_end(done: set[asyncio.Task[None]]) -> None:
    """Why the first of ``done`` ended: a lost connection as raised, anything else logged
    (``broker-task-ended``) and raised as :class:`TaskEnded`."""
    task = min(done, key=lambda t: t.get_name())
    error = None if task.cancelled() else task.exception()
    if isinstance(error, _CONNECTION_ERRORS):
        raise error
    if error is None:
        why = "cancelled" if task.cancelled() else "returned"
        _log_failure(task.get_name(), TaskEnded(why))
        raise TaskEnded(f"the {task.get_name()} task {why}")
    _log_failure(task.get_name(), error)
    raise TaskEnded(f"the {task.get_name()} task failed: {type(error).__name__}") from error


def _log_failure(part: str, error: BaseException) -> None:
    """``part`` of the broker stopped on ``error``: say so, with where it was raised."""
    log_event(
        "broker-task-ended",
        logging.ERROR,
        broker="redis",
        task=part,
        error=f"{type(error).__name__}: {error}"[:200],
        where=raised_at(error),
        effect="reconnecting to Redis: subscriptions, presence and members renewed",
    )


def _redacted(url: str) -> str:
    """The URL without a password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def _ignore_result(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
