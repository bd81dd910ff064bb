"""The broker: how one signaling instance learns about, and reaches, the others.

Peers of one sprint may be connected to different instances behind a load balancer. The server's
room logic (``app`` over ``rooms``) talks to a :class:`Broker` and never knows which one it has:

- **membership and presence**: ``enter_sprint`` returns the sprint's members held elsewhere and
  starts listening for changes; ``announce_join`` / ``announce_leave`` tell the others;
  ``moved_away`` forgets a peer that resumed on another instance (nobody is told: it never left).
  Either of the last two stops listening to a sprint once its last local peer is gone;
- **directed delivery**: ``send_to_peer`` hands a frame to the instance holding a peer's socket;
- **board events**: ``publish_to_sprint`` hands a hook's event to the other instances.

What other instances do comes back through the :class:`BrokerListener` the server passes to
``start``. Two implementations: :class:`InMemoryBroker` (one instance, the default: there is nobody
else, so every call is trivially done) and ``signaling.redis_broker.RedisBroker`` (pub/sub for
delivery, expiring keys for presence).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Protocol

from signaling.errors import SignalingError
from signaling.rooms import Member


class BrokerUnavailable(SignalingError):
    """The broker cannot be reached; joins are refused until it is back."""

    code = "broker-unavailable"


class BrokerListener(Protocol):
    """What the server does when something happens on another instance. Never awaits."""

    def remote_joined(self, member: Member) -> None: ...

    def remote_left(self, member: Member) -> None: ...

    def remote_synced(self, sprint: str, instance: str, members: list[Member]) -> None: ...

    def instance_lost(self, instance: str) -> list[Member]: ...

    def deliver_to_peer(self, peer: str, text: str) -> None: ...

    def arrived_late(self, text: str) -> None: ...

    def deliver_to_sprint(self, sprint: str, text: str) -> None: ...

    def undeliverable(self, sender: str) -> None: ...

    def known_instances(self) -> set[str]: ...


class Broker(abc.ABC):
    """Connects this instance's rooms with the other instances'."""

    instance: str

    @property
    @abc.abstractmethod
    def available(self) -> bool:
        """False while the broker cannot be reached (joins are then refused)."""

    @property
    def dropped_messages(self) -> Mapping[tuple[str, str], int]:
        """Messages from other instances this one dropped (malformed, or failed to handle), by
        (source, cause); empty with a broker that reads nothing from outside."""
        return {}

    @abc.abstractmethod
    async def start(self, listener: BrokerListener) -> None:
        """Begin delivering other instances' news to ``listener``."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Withdraw this instance's members and stop; safe to call twice."""

    @abc.abstractmethod
    async def enter_sprint(self, sprint: str) -> list[Member]:
        """Listen to ``sprint``; return its live members on other instances (BrokerUnavailable)."""

    @abc.abstractmethod
    async def announce_join(self, member: Member) -> None:
        """Tell the other instances that a local peer joined (BrokerUnavailable)."""

    @abc.abstractmethod
    def announce_leave(self, member: Member, last_in_sprint: bool) -> None:
        """Tell the others a local peer left; stop listening to its sprint if it was the last."""

    @abc.abstractmethod
    def moved_away(self, member: Member, last_in_sprint: bool) -> None:
        """A local peer resumed on another instance: forget it without telling the others (it
        never left, and its directory entry is now the other instance's); stop listening to its
        sprint if it was the last."""

    @abc.abstractmethod
    def send_to_peer(self, member: Member, text: str, *, sender: str) -> bool:
        """Hand ``text`` to the instance holding ``member``; False if it cannot be sent now.

        If it is accepted but then cannot be delivered (the broker failed, it waited too long
        here, or it reached the other instance too late), the listener's
        ``undeliverable(sender)`` is called on this instance instead of dropping it silently."""

    @abc.abstractmethod
    def report_undelivered(self, instance: str, sender: str) -> None:
        """Tell ``instance`` that a frame from its peer ``sender`` was dropped here (it arrived
        too late), so that its listener's ``undeliverable(sender)`` is called there."""

    @abc.abstractmethod
    def publish_to_sprint(self, sprint: str, text: str) -> None:
        """Hand a board event to the other instances with peers in ``sprint``."""

    @abc.abstractmethod
    async def sprint_size(self, sprint: str) -> int | None:
        """Peers of ``sprint`` on all instances, if known."""


class InMemoryBroker(Broker):
    """One instance and nothing else: every member is local, so there is nobody to tell."""

    instance = "local"

    @property
    def available(self) -> bool:
        return True

    async def start(self, listener: BrokerListener) -> None:
        return None

    async def close(self) -> None:
        return None

    async def enter_sprint(self, sprint: str) -> list[Member]:
        return []

    async def announce_join(self, member: Member) -> None:
        return None

    def announce_leave(self, member: Member, last_in_sprint: bool) -> None:
        return None

    def moved_away(self, member: Member, last_in_sprint: bool) -> None:
        return None

    def send_to_peer(self, member: Member, text: str, *, sender: str) -> bool:
        return False  # never asked: with one instance every member is local

    def report_undelivered(self, instance: str, sender: str) -> None:
        return None  # never asked: no frame comes from another instance

    def publish_to_sprint(self, sprint: str, text: str) -> None:
        return None

    async def sprint_size(self, sprint: str) -> int | None:
        return None
