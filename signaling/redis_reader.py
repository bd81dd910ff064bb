"""The Redis broker's reader: its subscriptions, and what arrives on them handed to the listener.

This instance's channel brings frames for its peers and word that a frame of one of them was
dropped elsewhere; each sprint's channel brings join, leave, sync and board-event notices. A frame
that arrives older than ``OUTBOX_MAX_AGE`` on Redis's clock (Redis stalled while it was on its way)
is not delivered: the listener names the instance to tell (``report_undelivered``), and a
``broker-frame-stale`` line says so at most every ``LATE_LOG_INTERVAL``.

Every message is read as the bytes Redis delivered and checked by ``signaling.redis_wire`` before
anything is done with it: one that is malformed, or whose handling raises, is dropped, counted and
logged (``signaling.redis_drops``), and the reader reads on. Only the connection failing ends it.

A subscription counts once Redis has confirmed it (``subscribe``), so that a sprint's directory is
read only when no join can slip between the directory and the notices.

This module must not write to Redis (beyond SUBSCRIBE) nor wait on anything while it hands a
message on: it runs for every frame relayed between instances.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from signaling.broker import BrokerListener
from signaling.logs import log_event
from signaling.ratelimit import LogThrottle
from signaling.redis_clock import ClockOffset
from signaling.redis_drops import INSTANCE_CHANNEL, SPRINT_CHANNEL, Drops
from signaling.redis_wire import (
    BAD_MEMBER,
    Joined,
    Left,
    Malformed,
    Names,
    PeerFrame,
    SprintEvent,
    Synced,
    Undelivered,
    late_by,
    read_direct,
    read_sprint_notice,
)

SUBSCRIBE_TIMEOUT: Final = 5.0  # seconds to wait for Redis to confirm a SUBSCRIBE
LATE_LOG_INTERVAL: Final = 10.0  # seconds between two broker-frame-stale lines


class RedisReader:
    """Subscriptions of one instance, and the task that reads them."""

    def __init__(self, names: Names, instance: str, clock: ClockOffset, drops: Drops) -> None:
        self.listener: BrokerListener | None = None
        self._names = names
        self._instance = instance
        self._own_channel = names.instance_channel(instance).encode()
        self._drops = drops
        self._clock = clock  # Redis's clock, on which a frame's age is read
        # Channels whose SUBSCRIBE Redis has not confirmed yet, with who waits for it.
        self._subscribing: dict[str, asyncio.Future[None]] = {}
        self._late_arrivals = 0
        self._late_from: str | None = None  # the instance the last late frame came from
        self._late_log = LogThrottle(LATE_LOG_INTERVAL)

    def connected(self) -> None:
        """A new connection: confirmations asked for on the old one will never come."""
        self._subscribing.clear()

    def subscribing(self, channel: str) -> bool:
        """Whether a SUBSCRIBE to ``channel`` awaits Redis's confirmation."""
        return channel in self._subscribing

    async def subscribe(self, pubsub: Any, channel: str) -> None:
        """SUBSCRIBE and wait until Redis confirms it.

        redis-py returns as soon as the command is sent. Reading the sprint's directory before
        Redis has processed the SUBSCRIBE leaves a gap: a peer joining on another instance in
        that moment is in neither the directory we read nor the notices we hear, and the two
        peers never meet. Once confirmed, every join is in one or the other.
        """
        confirmed = self._subscribing.get(channel)
        if confirmed is None:
            confirmed = asyncio.get_running_loop().create_future()
            self._subscribing[channel] = confirmed
            await pubsub.subscribe(channel)
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            self._subscribing.pop(channel, None)
            raise

    def reported(self, instance: str) -> None:
        """The listener asked for ``instance`` to be told of the late frame: name it in the log."""
        self._late_from = instance

    async def run(self, pubsub: Any) -> None:
        """Read the subscriptions (``pubsub`` delivers bytes) until the connection fails."""
        # listen() blocks on the socket; get_message(timeout=...) set up a timeout per message,
        # work added to every frame relayed across instances. A dead connection still raises here,
        # and the presence loop notices a silent Redis within its interval.
        async for message in pubsub.listen():
            kind = message.get("type")
            if kind == "message":
                channel, data = message["channel"], message["data"]
                try:
                    self._dispatch(channel, data)
                except Exception as exc:  # a bug here or in the listener: lose this one only
                    source = INSTANCE_CHANNEL if channel == self._own_channel else SPRINT_CHANNEL
                    self._drops.failed(source, _text(channel), exc, data)
            elif kind == "subscribe":
                waiting = self._subscribing.pop(_text(message["channel"]), None)
                if waiting is not None and not waiting.done():
                    waiting.set_result(None)

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        listener = self._require_listener()
        if channel == self._own_channel:
            message = read_direct(data)
            if type(message) is PeerFrame:
                age = late_by(message, time.time() + self._clock.offset)
                if age is None:
                    listener.deliver_to_peer(message.peer, message.text)
                else:
                    # Held up past the bound: dropped, and its sender's instance is told.
                    self._late_arrivals += 1
                    self._late_from = None
                    listener.arrived_late(message.text)  # may report_undelivered() to its instance
                    self._log_late(age)
            elif isinstance(message, Undelivered):  # a frame of one of ours came late elsewhere
                listener.undeliverable(message.sender)
            elif isinstance(message, Malformed):
                self._drops.malformed(INSTANCE_CHANNEL, _text(channel), message.cause, data)
            return
        name = _text(channel)
        sprint = self._names.sprint_of(name)
        match read_sprint_notice(data, sprint, self._instance):
            case SprintEvent(text):
                listener.deliver_to_sprint(sprint, text)
            case Joined(member):
                listener.remote_joined(member)
            case Left(member):
                listener.remote_left(member)
            case Synced(instance, members, malformed):
                if malformed:
                    self._drops.malformed(SPRINT_CHANNEL, name, BAD_MEMBER.cause, data)
                listener.remote_synced(sprint, instance, members)
            case Malformed(cause):
                self._drops.malformed(SPRINT_CHANNEL, name, cause, data)

    def _log_late(self, age: float) -> None:
        """A frame arrived too late and was dropped: say so, at most every
        ``LATE_LOG_INTERVAL`` (``dropped`` counts them all)."""
        if self._late_log.allow(time.monotonic()) is None:
            return
        log_event(
            "broker-frame-stale",
            logging.WARNING,
            from_instance=self._late_from,
            late_s=round(age, 2),
            dropped=self._late_arrivals,
            effect="not delivered; its sender is told (unavailable)",
        )

    def _require_listener(self) -> BrokerListener:
        assert self.listener is not None, "start() the broker first"
        return self.listener


def _text(channel: bytes | str) -> str:
    """A channel's name (one this instance subscribed to, so UTF-8)."""
    return channel.decode(errors="replace") if isinstance(channel, bytes) else channel
