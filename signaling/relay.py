"""Relaying between the peers of a sprint: ``signal`` (negotiation) and ``relay`` (data-channel
messages of a pair with no direct link), here or on another instance; and ``link`` reports about
those links (``signaling.links``). No I/O.

A peer may only address peers of its own sprint; the sender is always the server's own record
of who sent it. Every relayed message takes :meth:`Relaying.signal`, so it reads the few things it
needs from attributes kept at hand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

from signaling import protocol
from signaling.actions import Action, Log, LogSignal, Send, SendElsewhere, SendSignal
from signaling.config import Settings
from signaling.errors import RoutingError
from signaling.links import LinkBook
from signaling.ratelimit import TokenBucket
from signaling.rooms import Rooms
from signaling.session import JOINED, Session, SessionTable

PEER_UNREACHABLE: Final = (
    "that peer is on another signaling instance, which cannot be reached right now; "
    "message not delivered"
)
_IN_SIGNAL: Final = ("in", "signal")
_OUT_SIGNAL: Final = ("out", "signal")


class Relaying:
    """Forwards what joined peers address to each other."""

    def __init__(
        self, settings: Settings, table: SessionTable, rooms: Rooms, links: LinkBook
    ) -> None:
        self.settings = settings
        self.links = links
        self.table = table
        self.rooms = rooms
        self.counters = table.counters
        self._by_peer = table.by_peer
        self._messages = table.counters.messages
        self._relayed_bytes = table.counters.relayed_bytes
        self._instance = rooms.instance
        self._debug = settings.debug

    def signal(self, session: Session, message: protocol.Signal) -> Sequence[Action]:
        """Forward one ``signal`` and log it (every relayed message takes this path)."""
        messages = self._messages
        messages[_IN_SIGNAL] += 1
        member = session.member
        assert member is not None
        sender = member.peer
        try:
            target = self.rooms.route(sender, message.to)
        except RoutingError as exc:
            return self._unroutable(session, exc)
        data = message.data
        payload = protocol.signal_bytes(sender, data)
        size = len(payload)
        summary = protocol.describe_signal(data)
        types = summary.candidate_types
        candidates = types[0] if len(types) == 1 else ",".join(types)
        if target.instance == self._instance:
            recipient = self._by_peer.get(target.peer)
            if recipient is None:  # admitted but not announced yet: as if it had not joined
                return (
                    LogSignal(target.sprint, sender, target.peer, summary.kind, size, candidates),
                )
            messages[_OUT_SIGNAL] += 1
            self._relayed_bytes["signal"] += size
            delivery = SendSignal(
                recipient,
                payload,
                target.sprint,
                sender,
                target.peer,
                summary.kind,
                size,
                candidates,
            )
            if self._debug:
                return delivery, self._signal_data(data)
            return (delivery,)
        log = LogSignal(target.sprint, sender, target.peer, summary.kind, size, candidates)
        elsewhere = SendElsewhere(sender, target, payload.decode())
        if self.settings.debug:
            return elsewhere, log, self._signal_data(data)
        return elsewhere, log

    @staticmethod
    def _signal_data(data: dict[str, Any]) -> Log:
        return Log("signal-data", logging.DEBUG, {"data": data})

    def relay(self, session: Session, message: protocol.Relay) -> Sequence[Action]:
        """Forward one ``relay`` (a data-channel message of a pair with no direct link)."""
        self.counters.message("in", "relay")
        settings = self.settings
        if session.relays is None:
            session.relays = TokenBucket(settings.relay_rate, settings.relay_burst)
        member = session.member
        assert member is not None
        if not session.relays.allow(session.last_seen):
            return (
                self.table.refused("relay-rate-limited", peer=member.peer),
                self.table.error(
                    session, "rate-limited", "relay rate limit exceeded; message dropped"
                ),
            )
        try:
            target = self.rooms.route(member.peer, message.to)
        except RoutingError as exc:
            return self._unroutable(session, exc)
        payload = protocol.relay_bytes(member.peer, message.data)
        log = Log(
            "relay",
            logging.DEBUG,
            {
                "sprint": target.sprint,
                "from": member.peer,
                "to": target.peer,
                "bytes": len(payload),
            },
        )
        if target.instance != self.rooms.instance:
            return SendElsewhere(member.peer, target, payload.decode()), log
        recipient = self.table.by_peer.get(target.peer)
        if recipient is None:
            return (log,)
        self.counters.message("out", "relay")
        self.counters.relayed_bytes["relay"] += len(payload)
        return Send(recipient, payload), log

    def _unroutable(self, session: Session, exc: RoutingError) -> Sequence[Action]:
        return (
            self.table.refused(exc.code, peer=session.peer, sprint=session.sprint),
            self.table.error(session, exc.code, exc.message),
        )

    def link(self, session: Session, report: protocol.LinkReport) -> Sequence[Action]:
        """A link report (signaling.links): logged and counted, never used for routing."""
        self.counters.message("in", "link")
        settings = self.settings
        if session.reports is None:
            session.reports = TokenBucket(settings.report_rate, settings.report_burst)
        member = session.member
        assert member is not None
        if not session.reports.allow(session.last_seen):
            return (
                self.table.refused("link-rate-limited", peer=member.peer),
                self.table.error(
                    session, "rate-limited", "link report rate limit exceeded; report dropped"
                ),
            )
        try:
            target = self.rooms.route(member.peer, report.peer)
        except RoutingError as exc:
            return self._unroutable(session, exc)
        local = target.instance == self._instance
        return (self.links.report(member.sprint, member.peer, report, peer_is_local=local),)

    def undeliverable(self, sender: str) -> Sequence[Action]:
        """A frame from ``sender`` for a peer on another instance could not be handed over."""
        self.counters.rejects["peer-unreachable"] += 1
        session = self.table.by_peer.get(sender)
        if session is None or session.state is not JOINED:
            return ()
        # Counted, not logged: the broker's outage is logged once, not once per message.
        return (self.table.error(session, "unavailable", PEER_UNREACHABLE),)
