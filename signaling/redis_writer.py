"""The Redis broker's writer: commands queued in the outbox go to Redis in pipelined batches, and
whoever must know hears about those that were not sent.

The broker builds the commands and queues them here without waiting (``put``); one task
(``run``) sends them while the connection lasts. A command that is not sent (the queue is full,
its batch failed, it waited too long, Redis went away) is given back: the sender of a peer frame
hears ``undeliverable``, a sprint whose leave notice was lost is kept for a ``sync`` on
reconnecting (``unsynced``), lost board events are counted in the log.

A peer frame that was sent but that no subscriber got (PUBLISH answered 0: the instance holding
the peer is not subscribed at that moment) is given back too, so its sender hears
``undeliverable`` rather than nothing; ``broker-frames-unheard`` says so at most every
``UNHEARD_LOG_INTERVAL``. Notices on a sprint's channel that nobody got are counted and logged
(``broker-notices-unheard``, at most every ``QUIET_LOG_INTERVAL``), not resent: nobody listens
to a sprint whose peers are all gone, which is no fault (``signaling.outbox``).

This module must not build commands, read from Redis, or make anyone but its own task wait for
Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

import redis.asyncio as aioredis

from signaling.broker import BrokerListener
from signaling.logs import log_event
from signaling.outbox import NOTICE, OUTBOX_MAX_AGE, PEER, Command, Outbox, Unheard, lost, unheard
from signaling.ratelimit import LogThrottle

OUTBOX_LIMIT = 50_000
BATCH = 256
UNHEARD_LOG_INTERVAL: Final = 10.0  # seconds between two broker-frames-unheard lines
QUIET_LOG_INTERVAL: Final = 60.0  # seconds between two broker-notices-unheard lines


class RedisWriter:
    """The outbox and the task that empties it into Redis."""

    def __init__(self) -> None:
        self.listener: BrokerListener | None = None
        self.unsynced: set[str] = set()  # sprints left while Redis was away: sync them on return
        self._outbox = Outbox(OUTBOX_LIMIT, OUTBOX_MAX_AGE)
        self._outbox_ready = asyncio.Event()
        self._dropped = 0
        # Publishes that reached no subscriber, by command kind, since the start.
        self.unheard: dict[str, int] = {}
        self._unheard_log = LogThrottle(UNHEARD_LOG_INTERVAL)
        self._quiet_log = LogThrottle(QUIET_LOG_INTERVAL)

    def __len__(self) -> int:
        return len(self._outbox)

    def put(self, command: Command) -> bool:
        """Queue ``command`` for the writer; False if the queue is full."""
        if not self._outbox.put(command):
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log_event("broker-backlog-full", logging.WARNING, dropped=self._dropped)
            return False
        self._outbox_ready.set()
        return True

    def give_back_all(self, why: str) -> None:
        """Redis went away: everything queued is given back."""
        self.give_back(self._outbox.drain(), why)

    async def run(self, redis: aioredis.Redis) -> None:
        """Send queued commands in pipelined batches, so a broadcast never waits for Redis."""
        outbox = self._outbox
        while True:
            if not len(outbox):
                self._outbox_ready.clear()
                await self._outbox_ready.wait()
            batch, stale = outbox.take(time.monotonic(), BATCH)
            self.give_back(stale, f"waited more than {OUTBOX_MAX_AGE:g} s for the broker")
            if not batch:
                continue
            pipe = redis.pipeline(transaction=False)
            for command in batch:
                for op, key, value in command.ops:
                    if op == "publish":
                        pipe.publish(key, value)
                    else:
                        pipe.hdel(key, value)
            try:
                replies = await pipe.execute()
            except BaseException:
                self.give_back(batch, "the broker failed while sending it")
                raise
            self._heard_by_nobody(unheard(batch, replies))

    def give_back(self, commands: list[Command], why: str) -> None:
        """Commands that were not sent: tell their senders, re-sync their sprints, log events."""
        if not commands:
            return
        loss = lost(commands)
        listener = self.listener
        if listener is not None:  # always, once started: peer frames are queued after start()
            for sender in loss.senders:
                listener.undeliverable(sender)
        self.unsynced |= loss.sprints
        log_event(
            "broker-send-failed",
            logging.WARNING,
            reason=why,
            frames=len(loss.senders),
            events=loss.events,
            commands=len(commands),
        )

    def _heard_by_nobody(self, heard: Unheard) -> None:
        """Publishes of one batch that reached no subscriber: the senders of peer frames hear
        ``undeliverable``; everything is counted, and logged at most every so often."""
        if heard.frames:
            listener = self.listener
            if listener is not None:
                for sender in lost(heard.frames).senders:
                    listener.undeliverable(sender)
        counts = self.unheard
        if heard.frames:
            counts[PEER] = counts.get(PEER, 0) + len(heard.frames)
        for kind, number in heard.notices.items():
            counts[kind] = counts.get(kind, 0) + number
        now = time.monotonic()
        if (heard.frames or NOTICE in heard.notices) and self._unheard_log.allow(now) is not None:
            log_event(
                "broker-frames-unheard",
                logging.WARNING,
                frames=counts.get(PEER, 0),
                reports=counts.get(NOTICE, 0),
                effect="the instance holding the peer was not subscribed; "
                "the senders were told unavailable",
            )
        quiet = {kind: n for kind, n in heard.notices.items() if kind != NOTICE}
        if quiet and self._quiet_log.allow(now) is not None:
            totals = {f"{kind}s": n for kind, n in counts.items() if kind not in (PEER, NOTICE)}
            log_event(
                "broker-notices-unheard",
                logging.INFO,
                **dict(sorted(totals.items())),
                effect="no instance listened to the sprint; not resent",
            )
