"""The Redis broker's presence: this instance's expiring key, its members in the sprints'
directories, and the other instances' deaths; with each renewal, a reading of Redis's clock.

This instance's key lives ``presence_ttl`` and is renewed every fifth of it. Another instance
whose key has gone missing is dead when ``signaling.liveness`` says so (not while a restarted
Redis may simply have forgotten it): its peers are dropped (the listener sends ``peer-left``) and
its directory entries removed.

Each renewal also asks Redis for its ``TIME``, so that frames are stamped and aged on the one
clock all instances share (``signaling.redis_clock``); a host whose clock is far from Redis's says
so in its log (``clock-skew``), at most every ``SKEW_LOG_INTERVAL`` while it lasts.

This module must not deliver frames or notices, nor queue anything but the removal of a dead
instance's directory entries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import redis.asyncio as aioredis

from signaling.broker import BrokerListener
from signaling.liveness import Liveness
from signaling.logs import log_event
from signaling.outbox import FORGET, Command
from signaling.redis_clock import ClockOffset, SkewLog, server_time
from signaling.redis_drops import DIRECTORY, Drops
from signaling.redis_wire import Malformed, Names, member_json, read_member, sync_notice
from signaling.rooms import Member


class RedisPresence:
    """This instance's presence and its view of the others'."""

    def __init__(
        self,
        names: Names,
        instance: str,
        presence_ttl: float,
        clock: ClockOffset,
        enqueue: Callable[[Command], bool],
        drops: Drops,
    ) -> None:
        self.listener: BrokerListener | None = None
        self._names = names
        self._instance = instance
        self._ttl = presence_ttl
        self._liveness = Liveness(presence_ttl)
        self._clock = clock
        self._enqueue = enqueue
        self._skew_log = SkewLog()
        self._drops = drops

    def connected(self) -> None:
        """A new connection: the others get a full TTL to show up before any is declared dead."""
        self._liveness.connected(time.monotonic())

    async def register(self, redis: aioredis.Redis) -> None:
        """Our presence key, after (re)connecting."""
        await redis.set(self._names.instance_key(self._instance), "1", px=int(self._ttl * 1000))

    async def resync(self, redis: aioredis.Redis, sprint: str, local: dict[str, Member]) -> None:
        """After (re)connecting: our members of ``sprint`` (of ``local``) in its directory, a sync
        of them for the others, and theirs for the listener."""
        members = [m for m in local.values() if m.sprint == sprint]
        key = self._names.members_key(sprint)
        directory = self._members(key, await redis.hgetall(key))
        stale = [
            peer
            for peer, m in directory.items()
            if m is not None and m.instance == self._instance and peer not in local
        ]
        pipe = redis.pipeline(transaction=False)
        if stale:
            pipe.hdel(key, *stale)
        for member in members:
            pipe.hset(key, member.peer, member_json(member))
        pipe.publish(
            self._names.sprint_channel(sprint),
            sync_notice(self._instance, members),
        )
        await pipe.execute()
        # What did the others do while we could not hear them? Re-read the members of each
        # instance that has registered again; one that has not yet is left alone (its own
        # sync will come), and the presence check drops it if it never does.
        by_instance: dict[str, list[Member]] = {}
        for other in self._members(key, await redis.hgetall(key)).values():
            if other is not None and other.instance != self._instance:
                by_instance.setdefault(other.instance, []).append(other)
        listener = self._require_listener()
        for instance, others in by_instance.items():
            listener.remote_synced(sprint, instance, others)

    async def run(self, redis: aioredis.Redis) -> None:
        """Renew our presence and read Redis's clock (one round trip); drop the peers of
        instances whose presence has expired."""
        liveness = self._liveness
        while True:
            pipe = redis.pipeline(transaction=False)
            pipe.set(self._names.instance_key(self._instance), "1", px=int(self._ttl * 1000))
            pipe.time()
            sent = time.time()
            _, answer = await pipe.execute()
            self.read_clock(sent, time.time(), answer)
            listener = self._require_listener()
            now = time.monotonic()
            for instance in listener.known_instances():
                if await redis.exists(self._names.instance_key(instance)):
                    liveness.present(instance)
                elif liveness.dead(instance, now):
                    self._declare_dead(instance)
            if liveness.newly_settled(now):
                # From now on a missing instance is a dead one (signaling.liveness).
                log_event(
                    "broker-settled",
                    instance=self._instance,
                    others=len(listener.known_instances()),
                )
            await asyncio.sleep(liveness.interval)

    def read_clock(self, sent: float, received: float, answer: tuple[int, int]) -> None:
        """Redis answered ``TIME``: keep the offset of its clock from ours, and say so if ours
        is far from it (at most every ``SKEW_LOG_INTERVAL`` while it lasts)."""
        clock = self._clock
        if not clock.reading(sent, received, server_time(answer)):
            return
        match self._skew_log.after(clock, time.monotonic()):
            case "skewed":
                log_event(
                    "clock-skew",
                    logging.WARNING,
                    instance=self._instance,
                    ahead_of_redis_s=round(clock.ahead, 2),
                    effect="frames between instances are timed on Redis's clock and still "
                    "delivered; tickets and hook tokens are judged on this host's clock: "
                    "synchronise it (NTP)",
                )
            case "resolved":
                log_event(
                    "clock-skew-resolved",
                    instance=self._instance,
                    ahead_of_redis_s=round(clock.ahead, 2),
                )

    def _declare_dead(self, instance: str) -> None:
        removed = self._require_listener().instance_lost(instance)
        log_event("instance-lost", logging.WARNING, instance=instance, peers=len(removed))
        for member in removed:
            self._enqueue(
                Command(
                    FORGET,
                    (("hdel", self._names.members_key(member.sprint), member.peer),),
                    time.monotonic(),
                )
            )

    async def live_members(self, redis: aioredis.Redis, sprint: str) -> list[Member]:
        """Members of ``sprint`` on other live instances; entries of dead ones are removed."""
        key = self._names.members_key(sprint)
        directory = self._members(key, await redis.hgetall(key))
        others = [m for m in directory.values() if m is not None and m.instance != self._instance]
        # Until we have been connected a full TTL, a missing key may just mean that instance has
        # not re-registered after a Redis restart: only then is a missing key proof of death.
        settled = self._liveness.settled(time.monotonic())
        alive: dict[str, bool] = {}
        for instance in {m.instance for m in others}:
            exists = bool(await redis.exists(self._names.instance_key(instance)))
            alive[instance] = exists or not settled
        dead = [m.peer for m in others if not alive[m.instance]]
        if dead:
            await redis.hdel(self._names.members_key(sprint), *dead)
        return [m for m in others if alive[m.instance]]

    def _members(self, key: str, directory: Mapping[Any, Any]) -> dict[Any, Member | None]:
        """A sprint's directory read from ``key``: peer -> member, None for an entry that is
        not one (dropped and counted)."""
        members: dict[Any, Member | None] = {}
        for peer, raw in directory.items():
            member = read_member(raw)
            if isinstance(member, Malformed):
                self._drops.malformed(DIRECTORY, key, member.cause, f"{peer} {raw}")
                members[peer] = None
            else:
                members[peer] = member
        return members

    def _require_listener(self) -> BrokerListener:
        assert self.listener is not None, "start() the broker first"
        return self.listener
