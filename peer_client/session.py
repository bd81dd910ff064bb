"""A live sprint board for one client: presence, drags, moves — with a browser-like event API.

:class:`BoardSession` wires the pieces together and keeps the session's life (join, a new peer id
after a refused resume, close): the signaling client (who is here, negotiation, relays, board
events), the peer mesh (data channels) and the board state (tasks, drags, pending drops). It greets
each peer whose link comes up with ``hello`` and ``snapshot``, says ``bye`` on
:meth:`BoardSession.close`, and reports each pair's link outcome to signaling when it changes
(docs/protocol.md 1.8; :mod:`peer_client.link_reporter`). Each other job has its own part, and the
session only routes to it:

- :mod:`peer_client.roster`: who is present;
- :mod:`peer_client.inbox`: what peers say, checked, handled once and in order, and applied;
- :mod:`peer_client.own_drag`: the card we hold, and the moves we make with it;
- :mod:`peer_client.outbox`: each message we send, numbered and checked;
- :mod:`peer_client.emitter`: the listeners;
- :mod:`peer_client.board_source`: task states from the board.

Peers are untrusted (docs/protocol.md 2.4): task states come from the board alone, through the
board source; what a peer's message may change is :mod:`peer_client.peer_input`'s rule.

Events are subscribed with :meth:`BoardSession.on` (handlers may be plain functions or
coroutines); :mod:`peer_client.events` lists them, with their payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import jwt

from peer_client import messages
from peer_client.board_api import BoardClient, MoveResult, ticket_from
from peer_client.board_source import BoardSource, checked_tasks
from peer_client.emitter import Emitter, Handler
from peer_client.events import DragEvent, HelloEvent, LinkEvent, Person, RejectedEvent, TaskEvent
from peer_client.ice import ice_servers_from
from peer_client.inbox import Inbox
from peer_client.link_reporter import LinkReporter
from peer_client.mesh import PeerMesh
from peer_client.outbox import Outbox
from peer_client.own_drag import OwnDrag
from peer_client.places import Place
from peer_client.protocol import LINK_TIMEOUT
from peer_client.roster import Roster
from peer_client.signaling import SignalingClient, Ticket, TicketSource
from peer_client.state import BoardState

__all__ = [
    "BoardSession",
    "DragEvent",
    "HelloEvent",
    "LinkEvent",
    "Person",
    "RejectedEvent",
    "TaskEvent",
]

log = logging.getLogger("peer_client.session")

SessionState = Literal["new", "joining", "live", "closing", "closed"]


def identity_from_ticket(ticket: str) -> tuple[str, str]:
    """``(user id, display name)`` from a ticket's claims (read only; signaling verifies it)."""
    try:
        claims = jwt.decode(ticket, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return "", ""
    return str(claims.get("sub", "")), str(claims.get("name", ""))


class BoardSession:
    """One client's live view of one sprint. ``state``: new, joining, live, closing, closed."""

    def __init__(
        self,
        sprint: int,
        ticket: Ticket,
        *,
        ticket_source: TicketSource | None = None,
        board: BoardClient | None = None,
        tasks: Iterable[dict[str, Any]] = (),
        sprint_name: str = "",
        agent: str = "bot",
        link_timeout: float = LINK_TIMEOUT,
        backoff_base: float = 0.25,
        backoff_cap: float = 10.0,
    ) -> None:
        self.sprint = sprint
        self.sprint_name = sprint_name
        self.board = board
        self.agent = agent
        self.board_state = BoardState(sprint, checked_tasks(tasks))
        self._events = Emitter()
        self.source = BoardSource(
            self.board_state, board, sprint, self._events.emit, self._events.spawn
        )
        """Task states from the board: checked, kept, and fetched on a peer's hint."""
        self._state: SessionState = "new"
        self._roster = Roster()
        self._expiry: asyncio.Task[None] | None = None
        user_id, name = identity_from_ticket(ticket.ticket)
        self.user_id, self.name = user_id, name
        self.me: Person | None = None

        async def stale_ticket() -> Ticket:
            return ticket

        self.signaling = SignalingClient(
            ticket,
            ticket_source or stale_ticket,
            self._on_signaling,
            on_state=self._on_signaling_state,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        self.reporter = LinkReporter(
            self.signaling.send, live=lambda: self.signaling.state == "joined"
        )
        self.mesh = PeerMesh(
            send_signal=lambda peer, data: self.signaling.send(
                {"type": "signal", "to": peer, "data": data}
            ),
            send_relay=lambda peer, data: self.signaling.send(
                {"type": "relay", "to": peer, "data": data}
            ),
            on_message=lambda peer, raw: self._inbox.channel_frame(peer, raw),
            on_state=self._on_link_state,
            on_outcome=self.reporter.note,
            link_timeout=link_timeout,
            can_offer=lambda: self.signaling.state == "joined",
        )
        self._outbox = Outbox(self.mesh)
        self._drags = OwnDrag(self.board_state, self.source, board, sprint, self._outbox.broadcast)
        self._inbox = Inbox(
            self.board_state,
            self.source,
            self.reporter,
            self._outbox,
            person=self.person,
            emit=self._events.emit,
            said_bye=self._said_bye,
        )

    @classmethod
    async def from_board(cls, board: BoardClient, sprint_id: int, **options: Any) -> BoardSession:
        """Load a sprint from the board (detail with ticket, tasks) into a session, not yet joined.

        Raises :class:`~peer_client.errors.BoardError` (unknown sprint, bad token, unreachable).
        """
        sprint = await board.sprint(sprint_id)
        signaling = sprint.get("links", {}).get("signaling")
        ticket = ticket_from(signaling) if isinstance(signaling, dict) else None
        if ticket is None:
            ticket = await board.ticket(sprint_id)
        tasks = await board.tasks(sprint_id)
        return cls(
            sprint_id,
            ticket,
            ticket_source=lambda: board.ticket(sprint_id),
            board=board,
            tasks=tasks,
            sprint_name=str(sprint.get("name", "")),
            **options,
        )

    # --- events ------------------------------------------------------------------------------

    def on(self, event: str, handler: Handler) -> Handler:
        """Call ``handler(payload)`` on ``event`` (see the module docstring); returns it."""
        return self._events.on(event, handler)

    def off(self, event: str, handler: Handler) -> None:
        self._events.off(event, handler)

    # --- who is here -------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def peer(self) -> str:
        """Our peer id (assigned by signaling); RuntimeError before :meth:`join`."""
        if self.me is None:
            raise RuntimeError("not joined yet: no peer id")
        return self.me.peer

    @property
    def presence(self) -> dict[str, Person]:
        """Everyone else viewing the sprint, by peer id."""
        return self._roster.presence()

    def person(self, peer: str) -> Person:
        return self._roster.person(peer)

    def link_state(self, peer: str) -> str | None:
        """``connecting``, ``direct``, ``relayed`` or None (no link to that peer)."""
        state = self.mesh.state_of(peer)
        return {"open": "direct"}.get(state, state) if state is not None else None

    def open_peers(self) -> list[str]:
        """Peers we can exchange messages with (direct or relayed)."""
        return [p for p in self._roster.present if self.mesh.state_of(p) in ("open", "relayed")]

    def _update_presence(self) -> None:
        linked = [peer for peer, link in self.mesh.links.items() if link.state == "open"]
        change = self._roster.update(linked, self.me.peer if self.me else "")
        if change is not None:
            for peer in change.arrived:
                self._events.emit("peer-joined", self.person(peer))
            for peer in change.left:
                self._inbox.left(peer)
                self._events.emit("peer-left", self.person(peer))
            self._events.emit("presence", tuple(self.person(p) for p in self._roster.present))

    # --- joining and signaling ---------------------------------------------------------------

    async def join(self) -> Person:
        """Join the sprint through signaling; returns our own person (peer id from the server).

        Raises :class:`~peer_client.errors.SignalingError` if signaling cannot be reached or
        refuses the ticket.
        """
        if self._state != "new":
            raise RuntimeError("join() may be called once")
        self._state = "joining"
        try:
            await self.signaling.connect()
        except BaseException:
            self._state = "closed"
            await self.mesh.close()
            raise
        self._state = "live"
        self._expiry = asyncio.create_task(self._expire_overlays(), name="overlay-expiry")
        assert self.me is not None
        self._events.emit("joined", self.me)
        return self.me

    def _on_signaling_state(self, old: str, new: str) -> None:
        if self._state in ("live", "joining"):
            self._events.emit("signaling", new)

    async def _on_signaling(self, message: dict[str, Any], frame: str) -> None:
        kind = message.get("type")
        if kind == "welcome":
            await self._on_welcome(message)
        elif kind == "peer-joined":
            peer, user = message.get("peer"), message.get("user")
            if isinstance(peer, str):
                self._roster.remember(peer, user)
                self._roster.listed.add(peer)
                self.mesh.joined(peer)  # it offers; we answer
                self._update_presence()
        elif kind == "peer-left":
            peer = message.get("peer")
            if isinstance(peer, str):
                await self._departed(peer)
        elif kind == "signal":
            peer, data = message.get("from"), message.get("data")
            if isinstance(peer, str) and isinstance(data, dict):
                self.mesh.signal(peer, data)
        elif kind == "relay":
            # Only from a peer signaling introduced (docs/protocol.md 2.6).
            peer = message.get("from")
            if isinstance(peer, str) and self._introduced(peer):
                self._inbox.relayed_frame(peer, frame)
            elif isinstance(peer, str):
                log.info("relay from %s, whom signaling never introduced; ignored", peer)
        elif kind == "event":
            event = message.get("event")
            if isinstance(event, dict):
                self.source.on_event(event)
        elif kind == "error":
            log.warning("signaling error %s: %s", message.get("code"), message.get("message"))

    async def _on_welcome(self, welcome: dict[str, Any]) -> None:
        peer = str(welcome.get("peer", ""))
        if self.me is not None and self.me.peer != peer:
            # Our resume was refused: we are a new peer now, and nobody knows our old links.
            log.info("rejoined as a new peer %s (was %s)", peer, self.me.peer)
            await self.mesh.close()
            self.reporter.clear()
        self.me = Person(peer, self.user_id, self.name)
        self.mesh.ice_servers = ice_servers_from(welcome.get("iceServers"))
        listed: set[str] = set()
        for entry in welcome.get("peers", []):
            if isinstance(entry, dict) and isinstance(entry.get("peer"), str):
                self._roster.remember(entry["peer"], entry.get("user"))
                listed.add(entry["peer"])
        # We offer to the listed peers (docs/protocol.md 1.4). A peer missing from the list may
        # simply not have rejoined yet: its open channel is kept.
        self._roster.listed = listed
        self.mesh.welcome(listed)
        self.reporter.flush()  # what changed while signaling was away
        self._update_presence()

    def _introduced(self, peer: str) -> bool:
        """Did signaling introduce ``peer`` (listed now, or a link kept since)?"""
        return peer in self._roster.listed or self.mesh.state_of(peer) is not None

    def _said_bye(self, peer: str) -> None:
        self.reporter.said_bye(peer)
        self.mesh.said_bye(peer)

    async def _departed(self, peer: str) -> None:
        self._roster.listed.discard(peer)
        self._inbox.departed(peer)
        await self.mesh.drop(peer)
        self.reporter.forget(peer)
        self._update_presence()

    # --- the data channels -------------------------------------------------------------------

    def _on_link_state(self, peer: str, old: str, new: str) -> None:
        if new == "open" or new == "relayed":
            self._outbox.send_to(peer, messages.Hello(self.agent))
            self._outbox.send_to(peer, messages.Snapshot(self._drags.snapshot()))
        elif old == "new" and self._drags.held is not None:
            # Just introduced: the relay reaches it until a channel opens, and a newcomer should
            # see a drag in progress at once (docs/protocol.md 2.6).
            self._outbox.send_to(peer, messages.Snapshot(self._drags.snapshot()))
        public = {"open": "direct"}.get(new, new)
        self._events.emit("link", LinkEvent(self.person(peer), public))  # type: ignore[arg-type]
        if new == "closed":
            self._update_presence()

    async def _expire_overlays(self) -> None:
        """Every half second: overlays past their deadline go, peers' drags silent for 30 s go
        (their end was lost), and a card we hold still says where it is again every 10 s so that
        ours never looks silent (docs/protocol.md 2.3)."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for overlay in self.board_state.expire_overlays(now):
                self._events.emit("overlay-expired", overlay)
            self._inbox.expire(now)
            self._drags.keep_alive(now)

    # --- sending -----------------------------------------------------------------------------

    def broadcast(self, message: messages.Message) -> list[str]:
        """Send one message (one id) to every peer we can reach; returns their peer ids."""
        return self._outbox.broadcast(message)

    # --- acting ------------------------------------------------------------------------------

    def check_place(self, place: Place) -> None:
        """Raise :class:`ActionError` if ``place`` is beyond the end of its column."""
        self._drags.check_place(place)

    def drag_start(self, task_id: int) -> Place:
        """Pick a card up (others see it held); returns where it was. A card held already is
        put back first: one hand, one card."""
        return self._drags.start(task_id)

    async def drag_hover(self, task_id: int, over: Place) -> None:
        """Move a held card over ``over`` (hovers spaced as the protocol asks)."""
        await self._drags.hover(task_id, over)

    def drag_cancel(self, task_id: int) -> None:
        """Put a held card back where it was."""
        self._drags.cancel(task_id)

    async def drop(self, task_id: int, to: Place) -> MoveResult:
        """Drop a held card on ``to`` and save the move against the version it had when it was
        picked up (a change saved meanwhile is refused, not overwritten). A card not held is
        picked up first."""
        return await self._drags.drop(task_id, to)

    async def move(
        self, task_id: int, to: Place, *, over: Sequence[Place] = (), step: float = 0.0
    ) -> MoveResult:
        """Drag a card as a person would: pick it up, hover over ``over`` then ``to``, drop."""
        return await self._drags.move(task_id, to, over=over, step=step)

    # --- leaving -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Leave: ``bye`` to everyone, close the websocket and every connection. Idempotent."""
        if self._state in ("closing", "closed"):
            return
        was_live = self._state == "live"
        self._state = "closing"
        self.source.close()
        if was_live:
            if self._drags.held is not None:
                self._drags.cancel(self._drags.held.task)
            self.broadcast(messages.Bye())
            await self.mesh.drain(0.5)
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        self.reporter.close()
        await self.signaling.close()
        await self.mesh.close()
        await self._events.close()
        self._state = "closed"
