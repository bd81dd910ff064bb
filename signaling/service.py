"""The service: carries out the session core's actions on sockets, the broker and the log.

This is the one place where the core (``signaling.core``, pure) meets I/O. Transports report what
their sockets did (``open``, ``received``, ``closed``...) and the service feeds the core, then runs
the actions it returns, in order: frames to each socket's ``transport.Connection``, questions and
notices to the broker, lines to the log. It also keeps the core's clock: one timer, set for the
core's next deadline, calls ``tick``.

With the in-memory broker a join's two broker steps are answered at once, without a task; with
Redis each is a short task whose answer goes back to the core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Any

from signaling import actions as act
from signaling.broker import Broker, BrokerUnavailable, InMemoryBroker
from signaling.config import Settings
from signaling.core import SignalingCore
from signaling.descriptors import DescriptorWatch, descriptor_available
from signaling.handshake import HandshakeRefused
from signaling.logs import SprintTexts, log_event, log_signal, logger
from signaling.rooms import Member
from signaling.session import Session
from signaling.transport import Connection

_Send = act.Send
_SendSignal = act.SendSignal


class SignalingService:
    """The core of one instance, its broker and its open sockets."""

    def __init__(self, settings: Settings, broker: Broker | None = None) -> None:
        self.settings = settings
        self.broker = broker or broker_for(settings)
        self.core = SignalingCore(settings, instance=self.broker.instance)
        self.connections: dict[int, Connection] = {}
        self.started = time.monotonic()
        self._local_broker = isinstance(self.broker, InMemoryBroker)
        self._background: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        self._all_closed: asyncio.Event | None = None  # set during shutdown
        self._descriptors = DescriptorWatch()
        self._descriptor_timer: asyncio.TimerHandle | None = None
        self.descriptor_limit = 0
        self.sprint_texts = SprintTexts()  # for the signal lines of this server's peers

    # --- what transports report ---------------------------------------------------------------

    def open(self, connection: Connection, address: str) -> Session:
        """A websocket was accepted; the returned session names it in every later report."""
        now = time.monotonic()
        # Its join is judged against the wall clock as it reads now (a step of the system
        # clock, from NTP say, is taken up at the next connection).
        self.core.set_wall_clock(time.time(), now)
        session, actions = self.core.open(address, now)
        self.connections[session.number] = connection
        session.connection = connection
        self.run(actions)
        self._schedule()
        return session

    def received(self, session: Session, text: str, now: float) -> None:
        self.run(self.core.receive(session, text, now))

    def received_binary(self, session: Session, now: float) -> None:
        self.run(self.core.receive_binary(session, now))

    def pong(self, session: Session, now: float) -> None:
        self.core.seen(session, now)

    def refused_upgrade(self, refusal: HandshakeRefused, address: str) -> None:
        """An upgrade request was refused (the transport answers it with HTTP)."""
        reason = "origin" if refusal.status == 403 else "bad-upgrade"
        self.run((self.core.table.refused(reason, addr=address, detail=refusal.reason),))

    def failed(self, session: Session, code: int, detail: str) -> None:
        """The transport failed the websocket (it has sent the close itself)."""
        self.run(self.core.transport_failed(session, code, detail[:200]))

    def overflowed(self, session: Session, buffered: int) -> None:
        """The client stopped reading; its transport drops it."""
        self.run(self.core.overflowed(session, buffered))

    def closed(
        self, session: Session, *, close_code: int | None = None, lost_reason: str | None = None
    ) -> None:
        """The TCP connection is gone."""
        self.connections.pop(session.number, None)
        session.connection = None
        self.run(self.core.closed(session, close_code=close_code, lost_reason=lost_reason))
        if self._all_closed is not None and not self.connections:
            self._all_closed.set()

    # --- running the core's actions -----------------------------------------------------------

    def run(self, actions: Sequence[act.Action]) -> None:
        """Carry out ``actions`` in order (the common ones first)."""
        for action in actions:
            kind = type(action)
            if kind is _SendSignal:
                connection = action.session.connection  # type: ignore[union-attr]
                if connection is not None:
                    connection.send(action.payload)  # type: ignore[union-attr]
                log_signal(
                    action.sprint,  # type: ignore[union-attr]
                    action.sender,  # type: ignore[union-attr]
                    action.to,  # type: ignore[union-attr]
                    action.kind,  # type: ignore[union-attr]
                    action.size,  # type: ignore[union-attr]
                    action.candidates,  # type: ignore[union-attr]
                    self.sprint_texts,
                )
            elif kind is _Send:
                connection = action.session.connection  # type: ignore[union-attr]
                if connection is not None:
                    connection.send(action.payload)  # type: ignore[union-attr]
            else:
                self._run_other(action)

    def _run_other(self, action: act.Action) -> None:
        match action:
            case act.LogSignal(sprint, sender, to, kind, size, candidates):
                log_signal(sprint, sender, to, kind, size, candidates, self.sprint_texts)
            case act.SendToMany(sessions=sessions, payload=payload):
                for session in sessions:
                    connection = session.connection
                    if connection is not None:
                        connection.send(payload)
            case act.Log(event=event, level=level, fields=fields):
                log_event(event, level, **fields)
            case act.Close(session=session, code=code, reason=reason):
                connection = session.connection
                if connection is not None:
                    connection.close(code, reason)
            case act.Abort(session=session):
                connection = session.connection
                if connection is not None:
                    connection.abort()
            case act.SendPing(session=session):
                connection = session.connection
                if connection is not None:
                    connection.ping()
            case act.EnterSprint(session=session, sprint=sprint):
                if self._local_broker:
                    self.run(self.core.entered(session, ()))
                else:
                    self._ask(session, self._enter(session, sprint))
            case act.AnnounceJoin(session=session, member=member):
                if self._local_broker:
                    self.run(self.core.announced(session, time.time()))
                else:
                    self._ask(session, self._announce(session, member))
            case act.AnnounceLeave(member=member, last_in_sprint=last):
                self.broker.announce_leave(member, last)
            case act.MovedAway(member=member, last_in_sprint=last):
                self.broker.moved_away(member, last)
            case act.SendElsewhere(sender=sender, member=member, text=text):
                if not self.broker.send_to_peer(member, text, sender=sender):
                    self.run(self.core.undeliverable(sender))
            case act.ReportUndelivered(instance=instance, sender=sender):
                self.broker.report_undelivered(instance, sender)
            case act.PublishToSprint(sprint=sprint, text=text):
                self.broker.publish_to_sprint(sprint, text)
            case _:  # pragma: no cover - a new action the service does not know is a bug
                raise AssertionError(f"unknown action {action!r}")

    def _ask(self, session: Session, step: Awaitable[None]) -> None:
        task = asyncio.ensure_future(step)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _enter(self, session: Session, sprint: str) -> None:
        try:
            remote = await self.broker.enter_sprint(sprint)
        except BrokerUnavailable as exc:
            self.run(self.core.broker_failed(session, exc.message))
            return
        self.run(self.core.entered(session, remote))

    async def _announce(self, session: Session, member: Member) -> None:
        try:
            await self.broker.announce_join(member)
        except BrokerUnavailable as exc:
            self.run(self.core.broker_failed(session, exc.message))
            return
        self.run(self.core.announced(session, time.time()))

    # --- the core's clock ---------------------------------------------------------------------

    def _schedule(self) -> None:
        due = self.core.next_wakeup()
        if due is None:
            return
        if self._timer is not None:
            if self._timer_due <= due:
                return
            self._timer.cancel()
        self._timer_due = due
        delay = max(0.0, due - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        try:
            self.run(self.core.tick(time.monotonic()))
        except Exception:  # never let one bad tick stop the clock
            logger.exception("internal error in the heartbeat and deadline tick")
        self._schedule()

    # --- news from other instances (BrokerListener) -------------------------------------------

    def remote_joined(self, member: Member) -> None:
        self.run(self.core.news.remote_joined(member))

    def remote_left(self, member: Member) -> None:
        self.run(self.core.news.remote_left(member))

    def remote_synced(self, sprint: str, instance: str, members: list[Member]) -> None:
        self.run(self.core.news.remote_synced(sprint, instance, members))

    def instance_lost(self, instance: str) -> list[Member]:
        actions, removed = self.core.news.instance_lost(instance)
        self.run(actions)
        return removed

    def deliver_to_peer(self, peer: str, text: str) -> None:
        self.run(self.core.news.deliver_to_peer(peer, text))

    def arrived_late(self, text: str) -> None:
        self.run(self.core.news.arrived_late(text))

    def deliver_to_sprint(self, sprint: str, text: str) -> None:
        self.run(self.core.news.deliver_to_sprint(sprint, text))

    def undeliverable(self, sender: str) -> None:
        self.run(self.core.undeliverable(sender))

    def known_instances(self) -> set[str]:
        return self.core.rooms.remote_instances()

    # --- board events and lifecycle -----------------------------------------------------------

    async def hook_event(self, sprint: str, event: dict[str, Any]) -> int:
        """Deliver a board event; return how many peers of the sprint there are."""
        actions, local = self.core.news.hook_event(sprint, event)
        self.run(actions)
        everywhere = await self.broker.sprint_size(sprint)
        return local if everywhere is None else everywhere

    async def start(self) -> None:
        await self.broker.start(self)
        now = time.monotonic()
        self.core.set_wall_clock(time.time(), now)
        self.core.start(now)
        self._schedule()
        self._check_descriptors()

    def _check_descriptors(self) -> None:
        """Once a second: can a descriptor still be had? (If not, new connections are dropped
        before they reach us; see ``signaling.descriptors``.)"""
        now = time.monotonic()
        news = self._descriptors.check(now, descriptor_available())
        if news == "exhausted":
            self.core.counters.rejects["out-of-file-descriptors"] += 1
            since = self._descriptors.exhausted_since or now
            log_event(
                "refused",
                logging.WARNING,
                reason="out-of-file-descriptors",
                limit=self.descriptor_limit,
                connections=len(self.core.sessions),
                for_s=round(now - since, 1),
                effect="new connections are dropped until descriptors are free; raise "
                "ulimit -n or lower --max-connections",
            )
        elif news == "recovered":
            log_event("descriptors-available", connections=len(self.core.sessions))
        self._descriptor_timer = asyncio.get_running_loop().call_later(1.0, self._check_descriptors)

    async def shutdown(self, timeout: float) -> None:
        """Close every socket with 1001 and wait (at most ``timeout``) for them to go."""
        for timer in (self._timer, self._descriptor_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._descriptor_timer = None
        self._all_closed = asyncio.Event()
        self.run(self.core.shutdown(time.monotonic() - self.started))
        if self.connections:
            try:
                await asyncio.wait_for(self._all_closed.wait(), timeout)
            except TimeoutError:
                for connection in list(self.connections.values()):
                    connection.abort()

    async def cleanup(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.broker.close()


def broker_for(settings: Settings) -> Broker:
    """The broker named by ``--broker``: ``memory`` (default) or a ``redis://`` URL."""
    if settings.broker == "memory":
        return InMemoryBroker()
    from signaling.redis_broker import RedisBroker

    return RedisBroker(settings.broker, presence_ttl=settings.presence_ttl)
